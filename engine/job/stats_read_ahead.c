/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_read_ahead.c - how far the stats job reads ahead: the
 * chunks it announces (floe_dataset_read_chunks_ahead) with each batch,
 * the batches after it in the order the rank reads them, across tile
 * boundaries, up to a window sized to keep the fetcher's requests in
 * flight. The dry run announces the same (dry_run_stats.c), so its plan
 * and the ref tables stay those of the run. */
#include "engine/job/stats_internal.h"

/* Chunks announced ahead per request the fetcher keeps in flight. A
 * batch is decoded while the next ones are on the wire; for the network
 * never to wait, the requests in flight must cover a round trip's worth
 * of decoding, and a new request must be ready whenever one completes,
 * also while the reader crosses from one tile to the next. One window of
 * `concurrency` chunks in flight and as many again arrived or queued
 * would do with steady decoding; 4 leaves room for a batch (8 chunks)
 * taken at once and for the chunks that wait, encoded, until asked for.
 * The window does not follow the measured latency on purpose: it is a
 * function of the job alone, so that a dry run plans the same requests
 * (coalescing depends on what is queued together) and the ref tables
 * hold every chunk read ahead; with the fetcher full, the latency costs
 * throughput only where concurrency / latency is below the decoding
 * rate (then --concurrency is the knob, and the window follows it). */
enum { AHEAD_PER_REQUEST = 4 };

/* The encoded bytes announced chunks may hold while they wait, bounded by
 * their decoded size (compressed chunks are smaller): with 64 MiB a whole
 * NLDAS-3 chunk (1.8 MB decoded) still gets 37 chunks ahead, twice the
 * default concurrency, and a rank's memory stays well below its batch of
 * values and trees on any real grid. */
#define AHEAD_BYTES ((uint64_t)64 << 20)

/* And at most this many chunks, whatever --concurrency says: the dataset
 * finds an announced chunk by a linear scan of its slots (readahead.c,
 * read_plan.c), each batch announcing up to the whole window, so the cost
 * per batch grows with the window's square; 256 keeps it to microseconds
 * per chunk and still covers a round trip of 20 ms at 12,800 chunks/s,
 * beyond what a node decodes. */
enum { AHEAD_MAX_CHUNKS = 256 };

size_t stats_ahead_window(const stats_job *j, size_t v)
{
    const floe_array *a = j->g.vars[v];
    uint64_t chunk = a->itemsize;
    for (int d = 0; d < a->ndim; d++)
        chunk *= a->chunk_shape[d];
    uint64_t w = (uint64_t)AHEAD_PER_REQUEST * (uint64_t)floe_dataset_fetch_concurrency(j->ds);
    if (chunk && w > AHEAD_BYTES / chunk)
        w = AHEAD_BYTES / chunk;
    if (w > AHEAD_MAX_CHUNKS)
        w = AHEAD_MAX_CHUNKS;
    return w < BATCH_STEPS ? BATCH_STEPS : (size_t)w; /* at least one batch, as ever */
}

/* The tile after tile i that `next` names, or ntiles. */
static size_t next_tile(const stats_job *j, const stats_next *next, size_t i)
{
    if (next->owner == STATS_NEXT_NONE)
        return j->plan.ntiles;
    for (i++; i < j->plan.ntiles; i++)
        if (next->owner == STATS_NEXT_ALL || j->plan.tiles[i].owner == next->owner)
            return i;
    return i;
}

size_t stats_ahead_coords(const stats_job *j, size_t i, size_t b1, size_t s1,
                          const stats_next *next, size_t max, uint64_t *out)
{
    uint64_t batch[3 * BATCH_STEPS];
    size_t n = 0, b = b1, e = s1;
    while (n < max && i < j->plan.ntiles) {
        if (b >= e) { /* the tile is done: the rank's next one, from its start */
            i = next_tile(j, next, i);
            b = next->s0, e = next->s1;
            continue;
        }
        size_t bb = b + BATCH_STEPS < e ? b + BATCH_STEPS : e;
        size_t m = stats_batch_coords(j, &j->plan.tiles[i], b, bb, batch);
        for (size_t k = 0; k < m && n < max; k++, n++)
            for (int d = 0; d < 3; d++)
                out[3 * n + d] = batch[3 * k + d];
        b = bb;
    }
    return n;
}
