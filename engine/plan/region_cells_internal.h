/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_cells_internal.h - region_cells.c's cells on their way
 * into tiles: the regions' segments (runs of whole cells, and explicit
 * cells covered in part) as the scan of each region finds them, in region
 * order and row-major within a region, each within one chunk column; then
 * grouped into tiles by counting (region_cells_group.c), keeping that
 * order within a tile. Memory is a segment per (region, row, chunk column)
 * run plus the partly covered cells, never a record per cell.
 */
#ifndef FLOE_REGION_CELLS_INTERNAL_H
#define FLOE_REGION_CELLS_INTERNAL_H

#include "common/floe_error.h"
#include "engine/plan/region_cells.h"

#include <stddef.h>
#include <stdint.h>

/* A segment of one region in one row and one chunk column: a run of n
 * whole cells at columns col..col + n - 1 (first == RC_RUN), or n explicit
 * cells, cell[first..first + n) of the builder, in column order. */
#define RC_RUN SIZE_MAX

typedef struct rc_seg {
    size_t region;
    size_t row, col, n;
    size_t first;
} rc_seg;

/* A cell covered in part: its column (its row is its segment's), weight
 * and fraction (floe_wcell's). */
typedef struct rc_cell {
    size_t col;
    double w, f;
} rc_cell;

typedef struct rc_builder {
    uint64_t chx;        /* columns per chunk: no segment crosses a chunk */
    rc_seg *seg;
    size_t nseg, segcap;
    rc_cell *cell;
    size_t ncell, cellcap;
} rc_builder;

/* Region k's next cell in row-major order (after its previous ones, and
 * after every cell of the regions before k): whole (f = 1, extends or
 * starts a run), else explicit with weight w and fraction f. 0 when out
 * of memory. */
int rc_add_cell(rc_builder *b, size_t region, size_t row, size_t col, double w, double f);
/* The whole cells row x [c0, c1) of region k, split at chunk columns. */
int rc_add_run(rc_builder *b, size_t region, size_t row, size_t c0, size_t c1);
void rc_builder_free(rc_builder *b);

/* b's segments into out's tiles, pairs, segs and cells (the order of
 * region_cells.h), grouped by counting: chunk rows, then chunk columns
 * within a chunk row (stable, so region order and row-major order hold
 * within a tile). The grid is nlat x nlon, chunked chy x chx. */
floe_err rc_group(const rc_builder *b, size_t nlat, size_t nlon, uint64_t chy, uint64_t chx,
                  region_cells *out);

#endif
