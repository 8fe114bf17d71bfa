/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/anomaly.c - see anomaly.h. */
#include "engine/job/anomaly.h"

#include "engine/plan/climatology_groups.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Coordinates agree within this many degrees: both files hold the same
 * float32 centres, so they are equal; the margin covers float64 copies. */
#define ANOMALY_COORD_TOL 1e-5

void job_anomaly_free(job_anomaly *a)
{
    for (size_t i = 0; i < a->nboxes; i++)
        free(a->boxes[i].values);
    free(a->boxes);
    free(a->pvalues);
    free(a->vars);
    free(a->clim_step);
    free(a->row_of);
    free(a->col_of);
    floe_clim_input_free(&a->clim);
    if (a->lock_made)
        pthread_mutex_destroy(&a->lock);
    memset(a, 0, sizeof *a);
}

void job_anomaly_lock(job_anomaly *a)
{
    pthread_mutex_lock(&a->lock);
}

void job_anomaly_unlock(job_anomaly *a)
{
    pthread_mutex_unlock(&a->lock);
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

/* Map grid index i of one axis (its centres v) to the climatology's axis
 * ax[n] (of name "latitude" or "longitude") into idx[i], once. */
static floe_err map_axis(const job_anomaly *a, const char *name, const double *v, size_t i,
                         const double *ax, size_t n, long *idx)
{
    if (idx[i] >= 0)
        return NULL;
    idx[i] = find_coord(ax, n, v[i]);
    if (idx[i] < 0)
        return FLOE_ERR(FLOE_EINVAL, "climatology %s: its grid holds no %s %.6g (it has %zu "
                        "from %.6g to %.6g): it must hold the selected cells", a->path, name,
                        v[i], n, n ? ax[0] : NAN, n ? ax[n - 1] : NAN);
    return NULL;
}

static floe_err map_row(job_anomaly *a, const floe_grid_select *g, size_t row)
{
    return map_axis(a, "latitude", g->yv, row, a->clim.lat, a->clim.ny, a->row_of);
}

static floe_err map_col(job_anomaly *a, const floe_grid_select *g, size_t col)
{
    return map_axis(a, "longitude", g->xv, col, a->clim.lon, a->clim.nx, a->col_of);
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
    /* Days of the year are numbered by month and day in 360_day calendars
     * and by the day's place in a leap year in the others
     * (climatology_groups.h): across the two, group k is another day. */
    else if (by == FLOE_CLIM_DAYOFYEAR &&
             (c->calendar == CF_CAL_360_DAY) != (g->tunits.calendar == CF_CAL_360_DAY))
        err = FLOE_ERR(FLOE_EUNSUPPORTED, "climatology %s is by day of year in the %s calendar "
                       "and the data's is %s: their days of the year do not match",
                       a->path, cf_calendar_name(c->calendar),
                       cf_calendar_name(g->tunits.calendar));
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

/* The climatology steps of selected steps [s0, s1): [*g0, *g0 + *ng). */
static void step_range(const job_anomaly *a, size_t s0, size_t s1, size_t *g0, size_t *ng)
{
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t s = s0; s < s1; s++) {
        lo = a->clim_step[s] < lo ? a->clim_step[s] : lo;
        hi = a->clim_step[s] > hi ? a->clim_step[s] : hi;
    }
    *g0 = s1 > s0 ? lo : 0;
    *ng = s1 > s0 ? hi - lo + 1 : 0;
}

floe_err job_anomaly_prepare(job_anomaly *a, const char *path, const floe_grid_select *g,
                             int box)
{
    memset(a, 0, sizeof *a);
    if (!path)
        return NULL;
    if (pthread_mutex_init(&a->lock, NULL))
        return FLOE_ERR(FLOE_ENOMEM, "--anomaly-from: a lock");
    a->lock_made = 1;
    a->path = path;
    FLOE_CHECK(floe_clim_input_open(path, &a->clim), "--anomaly-from");
    size_t nlat = g->lat->shape[0], nlon = g->lon->shape[0];
    a->vars = calloc(g->nvars ? g->nvars : 1, sizeof *a->vars);
    a->row_of = malloc(nlat * sizeof *a->row_of);
    a->col_of = malloc(nlon * sizeof *a->col_of);
    if (!a->vars || !a->row_of || !a->col_of)
        return FLOE_ERR(FLOE_ENOMEM, "climatology %s", path);
    a->nvars = g->nvars;
    for (size_t i = 0; i < nlat; i++)
        a->row_of[i] = -1;
    for (size_t i = 0; i < nlon; i++)
        a->col_of[i] = -1;
    a->y0 = g->start[1];
    a->x0 = g->start[2];
    for (size_t v = 0; v < g->nvars; v++)
        FLOE_CHECK(floe_clim_input_var(&a->clim, g->vars[v]->name, &a->vars[v]),
                   "--anomaly-from");
    FLOE_CHECK(map_steps(a, g));
    step_range(a, 0, g->count[0], &a->pg0, &a->png);
    for (size_t r = 0; box && r < g->count[1]; r++)
        FLOE_CHECK(map_row(a, g, g->start[1] + r));
    for (size_t c = 0; box && c < g->count[2]; c++)
        FLOE_CHECK(map_col(a, g, g->start[2] + c));
    return NULL;
}

/* The climatology's indices of map[i0..i1) (all mapped): [*lo, *lo + *n). */
static floe_err index_range(const job_anomaly *a, const long *map, size_t i0, size_t i1,
                            const char *what, size_t *lo, size_t *n)
{
    long l = LONG_MAX, h = -1;
    for (size_t i = i0; i < i1; i++) {
        if (map[i] < 0)
            return FLOE_ERR(FLOE_EINTERNAL, "climatology %s: %s %zu not mapped", a->path, what, i);
        l = map[i] < l ? map[i] : l;
        h = map[i] > h ? map[i] : h;
    }
    *lo = i1 > i0 ? (size_t)l : 0;
    *n = i1 > i0 ? (size_t)(h - l + 1) : 0;
    return NULL;
}

static int box_holds(const job_anomaly_box *b, const job_anomaly_box *want)
{
    return b->v == want->v && b->g0 <= want->g0 && want->g0 + want->ng <= b->g0 + b->ng &&
           b->r0 <= want->r0 && want->r0 + want->nr <= b->r0 + b->nr && b->c0 <= want->c0 &&
           want->c0 + want->nc <= b->c0 + b->nc;
}

/* Drop the least recently used boxes until `bytes` more fit in the cache
 * (the last one always goes when the cache keeps only one). */
static void make_room(job_anomaly *a, size_t bytes)
{
    size_t held = 0;
    for (size_t i = 0; i < a->nboxes; i++)
        held += a->boxes[i].bytes;
    while (a->nboxes && held + bytes > a->cache_bytes) {
        size_t old = 0;
        for (size_t i = 1; i < a->nboxes; i++)
            old = a->boxes[i].used < a->boxes[old].used ? i : old;
        held -= a->boxes[old].bytes;
        free(a->boxes[old].values);
        a->boxes[old] = a->boxes[--a->nboxes];
    }
}

floe_err job_anomaly_load(job_anomaly *a, size_t v, size_t s0, size_t s1, size_t row0,
                          size_t row1, size_t col0, size_t col1)
{
    job_anomaly_box want = {.v = v};
    step_range(a, s0, s1, &want.g0, &want.ng);
    FLOE_CHECK(index_range(a, a->row_of, row0, row1, "row", &want.r0, &want.nr));
    FLOE_CHECK(index_range(a, a->col_of, col0, col1, "column", &want.c0, &want.nc));
    a->clock++;
    for (size_t i = 0; i < a->nboxes; i++)
        if (box_holds(&a->boxes[i], &want)) {
            a->boxes[i].used = a->clock;
            a->cur = &a->boxes[i];
            return NULL;
        }
    want.f32 = a->vars[v].f32;
    size_t n = want.ng * want.nr * want.nc;
    want.bytes = n * (want.f32 ? sizeof(float) : sizeof(double));
    a->cur = NULL;
    make_room(a, want.bytes);
    job_anomaly_box *grown = realloc(a->boxes, (a->nboxes + 1) * sizeof *grown);
    if (grown)
        a->boxes = grown;
    want.values = grown ? malloc(want.bytes ? want.bytes : 1) : NULL;
    if (!want.values)
        return FLOE_ERR(FLOE_ENOMEM, "climatology %s: %zu x %zu x %zu values of %s", a->path,
                        want.ng, want.nr, want.nc, a->vars[v].name);
    size_t start[3] = {want.g0, want.r0, want.c0}, count[3] = {want.ng, want.nr, want.nc};
    floe_err err = n ? floe_clim_input_read_box(&a->clim, &a->vars[v], start, count,
                                                want.values)
                     : NULL;
    if (err) {
        free(want.values);
        return err;
    }
    a->bytes_read += want.bytes;
    want.used = a->clock;
    a->boxes[a->nboxes] = want;
    a->cur = &a->boxes[a->nboxes++];
    return NULL;
}

floe_err job_anomaly_load_points(job_anomaly *a, const floe_point_weights *pw, size_t npts)
{
    a->npcells = 4 * npts;
    size_t n = a->nvars * a->npcells * a->png;
    a->pvalues = malloc((n ? n : 1) * sizeof *a->pvalues);
    double *column = malloc((a->png ? a->png : 1) * sizeof *column);
    floe_err err = !a->pvalues || !column
                       ? FLOE_ERR(FLOE_ENOMEM, "climatology %s: %zu points", a->path, npts)
                       : NULL;
    for (size_t v = 0; !err && v < a->nvars; v++)
        for (size_t c = 0; !err && c < a->npcells; c++) {
            const floe_point_weights *w = &pw[c / 4];
            long row = a->row_of[w->ilat[(c % 4) / 2]], col = a->col_of[w->ilon[c % 2]];
            double *out = a->pvalues + (v * a->npcells + c) * a->png;
            if (row < 0 || col < 0) { /* a cell not mapped: never weighed */
                for (size_t k = 0; k < a->png; k++)
                    out[k] = NAN;
                continue;
            }
            size_t start[3] = {a->pg0, (size_t)row, (size_t)col}, count[3] = {a->png, 1, 1};
            floe_clim_var cv = a->vars[v];
            cv.f32 = 0; /* a few values: as double (a float's widened value, exactly) */
            err = a->png ? floe_clim_input_read_box(&a->clim, &cv, start, count, column) : NULL;
            for (size_t k = 0; !err && k < a->png; k++)
                out[k] = column[k];
            a->bytes_read += a->png * (a->vars[v].f32 ? sizeof(float) : sizeof(double));
        }
    free(column);
    return err;
}

/* The loaded box's climatology at selected step s, absolute (row, col). */
static inline size_t box_index(const job_anomaly *a, size_t s, size_t row, size_t col)
{
    const job_anomaly_box *b = a->cur;
    return ((a->clim_step[s] - b->g0) * b->nr + ((size_t)a->row_of[row] - b->r0)) * b->nc +
           ((size_t)a->col_of[col] - b->c0);
}

static inline double box_clim(const job_anomaly *a, size_t s, size_t row, size_t col)
{
    size_t i = box_index(a, s, row, col);
    return a->cur->f32 ? (double)((const float *)a->cur->values)[i]
                       : ((const double *)a->cur->values)[i];
}

void job_anomaly_sub_f32(const job_anomaly *a, size_t s, size_t row, size_t col0, float *x,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) /* NaN (missing) on either side stays NaN */
        x[i] = (float)((double)x[i] - box_clim(a, s, row, col0 + i));
}

void job_anomaly_sub_f64(const job_anomaly *a, size_t s, size_t row, size_t col0, double *x,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] -= box_clim(a, s, row, col0 + i);
}

void job_anomaly_long_name(const floe_array *a, char *buf, size_t size)
{
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(a->attributes, "long_name");
    snprintf(buf, size, "%s anomaly", cJSON_IsString(ln) ? ln->valuestring : a->name);
}
