/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/readahead.c - batched chunk reads of a floe_dataset
 * (floe_dataset_read_chunks[_ahead]): the virtual chunks of a batch are
 * queued on the dataset's fetcher and decoded as they arrive, and the next
 * batch's are requested behind them (read-ahead). With a pool of more than
 * one worker the chunks are decoded there (decode_tasks.c) while this
 * thread keeps the fetcher going. */
#include "dataset/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Decode encoded bytes of chunk `index` of a batch and hand them to fn. */
static floe_err deliver(floe_dataset *ds, const dataset_array *a, const uint8_t *bytes, size_t n,
                        size_t index, floe_chunk_fn fn, void *ctx)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FLOE_CHECK(zarr_chunk_decode(ds->decoder, a->meta, bytes, n, ds->decoded));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ds->io.decode_seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ds->io.chunks++;
    ds->io.encoded_bytes += n;
    ds->io.decoded_bytes += zarr_chunk_nbytes(a->meta);
    return fn(ctx, index, ds->decoded);
}

/* ---- read-ahead ----------------------------------------------------------
 * A caller that reads in batches names its next batch with the current one
 * (floe_dataset_read_chunks_ahead): those chunks are requested right after
 * the current ones, so the network works on batch k+1 while batch k is
 * decoded and reduced, and a batch no longer starts with an idle round
 * trip. What arrives before it is asked for waits here, encoded. */
enum { AHEAD_FREE = 0, AHEAD_FLIGHT, AHEAD_READY };

typedef struct ahead_slot {
    const dataset_array *a;
    uint64_t coord[FLOE_MAX_DIMS];
    int state;
    size_t want;       /* FLIGHT: index in the current batch, or SIZE_MAX */
    uint8_t *bytes;    /* READY: the encoded chunk (owned) */
    size_t len;
    floe_err err;      /* READY: its error instead (owned) */
} ahead_slot;

/* fetch user values: batch index i as (i << 1), ahead slot k as (k << 1 | 1) */
#define USER_OF(i, slot) ((void *)(uintptr_t)(((uintptr_t)(i) << 1) | (uintptr_t)(slot)))

static void ahead_release(ahead_slot *s)
{
    free(s->bytes);
    floe_err_free(&s->err);
    memset(s, 0, sizeof *s);
}

void dataset_ahead_clear(floe_dataset *ds)
{
    for (size_t k = 0; k < ds->nahead; k++)
        ahead_release(&ds->ahead[k]);
    ds->nahead = 0;
}

static ahead_slot *ahead_find(floe_dataset *ds, const dataset_array *a, const uint64_t *c)
{
    for (size_t k = 0; k < ds->nahead; k++) {
        ahead_slot *s = &ds->ahead[k];
        if (s->state != AHEAD_FREE && s->a == a &&
            !memcmp(s->coord, c, (size_t)a->pub.ndim * sizeof *c))
            return s;
    }
    return NULL;
}

