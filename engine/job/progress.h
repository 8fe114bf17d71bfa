/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/progress.h - the progress line of a long job: on rank 0, when
 * stderr is a terminal and --quiet was not given,
 *     floe stats: 1234/4380 chunks (28%)  61.2 MB/s  ETA 0:42
 * rewritten in place at most four times a second and ended with a newline.
 * Counts are rank 0's own share of the chunks (every rank gets a share of
 * about the same size), bytes are what rank 0's fetcher received, so the
 * rate and the ETA are rank 0's; they are an estimate for the job. */
#ifndef FLOE_JOB_PROGRESS_H
#define FLOE_JOB_PROGRESS_H

#include "dataset/dataset.h"

#include <stdint.h>

typedef struct job_progress {
    int enabled;
    const char *label;        /* "floe stats" (borrowed) */
    const floe_dataset *ds;   /* for the byte counter (borrowed) */
    uint64_t total, done;     /* chunks */
    double t0, last;          /* monotonic seconds */
} job_progress;

/* enabled: the caller's decision (rank 0, not --quiet); the line also
 * needs stderr to be a terminal. */
void job_progress_start(job_progress *p, const char *label, const floe_dataset *ds,
                        uint64_t total_chunks, int enabled);
void job_progress_add(job_progress *p, uint64_t chunks);
void job_progress_end(job_progress *p);

/* Monotonic seconds, for wall times. */
double job_now(void);

#endif
