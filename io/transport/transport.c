/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/transport.c - the transport object and the dispatch of a URL to the file,
 * HTTP or S3 back end (file.c, http.c, s3.c); the retries of HTTP(S) and
 * S3 requests, by the policy of retry.h; the settings and the attachment
 * slot of xfer.h. */
#include "common/floe_log.h"
#include "io/transport/internal.h"
#include "io/transport/url.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    DEFAULT_CONNECT_TIMEOUT_MS = 10000,
    DEFAULT_STALL_TIMEOUT_MS = 30000,
};
#define DEFAULT_MAX_OBJECT_BYTES ((size_t)1 << 30)

/* curl_global_init is not thread-safe in every libcurl build, so it runs
 * exactly once per process, whichever thread creates the first transport.
 * It is never undone: curl_global_cleanup would race with other
 * transports and the process ends soon enough. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_OK;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static floe_err copy_headers(const char *const *in, char ***out)
{
    size_t n = 0;
    while (in && in[n])
        n++;
    if (!n)
        return NULL;
    char **h = calloc(n + 1, sizeof *h);
    if (!h)
        return FLOE_ERR(FLOE_ENOMEM, "cannot copy %zu extra HTTP headers", n);
    *out = h;
    for (size_t i = 0; i < n; i++) {
        if (!strchr(in[i], ':') || strpbrk(in[i], "\r\n"))
            return FLOE_ERR(FLOE_EINVAL, "extra HTTP header \"%s\": not one \"Name: value\" line",
                            in[i]);
        if (!(h[i] = strdup(in[i])))
            return FLOE_ERR(FLOE_ENOMEM, "cannot copy %zu extra HTTP headers", n);
    }
    return NULL;
}

floe_err floe_transport_new(const floe_transport_opts *opts, floe_transport **out)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK)
        return FLOE_ERR(FLOE_ENET, "cannot initialise libcurl: %s",
                        curl_easy_strerror(curl_init_result));
    floe_transport_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    if (opts->connect_timeout_ms < 0 || opts->stall_timeout_ms < 0)
        return FLOE_ERR(FLOE_EINVAL, "negative transport timeout (connect %ld ms, stall %ld ms)",
                        opts->connect_timeout_ms, opts->stall_timeout_ms);
    floe_transport *t = calloc(1, sizeof *t);
    if (!t)
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate a transport");
    t->connect_timeout_ms =
        opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    t->stall_timeout_ms =
        opts->stall_timeout_ms ? opts->stall_timeout_ms : DEFAULT_STALL_TIMEOUT_MS;
    t->max_object_bytes = opts->max_object_bytes ? opts->max_object_bytes
                                                 : DEFAULT_MAX_OBJECT_BYTES;
    /* Jitter differs between processes and transports, so that clients
     * throttled together do not retry in step. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t->rng = ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec) ^
             ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)t;
    floe_err err = floe_retry_policy_resolve(&opts->retry, &t->retry);
    if (!err)
        err = floe_s3_setup(t, &opts->s3);
    if (!err)
        err = copy_headers(opts->extra_headers, &t->extra_headers);
    if (err) {
        floe_transport_free(&t);
        return err;
    }
    *out = t;
    return NULL;
}

void floe_transport_free(floe_transport **tp)
{
    if (!tp || !*tp)
        return;
    floe_transport *t = *tp;
    if (t->attached.obj)
        t->attached.free(t->attached.obj);
    if (t->curl)
        curl_easy_cleanup(t->curl);
    floe_s3_clear(t);
    for (char **h = t->extra_headers; h && *h; h++)
        free(*h);
    free(t->extra_headers);
    free(t);
    *tp = NULL;
}

char *floe_range_text(uint64_t offset, uint64_t length, char buf[64])
{
    if (length)
        snprintf(buf, 64, " bytes=%" PRIu64 "-%" PRIu64, offset, offset + length - 1);
    else if (offset)
        snprintf(buf, 64, " bytes=%" PRIu64 "-", offset);
    else
        buf[0] = 0;
    return buf;
}

floe_err floe_http_request_for(const floe_transport *t, const char *url, floe_buf *u,
                               char *shown, size_t shown_size, floe_sigv4 *sig,
                               floe_http_request *req)
{
    floe_url_kind kind;
    FLOE_CHECK(floe_url_kind_of(url, &kind));
    if (kind == FLOE_URL_S3)
        return floe_s3_request_for(t, url, u, shown, shown_size, sig, req);
    floe_url_redact(url, shown, shown_size);
    if (kind != FLOE_URL_HTTP)
        return FLOE_ERR(FLOE_EINVAL, "%s: not an http(s):// or s3:// URL", shown);
    FLOE_CHECK(floe_url_http_normalize(url, u));
    *req = (floe_http_request){.url = (const char *)u->data, .shown = shown};
    return NULL;
}

static floe_err http_get(floe_transport *t, const char *url, uint64_t offset, uint64_t length,
                         const floe_condition *cond, floe_buf *out, floe_http_outcome *o)
{
    floe_buf u;
    floe_buf_init(&u, 64 * 1024);
    char shown[1024];
    floe_sigv4 sig;
    floe_http_request req;
    floe_err err = floe_http_request_for(t, url, &u, shown, sizeof shown, &sig, &req);
    if (!err) {
        req.offset = offset;
        req.length = length;
        req.cond = cond;
        err = floe_http_get(t, &req, out, o);
    }
    floe_buf_free(&u);
    return err;
}

static floe_err http_exists(floe_transport *t, const char *url, int *exists,
                            floe_http_outcome *o)
{
    floe_buf u;
    floe_buf_init(&u, 64 * 1024);
    char shown[1024];
    floe_sigv4 sig;
    floe_http_request req;
    floe_err err = floe_http_request_for(t, url, &u, shown, sizeof shown, &sig, &req);
    if (!err)
        err = floe_http_exists(t, &req, exists, o);
    floe_buf_free(&u);
    return err;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One request of floe_transport_get or floe_transport_exists: its
 * arguments, and what one attempt does. */
