/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/internal.h - the pure part of the range fetcher (no I/O), shared by
 * the files of io/fetch/ and exposed for unit tests: range coalescing
 * (coalesce.c) and splitting a large object into parallel ranges (split.c). The retry policy is the transport's (io/transport/retry.h);
 * the fetcher's own state is in fetcher_internal.h. */
#ifndef FLOE_FETCH_INTERNAL_H
#define FLOE_FETCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* --- Coalescing (coalesce.c) ----------------------------------------------- */

typedef struct floe_coalesce_range {
    size_t object;   /* ranges merge only within one object: same URL and conditions */
    uint64_t offset;
    uint64_t length; /* 0: to the end of the object; such a range is never merged */
    size_t id;       /* the caller's, carried along */
} floe_coalesce_range;

/* One request: ranges r[first .. first + count) of the sorted array, all
 * inside [offset, offset + length). */
typedef struct floe_coalesce_span {
    size_t first, count;
    uint64_t offset, length;
} floe_coalesce_span;

/* Sort r by (object, offset, length, id) and group it greedily into spans:
 * the next range of the same object joins the current span when the gap
 * between them is at most max_gap bytes (overlapping and touching ranges
 * have no gap) and the span then stays within max_bytes. A range longer
 * than max_bytes is a span of its own. spans has room for n entries;
 * returns how many were written. Offsets + lengths must not overflow. */
size_t floe_coalesce(floe_coalesce_range *r, size_t n, uint64_t max_gap, uint64_t max_bytes,
                     floe_coalesce_span *spans);

/* The span cap to use for total_bytes queued at once: max_bytes, but no
 * more than total_bytes / concurrency (so that a few ranges do not become
 * one request on one connection while the others idle), and never below
 * FLOE_COALESCE_FLOOR (below that a request's latency, not its size,
 * dominates). */
#define FLOE_COALESCE_FLOOR ((uint64_t)1 << 20)
uint64_t floe_coalesce_cap(uint64_t max_bytes, uint64_t total_bytes, int concurrency);

/* --- Splitting (split.c) ------------------------------------------------------ */

/* The pieces of a large object of known size fetched in parallel (prefetch.c).
 * About FLOE_SPLIT_PIECE_BYTES each: a piece then costs about as long on the
 * wire as its time to first byte (S3: 20-50 ms, 50-100 MB/s per
 * connection), so the object arrives in about one round trip plus the
 * transfer of one piece; at most FLOE_SPLIT_MAX_PIECES of them (the
 * prefetcher's requests in flight), larger ones for a larger object, so
 * that any object is one wave. Icechunk does the same with larger pieces
 * (12 MiB, at most 18 per object), tuned for bandwidth, not latency. */
#define FLOE_SPLIT_PIECE_BYTES ((uint64_t)2 << 20)
enum { FLOE_SPLIT_MAX_PIECES = 16 };

/* How to split an object of `size` bytes into at most max_pieces ranges of
 * about piece_bytes: returns their number n (0 for an empty object) and sets
 * *piece to their length; range k is [k * piece, min(size, (k + 1) * piece)),
 * every one non-empty, together exactly [0, size). */
size_t floe_split_object(uint64_t size, uint64_t piece_bytes, size_t max_pieces,
                         uint64_t *piece);

#endif
