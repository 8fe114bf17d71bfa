/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_compute.c - the arithmetic of the stats job: reading a
 * tile's steps in batches, accumulating them into one tree per group with
 * cache blocking, the statistics of a tree, the time-split partial trees
 * of phase 2, and the encoding of a unit's output chunks on the rank that
 * computed it. No communication. */
#include "engine/job/stats_internal.h"

#include "common/floe_pool.h"

#include "out/chunk_encode.h"
#include "out/grid_output.h"

#include <stdlib.h>
#include <string.h>

typedef struct tile_batch {
    stats_job *j;
    size_t v;
    const stats_tile *t;
    size_t b0, b1;          /* selected steps, relative to the selection */
    const uint64_t *coords; /* 3 per chunk */
    void *vals;             /* (b1 - b0) x cells, CF-masked: float, or double (in64) */
} tile_batch;

static floe_err place_tile(void *ctx, size_t index, const void *decoded)
{
    tile_batch *b = ctx;
    stats_job *j = b->j;
    const floe_array *a = j->g.vars[b->v];
    const stats_tile *t = b->t;
    uint64_t ct = a->chunk_shape[0], ch = a->chunk_shape[1], cw = a->chunk_shape[2];
    size_t w = t->x1 - t->x0, cells = (t->y1 - t->y0) * w;
    size_t r0 = (size_t)(t->cy * ch), c0 = (size_t)(t->cx * cw);
    for (uint64_t k = 0; k < ct; k++) {
        uint64_t step = b->coords[3 * index] * ct + k; /* absolute */
        if (step < j->g.start[0] + b->b0 || step >= j->g.start[0] + b->b1)
            continue;
        /* the stored elements: any type, a->itemsize bytes each */
        const uint8_t *slab = (const uint8_t *)decoded + k * ch * cw * a->itemsize;
        size_t first = (size_t)(step - j->g.start[0] - b->b0) * cells;
        for (size_t y = t->y0; y < t->y1; y++) {
            const uint8_t *src =
                slab + ((j->g.start[1] + y - r0) * cw + (j->g.start[2] + t->x0 - c0)) * a->itemsize;
            size_t at = first + (y - t->y0) * w;
            if (j->in64[b->v])
                cf_decode_to_double(&j->cf[b->v], src, w, (double *)b->vals + at);
            else
                cf_decode_to_float(&j->cf[b->v], src, w, (float *)b->vals + at);
        }
    }
    return NULL;
}

/* Accumulate steps [s0, s1) of one tile into one tree per group (each
 * started at s0; a step is added to its group's tree only, but every tree
 * sees every step, so their blocks stay aligned to the same step grid).
 *
 * A batch lies inside one block of the trees (s0 is block-aligned and
 * BATCH_STEPS divides the block length), so every step of a batch adds to
 * the same accumulator of its group, and a block completes only at the end
 * of a batch, after its adds. That allows cache blocking: the batch's
 * values are added CELL_BLOCK cells at a time, all steps of those cells
 * before the next cells, so the accumulators (20 bytes a cell for
 * mean/min/max) stay in cache instead of streaming a whole tile's worth
 * from memory for every step. Each cell still sees its values in step
 * order: the bits are those of the step-by-step loop. */
enum { CELL_BLOCK = 4096 };

/* The chunks of steps [b0, b1) of tile t (a chunk spanning several steps
 * once). */
size_t stats_batch_coords(const stats_job *j, const stats_tile *t, size_t b0, size_t b1,
                          uint64_t *coords)
{
    uint64_t ct = j->g.vars[0]->chunk_shape[0];
    size_t n = 0;
    for (size_t s = b0; s < b1; s++) {
        uint64_t tc = (j->g.start[0] + s) / ct;
        if (n && coords[3 * (n - 1)] == tc)
            continue;
        coords[3 * n] = tc, coords[3 * n + 1] = t->cy, coords[3 * n + 2] = t->cx;
        n++;
    }
    return n;
}
_Static_assert((int)FLOE_ACCUM_BLOCK_STEPS % (int)BATCH_STEPS == 0,
               "a batch must lie in one accumulator block");

