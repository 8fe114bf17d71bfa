/* stac/open.c - resolving how to open the Icechunk store a STAC document
 * describes (rules in stac_open.h). The document is only read; every
 * string that ends up in stac_open_params is copied. */
#include "stac/open.h"

#include "common/floe_buf.h"
#include "common/floe_log.h"
#include "io/icechunk/format/ids.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ICECHUNK_TYPE "application/vnd.zarr+icechunk"
#define LATEST_ROLE "latest-version"
/* Lists in messages stop after this many entries ("... and N more"):
 * an ItemCollection can hold hundreds of assets. */
#define LIST_MAX 12
/* Bound for messages built in memory (lists of keys). */
#define MSG_MAX ((size_t)1 << 16)

/* ---- small string helpers ------------------------------------------------ */

static floe_err dup_str(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return NULL;
    *out = strdup(s);
    return *out ? NULL : FLOE_ERR(FLOE_ENOMEM, "copying \"%.40s\"", s);
}

static floe_err vformat(char **out, const char *fmt, va_list ap)
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

static floe_err format(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static floe_err format(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    floe_err err = vformat(out, fmt, ap);
    va_end(ap);
    return err;
}

static floe_err buf_printf(floe_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static floe_err buf_printf(floe_buf *b, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    floe_err err = vformat(&s, fmt, ap);
    va_end(ap);
    if (err)
        return err;
    err = floe_buf_append(b, s, strlen(s));
    free(s);
    return err;
}

static const char *buf_str(const floe_buf *b)
{
    return b->data ? (const char *)b->data : "";
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static floe_err add_note(stac_open_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static floe_err add_note(stac_open_params *p, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    floe_err err = vformat(&s, fmt, ap);
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

static floe_err get_string(const cJSON *obj, const char *field, const char *where,
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

static floe_err get_bool(const cJSON *obj, const char *field, const char *where, int *val)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsBool(v))
        return FLOE_ERR(FLOE_EFORMAT, "%s: %s is not true or false", where, field);
    *val = cJSON_IsTrue(v);
    return NULL;
}

/* "application/vnd.zarr+icechunk; x=y" has the type application/vnd.zarr+icechunk. */
static int media_type_is(const char *type, const char *want)
{
    if (!type)
        return 0;
    while (*type == ' ')
        type++;
    size_t n = strcspn(type, ";");
    while (n > 0 && type[n - 1] == ' ')
        n--;
    return n == strlen(want) && strncasecmp(type, want, n) == 0;
}

static const char *asset_type(const cJSON *asset)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(asset, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static const char *asset_href(const cJSON *asset)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(asset, "href");
    return cJSON_IsString(h) ? h->valuestring : NULL;
}

static int has_role(const cJSON *asset, const char *role)
{
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(asset, "roles");
    const cJSON *r;
    cJSON_ArrayForEach(r, roles) {
        if (cJSON_IsString(r) && strcmp(r->valuestring, role) == 0)
            return 1;
    }
    return 0;
}

static int is_icechunk_asset(const cJSON *asset)
{
    return media_type_is(asset_type(asset), ICECHUNK_TYPE);
}

/* ---- asset selection ---------------------------------------------------- */

typedef struct cand {
    const cJSON *owner; /* the Collection or Item holding the asset */
    const cJSON *asset;
    const char *key;
} cand;

typedef int (*cand_filter)(const cJSON *asset);

/* Collect the assets of every owner that pass keep (NULL: all). */
static floe_err collect(const stac_doc *doc, cand_filter keep, cand **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < stac_doc_owner_count(doc); i++) {
        const cJSON *owner = stac_doc_owner(doc, i);
        const cJSON *a;
        cJSON_ArrayForEach(a, stac_owner_assets(owner)) {
            if (!cJSON_IsObject(a) || (keep && !keep(a)))
                continue;
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                cand *c = realloc(*out, cap * sizeof *c);
                if (!c) {
                    free(*out);
                    *out = NULL;
                    return FLOE_ERR(FLOE_ENOMEM, "%zu assets", cap);
                }
                *out = c;
            }
            (*out)[(*n)++] = (cand){owner, a, a->string};
        }
    }
    return NULL;
}

static int is_latest_icechunk(const cJSON *asset)
{
    return is_icechunk_asset(asset) && has_role(asset, LATEST_ROLE);
}

/* "key", or "item:key" in an ItemCollection, where keys repeat per Item. */
static floe_err append_name(floe_buf *b, const stac_doc *doc, const cand *c)
{
    const char *item = stac_owner_id(c->owner);
    if (doc->kind == STAC_DOC_ITEM_COLLECTION && item)
        return buf_printf(b, "%s:%s", item, c->key);
    return buf_printf(b, "%s", c->key);
}

/* "a (type), b (type), ... and 3 more" */
static floe_err append_list(floe_buf *b, const stac_doc *doc, const cand *c, size_t n,
                            int with_type)
{
    if (n == 0)
        return buf_printf(b, "none");
    for (size_t i = 0; i < n && i < LIST_MAX; i++) {
        if (i)
            FLOE_CHECK(buf_printf(b, ", "));
        FLOE_CHECK(append_name(b, doc, &c[i]));
        if (with_type) {
            const char *t = asset_type(c[i].asset);
            FLOE_CHECK(buf_printf(b, " (%s)", t ? t : "no type"));
        }
    }
    if (n > LIST_MAX)
        FLOE_CHECK(buf_printf(b, " and %zu more", n - LIST_MAX));
    return NULL;
}

/* An explicitly named asset may be a Zarr store without the Icechunk media
 * type (a first-draft collection); anything that is clearly another kind of
 * store is refused here rather than failing obscurely when opened. */
static floe_err check_named_asset(const cand *c, stac_open_params *p)
{
    const char *type = asset_type(c->asset);
    const char *href = asset_href(c->asset);
    if (is_icechunk_asset(c->asset))
        return NULL;
    int zarr = !type || media_type_is(type, "application/vnd.zarr") ||
               media_type_is(type, "application/vnd+zarr");
    if (!zarr)
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "asset %s has type %s: floe opens Icechunk repositories (%s)", c->key,
                        type, ICECHUNK_TYPE);
    size_t hl = href ? strcspn(href, "?#") : 0;
    if (hl >= 5 && strncasecmp(href + hl - 5, ".json", 5) == 0)
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "asset %s: href %s is a JSON file (kerchunk references?), not an "
                        "Icechunk repository", c->key, href);
    return add_note(p, "asset %s has type %s, not %s: opened as an Icechunk repository because "
                    "--asset names it", c->key, type ? type : "(none)", ICECHUNK_TYPE);
}

