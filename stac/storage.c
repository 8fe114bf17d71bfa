/* SPDX-License-Identifier: Apache-2.0 */
/* stac/storage.c - where an asset lives and how to reach it: its href
 * (s3://, http(s)://, file://, a local path) combined with the
 * storage:schemes entries its storage:refs name (aws-s3, custom-s3; rules
 * in stac/open.h). */
#include "stac/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void stac_storage_clear(stac_storage *s)
{
    free(s->url);
    free(s->bucket);
    free(s->prefix);
    free(s->region);
    free(s->endpoint);
    free(s->platform);
    free(s->scheme_key);
    free(s->scheme_type);
    free(s->asset_key);
    memset(s, 0, sizeof *s);
}

int stac_storage_same(const stac_storage *a, const stac_storage *b)
{
    return a->kind == b->kind && stac_str_eq(a->url, b->url) && stac_str_eq(a->bucket, b->bucket) &&
           stac_str_eq(a->prefix, b->prefix) && stac_str_eq(a->region, b->region) &&
           stac_str_eq(a->endpoint, b->endpoint) && a->anonymous == b->anonymous &&
           a->requester_pays == b->requester_pays;
}

/* Length of the "scheme" in "scheme://...", 0 if there is none. */
static size_t url_scheme(const char *s)
{
    size_t i = 0;
    if (!isalpha((unsigned char)s[0]))
        return 0;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return strncmp(s + i, "://", 3) == 0 ? i : 0;
}

typedef struct href_info {
    stac_storage_kind kind;
    const char *path;      /* FILE: the local path (borrowed from href) */
    char *bucket;          /* S3: owned */
    const char *key;       /* S3: the key prefix (borrowed from href) */
} href_info;

static floe_err parse_href(const char *key, const char *href, href_info *h)
{
    memset(h, 0, sizeof *h);
    size_t sl = url_scheme(href);
    if (sl == 0) {
        h->kind = STAC_STORAGE_FILE;
        h->path = href;
        return NULL;
    }
    if (sl == 2 && strncasecmp(href, "s3", 2) == 0) {
        const char *b = href + 5;
        size_t bl = strcspn(b, "/");
        if (bl == 0)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s has no bucket", key, href);
        h->kind = STAC_STORAGE_S3;
        h->bucket = strndup(b, bl);
        if (!h->bucket)
            return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
        h->key = b[bl] ? b + bl + 1 : b + bl;
        return NULL;
    }
    if ((sl == 4 && strncasecmp(href, "http", 4) == 0) ||
        (sl == 5 && strncasecmp(href, "https", 5) == 0)) {
        h->kind = STAC_STORAGE_HTTP;
        return NULL;
    }
    if (sl == 4 && strncasecmp(href, "file", 4) == 0) {
        const char *p = href + 7;
        if (strncasecmp(p, "localhost/", 10) == 0)
            p += 9;
        if (p[0] != '/')
            return FLOE_ERR(FLOE_EUNSUPPORTED, "asset %s: href %s names another host", key, href);
        h->kind = STAC_STORAGE_FILE;
        h->path = p;
        return NULL;
    }
    return FLOE_ERR(FLOE_EUNSUPPORTED, "asset %s: href %s has scheme \"%.*s\", which floe does "
                    "not read (s3://, http(s)://, local paths)", key, href, (int)sl, href);
}

/* A repository URL is a folder: give it its '/' once, so that callers can
 * append keys. */
static floe_err folder_url(const char *s, size_t n, int folder, char **out)
{
    int add = folder && n > 0 && s[n - 1] != '/';
    char *u = malloc(n + 2);
    if (!u)
        return FLOE_ERR(FLOE_ENOMEM, "URL of %zu bytes", n + 2);
    memcpy(u, s, n);
    if (add)
        u[n++] = '/';
    u[n] = '\0';
    *out = u;
    return NULL;
}