/* One batch's reduction, shared by the pool's calls: the tile's values
 * and each step's block accumulator. */
typedef struct batch_adds {
    stats_job *j;
    size_t v, b0, b1, cells;
    const stats_tile *t;
    void *vals;
    floe_accum **block; /* b1 - b0, one per step */
} batch_adds;

/* Cells [c0, c0 + CELL_BLOCK) of every step of the batch, in step order:
 * the adds touch only those cells of the accumulators (accum.h), so
 * blocks run concurrently on the dataset's pool with the same bits. */
static floe_err add_cell_block(void *ctx, size_t k, int worker)
{
    (void)worker;
    const batch_adds *x = ctx;
    size_t c0 = k * CELL_BLOCK;
    size_t nc = x->cells - c0 < CELL_BLOCK ? x->cells - c0 : CELL_BLOCK;
    for (size_t s = x->b0; s < x->b1; s++) {
        size_t at = (s - x->b0) * x->cells + c0;
        FLOE_CHECK(x->j->in64[x->v]
                       ? floe_accum_add_cells_f64(x->block[s - x->b0], c0, (double *)x->vals + at, nc)
                       : floe_accum_add_cells(x->block[s - x->b0], c0, (float *)x->vals + at, nc));
    }
    return NULL;
}

/* Row k of the batch (step k / rows, row k % rows) less its climatology
 * (anomaly.h): rows are independent, so they run on the pool. */
static floe_err sub_anomaly_row(void *ctx, size_t k, int worker)
{
    (void)worker;
    const batch_adds *x = ctx;
    const stats_tile *t = x->t;
    size_t w = t->x1 - t->x0, rows = t->y1 - t->y0;
    size_t s = x->b0 + k / rows, y = t->y0 + k % rows;
    size_t at = (s - x->b0) * x->cells + (y - t->y0) * w;
    size_t row = x->j->g.start[1] + y, col = x->j->g.start[2] + t->x0;
    if (x->j->in64[x->v])
        job_anomaly_sub_f64(&x->j->anom, s, row, col, (double *)x->vals + at, w);
    else
        job_anomaly_sub_f32(&x->j->anom, s, row, col, (float *)x->vals + at, w);
    return NULL;
}

