/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series.c - the series job (see series.h): time series at
 * points (nearest cell or bilinear) or of a region's area-weighted
 * statistics, under MPI (engine/plan/series_plan.h: ranks split the time
 * steps; each step is computed whole by one rank, so the bits do not
 * depend on the rank count).
 *
 * Phases, each closed by a collective error agreement:
 *   1. every rank opens the dataset and makes the same plan (points located
 *      here, or the regions' weighted cells and tiles: series_regions.c);
 *   2. every rank computes its steps (series_compute.c);
 *   3. rank 0 writes its steps and then each other rank's, in rank order,
 *      into a temporary, and the derived STAC Item of it (series_write.c);
 *   4. once every rank agreed, rank 0 commits the data, the Item and the
 *      report together (engine/job/outputs.h).
 */
#include "engine/job/series.h"
#include "engine/job/output_format.h"
#include "engine/job/selection_note.h"
#include "engine/job/series_internal.h"

#include "common/floe_buf.h"
#include "common/floe_log.h"
#include "engine/job/report.h"
#include "engine/job/stat_types.h"
#include "engine/mpi/dataset_collective.h"
#include "engine/plan/selection.h"
#include "engine/reduce/accum.h"
#include "engine/reduce/area_weights.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Points and region files larger than this are refused (64 MiB). */
#define MAX_INPUT_FILE ((size_t)64 << 20)

/* A whole local file, NUL-terminated (caller frees). */
floe_err series_read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return FLOE_ERR(FLOE_ENOTFOUND, "%s: cannot open: %s", path, strerror(errno));
    floe_buf b;
    floe_buf_init(&b, MAX_INPUT_FILE);
    floe_err err = NULL;
    char chunk[65536];
    size_t n;
    while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        err = floe_buf_append(&b, chunk, n);
    if (!err && ferror(f))
        err = FLOE_ERR(FLOE_EIO, "%s: read error", path);
    if (!err)
        err = floe_buf_append(&b, "", 1);
    fclose(f);
    if (err) {
        floe_buf_free(&b);
        return floe_err_push(err, __FILE__, __LINE__, " %s", path);
    }
    *text = (char *)floe_buf_take(&b, len);
    (*len)--;
    return NULL;
}

static void job_free(series_job *j)
{
    free(j->outside);
    region_cells_free(&j->rc);
    floe_region_set_free(&j->regions);
    free(j->pw);
    free(j->results);
    floe_collector_free(&j->collector);
    job_outputs_free(&j->outputs);
    floe_points_free(&j->pts);
    floe_resample_periods_free(&j->periods);
    job_anomaly_free(&j->anom);
    series_plan_free(&j->plan);
    floe_grid_select_free(&j->g);
    job_step_ckpt_free(&j->ck);
    floe_dataset_free(&j->ds);
}

/* The points and where they fall. A point outside the grid gets a missing
 * series and one warning line (on rank 0) naming it; every point outside
 * is an error (nothing to compute: likely the wrong file or dataset). */