static floe_err select_named(const stac_doc *doc, const char *name, cand *all, size_t n,
                             stac_open_params *p, cand *chosen)
{
    floe_err err = NULL;
    floe_buf b;
    floe_buf_init(&b, MSG_MAX);
    size_t hits = 0, hit = 0;
    for (size_t i = 0; i < n; i++) {
        const char *item = stac_owner_id(all[i].owner);
        size_t il = item ? strlen(item) : 0;
        int qualified = item && strncmp(name, item, il) == 0 && name[il] == ':' &&
                        strcmp(name + il + 1, all[i].key) == 0;
        if (strcmp(name, all[i].key) == 0 || qualified) {
            hits++;
            hit = i;
        }
    }
    if (hits == 0) {
        FLOE_CHECK_GOTO(err, done, append_list(&b, doc, all, n, 0));
        err = FLOE_ERR(FLOE_ENOTFOUND, "no asset \"%s\" (assets: %s)", name, buf_str(&b));
        goto done;
    }
    if (hits > 1) {
        err = FLOE_ERR(FLOE_EINVAL, "asset \"%s\" is in %zu Items: name one as ITEM:KEY", name,
                       hits);
        goto done;
    }
    *chosen = all[hit];
    FLOE_CHECK_GOTO(err, done, check_named_asset(chosen, p));
done:
    floe_buf_free(&b);
    return err;
}

static floe_err select_asset(const stac_doc *doc, const stac_request *req, stac_open_params *p,
                             cand *chosen, const char **origin)
{
    floe_err err = NULL;
    cand *all = NULL, *ice = NULL, *latest = NULL;
    size_t n_all, n_ice, n_latest;
    floe_buf b;
    floe_buf_init(&b, MSG_MAX);
    FLOE_CHECK_GOTO(err, done, collect(doc, NULL, &all, &n_all));
    if (n_all == 0) {
        err = FLOE_ERR(FLOE_ENOTFOUND, "no assets: nothing describes a store");
        goto done;
    }
    if (req && req->asset) {
        *origin = "--asset";
        FLOE_CHECK_GOTO(err, done, select_named(doc, req->asset, all, n_all, p, chosen),
                        "--asset");
        goto done;
    }
    FLOE_CHECK_GOTO(err, done, collect(doc, is_latest_icechunk, &latest, &n_latest));
    if (n_latest == 1) {
        *chosen = latest[0];
        *origin = "role " LATEST_ROLE;
        goto done;
    }
    if (n_latest > 1) {
        FLOE_CHECK_GOTO(err, done, append_list(&b, doc, latest, n_latest, 0));
        err = FLOE_ERR(FLOE_EINVAL, "ambiguous: %zu Icechunk assets have role %s (%s); choose "
                       "one with --asset KEY", n_latest, LATEST_ROLE, buf_str(&b));
        goto done;
    }
    FLOE_CHECK_GOTO(err, done, collect(doc, is_icechunk_asset, &ice, &n_ice));
    if (n_ice == 1) {
        *chosen = ice[0];
        *origin = "only Icechunk asset";
        goto done;
    }
    if (n_ice > 1) {
        FLOE_CHECK_GOTO(err, done, append_list(&b, doc, ice, n_ice, 0));
        err = FLOE_ERR(FLOE_EINVAL, "ambiguous: %zu Icechunk assets and none has role %s (%s); "
                       "choose one with --asset KEY", n_ice, LATEST_ROLE, buf_str(&b));
        goto done;
    }
    FLOE_CHECK_GOTO(err, done, append_list(&b, doc, all, n_all, 1));
    err = FLOE_ERR(FLOE_ENOTFOUND, "no Icechunk asset (candidates: %s); an Icechunk repository "
                   "has type %s, or name an asset with --asset KEY", buf_str(&b), ICECHUNK_TYPE);
done:
    floe_buf_free(&b);
    free(all);
    free(ice);
    free(latest);
    return err;
}

