/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/stats_plan.h - how per-cell temporal statistics are split over ranks.
 *
 * The work is the selection's spatial tiles (its intersection with each
 * source chunk: a tile is read whole, once per time step) times the
 * selected time steps. Cost model: a tile-step costs its cells (every
 * chunk is fetched and decoded whole, so cells stand for bytes).
 *
 *  - Space-major when there are at least as many tiles as ranks: tiles are
 *    dealt to the ranks in turn (tile i to rank i mod nranks, so that the
 *    tiles written in index order come from every rank alike) and each
 *    streams through all time steps. No reduction between ranks; memory per rank is the
 *    accumulators of its tiles.
 *  - Time-split otherwise (few tiles, e.g. a small box): every tile's time
 *    range is cut into contiguous runs of whole blocks of
 *    FLOE_ACCUM_BLOCK_STEPS steps, one run per rank in rank order; rank 0
 *    absorbs the others' partial accumulators in time order.
 * Either way the statistics are the canonical block tree of engine/reduce/accum.h,
 * so the output bits do not depend on the number of ranks. Ranks with no
 * work still take part in every collective.
 */
#ifndef FLOE_STATS_PLAN_H
#define FLOE_STATS_PLAN_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct stats_tile {
    uint64_t cy, cx;   /* source chunk coordinates */
    size_t y0, y1;     /* rows of the selection, [y0, y1) */
    size_t x0, x1;     /* columns */
    int owner;         /* space-major: the rank that computes it */
} stats_tile;

typedef struct stats_plan {
    stats_tile *tiles;
    size_t ntiles;
    int time_split;    /* 0: space-major */
    size_t nsteps;     /* selected time steps */
    size_t nblocks;    /* ceil(nsteps / block) */
    size_t block_steps;
    int nranks;
    size_t total_cells; /* of all tiles */
} stats_plan;

/* Tiles of the selection rows [sy, sy+ny) x cols [sx, sx+nx) of a grid
 * chunked (chy, chx), and their split over nranks. A tile is a chunk's
 * part of the selection, or, when that has more than max_tile_cells cells
 * (0: no limit), a band of its rows: the accumulators of one tile must
 * fit in memory (a day-of-year climatology keeps 366 groups of them), and
 * every band reads its chunks again, trading I/O for memory. */
floe_err stats_plan_make(size_t sy, size_t ny, size_t sx, size_t nx, uint64_t chy, uint64_t chx,
                         size_t nsteps, int nranks, size_t max_tile_cells, stats_plan *plan);
void stats_plan_free(stats_plan *plan);
/* Make a plan space-major whatever its number of tiles (ranks beyond the
 * tiles then have none): for statistics that need every value of a cell
 * at once (percentiles). */
void stats_plan_space_major(stats_plan *plan);

/* Time-split: the steps [*s0, *s1) (relative to the selection) that rank
 * computes; whole blocks, contiguous, in rank order. */
void stats_plan_rank_steps(const stats_plan *plan, int rank, size_t *s0, size_t *s1);

#endif
