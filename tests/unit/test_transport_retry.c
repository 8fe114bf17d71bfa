/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the retry policy (io/transport/retry.h), pure: which
 * failures are retried (statuses, S3 codes, libcurl codes, truncated
 * bodies; no 4xx but 408/429), the full-jitter backoff's bounds and
 * spread, Retry-After in seconds and in the three HTTP date forms, the
 * attempts and the time budget cutting retries off, the defaults, and the
 * wording of the final error. */
#include "io/transport/retry.h"

#include "floe_test.h"
#include <curl/curl.h>
#include <limits.h>

static void which_failures_are_retried(void **state)
{
    (void)state;
    const long yes[] = {500, 502, 503, 504, 599, 408, 429};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(floe_retry_transient(yes[i], CURLE_OK, "", 0));
    /* Every other 4xx, and what is not a failure of the moment. */
    for (long s = 400; s < 500; s++)
        if (s != 408 && s != 429)
            assert_false(floe_retry_transient(s, CURLE_OK, NULL, 0));
    const long no[] = {0, 200, 206, 301, 304, 501, 505};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(floe_retry_transient(no[i], CURLE_OK, NULL, 0));
    /* S3's codes: transient on a 400 too; the status decides otherwise. */
    const char *codes[] = {"SlowDown", "RequestTimeout", "InternalError", "Throttling",
                           "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable",
                           "RequestThrottled", "TooManyRequestsException"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_true(floe_retry_transient(400, CURLE_OK, codes[i], 0));
        assert_true(floe_retry_transient(503, CURLE_OK, codes[i], 0));
    }
    assert_false(floe_retry_transient(400, CURLE_OK, "InvalidArgument", 0));
    assert_false(floe_retry_transient(404, CURLE_OK, "SlowDown", 0));
    assert_false(floe_retry_transient(403, CURLE_OK, "RequestTimeout", 0));
    /* Connections refused, reset, timed out, cut short. */
    const int transient[] = {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_PARTIAL_FILE,
                             CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING,
                             CURLE_COULDNT_RESOLVE_HOST, CURLE_HTTP2_STREAM};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        assert_true(floe_retry_transient(0, transient[i], "", 0));
        assert_true(floe_retry_transient(200, transient[i], "", 0)); /* a body cut short */
    }
    /* A truncated 2xx body is transient; a 2xx that is merely short (the
     * object ends before the range) is not, nor is a 4xx "truncated". */
    assert_true(floe_retry_transient(206, CURLE_OK, "", 1));
    assert_true(floe_retry_transient(200, CURLE_OK, "", 1));
    assert_false(floe_retry_transient(206, CURLE_OK, "", 0));
    assert_false(floe_retry_transient(404, CURLE_OK, "", 1));
    /* Our own aborts (a cap, a wrong range), bad URLs, TLS: never. */
    assert_false(floe_retry_transient(200, CURLE_WRITE_ERROR, "", 0));
    assert_false(floe_retry_transient(0, CURLE_URL_MALFORMAT, "", 0));
    assert_false(floe_retry_transient(0, CURLE_UNSUPPORTED_PROTOCOL, "", 0));
    assert_false(floe_retry_transient(0, CURLE_PEER_FAILED_VERIFICATION, "", 0));
}