/* ---- storage -------------------------------------------------------------- */

static void storage_clear(stac_storage *s)
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

static int storage_same(const stac_storage *a, const stac_storage *b)
{
    return a->kind == b->kind && str_eq(a->url, b->url) && str_eq(a->bucket, b->bucket) &&
           str_eq(a->prefix, b->prefix) && str_eq(a->region, b->region) &&
           str_eq(a->endpoint, b->endpoint) && a->anonymous == b->anonymous &&
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
    FLOE_CHECK(dup_str(bucket, &st->bucket));
    FLOE_CHECK(folder_url(key, strlen(key), folder, &st->prefix));
    FLOE_CHECK(format(&st->url, "s3://%s/%s", bucket, st->prefix));
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
    floe_buf_init(&b, MSG_MAX);
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
    FLOE_CHECK(get_string(scheme, "bucket", where, &bucket));
    FLOE_CHECK(get_string(scheme, "region", where, &region));
    FLOE_CHECK(get_string(scheme, "platform", where, &platform));
    FLOE_CHECK(get_bool(scheme, "anonymous", where, &st->anonymous));
    FLOE_CHECK(get_bool(scheme, "requester_pays", where, &st->requester_pays));
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
    FLOE_CHECK_GOTO(err, done, dup_str(region, &st->region));
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
        floe_buf_init(&b, MSG_MAX);
        const cJSON *s;
        floe_err err = NULL;
        cJSON_ArrayForEach(s, schemes) {
            if (!err)
                err = buf_printf(&b, "%s%s", b.len ? ", " : "", s->string);
        }
        if (!err)
            err = FLOE_ERR(FLOE_ENOTFOUND, "asset %s: storage:refs names \"%s\", which "
                           "storage:schemes does not define (defined: %s)", key, ref,
                           b.len ? buf_str(&b) : "none");
        floe_buf_free(&b);
        return err;
    }
    if (!cJSON_IsObject(scheme))
        return FLOE_ERR(FLOE_EFORMAT, "storage:schemes.%s is not an object", ref);
    const char *type;
    char where[256];
    snprintf(where, sizeof where, "storage:schemes.%s", ref);
    FLOE_CHECK(get_string(scheme, "type", where, &type));
    if (!type)
        return FLOE_ERR(FLOE_EFORMAT, "%s has no type", where);
    if (strcmp(type, "aws-s3") != 0 && strcmp(type, "custom-s3") != 0)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "asset %s: %s has type \"%s\", which floe does not "
                        "read (supported: aws-s3, custom-s3)", key, where, type);
    FLOE_CHECK(apply_s3_scheme(key, href, h, ref, scheme, type, folder, st));
    FLOE_CHECK(dup_str(ref, &st->scheme_key));
    FLOE_CHECK(dup_str(type, &st->scheme_type));
    return NULL;
}

/* Where the asset (href already resolved) lives, with its access settings.
 * folder: a repository (the URL gets a trailing '/'). */
static floe_err resolve_storage(const cJSON *owner, const char *key, const cJSON *asset,
                                const char *href, int folder, stac_open_params *p,
                                stac_storage *st)
{
    memset(st, 0, sizeof *st);
    floe_err err = NULL;
    href_info h;
    stac_storage other = {0};
    floe_buf names;
    floe_buf_init(&names, MSG_MAX);
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
        FLOE_CHECK_GOTO(err, done, buf_printf(&names, "%s%s", i ? ", " : "", r->valuestring));
        stac_storage *target = i == 0 ? st : &other;
        FLOE_CHECK_GOTO(err, done, apply_ref(owner, key, href, &h, r->valuestring, folder, target));
        if (i > 0) {
            int same = storage_same(st, &other);
            storage_clear(&other);
            if (!same) {
                /* Finish the list of names for the message. */
                for (int j = i + 1; j < n; j++) {
                    const cJSON *rj = cJSON_GetArrayItem(refs, j);
                    FLOE_CHECK_GOTO(err, done, buf_printf(&names, ", %s", cJSON_IsString(rj) ?
                                                          rj->valuestring : "?"));
                }
                err = FLOE_ERR(FLOE_EINVAL, "asset %s: storage:refs names %d schemes (%s) that "
                               "give different storage: ambiguous, keep one", key, n,
                               buf_str(&names));
                goto done;
            }
        }
    }
    if (n > 1)
        FLOE_CHECK_GOTO(err, done, add_note(p, "asset %s: storage:refs %s all give the same "
                                            "storage; using %s", key, buf_str(&names),
                                            st->scheme_key));
    FLOE_CHECK_GOTO(err, done, dup_str(key, &st->asset_key));
