/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/retry.c - which failures are worth another attempt, and how long
 * to wait before it (pure: no I/O). The classes follow what the AWS SDKs
 * retry ("standard" retry mode): throttling and transient server errors,
 * and transfers that broke off. */
#include "io/fetch/internal.h"

#include <curl/curl.h>
#include <string.h>

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

int floe_fetch_retryable(long status, int curl_code, const char *s3_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        break;
    /* Connections that could not be made or broke off, answers that never
     * came or came in part: the next attempt may well work. DNS failures
     * are included: cluster resolvers do fail transiently, and a wrong
     * host costs only max_attempts quick tries. */
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
    return 0;
}

long floe_fetch_backoff_ms(long base_ms, long max_ms, int retry, uint64_t random)
{
    if (base_ms < 1)
        base_ms = 1;
    if (max_ms < base_ms)
        max_ms = base_ms;
    long d = base_ms;
    for (int i = 1; i < retry && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    if (d > max_ms)
        d = max_ms;
    long half = d / 2;
    return d - half + (long)(random % ((uint64_t)half + 1));
}

uint64_t floe_fetch_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
