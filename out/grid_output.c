/* SPDX-License-Identifier: Apache-2.0 */
/* out/grid_output.c - see grid_output.h. */
#include "out/grid_output.h"

#include "common/floe_version.h"
#include "out/cf_attrs.h"
#include "out/provenance.h"
#include "out/netcdf_writer.h"

#include <math.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cf_grid_output {
    nc_writer *w;
    size_t ny, nx;
    int varids[64];
    char names[64][NC_MAX_NAME + 1];
    size_t cy[64], cx[64]; /* each variable's chunk shape in lat, lon */
    size_t nvars;
};

void cf_grid_chunk_shape(const floe_array *a, size_t ny, size_t nx, size_t *cy, size_t *cx)
{
    *cy = (size_t)a->chunk_shape[1] < ny ? (size_t)a->chunk_shape[1] : ny;
    *cx = (size_t)a->chunk_shape[2] < nx ? (size_t)a->chunk_shape[2] : nx;
    if (*cy == 0)
        *cy = 1; /* HDF5 chunks are at least one cell; an empty axis has no chunk anyway */
    if (*cx == 0)
        *cx = 1;
}

/* Attributes that the writer sets itself or that have no place on a
 * coordinate variable (CF: no _FillValue on coordinates). */
static const char *const coord_skip[] = {"_FillValue", "missing_value", "bounds", NULL};
static const char *const data_skip[] = {"_FillValue", "coordinates", NULL};
/* Derived variables: their own cell_methods; per-file ranges no longer hold. */
static const char *const derived_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                           "vmax", NULL};
/* Derived variables of another quantity (counts): not the source's names either. */
static const char *const other_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                         "vmax", "standard_name", "long_name", NULL};

static int nc_type_of(const floe_array *a)
{
    return a->dtype == FLOE_DT_FLOAT32 ? NC_FLOAT : NC_DOUBLE;
}

int cf_nc_type(floe_dtype t)
{
    switch (t) {
    case FLOE_DT_BOOL:
    case FLOE_DT_UINT8: return NC_UBYTE;
    case FLOE_DT_INT8: return NC_BYTE;
    case FLOE_DT_INT16: return NC_SHORT;
    case FLOE_DT_UINT16: return NC_USHORT;
    case FLOE_DT_INT32: return NC_INT;
    case FLOE_DT_UINT32: return NC_UINT;
    case FLOE_DT_INT64: return NC_INT64;
    case FLOE_DT_UINT64: return NC_UINT64;
    case FLOE_DT_FLOAT16:
    case FLOE_DT_FLOAT32: return NC_FLOAT;
    case FLOE_DT_FLOAT64: return NC_DOUBLE;
    }
    return NC_DOUBLE;
}

/* Unpacked values: the packing and what is in packed units go. */
static const char *const unpacked_skip[] = {"_FillValue", "coordinates", "scale_factor",
                                            "add_offset", "missing_value", "valid_min",
                                            "valid_max", "valid_range", "_Unsigned", NULL};
/* Kept packed: scale_factor/add_offset are written in the unpacked type. */
static const char *const packed_skip[] = {"_FillValue", "coordinates", "scale_factor",
                                          "add_offset", NULL};
/* Counts: their own units and long_name, no standard_name, no packing
 * (counts are not the data). */
static const char *const count_skip[] = {"_FillValue", "coordinates", "cell_methods", "vmin",
                                         "vmax", "units", "standard_name", "long_name",
                                         "scale_factor", "add_offset", "missing_value",
                                         "valid_min", "valid_max", "valid_range", "_Unsigned",
                                         NULL};

