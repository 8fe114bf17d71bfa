/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series_checkpoint.c - what of a series request its checkpoint
 * must match (engine/job/step_checkpoint.h): the series' own fields, and
 * the points or regions file by its contents (the same name holding other
 * stations is another request), so a store of another request is refused. */
#include "engine/job/series_internal.h"

#include "out/checkpoint_store.h"

#include <stdlib.h>

/* The contents' hash of a local file, or "" without one. */
static floe_err file_hash(const char *path, char out[17])
{
    if (!path) {
        out[0] = '\0'; /* written empty */
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FLOE_CHECK(series_read_file(path, &text, &len));
    floe_ckpt_hash_hex(text, len, out);
    free(text);
    return NULL;
}

floe_err series_ckpt_open(series_job *j, const floe_mpi *mpi, const floe_series_request *req)
{
    char points[17], region[17];
    floe_err err = file_hash(req->points, points);
    if (!err)
        err = file_hash(req->region, region);
    const char *extra[] = {"points", points, "method", req->method, "region", region,
                           "region_id", req->region_id, "stat", req->stat,
                           "weights", req->weights, "resample", req->resample,
                           "resample_stat", req->resample_stat, NULL};
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        return err;
    return job_step_ckpt_open(mpi, &req->job, "series", "s", extra, /* collective */
                              floe_dataset_provenance(j->ds)->snapshot_id, j->g.start[0],
                              j->g.count[0], j->g.vars[0]->chunk_shape[0], j->g.nvars,
                              &j->ck);
}
