/* SPDX-License-Identifier: Apache-2.0 */
/* stac/containers.c - the virtual chunk containers an asset authorises
 * (virtual-assets extension): each vrt:hrefs[].key names a sibling asset
 * whose href is the container prefix and whose storage:refs give its
 * access settings. A container listed twice is a note. */
#include "stac/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    FLOE_CHECK(stac_get_string(e, "key", where, &target_key));
    FLOE_CHECK(stac_get_string(e, "href", where, &link));
    if (!target_key || !*target_key)
        return FLOE_ERR(FLOE_EFORMAT, "%s has no key", where);
    if (!link)
        FLOE_CHECK(stac_add_note(p, "%s (key %s) has no href, which the virtual-assets schema "
                                 "requires; the key is enough for floe", where, target_key));
    if (strcmp(target_key, key) == 0)
        return FLOE_ERR(FLOE_EFORMAT, "%s.key names the asset itself", where);
    const cJSON *assets = stac_owner_assets(owner);
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(assets, target_key);
    if (!cJSON_IsObject(target)) {
        floe_buf b;
        floe_buf_init(&b, STAC_MSG_MAX);
        floe_err err = NULL;
        size_t count = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, assets) {
            if (!err && count++ < STAC_LIST_MAX)
                err = stac_buf_printf(&b, "%s%s", count > 1 ? ", " : "", a->string);
        }
        if (!err)
            err = FLOE_ERR(FLOE_ENOTFOUND, "%s.key \"%s\" names no asset (assets: %s)", where,
                           target_key, stac_buf_str(&b));
        floe_buf_free(&b);
        return err;
    }
    const char *href = stac_asset_href(target);
    if (!href || !*href)
        return FLOE_ERR(FLOE_EFORMAT, "asset %s (vrt:hrefs[%zu] of %s) has no href", target_key,
                        i, key);
    char *abs;
    FLOE_CHECK(stac_href_resolve(doc->source, href, &abs), "asset %s", target_key);
    stac_storage st;
    floe_err err = stac_resolve_storage(owner, target_key, target, abs, 0, p, &st);
    free(abs);
    FLOE_CHECK(err, "virtual chunk container vrt:hrefs[%zu] of asset %s", i, key);
    for (size_t j = 0; j < p->n_containers; j++) {
        if (stac_storage_same(&p->containers[j], &st)) {
            err = stac_add_note(p, "%s: container %s is listed twice", where, st.url);
            stac_storage_clear(&st);
            return err;
        }
    }
    stac_storage *c = realloc(p->containers, (p->n_containers + 1) * sizeof *c);
    if (!c) {
        stac_storage_clear(&st);
        return FLOE_ERR(FLOE_ENOMEM, "%zu containers", p->n_containers + 1);
    }
    c[p->n_containers++] = st;
    p->containers = c;
    return NULL;
}

floe_err stac_resolve_containers(const stac_doc *doc, const cJSON *owner, const char *key,
                                 const cJSON *asset, stac_open_params *p)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(asset, "vrt:hrefs");
    if (!v || cJSON_IsNull(v))
        return stac_add_note(p, "asset %s has no vrt:hrefs: the document authorises no virtual "
                             "chunk container", key);
    if (!cJSON_IsArray(v))
        return FLOE_ERR(FLOE_EFORMAT, "asset %s: vrt:hrefs is not an array", key);
    size_t n = (size_t)cJSON_GetArraySize(v);
    for (size_t i = 0; i < n; i++)
        FLOE_CHECK(add_container(doc, owner, key, asset, i, p));
    return NULL;
}
