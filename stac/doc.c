/* SPDX-License-Identifier: Apache-2.0 */
/* stac/doc.c - reading and parsing STAC documents (see doc.h). */
#include "stac/doc.h"

#include "common/floe_buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *stac_doc_kind_name(stac_doc_kind kind)
{
    switch (kind) {
    case STAC_DOC_COLLECTION: return "Collection";
    case STAC_DOC_ITEM: return "Item";
    case STAC_DOC_ITEM_COLLECTION: return "ItemCollection";
    }
    return "?";
}

/* Where the parser stopped, as 1-based line and column, so that a user can
 * find the problem in an editor (the .jsonc fixtures carry // comments). */
static void text_position(const char *text, size_t len, size_t pos, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    if (pos > len)
        pos = len;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static floe_err parse_json(const char *text, size_t len, cJSON **out)
{
    *out = NULL;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        size_t line, col;
        text_position(text, len, (size_t)(nul - text), &line, &col);
        return FLOE_ERR(FLOE_EFORMAT, "not valid JSON at line %zu, column %zu: NUL byte",
                        line, col);
    }
    /* cJSON wants the terminating NUL inside the length to check that
     * nothing follows the value; copy so that text need not carry one. */
    char *copy = malloc(len + 1);
    if (!copy)
        return FLOE_ERR(FLOE_ENOMEM, "%zu bytes for the JSON text", len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
    if (!root) {
        size_t pos = end && end >= copy ? (size_t)(end - copy) : len;
        /* cJSON reports a bad string start one byte late: point at the
         * comment itself, the usual reason (.jsonc files). */
        if (pos > 0 && pos < len && copy[pos - 1] == '/' && (copy[pos] == '/' || copy[pos] == '*'))
            pos--;
        size_t line, col;
        text_position(copy, len, pos, &line, &col);
        const char *why = "";
        if (pos >= len)
            why = ": unexpected end of the document";
        else if (copy[pos] == '/')
            why = ": a comment (comments are not JSON)";
        free(copy);
        return FLOE_ERR(FLOE_EFORMAT, "not valid JSON at line %zu, column %zu%s", line, col, why);
    }
    free(copy);
    *out = root;
    return NULL;
}

floe_err stac_doc_parse(const char *text, size_t len, const char *source, stac_doc **out)
{
    *out = NULL;
    if (!source)
        source = "(STAC document)";
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    cJSON *root;
    FLOE_CHECK(parse_json(text, len, &root), "STAC document %s", source);
    floe_err err = NULL;
    stac_doc_kind kind = STAC_DOC_COLLECTION;
    if (!cJSON_IsObject(root)) {
        err = FLOE_ERR(FLOE_EFORMAT, "STAC document %s: the top level is not a JSON object",
                       source);
        goto fail;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(type)) {
        err = FLOE_ERR(FLOE_EFORMAT,
                       "STAC document %s: no \"type\" string (expected Collection, Feature or "
                       "FeatureCollection)", source);
        goto fail;
    }
    if (strcmp(type->valuestring, "Collection") == 0) {
        kind = STAC_DOC_COLLECTION;
    } else if (strcmp(type->valuestring, "Feature") == 0) {
        kind = STAC_DOC_ITEM;
    } else if (strcmp(type->valuestring, "FeatureCollection") == 0) {
        kind = STAC_DOC_ITEM_COLLECTION;
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "features"))) {
            err = FLOE_ERR(FLOE_EFORMAT, "STAC document %s: FeatureCollection without a "
                           "\"features\" array", source);
            goto fail;
        }
    } else if (strcmp(type->valuestring, "Catalog") == 0) {
        err = FLOE_ERR(FLOE_EUNSUPPORTED, "STAC document %s is a Catalog, which has no assets: "
                       "give the Collection or Item that describes the store", source);
        goto fail;
    } else {
        err = FLOE_ERR(FLOE_EFORMAT, "STAC document %s: \"type\" is \"%s\" (expected Collection, "
                       "Feature or FeatureCollection)", source, type->valuestring);
        goto fail;
    }
    stac_doc *doc = calloc(1, sizeof *doc);
    char *src = strdup(source);
    if (!doc || !src) {
        free(doc);
        free(src);
        err = FLOE_ERR(FLOE_ENOMEM, "STAC document %s", source);
        goto fail;
    }
    doc->source = src;
    doc->kind = kind;
    doc->root = root;
    *out = doc;
    return NULL;
fail:
    cJSON_Delete(root);
    return err;
}

floe_err stac_doc_load(floe_transport *t, const char *source, stac_doc **out)
{
    *out = NULL;
    if (!source || !*source)
        return FLOE_ERR(FLOE_EINVAL, "no STAC document given");
    floe_err err = NULL;
    floe_transport *own = NULL;
    if (!t) {
        FLOE_CHECK(floe_transport_new(NULL, &own), "reading STAC document %s", source);
        t = own;
    }
    floe_buf buf;
    floe_buf_init(&buf, STAC_DOC_MAX_BYTES);
    FLOE_CHECK_GOTO(err, done, floe_transport_get(t, source, 0, 0, NULL, &buf),
                    "reading STAC document");
    FLOE_CHECK_GOTO(err, done,
                    stac_doc_parse(buf.data ? (const char *)buf.data : "", buf.len, source, out));
done:
    floe_buf_free(&buf);
    floe_transport_free(&own);
    return err;
}

