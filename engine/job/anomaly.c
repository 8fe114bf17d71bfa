/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/anomaly.c - see anomaly.h. */
#include "engine/job/anomaly.h"

#include "engine/plan/climatology_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Coordinates agree within this many degrees: both files hold the same
 * float32 centres, so they are equal; the margin covers float64 copies. */
#define ANOMALY_COORD_TOL 1e-5

void job_anomaly_free(job_anomaly *a)
{
    for (size_t v = 0; a->values && v < a->nvars; v++)
        free(a->values[v]);
    free(a->values);
    free(a->clim_step);
    free(a->row_of);
    free(a->col_of);
    floe_clim_input_free(&a->clim);
    memset(a, 0, sizeof *a);
}

static floe_clim_by by_of(floe_clim_input_kind k)
{
    return k == FLOE_CLIM_INPUT_MONTH    ? FLOE_CLIM_MONTH
           : k == FLOE_CLIM_INPUT_SEASON ? FLOE_CLIM_SEASON
                                         : FLOE_CLIM_DAYOFYEAR;
}

/* The climatology's index of coordinate x on its axis ax[n], or -1. */
static long find_coord(const double *ax, size_t n, double x)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(ax[i] - x) <= ANOMALY_COORD_TOL)
            return (long)i;
    return -1;
}

static floe_err map_row(job_anomaly *a, const floe_grid_select *g, size_t row)
{
    if (a->row_of[row] >= 0)
        return NULL;
    a->row_of[row] = find_coord(a->clim.lat, a->clim.ny, g->yv[row]);
    if (a->row_of[row] < 0)
        return FLOE_ERR(FLOE_EINVAL, "climatology %s: its grid holds no latitude %.6g (it has "
                        "%zu from %.6g to %.6g): it must hold the selected cells", a->path,
                        g->yv[row], a->clim.ny, a->clim.ny ? a->clim.lat[0] : NAN,
                        a->clim.ny ? a->clim.lat[a->clim.ny - 1] : NAN);
    return NULL;
}

static floe_err map_col(job_anomaly *a, const floe_grid_select *g, size_t col)
{
    if (a->col_of[col] >= 0)
        return NULL;
    a->col_of[col] = find_coord(a->clim.lon, a->clim.nx, g->xv[col]);
    if (a->col_of[col] < 0)
        return FLOE_ERR(FLOE_EINVAL, "climatology %s: its grid holds no longitude %.6g (it has "
                        "%zu from %.6g to %.6g): it must hold the selected cells", a->path,
                        g->xv[col], a->clim.nx, a->clim.nx ? a->clim.lon[0] : NAN,
                        a->clim.nx ? a->clim.lon[a->clim.nx - 1] : NAN);
    return NULL;
}

floe_err job_anomaly_map_cell(job_anomaly *a, const floe_grid_select *g, size_t row, size_t col)
{
    FLOE_CHECK(map_row(a, g, row));
    return map_col(a, g, col);
}

/* Each selected step's climatology step, by the step's midpoint. */
static floe_err map_steps(job_anomaly *a, const floe_grid_select *g)
{
    const floe_clim_input *c = &a->clim;
    floe_clim_by by = by_of(c->kind);
    size_t ng = floe_clim_group_count(by, CF_CAL_STANDARD); /* 366: the most of any calendar */
    long *step_of_group = malloc(ng * sizeof *step_of_group);
    a->clim_step = calloc(g->count[0] ? g->count[0] : 1, sizeof *a->clim_step);
    if (!step_of_group || !a->clim_step) {
        free(step_of_group);
        return FLOE_ERR(FLOE_ENOMEM, "climatology %s: groups", a->path);
    }
    for (size_t k = 0; k < ng; k++)
        step_of_group[k] = -1;
    for (size_t k = 0; k < c->nt; k++)
        step_of_group[floe_clim_group_of(by, c->calendar, &c->when[k])] = (long)k;
    floe_err err = NULL;
    if (!g->ti)
        err = FLOE_ERR(FLOE_EFORMAT, "--anomaly-from: time coordinate %s has values that are "
                       "not CF times", g->time->name);
    for (size_t s = 0; !err && s < g->count[0]; s++) {
        cf_datetime dt;
        cf_instant_to_datetime(g->tunits.calendar, floe_time_step_mid(&g->ti[g->start[0] + s]),
                               &dt);
        size_t grp = floe_clim_group_of(by, g->tunits.calendar, &dt);
        if (grp < ng && step_of_group[grp] >= 0) {
            a->clim_step[s] = (uint32_t)step_of_group[grp];
            continue;
        }
        char name[32], when[64];
        if (cf_time_value_format(&g->tunits, g->tv[g->start[0] + s], when, sizeof when))
            snprintf(when, sizeof when, "%zu", g->start[0] + s);
        err = FLOE_ERR(FLOE_EINVAL, "climatology %s holds no %s (%s): step %s needs it",
                       a->path, floe_clim_group_name(by, g->tunits.calendar, grp, name,
                                                     sizeof name),
                       floe_clim_input_kind_name(c->kind), when);
    }
    free(step_of_group);
    return err;
}

floe_err job_anomaly_prepare(job_anomaly *a, const char *path, const floe_grid_select *g,
                             int box)
{
    memset(a, 0, sizeof *a);
    if (!path)
        return NULL;
    a->path = path;
    FLOE_CHECK(floe_clim_input_open(path, &a->clim), "--anomaly-from");
    size_t nlat = g->lat->shape[0], nlon = g->lon->shape[0];
    a->values = calloc(g->nvars ? g->nvars : 1, sizeof *a->values);
    a->row_of = malloc(nlat * sizeof *a->row_of);
    a->col_of = malloc(nlon * sizeof *a->col_of);
    if (!a->values || !a->row_of || !a->col_of)
        return FLOE_ERR(FLOE_ENOMEM, "climatology %s", path);
    a->nvars = g->nvars;
    for (size_t i = 0; i < nlat; i++)
        a->row_of[i] = -1;
    for (size_t i = 0; i < nlon; i++)
        a->col_of[i] = -1;
    a->y0 = g->start[1];
    a->x0 = g->start[2];
    for (size_t v = 0; v < g->nvars; v++)
        FLOE_CHECK(floe_clim_input_read(&a->clim, g->vars[v]->name, &a->values[v]),
                   "--anomaly-from");
    FLOE_CHECK(map_steps(a, g));
    for (size_t r = 0; box && r < g->count[1]; r++)
        FLOE_CHECK(map_row(a, g, g->start[1] + r));
    for (size_t c = 0; box && c < g->count[2]; c++)
        FLOE_CHECK(map_col(a, g, g->start[2] + c));
    return NULL;
}

void job_anomaly_sub_f32(const job_anomaly *a, size_t v, size_t s, size_t row, size_t col0,
                         float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) /* NaN (missing) on either side stays NaN */
        x[i] = (float)((double)x[i] - job_anomaly_clim(a, v, s, row, col0 + i));
}

void job_anomaly_sub_f64(const job_anomaly *a, size_t v, size_t s, size_t row, size_t col0,
                         double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] -= job_anomaly_clim(a, v, s, row, col0 + i);
}

void job_anomaly_long_name(const floe_array *a, char *buf, size_t size)
{
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(a->attributes, "long_name");
    snprintf(buf, size, "%s anomaly", cJSON_IsString(ln) ? ln->valuestring : a->name);
}
