/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the transport's retries (floe_transport_get and
 * floe_transport_exists, the metadata path) against a scripted loopback
 * server forked by the test (scripted_server.h), one scripted answer per
 * connection, the last one again once the script ends: a GET
 * and a HEAD whose first attempt fails (503 SlowDown, 500, 429 with
 * Retry-After, a reset connection, a connection closed without an answer,
 * a body cut short with and without Content-Length) succeed with the right
 * bytes and one retry counted; a 404 or 403 is not retried; a permanent
 * 503 ends after the attempts, or within the time budget, with one line
 * naming the object, the attempts and the last error; a failed prefetch
 * followed by a GET that works counts as a retry, not a failure. */
#include "io/fetch/prefetch.h"
#include "io/transport/transport.h"

#include "floe_test.h"
#include "scripted_server.h"
#include <time.h>

enum { OBJECT_SIZE = 5000, MAX_SCRIPT = 32 };

static uint8_t OBJECT[OBJECT_SIZE];

/* One scripted answer. */
typedef enum answer {
    OK_200,       /* the whole object */
    OK_206,       /* bytes 0-99 */
    HEAD_200,     /* headers only, for a HEAD */
    SLOWDOWN_503, /* S3's body */
    ERROR_500,
    THROTTLED_429, /* with Retry-After: 1 */
    NOT_FOUND_404,
    DENIED_403,
    RESET,        /* the connection reset (RST) after the request */
    CLOSED,       /* the connection closed without a byte */
    CUT_200,      /* Content-Length 5000, 2500 bytes, closed */
    CUT_206_BARE, /* 206 bytes 0-99 without Content-Length, 50 bytes, closed */
} answer;

/* S3's answer to a request rate it will not take. */
static const char SLOWDOWN[] = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
                               "<Message>Please reduce your request rate.</Message></Error>";

static scripted_reply reply_of(answer a)
{
    static char slowdown_head[256];
    switch (a) {
    case OK_200:
        return (scripted_reply){"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close"
                                "\r\n\r\n", OBJECT, OBJECT_SIZE};
    case OK_206:
        return (scripted_reply){"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/5000"
                                "\r\nContent-Length: 100\r\nConnection: close\r\n\r\n",
                                OBJECT, 100};
    case HEAD_200:
        return (scripted_reply){"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close"
                                "\r\n\r\n", NULL, 0};
    case SLOWDOWN_503:
        snprintf(slowdown_head, sizeof slowdown_head, "HTTP/1.1 503 Slow Down\r\n"
                 "Content-Type: application/xml\r\nContent-Length: %zu\r\nConnection: close"
                 "\r\n\r\n", strlen(SLOWDOWN));
        return (scripted_reply){slowdown_head, (const uint8_t *)SLOWDOWN, strlen(SLOWDOWN)};
    case ERROR_500:
        return (scripted_reply){"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n", NULL, 0};
    case THROTTLED_429:
        return (scripted_reply){"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n", NULL, 0};
    case NOT_FOUND_404:
        return (scripted_reply){"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n", NULL, 0};
    case DENIED_403:
        return (scripted_reply){"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n", NULL, 0};
    case RESET:
        return (scripted_reply){SCRIPTED_RESET, NULL, 0};
    case CLOSED:
        return (scripted_reply){NULL, NULL, 0};
    case CUT_200:
        return (scripted_reply){"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close"
                                "\r\n\r\n", OBJECT, OBJECT_SIZE / 2};
    case CUT_206_BARE:
        return (scripted_reply){"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/5000"
                                "\r\nConnection: close\r\n\r\n", OBJECT, 50};
    }
    return (scripted_reply){SCRIPTED_RESET, NULL, 0};
}

/* Connection i gets script[i] (the last one again once the script ends). */
static void server_start(scripted_server *s, const answer *script, int n)
{
    for (size_t i = 0; i < OBJECT_SIZE; i++)
        OBJECT[i] = (uint8_t)(i * 7 % 251);
    assert_true(n <= MAX_SCRIPT);
    scripted_reply replies[MAX_SCRIPT];
    for (int i = 0; i < n; i++)
        replies[i] = reply_of(script[i]);
    scripted_start(s, replies, n, SCRIPTED_REPEAT_LAST);
}

static void server_stop(scripted_server *s)
{
    free(scripted_stop(s));
}

static floe_transport *transport_for(const scripted_server *s, floe_retry_policy retry)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", s->port);
    floe_transport_opts o = {.s3 = {.endpoint = endpoint, .anonymous = 1},
                             .connect_timeout_ms = 2000, .stall_timeout_ms = 5000,
                             .retry = retry};
    floe_transport *t;
    expect_ok(floe_transport_new(&o, &t));
    return t;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fast retries for the tests: waits of at most 1, 2, 4, ... ms. */
