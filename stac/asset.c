/* SPDX-License-Identifier: Apache-2.0 */
/* stac/asset.c - which asset of a STAC document is the Icechunk
 * repository: --asset KEY, else the one with role latest-version, else the
 * only Icechunk asset (rules in stac/open.h). Ambiguity and absence are
 * errors that list the candidates. */
#include "stac/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ICECHUNK_TYPE "application/vnd.zarr+icechunk"
#define LATEST_ROLE "latest-version"

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
    return media_type_is(stac_asset_type(asset), ICECHUNK_TYPE);
}

typedef int (*cand_filter)(const cJSON *asset);

/* Collect the assets of every owner that pass keep (NULL: all). */
static floe_err collect(const stac_doc *doc, cand_filter keep, stac_cand **out, size_t *n)
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
                stac_cand *c = realloc(*out, cap * sizeof *c);
                if (!c) {
                    free(*out);
                    *out = NULL;
                    return FLOE_ERR(FLOE_ENOMEM, "%zu assets", cap);
                }
                *out = c;
            }
            (*out)[(*n)++] = (stac_cand){owner, a, a->string};
        }
    }
    return NULL;
}

static int is_latest_icechunk(const cJSON *asset)
{
    return is_icechunk_asset(asset) && has_role(asset, LATEST_ROLE);
}

/* "key", or "item:key" in an ItemCollection, where keys repeat per Item. */
static floe_err append_name(floe_buf *b, const stac_doc *doc, const stac_cand *c)
{
    const char *item = stac_owner_id(c->owner);
    if (doc->kind == STAC_DOC_ITEM_COLLECTION && item)
        return stac_buf_printf(b, "%s:%s", item, c->key);
    return stac_buf_printf(b, "%s", c->key);
}

/* "a (type), b (type), ... and 3 more" */
static floe_err append_list(floe_buf *b, const stac_doc *doc, const stac_cand *c, size_t n,
                            int with_type)
{
    if (n == 0)
        return stac_buf_printf(b, "none");
    for (size_t i = 0; i < n && i < STAC_LIST_MAX; i++) {
        if (i)
            FLOE_CHECK(stac_buf_printf(b, ", "));
        FLOE_CHECK(append_name(b, doc, &c[i]));
        if (with_type) {
            const char *t = stac_asset_type(c[i].asset);
            FLOE_CHECK(stac_buf_printf(b, " (%s)", t ? t : "no type"));
        }
    }
    if (n > STAC_LIST_MAX)
        FLOE_CHECK(stac_buf_printf(b, " and %zu more", n - STAC_LIST_MAX));
    return NULL;
}

/* An explicitly named asset may be a Zarr store without the Icechunk media
 * type (a first-draft collection); anything that is clearly another kind of
 * store is refused here rather than failing obscurely when opened. */
static floe_err check_named_asset(const stac_cand *c, stac_open_params *p)
{
    const char *type = stac_asset_type(c->asset);
    const char *href = stac_asset_href(c->asset);
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
    return stac_add_note(p, "asset %s has type %s, not %s: opened as an Icechunk repository "
                         "because --asset names it", c->key, type ? type : "(none)",
                         ICECHUNK_TYPE);
}

static floe_err select_named(const stac_doc *doc, const char *name, stac_cand *all, size_t n,
                             stac_open_params *p, stac_cand *chosen)
{
    floe_err err = NULL;
    floe_buf b;
    floe_buf_init(&b, STAC_MSG_MAX);
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
        err = FLOE_ERR(FLOE_ENOTFOUND, "no asset \"%s\" (assets: %s)", name, stac_buf_str(&b));
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

floe_err stac_select_asset(const stac_doc *doc, const stac_request *req, stac_open_params *p,
                           stac_cand *chosen, const char **origin)
{
    floe_err err = NULL;
    stac_cand *all = NULL, *ice = NULL, *latest = NULL;
    size_t n_all, n_ice, n_latest;
    floe_buf b;
    floe_buf_init(&b, STAC_MSG_MAX);
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
                       "one with --asset KEY", n_latest, LATEST_ROLE, stac_buf_str(&b));
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
                       "choose one with --asset KEY", n_ice, LATEST_ROLE, stac_buf_str(&b));
        goto done;
    }
    FLOE_CHECK_GOTO(err, done, append_list(&b, doc, all, n_all, 1));
    err = FLOE_ERR(FLOE_ENOTFOUND, "no Icechunk asset (candidates: %s); an Icechunk repository "
                   "has type %s, or name an asset with --asset KEY", stac_buf_str(&b),
                   ICECHUNK_TYPE);
done:
    floe_buf_free(&b);
    free(all);
    free(ice);
    free(latest);
    return err;
}
