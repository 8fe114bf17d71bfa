/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series_compute.c - phase 2 of the series job: this rank's
 * steps, batch by batch: the batch's chunks are fetched concurrently and
 * decoded as they arrive (each once for every point or region); a point
 * takes its cells' values, each region adds its cells in the tile to its
 * partial statistics of that tile, merged per region in tile order per
 * step (so the bits do not depend on the rank count). take_chunk may run
 * on several workers at once for different chunks (dataset.h): each
 * writes only its chunk's values and partials, its decoded tile is lent
 * per call, and the progress is counted after the batch. */
#include "engine/job/series_internal.h"

#include "engine/job/chunk_scratch.h"

#include "engine/reduce/accum.h"
#include "engine/reduce/area_weights.h"
#include "engine/reduce/weighted_cells.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One batch of steps [b0, b1) (relative to the selection) of variable v:
 * the chunks are coords[i] = (time chunk, tile) for time chunk tc0 + i /
 * ntiles and tile i % ntiles. */
typedef struct batch {
    series_job *j;
    size_t v, b0, b1;
    uint64_t tc0;
    double *pv;            /* points: [(s - b0) * npts * 4 + p * 4 + k] cell values
                              (float ones widened: exact) */
    floe_wstat *part;      /* regions: [(s - b0) * npairs + pair] (region_cells.h) */
    chunk_scratch vals;    /* region: one tile of one step, decoded (float or double),
                              one per concurrent call */
} batch;

static floe_err take_chunk(void *ctx, size_t index, const void *decoded)
{
    batch *b = ctx;
    series_job *j = b->j;
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
        /* the stored elements: any type, a->itemsize bytes each */
        const uint8_t *slab = (const uint8_t *)decoded + k * ch * cw * a->itemsize;
        if (j->pw) {
            size_t n4 = 4 * j->pts.n;
            for (size_t q = j->plan.tile_first[tile]; q < j->plan.tile_first[tile + 1]; q++) {
                size_t c = j->plan.by_tile[q];
                const uint8_t *src = slab + j->plan.cells[c].offset * a->itemsize;
                float f;
                if (j->in64[b->v]) {
                    cf_decode_to_double(&j->cf[b->v], src, 1, &b->pv[s * n4 + c]);
                } else {
                    cf_decode_to_float(&j->cf[b->v], src, 1, &f);
                    b->pv[s * n4 + c] = f;
                }
                if (j->anom.path) { /* the anomaly, before the interpolation */
                    b->pv[s * n4 + c] -= job_anomaly_point_clim(&j->anom, b->v, s + b->b0, c);
                }
            }
            continue;
        }
        size_t w = t->c1 - t->c0, h = t->r1 - t->r0;
        size_t r0 = (size_t)(t->cy * ch), c0 = (size_t)(t->cx * cw);
        int slot;
        void *vals = chunk_scratch_take(&b->vals, &slot);
        floe_err err = NULL;
        if (j->anom.path) { /* the tile's climatology for the batch's steps (anomaly.h) */
            job_anomaly_lock(&j->anom); /* to the last subtraction: shared */
            err = job_anomaly_load(&j->anom, b->v, b->b0, b->b1, t->r0, t->r1, t->c0, t->c1);
        }
        for (size_t r = 0; r < h && !err; r++) { /* row by row: the same values as the whole tile */
            const uint8_t *src = slab + ((t->r0 + r - r0) * cw + (t->c0 - c0)) * a->itemsize;
            if (j->in64[b->v])
                cf_decode_to_double(&j->cf[b->v], src, w, (double *)vals + r * w);
            else
                cf_decode_to_float(&j->cf[b->v], src, w, (float *)vals + r * w);
            if (j->anom.path && j->in64[b->v]) /* the anomalies, before the area statistics */
                job_anomaly_sub_f64(&j->anom, s + b->b0, t->r0 + r, t->c0,
                                    (double *)vals + r * w, w);
            else if (j->anom.path)
                job_anomaly_sub_f32(&j->anom, s + b->b0, t->r0 + r, t->c0,
                                    (float *)vals + r * w, w);
        }
        if (j->anom.path)
            job_anomaly_unlock(&j->anom);
        if (err) {
            chunk_scratch_give(&b->vals, slot);
            return err;
        }
        const region_cells *rc = &j->rc;
        for (size_t p = rc->pair_first[tile]; p < rc->pair_first[tile + 1]; p++) {
            floe_wstat *part = &b->part[s * rc->npairs + p];
            const floe_wseg *segs = rc->segs + rc->seg_first[p];
            size_t n = rc->seg_first[p + 1] - rc->seg_first[p];
            const floe_wcell *cells = rc->cells + rc->cell_first[p];
            if (j->in64[b->v])
                floe_wstat_add_segs_f64(part, vals, segs, n, cells, rc->latf, rc->lonw);
            else
                floe_wstat_add_segs(part, vals, segs, n, cells, rc->latf, rc->lonw);
        }
        chunk_scratch_give(&b->vals, slot);
    }
    return NULL;
}

