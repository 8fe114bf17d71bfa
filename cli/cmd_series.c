/* cli/cmd_series.c - `floe series`: time series at points (nearest cell or
 * bilinear) or of a region's area-weighted statistics, under MPI
 * (engine/plan/series_plan.h: ranks split the time steps; each step is computed
 * whole by one rank, so the bits do not depend on the rank count).
 *
 * Phases, each closed by a collective error agreement:
 *   1. every rank opens the dataset and makes the same plan (points located
 *      or region masked, tiles, cell weights);
 *   2. every rank computes its steps, batch by batch: the batch's chunks
 *      are fetched concurrently and decoded as they arrive; a point takes
 *      its cells' values, a region adds each tile's cells to that tile's
 *      partial statistics, merged in tile order per step;
 *   3. rank 0 writes its steps and then each other rank's, in rank order,
 *      and the derived STAC Item after the commit.
 */
#include "cli/cmd_series.h"

#include "common/floe_log.h"
#include "engine/reduce/accum.h"
#include "engine/reduce/area_weights.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/dataset_collective.h"
#include "engine/mpi/comm.h"
#include "engine/plan/grid_select.h"
#include "engine/plan/points.h"
#include "engine/plan/region_mask.h"
#include "engine/plan/selection.h"
#include "engine/plan/series_plan.h"
#include "cf/decode.h"
#include "out/series_output.h"
#include "dataset/dataset.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "out/item/item.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_VARS = 16, MAX_STATS = 5, MAX_OUT = MAX_VARS * MAX_STATS };
/* Points and region files larger than this are refused (64 MiB). */
#define MAX_INPUT_FILE ((size_t)64 << 20)

typedef struct series_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox (the region), --time, -o, --item, --report, -q */
    const char *points, *region, *method, *stat;
} series_args;

void cmd_series_help(FILE *out)
{
    fprintf(out,
            "usage: floe series SOURCE -v VAR[,VAR...] --points FILE.csv [--method nearest|bilinear]\n"
            "                   [--time T0[/T1]] -o OUT.nc [source options]\n"
            "       floe series SOURCE -v VAR[,VAR...] (--bbox W,S,E,N | --region FILE.geojson)\n"
            "                   [--stat LIST] [--time T0[/T1]] -o OUT.nc [source options]\n"
            "       mpirun -np N floe series ...\n"
            "\n"
            "Time series of the selected steps, as a CF-1.8 NetCDF-4 file (featureType\n"
            "timeSeries). Same bytes for any number of MPI ranks (ranks split the steps).\n"
            "\n"
            "At points: the CSV has one point a line, lon,lat[,id] (an optional header\n"
            "names the columns). Each point takes the cell that contains it (nearest), or\n"
            "the bilinear interpolation of the four centres around it, missing cells\n"
            "skipped and the weights renormalised. Output VAR(time, station).\n"
            "\n"
            "Over a region: the cells whose centres lie in the box (edges inclusive) or\n"
            "in the GeoJSON Polygon/MultiPolygon (Feature, FeatureCollection). mean is\n"
            "area-weighted by the cells' areas on the sphere (like CDO's fldmean), sum is\n"
            "the plain sum (fldsum); missing values are skipped; a step with no valid\n"
            "cell is missing (count 0). Output VAR_STAT(time).\n"
            "\n"
            "Options:\n"
            "  -v, --vars LIST      variables, comma-separated\n"
            "  --points FILE        points CSV\n"
            "  --method M           nearest (default) or bilinear (points only)\n"
            "  --bbox W,S,E,N       a longitude/latitude box region\n"
            "  --region FILE        a GeoJSON region\n"
            "  --stat LIST          region: any of mean,min,max,sum,count (default mean)\n"
            "  --time T0[/T1]       ISO 8601 instant or interval, both ends inclusive\n");
    cmd_output_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
}

