/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_mask.h - GeoJSON regions (RFC 7946) and the grid cells whose
 * centres lie inside them, for `floe series --region FILE`.
 *
 * Accepted: a Polygon, a MultiPolygon, a GeometryCollection of them, a
 * Feature holding one, or a FeatureCollection of such Features; the region
 * is the union of every polygon (engine/plan/region_set.h makes one region
 * per feature of a FeatureCollection instead, for `floe series`). Positions are [lon, lat] in degrees
 * (WGS 84, longitudes in [-180, 180]; extra coordinates such as altitude
 * are ignored); rings need four or more positions and must be closed. The
 * first ring of a polygon is its exterior, the others are holes. Ring
 * orientation is not checked (the even-odd rule does not need it).
 *
 * Which cells: a cell is in the region when its centre is (cells partly
 * covered count fully or not at all). Centres exactly on a boundary follow
 * the half-open rule of raster graphics: a centre on a polygon's west or
 * south side is inside, on its east or north side outside; a hole is
 * treated the same way (a centre on a hole's west or south side is in the
 * hole, so outside the region). So polygons that share an edge, like
 * neighbouring counties, never both claim a centre on that edge, nor both
 * miss it: each cell belongs to exactly one of them. (For a slanted edge,
 * "on" is decided by the arithmetic, identically for both neighbours.)
 *
 * Not supported: polygons across the antimeridian (a ring edge spanning
 * more than 180 degrees of longitude, or longitudes beyond +-180) are
 * FLOE_EUNSUPPORTED / FLOE_EINVAL; split them at 180 degrees, as RFC 7946
 * section 3.1.9 asks. Grid longitudes are compared after wrapping them into
 * [-180, 180), so grids in 0..360 work.
 */
#ifndef FLOE_REGION_MASK_H
#define FLOE_REGION_MASK_H

#include "common/floe_error.h"
#include "engine/plan/selection.h"

#include <stddef.h>
#include <stdint.h>

typedef struct floe_region floe_region;

/* Parse a GeoJSON document (json[0..len), need not be NUL-terminated).
 * `source` names it in errors (a file name). Errors name the field:
 * "features[1].geometry.coordinates[0][2]: expected a position [lon, lat]". */
floe_err floe_region_parse(const char *json, size_t len, const char *source,
                           floe_region **out);
/* The same from a parsed GeoJSON object (a cJSON *, borrowed) at `path`
 * ("features[2]") of document `source`: a FeatureCollection's features
 * one at a time (engine/plan/region_set.h). */
floe_err floe_region_parse_object(const void *cjson, const char *path, const char *source,
                                  floe_region **out);
void floe_region_free(floe_region **r);

size_t floe_region_polygon_count(const floe_region *r);
/* The region's name, its time series' id: the names of its features
 * (properties "name", "NAME" or "id", else the feature's "id") joined
 * by '+', or when none has one, the source file's name less its
 * extension. Borrowed from r. */
const char *floe_region_name(const floe_region *r);
/* The bounding box of every polygon (W, S, E, N, degrees), for choosing
 * the part of the grid to read. */
floe_bbox floe_region_bbox(const floe_region *r);

/* The rings of polygon k < floe_region_polygon_count(r): ring 0 is the
 * exterior, the others holes; each closed (the last position repeats the
 * first), positions in degrees, borrowed from r. For exact cell fractions
 * (engine/plan/region_fraction.h). */
size_t floe_region_ring_count(const floe_region *r, size_t k);
void floe_region_ring(const floe_region *r, size_t k, size_t g, const double **x,
                      const double **y, size_t *n);
/* Polygon k's bounding box (its exterior's). */
floe_bbox floe_region_polygon_bbox(const floe_region *r, size_t k);

/* Is the point inside (by the rule above)? */
int floe_region_contains(const floe_region *r, double lon, double lat);

/* mask[i * nlon + j] = 1 if the centre (lat[i], lon[j]) is inside, else 0,
 * for any centres (the whole grid or a sub-range of it); *ninside counts
 * the ones (may be NULL). Same answers as floe_region_contains, computed
 * a row at a time. */
floe_err floe_region_mask(const floe_region *r, const double *lat, size_t nlat,
                          const double *lon, size_t nlon, uint8_t *mask, size_t *ninside);

#endif
