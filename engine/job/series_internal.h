/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series_internal.h - the series job's state, shared by its
 * phases: series.c (plan, run), series_compute.c (this rank's steps) and
 * series_write.c (rank 0's file). Not for use outside engine/job/. */
#ifndef FLOE_JOB_SERIES_INTERNAL_H
#define FLOE_JOB_SERIES_INTERNAL_H

#include "cf/decode.h"
#include "dataset/dataset.h"
#include "engine/job/anomaly.h"
#include "engine/job/outputs.h"
#include "engine/job/progress.h"
#include "engine/job/request.h"
#include "engine/job/step_checkpoint.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/comm.h"
#include "engine/plan/grid_select.h"
#include "engine/plan/points.h"
#include "engine/plan/region_cells.h"
#include "engine/plan/region_set.h"
#include "engine/plan/resample_periods.h"
#include "engine/plan/series_plan.h"
#include "engine/reduce/accum.h"
#include "out/series_csv.h"
#include "out/series_output.h"

#include <math.h>
#include <stdint.h>

enum { MAX_VARS = 16, MAX_STATS = 5, MAX_OUT = MAX_VARS * MAX_STATS };

/* Everything every rank knows identically after phase 1. */
typedef struct series_job {
    floe_dataset *ds;
    floe_grid_select g;        /* variables, axes; the box read (regions) */
    cf_decoder cf[MAX_VARS];
    /* Variable v's values are double (in64) and its outputs float64
     * (out64): engine/job/stat_types.h. */
    int in64[MAX_VARS], out64[MAX_VARS];
    series_plan plan;
    /* points */
    floe_points pts;
    floe_point_weights *pw;
    floe_interp interp;
    size_t nst;                /* output columns: points, or regions */
    uint8_t *outside;          /* points: [npts], 1 for a point outside the grid
                                  (its series is missing) */
    /* regions (a box is one) */
    unsigned stats;
    unsigned stat_list[MAX_STATS];
    size_t nstat;
    floe_region_set regions;   /* --region: the features (or one region) */
    region_cells rc;           /* per tile, per region, the weighted cells;
                                  its tiles moved into plan */
    size_t region_cells;       /* the cells the regions weigh, all together */
    double region_edges[4];
    char region_desc[512];
    char region_id[512];    /* one region's timeseries_id (floe_region_name, or region_desc) */
    /* phase 2: this rank's steps and results */
    size_t s0, s1;
    /* [nout][s1 - s0][nst] values of res_esize bytes: float when every
     * output is float32, else double (rank 0 rounds the float32 outputs'
     * as it writes them) */
    void *results;
    size_t res_esize;
    size_t nout;
    floe_collector collector;  /* rank 0: phase 3's receiving side */
    job_outputs outputs;       /* the files it writes, committed together */
    job_progress progress;
    /* --resample (series_resample.c): the selected steps' periods (none:
     * no resampling) and the statistics over each period's steps */
    floe_resample_periods periods;
    unsigned rstat_list[6];
    size_t nrstat;
    job_anomaly anom;          /* --anomaly-from: subtracted as values are read */
    job_step_ckpt ck;          /* --checkpoint, --resume, --piece, floe merge: saved units */
} series_job;

/* The value written where variable v has none: its fill (float32
 * outputs, and float64 sources), NaN for float64 outputs of other types
 * (whose fill is an integer: a bool's 0 would hide real zeros). */
static inline double series_missing(const series_job *j, size_t v)
{
    const floe_array *a = j->g.vars[v];
    if (!j->out64[v])
        return (float)a->fill_value;
    return a->dtype == FLOE_DT_FLOAT64 || a->dtype == FLOE_DT_FLOAT32 ? a->fill_value : NAN;
}

/* Output o's variable: outputs are variable-major. */
static inline size_t series_var_of(const series_job *j, size_t o)
{
    return j->pw ? o : o / j->nstat;
}

/* Output o is a region's count of valid cells, written as int32 (issue
 * #12: counts are integers); at most SERIES_MAX_COUNT, the region's
 * cells being refused beyond. */
#define SERIES_MAX_COUNT INT32_MAX
static inline int series_is_count(const series_job *j, size_t o)
{
    return !j->pw && j->stat_list[o % j->nstat] == FLOE_STAT_COUNT;
}

/* A whole local file, NUL-terminated (caller frees), at most 64 MiB. */
floe_err series_read_file(const char *path, char **text, size_t *len);
/* Phase 1 for regions (series_regions.c): --region's file into j->regions
 * (before the grid is selected), then the cells, tiles and statistics. */
floe_err series_read_regions(const floe_series_request *req, series_job *j);
floe_err series_prepare_regions(const floe_series_request *req, int rank, series_job *j);
/* Does the output have an instance dimension (a FeatureCollection)? */
static inline int series_per_region(const series_job *j)
{
    return !j->pw && j->regions.per_feature;
}

/* COLLECTIVE over mpi->comm, after phase 1 is agreed: the checkpoint,
 * resume, piece or merge state of the job, its fingerprint covering the
 * series' own fields and the points or regions file's contents
 * (series_checkpoint.c). Agreed. */
floe_err series_ckpt_open(series_job *j, const floe_mpi *mpi, const floe_series_request *req);

/* Phase 2: this rank's steps, no communication. */
floe_err series_compute(series_job *j);
/* Its batches: steps per batch, and the chunks of steps [b0, b1) (every
 * tile of every time chunk, in the order take_chunk expects). */
size_t series_batch_steps(const series_job *j, uint64_t ct);
size_t series_batch_coords(const series_job *j, size_t b0, size_t b1, uint64_t *coords);
/* After phase 1 (dry_run_series.c): with req->job.dry_run, COLLECTIVE:
 * print the plan (engine/job/dry_run.h) and return the agreed result;
 * otherwise, on rank 0 on a terminal, print its short summary (not
 * collective, never fails). */
floe_err series_dry_run(series_job *j, const floe_mpi *mpi, const floe_series_request *req);
/* COLLECTIVE, a run after its steps are shared (j->ck open) and before
 * its reads: every rank gets the table of the refs its batches read
 * (dry_run.h job_dry_share_refs): the run's steps, a piece's too, and its
 * variables. The result is agreed. */
floe_err series_share_refs(series_job *j, const floe_mpi *mpi);
/* Phase 3 on rank 0: the file, then the Item. */
floe_err series_write_output(series_job *j, const floe_mpi *mpi, const floe_series_request *req);
/* Phase 3 on the other ranks. */
floe_err series_send_share(series_job *j, const floe_mpi *mpi);

/* series_resample.c: --resample on rank 0, after the collection.
 * Every rank plans (so a bad --resample is one agreed error). */
floe_err series_resample_plan(series_job *j, const char *by, const char *stats);

/* Rank 0's state while writing a resampled file: every output's every
 * step (double) until all ranks' steps are in, and the outputs it
 * writes instead (one per output and statistic). */
typedef struct series_resampled {
    size_t nin, nout;     /* outputs before and after resampling */
    double *in;           /* [nin][nsteps][nst] */
    const char **names, **methods, **long_names;
    const floe_array **vars;
    floe_dtype *dtypes;
    double *missing, *in_missing;
    floe_dtype *in_dtypes;
    char *text;           /* the names', methods' and long names' characters */
    double *time_values, *time_bounds;
} series_resampled;

/* Replace spec's outputs and time axis by the resampled ones (spec as
 * series_write_output fills it for every step); r owns what spec then
 * points to. */
floe_err series_resampled_init(series_resampled *r, const series_job *j, cf_series_spec *spec);
/* Keep output o's values of steps [s0, s0 + n) (n x nst values of esize
 * bytes, float or double). */
void series_resampled_store(series_resampled *r, const series_job *j, size_t o, size_t s0,
                            size_t n, const void *vals, size_t esize);
/* Compute every resampled output and write them to the file being
 * written: the NetCDF one (out) or the CSV one (csv); the other is NULL. */
floe_err series_resampled_put(series_resampled *r, const series_job *j, cf_series_output *out,
                              series_csv *csv);
void series_resampled_free(series_resampled *r);

#endif
