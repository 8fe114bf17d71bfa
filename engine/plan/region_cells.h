/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_cells.h - the cells of many regions (or of one box) on
 * a latitude/longitude grid, as `floe series` reads them: the tiles (parts
 * of source chunks) that hold any region's cells, and per tile, per region
 * the cells as segments (engine/reduce/weighted_cells.h): runs of whole
 * cells in a row, whose weights are the grid's area factors, and explicit
 * (offset, weight, fraction) cells only where a region covers part of a
 * cell. Every chunk is then fetched and decoded once for all the regions;
 * memory is a segment per region, row and chunk column plus the cells on
 * boundaries (--weights fraction), never a record per cell nor a dense
 * mask per region.
 *
 * Which cells and weights (--weights):
 * - centre: the cells whose centres the region holds (region_mask.h's rule),
 *   fraction 1, weight the cell's area factor (area_weights.h);
 * - fraction: every cell the region covers a part of (f > 0), f the exact
 *   covered fraction in lon/lat (region_fraction.h), weight f x the cell's
 *   area factor. A region smaller than a cell still has that cell. A cell
 *   covered whole (f = 1) is part of a run, its weight the area factor
 *   (the same bits as f x area factor).
 * Cell edges come from the FULL axes (area_weights.h); longitudes are
 * compared after wrapping the cells into [-180, 180).
 *
 * Order: tiles in row-major chunk order; within a tile, regions in order
 * and each region's cells in row-major order (a row's runs and explicit
 * cells interleaved in column order), so partial statistics merged per
 * region in tile order give bits independent of the ranks. Cells are
 * grouped into tiles by counting, not by sorting them.
 */
#ifndef FLOE_REGION_CELLS_H
#define FLOE_REGION_CELLS_H

#include "common/floe_error.h"
#include "engine/plan/region_set.h"
#include "engine/plan/series_plan.h"
#include "engine/reduce/weighted_cells.h"

#include <stddef.h>
#include <stdint.h>

typedef enum floe_region_weights {
    FLOE_WEIGHTS_CENTRE,
    FLOE_WEIGHTS_FRACTION,
} floe_region_weights;

/* "centre" (NULL too) or "fraction"; FLOE_EINVAL naming the text otherwise. */
floe_err floe_region_weights_parse(const char *text, floe_region_weights *out);

typedef struct region_cells {
    series_tile *tiles; /* row-major chunk order; rows r0..r1, columns c0..c1 of
                           the grid: the box of the tile's cells, decoded whole */
    size_t ntiles;
    /* tile t's (region, cells) pairs: [pair_first[t], pair_first[t + 1]) */
    size_t *pair_first;
    size_t *pair_region;   /* [npairs] */
    size_t *seg_first;     /* [npairs + 1]: pair p's segments [seg_first[p], seg_first[p + 1]) */
    floe_wseg *segs;       /* offsets within the tile's box (row-major, width c1 - c0) */
    size_t *cell_first;    /* [npairs + 1]: pair p's explicit cells, those its segments take */
    floe_wcell *cells;
    size_t npairs;
    double *latf, *lonw;   /* [nlat], [nlon]: the grid's area factors (a run's weights) */
    size_t nregions;
    size_t *ncells;        /* [nregions] cells with a weight */
    double (*edges)[4];    /* [nregions] W, S, E, N of those cells' edges (degrees;
                              longitudes wrapped; NaN when no cell) */
} region_cells;

/* The grid: full axes lat[nlat], lon[nlon] (centres), chunked chy x chx.
 * Regions (set != NULL): their cells anywhere on the grid; a region with
 * none has ncells 0 and no pair. Else the box rows [y0, y0 + ny) x columns
 * [x0, x0 + nx), every cell with fraction 1 (one region). */
floe_err region_cells_make(const floe_region_set *set, floe_region_weights how,
                           const double *lat, size_t nlat, const double *lon, size_t nlon,
                           size_t y0, size_t ny, size_t x0, size_t nx, uint64_t chy,
                           uint64_t chx, region_cells *out);
void region_cells_free(region_cells *rc);

#endif
