/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/progress.c - see progress.h. */
#include "engine/job/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Tags on the progress communicator (its own: no clash with the job's). */
enum { TAG_COUNTS = 1, TAG_FINAL = 2 };
/* The terminal line is rewritten at most this often (seconds); the other
 * ranks post their counters at most this often when rank 0 shows one. */
#define TERMINAL_REFRESH_S 0.25
#define TERMINAL_POST_S 1.0
#define MB 1e6

double job_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* This rank's counters now. */
static void my_counters(const job_progress *p, uint64_t *c)
{
    floe_dataset_io io;
    memset(&io, 0, sizeof io);
    if (p->ds)
        floe_dataset_io_stats(p->ds, &io);
    c[JOB_PROGRESS_DONE] = p->done;
    c[JOB_PROGRESS_TOTAL] = p->total;
    c[JOB_PROGRESS_DECODED] = io.decoded_bytes;
    c[JOB_PROGRESS_FETCHED] = io.fetch.bytes;
    c[JOB_PROGRESS_FAILED] = 0;
}

/* Something in the progress' own communication failed: no more progress
 * (the job is not affected). Messages still in flight are left to MPI. */
static void give_up(job_progress *p)
{
    p->mode = JOB_PROGRESS_OFF;
}

/* Rank 0: take every message that has arrived, without waiting. */
static void drain(job_progress *p)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_COUNTS, p->comm, &flag, &st) != MPI_SUCCESS) {
            give_up(p);
            return;
        }
        if (!flag)
            return;
        uint64_t c[JOB_PROGRESS_NCOUNTERS];
        if (MPI_Recv(c, JOB_PROGRESS_NCOUNTERS, MPI_UINT64_T, st.MPI_SOURCE, TAG_COUNTS, p->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            give_up(p);
            return;
        }
        memcpy(&p->latest[st.MPI_SOURCE * JOB_PROGRESS_NCOUNTERS], c, sizeof c);
    }
}

/* The job's counters (rank 0's own now, the others' as last posted) and
 * the least and most advanced rank's fraction of its share. */
static void job_counters(job_progress *p, uint64_t *sum, double *lo, double *hi)
{
    my_counters(p, &p->latest[0]);
    memset(sum, 0, JOB_PROGRESS_NCOUNTERS * sizeof *sum);
    *lo = 1.0;
    *hi = 0.0;
    for (int r = 0; r < p->size; r++) {
        const uint64_t *c = &p->latest[r * JOB_PROGRESS_NCOUNTERS];
        for (int k = 0; k < JOB_PROGRESS_NCOUNTERS; k++)
            sum[k] += c[k];
        if (!c[JOB_PROGRESS_TOTAL])
            continue;
        double f = (double)c[JOB_PROGRESS_DONE] / (double)c[JOB_PROGRESS_TOTAL];
        *lo = f < *lo ? f : *lo;
        *hi = f > *hi ? f : *hi;
    }
    if (*lo > *hi)
        *lo = *hi = 1.0;
}

static void format_eta(double elapsed, uint64_t done, uint64_t total, char *eta, size_t n)
{
    if (done && done < total) {
        double left = elapsed * (double)(total - done) / (double)done;
        unsigned s = (unsigned)(left + 0.5);
        snprintf(eta, n, "%u:%02u", s / 60, s % 60);
    } else {
        snprintf(eta, n, done >= total ? "0:00" : "--");
    }
}