void stac_doc_free(stac_doc **doc)
{
    if (!doc || !*doc)
        return;
    cJSON_Delete((*doc)->root);
    free((*doc)->source);
    free(*doc);
    *doc = NULL;
}

size_t stac_doc_owner_count(const stac_doc *doc)
{
    if (doc->kind != STAC_DOC_ITEM_COLLECTION)
        return 1;
    return (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc->root, "features"));
}

const cJSON *stac_doc_owner(const stac_doc *doc, size_t i)
{
    if (doc->kind != STAC_DOC_ITEM_COLLECTION)
        return i == 0 ? doc->root : NULL;
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(doc->root, "features");
    if (i >= (size_t)cJSON_GetArraySize(features))
        return NULL;
    const cJSON *f = cJSON_GetArrayItem(features, (int)i);
    return cJSON_IsObject(f) ? f : NULL;
}

const cJSON *stac_owner_assets(const cJSON *owner)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(owner, "assets");
    return cJSON_IsObject(a) ? a : NULL;
}

const cJSON *stac_owner_schemes(const cJSON *owner)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(owner, "properties");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(props, "storage:schemes");
    if (cJSON_IsObject(s))
        return s;
    s = cJSON_GetObjectItemCaseSensitive(owner, "storage:schemes");
    return cJSON_IsObject(s) ? s : NULL;
}

const char *stac_owner_id(const cJSON *owner)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(owner, "id");
    return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* Length of "scheme://" at the start of s, 0 if s has none. */
static size_t scheme_len(const char *s)
{
    size_t i = 0;
    if (!isalpha((unsigned char)s[0]))
        return 0;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return strncmp(s + i, "://", 3) == 0 ? i + 3 : 0;
}

floe_err stac_href_resolve(const char *base, const char *href, char **out)
{
    *out = NULL;
    if (!href || !*href)
        return FLOE_ERR(FLOE_EINVAL, "empty href");
    if (!base || scheme_len(href) || href[0] == '/') {
        *out = strdup(href);
        return *out ? NULL : FLOE_ERR(FLOE_ENOMEM, "href %s", href);
    }
    /* The folder of base: up to its last '/', never into "scheme://host". */
    size_t root = scheme_len(base);
    int host_only = 0; /* "https://host": the path "/" is implied */
    if (root) {
        size_t hl = strcspn(base + root, "/?#");
        host_only = base[root + hl] != '/';
        root = host_only ? root + hl : root + hl + 1;
    } else if (base[0] == '/') {
        root = 1;
    }
    /* A URL's query and fragment are not part of its folder; in a local
     * path '?' and '#' are ordinary characters. */
    size_t end = scheme_len(base) ? (host_only ? root : root + strcspn(base + root, "?#"))
                                  : strlen(base);
    size_t dir = end;
    while (dir > root && base[dir - 1] != '/')
        dir--;
    for (;;) {
        if (strncmp(href, "./", 2) == 0) {
            href += 2;
        } else if (strncmp(href, "../", 3) == 0 && dir == root && root > 0) {
            href += 3; /* ".." of the root is the root (RFC 3986 5.2.4) */
        } else if (strncmp(href, "../", 3) == 0 && dir > root && dir >= 2) {
            size_t up = dir - 1; /* at the '/' ending the folder */
            while (up > root && base[up - 1] != '/')
                up--;
            /* Do not climb over a literal ".." segment. */
            if (dir - up == 3 && strncmp(base + up, "../", 3) == 0)
                break;
            dir = up;
            href += 3;
        } else {
            break;
        }
    }
    size_t n = dir + (size_t)host_only + strlen(href) + 1;
    char *s = malloc(n);
    if (!s)
        return FLOE_ERR(FLOE_ENOMEM, "href %s", href);
    memcpy(s, base, dir);
    if (host_only)
        s[dir] = '/';
    strcpy(s + dir + host_only, href);
    *out = s;
    return NULL;
}

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

int stac_source_is_document(const char *source)
{
    if (!source || !*source)
        return 0;
    size_t sl = scheme_len(source);
    size_t n = sl ? strcspn(source, "?#") : strlen(source);
    if (ends_with_ci(source, n, ".json") || ends_with_ci(source, n, ".jsonc") ||
        ends_with_ci(source, n, ".geojson"))
        return 1;
    const char *path = source;
    if (sl) {
        if (strncasecmp(source, "file://", 7) != 0)
            return 0;
        path = source + 7;
        if (strncasecmp(path, "localhost/", 10) == 0)
            path += 9;
        if (path[0] != '/')
            return 0;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int c, first = 1, result = 0;
    long seen = 0;
    while ((c = getc(f)) != EOF && seen++ < 4096) {
        if (first && c == 0xEF) { /* UTF-8 BOM */
            if (getc(f) == 0xBB && getc(f) == 0xBF) {
                first = 0;
                continue;
            }
            break;
        }
        first = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        result = c == '{';
        break;
    }
    fclose(f);
    return result;
}
