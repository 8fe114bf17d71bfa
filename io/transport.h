/* transport.h - fetching bytes by URL: file://, local paths, http(s)://,
 * s3:// (virtual-hosted or path style, anonymous or SigV4). The transport
 * knows nothing of Zarr, Icechunk or STAC: it moves byte ranges.
 *
 * One floe_transport per rank (not thread-safe; later issues add a
 * concurrent multi-request API beside floe_transport_get).
 */
#ifndef FLOE_TRANSPORT_H
#define FLOE_TRANSPORT_H

#include "common/floe_buf.h"
#include "common/floe_error.h"

#include <stdint.h>
#include <time.h>

typedef struct floe_transport floe_transport;

typedef struct floe_s3_config {
    const char *endpoint; /* e.g. "http://127.0.0.1:9000"; NULL: AWS_ENDPOINT_URL, else AWS */
    const char *region;   /* NULL: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1 */
    int anonymous;        /* 1: never sign; 0: sign with SigV4 when credentials exist */
    int path_style;       /* 1: http://endpoint/bucket/key; 0: virtual-hosted (default with
                             no endpoint); an endpoint override implies path style */
} floe_s3_config;

typedef struct floe_transport_opts {
    floe_s3_config s3;
    long connect_timeout_ms; /* 0: default 10 s */
    long stall_timeout_ms;   /* 0: default 30 s without progress */
    size_t max_object_bytes; /* cap for a whole-object GET; 0: 1 GiB */
} floe_transport_opts;

/* Preconditions of a GET: a source that changed since the snapshot is
 * FLOE_ECHECKSUM, never silently different bytes. */
typedef struct floe_condition {
    const char *etag;          /* If-Match: ETag (NULL: none) */
    int64_t unmodified_since;  /* If-Unmodified-Since: seconds since the epoch (0: none);
                                  for files: the mtime must be <= this */
} floe_condition;

floe_err floe_transport_new(const floe_transport_opts *opts, floe_transport **out);
void floe_transport_free(floe_transport **t);

/* GET bytes [offset, offset + length) of url into out (appended). length 0
 * means the whole object from offset. cond may be NULL. A short answer is
 * FLOE_EFORMAT ("short read"). Errors: FLOE_ENOTFOUND (404, no such file),
 * FLOE_EAUTH (401/403), FLOE_ECHECKSUM (412, file newer than the condition),
 * FLOE_ENET (DNS, refused, timeout, 5xx), FLOE_EINVAL (bad URL). The message
 * names the URL (never credentials) and the range. */
floe_err floe_transport_get(floe_transport *t, const char *url, uint64_t offset,
                            uint64_t length, const floe_condition *cond, floe_buf *out);

/* Does the object exist? *exists = 0 on 404/no such file, 1 if it does;
 * other failures are errors. */
floe_err floe_transport_exists(floe_transport *t, const char *url, int *exists);

#endif
