/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/grid_select.c - see grid_select.h. */
#include "engine/plan/grid_select.h"

#include "common/floe_log.h"
#include "engine/plan/selection.h"
#include "engine/plan/time_select.h"
#include "engine/plan/var_suggest.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static floe_err check_variable(const floe_array *a, const floe_array *first)
{
    if (a->unreadable)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "variable %s: %s", a->name, a->unreadable);
    if (a->ndim != 3 || !a->dim_names[0] || !a->dim_names[1] || !a->dim_names[2])
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "variable %s: only (time, lat, lon) arrays with named dimensions are "
                        "supported; it has %d dimensions", a->name, a->ndim);
    if (first && (memcmp(a->shape, first->shape, sizeof a->shape) ||
                  strcmp(a->dim_names[0], first->dim_names[0]) ||
                  strcmp(a->dim_names[1], first->dim_names[1]) ||
                  strcmp(a->dim_names[2], first->dim_names[2])))
        return FLOE_ERR(FLOE_EINVAL, "variables %s and %s are on different grids", first->name,
                        a->name);
    return NULL;
}

/* Suggestions and listed names in the error of an unknown variable. */
enum { MAX_SUGGESTED = 3, MAX_LISTED = 64 };

/* The error for a variable the dataset lacks: the closest names
 * (engine/plan/var_suggest.h) and the variables a job can take (the
 * arrays of three dimensions), so the user needs no second command. */
static floe_err unknown_variable(floe_dataset *ds, const char *name)
{
    const char *names[MAX_LISTED];
    size_t n = 0, total = floe_dataset_array_count(ds);
    for (size_t i = 0; i < total && n < MAX_LISTED; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        if (a->ndim == 3)
            names[n++] = a->name;
    }
    const char *close[MAX_SUGGESTED];
    size_t nclose = floe_closest_names(name, names, n, close, MAX_SUGGESTED);
    char text[1024] = "", *p = text, *end = text + sizeof text;
    for (size_t i = 0; i < nclose && p < end; i++)
        p += snprintf(p, (size_t)(end - p), "%s%s", i ? " or " : "did you mean ", close[i]);
    if (nclose && p < end)
        p += snprintf(p, (size_t)(end - p), "? ");
    for (size_t i = 0; i < n && p < end; i++)
        p += snprintf(p, (size_t)(end - p), "%s%s", i ? ", " : "variables: ", names[i]);
    if (n == MAX_LISTED && p < end)
        snprintf(p, (size_t)(end - p), ", ... (see 'floe inspect')");
    return FLOE_ERR(FLOE_ENOTFOUND, "no variable '%s' in %s: %s", name,
                    floe_dataset_provenance(ds)->source, n ? text : "it has no (time, lat, lon) "
                    "variables (see 'floe inspect')");
}

/* The 1-D coordinate array that names dimension `dim`, and its values. */
static floe_err coordinate(floe_dataset *ds, const char *dim, const floe_array **arr,
                           double **values)
{
    *arr = floe_dataset_find(ds, dim);
    if (!*arr || (*arr)->ndim != 1 || (*arr)->unreadable)
        return FLOE_ERR(FLOE_ENOTFOUND, "no readable 1-D coordinate array '%s' for dimension %s",
                        dim, dim);
    FLOE_CHECK(floe_dataset_read_1d(ds, *arr, values), "coordinate %s", dim);
    return NULL;
}

/* The source's own time bounds: the (nt, 2) array the time coordinate's
 * `bounds` attribute names, or *b = NULL when there is none (a name that
 * is not in the dataset is a warning, and the steps are points). */
static floe_err source_time_bounds(floe_dataset *ds, const floe_array *time, size_t nt, double **b)
{
    *b = NULL;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(time->attributes, "bounds");
    if (!cJSON_IsString(name) || !*name->valuestring)
        return NULL;
    const floe_array *a = floe_dataset_find(ds, name->valuestring);
    if (!a || a->unreadable) {
        if (floe_log_rank() <= 0)
            FLOE_WARN("time coordinate %s: its bounds %s %s; its steps are taken as points "
                      "(see --time-label)", time->name, name->valuestring,
                      a ? a->unreadable : "are not in the dataset");
        return NULL;
    }
    if (a->ndim != 2 || a->shape[0] != nt || a->shape[1] != 2)
        return FLOE_ERR(FLOE_EFORMAT, "time bounds %s of %s: expected shape %zux2", a->name,
                        time->name, nt);
    FLOE_CHECK(floe_dataset_read_all(ds, a, b), "time bounds %s of %s", a->name, time->name);
    return NULL;
}

