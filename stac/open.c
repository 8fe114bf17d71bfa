/* SPDX-License-Identifier: Apache-2.0 */
/* stac/open.c - resolving how to open the Icechunk store a STAC document
 * describes (rules in stac/open.h): the steps in order, each in its own
 * file (asset.c, storage.c, pipeline.c, version.c, zarr_flags.c,
 * containers.c, time_label.c), and the lifetime of stac_open_params. The document is
 * only read; every string that ends up in stac_open_params is copied. */
#include "stac/open.h"

#include "stac/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static floe_err resolve(const stac_doc *doc, const stac_request *req, stac_open_params *p)
{
    stac_cand chosen = {0};
    const char *origin = NULL;
    FLOE_CHECK(stac_dup(doc->source, &p->source));
    FLOE_CHECK(stac_dup(stac_doc_kind_name(doc->kind), &p->doc_kind));
    FLOE_CHECK(stac_select_asset(doc, req, p, &chosen, &origin));
    const char *key = chosen.key;
    FLOE_CHECK(stac_dup(key, &p->asset_key));
    FLOE_CHECK(stac_dup(stac_asset_type(chosen.asset), &p->asset_type));
    FLOE_CHECK(stac_dup(origin, &p->asset_origin));
    if (doc->kind == STAC_DOC_COLLECTION) {
        FLOE_CHECK(stac_dup(stac_owner_id(chosen.owner), &p->collection_id));
    } else {
        const cJSON *coll = cJSON_GetObjectItemCaseSensitive(chosen.owner, "collection");
        FLOE_CHECK(stac_dup(cJSON_IsString(coll) ? coll->valuestring : NULL, &p->collection_id));
        FLOE_CHECK(stac_dup(stac_owner_id(chosen.owner), &p->item_id));
    }

    const char *href;
    char where[300];
    snprintf(where, sizeof where, "asset %s", key);
    FLOE_CHECK(stac_get_string(chosen.asset, "href", where, &href));
    if (!href || !*href)
        return FLOE_ERR(FLOE_EFORMAT, "asset %s has no href", key);
    stac_pipeline pl;
    floe_err err = NULL;
    char *abs = NULL;
    FLOE_CHECK_GOTO(err, done, stac_parse_pipeline(key, href, &pl));
    FLOE_CHECK_GOTO(err, done, stac_href_resolve(doc->source, pl.store, &abs), "asset %s", key);
    FLOE_CHECK_GOTO(err, done, stac_resolve_storage(chosen.owner, key, chosen.asset, abs, 1, p,
                                                    &p->repo));
    p->group = pl.group;
    pl.group = NULL;
    FLOE_CHECK_GOTO(err, done, stac_resolve_version(key, chosen.asset, req, &pl, p));
    FLOE_CHECK_GOTO(err, done, stac_check_zarr(key, chosen.asset, &pl, p));
    FLOE_CHECK_GOTO(err, done, stac_resolve_containers(doc, chosen.owner, key, chosen.asset, p));
    FLOE_CHECK_GOTO(err, done, stac_read_time_label(chosen.owner, p));
done:
    free(abs);
    stac_pipeline_clear(&pl);
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
    stac_storage_clear(&p->repo);
    free(p->group);
    for (size_t i = 0; i < p->n_containers; i++)
        stac_storage_clear(&p->containers[i]);
    free(p->containers);
    free(p->ref_name);
    free(p->ref_origin);
    free(p->time_label);
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