static floe_err parse_args(int argc, char **argv, series_args *a)
{
    memset(a, 0, sizeof *a);
    cmd_scan s;
    cmd_scan_init(&s, argc, argv);
    int more;
    for (;;) {
        FLOE_CHECK(cmd_scan_next(&s, &more));
        if (!more)
            break;
        int taken;
        FLOE_CHECK(cmd_source_option(&s, &a->src, &taken));
        if (!taken)
            FLOE_CHECK(cmd_grid_option(&s, &a->grid, &taken));
        if (taken)
            continue;
        if (cmd_is(&s, "--points", NULL))
            FLOE_CHECK(cmd_value(&s, &a->points));
        else if (cmd_is(&s, "--region", NULL))
            FLOE_CHECK(cmd_value(&s, &a->region));
        else if (cmd_is(&s, "--method", NULL))
            FLOE_CHECK(cmd_value(&s, &a->method));
        else if (cmd_is(&s, "--stat", "--stats"))
            FLOE_CHECK(cmd_value(&s, &a->stat));
        else
            return FLOE_ERR(FLOE_EINVAL, "series: unknown option '%s' (see 'floe series --help')",
                            s.name);
    }
    FLOE_CHECK(cmd_source_finish(&s, &a->src));
    FLOE_CHECK(cmd_grid_finish("series", &a->grid));
    int nwhere = !!a->points + !!a->region + !!a->grid.bbox;
    if (nwhere != 1)
        return FLOE_ERR(FLOE_EINVAL, "series: give exactly one of --points FILE, --bbox W,S,E,N "
                        "and --region FILE");
    if (a->points && a->stat)
        return FLOE_ERR(FLOE_EINVAL, "series: --stat applies to regions (--bbox, --region), "
                        "not to --points");
    if (!a->points && a->method)
        return FLOE_ERR(FLOE_EINVAL, "series: --method applies to --points only");
    return NULL;
}

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

/* Everything every rank knows identically after phase 1. */
typedef struct job {
    floe_dataset *ds;
    floe_grid_select g;        /* variables, axes; the box read (regions) */
    cf_decoder cf[MAX_VARS];
    series_plan plan;
    /* points */
    floe_points pts;
    floe_point_weights *pw;
    floe_interp interp;
    size_t nst;                /* output columns: points, or 1 for a region */
    /* region */
    unsigned stats;
    unsigned stat_list[MAX_STATS];
    size_t nstat;
    uint8_t *mask;             /* count[1] x count[2], NULL: every cell */
    size_t region_cells;
    double **tile_w;           /* per tile: area weights of its cells */
    uint8_t **tile_m;          /* per tile: mask of its cells (NULL: all) */
    double region_edges[4];
    char region_desc[512];
    /* phase 2: this rank's steps and results */
    size_t s0, s1;
    float *results;            /* [nout][s1 - s0][nst] */
    size_t nout;
    floe_collector collector;  /* rank 0: phase 3's receiving side */
    job_progress progress;
} job;

static void job_free(job *j)
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
    floe_points_free(&j->pts);
    series_plan_free(&j->plan);
    floe_grid_select_free(&j->g);
    floe_dataset_free(&j->ds);
}

static floe_err prepare_points(const series_args *a, job *j)
{
    char *text = NULL;
    size_t len = 0;
    FLOE_CHECK(read_text_file(a->points, &text, &len), "--points");
    floe_err err = floe_points_parse_csv(text, len, a->points, &j->pts);
    free(text);
    FLOE_CHECK(err);
    if (a->method)
        FLOE_CHECK(floe_interp_parse(a->method, &j->interp), "--method");
    j->pw = calloc(j->pts.n, sizeof *j->pw);
    if (!j->pw)
        return FLOE_ERR(FLOE_ENOMEM, "%zu points", j->pts.n);
    const floe_grid_select *g = &j->g;
    for (size_t p = 0; p < j->pts.n; p++)
        FLOE_CHECK(floe_point_locate(&j->pts.p[p], j->interp, g->yv, g->lat->shape[0], g->xv,
                                     g->lon->shape[0], &j->pw[p]),
                   "%s", a->points);
    const floe_array *v0 = g->vars[0];
    FLOE_CHECK(series_plan_points(j->pw, j->pts.n, v0->chunk_shape[1], v0->chunk_shape[2],
                                  &j->plan));
    j->nst = j->pts.n;
    return NULL;
}