static void print_line(job_progress *p, double now)
{
    if (p->size > 1)
        drain(p);
    if (p->mode == JOB_PROGRESS_OFF)
        return;
    uint64_t c[JOB_PROGRESS_NCOUNTERS];
    double lo, hi;
    job_counters(p, c, &lo, &hi);
    double dt = now - p->t0 > 1e-6 ? now - p->t0 : 1e-6;
    uint64_t done = c[JOB_PROGRESS_DONE], total = c[JOB_PROGRESS_TOTAL];
    double mbs = (double)c[JOB_PROGRESS_DECODED] / dt / MB;
    unsigned pct = total ? (unsigned)(100.0 * (double)done / (double)total) : 100;
    char eta[32];
    format_eta(dt, done, total, eta, sizeof eta);
    if (p->mode == JOB_PROGRESS_TERMINAL) {
        fprintf(stderr, "\r%s: %llu/%llu chunks (%u%%)  %.1f MB/s  ETA %s   ", p->label,
                (unsigned long long)done, (unsigned long long)total, pct, mbs, eta);
    } else {
        char ranks[64] = "";
        if (p->size > 1)
            snprintf(ranks, sizeof ranks, ", ranks %u%%..%u%% done", (unsigned)(100.0 * lo),
                     (unsigned)(100.0 * hi));
        fprintf(stderr, "%s: progress %llu/%llu chunks (%u%%), %.1f MB/s, ETA %s%s\n", p->label,
                (unsigned long long)done, (unsigned long long)total, pct, mbs, eta, ranks);
    }
    fflush(stderr);
}

void job_progress_start(job_progress *p, const char *label, const floe_dataset *ds,
                        const floe_mpi *mpi, uint64_t total_chunks, int enabled,
                        double interval)
{
    memset(p, 0, sizeof *p);
    p->started = 1;
    p->label = label;
    p->ds = ds;
    p->comm = MPI_COMM_NULL;
    p->req = MPI_REQUEST_NULL;
    p->rank = mpi->rank;
    p->size = mpi->size;
    p->total = total_chunks;
    p->interval = interval;
    p->t0 = p->last = p->last_post = job_now();
    /* rank 0's stderr decides, for every rank */
    int mode = JOB_PROGRESS_OFF;
    if (enabled && mpi->rank == 0)
        mode = isatty(STDERR_FILENO) ? JOB_PROGRESS_TERMINAL
               : interval > 0        ? JOB_PROGRESS_LOG
                                     : JOB_PROGRESS_OFF;
    int ok = 1;
    if (mpi->comm != MPI_COMM_NULL) /* collective */
        ok = MPI_Bcast(&mode, 1, MPI_INT, 0, mpi->comm) == MPI_SUCCESS;
    if (!ok || mode == JOB_PROGRESS_OFF)
        return;
    if (mpi->rank == 0) {
        p->latest = calloc((size_t)mpi->size * JOB_PROGRESS_NCOUNTERS, sizeof *p->latest);
        ok = p->latest != NULL;
    }
    if (mpi->comm != MPI_COMM_NULL) {
        /* the totals up front (so the first line knows them), then a
         * communicator of the progress' own; collective, like the Bcast */
        uint64_t *totals = NULL;
        if (mpi->rank == 0 && ok)
            totals = malloc((size_t)mpi->size * sizeof *totals);
        int got = MPI_Gather(&p->total, 1, MPI_UINT64_T, totals, 1, MPI_UINT64_T, 0,
                             mpi->comm) == MPI_SUCCESS;
        for (int r = 0; totals && got && r < mpi->size; r++)
            p->latest[r * JOB_PROGRESS_NCOUNTERS + JOB_PROGRESS_TOTAL] = totals[r];
        free(totals);
        if (MPI_Comm_dup(mpi->comm, &p->comm) != MPI_SUCCESS)
            p->comm = MPI_COMM_NULL;
        /* all ranks must agree on whether it is on (the end is collective) */
        int all = ok && got && p->comm != MPI_COMM_NULL;
        if (MPI_Allreduce(MPI_IN_PLACE, &all, 1, MPI_INT, MPI_LAND, mpi->comm) != MPI_SUCCESS)
            all = 0;
        if (!all) {
            if (p->comm != MPI_COMM_NULL)
                MPI_Comm_free(&p->comm);
            free(p->latest);
            p->latest = NULL;
            return;
        }
    } else if (!ok) {
        return;
    }
    p->mode = mode;
}

