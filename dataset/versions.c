/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/versions.c - see versions.h: the Icechunk reader's refs and
 * ancestry (io/icechunk/icechunk.h) in the dataset's own types, so that the
 * command line never sees io/. */
#include "dataset/versions.h"

#include "dataset/internal.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(FLOE_SNAPSHOT_ID_SIZE == IC_SNAPSHOT_ID_SIZE, "snapshot id sizes");

void floe_versions_clear(floe_versions *v)
{
    for (size_t i = 0; v->refs && i < v->nrefs; i++)
        free(v->refs[i].name);
    for (size_t i = 0; v->history && i < v->nhistory; i++)
        free(v->history[i].message);
    free(v->refs);
    free(v->history);
    free(v->refs_unlisted);
    memset(v, 0, sizeof *v);
}

static floe_err copy_refs(ic_repo *r, floe_versions *v)
{
    ic_ref_info *refs;
    size_t n;
    floe_err err = ic_repo_list_refs(r, &refs, &n);
    if (err && floe_err_code(err) == FLOE_EUNSUPPORTED) {
        /* spec 1 */
        floe_err_free(&err);
        v->refs_unlisted = strdup("a spec-1 repository keeps its refs as objects under refs/, "
                                  "and listing them needs an object listing, which floe does not do");
        return v->refs_unlisted ? NULL : FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    FLOE_CHECK(err);
    v->refs = calloc(n ? n : 1, sizeof *v->refs);
    if (!v->refs) {
        ic_ref_list_free(&refs, n);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        floe_version_ref *out = &v->refs[v->nrefs++];
        out->is_tag = refs[i].kind == IC_REF_TAG;
        out->name = refs[i].name; /* taken from the list */
        refs[i].name = NULL;
        memcpy(out->snapshot_id, refs[i].snapshot_id, FLOE_SNAPSHOT_ID_SIZE);
    }
    ic_ref_list_free(&refs, n);
    return NULL;
}

static floe_err copy_history(floe_dataset *ds, floe_versions *v)
{
    ic_snapshot_info *h;
    size_t n;
    FLOE_CHECK(ic_repo_ancestry(ds->repo, ds->snapshot_id, &h, &n));
    v->history = calloc(n ? n : 1, sizeof *v->history);
    if (!v->history) {
        ic_snapshot_info_list_free(&h, n);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        floe_version_snapshot *out = &v->history[v->nhistory++];
        memcpy(out->id, h[i].id, FLOE_SNAPSHOT_ID_SIZE);
        ic_format_time(h[i].flushed_at, out->time, sizeof out->time);
        out->message = h[i].message; /* taken from the list */
        h[i].message = NULL;
    }
    ic_snapshot_info_list_free(&h, n);
    return NULL;
}

floe_err floe_dataset_versions(floe_dataset *ds, floe_versions *out)
{
    memset(out, 0, sizeof *out);
    FLOE_CHECK(copy_refs(ds->repo, out), "refs of %s", ds->repository);
    FLOE_CHECK(copy_history(ds, out));
    return NULL;
}