done:
    free(h.bucket);
    storage_clear(&other);
    floe_buf_free(&names);
    if (err)
        storage_clear(st);
    return err;
}

/* ---- ZEP 8 pipeline hrefs: "URL|icechunk://tag.v5/group/|zarr3" --------- */

typedef struct pipeline {
    char *store;      /* the first segment (owned) */
    int has_ref;
    stac_ref_kind ref_kind;
    char *ref_name;   /* owned */
    char *group;      /* owned, NULL: root */
    int zarr3;
} pipeline;

static void pipeline_clear(pipeline *pl)
{
    free(pl->store);
    free(pl->ref_name);
    free(pl->group);
    memset(pl, 0, sizeof *pl);
}

static floe_err parse_icechunk_segment(const char *key, const char *seg, size_t n, pipeline *pl)
{
    /* seg is "icechunk://REF/GROUP" or "icechunk:REF/GROUP" */
    const char *s = seg + strlen("icechunk:");
    const char *end = seg + n;
    if (end - s >= 2 && s[0] == '/' && s[1] == '/')
        s += 2;
    const char *slash = memchr(s, '/', (size_t)(end - s));
    const char *ref_end = slash ? slash : end;
    if (ref_end > s) {
        static const struct {
            const char *word;
            stac_ref_kind kind;
        } kinds[] = {{"branch.", STAC_REF_BRANCH},
                     {"tag.", STAC_REF_TAG},
                     {"snapshot.", STAC_REF_SNAPSHOT}};
        size_t i;
        for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            size_t wl = strlen(kinds[i].word);
            if ((size_t)(ref_end - s) > wl && strncmp(s, kinds[i].word, wl) == 0)
                break;
        }
        if (i == sizeof kinds / sizeof kinds[0])
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href segment \"%.*s\": expected "
                            "icechunk://branch.NAME/, tag.NAME/ or snapshot.ID/", key, (int)n,
                            seg);
        size_t wl = strlen(kinds[i].word);
        pl->has_ref = 1;
        pl->ref_kind = kinds[i].kind;
        pl->ref_name = strndup(s + wl, (size_t)(ref_end - s) - wl);
        if (!pl->ref_name)
            return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
    }
    if (slash && slash + 1 < end) {
        pl->group = strndup(slash + 1, (size_t)(end - slash - 1));
        if (!pl->group)
            return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
    }
    return NULL;
}

static floe_err parse_pipeline(const char *key, const char *href, pipeline *pl)
{
    memset(pl, 0, sizeof *pl);
    size_t n = strcspn(href, "|");
    pl->store = strndup(href, n);
    if (!pl->store)
        return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
    if (n == 0)
        return FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s has no store URL before '|'", key, href);
    const char *seg = href + n;
    while (*seg == '|') {
        seg++;
        size_t sl = strcspn(seg, "|");
        if (sl >= 9 && strncmp(seg, "icechunk:", 9) == 0) {
            if (pl->has_ref || pl->group)
                return FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s has two icechunk: segments",
                                key, href);
            FLOE_CHECK(parse_icechunk_segment(key, seg, sl, pl));
        } else if ((sl == 5 || sl == 6) && strncmp(seg, "zarr3", 5) == 0 &&
                   (sl == 5 || seg[5] == ':')) {
            pl->zarr3 = 1;
        } else if ((sl == 5 || sl == 6) && strncmp(seg, "zarr2", 5) == 0 &&
                   (sl == 5 || seg[5] == ':')) {
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href segment \"zarr2\": an Icechunk "
                            "repository holds Zarr format 3", key);
        } else {
            return FLOE_ERR(FLOE_EUNSUPPORTED, "asset %s: href segment \"%.*s\" is not "
                            "supported (icechunk://, zarr3)", key, (int)sl, seg);
        }
        seg += sl;
    }
    return NULL;
}

/* ---- version ------------------------------------------------------------- */

static int is_snapshot_id(const char *s)
{
    uint8_t id[IC_ID12_BYTES];
    return ic_id_parse(s, strlen(s), id, sizeof id);
}

typedef struct ref_choice {
    const char *origin;
    stac_ref_kind kind;
    const char *name;
} ref_choice;

