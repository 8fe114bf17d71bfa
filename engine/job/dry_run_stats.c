/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/dry_run_stats.c - `stats`/`climatology --dry-run` (and
 * `extract --resample`): the stats job's plan (stats.c prepare: tiles,
 * groups, the split over ranks) replayed batch by batch as
 * stats_compute.c reads it, on one simulated fetcher per rank, and the
 * memory its units need. The same replay, a piece's units shared out as
 * stats_ckpt_compute does, makes a run's ref tables (stats_share_refs). */
#include "engine/job/dry_run.h"
#include "engine/job/stats_internal.h"

#include <stdlib.h>

/* Accumulators a group's tree holds at once: its open block and the
 * merged nodes of the blocks before it (about log2 of the blocks its
 * steps fall in, engine/reduce/accum.h); a group without steps in a block
 * allocates nothing for it. */
static size_t live_accumulators(const stats_job *j, size_t g, size_t s0, size_t s1)
{
    size_t blocks = 0, last = SIZE_MAX;
    for (size_t s = s0; s < s1; s++) {
        size_t gs = j->group_of_step ? j->group_of_step[s] : 0;
        size_t b = s / j->plan.block_steps;
        if (gs == g && b != last)
            blocks++, last = b;
    }
    size_t lg = 0;
    while (((size_t)1 << lg) < blocks + 1)
        lg++;
    return blocks ? 1 + lg : 0;
}

/* The memory of computing variable v over one tile of `cells` cells,
 * steps [s0, s1), beyond the fetcher's: the batch of values, every
 * group's tree, the statistics, the kept values of percentiles, the
 * climatology of --anomaly-from, the encoded output chunks. */
static uint64_t unit_memory(const stats_job *j, size_t v, size_t cells, size_t s0, size_t s1)
{
    const floe_array *v0 = j->g.vars[0];
    uint64_t tcells = v0->chunk_shape[1] * v0->chunk_shape[2];
    uint64_t m = BATCH_STEPS * tcells * stats_esize_max(j, 0);
    size_t acc = floe_accum_cell_bytes(stats_accum_mask(j, v));
    for (size_t g = 0; g < j->ngroups; g++)
        m += (uint64_t)live_accumulators(j, g, s0, s1) * acc * cells;
    uint64_t results = (uint64_t)j->ngroups * j->nstat * cells * stats_esize(j, v);
    m += results + stats_pctl_cell_bytes(j, v) * cells;
    if (j->anom.path)
        m += (uint64_t)j->anom.png * sizeof(double) * cells;
    if (j->raw_chunks) /* at most as large as the values */
        m += results;
    return m;
}