typedef struct attempt {
    const char *url;
    uint64_t offset, length;
    const floe_condition *cond;
    floe_buf *out; /* NULL: an existence check */
    int *exists;
} attempt;

static floe_err attempt_once(floe_transport *t, const attempt *a, floe_http_outcome *o)
{
    if (a->out)
        return http_get(t, a->url, a->offset, a->length, a->cond, a->out, o);
    return http_exists(t, a->url, a->exists, o);
}

/* An HTTP(S)/S3 request with its retries (retry.h): attempts until one
 * succeeds, fails for good, or the attempts or the budget run out, with a
 * wait (sleeping) between them. The error after more than one attempt
 * names the attempts and the time. */
static floe_err with_retries(floe_transport *t, const attempt *a)
{
    double t0 = now_s();
    for (int n = 1;; n++) {
        floe_http_outcome o;
        floe_err err = attempt_once(t, a, &o);
        if (!err)
            return NULL;
        floe_retry_verdict v = FLOE_RETRY_AGAIN;
        long wait = 0;
        if (floe_retry_transient(o.status, (int)o.curl_code, o.s3_code, o.truncated)) {
            long after = floe_retry_after_ms(o.retry_after, (int64_t)time(NULL));
            v = floe_retry_next(&t->retry, n, (long)((now_s() - t0) * 1e3), after,
                                floe_retry_random(&t->rng), &wait);
            if (v == FLOE_RETRY_AGAIN) {
                char line[1024];
                FLOE_DEBUG("retry %d of %d in %ld ms: %s", n, t->retry.max_attempts - 1, wait,
                           floe_err_line(err, line, sizeof line));
                floe_err_free(&err);
                sleep_ms(wait);
                t->stats.retries++;
                continue;
            }
        } else if (n == 1) {
            return err; /* not worth another attempt: as it was */
        }
        char what[1024 + 64], shown[1024], range[64];
        snprintf(what, sizeof what, "%s%s", floe_url_redact(a->url, shown, sizeof shown),
                 a->out ? floe_range_text(a->offset, a->length, range) : "");
        return floe_retry_final_error(err, what, n, now_s() - t0, v, &t->retry);
    }
}

