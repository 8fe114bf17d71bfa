/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/area_weights.h - cell areas on the sphere for a latitude/longitude grid,
 * and the area-weighted spatial statistics of `floe series`.
 *
 * A grid cell bounded by latitudes s < n and longitudes w < e has the area
 *     R^2 * (e - w) [radians] * (sin n - sin s)
 * exactly (the spherical zone between two parallels, cut by meridians), so
 * weights are separable: a latitude factor times a longitude width. Cell
 * edges are the midpoints between neighbouring centres; the outer edges lie
 * half a spacing beyond the outer centres, latitudes clamped to +-90. That
 * suits regular and irregular monotonic (ascending or descending) axes.
 *
 * Edges depend on the neighbours, so compute factors on the FULL axes of
 * the dataset and index them for a tile or a region, never on a sub-range
 * (whose outer cells would get extrapolated, different edges).
 */
#ifndef FLOE_AREA_WEIGHTS_H
#define FLOE_AREA_WEIGHTS_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

/* The mean Earth radius CDO uses for cell areas (metres). Weighted means
 * do not depend on it. */
#define FLOE_EARTH_RADIUS_M 6371000.0

/* edges[0..n] of the cells whose centres are c[0..n-1] (degrees), strictly
 * monotonic, n >= 2 (one centre has no spacing to infer edges from: that is
 * FLOE_EUNSUPPORTED). Edges follow the axis' direction. Errors name `axis`
 * ("lat", "lon") and the offending index. */
floe_err floe_cell_edges(const char *axis, const double *c, size_t n, double *edges);

/* factor[i] = |sin(north edge) - sin(south edge)| of latitude row i, edges
 * from floe_cell_edges and clamped to [-90, 90]. Latitudes outside
 * [-90, 90] are FLOE_EINVAL. */
floe_err floe_lat_factors(const double *lat, size_t nlat, double *factor);
/* width[j] = |east edge - west edge| of longitude column j, in radians. */
floe_err floe_lon_widths(const double *lon, size_t nlon, double *width);

/* area[i * nlon + j] in units of radius^2 (pass FLOE_EARTH_RADIUS_M for
 * square metres, 1 for steradians). */
floe_err floe_cell_areas(const double *lat, size_t nlat, const double *lon, size_t nlon,
                         double radius, double *area);

/* ---- area-weighted statistics over cells (floe series) ---------------- */

/* The partial statistics of a set of cells at one time step. Partials of
 * disjoint cell sets combine with floe_wstat_merge; as with any floating-
 * point sum the bits depend on the order, so the engine must merge the
 * partials of its spatial tiles in a fixed tile order (tiles chosen
 * independently of the rank count) for identical output at any rank
 * count. */
typedef struct floe_wstat {
    double wsum;    /* sum of the weights of valid cells */
    double wxsum;   /* sum of weight * value over valid cells */
    double sum;     /* plain sum of valid values */
    double min, max; /* of valid values (float ones exactly) */
    uint64_t count; /* valid cells */
} floe_wstat;

void floe_wstat_init(floe_wstat *s);
/* Add n cells: values (NaN = missing, skipped), weights (NULL: all 1),
 * mask (NULL: all cells; otherwise only cells with mask[i] != 0, e.g. a
 * region's centres-inside mask). */
void floe_wstat_add(floe_wstat *s, const float *values, const double *weights,
                    const uint8_t *mask, size_t n);
/* The same for double values (sources whose statistics are float64). */
void floe_wstat_add_f64(floe_wstat *s, const double *values, const double *weights,
                        const uint8_t *mask, size_t n);
/* into := into's cells and from's cells (into first). */
void floe_wstat_merge(floe_wstat *into, const floe_wstat *from);
/* FLOE_STAT_MEAN: sum(w x) / sum(w) over valid cells (area-weighted, like
 * CDO's fldmean); FLOE_STAT_SUM: the plain sum of valid values (like
 * fldsum); MIN, MAX; COUNT: valid cells (0, not missing, when none).
 * With no valid cell every other statistic is `missing`. Other stats are
 * FLOE_EINVAL naming them. */
floe_err floe_wstat_result(const floe_wstat *s, unsigned stat, float missing, float *out);
/* The same as double (float's is this one rounded once). */
floe_err floe_wstat_result_f64(const floe_wstat *s, unsigned stat, double missing, double *out);

#endif