/* The region's cells within the selected box, their tiles, and per tile
 * the cells' area weights (from the FULL axes: edges depend on the
 * neighbours) and mask. */
static floe_err prepare_region(const series_args *a, const floe_region *region, job *j)
{
    FLOE_CHECK(floe_stat_parse_list(a->stat ? a->stat : "mean",
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
                   "%s", a->region);
        if (!j->region_cells)
            return FLOE_ERR(FLOE_EINVAL, "%s: no grid cell centre lies inside the region",
                            a->region);
    }
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
        snprintf(j->region_desc, sizeof j->region_desc, "%s", a->region);
    else
        snprintf(j->region_desc, sizeof j->region_desc, "bbox %s", a->grid.bbox);
    j->nst = 1;
    return err;
}

/* Phase 1, on every rank (COLLECTIVE: the dataset is opened once for the
 * job and shared). */
static floe_err prepare(const series_args *a, const floe_mpi *mpi, job *j)
{
    floe_open_request req = a->src.req;
    req.arrays = a->grid.vars; /* only their manifests (and their coordinates') */
    floe_err err = floe_dataset_open_collective(mpi, &req, &j->ds);
    FLOE_CHECK(err, "%s", a->src.req.source);
    floe_region *region = NULL;
    char bbox_text[256];
    const char *bbox = a->grid.bbox;
    if (a->region) {
        char *text = NULL;
        size_t len = 0;
        FLOE_CHECK(read_text_file(a->region, &text, &len), "--region");
        err = floe_region_parse(text, len, a->region, &region);
        free(text);
        FLOE_CHECK(err);
        floe_bbox b = floe_region_bbox(region);
        snprintf(bbox_text, sizeof bbox_text, "%.17g,%.17g,%.17g,%.17g", b.west, b.south,
                 b.east, b.north);
        bbox = bbox_text;
    }
    /* Points read anywhere on the grid: select every cell, the time box. */
    err = floe_grid_select_make(j->ds, a->grid.vars, a->points ? NULL : bbox, a->grid.time,
                                &j->g);
    if (err && a->region && floe_err_code(err) == FLOE_EINVAL)
        err = floe_err_push(err, __FILE__, __LINE__, " region %s", a->region);
    if (!err && j->g.nvars > MAX_VARS)
        err = FLOE_ERR(FLOE_EINVAL, "too many variables (at most %d)", MAX_VARS);
    for (size_t v = 0; !err && v < j->g.nvars; v++) {
        const floe_array *x = j->g.vars[v];
        if (memcmp(x->chunk_shape, j->g.vars[0]->chunk_shape, sizeof x->chunk_shape))
            err = FLOE_ERR(FLOE_EINVAL, "variables %s and %s differ in chunks",
                           j->g.vars[0]->name, x->name);
        else
            err = cf_decoder_init(&j->cf[v], x->attributes, (zarr_dtype)x->dtype,
                                  CF_MASK_ZARR_FILL, &x->fill_value);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " variable %s", x->name);
    }
    if (!err)
        err = a->points ? prepare_points(a, j) : prepare_region(a, region, j);
    floe_region_free(&region);
    FLOE_CHECK(err);
    j->nout = a->points ? j->g.nvars : j->g.nvars * j->nstat;
    series_rank_steps(j->g.start[0], j->g.count[0], j->g.vars[0]->chunk_shape[0], mpi->size,
                      mpi->rank, &j->s0, &j->s1);
    size_t n = j->nout * (j->s1 - j->s0) * j->nst;
    j->results = malloc((n ? n : 1) * sizeof *j->results);
    if (!j->results)
        return FLOE_ERR(FLOE_ENOMEM, "series results (%zu values)", n);
    /* before the agreement: once the others send, rank 0 must receive */
    if (mpi->rank == 0)
        FLOE_CHECK(floe_collector_init(&j->collector, mpi));
    return NULL;
}