/* Not rank 0: post the counters, unless the last post is still in flight. */
static void post(job_progress *p, double now)
{
    if (p->req != MPI_REQUEST_NULL) {
        int flag = 0;
        if (MPI_Test(&p->req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            give_up(p);
            return;
        }
        if (!flag)
            return;
    }
    my_counters(p, p->post);
    if (MPI_Isend(p->post, JOB_PROGRESS_NCOUNTERS, MPI_UINT64_T, 0, TAG_COUNTS, p->comm,
                  &p->req) != MPI_SUCCESS)
        give_up(p);
    p->last_post = now;
}

void job_progress_add(job_progress *p, uint64_t chunks)
{
    p->done += chunks;
    /* a saved unit that did not read is read after all: its chunks were
     * skipped off the total, and come back onto it */
    if (p->done > p->total)
        p->total = p->done;
    if (p->mode == JOB_PROGRESS_OFF)
        return;
    double now = job_now();
    int terminal = p->mode == JOB_PROGRESS_TERMINAL;
    if (p->rank != 0) {
        if (now - p->last_post >= (terminal ? TERMINAL_POST_S : p->interval))
            post(p, now);
        return;
    }
    if (now - p->last < (terminal ? TERMINAL_REFRESH_S : p->interval))
        return;
    p->last = now;
    print_line(p, now);
}

void job_progress_skip(job_progress *p, uint64_t chunks)
{
    p->total -= chunks < p->total ? chunks : p->total;
}

/* Rank 0: the last line, the job's totals. */
static void print_totals(job_progress *p, double now)
{
    uint64_t c[JOB_PROGRESS_NCOUNTERS];
    double lo, hi;
    job_counters(p, c, &lo, &hi);
    double dt = now - p->t0 > 1e-6 ? now - p->t0 : 1e-6;
    fprintf(stderr, "%s: done %llu/%llu chunks, %.1f MB read (%.1f MB fetched) in %.1f s, "
            "%.1f MB/s\n", p->label, (unsigned long long)c[JOB_PROGRESS_DONE],
            (unsigned long long)c[JOB_PROGRESS_TOTAL], (double)c[JOB_PROGRESS_DECODED] / MB,
            (double)c[JOB_PROGRESS_FETCHED] / MB, dt, (double)c[JOB_PROGRESS_DECODED] / dt / MB);
    fflush(stderr);
}

void job_progress_end(job_progress *p, int failed)
{
    if (!p->started)
        return;
    p->started = 0;
    double now = job_now();
    if (p->comm != MPI_COMM_NULL) {
        /* Every rank's last message reaches rank 0, and every message sent
         * is received, before the communicator goes: the others wait for
         * their post in flight (rank 0 receives everything here), then
         * send their final counters; messages from one rank arrive in
         * order, so its final one is its last. */
        if (p->rank != 0) {
            if (p->req != MPI_REQUEST_NULL)
                MPI_Wait(&p->req, MPI_STATUS_IGNORE);
            my_counters(p, p->post);
            p->post[JOB_PROGRESS_FAILED] = failed != 0;
            MPI_Send(p->post, JOB_PROGRESS_NCOUNTERS, MPI_UINT64_T, 0, TAG_FINAL, p->comm);
        } else {
            for (int finals = 0; finals < p->size - 1;) {
                uint64_t c[JOB_PROGRESS_NCOUNTERS];
                MPI_Status st;
                if (MPI_Recv(c, JOB_PROGRESS_NCOUNTERS, MPI_UINT64_T, MPI_ANY_SOURCE, MPI_ANY_TAG,
                             p->comm, &st) != MPI_SUCCESS)
                    break;
                memcpy(&p->latest[st.MPI_SOURCE * JOB_PROGRESS_NCOUNTERS], c, sizeof c);
                finals += st.MPI_TAG == TAG_FINAL;
                failed |= st.MPI_TAG == TAG_FINAL && c[JOB_PROGRESS_FAILED];
            }
        }
        MPI_Comm_free(&p->comm); /* collective over the progress' ranks */
    }
    if (p->rank == 0 && p->mode == JOB_PROGRESS_TERMINAL) {
        print_line(p, now);
        fputc('\n', stderr);
    } else if (p->rank == 0 && p->mode == JOB_PROGRESS_LOG && !failed) {
        print_totals(p, now);
    }
    p->mode = JOB_PROGRESS_OFF;
    free(p->latest);
    p->latest = NULL;
}