/* Replay accumulate()'s reads of tile t, steps [s0, s1). */
static floe_err plan_tile(stats_job *j, job_dry_rank *r, size_t v, size_t i, size_t s0,
                          size_t s1, const stats_next *nx)
{
    const stats_tile *t = &j->plan.tiles[i];
    uint64_t coords[3 * BATCH_STEPS];
    size_t window = stats_ahead_window(j, v);
    uint64_t *next = malloc(3 * window * sizeof *next);
    if (!next)
        return FLOE_ERR(FLOE_ENOMEM, "%zu chunk coordinates to read ahead", window);
    floe_err err = NULL;
    for (size_t b0 = s0; b0 < s1 && !err; b0 += BATCH_STEPS) {
        size_t b1 = b0 + BATCH_STEPS < s1 ? b0 + BATCH_STEPS : s1;
        size_t n = stats_batch_coords(j, t, b0, b1, coords);
        size_t nnext = stats_ahead_coords(j, i, b1, s1, nx, window, next);
        err = floe_dataset_plan_chunks(j->ds, &r->reads, j->g.vars[v], coords, n, next, nnext);
    }
    free(next);
    return err;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Rank `rank`'s reads (of nranks) and the memory its units need. */
static floe_err plan_rank(stats_job *j, int nranks, int rank, job_dry_rank *r)
{
    if (j->plan.time_split) {
        size_t s0, s1;
        stats_plan_rank_steps(&j->plan, rank, &s0, &s1);
        uint64_t partials = 0;
        for (size_t v = 0; v < j->g.nvars; v++)
            for (size_t i = 0; s1 > s0 && i < j->plan.ntiles; i++) {
                const stats_tile *t = &j->plan.tiles[i];
                size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
                stats_next nx = {STATS_NEXT_ALL, s0, s1};
                FLOE_CHECK(plan_tile(j, r, v, i, s0, s1, &nx));
                r->work_memory = max64(r->work_memory, partials +
                                       unit_memory(j, v, cells, s0, s1));
                /* kept serialized until sent: about its trees */
                for (size_t g = 0; g < j->ngroups; g++)
                    partials += (uint64_t)live_accumulators(j, g, s0, s1) *
                                floe_accum_cell_bytes(stats_accum_mask(j, v)) * cells;
            }
        return NULL;
    }
    size_t n = stats_unit_count(j, rank);
    for (size_t k = 0; k < n; k++) {
        size_t v = 0, i = 0;
        stats_unit_at(j, rank, k, &v, &i);
        const stats_tile *t = &j->plan.tiles[i];
        size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
        stats_next nx = {rank, 0, j->g.count[0]};
        FLOE_CHECK(plan_tile(j, r, v, i, 0, j->g.count[0], &nx));
        uint64_t m = unit_memory(j, v, cells, 0, j->g.count[0]);
        /* a unit received from another rank (raw chunks: compressed, small) */
        if (rank == 0 && nranks > 1 && !j->raw_chunks)
            m += (uint64_t)j->ngroups * j->nstat * cells * stats_esize(j, v);
        r->work_memory = max64(r->work_memory, m);
    }
    return NULL;
}

/* Rank 0 plans every rank; the others wait in the agreement. */
static floe_err plan_ranks(stats_job *j, job_dry_run *d)
{
    for (int rank = 0; rank < d->nranks; rank++)
        FLOE_CHECK(plan_rank(j, d->nranks, rank, &d->ranks[rank]));
    return NULL;
}

/* job_dry_replay's context: the stats job on nranks ranks. */
typedef struct stats_replay {
    stats_job *j;
    int nranks;
} stats_replay;

/* job_dry_replay: rank `rank`'s reads in the run: a piece's ranks take
 * its units in turn (stats_ckpt_compute); a merge reads none; otherwise
 * the plan's shares (a checkpoint reads some of them). */
static floe_err replay_rank(void *ctx, int rank, job_dry_rank *r)
{
    const stats_replay *x = ctx;
    stats_job *j = x->j;
    if (j->ckpt.mode == JOB_CKPT_MERGE)
        return NULL;
    if (j->ckpt.mode != JOB_CKPT_PIECE)
        return plan_rank(j, x->nranks, rank, r);
    size_t s0, s1, v0, v1, k = 0;
    stats_ckpt_piece_share(j, &s0, &s1, &v0, &v1);
    stats_next none = {STATS_NEXT_NONE, 0, 0}; /* a piece's tiles: dealt in turn */
    for (size_t v = v0; v < v1; v++)
        for (size_t i = 0; i < j->plan.ntiles; i++, k++)
            if (s0 < s1 && k % (size_t)x->nranks == (size_t)rank)
                FLOE_CHECK(plan_tile(j, r, v, i, s0, s1, &none));
    return NULL;
}

floe_err stats_share_refs(stats_job *j, const floe_mpi *mpi)
{
    stats_replay x = {j, mpi->size};
    return job_dry_share_refs(mpi, j->ds, replay_rank, &x); /* collective */
}

floe_err stats_dry_run(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req)
{
    job_dry_run d;
    floe_err err = job_dry_run_init(&d, req->climatology ? "climatology"
                                        : req->resample ? "extract" : "stats",
                                    &j->g, j->plan.nranks);
    if (!err && (req->job.dry_run ? mpi->rank == 0 : job_dry_summary_wanted(mpi, &req->job))) {
        err = plan_ranks(j, &d);
        d.max_pieces = j->plan.nblocks; /* pieces cut on blocks (stats_checkpoint.c) */
        size_t written = 0;
        for (size_t g = 0; g < j->ngroups; g++)
            written += (size_t)stats_group_written(j, g);
        for (size_t v = 0; v < j->g.nvars; v++)
            d.output_bytes += (uint64_t)written * j->nstat * j->g.count[1] * j->g.count[2] *
                              stats_esize(j, v);
    }
    if (!req->job.dry_run) {
        if (!err && job_dry_summary_wanted(mpi, &req->job))
            job_dry_summary_print(j->ds, &d);
        job_dry_run_free(&d);
        floe_err_free(&err); /* a summary that cannot be made is not the run's failure */
        return NULL;
    }
    err = job_dry_run_end(mpi, &req->job, j->ds, &d, err); /* collective */
    job_dry_run_free(&d);
    return err;
}
