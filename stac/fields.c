/* SPDX-License-Identifier: Apache-2.0 */
/* stac/fields.c - the helpers every step of the STAC resolution shares:
 * copies and formatting of strings, the notes for the user, and typed
 * access to a document's JSON fields. */
#include "stac/internal.h"

#include "common/floe_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small string helpers ------------------------------------------------ */

floe_err stac_dup(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return NULL;
    *out = strdup(s);
    return *out ? NULL : FLOE_ERR(FLOE_ENOMEM, "copying \"%.40s\"", s);
}

floe_err stac_vformat(char **out, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    *out = NULL;
    if (n < 0)
        return FLOE_ERR(FLOE_EINTERNAL, "formatting \"%s\"", fmt);
    char *s = malloc((size_t)n + 1);
    if (!s)
        return FLOE_ERR(FLOE_ENOMEM, "%d bytes of text", n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    *out = s;
    return NULL;
}

floe_err stac_format(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    floe_err err = stac_vformat(out, fmt, ap);
    va_end(ap);
    return err;
}

floe_err stac_buf_printf(floe_buf *b, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    floe_err err = stac_vformat(&s, fmt, ap);
    va_end(ap);
    if (err)
        return err;
    err = floe_buf_append(b, s, strlen(s));
    free(s);
    return err;
}

const char *stac_buf_str(const floe_buf *b)
{
    return b->data ? (const char *)b->data : "";
}

int stac_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

floe_err stac_add_note(stac_open_params *p, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    floe_err err = stac_vformat(&s, fmt, ap);
    va_end(ap);
    if (err)
        return err;
    char **notes = realloc(p->notes, (p->n_notes + 1) * sizeof *notes);
    if (!notes) {
        free(s);
        return FLOE_ERR(FLOE_ENOMEM, "%zu notes", p->n_notes + 1);
    }
    notes[p->n_notes++] = s;
    p->notes = notes;
    FLOE_DEBUG("STAC: %s", s);
    return NULL;
}


/* ---- typed field access: a present field of the wrong type is an error
 * naming it, an absent one is NULL / the default ------------------------- */

floe_err stac_get_string(const cJSON *obj, const char *field, const char *where,
                         const char **val)
{
    *val = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v))
        return FLOE_ERR(FLOE_EFORMAT, "%s: %s is not a string", where, field);
    *val = v->valuestring;
    return NULL;
}

floe_err stac_get_bool(const cJSON *obj, const char *field, const char *where, int *val)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsBool(v))
        return FLOE_ERR(FLOE_EFORMAT, "%s: %s is not true or false", where, field);
    *val = cJSON_IsTrue(v);
    return NULL;
}

const char *stac_asset_type(const cJSON *asset)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(asset, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

const char *stac_asset_href(const cJSON *asset)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(asset, "href");
    return cJSON_IsString(h) ? h->valuestring : NULL;
}
