/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/progress.h - the progress of a long job, written by rank 0
 * unless --quiet:
 * - stderr a terminal: one line rewritten in place at most four times a
 *   second and ended with a newline,
 *       floe stats: 1234/4380 chunks (28%)  61.2 MB/s  ETA 0:42
 * - stderr not a terminal (a log: mpirun, srun, sbatch): one line every
 *   `interval` seconds (--progress-interval; 0: none), and a last one,
 *       floe stats: progress 1234/4380 chunks (28%), 61.2 MB/s, ETA 0:42,
 *           ranks 25%..31% done
 *       floe stats: done 4380 chunks, 120.4 MB read (30.1 MB fetched) in
 *           2.0 s, 60.2 MB/s
 *   (each one line).
 * Counts are the whole job's: every rank counts the chunks of its own share
 * and posts its counters to rank 0 at most once per interval with a
 * non-blocking send on a communicator of their own (never the job's, so
 * nothing here can block, reorder or change what the job computes); rank 0
 * takes whatever has arrived (MPI_Iprobe) when it prints. "ranks A%..B%"
 * is the least and most advanced rank's fraction of its share (as last
 * posted). MB are the chunks' decoded bytes, the data the job has read:
 * fetched bytes would say 0.0 MB/s for a long while when a reduction starts
 * with tiles of ocean, whose chunks compress to a few dozen bytes each;
 * the last line gives the fetched bytes too.
 */
#ifndef FLOE_JOB_PROGRESS_H
#define FLOE_JOB_PROGRESS_H

#include "dataset/dataset.h"
#include "engine/mpi/comm.h"

#include <stdint.h>

/* --progress-interval's default, in seconds. */
enum { JOB_PROGRESS_INTERVAL_DEFAULT = 30 };

/* How rank 0 shows it. */
enum { JOB_PROGRESS_OFF, JOB_PROGRESS_TERMINAL, JOB_PROGRESS_LOG };

/* One rank's counters, as posted to rank 0. */
enum { JOB_PROGRESS_DONE, JOB_PROGRESS_TOTAL, JOB_PROGRESS_DECODED, JOB_PROGRESS_FETCHED,
       JOB_PROGRESS_FAILED, JOB_PROGRESS_NCOUNTERS };

typedef struct job_progress {
    int started;              /* start ran and end has not */
    int mode;                 /* JOB_PROGRESS_OFF, _TERMINAL or _LOG (rank 0's choice) */
    const char *label;        /* "floe stats" (borrowed) */
    const floe_dataset *ds;   /* for the byte counters (borrowed) */
    MPI_Comm comm;            /* a duplicate for the counters; MPI_COMM_NULL on one rank */
    int rank, size;
    uint64_t total, done;     /* this rank's chunks */
    double interval;          /* seconds between log lines (and posts to rank 0) */
    double t0, last, last_post; /* monotonic seconds */
    uint64_t post[JOB_PROGRESS_NCOUNTERS]; /* the buffer of the send in flight */
    MPI_Request req;          /* that send, or MPI_REQUEST_NULL */
    uint64_t *latest;         /* rank 0: size x NCOUNTERS, each rank's last posted */
} job_progress;

/* Collective over mpi->comm (every rank, in the same place). total_chunks:
 * this rank's share. enabled: not --quiet. interval: seconds between log
 * lines when stderr is not a terminal (0: no log lines). Never fails: when
 * anything here goes wrong there is no progress, and the job goes on. */
void job_progress_start(job_progress *p, const char *label, const floe_dataset *ds,
                        const floe_mpi *mpi, uint64_t total_chunks, int enabled,
                        double interval);
/* This rank read `chunks` more of its share. Local: never waits for
 * another rank. */
void job_progress_add(job_progress *p, uint64_t chunks);
/* `chunks` of this rank's share it need not read (a checkpoint holds
 * their result): they come off its total. Local. */
void job_progress_skip(job_progress *p, uint64_t chunks);
/* Collective over the ranks that started it: each rank's last counters
 * reach rank 0 (every message sent is received before the communicator
 * is freed), with whether this rank `failed`; in a log rank 0 writes the
 * last line only when no rank failed (a failed run's log ends with its
 * error line). A no-op when already ended or never started (p zeroed). */
void job_progress_end(job_progress *p, int failed);

/* Monotonic seconds, for wall times. */
double job_now(void);

#endif
