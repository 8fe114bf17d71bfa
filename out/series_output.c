/* SPDX-License-Identifier: Apache-2.0 */
/* out/series_output.c - see series_output.h. */
#include "out/series_output.h"

#include "common/floe_version.h"
#include "out/cf_attrs.h"
#include "out/provenance.h"
#include "out/netcdf_writer.h"

#include <netcdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A chunk of a data variable: up to 256 stations and enough steps for
 * about 256 KiB of float32 (at least 512): a long series at a few points
 * is read back in a handful of chunks, and deflate has enough to work on.
 * A row of chunks (one time chunk, every station) is held whole in the
 * chunk cache (see def_data), so it is at most ROW_BYTES: with more
 * stations a chunk has fewer steps. */
/* A title names up to this many regions, else counts them. */
enum { TITLE_REGIONS = 3 };
enum { CHUNK_STATIONS = 256, CHUNK_VALUES = 65536, CHUNK_MIN_STEPS = 512 };
#define ROW_BYTES ((size_t)64 << 20)

struct cf_series_output {
    nc_writer *w;
    size_t nt, ns; /* ns: stations or regions, 1 for one region */
    int points;
    int regions;   /* many regions: an instance dimension */
    size_t nvars;
    int *varids;
};

/* No _FillValue on coordinates (CF 2.5.1); the time bounds and auxiliary
 * coordinates of the source are not written. */
static const char *const coord_skip[] = {"_FillValue", "missing_value", "bounds", "climatology",
                                         "coordinates", NULL};
/* The writer's own (fill, coordinates, cell_methods); the source's value
 * range no longer holds, and there is no grid to map. */
static const char *const data_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                        "vmax", "grid_mapping", "bounds", NULL};
/* An output of another quantity (a count): not the source's names, nor
 * its packing or anything in packed units. */
static const char *const other_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                         "vmax", "grid_mapping", "bounds", "standard_name",
                                         "long_name", "scale_factor", "add_offset",
                                         "missing_value", "valid_min", "valid_max",
                                         "valid_range", "_Unsigned", NULL};
/* The same for packed sources: series are of unpacked values, so the
 * packing and what is in packed units go (a reader would scale again). */
static const char *const unpacked_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                            "vmax", "grid_mapping", "bounds", "scale_factor",
                                            "add_offset", "missing_value", "valid_min",
                                            "valid_max", "valid_range", "_Unsigned", NULL};

/* Counts (int32 outputs): their own units and long_name, no standard_name,
 * no packing or anything in the source's units (counts are not the data),
 * as out/grid_output.c writes them. */
static const char *const count_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                         "vmax", "units", "standard_name", "long_name",
                                         "scale_factor", "add_offset", "missing_value",
                                         "valid_min", "valid_max", "valid_range", "_Unsigned",
                                         NULL};

static const char *attr_text(const floe_array *a, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->attributes, name);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static floe_err check_spec(const cf_series_spec *s)
{
    const char *path = s->path ? s->path : "(no path)";
    const char *missing = !s->path                  ? "path"
                          : !s->command             ? "command"
                          : !s->provenance          ? "provenance"
                          : !s->time                ? "time"
                          : !s->time_values         ? "time_values"
                          : !s->vars                ? "vars"
                          : s->nstations && !s->station_ids ? "station_ids"
                          : s->nstations && (!s->station_lon || !s->station_lat)
                              ? "station_lon/station_lat"
                          : s->nstations && !s->cell_lon != !s->cell_lat ? "cell_lon/cell_lat"
                          : s->nregions && (!s->region_ids || !s->region_edges_each ||
                                            !s->region_cells_each)
                              ? "region_ids/region_edges_each/region_cells_each"
                          : !s->nstations && !s->nregions && (!s->region_id || !*s->region_id)
                              ? "region_id"
                              : NULL;
    if (missing)
        return FLOE_ERR(FLOE_EINVAL, "%s: time series spec: %s is not given", path, missing);
    if (!s->nt || !s->nvars)
        return FLOE_ERR(FLOE_EINVAL, "%s: time series with no %s", path,
                        s->nt ? "variables" : "time steps");
    for (size_t i = 0; i < s->nstations; i++)
        if (!s->station_ids[i] || !*s->station_ids[i])
            return FLOE_ERR(FLOE_EINVAL, "%s: station %zu has no id", path, i);
    for (size_t i = 0; !s->nstations && i < s->nregions; i++)
        if (!s->region_ids[i] || !*s->region_ids[i])
            return FLOE_ERR(FLOE_EINVAL, "%s: region %zu has no id", path, i);
    for (size_t v = 0; s->dtypes && v < s->nvars; v++) {
        floe_dtype t = s->dtypes[v];
        if (t != FLOE_DT_FLOAT32 && t != FLOE_DT_FLOAT64 && t != FLOE_DT_INT32)
            return FLOE_ERR(FLOE_EINVAL, "%s: output %zu: type %d is not float32, float64 or "
                            "int32 (a count)", path, v, (int)t);
        if (t == FLOE_DT_INT32 && !(s->long_names && s->long_names[v] && *s->long_names[v]))
            return FLOE_ERR(FLOE_EINVAL, "%s: output %zu: a count needs its long_name", path, v);
    }
    return NULL;
}

