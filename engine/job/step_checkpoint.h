/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/step_checkpoint.h - --checkpoint, --resume, --piece I/N and
 * `floe merge` for the jobs that go step by step (extract, series).
 *
 * The unit of work is a batch: the selected steps [t0, t1) of one variable
 * that one rank computes at a time (extract: a batch of slices; series:
 * the batch's values of every point or region). Each finished batch is
 * saved by its rank as a unit (engine/job/step_units.h) into the store
 * (out/checkpoint_store.h):
 *
 *   --checkpoint/--resume: OUT.floe-ckpt/. A rerun with --resume takes every
 *     batch it finds saved (of any rank count: units are keyed by their
 *     steps) instead of fetching it, and writes the output from the start
 *     in the same order as an uninterrupted run: the same bytes. A signal
 *     (SIGTERM, SIGUSR1) stops the job at the next unit boundary with
 *     FLOE_EINTERRUPTED (exit status 3); the store is removed once the
 *     output is committed.
 *   --piece I/N: the piece's steps only, the steps split like ranks split
 *     them (engine/plan/series_plan.h: contiguous runs of whole time
 *     chunks, as even as possible, piece 1 first), or with --piece-by
 *     variable every step of the piece's variables (job_ckpt_piece_vars);
 *     its units are its result, in the store OUT.floe-parts/ the pieces
 *     share; no output is written.
 *   merge: every batch comes from the pieces' units, nothing is fetched;
 *     a step no piece holds is an error naming the missing piece; the parts
 *     are removed once the output is committed.
 *
 * The job calls, every rank alike:
 *     job_step_ckpt_open (collective) ... per batch: job_step_ckpt_load,
 *     else job_step_ckpt_may_fetch, compute,
 *     job_step_ckpt_save; at unit boundaries job_step_ckpt_stop (collective,
 *     extract's rounds) or job_step_ckpt_poll (series: ranks apart) ...
 *     job_step_ckpt_finish (collective, after the outputs' commit).
 */
#ifndef FLOE_JOB_STEP_CHECKPOINT_H
#define FLOE_JOB_STEP_CHECKPOINT_H

#include "common/floe_error.h"
#include "engine/job/checkpoint.h"
#include "engine/job/request.h"
#include "engine/job/step_units.h"
#include "engine/mpi/comm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct job_step_ckpt {
    job_ckpt c;       /* the store and the mode (engine/job/checkpoint.h) */
    int piece;        /* --piece I/N: the units are the result; no output */
    int merge;        /* floe merge: every unit from the pieces, nothing fetched */
    size_t p0, p1;    /* the selected steps this run computes (relative): all, or the piece's */
    size_t v0, v1;    /* the variables this run computes: all, or the piece's */
    size_t t0, nt;    /* the selection's steps t0 + [0, nt) and its time chunk ct: */
    uint64_t ct;      /* which piece computes a step (a merge names it) */
    int saving;       /* finished batches are saved into c.dir */
    const char *letter; /* the job's units' letter (static) */
    job_units units;  /* the units the store held when the job started */
} job_step_ckpt;

/* COLLECTIVE over mpi->comm, after the selection is made and agreed.
 * kind "extract" or "series"; letter its units' prefix; extra the job's
 * own fields (key, value, ..., NULL: job_ckpt_request_text), with the
 * contents' hashes of the files it reads, for the fingerprint; steps
 * t0 + [0, nt) the selection, ct its time chunk, nvars its variables.
 * Without checkpoint, resume, piece or merge: p0 = 0, p1 = nt, v0 = 0,
 * v1 = nvars, no store. The result is agreed. */
floe_err job_step_ckpt_open(const floe_mpi *mpi, const floe_job_request *q, const char *kind,
                            const char *letter, const char *const *extra, const char *snapshot,
                            size_t t0, size_t nt, uint64_t ct, size_t nvars, job_step_ckpt *ck);

/* Whether this run computes variable v (not: a piece of a split by
 * variable that v is not in). */
int job_step_ckpt_has_var(const job_step_ckpt *ck, size_t v);

/* Steps [t0, t1) of variable v from the saved units into dst
 * (job_units_load's layout) when every step is saved: *loaded = 1; else
 * *loaded = 0 and the caller computes them. A unit that does not read (torn
 * or corrupt, or removed by another rank that found it so) is treated as
 * stats treats one: as never saved, a warning naming it, its blob removed,
 * its steps computed again. In a merge, which may fetch nothing, it is one
 * line naming the unit and the piece to rerun with --resume. */
floe_err job_step_ckpt_load(job_step_ckpt *ck, uint64_t v, uint64_t t0, uint64_t t1,
                            size_t planes, size_t step_bytes, size_t plane_stride, void *dst,
                            int *loaded);

/* Whether steps [t0, t1) of variable v may be fetched: not in a merge
 * (one line naming the steps and the folder of the parts). */
floe_err job_step_ckpt_may_fetch(const job_step_ckpt *ck, uint64_t v, uint64_t t0, uint64_t t1);

/* Save a finished batch as a unit (job_units_save's layout), when the run
 * keeps units; else nothing. */
floe_err job_step_ckpt_save(const job_step_ckpt *ck, uint64_t v, uint64_t t0, uint64_t t1,
                            size_t planes, size_t step_bytes, size_t plane_stride,
                            const void *src);

/* This rank alone, at a unit boundary: FLOE_EINTERRUPTED if a signal asked
 * the job to stop (its units so far are saved), else NULL. */
floe_err job_step_ckpt_poll(const job_step_ckpt *ck);

/* COLLECTIVE over mpi->comm when the run keeps units (a no-op otherwise):
 * whether any rank was asked to stop. If so, every rank returns 1 and
 * *err, when NULL, becomes FLOE_EINTERRUPTED. */
int job_step_ckpt_stop(const floe_mpi *mpi, const job_step_ckpt *ck, floe_err *err);

/* COLLECTIVE over mpi->comm, once the outputs are committed or not. err:
 * the job's agreed result (owned, returned). On success: a piece marks
 * itself done; a checkpointed run removes its store; a merge removes the
 * parts. On FLOE_EINTERRUPTED the line says the checkpoint is kept. */
floe_err job_step_ckpt_finish(const floe_mpi *mpi, job_step_ckpt *ck, floe_err err);

void job_step_ckpt_free(job_step_ckpt *ck);

#endif
