/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/dry_run_series.c - `series --dry-run`: the series job's
 * batches (series_compute.c) replayed for every rank's steps
 * (series_rank_steps) on one simulated fetcher per rank; memory: a
 * batch's values or partial statistics, and the rank's results (rank 0:
 * everyone's, which it writes). The same replay, over a piece's steps
 * when it is one, makes a run's ref tables (series_share_refs). */
#include "engine/job/dry_run.h"
#include "engine/job/series_internal.h"

#include <stdlib.h>

/* The reads of `rank` over the selected steps [p0, p1) (relative) of
 * variables [v0, v1), as series_compute makes them. */
static floe_err plan_rank(series_job *j, int nranks, int rank, size_t p0, size_t p1, size_t va,
                          size_t vb, job_dry_rank *r)
{
    const floe_array *v0 = j->g.vars[0];
    uint64_t ct = v0->chunk_shape[0];
    size_t s0, s1;
    series_rank_steps(j->g.start[0] + p0, p1 - p0, ct, nranks, rank, &s0, &s1);
    s0 += p0, s1 += p0;
    if (s1 <= s0)
        return NULL;
    size_t per = series_batch_steps(j, ct), maxchunks = (per / ct + 2) * j->plan.ntiles;
    uint64_t *coords = malloc(3 * maxchunks * sizeof *coords);
    uint64_t *next = malloc(3 * maxchunks * sizeof *next);
    floe_err err = coords && next ? NULL : FLOE_ERR(FLOE_ENOMEM, "planning a series batch");
    for (size_t v = va; v < vb && !err; v++)
        for (size_t b0 = s0; b0 < s1 && !err; b0 += per) {
            size_t b1 = b0 + per < s1 ? b0 + per : s1, b2 = b1 + per < s1 ? b1 + per : s1;
            size_t n = series_batch_coords(j, b0, b1, coords);
            size_t nnext = b1 < s1 ? series_batch_coords(j, b1, b2, next) : 0;
            err = floe_dataset_plan_chunks(j->ds, &r->reads, j->g.vars[v], coords, n, next, nnext);
        }
    free(coords);
    free(next);
    uint64_t batch = j->pw ? (uint64_t)per * 4 * j->pts.n * sizeof(double)
                           : (uint64_t)per * j->rc.npairs * sizeof(floe_wstat) +
                                 v0->chunk_shape[1] * v0->chunk_shape[2] * sizeof(double);
    size_t steps = rank == 0 ? j->g.count[0] : s1 - s0;
    r->work_memory = batch + (uint64_t)j->nout * steps * j->nst * j->res_esize;
    return err;
}

/* job_dry_replay's context: the series job on nranks ranks. */
typedef struct series_replay {
    series_job *j;
    int nranks;
} series_replay;

/* job_dry_replay: rank `rank`'s reads of its piece (a merge reads none). */
static floe_err replay_rank(void *ctx, int rank, job_dry_rank *r)
{
    const series_replay *x = ctx;
    series_job *j = x->j;
    return j->ck.merge ? NULL
                       : plan_rank(j, x->nranks, rank, j->ck.p0, j->ck.p1, j->ck.v0, j->ck.v1, r);
}

floe_err series_share_refs(series_job *j, const floe_mpi *mpi)
{
    series_replay x = {j, mpi->size};
    return job_dry_share_refs(mpi, j->ds, replay_rank, &x); /* collective */
}

floe_err series_dry_run(series_job *j, const floe_mpi *mpi, const floe_series_request *req)
{
    const floe_job_request *q = &req->job;
    int nranks = q->dry_run && q->dry_run_ranks ? q->dry_run_ranks : mpi->size;
    job_dry_run d;
    floe_err err = job_dry_run_init(&d, "series", &j->g, nranks);
    if (!err && (q->dry_run ? mpi->rank == 0 : job_dry_summary_wanted(mpi, q))) {
        for (int r = 0; r < nranks && !err; r++)
            err = plan_rank(j, nranks, r, 0, j->g.count[0], 0, j->g.nvars, &d.ranks[r]);
        d.max_pieces = job_dry_time_chunk_rows(&j->g);
        d.output_bytes = (uint64_t)j->nout * j->g.count[0] * j->nst * j->res_esize;
    }
    if (!q->dry_run) {
        if (!err && job_dry_summary_wanted(mpi, q))
            job_dry_summary_print(j->ds, &d);
        job_dry_run_free(&d);
        floe_err_free(&err); /* a summary that cannot be made is not the run's failure */
        return NULL;
    }
    err = job_dry_run_end(mpi, q, j->ds, &d, err); /* collective */
    job_dry_run_free(&d);
    return err;
}