/* accumulate's batches; next: room for `window` coordinates read ahead. */
static floe_err accumulate_batches(stats_job *j, size_t v, size_t i, size_t s0, size_t s1,
                                   const stats_next *nx, floe_accum_tree *trees, void *vals,
                                   void *keep, size_t *end, size_t window, uint64_t *next)
{
    const floe_array *a = j->g.vars[v];
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    floe_pool *pool = floe_dataset_pool(j->ds);
    uint64_t coords[3 * BATCH_STEPS];
    for (size_t g = 0; g < j->ngroups; g++)
        FLOE_CHECK(floe_accum_tree_init(&trees[g], cells, stats_accum_mask(j, v),
                                        j->plan.block_steps, s0));
    if (j->anom.path) /* the climatology of the tile's box, for its steps */
        FLOE_CHECK(job_anomaly_load(&j->anom, v, s0, s1, j->g.start[1] + t->y0,
                                    j->g.start[1] + t->y1, j->g.start[2] + t->x0,
                                    j->g.start[2] + t->x1));
    for (size_t b0 = s0; b0 < s1; b0 += BATCH_STEPS) {
        size_t b1 = b0 + BATCH_STEPS < s1 ? b0 + BATCH_STEPS : s1;
        size_t n = stats_batch_coords(j, t, b0, b1, coords);
        /* the batches after this one, of this tile and the rank's next
         * ones, are read ahead while this one is reduced */
        size_t nnext = stats_ahead_coords(j, i, b1, s1, nx, window, next);
        tile_batch b = {j, v, t, b0, b1, coords, vals};
        FLOE_CHECK(floe_dataset_read_chunks_ahead(j->ds, a, coords, n, next, nnext, place_tile, &b),
                   "variable %s steps %zu..%zu", a->name, j->g.start[0] + b0, j->g.start[0] + b1 - 1);
        job_progress_add(&j->progress, n);
        floe_accum *block[BATCH_STEPS];
        batch_adds x = {j, v, b0, b1, cells, t, vals, block};
        if (j->anom.path) /* the anomalies, before any statistic (anomaly.h) */
            FLOE_CHECK(floe_pool_for(pool, (b1 - b0) * (t->y1 - t->y0), sub_anomaly_row, &x));
        if (keep)
            stats_pctl_keep(j, v, cells, b0, b1, vals, keep);
        for (size_t s = b0; s < b1; s++) {
            size_t g = j->group_of_step ? j->group_of_step[s] : 0;
            FLOE_CHECK(floe_accum_tree_block(&trees[g], &block[s - b0]));
            if (s + 1 < b1) /* the last step's end completes the block: after the adds */
                for (size_t k = 0; k < j->ngroups; k++)
                    FLOE_CHECK(floe_accum_tree_end_step(&trees[k]));
        }
        FLOE_CHECK(floe_pool_for(pool, (cells + CELL_BLOCK - 1) / CELL_BLOCK, add_cell_block, &x));
        for (size_t k = 0; k < j->ngroups; k++)
            FLOE_CHECK(floe_accum_tree_end_step(&trees[k]));
        if (end && b1 < s1 && (b1 - s0) % j->plan.block_steps == 0 && stats_ckpt_due(j)) {
            *end = b1; /* a whole block: the trees serialize part-way */
            return NULL;
        }
    }
    if (end)
        *end = s1;
    return NULL;
}

/* keep: NULL, or room for every value of the tile (percentiles). end:
 * NULL, or where a checkpointing job stopped (stats_checkpoint.c): at a
 * block boundary when stats_ckpt_due says a save is due, else s1. nx:
 * the tiles the rank reads next (read ahead). */
static floe_err accumulate(stats_job *j, size_t v, size_t i, size_t s0, size_t s1,
                           const stats_next *nx, floe_accum_tree *trees, void *vals, void *keep,
                           size_t *end)
{
    size_t window = stats_ahead_window(j, v);
    uint64_t *next = malloc(3 * window * sizeof *next);
    if (!next)
        return FLOE_ERR(FLOE_ENOMEM, "%zu chunk coordinates to read ahead", window);
    floe_err err = accumulate_batches(j, v, i, s0, s1, nx, trees, vals, keep, end, window, next);
    free(next);
    return err;
}

floe_err stats_accumulate_part(stats_job *j, size_t v, size_t i, size_t s0, size_t s1,
                               const stats_next *next, floe_accum_tree *trees, void *vals,
                               size_t *end)
{
    return accumulate(j, v, i, s0, s1, next, trees, vals, NULL, end);
}

floe_err stats_results_of(stats_job *j, size_t v, floe_accum_tree *tree, size_t cells, void **out)
{
    const floe_accum *acc;
    FLOE_CHECK(floe_accum_tree_result(tree, &acc));
    size_t e = stats_esize(j, v), n = j->nstat * cells;
    uint8_t *r = malloc((n ? n : 1) * e);
    if (!r)
        return FLOE_ERR(FLOE_ENOMEM, "statistics of a tile (%zu cells)", cells);
    for (size_t k = 0; k < j->nstat; k++) {
        if (stats_pctl_index(j->stat_list[k]) >= 0)
            continue; /* from the kept values: stats_pctl_results */
        uint8_t *block = r + k * cells * e;
        floe_err err = j->out64[v] ? floe_accum_result_f64(acc, j->stat_list[k], (double *)block,
                                                         stats_missing_f64(j, v))
                                 : floe_accum_result(acc, j->stat_list[k], (float *)block,
                                                     stats_missing(j, v));
        if (err) {
            free(r);
            return err;
        }
        /* an integer variable: int32, packed at the start of its block (in
         * place: cell c's int32 never overtakes a value not yet read) */
        for (size_t c = 0; j->stat_list[k] == FLOE_STAT_COUNT && c < cells; c++) {
            int32_t cnt = j->out64[v] ? (int32_t)((double *)block)[c] : (int32_t)((float *)block)[c];
            memcpy(block + c * sizeof cnt, &cnt, sizeof cnt);
        }
    }
    *out = r;
    return NULL;
}