static floe_err resolve_version(const char *key, const cJSON *asset, const stac_request *req,
                                const pipeline *pl, stac_open_params *p)
{
    ref_choice c[6];
    size_t n = 0;
    if (req && req->cli_ref) {
        static const char *flags[] = {"--branch", "--tag", "--snapshot"};
        if ((unsigned)req->cli_ref_kind > STAC_REF_SNAPSHOT)
            return FLOE_ERR(FLOE_EINTERNAL, "stac_request: ref kind %d", (int)req->cli_ref_kind);
        const char *flag = flags[req->cli_ref_kind];
        if (!*req->cli_ref)
            return FLOE_ERR(FLOE_EINVAL, "%s: empty name", flag);
        if (req->cli_ref_kind == STAC_REF_SNAPSHOT && !is_snapshot_id(req->cli_ref))
            return FLOE_ERR(FLOE_EINVAL, "--snapshot %s: not an Icechunk snapshot id (20 "
                            "characters of Crockford base32)", req->cli_ref);
        c[n++] = (ref_choice){flag, req->cli_ref_kind, req->cli_ref};
    }
    if (pl->has_ref) {
        if (!*pl->ref_name)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: the href names an empty %s", key,
                            stac_ref_kind_name(pl->ref_kind));
        if (pl->ref_kind == STAC_REF_SNAPSHOT && !is_snapshot_id(pl->ref_name))
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href snapshot \"%s\" is not an Icechunk "
                            "snapshot id", key, pl->ref_name);
        c[n++] = (ref_choice){"href", pl->ref_kind, pl->ref_name};
    }
    static const struct {
        const char *field;
        stac_ref_kind kind;
    } fields[] = {{"icechunk:branch", STAC_REF_BRANCH},
                  {"icechunk:tag", STAC_REF_TAG},
                  {"icechunk:snapshot_id", STAC_REF_SNAPSHOT},
                  {"version", STAC_REF_SNAPSHOT}};
    char where[300];
    snprintf(where, sizeof where, "asset %s", key);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v;
        FLOE_CHECK(get_string(asset, fields[i].field, where, &v));
        if (!v)
            continue;
        if (!*v)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: %s is empty", key, fields[i].field);
        stac_ref_kind kind = fields[i].kind;
        if (strcmp(fields[i].field, "icechunk:snapshot_id") == 0 && !is_snapshot_id(v))
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: icechunk:snapshot_id \"%s\" is not an "
                            "Icechunk snapshot id (20 characters of Crockford base32)", key, v);
        /* The version extension's "version" is free text; xpystac writes
         * the snapshot id there. Anything else can only be a tag. */
        if (strcmp(fields[i].field, "version") == 0 && !is_snapshot_id(v)) {
            kind = STAC_REF_TAG;
            if (n == 0)
                FLOE_CHECK(add_note(p, "asset %s: version \"%s\" is not a snapshot id: opened as "
                                    "a tag", key, v));
        }
        c[n++] = (ref_choice){fields[i].field, kind, v};
    }
    if (n == 0)
        c[n++] = (ref_choice){"default", STAC_REF_BRANCH, "main"};
    for (size_t i = 1; i < n; i++) {
        if (c[i].kind == c[0].kind && strcmp(c[i].name, c[0].name) == 0)
            continue;
        FLOE_CHECK(add_note(p, "%s %s not used: %s %s %s takes precedence", c[i].origin,
                            c[i].name, c[0].origin, stac_ref_kind_name(c[0].kind), c[0].name));
    }
    p->ref_kind = c[0].kind;
    FLOE_CHECK(dup_str(c[0].name, &p->ref_name));
    FLOE_CHECK(dup_str(c[0].origin, &p->ref_origin));
    return NULL;
}

/* ---- Zarr flags ------------------------------------------------------------ */

static floe_err check_zarr(const char *key, const cJSON *asset, const pipeline *pl,
                           stac_open_params *p)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(asset, "zarr:zarr_format");
    p->zarr_format = pl->zarr3 ? 3 : 0;
    if (fmt && !cJSON_IsNull(fmt)) {
        if (!cJSON_IsNumber(fmt)) {
            char *text = cJSON_PrintUnformatted(fmt);
            floe_err err = FLOE_ERR(FLOE_EFORMAT, "asset %s: zarr:zarr_format is %s, not a "
                                    "number", key, text ? text : "?");
            free(text);
            return err;
        }
        if (fmt->valuedouble != 3.0)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: zarr:zarr_format is %g, but an Icechunk "
                            "repository holds Zarr format 3", key, fmt->valuedouble);
        p->zarr_format = 3;
    }
    p->consolidated = -1;
    const cJSON *cons = cJSON_GetObjectItemCaseSensitive(asset, "zarr:consolidated");
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(asset, "xarray:open_kwargs");
    const char *field = "zarr:consolidated";
    if (!cons || cJSON_IsNull(cons)) {
        cons = cJSON_GetObjectItemCaseSensitive(kw, "consolidated");
        field = "xarray:open_kwargs.consolidated";
    }
    if (cons && !cJSON_IsNull(cons)) {
        if (!cJSON_IsBool(cons))
            return add_note(p, "asset %s: %s is not true or false (ignored)", key, field);
        p->consolidated = cJSON_IsTrue(cons);
        if (p->consolidated) {
            if (floe_log_rank() <= 0)
                FLOE_WARN("asset %s: %s is true, which does not apply to Icechunk (its "
                          "metadata is never consolidated); ignored", key, field);
            FLOE_CHECK(add_note(p, "asset %s: %s is true, which does not apply to Icechunk; "
                                "ignored", key, field));
        }
    }
    return NULL;
}

