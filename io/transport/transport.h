/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/transport.h - fetching bytes by URL: file://, local paths, http(s)://,
 * s3:// (virtual-hosted or path style, anonymous or SigV4), and the
 * whole-object cache that answers metadata GETs from memory.
 *
 * The folder's role: io/transport/ is the bottom of the data path. It moves
 * byte ranges, one request at a time, and knows nothing of fetch, Zarr,
 * Icechunk or STAC (it includes only common/). The concurrent range fetcher
 * and the prefetch into the object cache live above it, in io/fetch/,
 * and run its requests through the hooks of xfer.h. Files: transport.c
 * (the object, URL dispatch, the retries), retry.c (the retry policy,
 * retry.h), file.c, http.c, s3.c + url.c (the back ends and URL handling,
 * url.h), redirect.c (which redirects are followed), cache.c (the object
 * cache).
 *
 * One floe_transport per rank (not thread-safe). It keeps one HTTP
 * connection alive between requests.
 *
 * URLs name keys and paths verbatim: "s3://bucket/a b.nc" is the key
 * "a b.nc" and "/data/x%20y.nc" (or "file:///data/x%20y.nc") the file named
 * "x%20y.nc". The transport percent-encodes S3 keys for HTTP itself. An
 * http(s) URL is sent as given, except that characters never allowed in a
 * URL (space, controls, non-ASCII, "<>\"{}|\\^`") are percent-encoded.
 * Any other scheme is FLOE_EUNSUPPORTED.
 *
 * Credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 * are read once, by floe_transport_new, and sent (SigV4) only to AWS or to
 * an endpoint the user named (floe_s3_config.endpoint_from_document). They, the signatures made with
 * them, passwords in URLs and URL query strings (pre-signed URLs) never
 * appear in an error message or a log line.
 */
