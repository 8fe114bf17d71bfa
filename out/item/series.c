/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/series.c - stac_item_write_series: the Item of a CF time-series
 * file, from the same cf_series_spec that out/series_output.c wrote it
 * from. Points are features, not a grid: the footprint is the points
 * themselves and the station dimension is datacube's vector ("geometry")
 * dimension; a region's footprint is the box of the cells it averaged. */
#include "out/item/item.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *attr_text(const floe_array *a, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->attributes, name);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* Longitudes into [-180, 180] (sources on 0..360 grids give positions and
 * edges there); GeoJSON and STAC want the former. */
static double wrap_lon(double lon)
{
    if (lon > 180)
        lon -= 360;
    else if (lon < -180)
        lon += 360;
    return lon;
}

/* W, S, E, N of the region's cell edges: latitudes clamped to +-90, a
 * box spanning 180 written with W > E (the STAC way), a whole circle as
 * -180..180. */
static void region_bbox(const double edges[4], double bb[4])
{
    double w = edges[0], e = edges[2] < w ? edges[2] + 360 : edges[2];
    if (e - w >= 360) {
        w = -180, e = 180;
    } else {
        w = wrap_lon(w), e = wrap_lon(e);
    }
    bb[0] = w;
    bb[1] = fmax(fmin(edges[1], edges[3]), -90);
    bb[2] = e;
    bb[3] = fmin(fmax(edges[1], edges[3]), 90);
}

typedef struct series_item {
    stac_item_var *vars;
    double *lon, *lat; /* wrapped positions */
    char *item_path;   /* the default one, owned */
} series_item;

static void series_item_free(series_item *t)
{
    free(t->vars);
    free(t->lon);
    free(t->lat);
    free(t->item_path);
}

floe_err stac_item_write_series(const cf_series_spec *s, const char *item_path,
                                const char *operation, stac_item_source_kind kind)
{
    stac_item_dest dest = {.item_path = item_path};
    return stac_item_write_series_to(s, &dest, operation, kind);
}

