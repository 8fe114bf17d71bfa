/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_set.h - the regions of `floe series --region FILE`:
 * one per feature of a FeatureCollection, or one for any other GeoJSON
 * (engine/plan/region_mask.h: a Polygon, MultiPolygon, GeometryCollection
 * or Feature, the union of its polygons).
 *
 * Ids (the series' timeseries_id): with --region-id PROP, the feature's
 * property PROP (a string or a number), which every feature must have;
 * by default its property "id", else "name", else the feature's own
 * "id" member, else its 1-based number in the collection ("3"), as points
 * without an id are numbered. Ids must be unique: a duplicate is
 * FLOE_EINVAL naming it and both features. Numbers are written as
 * integers when they are whole ("12", not "12.0"). One region of another
 * GeoJSON is named by floe_region_name.
 */
#ifndef FLOE_REGION_SET_H
#define FLOE_REGION_SET_H

#include "common/floe_error.h"
#include "engine/plan/region_mask.h"

#include <stddef.h>

typedef struct floe_region_set {
    floe_region **r; /* [n], owned */
    char **ids;      /* [n], owned */
    size_t n;
    int per_feature; /* a FeatureCollection: one series per feature */
} floe_region_set;

/* Parse json[0..len) (need not be NUL-terminated); `source` names it in
 * errors; id_prop: --region-id (NULL: the default order above; given
 * with anything but a FeatureCollection: FLOE_EINVAL). */
floe_err floe_region_set_parse(const char *json, size_t len, const char *source,
                               const char *id_prop, floe_region_set *out);
void floe_region_set_free(floe_region_set *s);

#endif
