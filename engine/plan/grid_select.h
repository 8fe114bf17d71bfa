/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/grid_select.h - the part of a request every gridded operation shares:
 * which variables (float32 on one (time, lat, lon) grid), their coordinate
 * axes, and the index box that --bbox and --time select on that grid.
 * extract, stats and climatology all start here. */
#ifndef FLOE_GRID_SELECT_H
#define FLOE_GRID_SELECT_H

#include "common/floe_error.h"
#include "cf/time.h"
#include "dataset/dataset.h"
#include "engine/plan/time_intervals.h"

#include <stddef.h>

enum { FLOE_GRID_MAX_VARS = 64 };

typedef struct floe_grid_select {
    const floe_array *vars[FLOE_GRID_MAX_VARS]; /* borrowed from the dataset */
    size_t nvars;
    const floe_array *time, *lat, *lon;         /* the coordinate arrays */
    double *tv, *yv, *xv;                       /* their whole axes (owned) */
    size_t start[3], count[3];                  /* the box: time, lat, lon */
    cf_time_units tunits;                       /* the time axis' units and calendar */
    floe_time_label label;                      /* the label in force (never AUTO) */
    cf_interval *ti;                            /* every step's interval, whole axis (owned) */
} floe_grid_select;

/* Do the selected steps stand for intervals (a start, end or bounds
 * label) rather than points? Then outputs write their bounds. */
static inline int floe_grid_select_has_intervals(const floe_grid_select *g)
{
    return g->label != FLOE_TIME_LABEL_POINT;
}

/* vars: "Tair,Rainf"; bbox: "W,S,E,N" or NULL (all cells); time: ISO 8601
 * instant or interval, or NULL (all steps), selecting by the steps'
 * intervals (engine/plan/time_intervals.h) under `label`: the caller's
 * (--time-label) unless AUTO, else the source's own bounds when the time
 * coordinate has a `bounds` attribute, else the STAC document's hint
 * (floe_provenance.time_label), else point. Every variable must be a
 * readable float32 array over the same three named dimensions and shape,
 * each dimension having a 1-D coordinate array of that name. An empty box
 * is FLOE_EINVAL. Errors name the variable, the coordinate or the option. */
floe_err floe_grid_select_make(floe_dataset *ds, const char *vars, const char *bbox,
                               const char *time, floe_time_label label, floe_grid_select *g);
void floe_grid_select_free(floe_grid_select *g);

/* The CF time bounds of the selected steps (with intervals): *tb =
 * 2 x count[0] values in the axis' units, start and end of each step
 * (owned by the caller). */
floe_err floe_grid_time_bounds(const floe_grid_select *g, double **tb);

#endif