/* The statistics of every group of tile i of variable v over all selected
 * steps (space-major): res[g] as stats_results_of gives them. */
floe_err stats_compute_unit(stats_job *j, size_t v, size_t i, void *vals, void **res)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    floe_accum_tree *trees = calloc(j->ngroups, sizeof *trees);
    if (!trees)
        return FLOE_ERR(FLOE_ENOMEM, "%zu accumulator trees", j->ngroups);
    void *keep = NULL;
    size_t kb = stats_pctl_cell_bytes(j, v) * cells;
    floe_err err = kb && !(keep = malloc(kb))
                       ? FLOE_ERR(FLOE_ENOMEM, "the values of a tile (%zu bytes)", kb) : NULL;
    stats_next nx = {t->owner, 0, j->g.count[0]}; /* the rank's next units */
    if (!err)
        err = accumulate(j, v, i, 0, j->g.count[0], &nx, trees, vals, keep, NULL);
    for (size_t g = 0; g < j->ngroups && !err; g++) {
        err = stats_results_of(j, v, &trees[g], cells, &res[g]);
        if (!err && keep)
            err = stats_pctl_results(j, v, keep, g, cells, res[g]);
    }
    free(keep);
    for (size_t g = 0; g < j->ngroups; g++)
        floe_accum_tree_free(&trees[g]);
    free(trees);
    return err;
}

/* Space-major work units of `rank`: its tiles of every variable, variable
 * major. unit_at gives the k-th as (v, i). */
size_t stats_unit_count(const stats_job *j, int rank)
{
    size_t n = 0;
    for (size_t i = 0; i < j->plan.ntiles; i++)
        n += j->plan.tiles[i].owner == rank;
    return n * j->g.nvars;
}

void stats_unit_at(const stats_job *j, int rank, size_t k, size_t *v, size_t *i)
{
    size_t per = stats_unit_count(j, rank) / j->g.nvars;
    *v = k / per;
    size_t want = k % per;
    for (size_t t = 0; t < j->plan.ntiles; t++)
        if (j->plan.tiles[t].owner == rank && want-- == 0) {
            *i = t;
            return;
        }
}

/* Phase 2, time-split only (space-major units are computed in phase 3, as
 * they are written): this rank's share of every tile, no communication. */
floe_err stats_compute_shares(stats_job *j, int rank)
{
    if (!j->plan.time_split)
        return NULL;
    const floe_array *v0 = j->g.vars[0];
    size_t tcells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    void *vals = malloc(BATCH_STEPS * tcells * stats_esize_max(j, 0));
    floe_err err = NULL;
    if (!vals) {
        err = FLOE_ERR(FLOE_ENOMEM, "a chunk of %s", v0->name);
        goto done;
    }
    size_t s0 = 0, s1 = j->g.count[0];
    if (j->plan.time_split)
        stats_plan_rank_steps(&j->plan, rank, &s0, &s1);
    for (size_t v = 0; v < j->g.nvars && !err; v++) {
        for (size_t i = 0; i < j->plan.ntiles && !err; i++) {
            floe_accum_tree *trees = calloc(j->ngroups, sizeof *trees);
            if (!trees) {
                err = FLOE_ERR(FLOE_ENOMEM, "%zu accumulator trees", j->ngroups);
                break;
            }
            stats_next nx = {STATS_NEXT_ALL, s0, s1}; /* every tile's share */
            err = accumulate(j, v, i, s0, s1, &nx, trees, vals, NULL, NULL);
            for (size_t g = 0; g < j->ngroups && !err; g++) {
                size_t slot = stats_slot_of(j, v, i, g);
                /* Time-split: every rank's share, rank 0's included, is kept
                 * serialized; rank 0 absorbs them in rank (= time) order. */
                err = floe_accum_tree_serial_size(&trees[g], &j->partial_size[slot]);
                if (!err && !(j->partials[slot] = malloc(j->partial_size[slot] + 1)))
                    err = FLOE_ERR(FLOE_ENOMEM, "partial statistics");
                if (!err)
                    err = floe_accum_tree_serialize(&trees[g], j->partials[slot],
                                                    j->partial_size[slot]);
            }
            for (size_t g = 0; g < j->ngroups; g++)
                floe_accum_tree_free(&trees[g]);
            free(trees);
        }
    }
done:
    free(vals);
    return err;
}

