/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/fetch.h - concurrent byte-range fetching: one libcurl multi loop per
 * fetcher (one fetcher per rank), beside the one-request-at-a-time
 * floe_transport_get.
 *
 * The folder's role: io/fetch/ is the layer above io/transport/ (the only
 * folder it uses besides common/): many ranges and objects in flight at
 * once, with coalescing, retries and prefetching; it knows nothing of
 * Zarr or Icechunk. Files: fetch.c (life cycle, results), queue.c +
 * coalesce.c (ranges into requests), transfer.c (running them, with the
 * transport's retry policy, io/transport/retry.h), prefetch.c (whole
 * objects into the transport's cache, prefetch.h).
 *
 * The engine queues every chunk range of a work unit, then loops on
 * floe_fetch_next and decodes each range as it arrives while the others
 * are still on the wire:
 *
 *     for (i = 0; i < n; i++)
 *         FLOE_CHECK(floe_fetch_add(f, chunk[i].url, chunk[i].off, chunk[i].len,
 *                                   &chunk[i].cond, &chunk[i]));
 *     floe_fetch_result r;
 *     int more;
 *     for (;;) {
 *         FLOE_CHECK(floe_fetch_next(f, &r, &more));
 *         if (!more)
 *             break;
 *         if (r.err) {
 *             floe_fetcher_cancel(f);       // drop the rest of the work unit
 *             return r.err;                 // the caller owns it
 *         }
 *         decode(r.user, r.data, r.len);    // valid until the next call
 *     }
 *
 * What it does for the caller:
 * - At most `concurrency` HTTP requests in flight, on at most that many
 *   kept-alive connections per host (the multi handle's connection cache is
 *   shared by a small pool of easy handles).
 * - Coalescing: ranges of the same object with the same conditions that lie
 *   at most coalesce_max_gap bytes apart become one request of at most
 *   coalesce_max_bytes; each range still completes on its own with exactly
 *   its bytes. Ranges queued together are coalesced when transfers start
 *   (the next floe_fetch_next), so queue many, then poll. When only a few
 *   bytes are queued, requests are kept small enough (total / concurrency,
 *   but never below 1 MiB) that every connection gets work.
 * - Retries by the one policy of io/transport/retry.h, with the transport's
 *   settings (floe_transport_opts.retry) unless told otherwise: exponential
 *   backoff with full jitter, Retry-After honoured, a time budget per
 *   request, on 5xx (not 501/505), 408, 429, S3 SlowDown/RequestTimeout/
 *   throttling codes, timeouts, stalls, refused or reset connections and
 *   truncated bodies; never on 401/403, 404, 412, 416 or other 4xx. A coalesced request that fails with a
 *   short read (an object shorter than a range) is split again and each
 *   range fetched on its own, so coalescing never changes a result.
 * - file:// URLs and local paths go through the same queue, read with
 *   pread when their turn comes (no retries, no coalescing).
 *
 * Errors of one range arrive as floe_fetch_result.err: one line naming the
 * URL (redacted as in transport.h: never credentials, signatures or query
 * strings), the range, the number of attempts and the last error, with the
 * code of that error (FLOE_ENET, FLOE_ENOTFOUND, FLOE_ECHECKSUM, ...).
 *
 * Memory: at most 2 * concurrency transfers hold buffers (at most
 * `concurrency` in flight, the others complete but not yet consumed; no
 * transfer starts while that many are held), each the size of its
 * request: a range, or a coalesced request of at most coalesce_max_bytes.
 * So the bound is 2 * concurrency * max(coalesce_max_bytes,
 * the longest single range) (512 MiB with the defaults, and in practice the
 * sizes of the chunks), plus libcurl's receive buffer of 256 KiB per
 * request in flight. Queued ranges cost a few dozen bytes plus their URL.
 *
 * Not thread-safe: one fetcher is driven by one thread at a time.
 */
#ifndef FLOE_FETCH_H
#define FLOE_FETCH_H

#include "common/floe_error.h"
#include "io/transport/transport.h"

#include <stddef.h>
#include <stdint.h>

typedef struct floe_fetcher floe_fetcher;

/* 0 (or a zeroed struct, or NULL) means the default. */
typedef struct floe_fetch_opts {
    int concurrency;             /* requests in flight; default 16, at most 1024 */
    /* Merge ranges of one object whose gap is at most this many bytes.
     * Default 1 MiB: a separate request costs about one time to first byte
     * of a connection (S3: 20-50 ms) where reading the gap costs gap /
     * bandwidth of that connection (S3: 50-100 MB/s per connection); they
     * break even around 1-5 MB, so 1 MiB is on the safe side (it is also
     * object_store's default). FLOE_FETCH_NO_GAP: merge only ranges that
     * touch or overlap. */
    uint64_t coalesce_max_gap;
    uint64_t coalesce_max_bytes; /* cap of a merged request; default 16 MiB. Ranges
                                    longer than it are fetched alone, whole. */
    int no_coalesce;             /* 1: every range is its own request */
    floe_retry_policy retry;     /* attempts, backoff and budget per request
                                    (io/transport/retry.h); each zero field: the
                                    transport's (floe_transport_opts.retry) */
    long stall_timeout_ms;       /* a request with no byte (header or body) for this
                                    long, counted from when it is sent, is abandoned
                                    and retried; default: the transport's stall timeout
                                    (30 s unless set there) */
} floe_fetch_opts;

/* coalesce_max_gap meaning a gap of 0 bytes: merge only ranges that touch
 * or overlap (0 itself means the default). */
#define FLOE_FETCH_NO_GAP UINT64_MAX

typedef struct floe_fetch_result {
    void *user;          /* as given to floe_fetch_add */
    const uint8_t *data; /* the range's bytes, owned by the fetcher, valid until the next
                            floe_fetch_next / floe_fetcher_cancel / floe_fetcher_free;
                            NULL on error (and may be NULL for an empty range) */
    size_t len;          /* == the length asked for (or the object's rest for length 0) */
    floe_err err;        /* NULL, or this range's error: owned by the caller */
    uint64_t object_size; /* the whole object's size as the server's Content-Range gave it
                             (with data or with the error); UINT64_MAX: not given */
} floe_fetch_result;

/* Counters since floe_fetcher_new. */
typedef struct floe_fetch_stats {
    uint64_t ranges;          /* ranges queued with floe_fetch_add */
    uint64_t requests;        /* HTTP GETs sent (every attempt) and file reads */
    uint64_t bytes;           /* payload bytes received, gaps of coalesced requests included */
    uint64_t bytes_delivered; /* bytes handed out in results */
    uint64_t retries;         /* attempts after the first */
    uint64_t coalesced;       /* requests saved by coalescing: ranges served by a shared
                                 request minus the number of those requests */
    uint64_t splits;          /* coalesced requests split again after a short read */
    uint64_t new_connections; /* TCP connections opened */
    uint64_t failures;        /* ranges completed with an error */
    int max_in_flight;        /* most HTTP requests ever in flight at once */
    double wait_seconds;      /* time floe_fetch_next spent blocked waiting for the network */
} floe_fetch_stats;

/* The requests a fetcher with options o (NULL: the defaults) keeps in
 * flight at most: o->concurrency, or its default. */
int floe_fetch_concurrency(const floe_fetch_opts *o);

/* t is borrowed and must outlive the fetcher: its S3 settings, credentials,
 * timeouts, extra headers and whole-object cap apply to every request. The
 * fetcher never uses t's own connection, only its settings (and t's file
 * back end, whose counters count the file reads). o may be NULL. */
floe_err floe_fetcher_new(floe_transport *t, const floe_fetch_opts *o, floe_fetcher **out);
/* Abandons whatever is queued or in flight, frees everything, *f = NULL.
 * Safe on NULL. */
void floe_fetcher_free(floe_fetcher **f);

/* Queue the range [offset, offset + length) of url (length 0: to the end of
 * the object, capped by the transport's max_object_bytes; never coalesced).
 * url and cond are copied; cond may be NULL. user comes back in the result.
 * Fails at once only for a bad argument (NULL or unsupported URL, overflow,
 * FLOE_EINVAL / FLOE_EUNSUPPORTED) or out of memory; everything else comes
 * back as the result's error. */
floe_err floe_fetch_add(floe_fetcher *f, const char *url, uint64_t offset, uint64_t length,
                        const floe_condition *cond, void *user);
/* As floe_fetch_add, but the range gets one attempt whatever the retry
 * policy: for a hint whose failure a later request meets and retries (a
 * prefetch of a whole object), so that a failing store does not spend the
 * retry budget twice. Such ranges merge only with each other. */
floe_err floe_fetch_add_once(floe_fetcher *f, const char *url, uint64_t offset, uint64_t length,
                             const floe_condition *cond, void *user);

/* Drive the transfers and return one completed range (in any order),
 * blocking until one is complete. *more = 0 (and res zeroed) when nothing
 * is queued, in flight or waiting to be consumed. The return value is an
 * error of the fetcher itself (libcurl's multi interface failing, out of
 * memory), after which ranges may be lost: cancel or free the fetcher. The
 * range's own error is res->err. */
floe_err floe_fetch_next(floe_fetcher *f, floe_fetch_result *res, int *more);

/* Drive the transfers without blocking: plan what was queued since the
 * last call (as floe_fetch_next would: the same coalescing), start what
 * the concurrency allows and let libcurl move what is in flight. Nothing
 * is handed out (completed ranges wait for floe_fetch_next). For a
 * caller that queued ranges it will ask for later and has no reason to
 * wait now: their requests go out at once, not at its next wait. */
floe_err floe_fetch_poll(floe_fetcher *f);

/* Drop every queued, in-flight and unconsumed range (their results are
 * never returned); kept-alive connections stay. For an engine that stops
 * a work unit at its first error. */
void floe_fetcher_cancel(floe_fetcher *f);

void floe_fetcher_stats(const floe_fetcher *f, floe_fetch_stats *s);

/* --- planning without fetching (a dry run) --------------------------------- */

/* A range as floe_fetch_add takes it (strings borrowed). */
typedef struct floe_fetch_range {
    const char *url;
    uint64_t offset, length;
    floe_condition cond;
} floe_fetch_range;

/* What requests a plan sends; floe_fetch_plan_count adds to them. */
typedef struct floe_fetch_plan_totals {
    uint64_t ranges;   /* ranges planned */
    uint64_t requests; /* requests (coalesced ranges count once), as floe_fetch_stats counts
                          them when no attempt is retried or split */
    uint64_t bytes;    /* their payload bytes, gaps of coalesced requests included (a range
                          to the end of its object counts 0: its length is unknown) */
    uint64_t largest;  /* the longest request */
} floe_fetch_plan_totals;

/* Pure, no I/O: the requests that floe_fetch_next of a fetcher made with
 * options o (NULL: the defaults) would send for ranges[0..n) queued
 * together since its last call, by the same planning (local reads alone,
 * HTTP ranges of one object under the same conditions coalesced with the
 * same gap and cap rules), added to *t. Errors: a URL that
 * floe_fetch_add would refuse, out of memory. */
floe_err floe_fetch_plan_count(const floe_fetch_opts *o, const floe_fetch_range *ranges,
                               size_t n, floe_fetch_plan_totals *t);

#endif
