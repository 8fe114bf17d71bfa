/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series.c - the series job (see series.h): time series at
 * points (nearest cell or bilinear) or of a region's area-weighted
 * statistics, under MPI (engine/plan/series_plan.h: ranks split the time
 * steps; each step is computed whole by one rank, so the bits do not
 * depend on the rank count).
 *
 * Phases, each closed by a collective error agreement:
 *   1. every rank opens the dataset and makes the same plan (points located
 *      or region masked, tiles, cell weights): here;
 *   2. every rank computes its steps (series_compute.c);
 *   3. rank 0 writes its steps and then each other rank's, in rank order,
 *      into a temporary, and the derived STAC Item of it (series_write.c);
 *   4. once every rank agreed, rank 0 commits the data, the Item and the
 *      report together (engine/job/outputs.h).
 */
#include "engine/job/series.h"
#include "engine/job/series_internal.h"

#include "common/floe_buf.h"
#include "common/floe_log.h"
#include "engine/job/report.h"
#include "engine/job/stat_types.h"
#include "engine/mpi/dataset_collective.h"
#include "engine/plan/region_mask.h"
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
static floe_err read_text_file(const char *path, char **text, size_t *len)
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
    if (j->tile_w)
        for (size_t i = 0; i < j->plan.ntiles; i++) {
            free(j->tile_w[i]);
            free(j->tile_m[i]);
        }
    free(j->tile_w);
    free(j->tile_m);
    free(j->mask);
    free(j->pw);
    free(j->results);
    floe_collector_free(&j->collector);
    job_outputs_free(&j->outputs);
    floe_points_free(&j->pts);
    floe_resample_periods_free(&j->periods);
    job_anomaly_free(&j->anom);
    series_plan_free(&j->plan);
    floe_grid_select_free(&j->g);
    floe_dataset_free(&j->ds);
}

static floe_err prepare_points(const floe_series_request *req, series_job *j)
{
    char *text = NULL;
    size_t len = 0;
    FLOE_CHECK(read_text_file(req->points, &text, &len), "--points");
    floe_err err = floe_points_parse_csv(text, len, req->points, &j->pts);
    free(text);
    FLOE_CHECK(err);
    if (req->method)
        FLOE_CHECK(floe_interp_parse(req->method, &j->interp), "--method");
    j->pw = calloc(j->pts.n, sizeof *j->pw);
    if (!j->pw)
        return FLOE_ERR(FLOE_ENOMEM, "%zu points", j->pts.n);
    const floe_grid_select *g = &j->g;
    for (size_t p = 0; p < j->pts.n; p++)
        FLOE_CHECK(floe_point_locate(&j->pts.p[p], j->interp, g->yv, g->lat->shape[0], g->xv,
                                     g->lon->shape[0], &j->pw[p]),
                   "%s", req->points);
    const floe_array *v0 = g->vars[0];
    FLOE_CHECK(series_plan_points(j->pw, j->pts.n, v0->chunk_shape[1], v0->chunk_shape[2],
                                  &j->plan));
    j->nst = j->pts.n;
    return NULL;
}

/* The region's cells within the selected box, their tiles, and per tile
 * the cells' area weights (from the FULL axes: edges depend on the
 * neighbours) and mask. */