/* One unit's output chunks, shared by the pool's calls. */
typedef struct unit_encode {
    const stats_job *j;
    size_t v, i;
    void **res;
    floe_buf *enc;
} unit_encode;

/* Chunk q = g * nstat + k: statistic k of group g (none for a group not
 * written), into its own buffer: chunks encode concurrently. */
static floe_err encode_chunk(void *ctx, size_t q, int worker)
{
    (void)worker;
    const unit_encode *x = ctx;
    const stats_job *j = x->j;
    size_t g = q / j->nstat, k = q % j->nstat, v = x->v;
    if (!stats_group_written(j, g))
        return NULL;
    const stats_tile *t = &j->plan.tiles[x->i];
    size_t h = t->y1 - t->y0, w = t->x1 - t->x0, e = stats_esize(j, v);
    float fill = stats_missing(j, v);
    double fill64 = stats_missing_f64(j, v);
    int32_t zero = 0;
    const uint8_t *block = (const uint8_t *)x->res[g] + k * h * w * e;
    /* the count: int32 padded with 0; the others: the stats' type */
    int count = j->stat_list[k] == FLOE_STAT_COUNT;
    FLOE_CHECK(nc_chunk_encode(block, count ? sizeof zero : e, h, w, j->cy, j->cx,
                               count ? (const void *)&zero
                               : j->out64[v] ? (const void *)&fill64 : (const void *)&fill,
                               CF_GRID_DEFLATE_LEVEL, &x->enc[q]),
               "tile %zu of %s", x->i, j->g.vars[v]->name);
    return NULL;
}

/* Raw-chunk output: encode unit (v, i)'s statistics, one chunk per written
 * group and statistic, into enc[g * nstat + k] (initialised buffers). The
 * rank that computed the unit does this, so compression runs in parallel,
 * and on the rank's pool. */
floe_err stats_encode_unit(const stats_job *j, size_t v, size_t i, void **res, floe_buf *enc)
{
    unit_encode x = {j, v, i, res, enc};
    return floe_pool_for(floe_dataset_pool(j->ds), j->ngroups * j->nstat, encode_chunk, &x);
}

/* Buffers for one unit's encoded chunks (NULL on no memory). */
floe_buf *stats_encode_bufs(const stats_job *j)
{
    size_t n = j->ngroups * j->nstat;
    floe_buf *b = calloc(n, sizeof *b);
    /* an incompressible chunk grows by a few bytes per 64 KiB block */
    for (size_t k = 0; b && k < n; k++)
        floe_buf_init(&b[k], 2 * j->cy * j->cx * stats_esize_max(j, 1) + 4096);
    return b;
}

void stats_encode_bufs_free(const stats_job *j, floe_buf **b)
{
    for (size_t k = 0; *b && k < j->ngroups * j->nstat; k++)
        floe_buf_free(&(*b)[k]);
    free(*b);
    *b = NULL;
}

