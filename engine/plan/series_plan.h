/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/series_plan.h - how `floe series` reads: which source chunks (tiles)
 * hold the cells a point or region series needs, and which time steps
 * each rank computes.
 *
 * Cost model: every step of a series needs the same tiles, so a step costs
 * the same everywhere and the work splits over ranks by time alone
 * (time-split, contiguous runs of whole time chunks, in rank order). Each
 * step's value is computed whole by one rank, from its tiles in the fixed
 * tile order below, so the output bits do not depend on the rank count and
 * no reduction between ranks is needed: rank 0 only gathers. Memory per
 * rank: one batch of decoded tile values in flight plus the rank's share
 * of the (small) output.
 */
#ifndef FLOE_SERIES_PLAN_H
#define FLOE_SERIES_PLAN_H

#include "common/floe_error.h"
#include "engine/plan/points.h"

#include <stddef.h>
#include <stdint.h>

/* The part of one source chunk a series reads: rows [r0, r1) and columns
 * [c0, c1) of the grid (absolute indices). */
typedef struct series_tile {
    uint64_t cy, cx; /* chunk coordinates */
    size_t r0, r1, c0, c1;
} series_tile;

/* One cell a point reads: the tile and the cell's offset within one time
 * step of the decoded chunk (row-major, chunk shape chy x chx). */
typedef struct series_cell {
    size_t tile;
    size_t offset;
} series_cell;

typedef struct series_plan {
    series_tile *tiles; /* in row-major chunk order */
    size_t ntiles;
    series_cell *cells; /* points: 4 per point, [p * 4 + a * 2 + b] as w[a][b] */
    /* points: the cells of tile i are cells[by_tile[k]] for k in
     * [tile_first[i], tile_first[i + 1]), so a chunk visits only its own */
    size_t *by_tile, *tile_first;
} series_plan;

/* Regions: the tiles come from engine/plan/region_cells.h, moved into
 * plan->tiles. */
/* Points: the tiles of the cells every point reads (floe_point_locate's
 * weights; each tile once, in chunk order) and plan->cells. */
floe_err series_plan_points(const floe_point_weights *w, size_t npoints, uint64_t chy,
                            uint64_t chx, series_plan *plan);
void series_plan_free(series_plan *plan);

/* The steps [*s0, *s1) of the selection [t0, t0+nt) (relative to t0) that
 * `rank` of `nranks` computes: contiguous runs of whole time chunks of
 * length ct, balanced, in rank order; empty (s0 == s1) for ranks beyond
 * the work. */
void series_rank_steps(size_t t0, size_t nt, uint64_t ct, int nranks, int rank, size_t *s0,
                       size_t *s1);

#endif