static floe_err prepare_points(const floe_series_request *req, int rank, series_job *j)
{
    char *text = NULL;
    size_t len = 0;
    FLOE_CHECK(series_read_file(req->points, &text, &len), "--points");
    floe_err err = floe_points_parse_csv(text, len, req->points, &j->pts);
    free(text);
    FLOE_CHECK(err);
    if (req->method)
        FLOE_CHECK(floe_interp_parse(req->method, &j->interp), "--method");
    j->pw = calloc(j->pts.n, sizeof *j->pw);
    j->outside = calloc(j->pts.n, 1);
    if (!j->pw || !j->outside)
        return FLOE_ERR(FLOE_ENOMEM, "%zu points", j->pts.n);
    const floe_grid_select *g = &j->g;
    size_t first_in = j->pts.n, nout = 0;
    floe_err first_out = NULL;
    for (size_t p = 0; p < j->pts.n; p++) {
        err = floe_point_locate(&j->pts.p[p], j->interp, g->yv, g->lat->shape[0], g->xv,
                                g->lon->shape[0], &j->pw[p]);
        if (err && floe_err_code(err) == FLOE_EINVAL) { /* outside the grid */
            j->outside[p] = 1;
            nout++;
            if (!first_out)
                first_out = err;
            else
                floe_err_free(&err);
            continue;
        }
        if (err) {
            floe_err_free(&first_out);
            return floe_err_push(err, __FILE__, __LINE__, " %s", req->points);
        }
        if (first_in == j->pts.n)
            first_in = p;
    }
    if (nout == j->pts.n)
        return floe_err_push(first_out, __FILE__, __LINE__,
                             " %s: every point is outside the grid", req->points);
    floe_err_free(&first_out);
    for (size_t p = 0; p < j->pts.n && rank == 0; p++)
        if (j->outside[p]) { /* the same message again, as a warning */
            floe_point_weights unused;
            err = floe_point_locate(&j->pts.p[p], j->interp, g->yv, g->lat->shape[0], g->xv,
                                    g->lon->shape[0], &unused);
            FLOE_WARN("%s: %s: its series is missing", req->points,
                      err ? floe_err_message(err) : "?");
            floe_err_free(&err);
        }
    /* an outside point reads an inside point's cells with no weight: NaN,
     * written as missing (floe_point_interpolate_f64) */
    for (size_t p = 0; p < j->pts.n; p++)
        if (j->outside[p]) {
            j->pw[p] = j->pw[first_in];
            memset(j->pw[p].w, 0, sizeof j->pw[p].w);
        }
    const floe_array *v0 = g->vars[0];
    FLOE_CHECK(series_plan_points(j->pw, j->pts.n, v0->chunk_shape[1], v0->chunk_shape[2],
                                  &j->plan));
    j->nst = j->pts.n;
    return NULL;
}

/* Phase 1, on every rank (COLLECTIVE: the dataset is opened once for the
 * job and shared). */
