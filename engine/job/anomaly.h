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
 * missing anomaly. The subtraction is done in double and, for float
 * data, rounded to float once (as CDO computes).
 *
 * Memory and reads follow the query, not the file: each rank keeps the
 * file open and reads only the climatology of the cells and steps its
 * work touches, as hyperslabs in the file's own type (float stays float):
 * a job loads the box of the tile it works on (job_anomaly_load, the
 * groups of the tile's steps) before subtracting; points load their cells
 * once (job_anomaly_load_points). Loaded boxes are kept up to cache_bytes
 * (0: only the last one), so a tile visited again is not read again.
 */
#ifndef FLOE_JOB_ANOMALY_H
#define FLOE_JOB_ANOMALY_H

#include "common/floe_error.h"
#include "engine/plan/grid_select.h"
#include "engine/plan/points.h"
#include "out/climatology_input.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The climatology of one box of one variable, as read: climatology
 * steps [g0, g0 + ng), rows [r0, r0 + nr), columns [c0, c0 + nc) of the
 * file. */
typedef struct job_anomaly_box {
    size_t v, g0, ng, r0, nr, c0, nc;
    int f32;                /* values are float, else double */
    void *values;           /* [ng][nr][nc] */
    size_t bytes;
    unsigned long long used; /* when last loaded or reused (the cache's age) */
} job_anomaly_box;

/* Keep loaded boxes up to this many bytes when a job revisits tiles in
 * any order (series and extract take chunks as they arrive): large enough
 * for the tiles of a batch of a regional box, small beside a rank's data. */
#define JOB_ANOMALY_CACHE_BYTES ((size_t)64 << 20)

typedef struct job_anomaly {
    const char *path;       /* borrowed; NULL: no anomaly */
    floe_clim_input clim;   /* the file, open while the job runs */
    size_t nvars;
    floe_clim_var *vars;    /* [nvars] */
    uint32_t *clim_step;    /* [selected steps]: the climatology step of each */
    long *row_of, *col_of;  /* [grid rows], [grid columns]: the climatology's, -1: none */
    size_t y0, x0;          /* the selection's first row and column */
    size_t cache_bytes;     /* keep loaded boxes up to this (0: the last one only) */
    job_anomaly_box *boxes; /* loaded, nboxes of them; cur: the one subtracted */
    size_t nboxes;
    const job_anomaly_box *cur;
    unsigned long long clock;
    size_t npcells;         /* points: 4 cells a point */
    size_t pg0, png;        /* points: climatology steps [pg0, pg0 + png) */
    double *pvalues;        /* points: [nvars][npcells][png], NaN: a cell not mapped */
    size_t bytes_read;      /* climatology values read, in bytes (all loads) */
    /* Chunk callbacks may run on several workers at once (dataset.h
     * floe_chunk_fn): one that loads a box holds this from the load to its
     * last subtraction (the box, the cache and the file are shared). */
    pthread_mutex_t lock;
    int lock_made;
} job_anomaly;

/* Every rank: open CLIM.nc, find the selection's variables, map each
 * selected step to its climatology step. Maps the selected box's cells
 * when box is set (extract, stats, regions); points map theirs with
 * job_anomaly_map_cell. Reads no values. */
floe_err job_anomaly_prepare(job_anomaly *a, const char *path, const floe_grid_select *g,
                             int box);
/* Map one cell (absolute row, column) of the grid g (points). */
floe_err job_anomaly_map_cell(job_anomaly *a, const floe_grid_select *g, size_t row, size_t col);
void job_anomaly_free(job_anomaly *a);

/* Make the climatology of variable v for selected steps [s0, s1)
 * (relative to the selection) and absolute cells rows [row0, row1) x
 * columns [col0, col1) the one subtracted: reused when a loaded box holds
 * it, else read. Every cell must be mapped (a box's are). */
floe_err job_anomaly_load(job_anomaly *a, size_t v, size_t s0, size_t s1, size_t row0,
                          size_t row1, size_t col0, size_t col1);
/* job_anomaly_load and the subtractions that follow it, as one: for a
 * chunk callback (floe_chunk_fn) that may run beside others. */
void job_anomaly_lock(job_anomaly *a);
void job_anomaly_unlock(job_anomaly *a);

/* Points: read the climatology of the four cells of each point (cell
 * 4 p + 2 a + b is (ilat[a], ilon[b])), for every selected step's group. */
floe_err job_anomaly_load_points(job_anomaly *a, const floe_point_weights *pw, size_t npts);

/* Point cell c's climatology of variable v at selected step s, NaN where
 * missing or for a cell not mapped (a point's neighbour of weight 0). */
static inline double job_anomaly_point_clim(const job_anomaly *a, size_t v, size_t s, size_t c)
{
    return a->pvalues[(v * a->npcells + c) * a->png + (a->clim_step[s] - a->pg0)];
}

/* Subtract in place from n values of row `row`, columns [col0, col0 + n),
 * at selected step s, the loaded box's climatology (job_anomaly_load). */
void job_anomaly_sub_f32(const job_anomaly *a, size_t s, size_t row, size_t col0, float *x,
                         size_t n);
void job_anomaly_sub_f64(const job_anomaly *a, size_t s, size_t row, size_t col0, double *x,
                         size_t n);

/* "LONG_NAME anomaly" of variable a (its long_name, else its name). */
void job_anomaly_long_name(const floe_array *a, char *buf, size_t size);

#endif
