/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats.c - the stats job (see stats.h), `floe stats` and
 * `floe climatology`: per-cell temporal
 * statistics over a time range, or per group of steps (month, season, day
 * of year), under MPI (engine/plan/stats_plan.h says how the work is split).
 * `stats` is the case of one group holding every step.
 *
 * Phases, each closed by a collective error agreement so that a failure on
 * one rank never leaves the others waiting in a receive:
 *   1. every rank opens the dataset and makes the same plan;
 *   2. time-split: every rank computes its share of every tile's time
 *      range, without communication (stats_compute.c);
 *   3. rank 0 writes the file, the tiles in index order whatever the plan
 *      and the rank count (so the file's bytes do not depend on them):
 *      space-major, every rank computing its tiles (dealt in turn) in
 *      that order and rank 0 writing its own and receiving the others'
 *      (write_space_major); time-split, absorbing the partial accumulators
 *      in rank = time order (stats_write.c); into a temporary, and the
 *      derived STAC Item of it;
 *   4. once every rank agreed, rank 0 commits the data, the Item and the
 *      report together (engine/job/outputs.h).
 * Values equal to _FillValue/missing_value are skipped; a cell with no
 * valid value is missing in every statistic but count (0).
 */
#include "engine/job/stats.h"
#include "engine/job/output_format.h"
#include "engine/job/selection_note.h"
#include "engine/job/stats_internal.h"

#include "common/floe_log.h"
#include "engine/job/report.h"
#include "engine/job/stat_types.h"
#include "engine/mpi/dataset_collective.h"
#include "engine/plan/time_select.h"
#include "out/grid_output.h"

#include <stdlib.h>
#include <string.h>

/* Memory for one tile's accumulators and statistics per rank, unless the
 * request says otherwise; tiles whose cells need more are cut into bands
 * of rows (engine/plan/stats_plan.h). */
#define TILE_MEMORY ((size_t)1 << 30)

static void job_free(stats_job *j)
{
    size_t n = j->g.nvars * j->plan.ntiles * j->ngroups;
    for (size_t i = 0; i < n && j->partials; i++)
        free(j->partials[i]);
    free(j->partials);
    free(j->partial_size);
    free(j->pctl_first);
    free(j->pctl_rank);
    floe_buf_free(&j->partial_in);
    floe_collector_free(&j->collector);
    stats_place_free(&j->place);
    job_outputs_free(&j->outputs);
    floe_clim_groups_free(&j->groups);
    floe_resample_periods_free(&j->periods);
    job_anomaly_free(&j->anom);
    stats_plan_free(&j->plan);
    floe_grid_select_free(&j->g);
    floe_dataset_free(&j->ds);
    job_ckpt_free(&j->ckpt);
}

/* --resample: a group per calendar period of the selected steps, each step
 * by its interval's middle (resample_periods.h); the same trees and merge
 * as a climatology's groups, so the bytes do not depend on the rank count. */
static floe_err stats_resample_groups(stats_job *j, const char *by_text)
{
    floe_resample_by by;
    FLOE_CHECK(floe_resample_by_parse(by_text, &by));
    if (!j->g.ti) { /* the axis could not be decoded: say why */
        FLOE_CHECK(floe_time_units(j->g.time, &j->tunits), "resampling by %s", by_text);
        return FLOE_ERR(FLOE_EFORMAT, "resampling by %s: time coordinate %s has values that "
                        "are not CF times", by_text, j->g.time->name);
    }
    j->tunits = j->g.tunits;
    FLOE_CHECK(floe_resample_periods_build(&j->periods, by, j->tunits.calendar,
                                           j->g.ti + j->g.start[0], j->g.count[0]),
               "resampling by %s", by_text);
    j->ngroups = j->periods.nperiods;
    j->group_of_step = j->periods.period_of_step;
    return NULL;
}

/* Phase 1, COLLECTIVE (the dataset is opened once for the job and
 * shared): open, check, select, plan. */
static floe_err prepare(const floe_stats_request *req, const floe_mpi *mpi, stats_job *j)
{
    FLOE_CHECK(floe_stat_parse_list_pctl(req->stat ? req->stat
                                         : req->climatology ? "mean,std,count" : "mean",
                                         FLOE_STAT_ALL, &j->stats, &j->pctl),
               "--stat");
    for (unsigned b = 0; b < 6; b++)
        if (j->stats & (1u << b))
            j->stat_list[j->nstat++] = 1u << b;
    for (size_t k = 0; k < j->pctl.n; k++) /* after them, ascending */
        j->stat_list[j->nstat++] = STATS_PCTL_BIT + (unsigned)k;
    floe_open_request open = req->job.open;
    open.arrays = req->job.vars; /* only their manifests (and their coordinates') */
    FLOE_CHECK(floe_dataset_open_collective(mpi, &open, &j->ds), "%s", /* collective */
               req->job.open.source);
    floe_time_label label;
    FLOE_CHECK(floe_time_label_parse(req->job.time_label, "--time-label", &label));
    FLOE_CHECK(floe_grid_select_make(j->ds, req->job.vars, req->job.bbox, req->job.time, label,
                                     &j->g));
    job_selection_note(mpi, &req->job, &j->g);
    if (j->g.nvars > MAX_VARS)
        return FLOE_ERR(FLOE_EINVAL, "too many variables (at most %d)", MAX_VARS);
    for (size_t v = 0; v < j->g.nvars; v++) {
        const floe_array *x = j->g.vars[v];
        /* Tiles follow the chunk grid, which all variables must share. */
        if (memcmp(x->chunk_shape, j->g.vars[0]->chunk_shape, sizeof x->chunk_shape))
            return FLOE_ERR(FLOE_EINVAL, "variables %s and %s differ in chunks",
                            j->g.vars[0]->name, x->name);
        FLOE_CHECK(cf_decoder_init(&j->cf[v], x->attributes, (zarr_dtype)x->dtype,
                                   CF_MASK_ZARR_FILL, x->fill_raw),
                   "variable %s", x->name);
        job_stat_types(&j->cf[v], x, &j->in64[v], &j->out64[v]);
    }
    FLOE_CHECK(job_anomaly_prepare(&j->anom, req->job.anomaly_from, &j->g, 1));
    j->ngroups = 1;
    if (req->climatology) {
        floe_clim_by by;
        FLOE_CHECK(floe_clim_by_parse(req->by, &by), "--by");
        if (!j->g.ti) { /* the axis could not be decoded: say why */
            FLOE_CHECK(floe_time_units(j->g.time, &j->tunits), "grouping by %s", req->by);
            return FLOE_ERR(FLOE_EFORMAT, "grouping by %s: time coordinate %s has values that "
                            "are not CF times", req->by, j->g.time->name);
        }
        j->tunits = j->g.tunits;
        /* each step by its interval's middle (time_intervals.h) */
        FLOE_CHECK(floe_clim_groups_build_intervals(&j->groups, by, j->tunits.calendar,
                                                    j->g.ti + j->g.start[0], j->g.count[0]),
                   "grouping by %s", req->by);
        j->ngroups = j->groups.ngroups;
        j->group_of_step = j->groups.group_of_step;
    } else if (req->resample) {
        FLOE_CHECK(stats_resample_groups(j, req->resample));
    } else {
        FLOE_CHECK(floe_time_units(j->g.time, &j->tunits));
    }
    FLOE_CHECK(stats_pctl_prepare(j));
    /* A tile's accumulators (every group's tree: its block and about
     * log2(blocks) nodes) and results must fit TILE_MEMORY, for the
     * variable that needs most (float64 statistics: double min/max and
     * results). */
    size_t nblocks = (j->g.count[0] + FLOE_ACCUM_BLOCK_STEPS - 1) / FLOE_ACCUM_BLOCK_STEPS, lg = 0;
    while (((size_t)1 << lg) < nblocks + 1)
        lg++;
    size_t per_cell = 0;
    for (size_t v = 0; v < j->g.nvars; v++) {
        size_t need = j->ngroups * (floe_accum_cell_bytes(stats_accum_mask(j, v)) * (2 + lg) +
                                    j->nstat * stats_esize(j, v)) +
                      stats_pctl_cell_bytes(j, v); /* every value, once */
        per_cell = need > per_cell ? need : per_cell;
    }
    /* --anomaly-from: a tile's box of the climatology, for the groups its
     * steps use (engine/job/anomaly.h; double at most) */
    if (j->anom.path)
        per_cell += j->anom.png * sizeof(double);
    const floe_array *v0 = j->g.vars[0];
    /* Percentiles keep every value: a tile cannot be narrower than a row. */
    size_t row = (size_t)(v0->chunk_shape[2] < j->g.count[2] ? v0->chunk_shape[2] : j->g.count[2]);
    if (j->pctl.n && per_cell * row > j->tile_memory)
        return FLOE_ERR(FLOE_ENOMEM, "percentiles keep every value of a tile: one row of %zu "
                        "cells x %zu steps needs %zu bytes, more than the tile memory of %zu "
                        "bytes (FLOE_TILE_MEMORY)", row, j->g.count[0], per_cell * row,
                        j->tile_memory);
    FLOE_CHECK(stats_plan_make(j->g.start[1], j->g.count[1], j->g.start[2], j->g.count[2],
                               v0->chunk_shape[1], v0->chunk_shape[2], j->g.count[0],
                               req->job.dry_run && req->job.dry_run_ranks ? req->job.dry_run_ranks
                                                                          : mpi->size,
                               j->tile_memory / per_cell, &j->plan));
    if (j->pctl.n) /* whole tiles on one rank (stats_percentile.c) */
        stats_plan_space_major(&j->plan);
    cf_grid_chunk_shape(v0, j->g.count[1], j->g.count[2], &j->cy, &j->cx);
    /* time-split too: rank 0 then encodes them itself, the same bytes */
    j->raw_chunks = j->raw_allowed;
    for (size_t i = 0; i < j->plan.ntiles && j->raw_chunks; i++) {
        const stats_tile *t = &j->plan.tiles[i];
        j->raw_chunks = t->y0 % j->cy == 0 && t->x0 % j->cx == 0 &&
                        (t->y1 - t->y0 == j->cy || t->y1 == j->g.count[1]) &&
                        (t->x1 - t->x0 == j->cx || t->x1 == j->g.count[2]);
    }
    size_t n = j->g.nvars * j->plan.ntiles * j->ngroups;
    j->partials = calloc(n, sizeof *j->partials);
    j->partial_size = calloc(n, sizeof *j->partial_size);
    if (!j->partials || !j->partial_size)
        return FLOE_ERR(FLOE_ENOMEM, "stats bookkeeping");
    /* No cap of its own: the sender holds the same bytes in memory. */
    floe_buf_init(&j->partial_in, SIZE_MAX - 1);
    /* before the agreement: once the others send, rank 0 must receive */
    if (mpi->rank == 0)
        FLOE_CHECK(floe_collector_init(&j->collector, mpi));
    return NULL;
}

/* The chunks `rank` of `nranks` reads in phase 2 (for the progress line);
 * a piece's share as stats_ckpt_compute takes it (its steps of its
 * variables, every nranks-th tile). */
static uint64_t chunks_of_rank(const stats_job *j, int rank, int nranks)
{
    size_t s0 = 0, s1 = j->g.count[0], v0 = 0, v1 = j->g.nvars;
    int piece = j->ckpt.mode == JOB_CKPT_PIECE;
    if (piece) {
        stats_ckpt_piece_share(j, &s0, &s1, &v0, &v1);
    } else if (j->plan.time_split) {
        stats_plan_rank_steps(&j->plan, rank, &s0, &s1);
    }
    if (s1 <= s0)
        return 0;
    uint64_t ct = j->g.vars[0]->chunk_shape[0];
    uint64_t rows = (j->g.start[0] + s1 - 1) / ct - (j->g.start[0] + s0) / ct + 1, tiles = 0;
    if (piece) {
        size_t units = j->plan.ntiles * (v1 - v0);
        return rows * (units / (size_t)nranks + ((size_t)rank < units % (size_t)nranks));
    }
    for (size_t i = 0; i < j->plan.ntiles; i++)
        tiles += j->plan.time_split || j->plan.tiles[i].owner == rank;
    return rows * tiles * j->g.nvars;
}

floe_err floe_stats_run(const floe_mpi *mpi, const floe_stats_request *req)
{
    double t_start = job_now();
    stats_job j;
    memset(&j, 0, sizeof j);
    /* The tuning settings as rank 0 has them: on a cluster the other ranks'
     * environment (where the CLI takes them from) may differ, and they must
     * all make the same plan. */
    uint64_t settings[2] = {req->tile_memory ? req->tile_memory : TILE_MEMORY,
                            req->no_raw_chunks == 0};
    floe_err err = NULL;
    if (mpi->comm != MPI_COMM_NULL) /* collective */
        err = FLOE_CHECK_MPI(MPI_Bcast(settings, 2, MPI_UINT64_T, 0, mpi->comm),
                             "rank 0's tile memory and raw-chunk settings");
    j.tile_memory = (size_t)settings[0];
    j.raw_allowed = settings[1] != 0;
    /* The outputs' paths are checked before anything is fetched (agreed,
     * so every rank skips the rest alike); every rank takes part in the
     * collective open, whatever happened above. */
    floe_err perr = job_outputs_plan(mpi, &req->job, NULL, 0, &j.outputs); /* collective */
    job_output_format fmt;
    if (!perr) /* the same answer on every rank */
        perr = job_output_format_of(req->climatology ? "climatology" : "stats", req->job.output,
                                    &fmt);
    if (!perr) {
        perr = prepare(req, mpi, &j); /* collective */
        floe_err cerr = job_outputs_check_sources(mpi, &req->job, /* collective */
                                                  err || perr ? NULL : j.ds, NULL, 0, &j.outputs);
        if (!perr)
            perr = cerr;
        else
            floe_err_free(&cerr);
    }
    if (!err)
        err = perr;
    else
        floe_err_free(&perr);
    int failed = floe_mpi_agree(mpi->comm, &err) != NULL; /* collective */
    if (!failed) /* --dry-run: the plan, collective; else the short summary, rank 0 */
        err = stats_dry_run(&j, mpi, req);
    if (!failed && !err && !req->job.dry_run) /* the result above is agreed */
        err = stats_ckpt_open(&j, mpi, req); /* collective: --checkpoint, --resume, --piece */
    if (!failed && !err && !req->job.dry_run) /* each rank's refs, before anyone reads */
        err = stats_share_refs(&j, mpi); /* collective, agreed */
    floe_err place_err = NULL; /* agreed with phase 2's result */
    if (!failed && !err && !req->job.dry_run)
        place_err = stats_place_decide(&j, mpi, req); /* collective */
    if (!failed && !err && !req->job.dry_run) {
        FLOE_INFO0("stats: %zu variable(s) x %zu stat(s), %zu steps x %zu x %zu cells, %zu "
                   "tiles, %s on %d rank(s) x %d thread(s), %s", j.g.nvars, j.nstat,
                   j.g.count[0], j.g.count[1], j.g.count[2], j.plan.ntiles,
                   j.plan.time_split ? "time-split" : "space-major", mpi->size,
                   floe_pool_workers(floe_dataset_pool(j.ds)),
                   !j.raw_chunks       ? "rank 0 compresses the output"
                   : j.plan.time_split ? "rank 0 encodes the output chunks"
                   : j.place.on        ? "every rank compresses and writes its tiles' output "
                                         "chunks"
                                       : "every rank compresses its tiles' output chunks");
        job_progress_start(&j.progress, req->climatology ? "floe climatology" : "floe stats",
                           j.ds, mpi, chunks_of_rank(&j, mpi->rank, mpi->size), /* collective */
                           !req->job.quiet && j.ckpt.mode != JOB_CKPT_MERGE, /* merge reads none */
                           req->job.progress_interval);
        int piece = j.ckpt.mode == JOB_CKPT_PIECE; /* no output: its units are its result */
        err = place_err                    ? place_err
              : j.ckpt.mode != JOB_CKPT_NONE ? stats_ckpt_compute(&j, mpi)
                                             : stats_compute_shares(&j, mpi->rank);
        if (!floe_mpi_agree(mpi->comm, &err) && !piece) { /* collective */
            if (mpi->rank == 0)
                err = stats_write_output(&j, mpi, req);
            else if (j.ckpt.mode == JOB_CKPT_NONE) /* else rank 0 reads the store */
                err = stats_send_share(&j, mpi);
            if (j.place.on && mpi->rank != 0) /* collective: the ranks write their chunks
                                                * into the file (rank 0 joins in
                                                * stats_write_output, before the Item) */
                err = stats_place_write(&j.place, mpi, NULL, req->job.output, err);
            job_progress_end(&j.progress, err != NULL); /* collective */
            if (!floe_mpi_agree(mpi->comm, &err) && req->job.report) /* collective */
                err = job_report_write(mpi, j.ds, req->job.report, /* collective */
                                       req->climatology ? "climatology" : "stats",
                                       req->job.command, t_start,
                                       &j.outputs.tmp[JOB_OUT_REPORT]);
        }
        if (piece)
            floe_mpi_agree(mpi->comm, &err); /* collective */
        else
            err = job_outputs_commit(mpi, &j.outputs, err); /* collective */
        err = job_ckpt_finish(mpi, &j.ckpt, err); /* collective */
    }
    /* collective; a no-op when ended above or never started */
    job_progress_end(&j.progress, err != NULL);
    job_free(&j);
    return err;
}
