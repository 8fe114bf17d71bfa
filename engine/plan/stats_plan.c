/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/stats_plan.c - see stats_plan.h. */
#include "engine/plan/stats_plan.h"

#include "engine/reduce/accum.h"

#include <stdlib.h>
#include <string.h>

/* Space-major: tile i to rank i mod nranks; time-split: rank 0 holds them
 * all. Why round-robin: rank 0 writes the tiles in index order whatever
 * the rank count (HDF5 places chunks in the order they are written, so
 * any other order would make the file's bytes depend on the ranks), and
 * with tiles dealt in turn every rank's next tile is among the next ones
 * written, so the ranks compute side by side instead of waiting on each
 * other's runs. */
static void assign_owners(stats_plan *plan)
{
    for (size_t i = 0; i < plan->ntiles; i++)
        plan->tiles[i].owner = plan->time_split ? 0 : (int)(i % (size_t)plan->nranks);
}

floe_err stats_plan_make(size_t sy, size_t ny, size_t sx, size_t nx, uint64_t chy, uint64_t chx,
                         size_t nsteps, int nranks, size_t max_tile_cells, stats_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (!chy || !chx || nranks < 1)
        return FLOE_ERR(FLOE_EINTERNAL, "stats plan: chunk %llux%llu, %d ranks",
                        (unsigned long long)chy, (unsigned long long)chx, nranks);
    plan->nsteps = nsteps;
    plan->nranks = nranks;
    plan->block_steps = FLOE_ACCUM_BLOCK_STEPS;
    plan->nblocks = (nsteps + plan->block_steps - 1) / plan->block_steps;
    if (!ny || !nx)
        return NULL;
    uint64_t cy0 = sy / chy, cy1 = (sy + ny - 1) / chy + 1;
    uint64_t cx0 = sx / chx, cx1 = (sx + nx - 1) / chx + 1;
    /* Bands: a chunk's rows are split when its cells would exceed
     * max_tile_cells (every band reads the chunk again: memory for I/O). */
    size_t w = (size_t)(chx < nx ? chx : nx);
    size_t band = (size_t)chy;
    if (max_tile_cells && band * w > max_tile_cells)
        band = max_tile_cells / w ? max_tile_cells / w : 1;
    size_t bands = ((size_t)chy + band - 1) / band;
    size_t n = (size_t)((cy1 - cy0) * (cx1 - cx0)) * bands;
    plan->tiles = calloc(n, sizeof *plan->tiles);
    if (!plan->tiles)
        return FLOE_ERR(FLOE_ENOMEM, "stats plan: %zu tiles", n);
    size_t total = 0;
    for (uint64_t cy = cy0; cy < cy1; cy++)
        for (uint64_t cx = cx0; cx < cx1; cx++) {
            size_t r0 = (size_t)(cy * chy), c0 = (size_t)(cx * chx);
            size_t y0 = (r0 > sy ? r0 : sy) - sy;
            size_t y1 = (r0 + chy < sy + ny ? r0 + chy : sy + ny) - sy;
            for (size_t b0 = y0; b0 < y1; b0 += band) {
                stats_tile *t = &plan->tiles[plan->ntiles++];
                t->cy = cy, t->cx = cx;
                t->y0 = b0;
                t->y1 = b0 + band < y1 ? b0 + band : y1;
                t->x0 = (c0 > sx ? c0 : sx) - sx;
                t->x1 = (c0 + chx < sx + nx ? c0 + chx : sx + nx) - sx;
                total += (t->y1 - t->y0) * (t->x1 - t->x0);
            }
        }
    plan->total_cells = total;
    plan->time_split = plan->ntiles < (size_t)nranks;
    assign_owners(plan);
    return NULL;
}

void stats_plan_space_major(stats_plan *plan)
{
    plan->time_split = 0;
    assign_owners(plan);
}

void stats_plan_free(stats_plan *plan)
{
    free(plan->tiles);
    memset(plan, 0, sizeof *plan);
}

void stats_plan_rank_steps(const stats_plan *plan, int rank, size_t *s0, size_t *s1)
{
    size_t b0 = plan->nblocks * (size_t)rank / (size_t)plan->nranks;
    size_t b1 = plan->nblocks * (size_t)(rank + 1) / (size_t)plan->nranks;
    *s0 = b0 * plan->block_steps;
    *s1 = b1 * plan->block_steps < plan->nsteps ? b1 * plan->block_steps : plan->nsteps;
    if (*s0 > *s1)
        *s0 = *s1;
}