static ahead_slot *ahead_new(floe_dataset *ds)
{
    for (size_t k = 0; k < ds->nahead; k++)
        if (ds->ahead[k].state == AHEAD_FREE)
            return &ds->ahead[k];
    if (ds->nahead == ds->ahead_cap) {
        size_t cap = ds->ahead_cap ? 2 * ds->ahead_cap : 64;
        ahead_slot *p = realloc(ds->ahead, cap * sizeof *p);
        if (!p)
            return NULL;
        ds->ahead = p;
        ds->ahead_cap = cap;
    }
    ahead_slot *s = &ds->ahead[ds->nahead++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Queue the virtual chunks among coords[0..n) for later (best effort: a
 * chunk that cannot be looked up or resolved is simply read when asked
 * for, and fails then with its own error). */
static void ahead_queue(floe_dataset *ds, dataset_array *a, const uint64_t *coords,
                        size_t n)
{
    int ndim = a->pub.ndim;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = coords + i * (size_t)ndim;
        if (ahead_find(ds, a, c))
            continue;
        ic_chunk_ref ref;
        floe_err err = dataset_lookup(ds, a, c, &ref);
        char *url = NULL;
        if (!err && ref.kind == IC_CHUNK_VIRTUAL)
            err = virtual_policy_resolve(ds->policy, ref.location, &url);
        ahead_slot *s = !err && url ? ahead_new(ds) : NULL;
        if (s) {
            floe_condition cond = {.etag = ref.etag, .unmodified_since = ref.last_modified};
            s->a = a;
            memcpy(s->coord, c, (size_t)ndim * sizeof *c);
            s->state = AHEAD_FLIGHT;
            s->want = SIZE_MAX;
            err = floe_fetch_add(ds->fetcher, url, ref.offset, ref.length, &cond,
                                 USER_OF(s - ds->ahead, 1));
            if (err)
                ahead_release(s);
        }
        floe_err_free(&err);
        free(url);
    }
}

floe_err floe_dataset_read_chunks(floe_dataset *ds, const floe_array *array,
                                  const uint64_t *coords, size_t n, floe_chunk_fn fn, void *ctx)
{
    return floe_dataset_read_chunks_ahead(ds, array, coords, n, NULL, 0, fn, ctx);
}

/* One batch in progress: with a pool of more than one worker (pooled) the
 * chunks are decoded there (decode_tasks.c) and this thread only drives
 * the fetcher; with one worker each is decoded here, at once. */
typedef struct batch_run {
    floe_dataset *ds;
    const dataset_array *a;
    const uint64_t *coords;
    floe_chunk_fn fn;
    void *ctx;
    int pooled;
    atomic_int failed; /* a pooled task failed: stop fetching */
} batch_run;

static const uint64_t *coord_of(const batch_run *b, size_t i)
{
    return b->coords + i * (size_t)b->a->pub.ndim;
}

/* Chunk i's encoded bytes (or, pooled, *owned taken instead of a copy) to fn. */
static floe_err hand_over(batch_run *b, size_t i, const uint8_t *bytes, size_t len,
                          uint8_t **owned)
{
    if (!b->pooled)
        return deliver(b->ds, b->a, bytes, len, i, b->fn, b->ctx);
    return dataset_decode_submit(b->ds, b->a, i, coord_of(b, i), bytes, len, owned, 0, NULL,
                                 b->fn, b->ctx, &b->failed);
}

/* Chunk i failed before decoding (err owned): at once, or pooled as a task
 * of its own, so that the error returned is the first in submission
 * order whatever the workers' timing. */
static floe_err hand_failure(batch_run *b, size_t i, floe_err err)
{
    if (!b->pooled)
        return err;
    return dataset_decode_submit(b->ds, b->a, i, coord_of(b, i), NULL, 0, NULL, 0, err, b->fn,
                                 b->ctx, &b->failed);
}

/* Chunk i has no stored object: the fill value. */
static floe_err hand_fill(batch_run *b, size_t i)
{
    if (b->pooled)
        return dataset_decode_submit(b->ds, b->a, i, coord_of(b, i), NULL, 0, NULL, 1, NULL,
                                     b->fn, b->ctx, &b->failed);
    zarr_chunk_fill(b->a->meta, b->ds->decoded);
    b->ds->io.chunks++;
    return b->fn(b->ctx, i, b->ds->decoded);
}

static int batch_going(batch_run *b, floe_err err)
{
    return !err && !atomic_load(&b->failed);
}

floe_err floe_dataset_read_chunks_ahead(floe_dataset *ds, const floe_array *array,
                                        const uint64_t *coords, size_t n, const uint64_t *ahead,
                                        size_t nahead, floe_chunk_fn fn, void *ctx)
{
    dataset_array *a = dataset_array_of(array);
    if (a->unreadable)
        return FLOE_ERR(a->unreadable_code, "array %s: %s", array->name, a->unreadable);
    if (!dataset_uses_table(ds, a))
        FLOE_CHECK(dataset_load_manifests_for(ds, a, coords, n, ahead, nahead));
    size_t need = zarr_chunk_nbytes(a->meta);
    batch_run b = {ds, a, coords, fn, ctx, floe_pool_workers(ds->pool) > 1, 0};
    if (b.pooled) {
        FLOE_CHECK(dataset_workers_ready(ds, need), "array %s", array->name);
    } else if (need > ds->decoded_size) {
        uint8_t *p = realloc(ds->decoded, need);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "a decoded chunk of %s (%zu bytes)", array->name, need);
        ds->decoded = p;
        ds->decoded_size = need;
    }
    if (!ds->fetcher) {
        floe_fetch_opts o = ds->fetch_opts;
        FLOE_CHECK(floe_fetcher_new(ds->t, &o, &ds->fetcher));
    }
    floe_err err = NULL;
    int ndim = array->ndim;
    size_t waiting = 0; /* chunks of this batch still to arrive */
    /* Queue every virtual chunk first (so the fetcher can coalesce and keep
     * its connections busy); the others need no network and go at once.
     * Chunks read ahead by the previous call are taken as they are. */
    for (size_t i = 0; i < n && batch_going(&b, err); i++) {
        const uint64_t *c = coords + i * (size_t)ndim;
        ahead_slot *slot = ahead_find(ds, a, c);
        if (slot && slot->state == AHEAD_FLIGHT) {
            slot->want = i;
            waiting++;
            continue;
        }
        if (slot) { /* READY */
            err = slot->err;
            slot->err = NULL;
            if (err)
                err = hand_failure(&b, i, err);
            else
                err = hand_over(&b, i, slot->bytes, slot->len, &slot->bytes);
            ahead_release(slot);
        } else {
            ic_chunk_ref ref;
            err = dataset_lookup(ds, a, c, &ref);
            if (!err && ref.kind == IC_CHUNK_VIRTUAL) {
                char *url = NULL;
                err = virtual_policy_resolve(ds->policy, ref.location, &url);
                floe_condition cond = {.etag = ref.etag, .unmodified_since = ref.last_modified};
                if (!err)
                    err = floe_fetch_add(ds->fetcher, url, ref.offset, ref.length, &cond,
                                         USER_OF(i, 0));
                free(url);
                waiting += !err;
            } else if (!err && ref.kind == IC_CHUNK_MISSING) {
                err = hand_fill(&b, i);
            } else if (!err) {
                floe_buf_reset(&ds->encoded);
                const uint8_t *bytes = ref.inline_data;
                size_t len = ref.inline_len;
                if (ref.kind == IC_CHUNK_NATIVE) {
                    err = ic_read_stored_chunk(ds->repo, &ref, &ds->encoded);
                    bytes = ds->encoded.data;
                    len = ds->encoded.len;
                }
                if (!err)
                    err = hand_over(&b, i, bytes, len, NULL);
            }
        }
        err = dataset_name_chunk(err, a, c);
    }
    if (batch_going(&b, err) && nahead) {
        ahead_queue(ds, a, ahead, nahead);
        uint64_t held = 0;
        for (size_t k = 0; k < ds->nahead; k++)
            held += ds->ahead[k].state != AHEAD_FREE && ds->ahead[k].want == SIZE_MAX;
        if (held > ds->io.ahead_chunks)
            ds->io.ahead_chunks = held;
    }
    /* A batch read ahead in full waits for nothing: what it queued goes
     * out now all the same (not at the next wait, with the next batch's
     * ranges: read_plan.c plans every call's queue in that call). */
    if (batch_going(&b, err) && !waiting)
        err = floe_fetch_poll(ds->fetcher);
    while (batch_going(&b, err) && waiting) {
        floe_fetch_result r;
        int more = 0;
        err = floe_fetch_next(ds->fetcher, &r, &more);
        if (err || !more)
            break;
        uintptr_t u = (uintptr_t)r.user;
        size_t i = (size_t)(u >> 1);
        if (u & 1) {
            ahead_slot *slot = &ds->ahead[i];
            if (slot->want == SIZE_MAX) { /* for a later batch: keep it */
                slot->state = AHEAD_READY;
                slot->err = r.err;
                if (!r.err && r.len) {
                    slot->bytes = malloc(r.len);
                    if (!slot->bytes)
                        slot->err = FLOE_ERR(FLOE_ENOMEM, "a chunk read ahead (%zu bytes)",
                                             r.len);
                    else
                        memcpy(slot->bytes, r.data, r.len);
                }
                slot->len = r.len;
                continue;
            }
            i = slot->want;
            ahead_release(slot);
        }
        waiting--;
        /* pooled: r.data is copied, it lives only until the next floe_fetch_next */
        err = r.err ? hand_failure(&b, i, r.err) : hand_over(&b, i, r.data, r.len, NULL);
        err = dataset_name_chunk(err, a, coords + i * (size_t)ndim);
    }
    if (b.pooled) { /* an earlier chunk's error comes first (submission order) */
        floe_err first = floe_pool_wait(ds->pool);
        dataset_workers_merge_io(ds);
        if (first) {
            floe_err_free(&err);
            err = first;
        }
    }
    if (err) {
        floe_fetcher_cancel(ds->fetcher);
        dataset_ahead_clear(ds);
    }
    return err;
}