floe_err stac_item_write_series_to(const cf_series_spec *s, const stac_item_dest *dest,
                                   const char *operation, stac_item_source_kind kind)
{
    const char *item_path = dest->item_path;
    if (!s->nt || !s->nvars)
        return FLOE_ERR(FLOE_EINVAL, "STAC Item for %s: no %s", s->path,
                        s->nt ? "variables" : "time steps");
    if (s->nstations && (!s->station_ids || !s->station_lon || !s->station_lat))
        return FLOE_ERR(FLOE_EINVAL, "STAC Item for %s: station ids or positions not given",
                        s->path);
    char t0[40], t1[40], stepbuf[40];
    const char *step;
    FLOE_CHECK(stac_item_times(s->time, s->time_values, s->nt, t0, t1, stepbuf, &step),
               "STAC Item for %s", s->path);
    if (s->time_bounds) { /* steps with intervals: the span of their bounds */
        char spanbuf[40];
        const char *span_step;
        double span[2] = {s->time_bounds[0], s->time_bounds[2 * s->nt - 1]};
        FLOE_CHECK(stac_item_times(s->time, span, 2, t0, t1, spanbuf, &span_step),
                   "STAC Item for %s", s->path);
    }

    floe_err err = NULL;
    series_item t = {0};
    static const char *const dims_points[2] = {"time", "station"}; /* as cf_series_output */
    static const char *const dims_region[1] = {"time"};
    static const char *const dims_regions[2] = {"time", "region"}; /* many regions */
    size_t np = s->nstations, nr = np ? 0 : s->nregions;
    t.vars = calloc(s->nvars, sizeof *t.vars);
    if (np) {
        t.lon = malloc(np * sizeof *t.lon);
        t.lat = malloc(np * sizeof *t.lat);
    }
    if (!item_path && !(err = stac_item_default_path(s->path, &t.item_path)))
        item_path = t.item_path;
    if (!err && (!t.vars || (np && (!t.lon || !t.lat))))
        err = FLOE_ERR(FLOE_ENOMEM, "STAC Item for %s", s->path);
    if (err) {
        series_item_free(&t);
        return err;
    }

    double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < np; i++) {
        t.lon[i] = wrap_lon(s->station_lon[i]);
        t.lat[i] = s->station_lat[i];
        bb[0] = fmin(bb[0], t.lon[i]), bb[2] = fmax(bb[2], t.lon[i]);
        bb[1] = fmin(bb[1], t.lat[i]), bb[3] = fmax(bb[3], t.lat[i]);
    }
    if (!np && !nr)
        region_bbox(s->region_edges, bb);
    for (size_t i = 0; i < nr; i++) { /* the union of the regions' boxes (none: NaN) */
        double rb[4];
        if (isnan(s->region_edges_each[i][0]))
            continue;
        region_bbox(s->region_edges_each[i], rb);
        bb[0] = fmin(bb[0], rb[0]), bb[1] = fmin(bb[1], rb[1]);
        bb[2] = fmax(bb[2], rb[2]), bb[3] = fmax(bb[3], rb[3]);
    }

    char station_desc[160];
    snprintf(station_desc, sizeof station_desc,
             "stations: the requested points (values %s), named by station_id",
             s->method && !strcmp(s->method, "bilinear") ? "interpolated bilinearly"
                                                           : "of the nearest grid cell");
    stac_item_dim regions_dim = {
        .name = "region", .kind = STAC_ITEM_DIM_POINTS,
        .description = "regions: the features of the GeoJSON, named by region_id",
        .values = s->region_ids, .nvalues = nr, .bbox = {bb[0], bb[1], bb[2], bb[3]},
        .geometry_type = "Polygon"};
    stac_item_dim dims[2] = {
        {.name = "time", .kind = STAC_ITEM_DIM_TIME, .description = attr_text(s->time, "long_name"),
         .time_extent = {t0, t1}, .time_step = step},
        {.name = "station", .kind = STAC_ITEM_DIM_POINTS, .description = station_desc,
         .values = s->station_ids, .nvalues = np, .bbox = {bb[0], bb[1], bb[2], bb[3]}},
    };
    for (size_t v = 0; v < s->nvars; v++) {
        const floe_array *a = s->vars[v];
        /* as cf_series_output writes them */
        int f64 = s->dtypes && s->dtypes[v] == FLOE_DT_FLOAT64;
        int count = s->dtypes && s->dtypes[v] == FLOE_DT_INT32; /* no nodata: 0 is a count */
        double fill = s->missing ? s->missing[v] : a->fill_value;
        const char *own = s->long_names && s->long_names[v] && *s->long_names[v]
                              ? s->long_names[v] : NULL;
        t.vars[v] = (stac_item_var){
            .name = s->out_names && s->out_names[v] ? s->out_names[v] : a->name,
            .dims = np ? dims_points : nr ? dims_regions : dims_region,
            .ndims = np || nr ? 2 : 1,
            .unit = count ? "1" : attr_text(a, "units"),
            .description = own ? own : attr_text(a, "long_name"),
            .data_type = count ? "int32" : f64 ? "float64" : "float32",
            .has_nodata = !count, .nodata = f64 ? fill : (double)(float)fill,
        };
    }
    stac_item_spec spec = {
        .item_path = item_path,
        .data_path = s->path,
        .data_file = dest->data_file,
        .item_tmp = dest->item_tmp,
        .command = s->command,
        .operation = operation,
        .prov = s->provenance,
        .source_kind = kind,
        .bbox = {bb[0], bb[1], bb[2], bb[3]},
        .start_datetime = t0,
        .end_datetime = t1,
        .dims = dims, .ndims = np || nr ? 2 : 1,
        .vars = t.vars, .nvars = s->nvars,
        .point_lon = t.lon, .point_lat = t.lat, .npoints = np,
        .series_ids = np ? s->station_ids : nr ? s->region_ids : &s->region_id,
        .nseries = np ? np : nr ? nr : 1,
        .collection = dest->collection,
        .media_type = dest->media_type,
    };
    if (nr)
        dims[1] = regions_dim;
    err = stac_item_write(&spec);
    series_item_free(&t);
    return err;
}
