/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/weighted_cells.h - a region's cells within one decoded tile,
 * compactly, and their area-weighted statistics: what `floe series` keeps
 * per tile and region instead of a dense mask, so many regions over a
 * large grid stay small.
 *
 * A cell's fraction f in (0, 1] is the part of it the region covers (1 for
 * "cells whose centres are inside"), its weight w = f x the cell's area
 * factor latf[row] x lonw[col] (engine/reduce/area_weights.h). Into a
 * floe_wstat a valid value x adds w to wsum, w x to wxsum, f x to sum, and
 * counts towards min, max and count (every cell has f > 0). So mean =
 * sum(w x) / sum(w), sum = sum(f x) (with f = 1: the plain sum, CDO's
 * fldsum; with fractions exactextract's "sum"), min/max/count over the
 * cells with f > 0.
 *
 * The cells are a list of segments in row-major order, each either
 * - a run: n consecutive cells of one row, each covered whole (f = 1), whose
 *   weights are not stored but computed as they are added, latf[row] x
 *   lonw[col + k] (the same product, so the same bits, as a stored one;
 *   and f x = x exactly); or
 * - n explicit cells (floe_wcell: offset, w, f), for cells covered in part
 *   (0 < f < 1, --weights fraction's boundary cells).
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

/* floe_wseg.row of a segment of explicit cells. */
#define FLOE_WSEG_CELLS UINT32_MAX

typedef struct floe_wseg {
    uint32_t n;      /* cells, >= 1 */
    uint32_t offset; /* run: its first cell's offset in the decoded tile */
    uint32_t row;    /* run: the grid row (index of latf); FLOE_WSEG_CELLS: the
                        next n explicit cells */
    uint32_t col;    /* run: the grid column of its first cell (index of lonw) */
} floe_wseg;

/* Add segs[0..nseg) in order; the explicit ones take cells[] in order (so
 * cells holds, in order, exactly the explicit segments' cells). latf, lonw:
 * the grid's area factors (floe_lat_factors, floe_lon_widths). */
void floe_wstat_add_segs(floe_wstat *s, const float *values, const floe_wseg *segs, size_t nseg,
                         const floe_wcell *cells, const double *latf, const double *lonw);
void floe_wstat_add_segs_f64(floe_wstat *s, const double *values, const floe_wseg *segs,
                             size_t nseg, const floe_wcell *cells, const double *latf,
                             const double *lonw);

/* The explicit cells alone (a list of one segment of n cells). */
void floe_wstat_add_cells(floe_wstat *s, const float *values, const floe_wcell *cells,
                          size_t n);
void floe_wstat_add_cells_f64(floe_wstat *s, const double *values, const floe_wcell *cells,
                              size_t n);

#endif