static floe_err prepare(const floe_series_request *req, const floe_mpi *mpi, series_job *j)
{
    floe_open_request open = req->job.open;
    open.arrays = req->job.vars; /* only their manifests (and their coordinates') */
    floe_err err = floe_dataset_open_collective(mpi, &open, &j->ds);
    FLOE_CHECK(err, "%s", req->job.open.source);
    if (req->region)
        FLOE_CHECK(series_read_regions(req, j));
    /* Points and regions read anywhere on the grid: select every cell, the
     * time box (a region's cells are found on the whole grid,
     * engine/plan/region_cells.h). */
    floe_time_label label = FLOE_TIME_LABEL_AUTO;
    err = floe_time_label_parse(req->job.time_label, "--time-label", &label);
    if (!err)
        err = floe_grid_select_make(j->ds, req->job.vars,
                                    req->points || req->region ? NULL : req->job.bbox,
                                    req->job.time, label, &j->g);
    if (!err && !req->points && !req->region) /* a --bbox box */
        job_selection_note(mpi, &req->job, &j->g);
    if (!err && j->g.nvars > MAX_VARS)
        err = FLOE_ERR(FLOE_EINVAL, "too many variables (at most %d)", MAX_VARS);
    for (size_t v = 0; !err && v < j->g.nvars; v++) {
        const floe_array *x = j->g.vars[v];
        if (memcmp(x->chunk_shape, j->g.vars[0]->chunk_shape, sizeof x->chunk_shape))
            err = FLOE_ERR(FLOE_EINVAL, "variables %s and %s differ in chunks",
                           j->g.vars[0]->name, x->name);
        else
            err = cf_decoder_init(&j->cf[v], x->attributes, (zarr_dtype)x->dtype,
                                  CF_MASK_ZARR_FILL, x->fill_raw);
        if (!err)
            job_stat_types(&j->cf[v], x, &j->in64[v], &j->out64[v]);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " variable %s", x->name);
    }
    if (!err)
        err = req->points ? prepare_points(req, mpi->rank, j)
                          : series_prepare_regions(req, mpi->rank, j);
    FLOE_CHECK(err);
    if (req->points)
        job_selection_note_points(mpi, &req->job, &j->g, j->pts.n);
    else if (req->region) { /* the cells the regions weigh, and their box */
        double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        size_t cells = 0;
        for (size_t k = 0; k < j->rc.nregions; k++) {
            cells += j->rc.ncells[k];
            if (!j->rc.ncells[k])
                continue;
            box[0] = fmin(box[0], j->rc.edges[k][0]), box[1] = fmin(box[1], j->rc.edges[k][1]);
            box[2] = fmax(box[2], j->rc.edges[k][2]), box[3] = fmax(box[3], j->rc.edges[k][3]);
        }
        job_selection_note_regions(mpi, &req->job, &j->g, j->rc.nregions, cells, box);
    }
    /* --anomaly-from: the --bbox box, or the cells the points or the
     * GeoJSON regions weigh (their grid selection is the whole grid: the
     * climatology need not cover more than those cells) */
    FLOE_CHECK(job_anomaly_prepare(&j->anom, req->job.anomaly_from, &j->g,
                                   !req->points && !req->region));
    for (size_t i = 0; j->anom.path && req->region && i < j->plan.ntiles; i++) {
        const series_tile *t = &j->plan.tiles[i];
        for (size_t r = t->r0; r < t->r1; r++)
            FLOE_CHECK(job_anomaly_map_cell(&j->anom, &j->g, r, t->c0));
        for (size_t c = t->c0; c < t->c1; c++)
            FLOE_CHECK(job_anomaly_map_cell(&j->anom, &j->g, t->r0, c));
    }
    for (size_t p = 0; j->anom.path && req->points && p < j->pts.n; p++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                if (j->pw[p].w[a][b] != 0)
                    FLOE_CHECK(job_anomaly_map_cell(&j->anom, &j->g, j->pw[p].ilat[a],
                                                    j->pw[p].ilon[b]),
                               "point %s", j->pts.p[p].id);
    if (j->anom.path && req->points) /* the climatology of the points' cells only */
        FLOE_CHECK(job_anomaly_load_points(&j->anom, j->pw, j->pts.n));
    j->anom.cache_bytes = JOB_ANOMALY_CACHE_BYTES; /* tiles come in any order, batch by batch */
    j->nout = req->points ? j->g.nvars : j->g.nvars * j->nstat;
    FLOE_CHECK(series_resample_plan(j, req->resample, req->resample_stat));
    j->res_esize = sizeof(float);
    for (size_t v = 0; v < j->g.nvars; v++)
        if (j->out64[v])
            j->res_esize = sizeof(double);
    /* a count of more cells than float holds whole numbers: kept exact in double */
    if ((j->stats & FLOE_STAT_COUNT) && j->region_cells > (size_t)1 << FLT_MANT_DIG)
        j->res_esize = sizeof(double);
    /* before the agreement: once the others send, rank 0 must receive */
    if (mpi->rank == 0)
        FLOE_CHECK(floe_collector_init(&j->collector, mpi));
    return NULL;
}

/* This rank's steps: of the selection, or of the piece (--piece I/N), and
 * room for their results. */
static floe_err share_steps(series_job *j, const floe_mpi *mpi)
{
    series_rank_steps(j->g.start[0] + j->ck.p0, j->ck.p1 - j->ck.p0,
                      j->g.vars[0]->chunk_shape[0], mpi->size, mpi->rank, &j->s0, &j->s1);
    j->s0 += j->ck.p0, j->s1 += j->ck.p0;
    size_t n = j->nout * (j->s1 - j->s0) * j->nst;
    j->results = malloc((n ? n : 1) * j->res_esize);
    if (!j->results)
        return FLOE_ERR(FLOE_ENOMEM, "series results (%zu values)", n);
    return NULL;
}

