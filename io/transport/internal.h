/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/internal.h - what the files of io/transport/ share: the
 * transport object and the entry points of the file, HTTP and S3 back ends
 * and of the object cache. Not for other layers: they use transport.h, and
 * a layer that runs the transport's requests itself uses xfer.h. */
#ifndef FLOE_TRANSPORT_INTERNAL_H
#define FLOE_TRANSPORT_INTERNAL_H

#include "io/transport/transport.h"
#include "io/transport/xfer.h"

#include <curl/curl.h>

struct floe_transport {
    long connect_timeout_ms;
    long stall_timeout_ms;
    size_t max_object_bytes;
    floe_retry_policy retry; /* resolved */
    uint64_t rng;            /* the backoff's jitter */
    /* S3 settings resolved at creation (owned copies). */
    char *s3_endpoint; /* NULL: AWS */
    char *s3_region;
    int s3_path_style;
    /* Credentials (owned, wiped on free); NULL when anonymous. */
    char *aws_access_key;
    char *aws_secret_key;
    char *aws_session_token;
    int aws_withheld; /* the environment has credentials, but s3_endpoint is a document's
                         that may not have them (floe_s3_config.endpoint_from_document) */
    char **extra_headers; /* owned, NULL-terminated; NULL: none */
    CURL *curl; /* created by the first HTTP request, reused (keep-alive) */
    floe_transport_counts stats;
    floe_redirect_check redirect_check;  /* NULL: same origin only (http.c) */
    void *redirect_ctx;                  /* borrowed */
    floe_object_cache *cache;            /* borrowed; NULL: none (cache.c) */
    floe_transport_attachment attached;  /* obj NULL: none (xfer.h) */
};

/* The cache side of floe_transport_get / floe_transport_exists
 * (cache.c). cache_get: 1 when the cache answered (*err is the
 * answer: NULL with the bytes appended to out, or FLOE_ENOTFOUND), 0 when
 * the request must go out. cache_note_*: what went out, recorded when the
 * cache records; returns an error only for a cap or memory failure. */
int floe_transport_cache_get(floe_transport *t, const char *url, floe_buf *out, floe_err *err);
int floe_transport_cache_exists(floe_transport *t, const char *url, int *exists);
floe_err floe_transport_cache_note_get(floe_transport *t, const char *url, const uint8_t *data,
                                       size_t len, const floe_err result);
floe_err floe_transport_cache_note_exists(floe_transport *t, const char *url, int exists);

/* The file back end (file.c) and the HTTP back end (http.c, which S3
 * requests reach mapped by s3.c). */
floe_err floe_file_get(floe_transport *t, const char *url, uint64_t offset, uint64_t length,
                       const floe_condition *cond, floe_buf *out);
floe_err floe_file_exists(floe_transport *t, const char *url, int *exists);

/* One attempt each; o (not NULL) says how it ended, for the retry decision. */
floe_err floe_http_get(floe_transport *t, const floe_http_request *req, floe_buf *out,
                       floe_http_outcome *o);
floe_err floe_http_exists(floe_transport *t, const floe_http_request *req, int *exists,
                          floe_http_outcome *o);

/* A redirect answered to the request on c (request_url, shown + range in
 * messages): status and the Location header's value (n bytes). NULL when
 * libcurl may follow it (or the answer is known not to be a redirect: a
 * status outside 3xx); else
 * FLOE_EAUTH naming both URLs (t's redirect check refused the target, or
 * without one it is another origin), or FLOE_EINVAL for a location that
 * does not resolve. (redirect.c) */
floe_err floe_http_redirect_check(const floe_transport *t, CURL *c, long status,
                                  const char *location, size_t n, const char *request_url,
                                  const char *shown, const char *range);

/* Resolve the S3 settings of opts and read the credentials from the
 * environment into t (s3.c); floe_s3_clear wipes and frees them. */
floe_err floe_s3_setup(floe_transport *t, const floe_s3_config *cfg);
void floe_s3_clear(floe_transport *t);

/* floe_http_request_for (xfer.h) for an s3:// url (s3.c). */
floe_err floe_s3_request_for(const floe_transport *t, const char *url, floe_buf *u, char *shown,
                             size_t shown_size, floe_sigv4 *sig, floe_http_request *req);

#endif