floe_err floe_transport_get(floe_transport *t, const char *url, uint64_t offset,
                            uint64_t length, const floe_condition *cond, floe_buf *out)
{
    if (length && offset > UINT64_MAX - length) {
        char shown[512];
        t->stats.failures++;
        return FLOE_ERR(FLOE_EINVAL, "%s: range overflows (offset %" PRIu64 ", length %" PRIu64
                        ")", url ? floe_url_redact(url, shown, sizeof shown) : "(null)", offset,
                        length);
    }
    /* Whole objects may come from the attached cache (cache.c);
     * a conditional GET always goes out. */
    int whole = offset == 0 && length == 0 && !cond;
    floe_err err = NULL;
    if (whole && floe_transport_cache_get(t, url, out, &err))
        return err;
    size_t before = out->len;
    floe_url_kind kind;
    err = floe_url_kind_of(url, &kind);
    if (!err) {
        switch (kind) {
        case FLOE_URL_FILE: err = floe_file_get(t, url, offset, length, cond, out); break;
        case FLOE_URL_HTTP: /* s3:// too: floe_http_request_for signs it */
        case FLOE_URL_S3: {
            attempt a = {.url = url, .offset = offset, .length = length, .cond = cond,
                         .out = out};
            err = with_retries(t, &a);
            break;
        }
        }
    }
    if (err)
        t->stats.failures++;
    if (whole) {
        floe_err rec = floe_transport_cache_note_get(
            t, url, out->data ? out->data + before : NULL, out->len - before, err);
        if (rec && !err) {
            out->len = before; /* out is left as it was on error */
            err = rec;
        } else {
            floe_err_free(&rec);
        }
    }
    return err;
}

floe_err floe_transport_exists(floe_transport *t, const char *url, int *exists)
{
    *exists = 0;
    if (floe_transport_cache_exists(t, url, exists))
        return NULL;
    floe_url_kind kind;
    floe_err err = floe_url_kind_of(url, &kind);
    if (!err) {
        switch (kind) {
        case FLOE_URL_FILE: err = floe_file_exists(t, url, exists); break;
        case FLOE_URL_HTTP:
        case FLOE_URL_S3: {
            attempt a = {.url = url, .exists = exists};
            err = with_retries(t, &a);
            break;
        }
        }
    }
    if (err)
        t->stats.failures++;
    else
        err = floe_transport_cache_note_exists(t, url, *exists);
    return err;
}

void floe_transport_set_redirect_check(floe_transport *t, floe_redirect_check check, void *ctx)
{
    t->redirect_check = check;
    t->redirect_ctx = check ? ctx : NULL;
}

void floe_transport_stats(const floe_transport *t, floe_transport_counts *stats)
{
    *stats = t->stats;
    if (t->attached.obj && t->attached.add_counts)
        t->attached.add_counts(t->attached.obj, stats);
}

size_t floe_transport_max_object_bytes(const floe_transport *t)
{
    return t->max_object_bytes;
}

long floe_transport_stall_timeout_ms(const floe_transport *t)
{
    return t->stall_timeout_ms;
}

const floe_retry_policy *floe_transport_retry_policy(const floe_transport *t)
{
    return &t->retry;
}

floe_err floe_transport_attach(floe_transport *t, const floe_transport_attachment *a)
{
    if (!a || !a->obj || !a->free)
        return FLOE_ERR(FLOE_EINVAL, "transport: attaching nothing, or without a free function");
    if (t->attached.obj)
        return FLOE_ERR(FLOE_EINVAL, "transport: an object is attached already");
    t->attached = *a;
    return NULL;
}

void *floe_transport_attached(const floe_transport *t, void (*free_fn)(void *obj))
{
    return t->attached.obj && t->attached.free == free_fn ? t->attached.obj : NULL;
}