/* ---- definitions ----------------------------------------------------------- */

static floe_err def_time(cf_series_output *o, const floe_array *t, int dim, int *varid)
{
    int xtype = t->dtype == FLOE_DT_FLOAT32 ? NC_FLOAT : NC_DOUBLE;
    FLOE_CHECK(nc_writer_def_var(o->w, "time", xtype, 1, &dim, NULL, 0, varid));
    FLOE_CHECK(cf_put_var_atts(o->w, *varid, t->attributes, xtype, coord_skip));
    if (!attr_text(t, "axis"))
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "axis", "T"));
    if (!attr_text(t, "standard_name"))
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "standard_name", "time"));
    return NULL;
}

/* A latitude or longitude (lat != 0 picks which) with its CF attributes:
 * ndims 0 (a region's centre, with bounds) or 1 (per station). */
static floe_err def_position(cf_series_output *o, const char *name, int lat, int ndims,
                             const int *dims, const char *long_name, int standard,
                             const char *bounds, int *varid)
{
    FLOE_CHECK(nc_writer_def_var(o->w, name, NC_DOUBLE, ndims, dims, NULL, 0, varid));
    /* only the requested positions are *the* coordinates; the cell centres
     * carry no standard_name, so CF tools do not take them for a second
     * latitude/longitude */
    if (standard)
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "standard_name",
                                          lat ? "latitude" : "longitude"));
    FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "long_name", long_name));
    FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "units",
                                      lat ? "degrees_north" : "degrees_east"));
    if (bounds) {
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "axis", lat ? "Y" : "X"));
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "bounds", bounds));
    }
    return NULL;
}

/* cell_methods of output v: the caller's (a derived output's, which says
 * all that was done), else the source's, which still holds for values
 * taken at points (as cf_grid_output). NULL: none. */
static const char *long_name_of(const cf_series_spec *s, size_t v)
{
    return s->long_names && s->long_names[v] && *s->long_names[v] ? s->long_names[v] : NULL;
}

static const char *cell_methods_of(const cf_series_spec *s, size_t v)
{
    if (s->cell_methods && s->cell_methods[v] && *s->cell_methods[v])
        return s->cell_methods[v];
    return long_name_of(s, v) ? NULL : attr_text(s->vars[v], "cell_methods");
}

/* A data variable's coordinates (and, at points, how its values were taken). */
static floe_err put_coordinates(cf_series_output *o, const cf_series_spec *s, int varid)
{
    FLOE_CHECK(nc_writer_put_att_text(o->w, varid, "coordinates",
                                      o->points ? "time lat lon station_id"
                                      : o->regions ? "time lat lon region_id"
                                                   : "lat lon region_id"));
    if (o->points)
        FLOE_CHECK(nc_writer_put_att_text(o->w, varid, "floe_method",
                                          s->method ? s->method : "nearest"));
    return NULL;
}

