/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/extent.c - where the data lie and along which axes: the Item's
 * GeoJSON footprint and bbox, and the datacube extension's dimensions and
 * variables (extent.h). */
#include "out/item/extent.h"

#include <math.h>

/* A GeoJSON position [lon, lat] appended to parent. */
static cJSON *position(item_jb *b, cJSON *parent, double lon, double lat)
{
    cJSON *pt = item_put_arr(b, parent, NULL);
    item_put_num(b, pt, NULL, lon);
    item_put_num(b, pt, NULL, lat);
    return pt;
}

/* A closed ring, counter-clockwise as RFC 7946 section 3.1.6 asks of
 * exterior rings (not attached: the caller puts it in place). */
static cJSON *ring(item_jb *b, double w, double s, double e, double n)
{
    const double pts[5][2] = {{w, s}, {e, s}, {e, n}, {w, n}, {w, s}};
    cJSON *r = cJSON_CreateArray();
    for (int i = 0; i < 5; i++)
        position(b, r, pts[i][0], pts[i][1]);
    return r;
}

/* The footprint: the points of a point output (a Point or a MultiPoint);
 * else a Polygon, or across the antimeridian (W > E, as STAC writes such a
 * bbox) a MultiPolygon of the parts east and west of it. */
void item_geometry(item_jb *b, cJSON *item, const stac_item_spec *s)
{
    const double *bb = s->bbox;
    cJSON *g = item_put_obj(b, item, "geometry");
    if (s->npoints == 1) {
        item_put_str(b, g, "type", "Point");
        cJSON *pt = item_put_arr(b, g, "coordinates");
        item_put_num(b, pt, NULL, s->point_lon[0]);
        item_put_num(b, pt, NULL, s->point_lat[0]);
    } else if (s->npoints > 1) {
        item_put_str(b, g, "type", "MultiPoint");
        cJSON *coords = item_put_arr(b, g, "coordinates");
        for (size_t i = 0; i < s->npoints; i++)
            position(b, coords, s->point_lon[i], s->point_lat[i]);
    } else if (bb[0] <= bb[2]) {
        item_put_str(b, g, "type", "Polygon");
        item_put(b, item_put_arr(b, g, "coordinates"), NULL, ring(b, bb[0], bb[1], bb[2], bb[3]));
    } else {
        item_put_str(b, g, "type", "MultiPolygon");
        cJSON *coords = item_put_arr(b, g, "coordinates");
        item_put(b, item_put_arr(b, coords, NULL), NULL, ring(b, bb[0], bb[1], 180, bb[3]));
        item_put(b, item_put_arr(b, coords, NULL), NULL, ring(b, -180, bb[1], bb[2], bb[3]));
    }
    cJSON *bbox = item_put_arr(b, item, "bbox");
    for (int i = 0; i < 4; i++)
        item_put_num(b, bbox, NULL, bb[i]);
}

static void nodata(item_jb *b, cJSON *obj, double v)
{
    if (isnan(v))
        item_put_str(b, obj, "nodata", "nan");
    else if (isinf(v))
        item_put_str(b, obj, "nodata", v > 0 ? "inf" : "-inf");
    else
        item_put_num(b, obj, "nodata", v);
}

void item_datacube(item_jb *b, cJSON *props, const stac_item_spec *s)
{
    cJSON *dims = item_put_obj(b, props, "cube:dimensions");
    for (size_t i = 0; i < s->ndims; i++) {
        const stac_item_dim *d = &s->dims[i];
        cJSON *o = item_put_obj(b, dims, d->name);
        cJSON *ext;
        if (d->kind == STAC_ITEM_DIM_TIME) {
            item_put_str(b, o, "type", "temporal");
            if (d->description)
                item_put_str(b, o, "description", d->description);
            ext = item_put_arr(b, o, "extent");
            item_put_str(b, ext, NULL, d->time_extent[0]);
            item_put_str(b, ext, NULL, d->time_extent[1]);
            item_put_str(b, o, "step", d->time_step);
            continue;
        }
        if (d->kind == STAC_ITEM_DIM_POINTS) {
            item_put_str(b, o, "type", "geometry");
            cJSON *axes = item_put_arr(b, o, "axes");
            item_put_str(b, axes, NULL, "x");
            item_put_str(b, axes, NULL, "y");
            if (d->description)
                item_put_str(b, o, "description", d->description);
            cJSON *bbox = item_put_arr(b, o, "bbox");
            for (int k = 0; k < 4; k++)
                item_put_num(b, bbox, NULL, d->bbox[k]);
            cJSON *values = item_put_arr(b, o, "values");
            for (size_t k = 0; k < d->nvalues; k++)
                item_put_str(b, values, NULL, d->values[k]);
            item_put_str(b, item_put_arr(b, o, "geometry_types"), NULL,
                         d->geometry_type ? d->geometry_type : "Point");
            item_put_num(b, o, "reference_system", 4326);
            continue;
        }
        item_put_str(b, o, "type", "spatial");
        item_put_str(b, o, "axis", d->kind == STAC_ITEM_DIM_X ? "x" : "y");
        if (d->description)
            item_put_str(b, o, "description", d->description);
        ext = item_put_arr(b, o, "extent");
        item_put_num(b, ext, NULL, fmin(d->extent[0], d->extent[1]));
        item_put_num(b, ext, NULL, fmax(d->extent[0], d->extent[1]));
        item_put(b, o, "step",
                 isfinite(d->step) ? cJSON_CreateNumber(d->step) : cJSON_CreateNull());
        item_put_num(b, o, "reference_system", 4326);
    }
    cJSON *vars = item_put_obj(b, props, "cube:variables");
    for (size_t i = 0; i < s->nvars; i++) {
        const stac_item_var *v = &s->vars[i];
        cJSON *o = item_put_obj(b, vars, v->name);
        cJSON *dn = item_put_arr(b, o, "dimensions");
        for (size_t k = 0; k < v->ndims; k++)
            item_put_str(b, dn, NULL, v->dims[k]);
        item_put_str(b, o, "type", "data");
        if (v->description)
            item_put_str(b, o, "description", v->description);
        if (v->unit)
            item_put_str(b, o, "unit", v->unit);
        if (v->data_type)
            item_put_str(b, o, "data_type", v->data_type);
        if (v->has_nodata)
            nodata(b, o, v->nodata);
    }
}