/* One batch of steps [b0, b1) (relative to the selection) of variable v:
 * the chunks are coords[i] = (time chunk, tile) for time chunk tc0 + i /
 * ntiles and tile i % ntiles. */
typedef struct batch {
    job *j;
    size_t v, b0, b1;
    uint64_t tc0;
    float *pv;             /* points: [(s - b0) * npts * 4 + p * 4 + k] cell values */
    floe_wstat *part;      /* region: [(s - b0) * ntiles + tile] */
    float *raw, *vals;     /* region: one tile of one step */
} batch;

static floe_err take_chunk(void *ctx, size_t index, const void *decoded)
{
    batch *b = ctx;
    job *j = b->j;
    const floe_array *a = j->g.vars[b->v];
    size_t ntiles = j->plan.ntiles, tile = index % ntiles;
    uint64_t tc = b->tc0 + index / ntiles;
    uint64_t ct = a->chunk_shape[0], ch = a->chunk_shape[1], cw = a->chunk_shape[2];
    const series_tile *t = &j->plan.tiles[tile];
    for (uint64_t k = 0; k < ct; k++) {
        uint64_t step = tc * ct + k; /* absolute */
        if (step < j->g.start[0] + b->b0 || step >= j->g.start[0] + b->b1)
            continue;
        size_t s = (size_t)(step - j->g.start[0]) - b->b0;
        const float *slab = (const float *)decoded + k * ch * cw;
        if (j->pw) {
            size_t n4 = 4 * j->pts.n;
            for (size_t q = j->plan.tile_first[tile]; q < j->plan.tile_first[tile + 1]; q++) {
                size_t c = j->plan.by_tile[q];
                cf_decode_to_float(&j->cf[b->v], slab + j->plan.cells[c].offset, 1,
                                   &b->pv[s * n4 + c]);
            }
            continue;
        }
        size_t w = t->c1 - t->c0, h = t->r1 - t->r0;
        size_t r0 = (size_t)(t->cy * ch), c0 = (size_t)(t->cx * cw);
        for (size_t r = 0; r < h; r++)
            memcpy(b->raw + r * w, slab + (t->r0 + r - r0) * cw + (t->c0 - c0),
                   w * sizeof *b->raw);
        cf_decode_to_float(&j->cf[b->v], b->raw, h * w, b->vals);
        floe_wstat_add(&b->part[s * ntiles + tile], b->vals, j->tile_w[tile], j->tile_m[tile],
                       h * w);
    }
    job_progress_add(&j->progress, 1);
    return NULL;
}

/* The chunks of steps [b0, b1): every tile of every time chunk, in the
 * order take_chunk expects (time chunk major, then tile). */
static size_t batch_coords(const job *j, size_t b0, size_t b1, uint64_t *coords)
{
    uint64_t ct = j->g.vars[0]->chunk_shape[0];
    uint64_t tc0 = (j->g.start[0] + b0) / ct, tc1 = (j->g.start[0] + b1 - 1) / ct + 1;
    size_t n = 0;
    for (uint64_t tc = tc0; tc < tc1; tc++)
        for (size_t i = 0; i < j->plan.ntiles; i++, n++) {
            coords[3 * n] = tc;
            coords[3 * n + 1] = j->plan.tiles[i].cy;
            coords[3 * n + 2] = j->plan.tiles[i].cx;
        }
    return n;
}

/* Steps per batch: enough chunks in flight to keep the fetcher busy, few
 * enough that the batch's values stay small. */
static size_t batch_steps(const job *j, uint64_t ct)
{
    size_t per = 4096 / (j->plan.ntiles ? j->plan.ntiles : 1);
    per = per < 1 ? 1 : per > 64 ? 64 : per;
    return per * (size_t)ct;
}

