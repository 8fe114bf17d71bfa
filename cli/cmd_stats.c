/* cli/cmd_stats.c - `floe stats` and `floe climatology`: per-cell temporal
 * statistics over a time range, or per group of steps (month, season, day
 * of year), under MPI (engine/plan/stats_plan.h says how the work is split).
 * `stats` is the case of one group holding every step.
 *
 * Phases, each closed by a collective error agreement so that a failure on
 * one rank never leaves the others waiting in a receive:
 *   1. every rank opens the dataset and makes the same plan;
 *   2. time-split: every rank computes its share of every tile's time
 *      range, without communication;
 *   3. rank 0 writes the file: space-major, in rounds, every rank computing
 *      its next tile and rank 0 writing its own and receiving the others'
 *      (write_space_major); time-split, absorbing the partial accumulators
 *      in rank = time order. The derived STAC Item follows the commit.
 * Values equal to _FillValue/missing_value are skipped; a cell with no
 * valid value is missing in every statistic but count (0).
 */
#include "cli/cmd_stats.h"

#include "common/floe_log.h"
#include "engine/reduce/accum.h"
#include "engine/plan/climatology_groups.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/dataset_collective.h"
#include "engine/mpi/comm.h"
#include "engine/plan/grid_select.h"
#include "engine/plan/stats_plan.h"
#include "engine/plan/time_select.h"
#include "cf/decode.h"
#include "out/grid_output.h"
#include "dataset/dataset.h"
#include "out/chunk_encode.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "out/item/item.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_VARS = 16, MAX_OUT = MAX_VARS * 6 };
/* Memory for one tile's accumulators and statistics per rank; tiles whose
 * cells need more are cut into bands of rows (engine/plan/stats_plan.h). */
#define TILE_MEMORY ((size_t)1 << 30)

typedef struct stats_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox, --time, -o, --item, -q */
    const char *stat;
    const char *by;     /* climatology: month, season, dayofyear */
    int climatology;
} stats_args;

void cmd_climatology_help(FILE *out)
{
    fprintf(out,
            "usage: floe climatology SOURCE -v VAR[,VAR...] --by month|season|dayofyear\n"
            "                        [--stat LIST] [--bbox W,S,E,N] [--time T0[/T1]]\n"
            "                        -o OUT.nc [source options]\n"
            "       mpirun -np N floe climatology ...\n"
            "\n"
            "Per-cell statistics of the steps of each calendar month, season (DJF, MAM,\n"
            "JJA, SON; December joins the following January and February) or day of\n"
            "year (CDO's ydaymean grouping: month and day, 29 February its own group),\n"
            "grouped by the steps' time stamps as they are stored. Written as CF\n"
            "NetCDF-4 variables VAR_STAT over a time axis of the groups present, with\n"
            "climatology_bounds and cell_methods \"time: mean within years time: mean\n"
            "over years\". Same bytes for any number of MPI ranks.\n"
            "\n"
            "Options:\n"
            "  --by GROUPING        month, season or dayofyear (required)\n"
            "  -v, --vars LIST      variables, comma-separated\n"
            "  --stat LIST          any of mean,std,count,min,max,sum (default mean,std,count)\n"
            "  --bbox W,S,E,N       longitude/latitude box (cell centres, edges inclusive)\n"
            "  --time T0[/T1]       ISO 8601 instant or interval, both ends inclusive\n");
    cmd_output_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
}

void cmd_stats_help(FILE *out)
{
    fprintf(out,
            "usage: floe stats SOURCE -v VAR[,VAR...] [--stat LIST] [--bbox W,S,E,N]\n"
            "                  [--time T0[/T1]] -o OUT.nc [source options]\n"
            "       mpirun -np N floe stats ...\n"
            "\n"
            "Per-cell statistics over the selected time steps, written as CF NetCDF-4\n"
            "variables VAR_STAT (e.g. Tair_mean) with time bounds and cell_methods.\n"
            "Missing values (_FillValue, missing_value) are skipped; cells without any\n"
            "valid value are missing (count: 0). std is the population standard\n"
            "deviation (divisor n, like CDO's timstd). The result is the same, bit for\n"
            "bit, for any number of MPI ranks.\n"
            "\n"
            "Options:\n"
            "  -v, --vars LIST      variables, comma-separated\n"
            "  --stat LIST          any of mean,min,max,sum,std,count (default mean)\n"
            "  --bbox W,S,E,N       longitude/latitude box (cell centres, edges inclusive)\n"
            "  --time T0[/T1]       ISO 8601 instant or interval, both ends inclusive\n");
    cmd_output_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
}