static floe_err s3_location(const char *bucket, const char *key, int folder, stac_storage *st)
{
    FLOE_CHECK(stac_dup(bucket, &st->bucket));
    FLOE_CHECK(folder_url(key, strlen(key), folder, &st->prefix));
    FLOE_CHECK(stac_format(&st->url, "s3://%s/%s", bucket, st->prefix));
    st->kind = STAC_STORAGE_S3;
    return NULL;
}

/* Storage from the href alone (no storage:refs): S3 region and credentials
 * then come from the environment. */
static floe_err storage_from_href(const char *href, const href_info *h, int folder,
                                  stac_storage *st)
{
    switch (h->kind) {
    case STAC_STORAGE_S3:
        return s3_location(h->bucket, h->key, folder, st);
    case STAC_STORAGE_HTTP:
        st->kind = STAC_STORAGE_HTTP;
        return folder_url(href, strlen(href), folder, &st->url);
    case STAC_STORAGE_FILE:
        st->kind = STAC_STORAGE_FILE;
        return folder_url(h->path, strlen(h->path), folder, &st->url);
    }
    return FLOE_ERR(FLOE_EINTERNAL, "storage kind %d", (int)h->kind);
}

/* Fill {name} placeholders of a platform template from the scheme's fields
 * ({bucket} may come from the href when the scheme leaves it out). */
static floe_err expand_platform(const cJSON *scheme, const char *ref, const char *tmpl,
                                const char *href_bucket, char **out)
{
    floe_err err = NULL;
    floe_buf b;
    floe_buf_init(&b, STAC_MSG_MAX);
    for (const char *p = tmpl; *p;) {
        const char *close = p[0] == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            FLOE_CHECK_GOTO(err, done, floe_buf_append(&b, p, 1));
            p++;
            continue;
        }
        char name[64];
        size_t nl = (size_t)(close - p - 1);
        if (nl == 0 || nl >= sizeof name) {
            err = FLOE_ERR(FLOE_EFORMAT, "storage:schemes.%s.platform: bad placeholder in %s",
                           ref, tmpl);
            goto done;
        }
        memcpy(name, p + 1, nl);
        name[nl] = '\0';
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(scheme, name);
        const char *val = cJSON_IsString(v) ? v->valuestring : NULL;
        if (!val && strcmp(name, "bucket") == 0)
            val = href_bucket;
        if (!val) {
            err = FLOE_ERR(FLOE_EFORMAT, "storage:schemes.%s.platform %s: {%s} has no value in "
                           "the scheme", ref, tmpl, name);
            goto done;
        }
        FLOE_CHECK_GOTO(err, done, floe_buf_append(&b, val, strlen(val)));
        p = close + 1;
    }
    FLOE_CHECK_GOTO(err, done, floe_buf_append(&b, "", 0));
    *out = (char *)floe_buf_take(&b, NULL);
done:
    floe_buf_free(&b);
    return err;
}

/* href starts with base followed by '/' or the end: the rest, else NULL. */
static const char *under(const char *href, const char *base)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (strncmp(href, base, n) != 0)
        return NULL;
    if (href[n] == '\0')
        return href + n;
    return href[n] == '/' ? href + n + 1 : NULL;
}

