/* transport.h - fetching bytes by URL: file://, local paths, http(s)://,
 * s3:// (virtual-hosted or path style, anonymous or SigV4). The transport
 * knows nothing of Zarr, Icechunk or STAC: it moves byte ranges.
 *
 * One floe_transport per rank (not thread-safe; later issues add a
 * concurrent multi-request API beside floe_transport_get). It keeps one
 * HTTP connection alive between requests.
 *
 * URLs name keys and paths verbatim: "s3://bucket/a b.nc" is the key
 * "a b.nc" and "/data/x%20y.nc" (or "file:///data/x%20y.nc") the file named
 * "x%20y.nc". The transport percent-encodes S3 keys for HTTP itself. An
 * http(s) URL is sent as given, except that characters never allowed in a
 * URL (space, controls, non-ASCII, "<>\"{}|\\^`") are percent-encoded.
 * Any other scheme is FLOE_EUNSUPPORTED.
 *
 * Credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 * are read once, by floe_transport_new. They, the signatures made with
 * them, passwords in URLs and URL query strings (pre-signed URLs) never
 * appear in an error message or a log line.
 */
#ifndef FLOE_TRANSPORT_H
#define FLOE_TRANSPORT_H

#include "common/floe_buf.h"
#include "common/floe_error.h"

#include <stdint.h>
#include <time.h>

typedef struct floe_transport floe_transport;

typedef struct floe_s3_config {
    const char *endpoint; /* e.g. "http://127.0.0.1:9000"; NULL: AWS_ENDPOINT_URL_S3,
                             else AWS_ENDPOINT_URL, else AWS */
    const char *region;   /* NULL: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1 */
    int anonymous;        /* 1: never sign; 0: sign with SigV4 when credentials exist */
    int path_style;       /* 1: http://endpoint/bucket/key; 0: virtual-hosted (default with
                             no endpoint); an endpoint override implies path style. Buckets
                             that are not DNS-safe (dots, capitals, '_') use path style. */
} floe_s3_config;

typedef struct floe_transport_opts {
    floe_s3_config s3;       /* strings are copied by floe_transport_new */
    long connect_timeout_ms; /* 0: default 10 s */
    long stall_timeout_ms;   /* 0: default 30 s without progress (whole seconds on HTTP,
                                rounded up) */
    size_t max_object_bytes; /* cap for a GET of length 0 (to the end); 0: 1 GiB */
    const char *const *extra_headers; /* NULL-terminated "Name: value" lines sent with every
                                         HTTP(S)/S3 request (copied; e.g. the stand-in's
                                         x-floe-fail in fault tests); NULL: none */
} floe_transport_opts;

/* Preconditions of a GET: a source that changed since the snapshot is
 * FLOE_ECHECKSUM, never silently different bytes. */
typedef struct floe_condition {
    const char *etag;          /* If-Match: ETag, quoted or not (NULL: none). Local files
                                  have object_store's ETag "<inode>-<mtime us>-<size>" (hex) */
    int64_t unmodified_since;  /* If-Unmodified-Since: seconds since the epoch (0: none);
                                  for files: the mtime must be <= this */
} floe_condition;

/* Counters since floe_transport_new, for --report and tests. */
typedef struct floe_transport_counts {
    uint64_t requests;        /* GET + HEAD requests sent (files: GETs and stats) */
    uint64_t bytes;           /* payload bytes delivered into callers' buffers */
    uint64_t new_connections; /* TCP connections opened (the rest reused a kept-alive one) */
    uint64_t failures;        /* requests that ended in an error */
} floe_transport_counts;

/* opts may be NULL (all defaults). The first call also initialises libcurl
 * for the process (once, thread-safe via pthread_once); floe never calls
 * curl_global_cleanup: the process ends first. */
floe_err floe_transport_new(const floe_transport_opts *opts, floe_transport **out);
/* Frees t, wipes the credentials it holds and sets *t = NULL. Safe on NULL. */
void floe_transport_free(floe_transport **t);

/* GET bytes [offset, offset + length) of url into out (appended; out is
 * left as it was on error). length 0 means the whole object from offset,
 * capped at opts.max_object_bytes; out's own cap applies as well
 * (FLOE_ENOMEM). cond may be NULL. Fewer bytes than asked, or a range
 * beyond the end of the object, is FLOE_EFORMAT ("short read").
 * Errors: FLOE_ENOTFOUND (404, no such file), FLOE_EAUTH (401/403),
 * FLOE_ECHECKSUM (412, file newer than the condition or other ETag),
 * FLOE_ENET (DNS, refused, timeout, 5xx, 429), FLOE_EINVAL (bad URL, other
 * 4xx, redirect of an s3:// request), FLOE_EUNSUPPORTED (scheme). The
 * message names the URL (never credentials) and the range. */
floe_err floe_transport_get(floe_transport *t, const char *url, uint64_t offset,
                            uint64_t length, const floe_condition *cond, floe_buf *out);

/* Does the object exist? *exists = 0 on 404/no such file (or a directory),
 * 1 if it does; other failures are errors. */
floe_err floe_transport_exists(floe_transport *t, const char *url, int *exists);

void floe_transport_stats(const floe_transport *t, floe_transport_counts *stats);

#endif
