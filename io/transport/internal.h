/* io/transport/internal.h - what io/transport*.c share: the transport object
 * and the entry points of the file and HTTP back ends. Not for other
 * layers: they use transport.h. The one exception is the concurrent range
 * fetcher (io/fetch*.c), which runs the same HTTP requests on its own
 * libcurl multi loop through the floe_http_xfer hooks at the end. */
#ifndef FLOE_TRANSPORT_INTERNAL_H
#define FLOE_TRANSPORT_INTERNAL_H

#include "io/transport/transport.h"

#include <curl/curl.h>

/* SigV4 material for one request (borrowed from the transport). */
typedef struct floe_sigv4 {
    const char *region;
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL: none */
} floe_sigv4;

struct floe_transport {
    long connect_timeout_ms;
    long stall_timeout_ms;
    size_t max_object_bytes;
    /* S3 settings resolved at creation (owned copies). */
    char *s3_endpoint; /* NULL: AWS */
    char *s3_region;
    int s3_path_style;
    /* Credentials (owned, wiped on free); NULL when anonymous. */
    char *aws_access_key;
    char *aws_secret_key;
    char *aws_session_token;
    char **extra_headers; /* owned, NULL-terminated; NULL: none */
    CURL *curl; /* created by the first HTTP request, reused (keep-alive) */
    floe_transport_counts stats;
    floe_object_cache *cache;          /* borrowed; NULL: none (transport_cache.c) */
    struct floe_fetcher *prefetcher;   /* owned; made by the first floe_transport_prefetch */
};

/* The cache side of floe_transport_get / floe_transport_exists
 * (transport_cache.c). cache_get: 1 when the cache answered (*err is the
 * answer: NULL with the bytes appended to out, or FLOE_ENOTFOUND), 0 when
 * the request must go out. cache_note_*: what went out, recorded when the
 * cache records; returns an error only for a cap or memory failure. */
int floe_transport_cache_get(floe_transport *t, const char *url, floe_buf *out, floe_err *err);
int floe_transport_cache_exists(floe_transport *t, const char *url, int *exists);
floe_err floe_transport_cache_note_get(floe_transport *t, const char *url, const uint8_t *data,
                                       size_t len, const floe_err result);
floe_err floe_transport_cache_note_exists(floe_transport *t, const char *url, int exists);
/* The prefetcher's counters added to s; freeing it (floe_transport_free). */
void floe_transport_prefetcher_add_counts(const floe_transport *t, floe_transport_counts *s);
void floe_transport_prefetcher_free(floe_transport *t);

/* One HTTP request as the back end sees it. */
typedef struct floe_http_request {
    const char *url;      /* the encoded http(s) URL that is sent */
    const char *shown;    /* the caller's URL for messages, already redacted */
    uint64_t offset;
    uint64_t length;      /* 0: to the end */
    const floe_condition *cond; /* may be NULL */
    const floe_sigv4 *sign;     /* NULL: anonymous */
    int is_s3;            /* no redirects; S3 error codes and bucket region in messages */
} floe_http_request;

floe_err floe_file_get(floe_transport *t, const char *url, uint64_t offset, uint64_t length,
                       const floe_condition *cond, floe_buf *out);
floe_err floe_file_exists(floe_transport *t, const char *url, int *exists);

floe_err floe_http_get(floe_transport *t, const floe_http_request *req, floe_buf *out);
floe_err floe_http_exists(floe_transport *t, const floe_http_request *req, int *exists);

/* Resolve the S3 settings of opts and read the credentials from the
 * environment into t (transport_s3.c); floe_s3_clear wipes and frees them. */
floe_err floe_s3_setup(floe_transport *t, const floe_s3_config *cfg);
void floe_s3_clear(floe_transport *t);

/* Map an http(s):// or s3:// url to the request the HTTP back end sends:
 * the encoded URL is appended to u (req->url points into it, so u must not
 * change until the request is done; the caller frees u), the redacted URL
 * for messages goes to shown, and sig is filled when the request is
 * signed. offset, length and cond are left 0 / NULL. Other URLs are
 * FLOE_EINVAL. t is only read. (transport.c; S3 in transport_s3.c) */
floe_err floe_http_request_for(const floe_transport *t, const char *url, floe_buf *u,
                               char *shown, size_t shown_size, floe_sigv4 *sig,
                               floe_http_request *req);
floe_err floe_s3_request_for(const floe_transport *t, const char *url, floe_buf *u, char *shown,
                             size_t shown_size, floe_sigv4 *sig, floe_http_request *req);

/* --- One GET on a caller's easy handle (for io/fetch/fetch.c) -------------------
 *
 * floe_http_xfer_begin resets the easy handle curl and sets it up for the
 * GET req into out (appended; out's cap applies), with every option,
 * header, callback and check of floe_transport_get: t's timeouts and extra
 * headers, conditions, SigV4. The caller runs the handle (e.g. in a multi
 * handle, whose connection cache then keeps connections alive), then calls
 * floe_http_xfer_end with the CURLcode it got, and finally
 * floe_http_xfer_free (also when the transfer was abandoned), which leaves
 * no secret and no dangling pointer in the handle. t, req and out are
 * borrowed until the free; the transport's counters are not touched.
 * floe_http_xfer_received (header and body bytes so far) lets the caller
 * see progress, e.g. for a stall timeout of its own. */
typedef struct floe_http_xfer floe_http_xfer;

/* What the answer was, for a retry decision. */
typedef struct floe_http_outcome {
    long status;       /* HTTP status of the last response; 0: none */
    CURLcode curl_code; /* how the transfer ended */
    char s3_code[64];  /* S3 error code of an error body ("SlowDown"), or "" */
    uint64_t bytes;    /* payload bytes appended to out */
} floe_http_outcome;

floe_err floe_http_xfer_begin(const floe_transport *t, const floe_http_request *req,
                              floe_buf *out, CURL *curl, floe_http_xfer **x);
/* NULL when out holds exactly the bytes asked for; otherwise the same
 * error floe_transport_get gives (out may then hold a partial payload). o
 * may be NULL. */
floe_err floe_http_xfer_end(floe_http_xfer *x, CURLcode rc, floe_http_outcome *o);
uint64_t floe_http_xfer_received(const floe_http_xfer *x);
void floe_http_xfer_free(floe_http_xfer **x);

/* " bytes=A-B", " bytes=A-" or "" (whole object): how messages name a
 * range. buf needs 64 bytes. Returns buf. */
char *floe_range_text(uint64_t offset, uint64_t length, char buf[64]);

#endif
