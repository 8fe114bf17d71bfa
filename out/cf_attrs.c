/* SPDX-License-Identifier: Apache-2.0 */
/* out/cf_attrs.c - see cf_attrs.h. */
#include "out/cf_attrs.h"

#include <string.h>

/* CF Appendix C: the standard name modifiers. */
static const char *const modifiers[] = {"detection_minimum", "number_of_observations",
                                        "standard_error", "status_flag", NULL};

int cf_standard_name_valid(const char *name)
{
    if (!name || !(*name >= 'a' && *name <= 'z'))
        return 0;
    const char *p = name;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
        p++;
    if (!*p)
        return 1;
    if (*p != ' ')
        return 0;
    for (const char *const *m = modifiers; *m; m++)
        if (!strcmp(p + 1, *m))
            return 1;
    return 0;
}

static const char *text_of(const cJSON *attrs, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

floe_err cf_put_var_atts(nc_writer *w, int varid, const cJSON *attrs, int numeric_type,
                         const char *const *skip)
{
    const char *sn = text_of(attrs, "standard_name");
    const char *ln = text_of(attrs, "long_name");
    int drop = sn && !cf_standard_name_valid(sn);
    int fill_long = drop && *sn && (!ln || !*ln);
    const char *all[CF_ATTRS_MAX_SKIP + 3];
    size_t n = 0;
    for (; skip && skip[n] && n < CF_ATTRS_MAX_SKIP; n++)
        all[n] = skip[n];
    if (skip && skip[n])
        return FLOE_ERR(FLOE_EINTERNAL, "more than %d attributes to leave out",
                        CF_ATTRS_MAX_SKIP);
    if (drop)
        all[n++] = "standard_name";
    if (fill_long)
        all[n++] = "long_name";
    all[n] = NULL;
    FLOE_CHECK(nc_writer_put_atts_json(w, varid, attrs, numeric_type, all));
    if (fill_long)
        FLOE_CHECK(nc_writer_put_att_text(w, varid, "long_name", sn));
    return NULL;
}
