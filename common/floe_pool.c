/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_pool.c - the worker threads of a rank (floe_pool.h): one
 * mutex, a loop descriptor and a bounded ring of stream tasks. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "common/floe_pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Stream tasks queued per worker before floe_pool_submit waits: enough
 * that a worker finds the next task ready when it finishes one. */
enum { QUEUE_PER_WORKER = 2 };

typedef struct pool_task {
    floe_pool_fn fn;
    void *ctx;
    size_t i;
    uint64_t seq; /* submission order, for the error returned */
} pool_task;

struct floe_pool {
    int workers;
    pthread_t *threads;
    int nthreads; /* started */
    pthread_mutex_t mu;
    pthread_cond_t work; /* a loop or a task to run, or stop */
    pthread_cond_t done; /* a loop finished, a task finished, or room in the ring */
    int stop;
    /* the parallel loop in progress (fn NULL: none) */
    floe_pool_fn loop_fn;
    void *loop_ctx;
    size_t loop_n, loop_next, loop_done;
    size_t loop_err_i;
    floe_err loop_err;
    /* the stream */
    pool_task *ring;
    size_t cap, head, count; /* queued tasks: ring[head .. head + count) mod cap */
    size_t running;          /* taken, not finished */
    uint64_t next_seq;
    uint64_t err_seq;
    floe_err stream_err;
};

typedef struct worker_arg {
    floe_pool *p;
    int index;
} worker_arg;

/* Keep the error of the smallest key; free the other. */
static void keep_first(floe_err *kept, uint64_t *kept_key, floe_err err, uint64_t key)
{
    if (!err)
        return;
    if (!*kept || key < *kept_key) {
        floe_err_free(kept);
        *kept = err;
        *kept_key = key;
    } else {
        floe_err_free(&err);
    }
}

static void *worker_main(void *argp)
{
    worker_arg *arg = argp;
    floe_pool *p = arg->p;
    int me = arg->index;
    free(arg);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->loop_fn && p->loop_next < p->loop_n) {
            size_t i = p->loop_next++;
            floe_pool_fn fn = p->loop_fn;
            void *ctx = p->loop_ctx;
            pthread_mutex_unlock(&p->mu);
            floe_err err = fn(ctx, i, me);
            pthread_mutex_lock(&p->mu);
            uint64_t key = p->loop_err_i;
            keep_first(&p->loop_err, &key, err, i);
            p->loop_err_i = (size_t)key;
            if (++p->loop_done == p->loop_n)
                pthread_cond_broadcast(&p->done);
            continue;
        }
        if (p->count) {
            pool_task t = p->ring[p->head];
            p->head = (p->head + 1) % p->cap;
            p->count--;
            p->running++;
            pthread_cond_broadcast(&p->done); /* room in the ring */
            pthread_mutex_unlock(&p->mu);
            floe_err err = t.fn(t.ctx, t.i, me);
            pthread_mutex_lock(&p->mu);
            keep_first(&p->stream_err, &p->err_seq, err, t.seq);
            p->running--;
            pthread_cond_broadcast(&p->done);
            continue;
        }
        if (p->stop)
            break;
        pthread_cond_wait(&p->work, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

floe_err floe_pool_new(int workers, floe_pool **out)
{
    *out = NULL;
    if (workers < 1 || workers > FLOE_POOL_MAX_WORKERS)
        return FLOE_ERR(FLOE_EINVAL, "%d worker threads: give 1 to %d", workers,
                        FLOE_POOL_MAX_WORKERS);
    floe_pool *p = calloc(1, sizeof *p);
    if (!p)
        return FLOE_ERR(FLOE_ENOMEM, "a pool of %d workers", workers);
    p->workers = workers;
    p->cap = (size_t)workers * QUEUE_PER_WORKER;
    p->ring = calloc(p->cap, sizeof *p->ring);
    p->threads = workers > 1 ? calloc((size_t)workers, sizeof *p->threads) : NULL;
    if (!p->ring || (workers > 1 && !p->threads)) {
        free(p->ring);
        free(p->threads);
        free(p);
        return FLOE_ERR(FLOE_ENOMEM, "a pool of %d workers", workers);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    /* Workers must never take a signal meant for the job (floe_interrupt.h:
     * the signals are blocked before any thread starts; keep them so). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = 0;
    for (int k = 0; workers > 1 && k < workers; k++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) {
            rc = -1;
            break;
        }
        a->p = p;
        a->index = k;
        if ((rc = pthread_create(&p->threads[k], NULL, worker_main, a)) != 0) {
            free(a);
            break;
        }
        p->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        int started = p->nthreads;
        floe_pool_free(&p);
        return FLOE_ERR(FLOE_ENOMEM, "starting worker thread %d of %d", started + 1, workers);
    }
    *out = p;
    return NULL;
}

void floe_pool_free(floe_pool **pp)
{
    floe_pool *p = *pp;
    if (!p)
        return;
    floe_err err = floe_pool_wait(p);
    floe_err_free(&err);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int k = 0; k < p->nthreads; k++)
        pthread_join(p->threads[k], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->ring);
    free(p);
    *pp = NULL;
}

int floe_pool_workers(const floe_pool *p)
{
    return p ? p->workers : 1;
}

floe_err floe_pool_for(floe_pool *p, size_t n, floe_pool_fn fn, void *ctx)
{
    if (!p || p->nthreads == 0 || n == 1) {
        floe_err first = NULL;
        uint64_t key = 0;
        for (size_t i = 0; i < n; i++)
            keep_first(&first, &key, fn(ctx, i, 0), i);
        return first;
    }
    if (n == 0)
        return NULL;
    pthread_mutex_lock(&p->mu);
    p->loop_fn = fn;
    p->loop_ctx = ctx;
    p->loop_n = n;
    p->loop_next = 0;
    p->loop_done = 0;
    p->loop_err = NULL;
    p->loop_err_i = 0;
    pthread_cond_broadcast(&p->work);
    while (p->loop_done < p->loop_n)
        pthread_cond_wait(&p->done, &p->mu);
    floe_err err = p->loop_err;
    p->loop_err = NULL;
    p->loop_fn = NULL;
    pthread_mutex_unlock(&p->mu);
    return err;
}

void floe_pool_submit(floe_pool *p, floe_pool_fn fn, void *ctx, size_t i)
{
    if (p->nthreads == 0) {
        keep_first(&p->stream_err, &p->err_seq, fn(ctx, i, 0), p->next_seq++);
        return;
    }
    pthread_mutex_lock(&p->mu);
    while (p->count == p->cap)
        pthread_cond_wait(&p->done, &p->mu);
    p->ring[(p->head + p->count) % p->cap] = (pool_task){fn, ctx, i, p->next_seq++};
    p->count++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

floe_err floe_pool_wait(floe_pool *p)
{
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->mu);
    while (p->count || p->running)
        pthread_cond_wait(&p->done, &p->mu);
    floe_err err = p->stream_err;
    p->stream_err = NULL;
    pthread_mutex_unlock(&p->mu);
    return err;
}

size_t floe_pool_pending(floe_pool *p)
{
    if (!p || p->nthreads == 0)
        return 0;
    pthread_mutex_lock(&p->mu);
    size_t n = p->count + p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int floe_pool_affinity_cores(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < FLOE_POOL_MAX_WORKERS ? n : FLOE_POOL_MAX_WORKERS) : 1;
}