static void full_jitter_bounds(void **state)
{
    (void)state;
    floe_retry_policy p;
    expect_ok(floe_retry_policy_resolve(&(floe_retry_policy){.base_ms = 100, .max_ms = 5000}, &p));
    uint64_t rng = 42;
    for (int retry = 1; retry <= 40; retry++) {
        long d = 100;
        for (int i = 1; i < retry; i++)
            d = d * 2 > 5000 ? 5000 : d * 2;
        long lo = d, hi = 0;
        for (int k = 0; k < 4000; k++) {
            long w = floe_retry_backoff_ms(&p, retry, floe_retry_random(&rng));
            assert_true(w >= 0);
            assert_true(w <= d);
            lo = w < lo ? w : lo;
            hi = w > hi ? w : hi;
        }
        /* Full jitter: the waits cover all of [0, d], not [d/2, d]. */
        assert_true(lo <= d / 20);
        assert_true(hi >= d - d / 20);
    }
    /* Extreme inputs stay sane. */
    floe_retry_policy odd = {.max_attempts = 1, .base_ms = 1000, .max_ms = 100, .budget_ms = 1};
    assert_true(floe_retry_backoff_ms(&odd, 3, 7) <= 1000);
    floe_retry_policy big = {.max_attempts = 1, .base_ms = 1L << 40, .max_ms = 1L << 41,
                             .budget_ms = 1};
    assert_true(floe_retry_backoff_ms(&big, 1000, UINT64_MAX) <= 1L << 41);
    uint64_t a = floe_retry_random(&rng), b = floe_retry_random(&rng);
    assert_true(a != b);
}

static void retry_after_both_forms(void **state)
{
    (void)state;
    const int64_t date = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(floe_retry_after_ms("120", date), 120000);
    assert_int_equal(floe_retry_after_ms(" 3 ", date), 3000);
    assert_int_equal(floe_retry_after_ms("0", date), 0);
    assert_int_equal(floe_retry_after_ms("99999999999999999999", date), LONG_MAX);
    assert_int_equal(floe_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date - 30), 30000);
    assert_int_equal(floe_retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT", date - 2), 2000);
    assert_int_equal(floe_retry_after_ms("Wed Oct 21 07:28:00 2015", date - 5), 5000);
    assert_int_equal(floe_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date + 60), 0);
    const char *bad[] = {"", "   ", "soon", "1.5", "-3", "12 s", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(floe_retry_after_ms(bad[i], date), -1);
}

static void attempts_and_budget(void **state)
{
    (void)state;
    floe_retry_policy p;
    expect_ok(floe_retry_policy_resolve(
        &(floe_retry_policy){.max_attempts = 3, .base_ms = 100, .max_ms = 1000,
                             .budget_ms = 2000}, &p));
    long w;
    assert_int_equal(floe_retry_next(&p, 1, 0, -1, 12345, &w), FLOE_RETRY_AGAIN);
    assert_true(w >= 0 && w <= 100);
    assert_int_equal(floe_retry_next(&p, 2, 0, -1, 12345, &w), FLOE_RETRY_AGAIN);
    assert_true(w >= 0 && w <= 200);
    assert_int_equal(floe_retry_next(&p, 3, 0, -1, 12345, &w), FLOE_RETRY_OUT_OF_ATTEMPTS);
    /* Retry-After is a floor, even above max_ms, within the budget. */
    assert_int_equal(floe_retry_next(&p, 1, 0, 1500, 0, &w), FLOE_RETRY_AGAIN);
    assert_int_equal(w, 1500);
    /* A wait that would end past the budget: stop now, not later. */
    assert_int_equal(floe_retry_next(&p, 1, 600, 1500, 0, &w), FLOE_RETRY_OUT_OF_BUDGET);
    assert_int_equal(floe_retry_next(&p, 1, 2000, -1, 0, &w), FLOE_RETRY_OUT_OF_BUDGET);
    assert_int_equal(floe_retry_next(&p, 1, 1999, -1, 0, &w), FLOE_RETRY_AGAIN); /* wait 0 */
    assert_int_equal(floe_retry_next(&p, 1, 1950, -1, 99, &w), FLOE_RETRY_OUT_OF_BUDGET);
    /* Whatever the randomness, the waits never pass the budget. */
    uint64_t rng = 7;
    for (int k = 0; k < 1000; k++) {
        long el = (long)(floe_retry_random(&rng) % 2500);
        if (floe_retry_next(&p, 2, el, -1, floe_retry_random(&rng), &w) == FLOE_RETRY_AGAIN)
            assert_true(el + w <= p.budget_ms);
    }
}