static floe_err def_data(cf_series_output *o, const cf_series_spec *s, size_t v, const int *dims)
{
    const floe_array *a = s->vars[v];
    const char *name = s->out_names && s->out_names[v] ? s->out_names[v] : a->name;
    int f64 = s->dtypes && s->dtypes[v] == FLOE_DT_FLOAT64;
    int count = s->dtypes && s->dtypes[v] == FLOE_DT_INT32;
    int xtype = count ? NC_INT : f64 ? NC_DOUBLE : NC_FLOAT;
    size_t esize = count ? sizeof(int32_t) : f64 ? sizeof(double) : sizeof(float);
    size_t sc = min_size(o->ns, CHUNK_STATIONS);
    size_t steps = CHUNK_VALUES / sc > CHUNK_MIN_STEPS ? CHUNK_VALUES / sc : CHUNK_MIN_STEPS;
    size_t row_steps = ROW_BYTES / (o->ns * esize);
    steps = min_size(steps, row_steps ? row_steps : 1);
    size_t chunks[2] = {min_size(o->nt, steps), sc};
    /* Rank 0 writes each rank's steps in turn, so a time chunk that a rank
     * boundary cuts is filled by two puts. The cache holds a whole row of
     * chunks (one slot each: consecutive chunk indices never collide) until
     * it is complete; else the library writes a half-filled chunk and
     * rewrites it elsewhere later, and the file's bytes would depend on
     * the rank count. */
    size_t row_chunks = (o->ns + sc - 1) / sc;
    size_t row_bytes = row_chunks * chunks[0] * sc * esize;
    int *varid = &o->varids[v];
    FLOE_CHECK(nc_writer_def_var_cached(o->w, name, xtype, o->points || o->regions ? 2 : 1, dims,
                                        chunks, 1,
                                        row_bytes + row_bytes / 8, 2 * row_chunks + 1, varid));
    const char *long_name = long_name_of(s, v);
    if (count) {
        /* no _FillValue: every step has a count, and 0 is one */
        FLOE_CHECK(cf_put_var_atts(o->w, *varid, a->attributes, xtype, count_skip));
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "long_name", long_name));
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "units", "1"));
        return put_coordinates(o, s, *varid);
    }
    double fill64 = s->missing ? s->missing[v] : a->fill_value;
    float fill = (float)fill64;
    FLOE_CHECK(nc_writer_def_fill(o->w, *varid, f64 ? (const void *)&fill64 : (const void *)&fill));
    int packed = cJSON_GetObjectItemCaseSensitive(a->attributes, "scale_factor") ||
                 cJSON_GetObjectItemCaseSensitive(a->attributes, "add_offset");
    FLOE_CHECK(cf_put_var_atts(o->w, *varid, a->attributes, xtype,
                               long_name ? other_skip : packed ? unpacked_skip : data_skip));
    if (long_name)
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "long_name", long_name));
    const char *methods = cell_methods_of(s, v);
    if (methods)
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "cell_methods", methods));
    return put_coordinates(o, s, *varid);
}

static floe_err global_attrs(cf_series_output *o, const cf_series_spec *s)
{
    const floe_provenance *p = s->provenance;
    const char *from = p->collection_id ? p->collection_id : p->repository;
    char text[4096];
    FLOE_CHECK(nc_writer_put_att_text(o->w, NC_GLOBAL, "featureType", "timeSeries"));
    if (o->points)
        snprintf(text, sizeof text, "Time series at %zu point%s from %s, extracted by floe",
                 s->nstations, s->nstations == 1 ? "" : "s", from);
    else if (o->regions) {
        /* a few regions by name, more by number */
        char names[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < s->nregions && i < TITLE_REGIONS && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     s->region_ids[i]);
        if (s->nregions <= TITLE_REGIONS)
            snprintf(text, sizeof text, "Time series over %s (%s) from %s, extracted by floe",
                     names, s->region, from);
        else
            snprintf(text, sizeof text, "Time series over %zu regions of %s from %s, extracted "
                     "by floe", s->nregions, s->region, from);
    }
    else if (s->region && strcmp(s->region, s->region_id))
        snprintf(text, sizeof text, "Time series over %s (%s) from %s, extracted by floe",
                 s->region_id, s->region, from);
    else
        snprintf(text, sizeof text, "Time series over %s from %s, extracted by floe",
                 s->region_id, from);
    FLOE_CHECK(cf_provenance_put(o->w, p, s->command, text));
    if (!o->points) {
        if (s->region)
            FLOE_CHECK(nc_writer_put_att_text(o->w, NC_GLOBAL, "floe_region", s->region));
        double cells = (double)s->region_cells;
        if (!o->regions)
            FLOE_CHECK(nc_writer_put_att_double(o->w, NC_GLOBAL, "floe_region_cells", NC_INT64,
                                                1, &cells));
        if (s->weights)
            FLOE_CHECK(nc_writer_put_att_text(o->w, NC_GLOBAL, "floe_weights", s->weights));
    }
    return NULL;
}

/* ---- coordinate values ----------------------------------------------------- */

static floe_err put_1d(cf_series_output *o, int varid, size_t n, const void *values)
{
    size_t start[1] = {0}, count[1] = {n};
    return nc_writer_put(o->w, varid, start, count, values);
}

