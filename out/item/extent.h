/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/extent.h - the extent parts of a derived STAC Item (internal to
 * out/item/): the footprint and the datacube description, added to the
 * tree through the item_jb builder (json.h). */
#ifndef FLOE_ITEM_EXTENT_H
#define FLOE_ITEM_EXTENT_H

#include "out/item/item.h"
#include "out/item/json.h"

/* "geometry" and "bbox" on item: the points of a point output (a Point or
 * a MultiPoint); else a Polygon, or across the antimeridian (W > E, as STAC
 * writes such a bbox) a MultiPolygon of the parts east and west of it. */
void item_geometry(item_jb *b, cJSON *item, const stac_item_spec *s);
/* "cube:dimensions" and "cube:variables" on props. */
void item_datacube(item_jb *b, cJSON *props, const stac_item_spec *s);

#endif