floe_err floe_series_run(const floe_mpi *mpi, const floe_series_request *req)
{
    double t_start = job_now();
    series_job j;
    memset(&j, 0, sizeof j);
    /* the files it reads besides the dataset's: never replaced by an output */
    const char *extra[1] = {req->points ? req->points : req->region};
    size_t nextra = extra[0] ? 1 : 0;
    /* The outputs' paths are checked before anything is fetched (agreed,
     * so every rank skips the rest alike). */
    floe_err err = job_outputs_plan(mpi, &req->job, extra, nextra, &j.outputs); /* collective */
    job_output_format fmt;
    if (!err) /* the same answer on every rank; series_write.c asks again */
        err = job_output_format_of("series", req->job.output, &fmt);
    if (!err) {
        err = prepare(req, mpi, &j); /* collective */
        floe_err perr = job_outputs_check_sources(mpi, &req->job, /* collective */
                                                  err ? NULL : j.ds, extra, nextra, &j.outputs);
        if (!err)
            err = perr;
        else
            floe_err_free(&perr);
    }
    int failed = floe_mpi_agree(mpi->comm, &err) != NULL; /* collective */
    if (!failed) /* --dry-run: the plan, collective; else the short summary, rank 0 */
        err = series_dry_run(&j, mpi, req);
    if (!failed && !err && !req->job.dry_run) { /* the result above is agreed */
        err = series_ckpt_open(&j, mpi, req); /* collective, agreed */
        if (!err) {
            err = share_steps(&j, mpi);
            floe_mpi_agree(mpi->comm, &err); /* collective */
        }
        if (!err) /* each rank's refs, before anyone reads */
            err = series_share_refs(&j, mpi); /* collective, agreed */
    }
    if (!failed && !err && !req->job.dry_run) {
        FLOE_INFO0("series: %zu variable(s), %zu %s, %zu steps, %zu tile(s) a step, on %d "
                   "rank(s) x %d thread(s)", j.g.nvars, j.pw ? j.pts.n : j.region_cells,
                   j.pw ? "point(s)" : "cell(s)", j.g.count[0], j.plan.ntiles, mpi->size,
                   floe_pool_workers(floe_dataset_pool(j.ds)));
        uint64_t ct = j.g.vars[0]->chunk_shape[0];
        uint64_t mine = j.s1 > j.s0 ? ((j.g.start[0] + j.s1 - 1) / ct -
                                       (j.g.start[0] + j.s0) / ct + 1) * j.plan.ntiles *
                                          (j.ck.v1 - j.ck.v0)
                                    : 0;
        job_progress_start(&j.progress, "floe series", j.ds, mpi, mine, /* collective */
                           !req->job.quiet && !j.ck.merge, /* merge reads none */
                           req->job.progress_interval);
        err = series_compute(&j);
        job_progress_end(&j.progress, err != NULL); /* collective */
        if (!floe_mpi_agree(mpi->comm, &err) && !j.ck.piece) { /* collective */
            if (mpi->rank == 0)
                err = series_write_output(&j, mpi, req);
            else
                err = series_send_share(&j, mpi);
            if (!floe_mpi_agree(mpi->comm, &err) && req->job.report) /* collective */
                err = job_report_write(mpi, j.ds, req->job.report, "series", /* collective */
                                       req->job.command, t_start,
                                       &j.outputs.tmp[JOB_OUT_REPORT]);
        }
        if (!j.ck.piece) /* a piece commits its units only (job_step_ckpt_finish) */
            err = job_outputs_commit(mpi, &j.outputs, err); /* collective */
        err = job_step_ckpt_finish(mpi, &j.ck, err); /* collective */
    }
    job_free(&j);
    return err;
}