/* A typed data variable (cf_var_type): its _FillValue and attributes. */
static floe_err typed_var_attrs(cf_grid_output *o, int varid, const floe_array *a,
                                const cf_var_type *t, int derived, const char *long_name)
{
    int xt = cf_nc_type(t->dtype);
    if (t->count) {
        FLOE_CHECK(cf_put_var_atts(o->w, varid, a->attributes, xt, count_skip));
        return nc_writer_put_att_text(o->w, varid, "units", "1");
    }
    if (!t->no_fill) {
        int float_source = a->dtype == FLOE_DT_FLOAT32 || a->dtype == FLOE_DT_FLOAT16;
        if (t->unpacked || (derived && !float_source)) {
            /* unpacked values, statistics of other types: NaN marks no value */
            double nan = NAN;
            float nanf = NAN;
            FLOE_CHECK(nc_writer_def_fill(o->w, varid, xt == NC_FLOAT ? (const void *)&nanf
                                                                      : (const void *)&nan));
        } else if (t->dtype == (floe_dtype)a->dtype) {
            FLOE_CHECK(nc_writer_def_fill(o->w, varid, a->fill_raw));
        } else { /* float16 widened, or a float32 statistic of one */
            float f = (float)a->fill_value;
            double d = a->fill_value;
            FLOE_CHECK(nc_writer_def_fill(o->w, varid, xt == NC_FLOAT ? (const void *)&f
                                                                      : (const void *)&d));
        }
    }
    const char *const *skip = t->unpacked   ? unpacked_skip
                              : t->packed_as ? packed_skip
                              : long_name    ? other_skip
                              : derived      ? derived_skip
                                             : data_skip;
    FLOE_CHECK(cf_put_var_atts(o->w, varid, a->attributes, xt, skip));
    if (t->packed_as) {
        static const char *const packing[] = {"scale_factor", "add_offset"};
        for (size_t k = 0; k < 2; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->attributes, packing[k]);
            if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
                v = cJSON_GetArrayItem(v, 0);
            if (cJSON_IsNumber(v))
                FLOE_CHECK(nc_writer_put_att_double(o->w, varid, packing[k],
                                                    cf_nc_type(t->packed_as), 1, &v->valuedouble));
        }
    }
    return NULL;
}

/* Cell bounds from centres: midpoints between neighbours, the outer edges
 * half a step beyond the outer centres (the source grid's step when the
 * selection is one cell wide). */
static void bounds(const double *c, size_t n, double step, double *b)
{
    for (size_t i = 0; i < n; i++) {
        double first = n > 1 ? c[1] - c[0] : step, last = n > 1 ? c[n - 1] - c[n - 2] : step;
        double lo = i > 0 ? (c[i - 1] + c[i]) / 2 : c[0] - first / 2;
        double hi = i + 1 < n ? (c[i] + c[i + 1]) / 2 : c[n - 1] + last / 2;
        b[2 * i] = lo;
        b[2 * i + 1] = hi;
    }
}

static floe_err def_coord(cf_grid_output *o, const floe_array *a, const char *name, int dim,
                          int bnds_dim, const char *axis, const char *std_name,
                          const char *units, int *varid, int *bnds_varid, int climatology)
{
    FLOE_CHECK(nc_writer_def_var(o->w, name, nc_type_of(a), 1, &dim, NULL, 0, varid));
    FLOE_CHECK(cf_put_var_atts(o->w, *varid, a->attributes, nc_type_of(a), coord_skip));
    /* CF requires these; the source usually has them, but not always. */
    if (!cJSON_GetObjectItem(a->attributes, "axis"))
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "axis", axis));
    if (!cJSON_GetObjectItem(a->attributes, "standard_name"))
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "standard_name", std_name));
    if (units && !cJSON_GetObjectItem(a->attributes, "units"))
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, "units", units));
    if (bnds_varid) {
        char bname[64];
        snprintf(bname, sizeof bname, climatology ? "climatology_bounds" : "%s_bnds", name);
        int dims[2] = {dim, bnds_dim};
        FLOE_CHECK(nc_writer_put_att_text(o->w, *varid, climatology ? "climatology" : "bounds",
                                          bname));
        FLOE_CHECK(nc_writer_def_var(o->w, bname, nc_type_of(a), 2, dims, NULL, 0, bnds_varid));
    }
    return NULL;
}

static floe_err put_doubles_as(cf_grid_output *o, int varid, const floe_array *a,
                               const double *v, size_t n, size_t width)
{
    size_t start[2] = {0, 0}, count[2] = {n, width};
    if (nc_type_of(a) == NC_DOUBLE)
        return nc_writer_put(o->w, varid, start, count, v);
    size_t total = n * width;
    float *f = malloc((total ? total : 1) * sizeof *f);
    if (!f)
        return FLOE_ERR(FLOE_ENOMEM, "coordinate %s", a->name);
    for (size_t i = 0; i < n * width; i++)
        f[i] = (float)v[i];
    floe_err err = nc_writer_put(o->w, varid, start, count, f);
    free(f);
    return err;
}