/* ---- virtual chunk containers ------------------------------------------- */

static floe_err add_container(const stac_doc *doc, const cJSON *owner, const char *key,
                              const cJSON *asset, size_t i, stac_open_params *p)
{
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(asset, "vrt:hrefs"),
                                        (int)i);
    if (!cJSON_IsObject(e))
        return FLOE_ERR(FLOE_EFORMAT, "asset %s: vrt:hrefs[%zu] is not an object", key, i);
    char where[300];
    snprintf(where, sizeof where, "asset %s: vrt:hrefs[%zu]", key, i);
    const char *target_key, *link;
    FLOE_CHECK(get_string(e, "key", where, &target_key));
    FLOE_CHECK(get_string(e, "href", where, &link));
    if (!target_key || !*target_key)
        return FLOE_ERR(FLOE_EFORMAT, "%s has no key", where);
    if (!link)
        FLOE_CHECK(add_note(p, "%s (key %s) has no href, which the virtual-assets schema "
                            "requires; the key is enough for floe", where, target_key));
    if (strcmp(target_key, key) == 0)
        return FLOE_ERR(FLOE_EFORMAT, "%s.key names the asset itself", where);
    const cJSON *assets = stac_owner_assets(owner);
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(assets, target_key);
    if (!cJSON_IsObject(target)) {
        floe_buf b;
        floe_buf_init(&b, MSG_MAX);
        floe_err err = NULL;
        size_t count = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, assets) {
            if (!err && count++ < LIST_MAX)
                err = buf_printf(&b, "%s%s", count > 1 ? ", " : "", a->string);
        }
        if (!err)
            err = FLOE_ERR(FLOE_ENOTFOUND, "%s.key \"%s\" names no asset (assets: %s)", where,
                           target_key, buf_str(&b));
        floe_buf_free(&b);
        return err;
    }
    const char *href = asset_href(target);
    if (!href || !*href)
        return FLOE_ERR(FLOE_EFORMAT, "asset %s (vrt:hrefs[%zu] of %s) has no href", target_key,
                        i, key);
    char *abs;
    FLOE_CHECK(stac_href_resolve(doc->source, href, &abs), "asset %s", target_key);
    stac_storage st;
    floe_err err = resolve_storage(owner, target_key, target, abs, 0, p, &st);
    free(abs);
    FLOE_CHECK(err, "virtual chunk container vrt:hrefs[%zu] of asset %s", i, key);
    for (size_t j = 0; j < p->n_containers; j++) {
        if (storage_same(&p->containers[j], &st)) {
            err = add_note(p, "%s: container %s is listed twice", where, st.url);
            storage_clear(&st);
            return err;
        }
    }
    stac_storage *c = realloc(p->containers, (p->n_containers + 1) * sizeof *c);
    if (!c) {
        storage_clear(&st);
        return FLOE_ERR(FLOE_ENOMEM, "%zu containers", p->n_containers + 1);
    }
    c[p->n_containers++] = st;
    p->containers = c;
    return NULL;
}

static floe_err resolve_containers(const stac_doc *doc, const cJSON *owner, const char *key,
                                   const cJSON *asset, stac_open_params *p)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(asset, "vrt:hrefs");
    if (!v || cJSON_IsNull(v))
        return add_note(p, "asset %s has no vrt:hrefs: the document authorises no virtual "
                        "chunk container", key);
    if (!cJSON_IsArray(v))
        return FLOE_ERR(FLOE_EFORMAT, "asset %s: vrt:hrefs is not an array", key);
    size_t n = (size_t)cJSON_GetArraySize(v);
    for (size_t i = 0; i < n; i++)
        FLOE_CHECK(add_container(doc, owner, key, asset, i, p));
    return NULL;
}

/* ---- the whole resolution -------------------------------------------------- */