/* An S3 scheme (aws-s3 or custom-s3) applied to the asset's href. */
static floe_err apply_s3_scheme(const char *key, const char *href, const href_info *h,
                                const char *ref, const cJSON *scheme, const char *type,
                                int folder, stac_storage *st)
{
    char where[256];
    snprintf(where, sizeof where, "storage:schemes.%s", ref);
    const char *bucket, *region, *platform;
    FLOE_CHECK(stac_get_string(scheme, "bucket", where, &bucket));
    FLOE_CHECK(stac_get_string(scheme, "region", where, &region));
    FLOE_CHECK(stac_get_string(scheme, "platform", where, &platform));
    FLOE_CHECK(stac_get_bool(scheme, "anonymous", where, &st->anonymous));
    FLOE_CHECK(stac_get_bool(scheme, "requester_pays", where, &st->requester_pays));
    int custom = strcmp(type, "custom-s3") == 0;
    if (custom && !platform)
        return FLOE_ERR(FLOE_EFORMAT, "%s (custom-s3) has no platform (the endpoint URL)", where);
    if (!custom && !platform)
        platform = "https://{bucket}.s3.{region}.amazonaws.com";
    /* The platform names the bucket itself ({bucket} in the template, as
     * AWS's virtual-hosted template does) or is an endpoint taking
     * path-style "bucket/key". */
    int hosted = strstr(platform, "{bucket}") != NULL;
    floe_err err = NULL;
    char *expanded = NULL, *http_bucket = NULL;
    const char *href_bucket = h->bucket, *href_key = h->key;
    if (h->kind == STAC_STORAGE_FILE) {
        err = FLOE_ERR(FLOE_EINVAL, "asset %s: href %s is a local path but %s is an S3 scheme "
                       "(%s)", key, href, where, type);
        goto done;
    }
    if (h->kind == STAC_STORAGE_HTTP) {
        /* https://bucket.s3.region.amazonaws.com/prefix/ is the same place
         * as s3://bucket/prefix/: accept it when it lies under the platform. */
        if (hosted && !bucket) {
            err = FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s is an http(s) URL but %s has no "
                           "bucket", key, href, where);
            goto done;
        }
        FLOE_CHECK_GOTO(err, done, expand_platform(scheme, ref, platform, bucket, &expanded));
        const char *rest = under(href, expanded);
        if (!rest) {
            err = FLOE_ERR(FLOE_EINVAL, "asset %s: href %s is not under the platform %s of %s",
                           key, href, expanded, where);
            goto done;
        }
        if (hosted) {
            href_bucket = bucket;
            href_key = rest;
        } else {
            size_t bl = strcspn(rest, "/");
            if (bl == 0) {
                err = FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s names no bucket under %s", key,
                               href, expanded);
                goto done;
            }
            http_bucket = strndup(rest, bl);
            if (!http_bucket) {
                err = FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
                goto done;
            }
            href_bucket = http_bucket;
            href_key = rest[bl] ? rest + bl + 1 : rest + bl;
        }
        free(expanded);
        expanded = NULL;
    }
    if (bucket && strcmp(bucket, href_bucket) != 0) {
        err = FLOE_ERR(FLOE_EINVAL, "asset %s: href bucket \"%s\" does not match %s.bucket \"%s\"",
                       key, href_bucket, where, bucket);
        goto done;
    }
    FLOE_CHECK_GOTO(err, done, s3_location(href_bucket, href_key, folder, st));
    FLOE_CHECK_GOTO(err, done, stac_dup(region, &st->region));
    FLOE_CHECK_GOTO(err, done, expand_platform(scheme, ref, platform, href_bucket, &expanded));
    if (custom) {
        size_t n = strlen(expanded);
        while (n > 0 && expanded[n - 1] == '/')
            n--;
        FLOE_CHECK_GOTO(err, done, folder_url(expanded, n, 0, &st->endpoint));
    }
    st->platform = expanded;
    expanded = NULL;
done:
    free(expanded);
    free(http_bucket);
    return err;
}

