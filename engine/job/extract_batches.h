/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/extract_batches.h - how the extract job (extract.c) reads a
 * variable: batches of whole time-chunk rows per rank, the same on every
 * rank; shared with its dry run (dry_run_extract.c). Not for use outside
 * engine/job/. */
#ifndef FLOE_JOB_EXTRACT_BATCHES_H
#define FLOE_JOB_EXTRACT_BATCHES_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "engine/job/request.h"
#include "engine/job/step_checkpoint.h"
#include "engine/mpi/comm.h"
#include "engine/plan/grid_select.h"

#include <stddef.h>
#include <stdint.h>

/* The selection is the grid box every gridded operation shares. */
typedef floe_grid_select selection;

/* How one variable's values are written (extract.c). */
typedef struct var_out var_out;

/* The chunk layout of variable a within the selection, and the batching
 * every rank computes identically. */
typedef struct var_batches {
    const floe_array *a;
    const var_out *o;
    size_t osize;     /* bytes of one written value */
    uint64_t ct, cy0, cy1, cx0, cx1;
    size_t per_row;   /* chunks per time-chunk row */
    size_t rows;      /* time-chunk rows per batch */
    size_t first, n;  /* the steps this run computes: all selected, a piece's, or none */
} var_batches;

/* Variable v of sel; ck: this run's steps and variables (all selected, or
 * a piece's: step_checkpoint.h; a variable not in a piece has no steps). */
void extract_batches_of(size_t v, const var_out *o, const selection *sel,
                        const job_step_ckpt *ck, var_batches *vb);
/* Batch b of `rank`: its steps [*t0, *t1) (absolute); 0 if it has none. */
int extract_batch_steps(const var_batches *vb, int nranks, int rank, size_t b, uint64_t *t0,
                        uint64_t *t1);
/* The chunks of steps [t0, t1) of vb->a. */
size_t extract_batch_coords(const var_batches *vb, uint64_t t0, uint64_t t1, uint64_t *coords);

/* After the plan (dry_run_extract.c): with q->dry_run, COLLECTIVE: print
 * the plan (engine/job/dry_run.h) and return the agreed result;
 * otherwise, on rank 0 on a terminal, print its short summary (not
 * collective, never fails). vbs: one per variable of sel. */
floe_err extract_dry_run(const floe_mpi *mpi, const floe_job_request *q, floe_dataset *ds,
                         const selection *sel, const var_batches *vbs);

/* COLLECTIVE, a run after its plan and before its reads: every rank gets
 * the table of the refs its batches read (dry_run.h job_dry_share_refs).
 * The result is agreed. */
floe_err extract_share_refs(const floe_mpi *mpi, floe_dataset *ds, const selection *sel,
                            const var_batches *vbs);

#endif
