/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/points.h - `floe series --points FILE`: the points CSV, and where each
 * point falls on a latitude/longitude grid (nearest cell, or the four
 * cells and weights of bilinear interpolation).
 *
 * CSV: one point a line, "lon,lat" or "lon,lat,id". An optional first line
 * names the columns instead (recognised when its first field is not a
 * number): lon|longitude|lng|x, lat|latitude|y, id|name|station|site, in
 * any order and case; other columns are ignored. Fields may be quoted
 * ("Woods Hole, MA"; "" inside quotes is a quote). Blank lines and lines
 * starting with '#' are skipped; CRLF line ends are fine. A point without
 * an id gets its 1-based number ("3"). Ids must be unique. Errors name the
 * source and line number.
 *
 * Grids: coordinates strictly monotonic, ascending or descending, regular
 * or not (cell edges halfway between centres, outer edges half a spacing
 * beyond the outer centres, as in area_weights.h). A point's longitude is
 * shifted by +-360 to fall on the grid when that helps (grids in 0..360
 * take points in -180..180). A longitude axis that spans the whole circle
 * (last centre + one spacing = first + 360) is periodic: bilinear
 * interpolation then wraps between the last and first columns.
 *
 * nearest: the cell whose edges contain the point; a point exactly on the
 * edge between two cells goes to the one to its north / east (cells are
 * half-open in the coordinate's value, as region masks are), except on the
 * grid's outermost edges, which are inside. Points beyond the outer edges
 * are outside the grid.
 * bilinear: the four centres around the point; weights are the products of
 * the 1-D linear weights along each axis. Points outside the centres' span
 * (between the outermost centres and the grid edge, or beyond) are
 * outside: bilinear interpolation needs a centre on each side.
 */
#ifndef FLOE_POINTS_H
#define FLOE_POINTS_H

#include "common/floe_error.h"

#include <stddef.h>

typedef struct floe_point {
    double lon, lat;
    char *id;    /* owned */
    size_t line; /* 1-based line in the CSV */
} floe_point;

typedef struct floe_points {
    floe_point *p;
    size_t n;
} floe_points;

/* Parse text[0..len) (need not be NUL-terminated); `source` names it in
 * errors ("points.csv line 4: latitude '95' is outside [-90, 90]"). At
 * least one point is required. */
floe_err floe_points_parse_csv(const char *text, size_t len, const char *source,
                               floe_points *out);
void floe_points_free(floe_points *pts);

typedef enum floe_interp {
    FLOE_INTERP_NEAREST,
    FLOE_INTERP_BILINEAR,
} floe_interp;

/* "nearest" or "bilinear"; FLOE_EINVAL naming the text otherwise. */
floe_err floe_interp_parse(const char *text, floe_interp *out);
const char *floe_interp_name(floe_interp how);

/* The cells a point reads and their weights: value = sum over a, b of
 * w[a][b] * cell(ilat[a], ilon[b]). Nearest: w[0][0] = 1, the other
 * weights 0 and the indices repeated. */
typedef struct floe_point_weights {
    size_t ilat[2], ilon[2];
    double w[2][2];
} floe_point_weights;

/* Locate pt on the grid. Points outside are FLOE_EINVAL naming the point
 * (id, line, coordinates) and the grid's extent; bad axes (fewer than two
 * centres, not monotonic) are FLOE_EUNSUPPORTED naming the axis. */
floe_err floe_point_locate(const floe_point *pt, floe_interp how, const double *lat, size_t nlat,
                           const double *lon, size_t nlon, floe_point_weights *out);

/* Apply the weights to the four values v[a][b] = cell(ilat[a], ilon[b]).
 * Missing values (NaN) are skipped and the remaining weights renormalised,
 * so a point next to the coast still gets a value from its land cells;
 * NaN when every cell with a non-zero weight is missing. */
float floe_point_interpolate(const floe_point_weights *w, const float v[2][2]);
/* The same for double values, as double (float's is this one rounded). */
double floe_point_interpolate_f64(const floe_point_weights *w, const double v[2][2]);

#endif