/* n x width time values in the time coordinate's type. */
static floe_err put_time_values(cf_series_output *o, const cf_series_spec *s, int varid,
                                const double *v, size_t width)
{
    size_t start[2] = {0, 0}, count[2] = {s->nt, width};
    if (s->time->dtype != FLOE_DT_FLOAT32)
        return nc_writer_put(o->w, varid, start, count, v);
    float *f = malloc(s->nt * width * sizeof *f);
    if (!f)
        return FLOE_ERR(FLOE_ENOMEM, "%s: time coordinate", s->path);
    for (size_t i = 0; i < s->nt * width; i++)
        f[i] = (float)v[i];
    floe_err err = nc_writer_put(o->w, varid, start, count, f);
    free(f);
    return err;
}

static floe_err put_time(cf_series_output *o, const cf_series_spec *s, int varid)
{
    return put_time_values(o, s, varid, s->time_values, 1);
}

/* The centre of a region's W..E edges; W > E: across the antimeridian. */
static double centre_lon(double w, double e)
{
    double c = (w + (e < w ? e + 360 : e)) / 2;
    return c > 180 && w <= 180 ? c - 360 : c;
}

/* ---- the file -------------------------------------------------------------- */

typedef struct coord_ids {
    int time, time_bnds, station_id, lat, lon, cell_lat, cell_lon, lat_bnds, lon_bnds, region_id;
    int region_cells;
} coord_ids;

/* Many regions: the instance dimension (*dr) and its coordinates. */
static floe_err define_regions(cf_series_output *o, const cf_series_spec *s, int db, int *dr,
                               coord_ids *c)
{
    FLOE_CHECK(nc_writer_def_dim(o->w, "region", s->nregions, dr));
    FLOE_CHECK(nc_writer_def_var(o->w, "region_id", NC_STRING, 1, dr, NULL, 0, &c->region_id));
    FLOE_CHECK(nc_writer_put_att_text(o->w, c->region_id, "cf_role", "timeseries_id"));
    FLOE_CHECK(nc_writer_put_att_text(o->w, c->region_id, "long_name", "region identifier"));
    FLOE_CHECK(def_position(o, "lat", 1, 1, dr,
                            "latitude of the centre of the region's cells' box", 1, "lat_bnds",
                            &c->lat));
    FLOE_CHECK(def_position(o, "lon", 0, 1, dr,
                            "longitude of the centre of the region's cells' box", 1, "lon_bnds",
                            &c->lon));
    int dims[2] = {*dr, db};
    FLOE_CHECK(nc_writer_def_var(o->w, "lat_bnds", NC_DOUBLE, 2, dims, NULL, 0, &c->lat_bnds));
    FLOE_CHECK(nc_writer_def_var(o->w, "lon_bnds", NC_DOUBLE, 2, dims, NULL, 0, &c->lon_bnds));
    FLOE_CHECK(nc_writer_def_var(o->w, "region_cells", NC_INT64, 1, dr, NULL, 0,
                                 &c->region_cells));
    FLOE_CHECK(nc_writer_put_att_text(o->w, c->region_cells, "long_name",
                                      "number of grid cells weighed in the region"));
    return nc_writer_put_att_text(o->w, c->region_cells, "units", "1");
}

/* Many regions: their ids, centres, boxes and cell counts. */
static floe_err write_regions(cf_series_output *o, const cf_series_spec *s, const coord_ids *c)
{
    size_t n = s->nregions;
    double *lat = malloc(n * sizeof *lat), *lon = malloc(n * sizeof *lon);
    double *lat_b = malloc(2 * n * sizeof *lat_b), *lon_b = malloc(2 * n * sizeof *lon_b);
    long long *cells = malloc(n * sizeof *cells);
    floe_err err = NULL;
    if (!lat || !lon || !lat_b || !lon_b || !cells)
        err = FLOE_ERR(FLOE_ENOMEM, "%s: %zu regions", s->path, n);
    for (size_t i = 0; !err && i < n; i++) {
        const double *e = s->region_edges_each[i]; /* W, S, E, N */
        lat[i] = (e[1] + e[3]) / 2, lon[i] = centre_lon(e[0], e[2]);
        lat_b[2 * i] = e[1], lat_b[2 * i + 1] = e[3];
        lon_b[2 * i] = e[0], lon_b[2 * i + 1] = e[2];
        cells[i] = (long long)s->region_cells_each[i];
    }
    size_t start[2] = {0, 0}, count[2] = {n, 2};
    if (!err)
        err = put_1d(o, c->region_id, n, s->region_ids);
    if (!err)
        err = put_1d(o, c->lat, n, lat);
    if (!err)
        err = put_1d(o, c->lon, n, lon);
    if (!err)
        err = nc_writer_put(o->w, c->lat_bnds, start, count, lat_b);
    if (!err)
        err = nc_writer_put(o->w, c->lon_bnds, start, count, lon_b);
    if (!err)
        err = put_1d(o, c->region_cells, n, cells);
    free(lat);
    free(lon);
    free(lat_b);
    free(lon_b);
    free(cells);
    return err;
}