/* Phase 2: this rank's steps, no communication. */
static floe_err compute(job *j)
{
    if (j->s1 <= j->s0)
        return NULL;
    const floe_array *v0 = j->g.vars[0];
    uint64_t ct = v0->chunk_shape[0];
    size_t ntiles = j->plan.ntiles, per = batch_steps(j, ct);
    size_t tile_cells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    size_t maxchunks = (per / ct + 2) * ntiles;
    uint64_t *coords = malloc(3 * maxchunks * sizeof *coords);
    uint64_t *next = malloc(3 * maxchunks * sizeof *next);
    batch b = {.j = j};
    if (j->pw)
        b.pv = malloc(per * 4 * j->pts.n * sizeof *b.pv);
    else {
        b.part = malloc(per * ntiles * sizeof *b.part);
        b.raw = malloc(tile_cells * sizeof *b.raw);
        b.vals = malloc(tile_cells * sizeof *b.vals);
    }
    floe_err err = NULL;
    if (!coords || !next || (j->pw ? !b.pv : (!b.part || !b.raw || !b.vals)))
        err = FLOE_ERR(FLOE_ENOMEM, "series batch (%zu steps x %zu tiles)", per, ntiles);
    size_t nsteps = j->s1 - j->s0;
    for (size_t v = 0; v < j->g.nvars && !err; v++) {
        for (size_t b0 = j->s0; b0 < j->s1 && !err; b0 += per) {
            size_t b1 = b0 + per < j->s1 ? b0 + per : j->s1;
            uint64_t tc0 = (j->g.start[0] + b0) / ct;
            size_t n = batch_coords(j, b0, b1, coords);
            /* the next batch is read ahead, while this one is reduced */
            size_t b2 = b1 + per < j->s1 ? b1 + per : j->s1, nnext = 0;
            if (b1 < j->s1)
                nnext = batch_coords(j, b1, b2, next);
            b.v = v, b.b0 = b0, b.b1 = b1, b.tc0 = tc0;
            if (b.part)
                for (size_t k = 0; k < (b1 - b0) * ntiles; k++)
                    floe_wstat_init(&b.part[k]);
            err = floe_dataset_read_chunks_ahead(j->ds, j->g.vars[v], coords, n, next, nnext,
                                                 take_chunk, &b);
            if (err) {
                err = floe_err_push(err, __FILE__, __LINE__, " variable %s steps %zu..%zu",
                                    j->g.vars[v]->name, j->g.start[0] + b0,
                                    j->g.start[0] + b1 - 1);
                break;
            }
            for (size_t s = b0; s < b1 && !err; s++) {
                size_t row = s - j->s0;
                if (j->pw) {
                    for (size_t p = 0; p < j->pts.n; p++) {
                        const float *c4 = b.pv + ((s - b0) * j->pts.n + p) * 4;
                        float vv[2][2] = {{c4[0], c4[1]}, {c4[2], c4[3]}};
                        float x = floe_point_interpolate(&j->pw[p], vv);
                        j->results[(v * nsteps + row) * j->nst + p] =
                            isnan(x) ? (float)j->g.vars[v]->fill_value : x;
                    }
                    continue;
                }
                /* the step's tiles merged in tile order: rank-independent */
                floe_wstat all;
                floe_wstat_init(&all);
                for (size_t i = 0; i < ntiles; i++)
                    floe_wstat_merge(&all, &b.part[(s - b0) * ntiles + i]);
                for (size_t k = 0; k < j->nstat && !err; k++)
                    err = floe_wstat_result(&all, j->stat_list[k],
                                            (float)j->g.vars[v]->fill_value,
                                            &j->results[((v * j->nstat + k) * nsteps + row)]);
            }
        }
    }
    free(coords);
    free(next);
    free(b.pv);
    free(b.part);
    free(b.raw);
    free(b.vals);
    return err;
}

