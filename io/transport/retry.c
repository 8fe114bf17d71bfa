/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/retry.c - the retry policy of retry.h: classification of a
 * failed attempt, full-jitter backoff, Retry-After, the budget and the
 * final error's wording. Pure: no I/O, no clock (callers pass the time). */
#include "io/transport/retry.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

floe_err floe_retry_policy_resolve(const floe_retry_policy *in, floe_retry_policy *out)
{
    floe_retry_policy none = {0};
    if (!in)
        in = &none;
    if (in->max_attempts < 0 || in->base_ms < 0 || in->max_ms < 0 || in->budget_ms < 0)
        return FLOE_ERR(FLOE_EINVAL,
                        "negative retry setting (attempts %d, base %ld ms, max %ld ms, "
                        "budget %ld ms)",
                        in->max_attempts, in->base_ms, in->max_ms, in->budget_ms);
    static const floe_retry_policy defaults = {
        .max_attempts = FLOE_RETRY_DEFAULT_ATTEMPTS, .base_ms = FLOE_RETRY_DEFAULT_BASE_MS,
        .max_ms = FLOE_RETRY_DEFAULT_MAX_MS, .budget_ms = FLOE_RETRY_DEFAULT_BUDGET_MS};
    floe_retry_policy_over(in, &defaults, out);
    return NULL;
}

void floe_retry_policy_over(const floe_retry_policy *in, const floe_retry_policy *base,
                            floe_retry_policy *out)
{
    floe_retry_policy r = {
        .max_attempts = in->max_attempts ? in->max_attempts : base->max_attempts,
        .base_ms = in->base_ms ? in->base_ms : base->base_ms,
        .max_ms = in->max_ms ? in->max_ms : base->max_ms,
        .budget_ms = in->budget_ms ? in->budget_ms : base->budget_ms,
    };
    if (r.max_ms < r.base_ms)
        r.max_ms = r.base_ms;
    *out = r;
}

/* S3 error codes that mean "try again later" even on a status that would
 * not say so by itself (S3 answers a slow client with 400 RequestTimeout). */
static int transient_s3_code(const char *code)
{
    static const char *const codes[] = {
        "SlowDown",   "RequestTimeout",        "Throttling",      "ThrottlingException",
        "RequestLimitExceeded", "InternalError", "ServiceUnavailable",
        "RequestThrottled",     "TooManyRequestsException",
    };
    if (!code || !*code)
        return 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

int floe_retry_transient(long status, int curl_code, const char *s3_code, int truncated)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        break;
    /* Connections that could not be made or broke off, answers that never
     * came or came in part: the next attempt may well work. DNS failures
     * are included: cluster resolvers do fail transiently, and a wrong
     * host costs only a few quick tries. */
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
        return 1;
    default:
        /* Our own aborts (CURLE_WRITE_ERROR: a size cap, a wrong range),
         * bad URLs, TLS certificate problems: the same again next time. */
        return 0;
    }
    if (status == 501 || status == 505)
        return 0; /* not implemented, HTTP version: permanent */
    if (status >= 500 && status <= 599)
        return 1;
    if (status == 408 || status == 429)
        return 1;
    if (status == 400 && transient_s3_code(s3_code))
        return 1;
    /* A 2xx whose body ended before its own Content-Length/Content-Range
     * said: the connection broke, the object did not shrink. */
    if (status / 100 == 2 && truncated)
        return 1;
    return 0;
}

long floe_retry_backoff_ms(const floe_retry_policy *p, int retry, uint64_t random)
{
    long base = p->base_ms < 1 ? 1 : p->base_ms;
    long max = p->max_ms < base ? base : p->max_ms;
    long d = base;
    for (int i = 1; i < retry && d < max; i++)
        d = d > max / 2 ? max : d * 2;
    if (d > max)
        d = max;
    return (long)(random % ((uint64_t)d + 1));
}

long floe_retry_after_ms(const char *value, int64_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return -1;
    if (*value >= '0' && *value <= '9') {
        char *end;
        unsigned long long s = strtoull(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end)
            return -1;
        return s >= (unsigned long long)(LONG_MAX / 1000) ? LONG_MAX : (long)s * 1000;
    }
    /* curl_getdate parses the three HTTP date forms; it reads no clock
     * when given none. */
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    if ((int64_t)when <= now)
        return 0;
    int64_t s = (int64_t)when - now;
    return s >= (int64_t)(LONG_MAX / 1000) ? LONG_MAX : (long)s * 1000;
}

floe_retry_verdict floe_retry_next(const floe_retry_policy *p, int attempts, long elapsed_ms,
                                   long retry_after_ms, uint64_t random, long *wait_ms)
{
    *wait_ms = 0;
    if (attempts >= p->max_attempts)
        return FLOE_RETRY_OUT_OF_ATTEMPTS;
    long w = floe_retry_backoff_ms(p, attempts, random);
    if (retry_after_ms > w)
        w = retry_after_ms;
    if (elapsed_ms < 0)
        elapsed_ms = 0;
    if (elapsed_ms >= p->budget_ms || w > p->budget_ms - elapsed_ms)
        return FLOE_RETRY_OUT_OF_BUDGET;
    *wait_ms = w;
    return FLOE_RETRY_AGAIN;
}

floe_err floe_retry_final_error(floe_err last, const char *what, int attempts, double seconds,
                                floe_retry_verdict verdict, const floe_retry_policy *p)
{
    char line[1024];
    floe_err_line(last, line, sizeof line);
    const char *rest = line;
    size_t n = strlen(what);
    if (strncmp(rest, what, n) == 0 && strncmp(rest + n, ": ", 2) == 0)
        rest += n + 2;
    const char *s = attempts == 1 ? "" : "s";
    floe_err err;
    if (verdict == FLOE_RETRY_AGAIN)
        err = FLOE_ERR(floe_err_code(last), "%s: %s (after %d attempt%s in %.1f s, not retryable)",
                       what, rest, attempts, s, seconds);
    else if (verdict == FLOE_RETRY_OUT_OF_BUDGET)
        err = FLOE_ERR(floe_err_code(last), "%s: gave up after %d attempt%s in %.1f s (retry "
                       "budget %.1f s): %s", what, attempts, s, seconds,
                       (double)p->budget_ms / 1e3, rest);
    else
        err = FLOE_ERR(floe_err_code(last), "%s: gave up after %d attempt%s in %.1f s: %s", what,
                       attempts, s, seconds, rest);
    floe_err_free(&last);
    return err;
}

uint64_t floe_retry_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