/* One storage:refs entry resolved against the owner's storage:schemes. */
static floe_err apply_ref(const cJSON *owner, const char *key, const char *href,
                          const href_info *h, const char *ref, int folder, stac_storage *st)
{
    const cJSON *schemes = stac_owner_schemes(owner);
    const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(schemes, ref);
    if (!schemes)
        return FLOE_ERR(FLOE_ENOTFOUND, "asset %s: storage:refs names \"%s\" but the document "
                        "has no storage:schemes", key, ref);
    if (!scheme) {
        floe_buf b;
        floe_buf_init(&b, STAC_MSG_MAX);
        const cJSON *s;
        floe_err err = NULL;
        cJSON_ArrayForEach(s, schemes) {
            if (!err)
                err = stac_buf_printf(&b, "%s%s", b.len ? ", " : "", s->string);
        }
        if (!err)
            err = FLOE_ERR(FLOE_ENOTFOUND, "asset %s: storage:refs names \"%s\", which "
                           "storage:schemes does not define (defined: %s)", key, ref,
                           b.len ? stac_buf_str(&b) : "none");
        floe_buf_free(&b);
        return err;
    }
    if (!cJSON_IsObject(scheme))
        return FLOE_ERR(FLOE_EFORMAT, "storage:schemes.%s is not an object", ref);
    const char *type;
    char where[256];
    snprintf(where, sizeof where, "storage:schemes.%s", ref);
    FLOE_CHECK(stac_get_string(scheme, "type", where, &type));
    if (!type)
        return FLOE_ERR(FLOE_EFORMAT, "%s has no type", where);
    if (strcmp(type, "aws-s3") != 0 && strcmp(type, "custom-s3") != 0)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "asset %s: %s has type \"%s\", which floe does not "
                        "read (supported: aws-s3, custom-s3)", key, where, type);
    FLOE_CHECK(apply_s3_scheme(key, href, h, ref, scheme, type, folder, st));
    FLOE_CHECK(stac_dup(ref, &st->scheme_key));
    FLOE_CHECK(stac_dup(type, &st->scheme_type));
    return NULL;
}

/* Where the asset (href already resolved) lives, with its access settings:
 * the href alone, or each storage:refs entry applied to it (they must all
 * agree). */
floe_err stac_resolve_storage(const cJSON *owner, const char *key, const cJSON *asset,
                              const char *href, int folder, stac_open_params *p,
                              stac_storage *st)
{
    memset(st, 0, sizeof *st);
    floe_err err = NULL;
    href_info h;
    stac_storage other = {0};
    floe_buf names;
    floe_buf_init(&names, STAC_MSG_MAX);
    FLOE_CHECK_GOTO(err, done, parse_href(key, href, &h));
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(asset, "storage:refs");
    if (refs && !cJSON_IsArray(refs)) {
        err = FLOE_ERR(FLOE_EFORMAT, "asset %s: storage:refs is not an array", key);
        goto done;
    }
    int n = cJSON_GetArraySize(refs);
    if (n == 0) {
        FLOE_CHECK_GOTO(err, done, storage_from_href(href, &h, folder, st));
    }
    for (int i = 0; i < n; i++) {
        const cJSON *r = cJSON_GetArrayItem(refs, i);
        if (!cJSON_IsString(r)) {
            err = FLOE_ERR(FLOE_EFORMAT, "asset %s: storage:refs[%d] is not a string", key, i);
            goto done;
        }
        FLOE_CHECK_GOTO(err, done, stac_buf_printf(&names, "%s%s", i ? ", " : "", r->valuestring));
        stac_storage *target = i == 0 ? st : &other;
        FLOE_CHECK_GOTO(err, done, apply_ref(owner, key, href, &h, r->valuestring, folder, target));
        if (i > 0) {
            int same = stac_storage_same(st, &other);
            stac_storage_clear(&other);
            if (!same) {
                /* Finish the list of names for the message. */
                for (int j = i + 1; j < n; j++) {
                    const cJSON *rj = cJSON_GetArrayItem(refs, j);
                    FLOE_CHECK_GOTO(err, done, stac_buf_printf(&names, ", %s", cJSON_IsString(rj) ?
                                                               rj->valuestring : "?"));
                }
                err = FLOE_ERR(FLOE_EINVAL, "asset %s: storage:refs names %d schemes (%s) that "
                               "give different storage: ambiguous, keep one", key, n,
                               stac_buf_str(&names));
                goto done;
            }
        }
    }
    if (n > 1)
        FLOE_CHECK_GOTO(err, done, stac_add_note(p, "asset %s: storage:refs %s all give the same "
                                                 "storage; using %s", key, stac_buf_str(&names),
                                                 st->scheme_key));
    FLOE_CHECK_GOTO(err, done, stac_dup(key, &st->asset_key));
done:
    free(h.bucket);
    stac_storage_clear(&other);
    floe_buf_free(&names);
    if (err)
        stac_storage_clear(st);
    return err;
}
