/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the worker pool (common/floe_pool.h): every index runs
 * exactly once, on a worker index in range, for loops and streams; the
 * error returned is the smallest index's / first submitted, whatever the
 * timing; a full queue makes submit wait rather than drop; 1 worker runs
 * inline. */
#include "common/floe_pool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N_CALLS = 5000 };

typedef struct counts {
    atomic_int hits[N_CALLS];
    atomic_int bad_worker;
    int workers;
    size_t fail_from; /* indices >= this fail (SIZE_MAX: none) */
    atomic_int busy, most_busy;
} counts;

static floe_err count_call(void *ctx, size_t i, int worker)
{
    counts *c = ctx;
    int now = atomic_fetch_add(&c->busy, 1) + 1;
    int seen = atomic_load(&c->most_busy);
    while (now > seen && !atomic_compare_exchange_weak(&c->most_busy, &seen, now))
        ;
    if (worker < 0 || worker >= c->workers)
        atomic_fetch_add(&c->bad_worker, 1);
    atomic_fetch_add(&c->hits[i], 1);
    if (i % 97 == 0) { /* let the others overtake: errors must still be ordered */
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_sub(&c->busy, 1);
    return i >= c->fail_from ? FLOE_ERR(FLOE_EFORMAT, "call %zu", i) : NULL;
}

static counts *new_counts(int workers, size_t fail_from)
{
    counts *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->workers = workers;
    c->fail_from = fail_from;
    return c;
}

static void loop_runs_each_index_once(void **state)
{
    (void)state;
    int sizes[] = {1, 2, 3, 8};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        floe_pool *p = NULL;
        assert_null(floe_pool_new(sizes[s], &p));
        assert_int_equal(floe_pool_workers(p), sizes[s]);
        counts *c = new_counts(sizes[s], SIZE_MAX);
        assert_null(floe_pool_for(p, N_CALLS, count_call, c));
        for (size_t i = 0; i < N_CALLS; i++)
            assert_int_equal(atomic_load(&c->hits[i]), 1);
        assert_int_equal(atomic_load(&c->bad_worker), 0);
        assert_int_equal(atomic_load(&c->busy), 0);
        if (sizes[s] == 1)
            assert_int_equal(atomic_load(&c->most_busy), 1);
        free(c);
        floe_pool_free(&p);
        assert_null(p);
    }
}

static void loop_error_is_smallest_index(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        floe_pool *p = NULL;
        assert_null(floe_pool_new(4, &p));
        counts *c = new_counts(4, 1000);
        floe_err err = floe_pool_for(p, N_CALLS, count_call, c);
        assert_non_null(err);
        assert_string_equal(floe_err_message(err), "call 1000");
        floe_err_free(&err);
        for (size_t i = 0; i < N_CALLS; i++) /* every call ran, failing or not */
            assert_int_equal(atomic_load(&c->hits[i]), 1);
        free(c);
        floe_pool_free(&p);
    }
}

static void stream_runs_each_task_once(void **state)
{
    (void)state;
    int sizes[] = {1, 2, 5};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        floe_pool *p = NULL;
        assert_null(floe_pool_new(sizes[s], &p));
        counts *c = new_counts(sizes[s], SIZE_MAX);
        for (size_t i = 0; i < N_CALLS; i++) {
            floe_pool_submit(p, count_call, c, i);
            /* backpressure: never more than the ring plus the running ones */
            assert_true(floe_pool_pending(p) <= (size_t)(3 * sizes[s]));
        }
        assert_null(floe_pool_wait(p));
        assert_int_equal(floe_pool_pending(p), 0);
        for (size_t i = 0; i < N_CALLS; i++)
            assert_int_equal(atomic_load(&c->hits[i]), 1);
        assert_int_equal(atomic_load(&c->bad_worker), 0);
        assert_true(atomic_load(&c->most_busy) <= sizes[s]);
        /* the pool is ready for more after a wait */
        floe_pool_submit(p, count_call, c, 0);
        assert_null(floe_pool_wait(p));
        assert_int_equal(atomic_load(&c->hits[0]), 2);
        free(c);
        floe_pool_free(&p);
    }
}

static void stream_error_is_first_submitted(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        floe_pool *p = NULL;
        assert_null(floe_pool_new(3, &p));
        counts *c = new_counts(3, 0);
        /* submitted in reverse: the first submitted is the largest index */
        for (size_t k = 0; k < 500; k++)
            floe_pool_submit(p, count_call, c, 499 - k);
        floe_err err = floe_pool_wait(p);
        assert_non_null(err);
        assert_string_equal(floe_err_message(err), "call 499");
        floe_err_free(&err);
        free(c);
        floe_pool_free(&p);
    }
}

static void free_waits_for_queued_tasks(void **state)
{
    (void)state;
    floe_pool *p = NULL;
    assert_null(floe_pool_new(2, &p));
    counts *c = new_counts(2, 100);
    for (size_t i = 0; i < 300; i++)
        floe_pool_submit(p, count_call, c, i);
    floe_pool_free(&p); /* errors of tasks never waited for are freed (leak check) */
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(atomic_load(&c->hits[i]), 1);
    free(c);
}

static void bad_sizes_refused(void **state)
{
    (void)state;
    floe_pool *p = NULL;
    floe_err err = floe_pool_new(0, &p);
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    err = floe_pool_new(FLOE_POOL_MAX_WORKERS + 1, &p);
    assert_non_null(err);
    floe_err_free(&err);
    assert_null(p);
    assert_true(floe_pool_affinity_cores() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_runs_each_index_once),
        cmocka_unit_test(loop_error_is_smallest_index),
        cmocka_unit_test(stream_runs_each_task_once),
        cmocka_unit_test(stream_error_is_first_submitted),
        cmocka_unit_test(free_waits_for_queued_tasks),
        cmocka_unit_test(bad_sizes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
