/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/checkpoint.h - the job's side of checkpoints and pieces:
 * which store a run uses, whether it belongs to the request, and what
 * happens to it at the end. The store's format is out/checkpoint_store.h.
 *
 *   --checkpoint   progress goes to OUT.floe-ckpt/ (an existing one is
 *                  refused: continue it with --resume, or remove it);
 *   --resume       continue from OUT.floe-ckpt/ if it is there and belongs
 *                  to this request (same fingerprint, snapshot and floe
 *                  version, else one line saying what differs), else start
 *                  fresh as --checkpoint: a requeued batch job can always
 *                  run the same command line;
 *   --piece I/N    piece I of N into OUT.floe-parts/ (every piece of one
 *                  request shares the store; each is restartable with
 *                  --resume); no output is written. --piece-by says what
 *                  it is a share of: time (the default: every variable's
 *                  I-th share of the steps, as the job splits them over
 *                  ranks) or variable (every step of the I-th share of the
 *                  variables, job_ckpt_piece_vars); the store records the
 *                  split, and a piece of another split is refused;
 *   merge          (`floe merge OUT`) the output from every piece in
 *                  OUT.floe-parts/; a missing piece is refused.
 *
 * The fingerprint is a hash of the request's canonical form (command,
 * source, version asked for, variables, box, time, the command's own
 * options, outputs, the contents' hash of the --anomaly-from file), its
 * URLs redacted (a refreshed pre-signed URL is the same request):
 * execution controls (these options, -q, the fetch settings, --report)
 * are not part of it.
 *
 * Stopping: with a store open, SIGTERM and SIGUSR1 are deferred
 * (common/floe_interrupt.h); a job asks job_ckpt_stop at its unit
 * boundaries, saves what it has and returns job_ckpt_interrupted's error
 * (FLOE_EINTERRUPTED), which the command line turns into exit status 3.
 */
#ifndef FLOE_JOB_CHECKPOINT_H
#define FLOE_JOB_CHECKPOINT_H

#include "common/floe_error.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"

#define JOB_CKPT_SUFFIX ".floe-ckpt"
#define JOB_PARTS_SUFFIX ".floe-parts"

typedef enum job_ckpt_mode {
    JOB_CKPT_NONE = 0, /* no store: the run as before */
    JOB_CKPT_RUN,      /* --checkpoint or --resume */
    JOB_CKPT_PIECE,    /* --piece I/N */
    JOB_CKPT_MERGE,    /* floe merge */
} job_ckpt_mode;

typedef struct job_ckpt {
    job_ckpt_mode mode;
    char *dir;          /* the store, OUT.floe-ckpt or OUT.floe-parts (owned); NULL: none */
    int resumed;        /* the store was there (and belongs to the request) */
    int piece, pieces;  /* JOB_CKPT_PIECE: I/N; JOB_CKPT_MERGE: 0/N */
    int piece_by;       /* JOB_CKPT_PIECE: job_piece_by */
    int lock_fd;        /* rank 0: the store's lock (out/checkpoint_store.h), -1: none */
} job_ckpt;

/* --piece-by's word for a job_piece_by: "time" or "variable". */
const char *job_piece_by_name(int piece_by);

/* Whether the run is a piece of a split by time (its steps are a share). */
int job_ckpt_piece_by_time(const job_ckpt *c);

/* The variables [*v0, *v1) of nvars that the run computes: all of them,
 * or a piece's share of a split by variable (contiguous, in the request's
 * order, as even as possible, the first pieces the larger: with more
 * pieces than variables the last pieces have none, and are done once
 * run). */
void job_ckpt_piece_vars(const job_ckpt *c, size_t nvars, size_t *v0, size_t *v1);

/* The mode a request asks for. */
job_ckpt_mode job_ckpt_mode_of(const floe_job_request *q);

/* The request's canonical form (owned, free()): "key=value" lines in a
 * fixed order, the common fields then `extra` (key, value, key, value, ...,
 * NULL; a NULL value is written empty), every value redacted
 * (common/floe_redact.h). Every rank computes the same. job_ckpt_open
 * adds the --anomaly-from file's contents hash on rank 0. */
char *job_ckpt_request_text(const char *kind, const floe_job_request *q,
                            const char *const *extra);

/* COLLECTIVE over mpi->comm, after the dataset is open (its snapshot is
 * known) and before the first chunk is fetched. Nothing without a mode.
 * Rank 0 creates the store or checks the one there (refusing another
 * request's with one line naming it and what differs; merge: refusing a
 * store that lacks a piece), then holds its lock (a piece: its piece's)
 * until job_ckpt_free, refusing a second run of the store with one line
 * naming the holder; every rank learns c->dir and c->resumed and defers
 * SIGTERM/SIGUSR1. The header it writes holds no secret: request_text's
 * values are redacted, the command too. The result is agreed. */
floe_err job_ckpt_open(const floe_mpi *mpi, const floe_job_request *q, const char *kind,
                       const char *request_text, const char *snapshot, job_ckpt *c);

/* The signal asking the job to stop (SIGTERM, SIGUSR1), or 0. Cheap. */
int job_ckpt_stop(const job_ckpt *c);
/* The error a job stopped by job_ckpt_stop returns (FLOE_EINTERRUPTED):
 * "interrupted by SIGTERM: checkpoint kept in DIR: rerun with --resume". */
floe_err job_ckpt_interrupted(const job_ckpt *c);

/* COLLECTIVE over mpi->comm, after job_outputs_commit with its result err
 * (returned, owned). On success rank 0 removes the store (run, merge) or
 * marks the piece done (piece); a failure to remove is a warning, the
 * output being in place. On failure the store is kept. */
floe_err job_ckpt_finish(const floe_mpi *mpi, job_ckpt *c, floe_err err);
void job_ckpt_free(job_ckpt *c);

/* For `floe merge OUTPUT`: the command kind and the command line that
 * OUTPUT.floe-parts/ records (both owned, free()). Not collective: every
 * rank reads them. FLOE_ENOTFOUND when there is no such store. */
floe_err job_ckpt_parts_command(const char *output, char **kind, char **command);

/* Where and from what the pieces in OUTPUT.floe-parts/ ran, for `floe
 * merge`: all owned (job_ckpt_origin_free); "" where the store does not
 * say. */
typedef struct job_ckpt_origin {
    char *cwd;       /* the working folder of the run that made the store */
    char *output;    /* -o as the pieces gave it (relative to cwd) */
    char *source;    /* the source, redacted (common/floe_redact.h) */
    int credentials; /* the source carried credentials, not recorded */
} job_ckpt_origin;
/* Not collective. FLOE_ENOTFOUND when there is no such store. */
floe_err job_ckpt_parts_origin(const char *output, job_ckpt_origin *o);
void job_ckpt_origin_free(job_ckpt_origin *o);

/* The name of piece I of N's "done" blob: "piece-I-of-N" into buf. */
void job_ckpt_piece_name(int piece, int pieces, char *buf, size_t size);

#endif
