/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/grid.c - stac_item_write_grid: the Item of a CF grid file,
 * from the same cf_grid_spec that out/grid_output.c wrote it from, so the
 * Item says what the file holds: the cell edges are computed as the file's
 * lat_bnds/lon_bnds are, and float32 coordinates are rounded the way the
 * file stores them. */
#include "out/item/item.h"

#include "cf/time.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GRID_MAX_VARS = 64 };

static const char *attr_text(const floe_array *a, const char *name)
{
    const cJSON *v = a ? cJSON_GetObjectItemCaseSensitive(a->attributes, name) : NULL;
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* A value as the file holds it: a float32 coordinate is the float nearest
 * v, written as the shortest decimal that reads back as that float (what
 * numpy prints: 25.05, not 25.049999237060547). */
static double as_stored(double v, int float32)
{
    if (!float32 || !isfinite(v))
        return v;
    float f = (float)v;
    char buf[40];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        double d = strtod(buf, NULL);
        if ((float)d == f)
            return d;
    }
    return (double)f;
}

/* ---- space ---------------------------------------------------------------- */

typedef struct axis {
    double first_edge, last_edge; /* outer edges of the first and last cell */
    double lo, hi;                /* centres: smallest, largest */
    double step;                  /* signed; NaN: irregular or unknown */
} axis;

/* The edges as cf_grid_output's bounds(): half a neighbour spacing beyond
 * the outer centres (the source step for a one-cell axis). Regular: every
 * spacing within 1e-4 of the mean (float32 centres jitter by ~1e-7). */
static void axis_of(const double *c, size_t n, double src_step, int float32, axis *a)
{
    double first = n > 1 ? c[1] - c[0] : src_step, last = n > 1 ? c[n - 1] - c[n - 2] : src_step;
    a->first_edge = as_stored(c[0] - first / 2, float32);
    a->last_edge = as_stored(c[n - 1] + last / 2, float32);
    a->lo = as_stored(fmin(c[0], c[n - 1]), float32);
    a->hi = as_stored(fmax(c[0], c[n - 1]), float32);
    double step = src_step;
    if (n > 1)
        step = (as_stored(c[n - 1], float32) - as_stored(c[0], float32)) / (double)(n - 1);
    for (size_t i = 1; i < n; i++)
        if (fabs((c[i] - c[i - 1]) - step) > 1e-4 * fabs(step))
            step = NAN;
    a->step = step != 0 && isfinite(step) ? as_stored(step, float32) : NAN;
}

/* W, S, E, N from the edges: latitudes clamped to +-90; longitudes in
 * [-180, 180] (a 0..360 grid shifted; one that spans 180 gives W > E, the
 * STAC way of crossing the antimeridian). */
static void bbox_of(const axis *x, const axis *y, double bb[4])
{
    double w = fmin(x->first_edge, x->last_edge), e = fmax(x->first_edge, x->last_edge);
    double s = fmin(y->first_edge, y->last_edge), n = fmax(y->first_edge, y->last_edge);
    if (e - w >= 360) {
        w = -180, e = 180;
    } else {
        if (w >= 180)
            w -= 360, e -= 360;
        else if (e <= -180)
            w += 360, e += 360;
        if (e > 180)
            e -= 360;
        if (w < -180)
            w += 360;
    }
    bb[0] = w, bb[1] = fmax(s, -90), bb[2] = e, bb[3] = fmin(n, 90);
}

/* ---- the Item ------------------------------------------------------------- */

floe_err stac_item_write_grid(const cf_grid_spec *g, const char *item_path, const char *operation,
                              stac_item_source_kind source_kind)
{
    stac_item_dest dest = {.item_path = item_path};
    return stac_item_write_grid_to(g, &dest, operation, source_kind);
}

/* A typed output variable (out/grid_output.h cf_var_type): its type, and
 * its nodata and unit as cf_grid_output writes them. */
static void typed_var(const floe_array *a, const cf_var_type *t, int derived, stac_item_var *v)
{
    static const char *const names[] = {
        [FLOE_DT_BOOL] = "uint8",     [FLOE_DT_INT8] = "int8",     [FLOE_DT_INT16] = "int16",
        [FLOE_DT_INT32] = "int32",    [FLOE_DT_INT64] = "int64",   [FLOE_DT_UINT8] = "uint8",
        [FLOE_DT_UINT16] = "uint16",  [FLOE_DT_UINT32] = "uint32", [FLOE_DT_UINT64] = "uint64",
        [FLOE_DT_FLOAT32] = "float32", [FLOE_DT_FLOAT64] = "float64", [FLOE_DT_FLOAT16] = "float32",
    };
    v->data_type = names[t->dtype];
    int float_source = a->dtype == FLOE_DT_FLOAT32 || a->dtype == FLOE_DT_FLOAT16;
    if (t->count) {
        v->unit = "1";
        v->has_nodata = 0;
    } else if (t->no_fill) {
        v->has_nodata = 0;
    } else if (t->unpacked || (derived && !float_source)) {
        v->nodata = NAN;
    } else {
        v->nodata = a->fill_value;
    }
}