static floe_err prepare_region(const floe_series_request *req, const floe_region *region, series_job *j)
{
    FLOE_CHECK(floe_stat_parse_list(req->stat ? req->stat : "mean",
                                    FLOE_STAT_MEAN | FLOE_STAT_MIN | FLOE_STAT_MAX |
                                        FLOE_STAT_SUM | FLOE_STAT_COUNT,
                                    &j->stats),
               "--stat");
    for (unsigned b = 0; b < 6; b++)
        if (j->stats & (1u << b))
            j->stat_list[j->nstat++] = 1u << b;
    const floe_grid_select *g = &j->g;
    size_t ny = g->count[1], nx = g->count[2];
    j->region_cells = ny * nx;
    if (region) {
        j->mask = malloc(ny * nx);
        if (!j->mask)
            return FLOE_ERR(FLOE_ENOMEM, "region mask (%zu cells)", ny * nx);
        FLOE_CHECK(floe_region_mask(region, g->yv + g->start[1], ny, g->xv + g->start[2], nx,
                                    j->mask, &j->region_cells),
                   "%s", req->region);
        if (!j->region_cells)
            return FLOE_ERR(FLOE_EINVAL, "%s: no grid cell centre lies inside the region",
                            req->region);
    }
    if ((j->stats & FLOE_STAT_COUNT) && j->region_cells > SERIES_MAX_COUNT)
        return FLOE_ERR(FLOE_EINVAL, "--stat count: the region holds %zu cells, more than an "
                        "int32 count holds (%d)", j->region_cells, SERIES_MAX_COUNT);
    const floe_array *v0 = g->vars[0];
    FLOE_CHECK(series_plan_region(g->start[1], ny, g->start[2], nx, v0->chunk_shape[1],
                                  v0->chunk_shape[2], j->mask, &j->plan));
    size_t nlat = g->lat->shape[0], nlon = g->lon->shape[0];
    double *latf = malloc(nlat * sizeof *latf), *lonw = malloc(nlon * sizeof *lonw);
    j->tile_w = calloc(j->plan.ntiles, sizeof *j->tile_w);
    j->tile_m = calloc(j->plan.ntiles, sizeof *j->tile_m);
    floe_err err = NULL;
    if (!latf || !lonw || !j->tile_w || !j->tile_m)
        err = FLOE_ERR(FLOE_ENOMEM, "area weights");
    if (!err)
        err = floe_lat_factors(g->yv, nlat, latf);
    if (!err)
        err = floe_lon_widths(g->xv, nlon, lonw);
    for (size_t i = 0; i < j->plan.ntiles && !err; i++) {
        const series_tile *t = &j->plan.tiles[i];
        size_t h = t->r1 - t->r0, w = t->c1 - t->c0;
        j->tile_w[i] = malloc(h * w * sizeof **j->tile_w);
        if (j->mask)
            j->tile_m[i] = malloc(h * w);
        if (!j->tile_w[i] || (j->mask && !j->tile_m[i])) {
            err = FLOE_ERR(FLOE_ENOMEM, "area weights of a tile");
            break;
        }
        for (size_t r = 0; r < h; r++)
            for (size_t c = 0; c < w; c++) {
                j->tile_w[i][r * w + c] = latf[t->r0 + r] * lonw[t->c0 + c];
                if (j->mask)
                    j->tile_m[i][r * w + c] =
                        j->mask[(t->r0 + r - g->start[1]) * nx + (t->c0 + c - g->start[2])];
            }
    }
    /* The edges of the selected cells (for the output's bounds): the box's
     * outer cells' edges, computed like the weights from the full axes. */
    double *ye = malloc((nlat + 1) * sizeof *ye), *xe = malloc((nlon + 1) * sizeof *xe);
    if (!err && (!ye || !xe))
        err = FLOE_ERR(FLOE_ENOMEM, "cell edges");
    if (!err)
        err = floe_cell_edges("lat", g->yv, nlat, ye);
    if (!err)
        err = floe_cell_edges("lon", g->xv, nlon, xe);
    if (!err) {
        double y0 = ye[g->start[1]], y1 = ye[g->start[1] + ny];
        double x0 = xe[g->start[2]], x1 = xe[g->start[2] + nx];
        j->region_edges[0] = x0 < x1 ? x0 : x1, j->region_edges[2] = x0 < x1 ? x1 : x0;
        j->region_edges[1] = y0 < y1 ? y0 : y1, j->region_edges[3] = y0 < y1 ? y1 : y0;
    }
    free(ye);
    free(xe);
    free(latf);
    free(lonw);
    if (region)
        snprintf(j->region_desc, sizeof j->region_desc, "%s", req->region);
    else
        snprintf(j->region_desc, sizeof j->region_desc, "bbox %s", req->job.bbox);
    snprintf(j->region_id, sizeof j->region_id, "%s",
             region ? floe_region_name(region) : j->region_desc);
    j->nst = 1;
    return err;
}

/* Phase 1, on every rank (COLLECTIVE: the dataset is opened once for the
 * job and shared). */