static floe_err parse_args(int argc, char **argv, stats_args *a)
{
    memset(a, 0, sizeof *a);
    a->climatology = !strcmp(argv[0], "climatology");
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
        if (cmd_is(&s, "--stat", "--stats"))
            FLOE_CHECK(cmd_value(&s, &a->stat));
        else if (a->climatology && cmd_is(&s, "--by", NULL))
            FLOE_CHECK(cmd_value(&s, &a->by));
        else
            return FLOE_ERR(FLOE_EINVAL, "%s: unknown option '%s' (see 'floe %s --help')",
                            argv[0], s.name, argv[0]);
    }
    FLOE_CHECK(cmd_source_finish(&s, &a->src));
    FLOE_CHECK(cmd_grid_finish(argv[0], &a->grid));
    if (a->climatology && !a->by)
        return FLOE_ERR(FLOE_EINVAL, "climatology: give the grouping with --by "
                        "month|season|dayofyear");
    return NULL;
}

/* TILE_MEMORY, or FLOE_TILE_MEMORY (bytes) from the environment: a tuning
 * knob, and how the tests make small tiles take the banded path. */
static size_t tile_memory(void)
{
    const char *e = getenv("FLOE_TILE_MEMORY");
    char *end;
    unsigned long long v = e ? strtoull(e, &end, 10) : 0;
    return e && *e && !*end && v > 0 ? (size_t)v : TILE_MEMORY;
}

/* Everything every rank knows identically after phase 1. */
typedef struct job {
    floe_dataset *ds;
    floe_grid_select g;       /* variables, axes, the selected box */
    cf_decoder cf[MAX_VARS];
    unsigned stats;           /* FLOE_STAT_* mask */
    unsigned stat_list[6];    /* the bits in output order */
    size_t nstat;
    stats_plan plan;
    /* Groups of the selected steps: one (every step) for stats. */
    size_t ngroups;
    uint32_t *group_of_step;  /* [count[0]], NULL: all in group 0 */
    floe_clim_groups groups;  /* climatology only */
    cf_time_units tunits;
    /* time-split phase 2 results, per var x tile x group: serialized
     * partial trees */
    void **partials;          /* [slot_of(v, i, g)] */
    size_t *partial_size;
    /* Space-major with every tile one chunk of the output's grid: ranks
     * encode their own tiles' chunks and rank 0 only stores them (before,
     * rank 0 compressed every output chunk with zlib while the others
     * waited: 12-15% of a whole-domain climatology). The environment
     * variable FLOE_NO_RAW_CHUNKS turns it off, to compare the two paths. */
    int raw_chunks;
    size_t cy, cx;            /* the output chunk shape (lat, lon) */
    /* From the environment as rank 0 sees it (cmd_stats_run): the plan
     * must be the same on every rank. */
    size_t tile_memory;
    int raw_allowed;
    job_progress progress;    /* rank 0's chunks */
    floe_collector collector; /* rank 0: phase 3's receiving side */
    floe_buf partial_in;      /* rank 0: another rank's partial tree (time-split) */
} job;

/* Index of (variable, tile, group) in the result tables. */
static size_t slot_of(const job *j, size_t v, size_t i, size_t g)
{
    return (v * j->plan.ntiles + i) * j->ngroups + g;
}

static void job_free(job *j)
{
    size_t n = j->g.nvars * j->plan.ntiles * j->ngroups;
    for (size_t i = 0; i < n && j->partials; i++)
        free(j->partials[i]);
    free(j->partials);
    free(j->partial_size);
    floe_buf_free(&j->partial_in);
    floe_collector_free(&j->collector);
    floe_clim_groups_free(&j->groups);
    stats_plan_free(&j->plan);
    floe_grid_select_free(&j->g);
    floe_dataset_free(&j->ds);
}