static void region_cell_method(unsigned stat, char *buf, size_t size)
{
    const char *m = stat == FLOE_STAT_MEAN ? "mean (area-weighted)"
                    : stat == FLOE_STAT_MIN ? "minimum"
                    : stat == FLOE_STAT_MAX ? "maximum"
                    : stat == FLOE_STAT_SUM ? "sum"
                    : "point (number of valid cells)";
    snprintf(buf, size, "area: %s", m);
}

/* Phase 3 on rank 0: the file, then the Item. */
static floe_err write_output(job *j, const floe_mpi *mpi, const series_args *a, const char *line)
{
    const char *names[MAX_OUT], *methods[MAX_OUT];
    char name_buf[MAX_OUT][128], method_buf[MAX_OUT][96];
    const floe_array *vars[MAX_OUT];
    for (size_t v = 0; v < j->g.nvars; v++) {
        if (j->pw) {
            names[v] = j->g.vars[v]->name;
            methods[v] = NULL;
            vars[v] = j->g.vars[v];
            continue;
        }
        for (size_t k = 0; k < j->nstat; k++) {
            size_t o = v * j->nstat + k;
            snprintf(name_buf[o], sizeof name_buf[o], "%s_%s", j->g.vars[v]->name,
                     floe_stat_name(j->stat_list[k]));
            region_cell_method(j->stat_list[k], method_buf[o], sizeof method_buf[o]);
            names[o] = name_buf[o];
            methods[o] = method_buf[o];
            vars[o] = j->g.vars[v];
        }
    }
    size_t np = j->pw ? j->pts.n : 0;
    const char **ids = np ? calloc(np, sizeof *ids) : NULL;
    double *slon = np ? malloc(np * sizeof *slon) : NULL, *slat = np ? malloc(np * sizeof *slat) : NULL;
    double *clon = np ? malloc(np * sizeof *clon) : NULL, *clat = np ? malloc(np * sizeof *clat) : NULL;
    floe_err err = NULL;
    if (np && (!ids || !slon || !slat || !clon || !clat))
        err = FLOE_ERR(FLOE_ENOMEM, "station coordinates");
    for (size_t p = 0; p < np && !err; p++) {
        ids[p] = j->pts.p[p].id;
        slon[p] = j->pts.p[p].lon, slat[p] = j->pts.p[p].lat;
        clat[p] = j->g.yv[j->pw[p].ilat[0]], clon[p] = j->g.xv[j->pw[p].ilon[0]];
    }
    int nearest = j->interp == FLOE_INTERP_NEAREST;
    cf_series_spec spec = {
        .path = a->grid.out, .command = line, .provenance = floe_dataset_provenance(j->ds),
        .time = j->g.time, .time_values = j->g.tv + j->g.start[0], .nt = j->g.count[0],
        .vars = vars, .nvars = j->nout, .out_names = names, .cell_methods = methods,
        .nstations = np, .station_ids = ids, .station_lon = slon, .station_lat = slat,
        .cell_lon = np && nearest ? clon : NULL, .cell_lat = np && nearest ? clat : NULL,
        .method = np ? floe_interp_name(j->interp) : NULL,
        .region = np ? NULL : j->region_desc,
        .region_edges = {j->region_edges[0], j->region_edges[1], j->region_edges[2],
                         j->region_edges[3]},
        .region_cells = j->region_cells,
    };
    cf_series_output *out = NULL;
    if (!err)
        err = cf_series_output_create(&spec, &out);
    /* rank 0's steps, then every other rank's in rank order, each rank's
     * one unit of the collection protocol (received even after an error:
     * no sender may be left waiting) */
    float *buf = NULL;
    size_t bufn = 0;
    for (int r = 0; r < mpi->size; r++) {
        size_t s0, s1;
        series_rank_steps(j->g.start[0], j->g.count[0], j->g.vars[0]->chunk_shape[0], mpi->size,
                          r, &s0, &s1);
        size_t n = j->nout * (s1 - s0) * j->nst;
        if (!n)
            continue;
        const float *vals = j->results;
        if (r != 0) {
            if (n > bufn) {
                float *p = realloc(buf, n * sizeof *buf);
                if (p)
                    buf = p, bufn = n;
            }
            if (n > bufn && !err)
                err = FLOE_ERR(FLOE_ENOMEM, "series values from rank %d", r);
            int ok = 0;
            floe_err e = floe_collect_recv_status(&j->collector, r, &ok);
            if (!e && ok) /* without room for them: received and dropped */
                e = floe_collect_recv_exact(&j->collector, r, n <= bufn ? buf : NULL,
                                            n * sizeof *buf);
            if (!e && !ok)
                e = FLOE_ERR(FLOE_EINTERNAL, "rank %d failed after the agreement", r);
            if (!err)
                err = e;
            else
                floe_err_free(&e);
            vals = buf;
        }
        for (size_t o = 0; o < j->nout && !err; o++)
            err = cf_series_output_put(out, o, s0, s1 - s0, vals + o * (s1 - s0) * j->nst);
    }
    free(buf);
    if (!err)
        err = cf_series_output_commit(&out);
    cf_series_output_abort(&out);
    if (!err)
        err = stac_item_write_series(&spec, a->grid.item, "series",
                                     stac_item_source_kind_of(spec.provenance->doc_kind));
    free(ids);
    free(slon);
    free(slat);
    free(clon);
    free(clat);
    return err;
}

