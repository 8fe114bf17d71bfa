/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/retry.h - the one retry policy of every request floe makes:
 * which failures are worth another attempt, how long to wait before it,
 * when to stop, and how the final error reads. Pure (retry.c does no I/O
 * and keeps no state): floe_transport_get / floe_transport_exists
 * (transport.c) run their retries by it, and so does the concurrent range
 * fetcher of io/fetch/ with the same settings (floe_transport_retry_policy
 * in xfer.h gives it the transport's).
 *
 * The classes follow what the AWS SDKs retry ("standard" mode): throttling
 * and transient server errors, and transfers that broke off. The waits are
 * exponential backoff with full jitter (uniform in [0, min(max, base *
 * 2^(n-1))]): clients throttled together spread out instead of coming
 * back together, which is what a job array hitting one S3 prefix needs.
 * A server's Retry-After is a floor for the wait. A time budget per
 * request bounds attempts and waits together: no retry starts whose wait
 * would end past it (an attempt in flight is not cut short; the stall
 * timeout bounds it).
 */
#ifndef FLOE_TRANSPORT_RETRY_H
#define FLOE_TRANSPORT_RETRY_H

#include "common/floe_error.h"

#include <stdint.h>

/* Zeros (or a zeroed struct) mean the defaults below. */
typedef struct floe_retry_policy {
    int max_attempts; /* tries per request, the first included (--retries N: N + 1) */
    long base_ms;     /* the first retry's wait is at most this */
    long max_ms;      /* no wait is longer (unless Retry-After asks for more) */
    long budget_ms;   /* attempts plus waits of one request (--retry-budget) */
} floe_retry_policy;

/* The defaults, and why:
 * - 11 attempts (--retries 10), waits of at most 0.1, 0.2, 0.4, ... 5 s:
 *   up to 26 s of waiting, 13 s on average. S3 answers SlowDown while a
 *   prefix scales to a burst (a Slurm array of hundreds of tasks opening
 *   one repository), which takes seconds, not the 1.5 s that four retries
 *   would wait at most; fewer attempts fail such an array.
 * - A budget of 120 s: attempts alone do not bound time (each may run to
 *   the stall timeout, 30 s), so the budget is what makes a dead or
 *   overloaded store fail a batch job in about two minutes rather than
 *   eleven stall timeouts; it is also the retry deadline of Google's
 *   Cloud Storage clients. */
enum {
    FLOE_RETRY_DEFAULT_ATTEMPTS = 11,
    FLOE_RETRY_DEFAULT_BASE_MS = 100,
    FLOE_RETRY_DEFAULT_MAX_MS = 5000,
    FLOE_RETRY_DEFAULT_BUDGET_MS = 120000,
};

/* in with its zeros replaced by the defaults into out (in may be NULL).
 * Negative values are FLOE_EINVAL. */
floe_err floe_retry_policy_resolve(const floe_retry_policy *in, floe_retry_policy *out);
/* in with its zeros replaced by base's fields (a resolved policy, e.g. the
 * transport's) into out; max_ms is raised to base_ms if below it. */
void floe_retry_policy_over(const floe_retry_policy *in, const floe_retry_policy *base,
                            floe_retry_policy *out);

/* Is a failed attempt worth another? status: the HTTP status of the answer
 * (0: none); curl_code: the CURLcode the transfer ended with; s3_code: the
 * S3 error code of the body ("SlowDown"), or "" / NULL; truncated: the
 * body ended before the length the answer itself announced. Transient:
 * 5xx but 501/505, 408, 429, S3 throttling and timeout codes (also on a
 * 400: S3 answers a slow client with 400 RequestTimeout), refused or reset
 * connections, timeouts, truncated bodies, HTTP/2 stream errors, DNS
 * failures. Never: other 4xx (401/403, 404, 412, 416, ...), 3xx, bad URLs,
 * TLS certificate problems, our own aborts (size caps, wrong ranges). A
 * local file is never retried (transport.c): its short read is final. */
int floe_retry_transient(long status, int curl_code, const char *s3_code, int truncated);

/* The full-jitter wait before retry number `retry` (1 = the first retry):
 * with d = min(max_ms, base_ms * 2^(retry-1)), random % (d + 1). p is
 * resolved. */
long floe_retry_backoff_ms(const floe_retry_policy *p, int retry, uint64_t random);

/* A Retry-After header's value in milliseconds from now: delta-seconds
 * ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT", and the two
 * obsolete forms), a date in the past being 0. now: seconds since the
 * epoch. -1 when value is empty or neither. */
long floe_retry_after_ms(const char *value, int64_t now);

typedef enum floe_retry_verdict {
    FLOE_RETRY_AGAIN = 0,   /* wait *wait_ms, then try again */
    FLOE_RETRY_OUT_OF_ATTEMPTS,
    FLOE_RETRY_OUT_OF_BUDGET, /* the wait would end past the budget */
} floe_retry_verdict;

/* After `attempts` attempts (>= 1) of which the last failed transiently,
 * elapsed_ms after the first one began: try again, and after how long?
 * retry_after_ms: the server's Retry-After (-1: none), a floor for the
 * wait. p is resolved. */
floe_retry_verdict floe_retry_next(const floe_retry_policy *p, int attempts, long elapsed_ms,
                                   long retry_after_ms, uint64_t random, long *wait_ms);

/* The one-line error of a request that failed after retries, replacing
 * last (which it takes over), with last's code: "WHAT: gave up after N
 * attempts in T s: LAST" (verdict OUT_OF_ATTEMPTS; OUT_OF_BUDGET adds the
 * budget: "... in T s (retry budget B s): LAST"), or, for a last failure
 * that was not transient (verdict FLOE_RETRY_AGAIN), "WHAT: LAST (after N
 * attempts in T s, not retryable)". what names the object (the redacted
 * URL and range, e.g. "s3://b/k bytes=0-9"); LAST is last's line without
 * a leading "WHAT: ". p is resolved. */
floe_err floe_retry_final_error(floe_err last, const char *what, int attempts, double seconds,
                                floe_retry_verdict verdict, const floe_retry_policy *p);

/* splitmix64: the next pseudo-random number from *state. */
uint64_t floe_retry_random(uint64_t *state);

#endif
