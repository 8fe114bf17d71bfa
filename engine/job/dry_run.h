/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/dry_run.h - `--dry-run`: what a data command would do, from
 * its own plan, without fetching a chunk or writing a file; and the short
 * form of it that every run prints first on a terminal.
 *
 * A job opens the dataset and plans as it always does, then, instead of
 * running, hands its selection and a per-rank estimate to job_dry_run_end.
 * The estimates come from the job's own batching, replayed on
 * floe_dataset_plan_chunks (dataset.h: the fetcher's own coalescing,
 * counted), one simulated fetcher per rank; the per-command files
 * (dry_run_extract.c, dry_run_series.c, dry_run_stats.c) replay each job.
 *
 * The JSON form (`--dry-run --json`, one object on stdout):
 *   {"command", "variables": [..], "box": {"west","south","east","north"}
 *    (the selected cells' centres), "cells": {"lat","lon"},
 *    "time": {"first","last","steps"}, "chunks", "manifests", "bytes",
 *    "requests", "ranks", "per_rank": [{"rank","chunks","bytes"}, ..],
 *    "peak_memory_per_rank", "output_bytes", "max_pieces"}
 * (documented in doc/floe.1 and README.md; Slurm glue reads it).
 * max_pieces: the most pieces `--piece I/N` cuts with work in every one:
 * the job's pieces are contiguous shares of the steps cut where a merge
 * stays exact (the stats job: on blocks of its trees; extract, series:
 * on whole time chunks), so a split into more leaves some empty. */
#ifndef FLOE_JOB_DRY_RUN_H
#define FLOE_JOB_DRY_RUN_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"
#include "engine/plan/grid_select.h"

#include <stdint.h>

/* The most ranks a dry run plans for (--ranks). */
enum { FLOE_DRY_RUN_MAX_RANKS = 1 << 16 };

/* One simulated rank: its reads (a zeroed floe_read_plan before the
 * first floe_dataset_plan_chunks) and the memory its work needs beyond
 * what the process holds once the dataset is open. */
typedef struct job_dry_rank {
    floe_read_plan reads;
    uint64_t work_memory;
    floe_ref_collector *refs; /* owned; reads.collect (job_dry_share_refs), or NULL */
} job_dry_rank;

typedef struct job_dry_run {
    const char *command;         /* "extract", "series", "stats", "climatology" */
    const floe_grid_select *g;   /* borrowed: variables, box, steps */
    job_dry_rank *ranks;         /* [nranks] (owned) */
    int nranks;
    uint64_t output_bytes;       /* the output's values, uncompressed */
    uint64_t max_pieces;         /* the most pieces that each hold work (see above) */
} job_dry_run;

/* ranks zeroed, nranks of them; FLOE_ENOMEM. */
floe_err job_dry_run_init(job_dry_run *d, const char *command, const floe_grid_select *g,
                          int nranks);
void job_dry_run_free(job_dry_run *d);

/* Rank 0 of a run (not a dry run): replay rank `rank`'s reads (of a job
 * on mpi->size ranks) into r, whose plan collects the refs they look up
 * (r->reads.collect). ctx: the job. */
typedef floe_err (*job_dry_replay)(void *ctx, int rank, job_dry_rank *r);

/* COLLECTIVE over mpi->comm, before a run's reads: rank 0 replays each
 * rank's reads in turn (replay; NULL when it has none to give), writes
 * that rank's table of refs and hands it to its rank
 * (engine/mpi/ref_share.h), one rank at a time, its own last; ignored on
 * the other ranks. A replay or table that fails is no failure of the run:
 * it is logged, and every rank then reads from the manifests, where the
 * same failure meets the run. Returns the agreed result of handing the
 * tables out. */
floe_err job_dry_share_refs(const floe_mpi *mpi, floe_dataset *ds, job_dry_replay replay,
                            void *ctx);

/* The time-chunk rows the selected steps of g touch: the pieces of
 * extract and series (whole time chunks) that can each hold work. */
uint64_t job_dry_time_chunk_rows(const floe_grid_select *g);

/* The fetcher's window of a simulated rank: its largest wave of encoded
 * chunks in flight at once, and one decoded chunk (dataset.h). */
uint64_t job_dry_fetch_memory(const job_dry_rank *r);

/* Whether a run prints the short summary first: rank 0 on a terminal,
 * not --quiet, not a dry run (which prints the whole plan). */
int job_dry_summary_wanted(const floe_mpi *mpi, const floe_job_request *q);
/* Rank 0, not collective: print the short summary (one line on stderr)
 * of d, with this process's resident memory as every rank's, and free
 * d. Called by a job that is about to run, when job_dry_summary_wanted. */
void job_dry_summary_print(floe_dataset *ds, job_dry_run *d);

/* COLLECTIVE over mpi->comm. err: this rank's result so far (owned; the
 * estimate is made on rank 0, the others pass NULL). Agrees on it, adds
 * every rank's resident memory now (the open dataset, the libraries) to
 * its estimate, and on rank 0 prints the plan: q->dry_run, the whole plan
 * on stdout (text, or JSON with q->dry_run_json); otherwise the short
 * summary on stderr. Returns the agreed result. */
floe_err job_dry_run_end(const floe_mpi *mpi, const floe_job_request *q, floe_dataset *ds,
                         job_dry_run *d, floe_err err);

#endif