static const floe_retry_policy FAST = {.max_attempts = 5, .base_ms = 1, .max_ms = 20};

/* A GET (whole object, and a range) and a HEAD whose first attempt fails
 * one way, then work: the right bytes, one retry, no failure counted. */
static void first_attempt_fails(void **state)
{
    (void)state;
    const answer first[] = {SLOWDOWN_503, ERROR_500, THROTTLED_429, RESET, CLOSED};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        /* Whole-object GET. */
        scripted_server s;
        answer script[] = {first[i], OK_200};
        server_start(&s, script, 2);
        floe_transport *t = transport_for(&s, FAST);
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        double t0 = now_s();
        expect_ok(floe_transport_get(t, "s3://bkt/meta/repo", 0, 0, NULL, &b));
        double wall = now_s() - t0;
        assert_int_equal(b.len, OBJECT_SIZE);
        assert_memory_equal(b.data, OBJECT, OBJECT_SIZE);
        floe_transport_counts c;
        floe_transport_stats(t, &c);
        assert_int_equal(c.retries, 1);
        assert_int_equal(c.requests, 2);
        assert_int_equal(c.failures, 0);
        assert_int_equal(c.bytes, OBJECT_SIZE);
        if (first[i] == THROTTLED_429)
            assert_true(wall >= 0.95); /* Retry-After: 1 was honoured */
        floe_transport_free(&t);
        server_stop(&s);

        /* A range. */
        answer ranged[] = {first[i], OK_206};
        server_start(&s, ranged, 2);
        t = transport_for(&s, FAST);
        floe_buf_reset(&b);
        expect_ok(floe_transport_get(t, "s3://bkt/meta/chunk", 0, 100, NULL, &b));
        assert_int_equal(b.len, 100);
        assert_memory_equal(b.data, OBJECT, 100);
        floe_transport_stats(t, &c);
        assert_int_equal(c.retries, 1);
        floe_transport_free(&t);
        server_stop(&s);

        /* HEAD. */
        answer head[] = {first[i], HEAD_200};
        server_start(&s, head, 2);
        t = transport_for(&s, FAST);
        int exists = -1;
        expect_ok(floe_transport_exists(t, "s3://bkt/meta/snapshots/X", &exists));
        assert_int_equal(exists, 1);
        floe_transport_stats(t, &c);
        assert_int_equal(c.retries, 1);
        assert_int_equal(c.requests, 2);
        assert_int_equal(c.failures, 0);
        floe_transport_free(&t);
        server_stop(&s);
        floe_buf_free(&b);
    }
}

/* A prefetch (one attempt) that fails, then the GET of the same object
 * that works: the GET's request is a retry of the object, not a failure of
 * the run, and is counted so (--report's metadata_retries). */
static void failed_prefetch_then_get(void **state)
{
    (void)state;
    scripted_server s;
    answer script[] = {SLOWDOWN_503, OK_200};
    server_start(&s, script, 2);
    floe_transport *t = transport_for(&s, FAST);
    floe_object_cache *cache;
    expect_ok(floe_object_cache_new(0, &cache));
    floe_transport_set_cache(t, cache);
    const char *urls[] = {"s3://bkt/meta/config.yaml"};
    floe_err perr = floe_prefetch(t, urls, 1);
    floe_err_free(&perr); /* a failed prefetch may or may not say so: the GET decides */
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_ok(floe_transport_get(t, urls[0], 0, 0, NULL, &b));
    assert_int_equal(b.len, OBJECT_SIZE);
    assert_memory_equal(b.data, OBJECT, OBJECT_SIZE);
    floe_transport_counts c;
    floe_transport_stats(t, &c);
    assert_int_equal(c.requests, 2);
    assert_int_equal(c.retries, 1);
    assert_int_equal(c.failures, 0);
    floe_buf_free(&b);
    floe_transport_free(&t);
    floe_object_cache_free(&cache);
    server_stop(&s);
}

/* A body cut short, with Content-Length (libcurl sees it) and without (a
 * 206 shorter than its own Content-Range): retried; the caller's buffer
 * holds exactly the object afterwards. */
static void truncated_bodies(void **state)
{
    (void)state;
    struct {
        answer cut, ok;
        uint64_t length;
    } cases[] = {{CUT_200, OK_200, 0}, {CUT_206_BARE, OK_206, 100}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scripted_server s;
        answer script[] = {cases[i].cut, cases[i].ok};
        server_start(&s, script, 2);
        floe_transport *t = transport_for(&s, FAST);
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        assert_null(floe_buf_append(&b, "x", 1)); /* appended after what was there */
        expect_ok(floe_transport_get(t, "s3://bkt/k", 0, cases[i].length, NULL, &b));
        size_t want = cases[i].length ? (size_t)cases[i].length : OBJECT_SIZE;
        assert_int_equal(b.len, 1 + want);
        assert_memory_equal(b.data + 1, OBJECT, want);
        floe_transport_counts c;
        floe_transport_stats(t, &c);
        assert_int_equal(c.retries, 1);
        floe_transport_free(&t);
        server_stop(&s);
        floe_buf_free(&b);
    }
}

