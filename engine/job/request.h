/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/request.h - what a job is asked to do: one struct per job,
 * filled by the command line (cli/) or by any other caller, and handed to
 * the job's collective function (extract.h, series.h, stats.h).
 *
 * Every string is borrowed: it must outlive the call. Every rank passes
 * the same request (under MPI each rank parses the same command line).
 */
#ifndef FLOE_JOB_REQUEST_H
#define FLOE_JOB_REQUEST_H

#include "dataset/dataset.h"

#include <stddef.h>

/* What every job takes: where to read, what to select, where to write. */
typedef struct floe_job_request {
    floe_open_request open; /* source, version, fetch settings; the job sets .arrays */
    const char *vars;       /* variables, comma-separated (required) */
    const char *bbox;       /* "W,S,E,N" in degrees (cell centres, edges inclusive); NULL: all */
    const char *time;       /* "T0[/T1]" ISO 8601, both ends inclusive; NULL: every step */
    const char *time_label; /* "point", "start", "end" (engine/plan/time_intervals.h); NULL:
                             * the source's bounds, the STAC hint, else point */
    const char *output;     /* the NetCDF-4 file (required; appears only when complete) */
    const char *item;       /* the derived STAC Item; NULL: the output's name with .json */
    const char *report;     /* per-rank counters as JSON (engine/job/report.h); NULL: none */
    const char *command;    /* the command line, recorded in the output's provenance */
    const char *collection; /* --collection ID_OR_HREF: the Item's target collection
                               (out/item/item.h); NULL: none */
    const char *anomaly_from; /* --anomaly-from CLIM.nc: values minus this climatology
                                 (engine/job/anomaly.h), an input; NULL: the values */
    int overwrite;          /* replace existing outputs (-O); inputs never */
    int gather_output;      /* --gather-output: rank 0 receives every output chunk and
                               writes it, as before placed writes (engine/job/stats_place.h) */
    int quiet;              /* no progress line on rank 0 */
    double progress_interval; /* seconds between progress lines in a log (stderr not a
                                 terminal: engine/job/progress.h); 0: none */
    /* --dry-run: open and plan, print the plan (engine/job/dry_run.h),
     * fetch no chunk, write nothing; dry_run_json: as JSON; dry_run_ranks:
     * plan for this many ranks (0: the ranks it runs on). */
    int dry_run, dry_run_json, dry_run_ranks;
    /* Execution controls (engine/job/checkpoint.h), not part of the
     * request: left out of its fingerprint and of the recorded command. */
    int checkpoint;         /* --checkpoint: keep progress in OUT.floe-ckpt/ */
    int resume;             /* --resume: continue from OUT.floe-ckpt/ if there, else
                               start fresh as with --checkpoint */
    int piece, pieces;      /* --piece I/N (1-based): piece I of N into OUT.floe-parts/;
                               0 and 0: the whole request */
    int piece_by;           /* --piece-by: what a piece is a share of (job_piece_by) */
    int merge;              /* `floe merge OUT`: write the output from the N pieces
                               in OUT.floe-parts/ (cli/cmd_merge.c), fetching nothing */
} floe_job_request;

/* How --piece I/N splits a request (--piece-by; engine/job/checkpoint.h):
 * every variable's I-th share of the steps, or every step of the I-th
 * share of the variables. */
typedef enum job_piece_by {
    JOB_PIECE_BY_TIME = 0,
    JOB_PIECE_BY_VARIABLE,
} job_piece_by;

/* `floe extract`: the selected box and steps of the variables. */
typedef struct floe_extract_request {
    floe_job_request job;
    /* Packed variables (scale_factor/add_offset) are written as stored, the
     * packed integers with their attributes, instead of unpacked. */
    int keep_packing;
} floe_extract_request;

/* `floe series`: time series at points, or of a region's statistics.
 * Exactly one of points, region and job.bbox (the region as a box). */
typedef struct floe_series_request {
    floe_job_request job;
    const char *points;     /* CSV file: lon,lat[,id] a line */
    const char *region;     /* GeoJSON file: Polygon/MultiPolygon (Feature, FeatureCollection) */
    const char *method;     /* points: "nearest" (NULL) or "bilinear" */
    const char *stat;       /* region: any of mean,min,max,sum,count; NULL: mean */
    const char *region_id;  /* region: the features' property naming their series; NULL:
                               id, then name (engine/plan/region_set.h) */
    const char *weights;    /* region: "centre" (NULL) or "fraction"
                               (engine/plan/region_cells.h) */
    /* Per-period statistics of the series (engine/job/series_resample.c):
     * month, season or year; NULL: every step. */
    const char *resample;
    const char *resample_stat; /* any of mean,min,max,sum,std,count; NULL: mean */
} floe_series_request;

/* `floe stats` and `floe climatology`: per-cell statistics over the
 * selected steps, or per group of them. */
typedef struct floe_stats_request {
    floe_job_request job;
    const char *stat;       /* any of mean,min,max,sum,std,count and pNN
                             * percentiles (percentile.h); NULL: mean
                             * (climatology: mean,std,count) */
    int climatology;        /* group the steps by `by` */
    const char *by;         /* climatology: month, season or dayofyear (required) */
    /* Not a climatology: one output step per calendar month, season or
     * year (engine/plan/resample_periods.h), `floe extract --resample`;
     * NULL: one over every selected step. */
    const char *resample;
    /* Tuning (the CLI takes them from FLOE_TILE_MEMORY and
     * FLOE_NO_RAW_CHUNKS); rank 0's values hold for every rank, since all
     * must make the same plan. */
    size_t tile_memory;     /* bytes for one tile's accumulators per rank; 0: 1 GiB */
    int no_raw_chunks;      /* rank 0 compresses every output chunk itself */
} floe_stats_request;

#endif
