/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/prefetch.h - concurrent prefetching of whole objects into a
 * transport's object cache (transport.h), so that the sequential
 * whole-object GETs of the metadata readers that follow (Icechunk
 * repo, refs, snapshots, manifests; STAC documents) are answered from
 * memory: n dependent round trips become one.
 *
 * The prefetcher is a fetcher (fetch.h) made by the first prefetch on a
 * transport and attached to it (xfer.h): it lives as long as the
 * transport, keeps its connections alive from one prefetch to the next,
 * and its requests count in floe_transport_stats (each range of an object
 * fetched in ranges counts as one request).
 *
 * Large objects of known size (floe_prefetch_sized) are fetched as
 * parallel ranges, as Icechunk fetches them: a 20 MB manifest then costs
 * about one round trip on a high-latency link, not its transfer time on
 * one connection (io/fetch/internal.h, floe_split_object, says how it is
 * split). Where the size is not known, the object is read whole: the
 * objects read without a size (repo file, snapshots, refs) are small, and
 * learning the size first (a ranged first GET whose Content-Range tells it)
 * would cost them nothing but large objects would wait one more round trip.
 */
#ifndef FLOE_PREFETCH_H
#define FLOE_PREFETCH_H

#include "common/floe_error.h"
#include "io/transport/transport.h"

#include <stddef.h>

/* Fetch the whole objects urls[0..n) concurrently (HTTP and S3; local
 * files and URLs the cache already knows are skipped) into t's cache. A
 * hint: an object that exists is added, one that does not is added as
 * absent, and any other failure is left for the GET that follows to meet
 * and report (so it reports exactly what it would have without the
 * prefetch). Without a cache attached to t it does nothing. Errors: out of
 * memory, or past the cache's cap while recording. */
floe_err floe_prefetch(floe_transport *t, const char *const *urls, size_t n);

/* Objects of at least this many bytes, when their size is known, are
 * fetched in parallel ranges; smaller ones whole (below two pieces of
 * FLOE_SPLIT_PIECE_BYTES a split saves less than a request costs). */
#define FLOE_PREFETCH_RANGED_MIN_BYTES ((uint64_t)4 << 20)

/* As floe_prefetch, with the objects' sizes where known (sizes NULL, or
 * sizes[i] 0: unknown): an object of at least FLOE_PREFETCH_RANGED_MIN_BYTES
 * is fetched in parallel ranges of [0, sizes[i]) and put together. Unlike a
 * whole object, such an object is not only a hint: its ranges are retried
 * by the transport's policy, and one that fails for good fails the prefetch
 * with its error (one line naming the URL and the range; FLOE_ENET,
 * FLOE_EFORMAT, ...), after which nothing more of this call is cached. An
 * object that does not exist (HTTP 404) is added as absent, as whole
 * objects are. Errors: as floe_prefetch, and those of the ranges. */
floe_err floe_prefetch_sized(floe_transport *t, const char *const *urls, const uint64_t *sizes,
                             size_t n);

#endif