static floe_err global_attrs(cf_grid_output *o, const cf_grid_spec *s)
{
    const floe_provenance *p = s->provenance;
    char title[2048];
    snprintf(title, sizeof title, "Subset of %s extracted by floe",
             p->collection_id ? p->collection_id : p->repository);
    return cf_provenance_put(o->w, p, s->command, s->title ? s->title : title);
}

floe_err cf_grid_output_create(const cf_grid_spec *s, cf_grid_output **out)
{
    *out = NULL;
    if (s->nvars > sizeof ((cf_grid_output *)0)->varids / sizeof(int))
        return FLOE_ERR(FLOE_EINVAL, "too many variables for one output file");
    cf_grid_output *o = calloc(1, sizeof *o);
    if (!o)
        return FLOE_ERR(FLOE_ENOMEM, "%s", s->path);
    o->ny = s->ny, o->nx = s->nx, o->nvars = s->nvars;
    floe_err err = NULL;
    double *lb = NULL, *xb = NULL;
    FLOE_CHECK_GOTO(err, fail, nc_writer_create(s->path, &o->w));
    int dt, dy, dx, db, vt, vy, vx, vyb, vxb;
    FLOE_CHECK_GOTO(err, fail, nc_writer_def_dim(o->w, "time",
                                                 s->unlimited_time ? NC_UNLIMITED : s->nt, &dt));
    FLOE_CHECK_GOTO(err, fail, nc_writer_def_dim(o->w, "lat", s->ny, &dy));
    FLOE_CHECK_GOTO(err, fail, nc_writer_def_dim(o->w, "lon", s->nx, &dx));
    FLOE_CHECK_GOTO(err, fail, nc_writer_def_dim(o->w, "bnds", 2, &db));
    int vtb = -1;
    FLOE_CHECK_GOTO(err, fail, def_coord(o, s->time, "time", dt, db, "T", "time", NULL, &vt,
                                         s->time_bounds ? &vtb : NULL, s->climatology));
    FLOE_CHECK_GOTO(err, fail, def_coord(o, s->lat, "lat", dy, db, "Y", "latitude",
                                         "degrees_north", &vy, &vyb, 0));
    FLOE_CHECK_GOTO(err, fail, def_coord(o, s->lon, "lon", dx, db, "X", "longitude",
                                         "degrees_east", &vx, &vxb, 0));
    int dims[3] = {dt, dy, dx};
    for (size_t v = 0; v < s->nvars; v++) {
        const floe_array *a = s->vars[v];
        /* One time step per chunk (how the output is written and read), the
         * source's spatial chunking, light compression. */
        size_t chunks[3] = {1, 0, 0};
        cf_grid_chunk_shape(a, s->ny, s->nx, &chunks[1], &chunks[2]);
        o->cy[v] = chunks[1], o->cx[v] = chunks[2];
        const char *name = s->out_names ? s->out_names[v] : a->name;
        snprintf(o->names[v], sizeof o->names[v], "%s", name);
        const cf_var_type *t = s->types ? &s->types[v] : NULL;
        FLOE_CHECK_GOTO(err, fail, nc_writer_def_var(o->w, name, t ? cf_nc_type(t->dtype) : NC_FLOAT,
                                                     3, dims, chunks, CF_GRID_DEFLATE_LEVEL,
                                                     &o->varids[v]));
        const char *long_name = s->long_names ? s->long_names[v] : NULL;
        if (t) {
            FLOE_CHECK_GOTO(err, fail, typed_var_attrs(o, o->varids[v], a, t,
                                                       s->cell_methods != NULL, long_name));
        } else {
            float fill = (float)a->fill_value;
            FLOE_CHECK_GOTO(err, fail, nc_writer_def_fill(o->w, o->varids[v], &fill));
            FLOE_CHECK_GOTO(err, fail,
                            cf_put_var_atts(o->w, o->varids[v], a->attributes, NC_FLOAT,
                                            long_name           ? other_skip
                                            : s->cell_methods ? derived_skip
                                                              : data_skip));
        }
        if (long_name)
            FLOE_CHECK_GOTO(err, fail, nc_writer_put_att_text(o->w, o->varids[v], "long_name",
                                                              long_name));
        if (s->cell_methods && s->cell_methods[v])
            FLOE_CHECK_GOTO(err, fail, nc_writer_put_att_text(o->w, o->varids[v], "cell_methods",
                                                              s->cell_methods[v]));
    }
    FLOE_CHECK_GOTO(err, fail, global_attrs(o, s));
    FLOE_CHECK_GOTO(err, fail, nc_writer_enddef(o->w));

    lb = malloc(2 * (s->ny ? s->ny : 1) * sizeof *lb);
    xb = malloc(2 * (s->nx ? s->nx : 1) * sizeof *xb);
    if (!lb || !xb) {
        err = FLOE_ERR(FLOE_ENOMEM, "%s: coordinate bounds", s->path);
        goto fail;
    }
    bounds(s->lat_values, s->ny, s->lat_step, lb);
    bounds(s->lon_values, s->nx, s->lon_step, xb);
    FLOE_CHECK_GOTO(err, fail, put_doubles_as(o, vt, s->time, s->time_values, s->nt, 1));
    if (s->time_bounds)
        FLOE_CHECK_GOTO(err, fail, put_doubles_as(o, vtb, s->time, s->time_bounds, s->nt, 2));
    FLOE_CHECK_GOTO(err, fail, put_doubles_as(o, vy, s->lat, s->lat_values, s->ny, 1));
    FLOE_CHECK_GOTO(err, fail, put_doubles_as(o, vx, s->lon, s->lon_values, s->nx, 1));
    FLOE_CHECK_GOTO(err, fail, put_doubles_as(o, vyb, s->lat, lb, s->ny, 2));
    FLOE_CHECK_GOTO(err, fail, put_doubles_as(o, vxb, s->lon, xb, s->nx, 2));
    free(lb);
    free(xb);
    *out = o;
    return NULL;
fail:
    free(lb);
    free(xb);
    nc_writer_abort(&o->w);
    free(o);
    return err;
}

