/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/anomaly.h - `--anomaly-from CLIM.nc` (extract, series,
 * stats): every value minus the climatology of its step's group, per
 * cell, BEFORE any other reduction (so a region's mean or a cell's
 * statistics are those of the anomalies), like CDO's ymonsub/yseassub/
 * ydaysub.
 *
 * CLIM.nc is read by out/climatology_input.h (VAR_mean, else VAR; its
 * grouping by month, season or day of year recognised from the file).
 * Each selected step is grouped by its midpoint
 * (engine/plan/climatology_groups.h); a step whose group the
 * climatology lacks is an error naming the step and the group. The
 * climatology's lat/lon must hold the cells read (the same coordinate
 * values, within ANOMALY_COORD_TOL degrees), else an error naming the
 * file and the first cell missing. Missing values on either side give a
 * missing anomaly. Every rank reads the file (it is small: groups x the
 * climatology's cells). The subtraction is done in double and, for
 * float data, rounded to float once (as CDO computes).
 */
#ifndef FLOE_JOB_ANOMALY_H
#define FLOE_JOB_ANOMALY_H

#include "common/floe_error.h"
#include "engine/plan/grid_select.h"
#include "out/climatology_input.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct job_anomaly {
    const char *path;       /* borrowed; NULL: no anomaly */
    floe_clim_input clim;
    size_t nvars;
    double **values;        /* [nvars][clim nt x ny x nx] */
    uint32_t *clim_step;    /* [selected steps]: the climatology step of each */
    long *row_of, *col_of;  /* [grid rows], [grid columns]: the climatology's, -1: none */
    size_t y0, x0;          /* the selection's first row and column */
} job_anomaly;

/* Every rank: read CLIM.nc for the selection's variables and steps.
 * Maps the selected box's cells when box is set (extract, stats,
 * regions); points map theirs with job_anomaly_map_cell. */
floe_err job_anomaly_prepare(job_anomaly *a, const char *path, const floe_grid_select *g,
                             int box);
/* Map one cell (absolute row, column) of the grid g (points). */
floe_err job_anomaly_map_cell(job_anomaly *a, const floe_grid_select *g, size_t row, size_t col);
void job_anomaly_free(job_anomaly *a);

/* The climatology of variable v at selected step s (relative to the
 * selection) and absolute cell (row, col), NaN where missing, and NaN
 * for a cell not mapped (a point's neighbour of weight 0). */
static inline double job_anomaly_clim(const job_anomaly *a, size_t v, size_t s, size_t row,
                                      size_t col)
{
    const floe_clim_input *c = &a->clim;
    if (a->row_of[row] < 0 || a->col_of[col] < 0) /* a cell not mapped: never weighed */
        return NAN;
    return a->values[v][((size_t)a->clim_step[s] * c->ny + (size_t)a->row_of[row]) * c->nx +
                        (size_t)a->col_of[col]];
}

/* Subtract in place from n values of row `row`, columns [col0, col0 + n). */
void job_anomaly_sub_f32(const job_anomaly *a, size_t v, size_t s, size_t row, size_t col0,
                         float *x, size_t n);
void job_anomaly_sub_f64(const job_anomaly *a, size_t v, size_t s, size_t row, size_t col0,
                         double *x, size_t n);

/* "LONG_NAME anomaly" of variable a (its long_name, else its name). */
void job_anomaly_long_name(const floe_array *a, char *buf, size_t size);

#endif