static floe_err resolve(const stac_doc *doc, const stac_request *req, stac_open_params *p)
{
    cand chosen = {0};
    const char *origin = NULL;
    FLOE_CHECK(dup_str(doc->source, &p->source));
    FLOE_CHECK(dup_str(stac_doc_kind_name(doc->kind), &p->doc_kind));
    FLOE_CHECK(select_asset(doc, req, p, &chosen, &origin));
    const char *key = chosen.key;
    FLOE_CHECK(dup_str(key, &p->asset_key));
    FLOE_CHECK(dup_str(asset_type(chosen.asset), &p->asset_type));
    FLOE_CHECK(dup_str(origin, &p->asset_origin));
    if (doc->kind == STAC_DOC_COLLECTION) {
        FLOE_CHECK(dup_str(stac_owner_id(chosen.owner), &p->collection_id));
    } else {
        const cJSON *coll = cJSON_GetObjectItemCaseSensitive(chosen.owner, "collection");
        FLOE_CHECK(dup_str(cJSON_IsString(coll) ? coll->valuestring : NULL, &p->collection_id));
        FLOE_CHECK(dup_str(stac_owner_id(chosen.owner), &p->item_id));
    }

    const char *href;
    char where[300];
    snprintf(where, sizeof where, "asset %s", key);
    FLOE_CHECK(get_string(chosen.asset, "href", where, &href));
    if (!href || !*href)
        return FLOE_ERR(FLOE_EFORMAT, "asset %s has no href", key);
    pipeline pl;
    floe_err err = NULL;
    char *abs = NULL;
    FLOE_CHECK_GOTO(err, done, parse_pipeline(key, href, &pl));
    FLOE_CHECK_GOTO(err, done, stac_href_resolve(doc->source, pl.store, &abs), "asset %s", key);
    FLOE_CHECK_GOTO(err, done, resolve_storage(chosen.owner, key, chosen.asset, abs, 1, p,
                                               &p->repo));
    p->group = pl.group;
    pl.group = NULL;
    FLOE_CHECK_GOTO(err, done, resolve_version(key, chosen.asset, req, &pl, p));
    FLOE_CHECK_GOTO(err, done, check_zarr(key, chosen.asset, &pl, p));
    FLOE_CHECK_GOTO(err, done, resolve_containers(doc, chosen.owner, key, chosen.asset, p));
done:
    free(abs);
    pipeline_clear(&pl);
    return err;
}

floe_err stac_open_resolve_doc(const stac_doc *doc, const stac_request *req,
                               stac_open_params *out)
{
    memset(out, 0, sizeof *out);
    floe_err err = resolve(doc, req, out);
    if (err) {
        stac_open_params_clear(out);
        return floe_err_push(err, __FILE__, __LINE__, " STAC %s %s",
                             stac_doc_kind_name(doc->kind), doc->source);
    }
    return NULL;
}

floe_err stac_open_resolve(floe_transport *t, const char *source, const stac_request *req,
                           stac_open_params *out)
{
    memset(out, 0, sizeof *out);
    stac_doc *doc;
    FLOE_CHECK(stac_doc_load(t, source, &doc));
    floe_err err = stac_open_resolve_doc(doc, req, out);
    stac_doc_free(&doc);
    return err;
}

void stac_open_params_clear(stac_open_params *p)
{
    if (!p)
        return;
    free(p->source);
    free(p->doc_kind);
    free(p->collection_id);
    free(p->item_id);
    free(p->asset_key);
    free(p->asset_type);
    free(p->asset_origin);
    storage_clear(&p->repo);
    free(p->group);
    for (size_t i = 0; i < p->n_containers; i++)
        storage_clear(&p->containers[i]);
    free(p->containers);
    free(p->ref_name);
    free(p->ref_origin);
    for (size_t i = 0; i < p->n_notes; i++)
        free(p->notes[i]);
    free(p->notes);
    memset(p, 0, sizeof *p);
}

const char *stac_ref_kind_name(stac_ref_kind kind)
{
    switch (kind) {
    case STAC_REF_BRANCH: return "branch";
    case STAC_REF_TAG: return "tag";
    case STAC_REF_SNAPSHOT: return "snapshot";
    }
    return "?";
}

/* ---- printing for `floe inspect --stac-only` ------------------------------ */

static const char *storage_kind_name(stac_storage_kind k)
{
    switch (k) {
    case STAC_STORAGE_S3: return "s3";
    case STAC_STORAGE_HTTP: return "http";
    case STAC_STORAGE_FILE: return "file";
    }
    return "?";
}

static void print_storage_text(FILE *out, const stac_storage *s)
{
    if (!s->url) /* cleared parameters */
        return;
    if (s->kind == STAC_STORAGE_S3) {
        fprintf(out, "  S3 bucket %s, prefix %s, region %s%s%s%s%s\n", s->bucket,
                *s->prefix ? s->prefix : "(bucket root)", s->region ? s->region : "(default)",
                s->endpoint ? ", endpoint " : "", s->endpoint ? s->endpoint : "",
                s->anonymous ? ", anonymous" : ", signed if credentials exist",
                s->requester_pays ? ", requester pays" : "");
    } else {
        fprintf(out, "  %s\n", s->kind == STAC_STORAGE_HTTP ? "plain HTTP" : "local folder");
    }
    if (s->scheme_key)
        fprintf(out, "  storage scheme %s (%s%s%s)\n", s->scheme_key, s->scheme_type,
                s->platform ? ", platform " : "", s->platform ? s->platform : "");
    else
        fprintf(out, "  no storage scheme: access settings from the environment\n");
}

