/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/grid_select.c - see grid_select.h. */
#include "engine/plan/grid_select.h"

#include "engine/plan/selection.h"
#include "engine/plan/time_select.h"

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

floe_err floe_grid_select_make(floe_dataset *ds, const char *vars, const char *bbox,
                               const char *time, floe_grid_select *g)
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
            err = FLOE_ERR(FLOE_ENOTFOUND, "no variable '%s' in %s (see 'floe inspect')", tok,
                           floe_dataset_provenance(ds)->source);
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
    if (time) {
        size_t t0, t1;
        FLOE_CHECK(floe_time_select(g->time, g->tv, nt, time, &t0, &t1));
        g->start[0] = t0, g->count[0] = t1 - t0;
    }
    if (!g->count[0] || !g->count[1] || !g->count[2])
        return FLOE_ERR(FLOE_EINVAL, "the selection is empty (%zu time steps x %zu x %zu cells): "
                        "check --bbox and --time against 'floe inspect'", g->count[0],
                        g->count[1], g->count[2]);
    return NULL;
}

void floe_grid_select_free(floe_grid_select *g)
{
    free(g->tv);
    free(g->yv);
    free(g->xv);
    memset(g, 0, sizeof *g);
}