/* 404 and 403 are answers, not bad moments: one attempt, the error as it
 * always was (no "attempts" wording). */
static void not_retried(void **state)
{
    (void)state;
    struct {
        answer a;
        floe_code code;
        const char *needle;
    } cases[] = {{NOT_FOUND_404, FLOE_ENOTFOUND, "no such object (HTTP 404)"},
                 {DENIED_403, FLOE_EAUTH, "access denied (HTTP 403"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scripted_server s;
        answer script[] = {cases[i].a, OK_200};
        server_start(&s, script, 2);
        floe_transport *t = transport_for(&s, FAST);
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        floe_err err = floe_transport_get(t, "s3://bkt/k", 0, 0, NULL, &b);
        char line[1024];
        assert_non_null(err);
        assert_null(strstr(floe_err_line(err, line, sizeof line), "attempt"));
        expect_err(err, cases[i].code, "s3://bkt/k: ", cases[i].needle);
        floe_transport_counts c;
        floe_transport_stats(t, &c);
        assert_int_equal(c.retries, 0);
        assert_int_equal(c.requests, 1);
        assert_int_equal(c.failures, 1);
        floe_transport_free(&t);
        server_stop(&s);
        floe_buf_free(&b);
    }
}

/* A permanent 503: the attempts run out, or the budget does, and the one
 * line names the object, the attempts, the time and the last error, with
 * the last error's code. */
static void permanent_failure(void **state)
{
    (void)state;
    scripted_server s;
    answer always[] = {SLOWDOWN_503};
    server_start(&s, always, 1);

    floe_transport *t = transport_for(&s, FAST);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    floe_err err = floe_transport_get(t, "s3://bkt/k", 10, 10, NULL, &b);
    char line[1024];
    assert_non_null(err);
    floe_err_line(err, line, sizeof line);
    assert_true(strncmp(line, "s3://bkt/k bytes=10-19: gave up after 5 attempts in ", 52) == 0);
    assert_non_null(strstr(line, " s: server error (HTTP 503 SlowDown)"));
    assert_null(strchr(line, '\n'));
    expect_code(err, FLOE_ENET, NULL);
    int exists = -1;
    expect_err(floe_transport_exists(t, "s3://bkt/k", &exists), FLOE_ENET,
               "s3://bkt/k: gave up after 5 attempts in ", "HTTP 503");
    floe_transport_counts c;
    floe_transport_stats(t, &c);
    assert_int_equal(c.requests, 10);
    assert_int_equal(c.retries, 8);
    assert_int_equal(c.failures, 2);
    assert_int_equal(b.len, 0);
    floe_transport_free(&t);

    /* Many attempts allowed, 300 ms waits at most, a budget of 1 s: it
     * ends within the budget (plus one quick attempt), saying so. */
    floe_retry_policy budget = {.max_attempts = 100, .base_ms = 300, .max_ms = 300,
                                .budget_ms = 1000};
    t = transport_for(&s, budget);
    double t0 = now_s();
    err = floe_transport_get(t, "s3://bkt/k", 0, 0, NULL, &b);
    double wall = now_s() - t0;
    expect_err(err, FLOE_ENET, "(retry budget 1.0 s): server error (HTTP 503 SlowDown)",
               "s3://bkt/k: gave up after ");
    assert_true(wall < 1.5);
    floe_transport_stats(t, &c);
    assert_true(c.retries >= 3);
    floe_transport_free(&t);

    /* A Retry-After past the budget: no point waiting for it. */
    server_stop(&s);
    answer throttled[] = {THROTTLED_429};
    server_start(&s, throttled, 1);
    floe_retry_policy short_budget = {.max_attempts = 5, .base_ms = 1, .budget_ms = 500};
    t = transport_for(&s, short_budget);
    t0 = now_s();
    expect_err(floe_transport_get(t, "s3://bkt/k", 0, 0, NULL, &b), FLOE_ENET,
               "s3://bkt/k: gave up after 1 attempt in ", "(retry budget 0.5 s)");
    assert_true(now_s() - t0 < 0.5);
    floe_transport_free(&t);
    server_stop(&s);
    floe_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_attempt_fails),
        cmocka_unit_test(truncated_bodies),
        cmocka_unit_test(failed_prefetch_then_get),
        cmocka_unit_test(not_retried),
        cmocka_unit_test(permanent_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