static cJSON *json_str(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* cJSON_Add* return NULL on allocation failure; the caller checks the
 * printed result, so failures here surface as one FLOE_ENOMEM. */
static cJSON *storage_json(const stac_storage *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "kind", cJSON_CreateString(storage_kind_name(s->kind)));
    cJSON_AddItemToObject(o, "url", json_str(s->url));
    cJSON_AddItemToObject(o, "bucket", json_str(s->bucket));
    cJSON_AddItemToObject(o, "prefix", json_str(s->prefix));
    cJSON_AddItemToObject(o, "region", json_str(s->region));
    cJSON_AddItemToObject(o, "endpoint", json_str(s->endpoint));
    cJSON_AddItemToObject(o, "platform", json_str(s->platform));
    cJSON_AddItemToObject(o, "anonymous", cJSON_CreateBool(s->anonymous));
    cJSON_AddItemToObject(o, "requester_pays", cJSON_CreateBool(s->requester_pays));
    cJSON_AddItemToObject(o, "scheme", json_str(s->scheme_key));
    cJSON_AddItemToObject(o, "scheme_type", json_str(s->scheme_type));
    cJSON_AddItemToObject(o, "asset", json_str(s->asset_key));
    return o;
}

static floe_err print_json(const stac_open_params *p, FILE *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "source", json_str(p->source));
    cJSON_AddItemToObject(o, "document", json_str(p->doc_kind));
    cJSON_AddItemToObject(o, "collection", json_str(p->collection_id));
    cJSON_AddItemToObject(o, "item", json_str(p->item_id));
    cJSON *asset = cJSON_CreateObject();
    cJSON_AddItemToObject(asset, "key", json_str(p->asset_key));
    cJSON_AddItemToObject(asset, "type", json_str(p->asset_type));
    cJSON_AddItemToObject(asset, "chosen_by", json_str(p->asset_origin));
    cJSON_AddItemToObject(o, "asset", asset);
    cJSON_AddItemToObject(o, "repository", storage_json(&p->repo));
    cJSON_AddItemToObject(o, "group", json_str(p->group));
    cJSON *ver = cJSON_CreateObject();
    cJSON_AddItemToObject(ver, "kind", cJSON_CreateString(stac_ref_kind_name(p->ref_kind)));
    cJSON_AddItemToObject(ver, "name", json_str(p->ref_name));
    cJSON_AddItemToObject(ver, "from", json_str(p->ref_origin));
    cJSON_AddItemToObject(o, "version", ver);
    cJSON_AddItemToObject(o, "zarr_format",
                          p->zarr_format ? cJSON_CreateNumber(p->zarr_format) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "consolidated", p->consolidated < 0 ? cJSON_CreateNull()
                                                                 : cJSON_CreateBool(p->consolidated));
    cJSON *cs = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_containers; i++)
        cJSON_AddItemToArray(cs, storage_json(&p->containers[i]));
    cJSON_AddItemToObject(o, "containers", cs);
    cJSON *notes = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_notes; i++)
        cJSON_AddItemToArray(notes, cJSON_CreateString(p->notes[i]));
    cJSON_AddItemToObject(o, "notes", notes);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "printing the STAC open parameters as JSON");
    fprintf(out, "%s\n", text);
    free(text);
    return NULL;
}

floe_err stac_open_params_print(const stac_open_params *p, int json, FILE *out)
{
    if (json) {
        FLOE_CHECK(print_json(p, out));
    } else {
        fprintf(out, "STAC %s: %s", p->doc_kind ? p->doc_kind : "document",
                p->source ? p->source : "?");
        if (p->collection_id)
            fprintf(out, " (collection %s)", p->collection_id);
        if (p->item_id)
            fprintf(out, " (item %s)", p->item_id);
        fprintf(out, "\nasset: %s (%s), chosen by %s\n", p->asset_key ? p->asset_key : "?",
                p->asset_type ? p->asset_type : "no type",
                p->asset_origin ? p->asset_origin : "?");
        fprintf(out, "repository: %s\n", p->repo.url ? p->repo.url : "?");
        print_storage_text(out, &p->repo);
        if (p->group)
            fprintf(out, "group: %s\n", p->group);
        fprintf(out, "version: %s %s (from %s)\n", stac_ref_kind_name(p->ref_kind),
                p->ref_name ? p->ref_name : "?", p->ref_origin ? p->ref_origin : "?");
        fprintf(out, "zarr: format %s, consolidated %s\n",
                p->zarr_format == 3 ? "3" : "not stated",
                p->consolidated < 0 ? "not stated" : p->consolidated ? "true" : "false");
        for (size_t i = 0; i < p->n_containers; i++) {
            const stac_storage *c = &p->containers[i];
            fprintf(out, "virtual chunk container %zu: %s (asset %s)\n", i + 1, c->url,
                    c->asset_key ? c->asset_key : "?");
            print_storage_text(out, c);
        }
        if (p->n_containers == 0)
            fprintf(out, "virtual chunk containers: none\n");
        for (size_t i = 0; i < p->n_notes; i++)
            fprintf(out, "note: %s\n", p->notes[i]);
    }
    if (fflush(out) != 0 || ferror(out))
        return FLOE_ERR(FLOE_EIO, "writing the STAC open parameters");
    return NULL;
}
