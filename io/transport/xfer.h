/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/xfer.h - what a layer above the transport needs to run the
 * transport's HTTP requests itself, on its own libcurl multi loop (the
 * concurrent range fetcher, io/fetch/): the request a URL maps to, one GET
 * on a caller's easy handle with every check of floe_transport_get, the
 * transport's settings, and one slot where such a layer keeps an object
 * that lives and counts with the transport (io/fetch/'s prefetcher).
 *
 * The transport knows nothing of who uses this header: it only maps URLs,
 * sets up and checks requests, and frees and counts what is attached.
 */
#ifndef FLOE_TRANSPORT_XFER_H
#define FLOE_TRANSPORT_XFER_H

#include "io/transport/transport.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* SigV4 material for one request (borrowed from the transport). */
typedef struct floe_sigv4 {
    const char *region;
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL: none */
} floe_sigv4;

/* One HTTP request as the back end sees it. */
typedef struct floe_http_request {
    const char *url;      /* the encoded http(s) URL that is sent */
    const char *shown;    /* the caller's URL for messages, already redacted */
    uint64_t offset;
    uint64_t length;      /* 0: to the end */
    const floe_condition *cond; /* may be NULL */
    const floe_sigv4 *sign;     /* NULL: anonymous */
    int is_s3;            /* no redirects; S3 error codes and bucket region in messages */
    const char *withheld_from; /* unsigned because the credentials of the environment may
                                  not go to this endpoint (a document's): a 401/403 says so */
} floe_http_request;

/* Map an http(s):// or s3:// url to the request the HTTP back end sends:
 * the encoded URL is appended to u (req->url points into it, so u must not
 * change until the request is done; the caller frees u), the redacted URL
 * for messages goes to shown, and sig is filled when the request is
 * signed. offset, length and cond are left 0 / NULL. Other URLs are
 * FLOE_EINVAL. t is only read. (transport.c; S3 in s3.c) */
floe_err floe_http_request_for(const floe_transport *t, const char *url, floe_buf *u,
                               char *shown, size_t shown_size, floe_sigv4 *sig,
                               floe_http_request *req);

/* --- One GET on a caller's easy handle (http.c) ---------------------------
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

/* What the answer was, for a retry decision (floe_retry_transient). */
typedef struct floe_http_outcome {
    long status;       /* HTTP status of the last response; 0: none */
    CURLcode curl_code; /* how the transfer ended */
    char s3_code[64];  /* S3 error code of an error body ("SlowDown"), or "" */
    uint64_t bytes;    /* payload bytes appended to out */
    int truncated;     /* the body ended before the length its own headers announced */
    char retry_after[64]; /* the Retry-After header's value, or "" */
    uint64_t object_size; /* the object's whole size as its Content-Range gave it (a 206's
                             "bytes A-B/N", a 416's "bytes * /N"); UINT64_MAX: not given */
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

/* --- The transport's settings (transport.c) ------------------------------- */

/* The cap of a GET of length 0 (floe_transport_opts.max_object_bytes,
 * resolved), the stall timeout in milliseconds (resolved) and the retry
 * policy (floe_transport_opts.retry, resolved; borrowed). */
size_t floe_transport_max_object_bytes(const floe_transport *t);
long floe_transport_stall_timeout_ms(const floe_transport *t);
const floe_retry_policy *floe_transport_retry_policy(const floe_transport *t);

/* --- An object attached to the transport (transport.c) --------------------
 *
 * A layer above may attach one object to a transport that must live as
 * long as the transport and whose requests count as the transport's (the
 * prefetcher of io/fetch/prefetch.c, made by the first prefetch):
 * floe_transport_free calls free(obj), floe_transport_stats calls
 * add_counts(obj, stats) (NULL: nothing to add). One slot: attaching where
 * an object is already attached is FLOE_EINVAL. */
typedef struct floe_transport_attachment {
    void *obj;                                                    /* owned by t once attached */
    void (*free)(void *obj);                                      /* not NULL */
    void (*add_counts)(const void *obj, floe_transport_counts *s); /* may be NULL */
} floe_transport_attachment;

floe_err floe_transport_attach(floe_transport *t, const floe_transport_attachment *a);
/* The object attached with this free function (which names its kind), or
 * NULL: borrowed. */
void *floe_transport_attached(const floe_transport *t, void (*free_fn)(void *obj));

#endif