/* Result i: float (rounded once) or double, as j->results holds them. */
static void put_result(series_job *j, size_t i, double x)
{
    if (j->res_esize == sizeof(double))
        ((double *)j->results)[i] = x;
    else
        ((float *)j->results)[i] = (float)x;
}

/* The chunks of steps [b0, b1): every tile of every time chunk, in the
 * order take_chunk expects (time chunk major, then tile). */
size_t series_batch_coords(const series_job *j, size_t b0, size_t b1, uint64_t *coords)
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

/* A batch's partial statistics of many regions stay below this. */
#define BATCH_PARTS_BYTES ((size_t)64 << 20)

/* Steps per batch: enough chunks in flight to keep the fetcher busy, few
 * enough that the batch's values (and the regions' partials) stay small. */
size_t series_batch_steps(const series_job *j, uint64_t ct)
{
    size_t per = 4096 / (j->plan.ntiles ? j->plan.ntiles : 1);
    per = per < 1 ? 1 : per > 64 ? 64 : per;
    size_t chunk_parts = (size_t)ct * j->rc.npairs * sizeof(floe_wstat);
    if (!j->pw && chunk_parts && per > BATCH_PARTS_BYTES / chunk_parts)
        per = BATCH_PARTS_BYTES / chunk_parts ? BATCH_PARTS_BYTES / chunk_parts : 1;
    return per * (size_t)ct;
}