floe_err cf_grid_output_put_step(cf_grid_output *o, size_t v, size_t t, const void *values)
{
    size_t start[3] = {t, 0, 0}, count[3] = {1, o->ny, o->nx};
    return nc_writer_put(o->w, o->varids[v], start, count, values);
}

floe_err cf_grid_output_put_region(cf_grid_output *o, size_t v, size_t t, size_t y0, size_t ny,
                                   size_t x0, size_t nx, const void *values)
{
    size_t start[3] = {t, y0, x0}, count[3] = {1, ny, nx};
    return nc_writer_put(o->w, o->varids[v], start, count, values);
}

floe_err cf_grid_output_begin_raw_chunks(cf_grid_output *o)
{
    return nc_writer_begin_raw_chunks(o->w);
}

floe_err cf_grid_output_put_raw_chunk(cf_grid_output *o, size_t v, size_t t, size_t y0, size_t x0,
                                      const void *bytes, size_t n)
{
    if (v >= o->nvars || y0 % o->cy[v] || x0 % o->cx[v] || y0 >= o->ny || x0 >= o->nx)
        return FLOE_ERR(FLOE_EINTERNAL, "raw chunk of output variable %zu at (%zu, %zu): not a chunk",
                        v, y0, x0);
    size_t start[3] = {t, y0, x0};
    return nc_writer_put_raw_chunk(o->w, o->names[v], 3, start, bytes, n);
}

floe_err cf_grid_output_put_raw_placeholder(cf_grid_output *o, size_t v, size_t t, size_t y0,
                                            size_t x0, size_t n, uint64_t *addr)
{
    if (v >= o->nvars || y0 % o->cy[v] || x0 % o->cx[v] || y0 >= o->ny || x0 >= o->nx)
        return FLOE_ERR(FLOE_EINTERNAL, "raw chunk of output variable %zu at (%zu, %zu): not a chunk",
                        v, y0, x0);
    size_t start[3] = {t, y0, x0};
    return nc_writer_put_raw_placeholder(o->w, o->names[v], 3, start, n, addr);
}

floe_err cf_grid_output_finish(cf_grid_output **op, char **tmp)
{
    cf_grid_output *o = *op;
    floe_err err = nc_writer_finish(&o->w, tmp);
    free(o);
    *op = NULL;
    return err;
}

floe_err cf_grid_output_commit(cf_grid_output **op)
{
    cf_grid_output *o = *op;
    floe_err err = nc_writer_commit(&o->w);
    free(o);
    *op = NULL;
    return err;
}

void cf_grid_output_abort(cf_grid_output **op)
{
    cf_grid_output *o = op ? *op : NULL;
    if (!o)
        return;
    nc_writer_abort(&o->w);
    free(o);
    *op = NULL;
}