/* Phase 3 on the other ranks: this rank's values, one unit of the
 * collection protocol (none when it has no steps). */
static floe_err send_share(job *j, const floe_mpi *mpi)
{
    size_t n = j->nout * (j->s1 - j->s0) * j->nst;
    if (!n)
        return NULL;
    FLOE_CHECK(floe_collect_send_status(mpi, 0));
    return floe_collect_send(mpi, j->results, n * sizeof *j->results);
}

floe_err cmd_series_run(int argc, char **argv)
{
    series_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    floe_mpi mpi;
    FLOE_CHECK(floe_mpi_init(NULL, NULL, &mpi));
    double t_start = job_now();
    job j;
    memset(&j, 0, sizeof j);
    char *line = cmd_line(argc, argv);
    floe_err err = line ? NULL : FLOE_ERR(FLOE_ENOMEM, "series");
    /* every rank takes part in the collective open, whatever happened above */
    floe_err perr = prepare(&a, &mpi, &j); /* collective */
    if (!err)
        err = perr;
    else
        floe_err_free(&perr);
    if (!floe_mpi_agree(mpi.comm, &err)) { /* collective */
        FLOE_INFO0("series: %zu variable(s), %zu %s, %zu steps, %zu tile(s) a step, on %d "
                   "rank(s)", j.g.nvars, j.pw ? j.pts.n : j.region_cells,
                   j.pw ? "point(s)" : "cell(s)", j.g.count[0], j.plan.ntiles, mpi.size);
        uint64_t ct = j.g.vars[0]->chunk_shape[0];
        uint64_t mine = j.s1 > j.s0 ? ((j.g.start[0] + j.s1 - 1) / ct -
                                       (j.g.start[0] + j.s0) / ct + 1) * j.plan.ntiles * j.g.nvars
                                    : 0;
        job_progress_start(&j.progress, "floe series", j.ds, mine,
                           mpi.rank == 0 && !a.grid.quiet);
        err = compute(&j);
        job_progress_end(&j.progress);
        if (!floe_mpi_agree(mpi.comm, &err)) { /* collective */
            if (mpi.rank == 0)
                err = write_output(&j, &mpi, &a, line);
            else
                err = send_share(&j, &mpi);
            floe_mpi_agree(mpi.comm, &err); /* collective */
        }
        if (!err && a.grid.report) {
            err = job_report_write(&mpi, j.ds, a.grid.report, "series", line, t_start);
            floe_mpi_agree(mpi.comm, &err); /* collective */
        }
    }
    job_free(&j);
    free(line);
    floe_mpi_finalize(&mpi);
    return err;
}
