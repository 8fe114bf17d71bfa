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
 * and its requests count in floe_transport_stats.
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

#endif
