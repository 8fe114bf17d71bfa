/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_fraction.h - the exact fraction of a grid cell's
 * rectangle that a GeoJSON region covers, for `floe series --weights
 * fraction` (as exactextract weights cells).
 *
 * Exact in lon/lat: the cell is the rectangle [w, e] x [s, n] in degrees
 * and the region's polygons are straight-edged in those coordinates, so the
 * covered part is the polygon clipped to the rectangle (Sutherland-Hodgman
 * against each side: exact for any simple polygon, concave too, since the
 * bridges it leaves along the rectangle's sides have no area), its area by
 * the shoelace formula. A polygon's covered area is its exterior's minus
 * its holes'; a multipolygon's the sum over its parts (RFC 7946 asks that
 * they do not overlap, and holes lie inside their exterior). The fraction
 * is that area over the rectangle's, clamped to [0, 1]. On the sphere the
 * caller multiplies by the cell's area (engine/reduce/area_weights.h), so
 * the weight of a cell is "fraction in lon/lat x cell area": the cell-area
 * factor, as exactextract does for geographic grids.
 *
 * Longitudes are those of the region ([-180, 180]); the caller wraps the
 * cells' edges into that range (engine/plan/region_cells.h).
 */
#ifndef FLOE_REGION_FRACTION_H
#define FLOE_REGION_FRACTION_H

#include "common/floe_error.h"
#include "engine/plan/region_mask.h"

#include <stddef.h>

/* The fraction of [w, e] x [s, n] (w < e, s < n) inside r. */
double floe_region_rect_fraction(const floe_region *r, double w, double s, double e, double n);

/* The same for a row of cells [xw[j], xe[j]] x [s, n], j < ncols, into
 * frac[j]: the region is clipped to the band s..n once, then to each cell
 * (the cost of a row is its cells times the band's vertices, not the
 * region's). FLOE_ENOMEM only. */
floe_err floe_region_row_fractions(const floe_region *r, double s, double n, const double *xw,
                                   const double *xe, size_t ncols, double *frac);

#endif