static floe_err prepare(const floe_series_request *req, const floe_mpi *mpi, series_job *j)
{
    floe_open_request open = req->job.open;
    open.arrays = req->job.vars; /* only their manifests (and their coordinates') */
    floe_err err = floe_dataset_open_collective(mpi, &open, &j->ds);
    FLOE_CHECK(err, "%s", req->job.open.source);
    floe_region *region = NULL;
    char bbox_text[256];
    const char *bbox = req->job.bbox;
    if (req->region) {
        char *text = NULL;
        size_t len = 0;
        FLOE_CHECK(read_text_file(req->region, &text, &len), "--region");
        err = floe_region_parse(text, len, req->region, &region);
        free(text);
        FLOE_CHECK(err);
        floe_bbox b = floe_region_bbox(region);
        snprintf(bbox_text, sizeof bbox_text, "%.17g,%.17g,%.17g,%.17g", b.west, b.south,
                 b.east, b.north);
        bbox = bbox_text;
    }
    /* Points read anywhere on the grid: select every cell, the time box. */
    floe_time_label label = FLOE_TIME_LABEL_AUTO;
    err = floe_time_label_parse(req->job.time_label, "--time-label", &label);
    if (!err)
        err = floe_grid_select_make(j->ds, req->job.vars, req->points ? NULL : bbox,
                                    req->job.time, label, &j->g);
    if (err && req->region && floe_err_code(err) == FLOE_EINVAL)
        err = floe_err_push(err, __FILE__, __LINE__, " region %s", req->region);
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
        err = req->points ? prepare_points(req, j) : prepare_region(req, region, j);
    floe_region_free(&region);
    FLOE_CHECK(err);
    /* --anomaly-from: a region's box, or the cells the points weigh */
    FLOE_CHECK(job_anomaly_prepare(&j->anom, req->job.anomaly_from, &j->g, !req->points));
    for (size_t p = 0; j->anom.path && req->points && p < j->pts.n; p++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                if (j->pw[p].w[a][b] != 0)
                    FLOE_CHECK(job_anomaly_map_cell(&j->anom, &j->g, j->pw[p].ilat[a],
                                                    j->pw[p].ilon[b]),
                               "point %s", j->pts.p[p].id);
    j->nout = req->points ? j->g.nvars : j->g.nvars * j->nstat;
    FLOE_CHECK(series_resample_plan(j, req->resample, req->resample_stat));
    series_rank_steps(j->g.start[0], j->g.count[0], j->g.vars[0]->chunk_shape[0], mpi->size,
                      mpi->rank, &j->s0, &j->s1);
    size_t n = j->nout * (j->s1 - j->s0) * j->nst;
    j->res_esize = sizeof(float);
    for (size_t v = 0; v < j->g.nvars; v++)
        if (j->out64[v])
            j->res_esize = sizeof(double);
    /* a count of more cells than float holds whole numbers: kept exact in double */
    if ((j->stats & FLOE_STAT_COUNT) && j->region_cells > (size_t)1 << FLT_MANT_DIG)
        j->res_esize = sizeof(double);
    j->results = malloc((n ? n : 1) * j->res_esize);
    if (!j->results)
        return FLOE_ERR(FLOE_ENOMEM, "series results (%zu values)", n);
    /* before the agreement: once the others send, rank 0 must receive */
    if (mpi->rank == 0)
        FLOE_CHECK(floe_collector_init(&j->collector, mpi));
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
    if (!err) {
        err = prepare(req, mpi, &j); /* collective */
        floe_err perr = job_outputs_check_sources(mpi, &req->job, /* collective */
                                                  err ? NULL : j.ds, extra, nextra, &j.outputs);
        if (!err)
            err = perr;
        else
            floe_err_free(&perr);
    }
    if (!floe_mpi_agree(mpi->comm, &err)) { /* collective */
        FLOE_INFO0("series: %zu variable(s), %zu %s, %zu steps, %zu tile(s) a step, on %d "
                   "rank(s)", j.g.nvars, j.pw ? j.pts.n : j.region_cells,
                   j.pw ? "point(s)" : "cell(s)", j.g.count[0], j.plan.ntiles, mpi->size);
        uint64_t ct = j.g.vars[0]->chunk_shape[0];
        uint64_t mine = j.s1 > j.s0 ? ((j.g.start[0] + j.s1 - 1) / ct -
                                       (j.g.start[0] + j.s0) / ct + 1) * j.plan.ntiles * j.g.nvars
                                    : 0;
        job_progress_start(&j.progress, "floe series", j.ds, mine,
                           mpi->rank == 0 && !req->job.quiet);
        err = series_compute(&j);
        job_progress_end(&j.progress);
        if (!floe_mpi_agree(mpi->comm, &err)) { /* collective */
            if (mpi->rank == 0)
                err = series_write_output(&j, mpi, req);
            else
                err = series_send_share(&j, mpi);
            if (!floe_mpi_agree(mpi->comm, &err) && req->job.report) /* collective */
                err = job_report_write(mpi, j.ds, req->job.report, "series", /* collective */
                                       req->job.command, t_start,
                                       &j.outputs.tmp[JOB_OUT_REPORT]);
        }
        err = job_outputs_commit(mpi, &j.outputs, err); /* collective */
    }
    job_free(&j);
    return err;
}