/* Phase 2 (series_internal.h). */
floe_err series_compute(series_job *j)
{
    if (j->s1 <= j->s0)
        return NULL;
    const floe_array *v0 = j->g.vars[0];
    uint64_t ct = v0->chunk_shape[0];
    size_t ntiles = j->plan.ntiles, per = series_batch_steps(j, ct);
    size_t tile_cells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    size_t maxchunks = (per / ct + 2) * ntiles;
    uint64_t *coords = malloc(3 * maxchunks * sizeof *coords);
    uint64_t *next = malloc(3 * maxchunks * sizeof *next);
    batch b = {.j = j};
    floe_wstat *all = NULL; /* regions: one step's statistics of each */
    if (j->pw)
        b.pv = malloc(per * 4 * j->pts.n * sizeof *b.pv);
    else {
        b.part = malloc((per * j->rc.npairs > 0 ? per * j->rc.npairs : 1) * sizeof *b.part);
        all = malloc(j->nst * sizeof *all);
    }
    floe_err err = NULL;
    if (!coords || !next || (j->pw ? !b.pv : (!b.part || !all)))
        err = FLOE_ERR(FLOE_ENOMEM, "series batch (%zu steps x %zu tiles)", per, ntiles);
    if (!err && !j->pw) /* a decoded tile for each call that may run at once */
        err = chunk_scratch_init(&b.vals, floe_pool_workers(floe_dataset_pool(j->ds)),
                                 tile_cells * sizeof(double));
    size_t nsteps = j->s1 - j->s0;
    for (size_t v = 0; v < j->g.nvars && !err; v++) {
        if (!job_step_ckpt_has_var(&j->ck, v))
            continue; /* a piece of a split by variable: not its variable */
        for (size_t b0 = j->s0; b0 < j->s1 && !err; b0 += per) {
            size_t b1 = b0 + per < j->s1 ? b0 + per : j->s1;
            uint64_t tc0 = (j->g.start[0] + b0) / ct;
            size_t n = series_batch_coords(j, b0, b1, coords);
            /* the next batch is read ahead, while this one is reduced */
            size_t b2 = b1 + per < j->s1 ? b1 + per : j->s1, nnext = 0;
            if (b1 < j->s1)
                nnext = series_batch_coords(j, b1, b2, next);
            /* a saved unit (--resume, floe merge): its results, nothing fetched */
            size_t planes = j->pw ? 1 : j->nstat, step_bytes = j->nst * j->res_esize;
            size_t stride = nsteps * step_bytes;
            uint8_t *rows = (uint8_t *)j->results + v * planes * stride +
                            (b0 - j->s0) * step_bytes;
            uint64_t t0 = j->g.start[0] + b0, t1 = j->g.start[0] + b1;
            int loaded = 0; /* a unit that does not read is computed again */
            err = job_step_ckpt_load(&j->ck, v, t0, t1, planes, step_bytes, stride, rows,
                                     &loaded);
            if (!err && loaded) { /* not read: off the progress' total */
                job_progress_skip(&j->progress, n);
                err = job_step_ckpt_poll(&j->ck);
            }
            if (err || loaded)
                continue;
            err = job_step_ckpt_may_fetch(&j->ck, v, t0, t1);
            if (err)
                break;
            if (b1 < j->s1 && job_units_covered(&j->ck.units, v, j->g.start[0] + b1,
                                                j->g.start[0] + b2))
                nnext = 0; /* the next batch is saved: nothing to read ahead */
            b.v = v, b.b0 = b0, b.b1 = b1, b.tc0 = tc0;
            if (b.part)
                for (size_t k = 0; k < (b1 - b0) * j->rc.npairs; k++)
                    floe_wstat_init(&b.part[k]);
            err = floe_dataset_read_chunks_ahead(j->ds, j->g.vars[v], coords, n, next, nnext,
                                                 take_chunk, &b);
            if (err) {
                err = floe_err_push(err, __FILE__, __LINE__, " variable %s steps %zu..%zu",
                                    j->g.vars[v]->name, j->g.start[0] + b0,
                                    j->g.start[0] + b1 - 1);
                break;
            }
            job_progress_add(&j->progress, n); /* here, not in take_chunk: MPI, one thread */
            for (size_t s = b0; s < b1 && !err; s++) {
                size_t row = s - j->s0;
                if (j->pw) {
                    for (size_t p = 0; p < j->pts.n; p++) {
                        const double *c4 = b.pv + ((s - b0) * j->pts.n + p) * 4;
                        double vv[2][2] = {{c4[0], c4[1]}, {c4[2], c4[3]}};
                        /* of float values: floe_point_interpolate's bits, rounded below */
                        double x = floe_point_interpolate_f64(&j->pw[p], vv);
                        put_result(j, (v * nsteps + row) * j->nst + p,
                                   isnan(x) ? series_missing(j, v) : x);
                    }
                    continue;
                }
                /* each region's tiles merged in tile order: rank-independent */
                const region_cells *rc = &j->rc;
                for (size_t r = 0; r < j->nst; r++)
                    floe_wstat_init(&all[r]);
                for (size_t p = 0; p < rc->npairs; p++)
                    floe_wstat_merge(&all[rc->pair_region[p]],
                                     &b.part[(s - b0) * rc->npairs + p]);
                for (size_t k = 0; k < j->nstat && !err; k++)
                    for (size_t r = 0; r < j->nst && !err; r++) {
                        double x = 0;
                        err = floe_wstat_result_f64(&all[r], j->stat_list[k],
                                                    series_missing(j, v), &x);
                        put_result(j, ((v * j->nstat + k) * nsteps + row) * j->nst + r, x);
                    }
            }
            /* a unit boundary: the batch is saved, then a stop asked for is taken */
            if (!err)
                err = job_step_ckpt_save(&j->ck, v, t0, t1, planes, step_bytes, stride, rows);
            if (!err)
                err = job_step_ckpt_poll(&j->ck);
        }
    }
    free(coords);
    free(next);
    free(b.pv);
    free(b.part);
    chunk_scratch_free(&b.vals);
    free(all);
    return err;
}