#ifndef FLOE_TRANSPORT_H
#define FLOE_TRANSPORT_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "io/transport/retry.h"

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
    int endpoint_from_document; /* 1: endpoint was named by a document (a STAC custom-s3
                             platform), not by the user. The credentials of the environment
                             are then sent only if it is an AWS endpoint
                             (floe_s3_endpoint_is_aws) or the one AWS_ENDPOINT_URL_S3 /
                             AWS_ENDPOINT_URL names; otherwise its requests go unsigned and
                             a 401/403 says why. The caller clears it for an endpoint the
                             user authorised (e.g. with --allow). */
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
    floe_retry_policy retry; /* retries of every HTTP(S)/S3 request, by retry.h's policy
                                (zeros: its defaults); the concurrent fetcher of io/fetch/
                                uses the same unless told otherwise */
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
    uint64_t requests;        /* GET + HEAD requests sent, every attempt (files: GETs and
                                 stats) */
    uint64_t bytes;           /* payload bytes delivered into callers' buffers */
    uint64_t new_connections; /* TCP connections opened (the rest reused a kept-alive one) */
    uint64_t failures;        /* calls (GET, existence check) that ended in an error, after
                                 their retries */
    uint64_t retries;         /* attempts after the first */
    uint64_t cache_hits;      /* whole-object GETs and existence checks answered by the
                                 attached object cache, without a request */
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
 * Errors: FLOE_ENOTFOUND (404, no such file), FLOE_EAUTH (401/403, a
 * refused redirect), FLOE_ECHECKSUM (412, file newer than the condition or
 * other ETag; also an answer whose own ETag or Last-Modified contradicts
 * cond, from a server that ignores the conditions),
 * FLOE_ENET (DNS, refused, timeout, 5xx, 429), FLOE_EINVAL (bad URL, other
 * 4xx, redirect of an s3:// request), FLOE_EUNSUPPORTED (scheme). The
 * message names the URL (never credentials) and the range.
 *
 * HTTP(S) and S3 requests are retried by opts.retry (retry.h: 5xx, 408,
 * 429, S3 throttling codes, resets, timeouts, truncated bodies; Retry-After
 * honoured; never other 4xx), sleeping between attempts; local files are
 * read once. After retries the error reads "URL range: gave up after N
 * attempts in T s: LAST ERROR" with the last error's code. */
floe_err floe_transport_get(floe_transport *t, const char *url, uint64_t offset,
                            uint64_t length, const floe_condition *cond, floe_buf *out);

/* Does the object exist? *exists = 0 on 404/no such file (or a directory),
 * 1 if it does; other failures are errors. Retried like a GET. */
floe_err floe_transport_exists(floe_transport *t, const char *url, int *exists);

/* Redirects. An s3:// request never follows one (for a GET of an object it
 * means a wrong region or endpoint, reported as such). An http(s) request
 * follows at most FLOE_MAX_REDIRECTS, each only when its target is
 * authorised: by check(ctx, from, to) when one is set (NULL: authorised;
 * an error: refused, and its message says why), otherwise only to the same
 * origin (scheme, host and port) as the URL redirected. A refused redirect
 * is FLOE_EAUTH naming both URLs; nothing is requested from the target.
 * from and to are absolute URLs as libcurl would request them. ctx is
 * borrowed: unset the check (NULL) before ctx dies. */
#define FLOE_MAX_REDIRECTS 3
typedef floe_err (*floe_redirect_check)(void *ctx, const char *from, const char *to);
void floe_transport_set_redirect_check(floe_transport *t, floe_redirect_check check, void *ctx);

/* Counters of t, including those of the object attached to it (xfer.h:
 * the prefetcher's requests). */
void floe_transport_stats(const floe_transport *t, floe_transport_counts *stats);

/* ---- The whole-object cache (cache.c) ---------------------------------------
 *
 * A set of whole objects, url -> bytes (or url -> "does not exist"), that a
 * transport answers whole-object GETs (offset 0, length 0) and existence
 * checks from, without a request. Range reads never touch it. It exists so
 * that metadata (a STAC document, a repository's repo/refs/config files,
 * snapshots, manifests) is read once per MPI job: one rank opens with the
 * cache recording, serializes what it fetched into one blob and broadcasts
 * it; the others preload the blob and open without a request:
 *
 *     floe_object_cache *c;                    // rank 0
 *     FLOE_CHECK(floe_object_cache_new(0, &c));
 *     floe_object_cache_record(c, 1);
 *     floe_transport_set_cache(t, c);
 *     ... whole-object GETs through t ...
 *     floe_buf blob;                           // then send blob.data, blob.len
 *     FLOE_CHECK(floe_object_cache_serialize(c, &blob));
 *
 *     FLOE_CHECK(floe_object_cache_preload(c2, data, len));   // other ranks
 *     floe_transport_set_cache(t2, c2);        // the same GETs: no request
 *
 * URLs are compared as given (byte for byte). Objects are taken to be
 * immutable for the cache's life, which is the life of one open.
 *
 * Entries are kept while the cache records; otherwise an entry whose bytes
 * a GET has taken is dropped (every metadata object is parsed once), so a
 * cache that only serves preloaded or prefetched objects does not hold a
 * second copy of them. Not thread-safe (like the transport).
 *
 * Bounded: the URLs and bytes it holds are at most max_bytes (default
 * FLOE_OBJECT_CACHE_MAX_BYTES); adding past that is FLOE_ENOMEM naming the
 * cap and the URL. */
#define FLOE_OBJECT_CACHE_MAX_BYTES ((size_t)1 << 30)

typedef struct floe_object_cache floe_object_cache;

/* max_bytes 0: FLOE_OBJECT_CACHE_MAX_BYTES. */
floe_err floe_object_cache_new(size_t max_bytes, floe_object_cache **out);
/* Frees c and sets *c = NULL. Safe on NULL. Detach it from transports first
 * (or free them first). */
void floe_object_cache_free(floe_object_cache **c);

/* on = 1: every whole-object GET and existence check that an attached
 * transport sends is added (a 404 as "does not exist"); on = 0: stop. */
void floe_object_cache_record(floe_object_cache *c, int on);
int floe_object_cache_recording(const floe_object_cache *c);
/* Forget every entry (recording state unchanged). */
void floe_object_cache_clear(floe_object_cache *c);
/* Forget url's entry, if any (recording state unchanged): an object read
 * in a recording open's wave that must not be in the blob (it is parsed
 * by this process only). */
void floe_object_cache_forget(floe_object_cache *c, const char *url);

/* Add (or replace) an object, or the fact that url does not exist. */
floe_err floe_object_cache_put(floe_object_cache *c, const char *url, const void *data,
                               size_t len);
floe_err floe_object_cache_put_absent(floe_object_cache *c, const char *url);

typedef enum floe_cache_state {
    FLOE_CACHE_MISS = 0, /* nothing known */
    FLOE_CACHE_BYTES,    /* the object's bytes (*data, *len borrowed, valid until the next
                            change of the cache) */
    FLOE_CACHE_ABSENT,   /* known not to exist */
    FLOE_CACHE_EXISTS,   /* known to exist (an existence check), bytes unknown */
} floe_cache_state;
floe_cache_state floe_object_cache_find(const floe_object_cache *c, const char *url,
                                        const uint8_t **data, size_t *len);

size_t floe_object_cache_count(const floe_object_cache *c); /* entries */
size_t floe_object_cache_bytes(const floe_object_cache *c); /* URL and object bytes held */

/* Every entry as one blob, appended to out (out is initialised here, capped
 * at the cache's cap plus the framing; the caller frees it). The format is
 * floe's own, for processes of one job (same build): "FLOEOBJ1", then a
 * u64 count, then per entry u8 state, u32 URL length, u64 byte count, the
 * URL, the bytes; integers little-endian, entries sorted by URL. */
floe_err floe_object_cache_serialize(const floe_object_cache *c, floe_buf *out);
/* Add the entries of a serialized blob (replacing entries with the same
 * URL). A truncated or malformed blob is FLOE_EFORMAT, one past the cap
 * FLOE_ENOMEM; either way c is left as it was. */
floe_err floe_object_cache_preload(floe_object_cache *c, const void *blob, size_t len);

/* Attach c to t (borrowed; NULL detaches): whole-object GETs and existence
 * checks of URLs c knows are answered from it (counted as cache_hits, not
 * requests); those that go out are added to c while it records. */
void floe_transport_set_cache(floe_transport *t, floe_object_cache *c);
/* The cache attached to t (borrowed), or NULL. A layer above fills it with
 * floe_object_cache_put (io/fetch/prefetch.h). */
floe_object_cache *floe_transport_cache(const floe_transport *t);

#endif
