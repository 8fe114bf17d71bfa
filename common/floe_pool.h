/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_pool.h - a fixed pool of worker threads within one rank.
 *
 * Ranks split the work between processes (MPI); a pool splits a rank's
 * CPU work (decoding chunks, reducing cells, compressing output chunks)
 * between the cores that rank may use. Only the thread that made the pool
 * calls MPI (MPI_THREAD_FUNNELED): workers run floe code that never does.
 *
 * Two ways to use it:
 *
 * - A parallel loop: floe_pool_for(p, n, fn, ctx) calls fn(ctx, i, worker)
 *   for every i in [0, n) and returns when all are done (the calling
 *   thread sleeps meanwhile).
 * - A stream of tasks: floe_pool_submit(p, fn, ctx, i) queues one call and
 *   returns at once (or waits while the queue holds 2 x workers tasks:
 *   backpressure, so a producer that reads faster than the workers decode
 *   never holds more than that), floe_pool_wait(p) waits for all of them.
 *   The calling thread does not work in between: it is free to drive the
 *   network (dataset/readahead.c).
 *
 * `worker` is in [0, floe_pool_workers(p)): the index of per-worker scratch
 * (a decoder, a buffer) the task may use without locking.
 *
 * Results do not depend on the number of workers: the pool decides only
 * WHEN a call runs, never what it computes. Callers make each call write
 * only its own part of the output (a tile, a block of cells) so that the
 * bytes are the same for any thread count.
 *
 * Errors: every call runs even after another failed (calls are
 * independent); the error returned is the one of the smallest i (parallel
 * loop) or of the first submitted task that failed (stream), so which
 * error a run reports does not depend on timing either. The others are
 * freed.
 *
 * A pool of 1 worker starts no thread: every call runs in the calling
 * thread, at once, in order.
 */
#ifndef FLOE_POOL_H
#define FLOE_POOL_H

#include "common/floe_error.h"

#include <stddef.h>

typedef struct floe_pool floe_pool;

/* The most workers a pool may have (a --threads beyond it is refused). */
enum { FLOE_POOL_MAX_WORKERS = 1024 };

typedef floe_err (*floe_pool_fn)(void *ctx, size_t i, int worker);

/* A pool of `workers` (>= 1, at most FLOE_POOL_MAX_WORKERS) workers: that
 * many threads, started now (none for 1: the caller runs every call). */
floe_err floe_pool_new(int workers, floe_pool **out);
/* Waits for queued tasks (their errors are freed), stops the threads,
 * frees, *p = NULL. Safe on NULL. */
void floe_pool_free(floe_pool **p);
int floe_pool_workers(const floe_pool *p);

/* fn(ctx, i, worker) for i in [0, n); returns when all have run. */
floe_err floe_pool_for(floe_pool *p, size_t n, floe_pool_fn fn, void *ctx);

/* Queue fn(ctx, i, worker); may block while the queue is full. A pool of
 * 1 worker runs it now and keeps its error for floe_pool_wait. */
void floe_pool_submit(floe_pool *p, floe_pool_fn fn, void *ctx, size_t i);
/* Wait until every submitted task has run; the first failed one's error
 * (in submission order), or NULL. The pool is ready for more. */
floe_err floe_pool_wait(floe_pool *p);
/* How many submitted tasks have not finished yet (for a producer that
 * wants to keep the workers fed without waiting). */
size_t floe_pool_pending(floe_pool *p);

/* The cores this process may run on: its CPU affinity (sched_getaffinity),
 * else the online processors; at least 1. */
int floe_pool_affinity_cores(void);

#endif