static floe_err define(cf_series_output *o, const cf_series_spec *s, coord_ids *c)
{
    int dt, dn, db = -1, data_dims[2];
    FLOE_CHECK(nc_writer_def_dim(o->w, "time", NC_UNLIMITED, &dt));
    FLOE_CHECK(def_time(o, s->time, dt, &c->time));
    if (s->time_bounds || !o->points)
        FLOE_CHECK(nc_writer_def_dim(o->w, "bnds", 2, &db));
    if (s->time_bounds) {
        int dims[2] = {dt, db};
        int xtype = s->time->dtype == FLOE_DT_FLOAT32 ? NC_FLOAT : NC_DOUBLE;
        FLOE_CHECK(nc_writer_put_att_text(o->w, c->time, "bounds", "time_bnds"));
        FLOE_CHECK(nc_writer_def_var(o->w, "time_bnds", xtype, 2, dims, NULL, 0, &c->time_bnds));
    }
    data_dims[0] = dt;
    if (o->points) {
        FLOE_CHECK(nc_writer_def_dim(o->w, "station", s->nstations, &dn));
        data_dims[1] = dn;
        FLOE_CHECK(nc_writer_def_var(o->w, "station_id", NC_STRING, 1, &dn, NULL, 0,
                                     &c->station_id));
        FLOE_CHECK(nc_writer_put_att_text(o->w, c->station_id, "cf_role", "timeseries_id"));
        FLOE_CHECK(nc_writer_put_att_text(o->w, c->station_id, "long_name", "station identifier"));
        FLOE_CHECK(def_position(o, "lat", 1, 1, &dn, "latitude of the requested point", 1, NULL,
                                &c->lat));
        FLOE_CHECK(def_position(o, "lon", 0, 1, &dn, "longitude of the requested point", 1, NULL,
                                &c->lon));
        if (s->cell_lat) {
            FLOE_CHECK(def_position(o, "cell_lat", 1, 1, &dn,
                                    "latitude of the centre of the grid cell read", 0, NULL,
                                    &c->cell_lat));
            FLOE_CHECK(def_position(o, "cell_lon", 0, 1, &dn,
                                    "longitude of the centre of the grid cell read", 0, NULL,
                                    &c->cell_lon));
        }
    } else if (o->regions) {
        FLOE_CHECK(define_regions(o, s, db, &dn, c));
        data_dims[1] = dn;
    } else {
        dn = db;
        FLOE_CHECK(def_position(o, "lat", 1, 0, NULL,
                                "latitude of the centre of the region's bounding box", 1,
                                "lat_bnds", &c->lat));
        FLOE_CHECK(def_position(o, "lon", 0, 0, NULL,
                                "longitude of the centre of the region's bounding box", 1,
                                "lon_bnds", &c->lon));
        FLOE_CHECK(nc_writer_def_var(o->w, "lat_bnds", NC_DOUBLE, 1, &dn, NULL, 0, &c->lat_bnds));
        FLOE_CHECK(nc_writer_def_var(o->w, "lon_bnds", NC_DOUBLE, 1, &dn, NULL, 0, &c->lon_bnds));
        /* as CF's example of a single time series (H.2.1): characters
         * along a length dimension */
        int ds;
        FLOE_CHECK(nc_writer_def_dim(o->w, "region_strlen", strlen(s->region_id), &ds));
        FLOE_CHECK(nc_writer_def_var(o->w, "region_id", NC_CHAR, 1, &ds, NULL, 0,
                                     &c->region_id));
        FLOE_CHECK(nc_writer_put_att_text(o->w, c->region_id, "cf_role", "timeseries_id"));
        FLOE_CHECK(nc_writer_put_att_text(o->w, c->region_id, "long_name", "region identifier"));
    }
    for (size_t v = 0; v < s->nvars; v++)
        FLOE_CHECK(def_data(o, s, v, data_dims));
    FLOE_CHECK(global_attrs(o, s));
    return nc_writer_enddef(o->w);
}