/* The label in force (see grid_select.h) and every step's interval. */
static floe_err time_intervals(floe_dataset *ds, floe_time_label asked, floe_grid_select *g,
                               int selecting)
{
    size_t nt = (size_t)g->time->shape[0];
    double *b = NULL;
    g->label = asked;
    if (asked == FLOE_TIME_LABEL_AUTO) {
        FLOE_CHECK(source_time_bounds(ds, g->time, nt, &b));
        const char *hint = floe_dataset_provenance(ds)->time_label;
        if (b)
            g->label = FLOE_TIME_LABEL_BOUNDS;
        else if (hint)
            FLOE_CHECK(floe_time_label_parse(hint, "the STAC document's time label", &g->label));
        else
            g->label = FLOE_TIME_LABEL_POINT;
    }
    g->ti = malloc((nt ? nt : 1) * sizeof *g->ti);
    floe_err err = g->ti ? NULL : FLOE_ERR(FLOE_ENOMEM, "time steps");
    if (!err)
        err = floe_time_axis_intervals(g->time, g->tv, nt, g->label, b, &g->tunits, g->ti);
    /* a selection is contiguous: the steps must be in time order */
    for (size_t i = 1; i < nt && !err && selecting; i++)
        if (g->ti[i].lo < g->ti[i - 1].lo)
            err = FLOE_ERR(FLOE_EUNSUPPORTED, "time coordinate %s is not increasing at step %zu",
                           g->time->name, i);
    free(b);
    return err;
}

floe_err floe_grid_select_make(floe_dataset *ds, const char *vars, const char *bbox,
                               const char *time, floe_time_label label, floe_grid_select *g)
{
    memset(g, 0, sizeof *g);
    char *names = strdup(vars);
    if (!names)
        return FLOE_ERR(FLOE_ENOMEM, "variable list");
    floe_err err = NULL;
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok && !err;
         tok = strtok_r(NULL, ",", &save)) {
        const floe_array *v = floe_dataset_find(ds, tok);
        if (!v)
            err = unknown_variable(ds, tok);
        else if (g->nvars == FLOE_GRID_MAX_VARS)
            err = FLOE_ERR(FLOE_EINVAL, "too many variables (at most %d)", FLOE_GRID_MAX_VARS);
        else if (!(err = check_variable(v, g->nvars ? g->vars[0] : NULL)))
            g->vars[g->nvars++] = v;
    }
    free(names);
    FLOE_CHECK(err);
    if (!g->nvars)
        return FLOE_ERR(FLOE_EINVAL, "no variables given");

    const floe_array *v0 = g->vars[0];
    FLOE_CHECK(coordinate(ds, v0->dim_names[0], &g->time, &g->tv));
    FLOE_CHECK(coordinate(ds, v0->dim_names[1], &g->lat, &g->yv));
    FLOE_CHECK(coordinate(ds, v0->dim_names[2], &g->lon, &g->xv));
    size_t nt = (size_t)g->time->shape[0], ny = (size_t)g->lat->shape[0];
    size_t nx = (size_t)g->lon->shape[0];
    if (nt != v0->shape[0] || ny != v0->shape[1] || nx != v0->shape[2])
        return FLOE_ERR(FLOE_EFORMAT, "variable %s has shape %llux%llux%llu but its coordinates "
                        "%zux%zux%zu", v0->name, (unsigned long long)v0->shape[0],
                        (unsigned long long)v0->shape[1], (unsigned long long)v0->shape[2], nt,
                        ny, nx);
    g->count[0] = nt, g->count[1] = ny, g->count[2] = nx;
    if (bbox) {
        floe_bbox bb;
        size_t i0, i1, j0, j1;
        FLOE_CHECK(floe_bbox_parse(bbox, &bb));
        FLOE_CHECK(floe_select_closed(g->yv, ny, bb.south, bb.north, &i0, &i1), "coordinate %s",
                   g->lat->name);
        FLOE_CHECK(floe_select_closed(g->xv, nx, bb.west, bb.east, &j0, &j1), "coordinate %s",
                   g->lon->name);
        g->start[1] = i0, g->count[1] = i1 - i0;
        g->start[2] = j0, g->count[2] = j1 - j0;
    }
    floe_err terr = time_intervals(ds, label, g, time != NULL);
    if (terr && g->label == FLOE_TIME_LABEL_POINT && !time) {
        /* points, no --time: the old behaviour needs no decodable axis
         * (extract and series copy the values); g->ti stays NULL */
        floe_err_free(&terr);
        free(g->ti);
        g->ti = NULL;
    }
    FLOE_CHECK(terr);
    if (time) {
        size_t t0, t1;
        FLOE_CHECK(floe_time_select(g->time, &g->tunits, g->label, g->ti, nt, time, &t0, &t1));
        g->start[0] = t0, g->count[0] = t1 - t0;
    }
    if (!g->count[0] || !g->count[1] || !g->count[2])
        return FLOE_ERR(FLOE_EINVAL, "the selection is empty (%zu time steps x %zu x %zu cells): "
                        "check --bbox and --time against 'floe inspect'", g->count[0],
                        g->count[1], g->count[2]);
    return NULL;
}

floe_err floe_grid_time_bounds(const floe_grid_select *g, double **tb)
{
    *tb = malloc(2 * (g->count[0] ? g->count[0] : 1) * sizeof **tb);
    if (!*tb)
        return FLOE_ERR(FLOE_ENOMEM, "time bounds of %zu steps", g->count[0]);
    for (size_t k = 0; k < g->count[0]; k++) {
        const cf_interval *s = &g->ti[g->start[0] + k];
        (*tb)[2 * k] = cf_time_instant_to_value(&g->tunits, s->lo);
        (*tb)[2 * k + 1] = cf_time_instant_to_value(&g->tunits, s->hi);
    }
    return NULL;
}

void floe_grid_select_free(floe_grid_select *g)
{
    free(g->tv);
    free(g->yv);
    free(g->xv);
    free(g->ti);
    memset(g, 0, sizeof *g);
}