/* Phase 1, on every rank: open, check, select, plan. */
static floe_err prepare(const stats_args *a, const floe_mpi *mpi, job *j)
{
    FLOE_CHECK(floe_stat_parse_list(a->stat ? a->stat : a->climatology ? "mean,std,count" : "mean",
                                    FLOE_STAT_ALL, &j->stats),
               "--stat");
    for (unsigned b = 0; b < 6; b++)
        if (j->stats & (1u << b))
            j->stat_list[j->nstat++] = 1u << b;
    floe_open_request req = a->src.req;
    req.arrays = a->grid.vars; /* only their manifests (and their coordinates') */
    FLOE_CHECK(floe_dataset_open_collective(mpi, &req, &j->ds), "%s", /* collective */
               a->src.req.source);
    FLOE_CHECK(floe_grid_select_make(j->ds, a->grid.vars, a->grid.bbox, a->grid.time, &j->g));
    if (j->g.nvars > MAX_VARS)
        return FLOE_ERR(FLOE_EINVAL, "too many variables (at most %d)", MAX_VARS);
    for (size_t v = 0; v < j->g.nvars; v++) {
        const floe_array *x = j->g.vars[v];
        /* Tiles follow the chunk grid, which all variables must share. */
        if (memcmp(x->chunk_shape, j->g.vars[0]->chunk_shape, sizeof x->chunk_shape))
            return FLOE_ERR(FLOE_EINVAL, "variables %s and %s differ in chunks",
                            j->g.vars[0]->name, x->name);
        FLOE_CHECK(cf_decoder_init(&j->cf[v], x->attributes, (zarr_dtype)x->dtype,
                                   CF_MASK_ZARR_FILL, &x->fill_value),
                   "variable %s", x->name);
    }
    j->ngroups = 1;
    if (a->climatology) {
        floe_clim_by by;
        FLOE_CHECK(floe_clim_by_parse(a->by, &by), "--by");
        cf_instant *inst = malloc(j->g.count[0] * sizeof *inst);
        if (!inst)
            return FLOE_ERR(FLOE_ENOMEM, "time steps");
        floe_err err = floe_time_instants(j->g.time, j->g.tv + j->g.start[0], j->g.count[0], &j->tunits, inst);
        if (!err)
            err = floe_clim_groups_build(&j->groups, by, j->tunits.calendar, inst, j->g.count[0]);
        free(inst);
        FLOE_CHECK(err, "grouping by %s", a->by);
        j->ngroups = j->groups.ngroups;
        j->group_of_step = j->groups.group_of_step;
    } else {
        FLOE_CHECK(floe_time_units(j->g.time, &j->tunits));
    }
    /* A tile's accumulators (every group's tree: its block and about
     * log2(blocks) nodes) and results must fit TILE_MEMORY. */
    size_t nblocks = (j->g.count[0] + FLOE_ACCUM_BLOCK_STEPS - 1) / FLOE_ACCUM_BLOCK_STEPS, lg = 0;
    while (((size_t)1 << lg) < nblocks + 1)
        lg++;
    size_t per_cell = j->ngroups * (floe_accum_cell_bytes(j->stats) * (2 + lg) + j->nstat * 4);
    const floe_array *v0 = j->g.vars[0];
    FLOE_CHECK(stats_plan_make(j->g.start[1], j->g.count[1], j->g.start[2], j->g.count[2],
                               v0->chunk_shape[1], v0->chunk_shape[2], j->g.count[0], mpi->size,
                               j->tile_memory / per_cell, &j->plan));
    cf_grid_chunk_shape(v0, j->g.count[1], j->g.count[2], &j->cy, &j->cx);
    j->raw_chunks = !j->plan.time_split && j->raw_allowed;
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

/* A batch of steps [b0, b1) of one tile: its chunks are requested at once
 * (fetched concurrently, decoded as they arrive, the next batch's read
 * ahead) and their values placed by step, then added to the tree in step
 * order. Memory: BATCH_STEPS x the tile's cells, plus the fetcher's window.
 * Why 8: the batch is read back from memory by the adds, so it should stay
 * in the last-level cache (8 x 450,000 cells x 4 bytes = 14 MB for a real
 * NLDAS-3 chunk); 32 (58 MB) cost 10-15% more CPU on a whole-domain
 * climatology, and 4 leaves the fetcher too little to overlap at 20 ms
 * (benchmarks W5, 2026-11-24). */
enum { BATCH_STEPS = 8 };

typedef struct tile_batch {
    job *j;
    size_t v;
    const stats_tile *t;
    size_t b0, b1;          /* selected steps, relative to the selection */
    const uint64_t *coords; /* 3 per chunk */
    float *vals;            /* (b1 - b0) x cells, CF-masked */
    float *raw;             /* one tile of one step, as stored */
} tile_batch;

static floe_err place_tile(void *ctx, size_t index, const void *decoded)
{
    tile_batch *b = ctx;
    job *j = b->j;
    const floe_array *a = j->g.vars[b->v];
    const stats_tile *t = b->t;
    uint64_t ct = a->chunk_shape[0], ch = a->chunk_shape[1], cw = a->chunk_shape[2];
    size_t w = t->x1 - t->x0, cells = (t->y1 - t->y0) * w;
    size_t r0 = (size_t)(t->cy * ch), c0 = (size_t)(t->cx * cw);
    for (uint64_t k = 0; k < ct; k++) {
        uint64_t step = b->coords[3 * index] * ct + k; /* absolute */
        if (step < j->g.start[0] + b->b0 || step >= j->g.start[0] + b->b1)
            continue;
        const float *slab = (const float *)decoded + k * ch * cw;
        float *dst = b->vals + (size_t)(step - j->g.start[0] - b->b0) * cells;
        for (size_t y = t->y0; y < t->y1; y++)
            cf_decode_to_float(&j->cf[b->v],
                               slab + (j->g.start[1] + y - r0) * cw + (j->g.start[2] + t->x0 - c0),
                               w, dst + (y - t->y0) * w);
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
static size_t batch_coords(const job *j, const stats_tile *t, size_t b0, size_t b1,
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
static floe_err accumulate(job *j, size_t v, const stats_tile *t, size_t s0, size_t s1,
                           floe_accum_tree *trees, float *raw, float *vals)
{
    const floe_array *a = j->g.vars[v];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    uint64_t coords[3 * BATCH_STEPS], next[3 * BATCH_STEPS];
    for (size_t g = 0; g < j->ngroups; g++)
        FLOE_CHECK(floe_accum_tree_init(&trees[g], cells, j->stats, j->plan.block_steps, s0));
    for (size_t b0 = s0; b0 < s1; b0 += BATCH_STEPS) {
        size_t b1 = b0 + BATCH_STEPS < s1 ? b0 + BATCH_STEPS : s1;
        size_t n = batch_coords(j, t, b0, b1, coords);
        /* the next batch of this tile is read ahead, while this one is reduced */
        size_t b2 = b1 + BATCH_STEPS < s1 ? b1 + BATCH_STEPS : s1;
        size_t nnext = b1 < s1 ? batch_coords(j, t, b1, b2, next) : 0;
        tile_batch b = {j, v, t, b0, b1, coords, vals, raw};
        FLOE_CHECK(floe_dataset_read_chunks_ahead(j->ds, a, coords, n, next, nnext, place_tile, &b),
                   "variable %s steps %zu..%zu", a->name, j->g.start[0] + b0, j->g.start[0] + b1 - 1);
        job_progress_add(&j->progress, n);
        floe_accum *block[BATCH_STEPS];
        for (size_t s = b0; s < b1; s++) {
            size_t g = j->group_of_step ? j->group_of_step[s] : 0;
            FLOE_CHECK(floe_accum_tree_block(&trees[g], &block[s - b0]));
            if (s + 1 < b1) /* the last step's end completes the block: after the adds */
                for (size_t k = 0; k < j->ngroups; k++)
                    FLOE_CHECK(floe_accum_tree_end_step(&trees[k]));
        }
        for (size_t c0 = 0; c0 < cells; c0 += CELL_BLOCK) {
            size_t nc = cells - c0 < CELL_BLOCK ? cells - c0 : CELL_BLOCK;
            for (size_t s = b0; s < b1; s++)
                FLOE_CHECK(floe_accum_add_cells(block[s - b0], c0, vals + (s - b0) * cells + c0,
                                                nc));
        }
        for (size_t k = 0; k < j->ngroups; k++)
            FLOE_CHECK(floe_accum_tree_end_step(&trees[k]));
    }
    return NULL;
}

static floe_err results_of(job *j, floe_accum_tree *tree, size_t cells, float fill, float **out)
{
    const floe_accum *acc;
    FLOE_CHECK(floe_accum_tree_result(tree, &acc));
    size_t n = j->nstat * cells;
    float *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return FLOE_ERR(FLOE_ENOMEM, "statistics of a tile (%zu cells)", cells);
    for (size_t k = 0; k < j->nstat; k++) {
        floe_err err = floe_accum_result(acc, j->stat_list[k], r + k * cells, fill);
        if (err) {
            free(r);
            return err;
        }
    }
    *out = r;
    return NULL;
}

/* The chunks `rank` reads in phase 2 (for the progress line). */
static uint64_t chunks_of_rank(const job *j, int rank)
{
    size_t s0 = 0, s1 = j->g.count[0];
    if (j->plan.time_split)
        stats_plan_rank_steps(&j->plan, rank, &s0, &s1);
    if (s1 <= s0)
        return 0;
    uint64_t ct = j->g.vars[0]->chunk_shape[0];
    uint64_t rows = (j->g.start[0] + s1 - 1) / ct - (j->g.start[0] + s0) / ct + 1, tiles = 0;
    for (size_t i = 0; i < j->plan.ntiles; i++)
        tiles += j->plan.time_split || j->plan.tiles[i].owner == rank;
    return rows * tiles * j->g.nvars;
}

/* The statistics of every group of tile i of variable v over all selected
 * steps (space-major): res[g] = nstat x cells floats (owned by the caller). */
static floe_err compute_unit(job *j, size_t v, size_t i, float *raw, float *vals, float **res)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    floe_accum_tree *trees = calloc(j->ngroups, sizeof *trees);
    if (!trees)
        return FLOE_ERR(FLOE_ENOMEM, "%zu accumulator trees", j->ngroups);
    floe_err err = accumulate(j, v, t, 0, j->g.count[0], trees, raw, vals);
    for (size_t g = 0; g < j->ngroups && !err; g++)
        err = results_of(j, &trees[g], cells, (float)j->g.vars[v]->fill_value, &res[g]);
    for (size_t g = 0; g < j->ngroups; g++)
        floe_accum_tree_free(&trees[g]);
    free(trees);
    return err;
}

/* Space-major work units of `rank`: its tiles of every variable, variable
 * major. unit_at gives the k-th as (v, i). */
static size_t unit_count(const job *j, int rank)
{
    size_t n = 0;
    for (size_t i = 0; i < j->plan.ntiles; i++)
        n += j->plan.tiles[i].owner == rank;
    return n * j->g.nvars;
}

static void unit_at(const job *j, int rank, size_t k, size_t *v, size_t *i)
{
    size_t per = unit_count(j, rank) / j->g.nvars;
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
static floe_err compute(job *j, int rank)
{
    if (!j->plan.time_split)
        return NULL;
    const floe_array *v0 = j->g.vars[0];
    size_t tcells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    float *raw = malloc(tcells * sizeof *raw);
    float *vals = malloc(BATCH_STEPS * tcells * sizeof *vals);
    floe_err err = NULL;
    if (!raw || !vals) {
        err = FLOE_ERR(FLOE_ENOMEM, "a chunk of %s", v0->name);
        goto done;
    }
    size_t s0 = 0, s1 = j->g.count[0];
    if (j->plan.time_split)
        stats_plan_rank_steps(&j->plan, rank, &s0, &s1);
    for (size_t v = 0; v < j->g.nvars && !err; v++) {
        for (size_t i = 0; i < j->plan.ntiles && !err; i++) {
            const stats_tile *t = &j->plan.tiles[i];
            floe_accum_tree *trees = calloc(j->ngroups, sizeof *trees);
            if (!trees) {
                err = FLOE_ERR(FLOE_ENOMEM, "%zu accumulator trees", j->ngroups);
                break;
            }
            err = accumulate(j, v, t, s0, s1, trees, raw, vals);
            for (size_t g = 0; g < j->ngroups && !err; g++) {
                size_t slot = slot_of(j, v, i, g);
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
    free(raw);
    free(vals);
    return err;
}

/* Phase 3 on rank 0: the statistics of group g of tile i of variable v
 * (owned by the caller). */
static floe_err gather_tile(job *j, const floe_mpi *mpi, size_t v, size_t i, size_t g,
                           float **out)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    size_t slot = slot_of(j, v, i, g);
    floe_accum_tree root;
    memset(&root, 0, sizeof root);
    floe_err err = floe_accum_tree_init(&root, cells, j->stats, j->plan.block_steps, 0);
    if (!err)
        err = floe_accum_tree_absorb(&root, j->partials[slot], j->partial_size[slot]);
    for (int r = 1; r < mpi->size; r++) {
        /* receive even after an error: the sender must not be left waiting */
        int ok = 0;
        floe_err e = floe_collect_recv_status(&j->collector, r, &ok);
        if (!e && ok)
            e = floe_collect_recv_buf(&j->collector, r, &j->partial_in);
        if (!e && !ok)
            e = FLOE_ERR(FLOE_EINTERNAL, "rank %d failed after the agreement", r);
        if (e)
            e = floe_err_push(e, __FILE__, __LINE__, " partial statistics from rank %d", r);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
        if (!err)
            err = floe_accum_tree_absorb(&root, j->partial_in.data, j->partial_in.len);
    }
    if (!err)
        err = results_of(j, &root, cells, (float)j->g.vars[v]->fill_value, out);
    floe_accum_tree_free(&root);
    return err;
}

/* Whether group g becomes an output time step (groups without steps do
 * not: a climatology over a few months writes only those). */
static int group_written(const job *j, size_t g)
{
    return j->group_of_step == NULL || j->groups.nsteps_in[g] > 0;
}

/* Raw-chunk output: encode unit (v, i)'s statistics, one chunk per written
 * group and statistic, into enc[g * nstat + k] (initialised buffers). The
 * rank that computed the unit does this, so compression runs in parallel. */
static floe_err encode_unit(const job *j, size_t v, size_t i, float **res, floe_buf *enc)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t h = t->y1 - t->y0, w = t->x1 - t->x0;
    float fill = (float)j->g.vars[v]->fill_value;
    for (size_t g = 0; g < j->ngroups; g++)
        for (size_t k = 0; group_written(j, g) && k < j->nstat; k++)
            FLOE_CHECK(nc_chunk_encode_f32(res[g] + k * h * w, h, w, j->cy, j->cx, fill,
                                           CF_GRID_DEFLATE_LEVEL, &enc[g * j->nstat + k]),
                       "tile %zu of %s", i, j->g.vars[v]->name);
    return NULL;
}

/* Buffers for one unit's encoded chunks (NULL on no memory). */
static floe_buf *encode_bufs(const job *j)
{
    size_t n = j->ngroups * j->nstat;
    floe_buf *b = calloc(n, sizeof *b);
    /* an incompressible chunk grows by a few bytes per 64 KiB block */
    for (size_t k = 0; b && k < n; k++)
        floe_buf_init(&b[k], 2 * j->cy * j->cx * sizeof(float) + 4096);
    return b;
}

static void encode_bufs_free(const job *j, floe_buf **b)
{
    for (size_t k = 0; *b && k < j->ngroups * j->nstat; k++)
        floe_buf_free(&(*b)[k]);
    free(*b);
    *b = NULL;
}

/* Phase 3 on the other ranks: send, in the order rank 0 receives.
 * Space-major: unit by unit as computed, each after a status message (a
 * rank that fails says so and sends nothing more), so a rank holds one
 * unit's results at a time. Time-split: the partial trees of phase 2. */
static floe_err send_share(job *j, const floe_mpi *mpi)
{
    if (j->plan.time_split) {
        for (size_t v = 0; v < j->g.nvars; v++)
            for (size_t i = 0; i < j->plan.ntiles; i++)
                for (size_t g = 0; g < j->ngroups; g++) {
                    size_t slot = slot_of(j, v, i, g);
                    FLOE_CHECK(floe_collect_send_status(mpi, 0));
                    FLOE_CHECK(floe_collect_send(mpi, j->partials[slot], j->partial_size[slot]));
                }
        return NULL;
    }
    const floe_array *v0 = j->g.vars[0];
    size_t tcells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    float *raw = malloc(tcells * sizeof *raw), *vals = malloc(BATCH_STEPS * tcells * sizeof *vals);
    float **res = calloc(j->ngroups, sizeof *res);
    floe_buf *enc = j->raw_chunks ? encode_bufs(j) : NULL;
    floe_err err = raw && vals && res && (enc || !j->raw_chunks)
                       ? NULL : FLOE_ERR(FLOE_ENOMEM, "a tile of %s", v0->name);
    size_t n = unit_count(j, mpi->rank);
    for (size_t k = 0; k < n; k++) {
        size_t v = 0, i = 0;
        unit_at(j, mpi->rank, k, &v, &i);
        if (!err)
            err = compute_unit(j, v, i, raw, vals, res);
        if (!err && enc)
            err = encode_unit(j, v, i, res, enc);
        floe_err e = floe_collect_send_status(mpi, err != NULL);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
        int status = err != NULL;
        const stats_tile *t = &j->plan.tiles[i];
        size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
        for (size_t g = 0; g < j->ngroups && res; g++) {
            for (size_t s = 0; !err && enc && group_written(j, g) && s < j->nstat; s++) {
                const floe_buf *b = &enc[g * j->nstat + s];
                err = floe_collect_send(mpi, b->data, b->len);
            }
            if (!err && !status && !enc)
                err = floe_collect_send(mpi, res[g], j->nstat * cells * sizeof *res[g]);
            free(res[g]);
            res[g] = NULL;
        }
        if (status)
            break; /* rank 0 expects nothing more from this rank */
    }
    free(raw);
    free(vals);
    free(res);
    encode_bufs_free(j, &enc);
    return err;
}

/* CF cell_methods of one statistic, over the range or as a climatology. */
static void cell_method(const char *stat, int climatology, char *buf, size_t size)
{
    const char *m = !strcmp(stat, "std") ? "standard_deviation"
                    : !strcmp(stat, "min") ? "minimum"
                    : !strcmp(stat, "max") ? "maximum"
                    : !strcmp(stat, "count") ? "point" : stat;
    if (climatology)
        snprintf(buf, size, "time: %s within years time: %s over years", m, m);
    else
        snprintf(buf, size, "time: %s", m);
}

/* Write group g of tile i of variable v (nstat x cells floats). */
static floe_err put_unit(job *j, cf_grid_output *out, const size_t *tindex, size_t v, size_t i,
                         size_t g, const float *r)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t h = t->y1 - t->y0, w = t->x1 - t->x0;
    for (size_t k = 0; tindex[g] != SIZE_MAX && k < j->nstat; k++)
        FLOE_CHECK(cf_grid_output_put_region(out, v * j->nstat + k, tindex[g], t->y0, h, t->x0,
                                             w, r + k * h * w));
    return NULL;
}

/* The same from encoded chunks (raw-chunk output). */
static floe_err put_unit_chunks(job *j, cf_grid_output *out, const size_t *tindex, size_t v,
                                size_t i, size_t g, const floe_buf *enc)
{
    const stats_tile *t = &j->plan.tiles[i];
    for (size_t k = 0; tindex[g] != SIZE_MAX && k < j->nstat; k++) {
        const floe_buf *b = &enc[g * j->nstat + k];
        FLOE_CHECK(cf_grid_output_put_raw_chunk(out, v * j->nstat + k, tindex[g], t->y0, t->x0,
                                                b->data, b->len));
    }
    return NULL;
}

/* Rank 0: receive the rest of a unit from rank r (its status was 0),
 * all of it even after a failure here, so the sender is never left
 * waiting; the first failure is returned. As encoded chunks: */
static floe_err recv_unit_chunks(job *j, int r, floe_buf *enc)
{
    floe_err err = NULL;
    for (size_t g = 0; g < j->ngroups; g++)
        for (size_t s = 0; group_written(j, g) && s < j->nstat; s++) {
            /* a chunk over the buffer's cap is received and dropped */
            floe_err e = floe_collect_recv_buf(&j->collector, r, &enc[g * j->nstat + s]);
            if (e && !err)
                err = floe_err_push(e, __FILE__, __LINE__, " chunks of a tile from rank %d", r);
            else
                floe_err_free(&e);
        }
    return err;
}

/* ... or as statistics (nstat x cells floats per group) into res. */
static floe_err recv_unit_floats(job *j, int r, size_t cells, float **res)
{
    floe_err err = NULL;
    for (size_t g = 0; g < j->ngroups; g++) {
        float *p = malloc(j->nstat * cells * sizeof *p);
        if (!p && !err)
            err = FLOE_ERR(FLOE_ENOMEM, "statistics of a tile from rank %d", r);
        /* without room for them: received and dropped */
        floe_err e = floe_collect_recv_exact(&j->collector, r, p, j->nstat * cells * sizeof *p);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
        if (res) {
            free(res[g]);
            res[g] = p;
        } else {
            free(p);
        }
    }
    return err;
}

/* Space-major phase 3 on rank 0, in rounds: in round k every rank computes
 * its k-th unit (a tile of a variable, all groups); rank 0 writes its own,
 * then receives and writes the others' in rank order. Memory per rank: one
 * unit's accumulators and results, whatever the number of tiles it owns.
 * A rank that failed is not waited for again; after its own failure (or
 * with `failed`: before it started) rank 0 still receives, and drops, what
 * the others send. */
static floe_err write_space_major(job *j, const floe_mpi *mpi, cf_grid_output *out,
                                  const size_t *tindex, int failed)
{
    const floe_array *v0 = j->g.vars[0];
    size_t tcells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    float *raw = malloc(tcells * sizeof *raw), *vals = malloc(BATCH_STEPS * tcells * sizeof *vals);
    float **res = calloc(j->ngroups, sizeof *res);
    floe_buf *enc = j->raw_chunks ? encode_bufs(j) : NULL;
    floe_err err = raw && vals && res && (enc || !j->raw_chunks)
                       ? NULL : FLOE_ERR(FLOE_ENOMEM, "a tile of %s", v0->name);
    if (!err && !failed && j->raw_chunks)
        err = cf_grid_output_begin_raw_chunks(out);
    size_t rounds = 0;
    for (int r = 0; r < mpi->size; r++)
        if (unit_count(j, r) > rounds)
            rounds = unit_count(j, r);
    for (size_t k = 0; k < rounds; k++)
        for (int r = 0; r < mpi->size; r++) {
            if (k >= unit_count(j, r) || floe_collector_failed(&j->collector, r))
                continue;
            size_t v = 0, i = 0;
            unit_at(j, r, k, &v, &i);
            const stats_tile *t = &j->plan.tiles[i];
            size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
            if (r == 0) {
                if (!err && !failed)
                    err = compute_unit(j, v, i, raw, vals, res);
                if (!err && !failed && enc)
                    err = encode_unit(j, v, i, res, enc);
            } else {
                int ok = 0;
                floe_err e = floe_collect_recv_status(&j->collector, r, &ok);
                if (!e && !ok)
                    continue; /* it sends nothing more; its error comes in the agreement */
                if (!e)
                    e = enc ? recv_unit_chunks(j, r, enc) : recv_unit_floats(j, r, cells, res);
                if (!err)
                    err = e;
                else
                    floe_err_free(&e);
            }
            for (size_t g = 0; g < j->ngroups && res; g++) {
                if (!err && !failed && enc)
                    err = put_unit_chunks(j, out, tindex, v, i, g, enc);
                else if (!err && !failed && res[g])
                    err = put_unit(j, out, tindex, v, i, g, res[g]);
                free(res[g]);
                res[g] = NULL;
            }
        }
    free(raw);
    free(vals);
    free(res);
    encode_bufs_free(j, &enc);
    return err;
}

/* Phase 3 on rank 0: write the file (and then the Item). Output steps are
 * the groups with at least one step; tiles are written as they arrive, so
 * rank 0 never holds more than one tile's statistics. */
static floe_err write_output(job *j, const floe_mpi *mpi, const stats_args *a, const char *line)
{
    const char *names[MAX_OUT], *methods[MAX_OUT];
    char name_buf[MAX_OUT][128], method_buf[MAX_OUT][96];
    const floe_array *vars[MAX_OUT];
    size_t nout = 0;
    for (size_t v = 0; v < j->g.nvars; v++)
        for (size_t k = 0; k < j->nstat; k++, nout++) {
            const char *st = floe_stat_name(j->stat_list[k]);
            snprintf(name_buf[nout], sizeof name_buf[nout], "%s_%s", j->g.vars[v]->name, st);
            cell_method(st, a->climatology, method_buf[nout], sizeof method_buf[nout]);
            names[nout] = name_buf[nout];
            methods[nout] = method_buf[nout];
            vars[nout] = j->g.vars[v];
        }
    /* output time axis: one step per non-empty group */
    size_t nt = 0;
    size_t *tindex = malloc(j->ngroups * sizeof *tindex);
    double *tval = malloc(j->ngroups * sizeof *tval), *tb = malloc(2 * j->ngroups * sizeof *tb);
    floe_err err = (!tindex || !tval || !tb) ? FLOE_ERR(FLOE_ENOMEM, "time axis") : NULL;
    for (size_t g = 0; g < j->ngroups && !err; g++) {
        tindex[g] = SIZE_MAX;
        if (!a->climatology) {
            tb[0] = j->g.tv[j->g.start[0]];
            tb[1] = j->g.tv[j->g.start[0] + j->g.count[0] - 1];
            tval[0] = (tb[0] + tb[1]) / 2;
            tindex[g] = nt++;
        } else if (group_written(j, g)) {
            cf_instant when, bounds[2];
            err = floe_clim_groups_time(&j->groups, g, &when, bounds);
            tval[nt] = cf_time_instant_to_value(&j->tunits, when);
            tb[2 * nt] = cf_time_instant_to_value(&j->tunits, bounds[0]);
            tb[2 * nt + 1] = cf_time_instant_to_value(&j->tunits, bounds[1]);
            tindex[g] = nt++;
        }
    }
    cf_grid_spec spec = {
        .path = a->grid.out, .command = line, .provenance = floe_dataset_provenance(j->ds),
        .time = j->g.time, .lat = j->g.lat, .lon = j->g.lon,
        .time_values = tval, .lat_values = j->g.yv + j->g.start[1], .lon_values = j->g.xv + j->g.start[2],
        .nt = nt, .ny = j->g.count[1], .nx = j->g.count[2],
        .lat_step = j->g.count[1] > 1 ? 0 : (j->g.lat->shape[0] > 1 ? j->g.yv[1] - j->g.yv[0] : 0),
        .lon_step = j->g.count[2] > 1 ? 0 : (j->g.lon->shape[0] > 1 ? j->g.xv[1] - j->g.xv[0] : 0),
        .vars = vars, .nvars = nout, .out_names = names, .cell_methods = methods,
        .time_bounds = tb, .climatology = a->climatology,
    };
    cf_grid_output *out = NULL;
    if (!err)
        err = cf_grid_output_create(&spec, &out);
    if (j->plan.time_split) {
        for (size_t v = 0; v < j->g.nvars; v++)
            for (size_t i = 0; i < j->plan.ntiles; i++)
                for (size_t g = 0; g < j->ngroups; g++) {
                    float *r = NULL;
                    /* gather even after an error: every sender must be received */
                    floe_err e = gather_tile(j, mpi, v, i, g, &r);
                    if (!err)
                        err = e;
                    else
                        floe_err_free(&e);
                    if (!err && r)
                        err = put_unit(j, out, tindex, v, i, g, r);
                    free(r);
                }
    } else {
        /* after a failure here it only receives, so no sender is left waiting */
        floe_err e = write_space_major(j, mpi, out, tindex, err != NULL);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
    }
    if (!err)
        err = cf_grid_output_commit(&out);
    cf_grid_output_abort(&out);
    if (!err)
        err = stac_item_write_grid(&spec, a->grid.item, a->climatology ? "climatology" : "stats",
                                   stac_item_source_kind_of(spec.provenance->doc_kind));
    free(tindex);
    free(tval);
    free(tb);
    return err;
}

floe_err cmd_climatology_run(int argc, char **argv)
{
    return cmd_stats_run(argc, argv); /* argv[0] tells them apart */
}

floe_err cmd_stats_run(int argc, char **argv)
{
    stats_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    floe_mpi mpi;
    FLOE_CHECK(floe_mpi_init(NULL, NULL, &mpi));
    double t_start = job_now();
    job j;
    memset(&j, 0, sizeof j);
    /* Settings from the environment, as rank 0 sees it: on a cluster the
     * other ranks' environment may differ, and they must all make the
     * same plan. */
    uint64_t env[2] = {tile_memory(), getenv("FLOE_NO_RAW_CHUNKS") == NULL};
    if (mpi.comm != MPI_COMM_NULL)
        MPI_Bcast(env, 2, MPI_UINT64_T, 0, mpi.comm); /* collective */
    j.tile_memory = (size_t)env[0];
    j.raw_allowed = env[1] != 0;
    char *line = cmd_line(argc, argv);
    floe_err err = line ? NULL : FLOE_ERR(FLOE_ENOMEM, "stats");
    /* every rank takes part in the collective open, whatever happened above */
    floe_err perr = prepare(&a, &mpi, &j); /* collective */
    if (!err)
        err = perr;
    else
        floe_err_free(&perr);
    if (!floe_mpi_agree(mpi.comm, &err)) { /* collective */
        FLOE_INFO0("stats: %zu variable(s) x %zu stat(s), %zu steps x %zu x %zu cells, %zu "
                   "tiles, %s on %d rank(s), %s", j.g.nvars, j.nstat, j.g.count[0], j.g.count[1],
                   j.g.count[2], j.plan.ntiles, j.plan.time_split ? "time-split" : "space-major",
                   mpi.size, j.raw_chunks ? "every rank compresses its tiles' output chunks"
                                          : "rank 0 compresses the output");
        job_progress_start(&j.progress, a.climatology ? "floe climatology" : "floe stats", j.ds,
                           chunks_of_rank(&j, mpi.rank), mpi.rank == 0 && !a.grid.quiet);
        err = compute(&j, mpi.rank);
        if (!floe_mpi_agree(mpi.comm, &err)) { /* collective */
            if (mpi.rank == 0)
                err = write_output(&j, &mpi, &a, line);
            else
                err = send_share(&j, &mpi);
            job_progress_end(&j.progress);
            if (!floe_mpi_agree(mpi.comm, &err) && a.grid.report) { /* collective */
                err = job_report_write(&mpi, j.ds, a.grid.report, argv[0], line, t_start);
                floe_mpi_agree(mpi.comm, &err); /* collective */
            }
        }
    }
    job_progress_end(&j.progress); /* a no-op when ended above or never started */
    job_free(&j);
    free(line);
    floe_mpi_finalize(&mpi);
    return err;
}
