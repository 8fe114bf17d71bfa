/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/weighted_cells.h - a region's cells within one decoded tile
 * as a sparse list (offset, weight, fraction), and their area-weighted
 * statistics: what `floe series` keeps per tile and region instead of a
 * dense mask, so many regions over a large grid stay small.
 *
 * A cell's fraction f in (0, 1] is the part of it the region covers (1 for
 * "cells whose centres are inside"), its weight w = f x the cell's area
 * factor (engine/reduce/area_weights.h). Into a floe_wstat a valid value x
 * adds w to wsum, w x to wxsum, f x to sum, and counts towards min, max
 * and count (every listed cell has f > 0). So mean = sum(w x) / sum(w),
 * sum = sum(f x) (with f = 1: the plain sum, CDO's fldsum; with fractions
 * exactextract's "sum"), min/max/count over the cells with f > 0.
 * Cells are added in list order: with f = 1 and a list in row-major order
 * the bits equal floe_wstat_add's over the same cells.
 */
#ifndef FLOE_WEIGHTED_CELLS_H
#define FLOE_WEIGHTED_CELLS_H

#include "engine/reduce/area_weights.h"

#include <stddef.h>
#include <stdint.h>

typedef struct floe_wcell {
    uint32_t offset; /* in the decoded tile, row-major */
    double w;        /* f x area factor */
    double f;        /* the fraction covered, (0, 1] */
} floe_wcell;

void floe_wstat_add_cells(floe_wstat *s, const float *values, const floe_wcell *cells,
                          size_t n);
void floe_wstat_add_cells_f64(floe_wstat *s, const double *values, const floe_wcell *cells,
                              size_t n);

#endif