static floe_err write_coords(cf_series_output *o, const cf_series_spec *s, const coord_ids *c)
{
    FLOE_CHECK(put_time(o, s, c->time));
    if (s->time_bounds)
        FLOE_CHECK(put_time_values(o, s, c->time_bnds, s->time_bounds, 2));
    if (o->points) {
        FLOE_CHECK(put_1d(o, c->station_id, s->nstations, s->station_ids));
        FLOE_CHECK(put_1d(o, c->lat, s->nstations, s->station_lat));
        FLOE_CHECK(put_1d(o, c->lon, s->nstations, s->station_lon));
        if (s->cell_lat) {
            FLOE_CHECK(put_1d(o, c->cell_lat, s->nstations, s->cell_lat));
            FLOE_CHECK(put_1d(o, c->cell_lon, s->nstations, s->cell_lon));
        }
        return NULL;
    }
    if (o->regions)
        return write_regions(o, s, c);
    const double *e = s->region_edges; /* W, S, E, N */
    double lat = (e[1] + e[3]) / 2, lon = centre_lon(e[0], e[2]);
    double lat_b[2] = {e[1], e[3]}, lon_b[2] = {e[0], e[2]};
    size_t start[1] = {0}, count[1] = {1};
    FLOE_CHECK(nc_writer_put(o->w, c->lat, start, count, &lat));
    FLOE_CHECK(nc_writer_put(o->w, c->lon, start, count, &lon));
    FLOE_CHECK(put_1d(o, c->lat_bnds, 2, lat_b));
    FLOE_CHECK(put_1d(o, c->lon_bnds, 2, lon_b));
    return put_1d(o, c->region_id, strlen(s->region_id), s->region_id);
}

floe_err cf_series_output_create(const cf_series_spec *s, cf_series_output **out)
{
    *out = NULL;
    FLOE_CHECK(check_spec(s));
    cf_series_output *o = calloc(1, sizeof *o);
    int *varids = calloc(s->nvars, sizeof *varids);
    if (!o || !varids) {
        free(o);
        free(varids);
        return FLOE_ERR(FLOE_ENOMEM, "%s: time series output", s->path);
    }
    o->varids = varids;
    o->nt = s->nt, o->nvars = s->nvars;
    o->points = s->nstations > 0;
    o->regions = !o->points && s->nregions > 0;
    o->ns = o->points ? s->nstations : o->regions ? s->nregions : 1;
    coord_ids c;
    floe_err err = NULL;
    FLOE_CHECK_GOTO(err, fail, nc_writer_create(s->path, &o->w));
    FLOE_CHECK_GOTO(err, fail, define(o, s, &c));
    FLOE_CHECK_GOTO(err, fail, write_coords(o, s, &c));
    *out = o;
    return NULL;
fail:
    cf_series_output_abort(&o);
    return err;
}

floe_err cf_series_output_put(cf_series_output *o, size_t v, size_t t0, size_t nt,
                              const void *values)
{
    if (v >= o->nvars || t0 > o->nt || nt > o->nt - t0)
        return FLOE_ERR(FLOE_EINVAL, "%s: output %zu steps [%zu, %zu) outside %zu outputs x %zu "
                        "steps", nc_writer_path(o->w), v, t0, t0 + nt, o->nvars, o->nt);
    if (!nt)
        return NULL;
    size_t start[2] = {t0, 0}, count[2] = {nt, o->ns};
    return nc_writer_put(o->w, o->varids[v], start, count, values);
}

floe_err cf_series_output_finish(cf_series_output **op, char **tmp)
{
    cf_series_output *o = *op;
    floe_err err = nc_writer_finish(&o->w, tmp);
    free(o->varids);
    free(o);
    *op = NULL;
    return err;
}

floe_err cf_series_output_commit(cf_series_output **op)
{
    cf_series_output *o = *op;
    floe_err err = nc_writer_commit(&o->w);
    free(o->varids);
    free(o);
    *op = NULL;
    return err;
}

void cf_series_output_abort(cf_series_output **op)
{
    cf_series_output *o = op ? *op : NULL;
    if (!o)
        return;
    nc_writer_abort(&o->w);
    free(o->varids);
    free(o);
    *op = NULL;
}
