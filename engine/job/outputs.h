/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/outputs.h - every file a job writes: planned before anything
 * is fetched, committed together after every rank agreed.
 *
 * A job writes its data file, the derived STAC Item and, when asked, the
 * report. The plan resolves their paths (the Item's default name) and
 * checks them (out/output_paths.h) before anything is fetched, and again
 * against what the opened dataset reads before its first chunk is. Rank 0 writes each file into its finished
 * temporary (common/floe_file.h). Only when every rank agrees that the job
 * succeeded does rank 0 rename them all into place (floe_file_commit_all):
 * a run that fails anywhere, on any rank, leaves none of its outputs, and
 * a run that succeeds leaves all of them.
 *
 *     job_outputs o;
 *     err = job_outputs_plan(mpi, &req->job, extra, nextra, &o);       // collective
 *     ... open the dataset (collective)
 *     err = job_outputs_check_sources(mpi, &req->job, ds, extra, nextra, &o);
 *     ... rank 0: cf_grid_output_finish(&out, &o.tmp[JOB_OUT_DATA]); the Item
 *         into o.tmp[JOB_OUT_ITEM]; the report into o.tmp[JOB_OUT_REPORT]
 *     err = job_outputs_commit(mpi, &o, err);                         // collective
 *     job_outputs_free(&o);
 */
#ifndef FLOE_JOB_OUTPUTS_H
#define FLOE_JOB_OUTPUTS_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"
#include "out/item/item.h"

enum { JOB_OUT_DATA, JOB_OUT_ITEM, JOB_OUT_REPORT, JOB_OUT_COUNT };

typedef struct job_outputs {
    const char *path[JOB_OUT_COUNT]; /* final paths; report NULL when none is asked for */
    char *item_default;              /* the Item's default path (owned), or NULL */
    char *tmp[JOB_OUT_COUNT];        /* rank 0: finished temporaries (owned) */
    const char *collection;          /* the Item's target collection, or NULL */
} job_outputs;

/* COLLECTIVE over mpi->comm, before anything is fetched. Fill o from q
 * (every rank), and on rank 0 check the paths (out/output_paths.h)
 * against each other and the inputs the request names itself: a local
 * SOURCE, the --allow and --remap folders, the --anomaly-from climatology,
 * and `extra` (the points or regions file: nextra local paths). The result is agreed. */
floe_err job_outputs_plan(const floe_mpi *mpi, const floe_job_request *q,
                          const char *const *extra, size_t nextra, job_outputs *o);

/* COLLECTIVE over mpi->comm, once the dataset is open and before its first
 * chunk is fetched: the same checks on rank 0 against every local input
 * the dataset reads (a local repository a local document names, its
 * file:// containers), then the removal of temporaries that dead runs left
 * for these outputs; agreed. ds may be NULL on a rank whose open failed
 * (the agreement after the open fails then anyway). */
floe_err job_outputs_check_sources(const floe_mpi *mpi, const floe_job_request *q,
                                   const floe_dataset *ds, const char *const *extra,
                                   size_t nextra, const job_outputs *o);

/* Where the Item goes: the planned path, reading the data's temporary,
 * leaving the Item in o->tmp[JOB_OUT_ITEM]. */
stac_item_dest job_outputs_item_dest(job_outputs *o);

/* COLLECTIVE over mpi->comm. err is this rank's result so far (owned).
 * Agree on it; if every rank succeeded, rank 0 renames all temporaries
 * into place at once, and that result is agreed too. Returns the agreed
 * result; on failure no output of the job is left. */
floe_err job_outputs_commit(const floe_mpi *mpi, job_outputs *o, floe_err err);

/* Remove temporaries not committed and free o's strings. */
void job_outputs_free(job_outputs *o);

#endif
