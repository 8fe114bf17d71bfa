/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/progress.c - see progress.h. */
#include "engine/job/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double job_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void job_progress_start(job_progress *p, const char *label, const floe_dataset *ds,
                        uint64_t total_chunks, int enabled)
{
    p->enabled = enabled && total_chunks && isatty(STDERR_FILENO);
    p->label = label;
    p->ds = ds;
    p->total = total_chunks;
    p->done = 0;
    p->t0 = p->last = job_now();
}

static void print_line(job_progress *p, double now)
{
    floe_dataset_io io;
    floe_dataset_io_stats(p->ds, &io);
    double dt = now - p->t0 > 1e-6 ? now - p->t0 : 1e-6;
    double mbs = (double)io.fetch.bytes / dt / 1e6;
    char eta[32] = "--";
    if (p->done && p->done < p->total) {
        double left = dt * (double)(p->total - p->done) / (double)p->done;
        unsigned s = (unsigned)(left + 0.5);
        snprintf(eta, sizeof eta, "%u:%02u", s / 60, s % 60);
    } else if (p->done >= p->total) {
        snprintf(eta, sizeof eta, "0:00");
    }
    fprintf(stderr, "\r%s: %llu/%llu chunks (%u%%)  %.1f MB/s  ETA %s   ", p->label,
            (unsigned long long)p->done, (unsigned long long)p->total,
            (unsigned)(100.0 * (double)p->done / (double)p->total), mbs, eta);
    fflush(stderr);
}

void job_progress_add(job_progress *p, uint64_t chunks)
{
    p->done += chunks;
    if (!p->enabled)
        return;
    double now = job_now();
    if (now - p->last < 0.25 && p->done < p->total)
        return;
    p->last = now;
    print_line(p, now);
}

void job_progress_end(job_progress *p)
{
    if (!p->enabled)
        return;
    print_line(p, job_now());
    fputc('\n', stderr);
    p->enabled = 0;
}