floe_err stac_item_write_grid_to(const cf_grid_spec *g, const stac_item_dest *dest,
                                 const char *operation, stac_item_source_kind source_kind)
{
    const char *item_path = dest->item_path;
    if (!g->nt || !g->ny || !g->nx)
        return FLOE_ERR(FLOE_EINVAL, "STAC Item for %s: the grid is empty (%zu x %zu x %zu)",
                        g->path, g->nt, g->ny, g->nx);
    if (g->nvars > GRID_MAX_VARS)
        return FLOE_ERR(FLOE_EINVAL, "STAC Item for %s: more than %d variables", g->path,
                        GRID_MAX_VARS);
    char t0[40], t1[40], stepbuf[40], spanbuf[40];
    const char *step, *span_step;
    /* An output with time bounds (steps with known intervals, statistics,
     * climatologies) stands for the span of its bounds; the step is the
     * spacing of the values, except for a climatology, whose groups
     * (January, February, ...) have no regular step. */
    double span[2] = {g->time_bounds ? g->time_bounds[0] : g->time_values[0],
                      g->time_bounds ? g->time_bounds[2 * g->nt - 1] : g->time_values[g->nt - 1]};
    FLOE_CHECK(stac_item_times(g->time, span, 2, t0, t1, spanbuf, &span_step),
               "STAC Item for %s", g->path);
    FLOE_CHECK(stac_item_times(g->time, g->time_values, g->nt, spanbuf, spanbuf, stepbuf, &step),
               "STAC Item for %s", g->path);
    if (g->climatology)
        step = NULL;

    axis x, y;
    axis_of(g->lon_values, g->nx, g->lon_step, g->lon->dtype == FLOE_DT_FLOAT32, &x);
    axis_of(g->lat_values, g->ny, g->lat_step, g->lat->dtype == FLOE_DT_FLOAT32, &y);

    /* names as cf_grid_output writes them */
    static const char *const dim_names[3] = {"time", "lat", "lon"};
    stac_item_dim dims[3] = {
        {.name = "time", .kind = STAC_ITEM_DIM_TIME, .description = attr_text(g->time, "long_name"),
         .time_extent = {t0, t1}, .time_step = step},
        {.name = "lat", .kind = STAC_ITEM_DIM_Y, .description = attr_text(g->lat, "long_name"),
         .extent = {y.lo, y.hi}, .step = y.step},
        {.name = "lon", .kind = STAC_ITEM_DIM_X, .description = attr_text(g->lon, "long_name"),
         .extent = {x.lo, x.hi}, .step = x.step},
    };
    stac_item_var vars[GRID_MAX_VARS];
    for (size_t i = 0; i < g->nvars; i++) {
        const floe_array *a = g->vars[i];
        vars[i] = (stac_item_var){
            .name = g->out_names ? g->out_names[i] : a->name, .dims = dim_names, .ndims = 3,
            .unit = attr_text(a, "units"), .description = attr_text(a, "long_name"),
            .data_type = "float32", /* cf_grid_output writes float32 without types */
            .has_nodata = 1, .nodata = (double)(float)a->fill_value,
        };
        if (g->types)
            typed_var(a, &g->types[i], g->cell_methods != NULL, &vars[i]);
    }

    char *default_path = NULL;
    if (!item_path) {
        FLOE_CHECK(stac_item_default_path(g->path, &default_path));
        item_path = default_path;
    }
    stac_item_spec s = {
        .item_path = item_path,
        .data_path = g->path,
        .data_file = dest->data_file,
        .item_tmp = dest->item_tmp,
        .collection = dest->collection,
        .command = g->command,
        .operation = operation,
        .prov = g->provenance,
        .source_kind = source_kind,
        .start_datetime = t0,
        .end_datetime = t1,
        .dims = dims, .ndims = 3,
        .vars = vars, .nvars = g->nvars,
        .proj_shape = {g->ny, g->nx},
        .has_transform = isfinite(x.step) && isfinite(y.step),
        .proj_transform = {x.step, 0, x.first_edge, 0, y.step, y.first_edge},
    };
    bbox_of(&x, &y, s.bbox);
    floe_err err = stac_item_write(&s);
    free(default_path);
    return err;
}