static void defaults_and_bad_settings(void **state)
{
    (void)state;
    floe_retry_policy p;
    expect_ok(floe_retry_policy_resolve(NULL, &p));
    assert_int_equal(p.max_attempts, FLOE_RETRY_DEFAULT_ATTEMPTS);
    assert_int_equal(p.base_ms, FLOE_RETRY_DEFAULT_BASE_MS);
    assert_int_equal(p.max_ms, FLOE_RETRY_DEFAULT_MAX_MS);
    assert_int_equal(p.budget_ms, FLOE_RETRY_DEFAULT_BUDGET_MS);
    expect_ok(floe_retry_policy_resolve(&(floe_retry_policy){.max_attempts = 1}, &p));
    assert_int_equal(p.max_attempts, 1);
    long w;
    assert_int_equal(floe_retry_next(&p, 1, 0, -1, 0, &w), FLOE_RETRY_OUT_OF_ATTEMPTS);
    expect_err(floe_retry_policy_resolve(&(floe_retry_policy){.budget_ms = -1}, &p),
               FLOE_EINVAL, "negative retry setting", "budget -1 ms");
}

static void final_error_wording(void **state)
{
    (void)state;
    floe_retry_policy p;
    expect_ok(floe_retry_policy_resolve(&(floe_retry_policy){.budget_ms = 3000}, &p));
    const char *what = "s3://b/k bytes=0-9";
    floe_err last = FLOE_ERR(FLOE_ENET, "s3://b/k bytes=0-9: server error (HTTP 503 SlowDown)");
    floe_err e = floe_retry_final_error(last, what, 5, 3.14, FLOE_RETRY_OUT_OF_ATTEMPTS, &p);
    char line[1024];
    assert_string_equal(floe_err_line(e, line, sizeof line),
                        "s3://b/k bytes=0-9: gave up after 5 attempts in 3.1 s: server error "
                        "(HTTP 503 SlowDown)");
    assert_int_equal(floe_err_code(e), FLOE_ENET);
    floe_err_free(&e);
    last = FLOE_ERR(FLOE_ENET, "s3://b/k bytes=0-9: server error (HTTP 500)");
    e = floe_retry_final_error(last, what, 3, 2.96, FLOE_RETRY_OUT_OF_BUDGET, &p);
    assert_string_equal(floe_err_line(e, line, sizeof line),
                        "s3://b/k bytes=0-9: gave up after 3 attempts in 3.0 s (retry budget "
                        "3.0 s): server error (HTTP 500)");
    floe_err_free(&e);
    last = FLOE_ERR(FLOE_ENOTFOUND, "s3://b/k bytes=0-9: no such object (HTTP 404)");
    e = floe_retry_final_error(last, what, 2, 0.31, FLOE_RETRY_AGAIN, &p);
    assert_string_equal(floe_err_line(e, line, sizeof line),
                        "s3://b/k bytes=0-9: no such object (HTTP 404) (after 2 attempts in "
                        "0.3 s, not retryable)");
    assert_int_equal(floe_err_code(e), FLOE_ENOTFOUND);
    floe_err_free(&e);
    /* A last error that does not start with the object's name keeps all of it. */
    last = FLOE_ERR(FLOE_ENET, "stalled: no data for 300 ms");
    e = floe_retry_final_error(last, what, 1, 0.3, FLOE_RETRY_OUT_OF_ATTEMPTS, &p);
    assert_string_equal(floe_err_line(e, line, sizeof line),
                        "s3://b/k bytes=0-9: gave up after 1 attempt in 0.3 s: stalled: no data "
                        "for 300 ms");
    floe_err_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(which_failures_are_retried),
        cmocka_unit_test(full_jitter_bounds),
        cmocka_unit_test(retry_after_both_forms),
        cmocka_unit_test(attempts_and_budget),
        cmocka_unit_test(defaults_and_bad_settings),
        cmocka_unit_test(final_error_wording),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
