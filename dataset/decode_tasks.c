/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/decode_tasks.c - the chunks of a batched read decoded on the
 * dataset's worker pool (a pool of more than one worker; readahead.c keeps
 * driving the fetcher in the calling thread and hands each chunk here).
 *
 * Each worker has its own decoder and decoded buffer, so tasks share
 * nothing but the caller's fn (which, by floe_chunk_fn's contract, writes
 * only its index's part). A task owns a copy of its encoded bytes: a fetch
 * result is valid only until the next floe_fetch_next. The dataset's
 * counters are kept per worker and added up after the batch's wait, so
 * they are exact without atomics. */
#include "dataset/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dataset_worker {
    zarr_decoder *decoder;
    uint8_t *decoded;
    size_t decoded_size;
    floe_dataset_io io; /* chunks, encoded_bytes, decoded_bytes, decode_seconds */
};

struct dataset_decode_task {
    floe_dataset *ds;
    const dataset_array *a;
    floe_chunk_fn fn;
    void *ctx;
    uint8_t *bytes; /* owned */
    size_t len;
    int fill;       /* no stored object: the fill value */
    floe_err err;   /* known before decoding (a failed fetch): the task's result */
    const uint64_t *coord; /* borrowed: the caller's, alive until the wait */
    atomic_int *failed;    /* set when a task fails: the producer stops */
};

floe_err dataset_workers_ready(floe_dataset *ds, size_t need)
{
    int n = floe_pool_workers(ds->pool);
    if (!ds->workers) {
        ds->workers = calloc((size_t)n, sizeof *ds->workers);
        if (!ds->workers)
            return FLOE_ERR(FLOE_ENOMEM, "the scratch of %d workers", n);
        ds->nworkers = n;
    }
    for (int w = 0; w < ds->nworkers; w++) {
        dataset_worker *k = &ds->workers[w];
        if (!k->decoder)
            FLOE_CHECK(zarr_decoder_new(&k->decoder));
        if (need > k->decoded_size) {
            uint8_t *p = realloc(k->decoded, need);
            if (!p)
                return FLOE_ERR(FLOE_ENOMEM, "a decoded chunk of worker %d (%zu bytes)", w,
                                need);
            k->decoded = p;
            k->decoded_size = need;
        }
    }
    return NULL;
}

void dataset_workers_merge_io(floe_dataset *ds)
{
    for (int w = 0; w < ds->nworkers; w++) {
        floe_dataset_io *io = &ds->workers[w].io;
        ds->io.chunks += io->chunks;
        ds->io.encoded_bytes += io->encoded_bytes;
        ds->io.decoded_bytes += io->decoded_bytes;
        ds->io.decode_seconds += io->decode_seconds;
        memset(io, 0, sizeof *io);
    }
}

void dataset_workers_free(floe_dataset *ds)
{
    for (int w = 0; w < ds->nworkers; w++) {
        zarr_decoder_free(&ds->workers[w].decoder);
        free(ds->workers[w].decoded);
    }
    free(ds->workers);
    ds->workers = NULL;
    ds->nworkers = 0;
}

floe_err dataset_name_chunk(floe_err err, const dataset_array *a, const uint64_t *coord)
{
    char where[128];
    if (!err)
        return NULL;
    return floe_err_push(err, __FILE__, __LINE__, " array %s chunk %s", a->pub.name,
                         dataset_format_coord(coord, a->pub.ndim, where, sizeof where));
}

/* One chunk on worker `worker` (a floe_pool_fn). */
static floe_err run_task(void *ctx, size_t index, int worker)
{
    dataset_decode_task *t = ctx;
    dataset_worker *k = &t->ds->workers[worker];
    floe_err err = t->err;
    if (!err && t->fill) {
        zarr_chunk_fill(t->a->meta, k->decoded);
        k->io.chunks++;
        err = t->fn(t->ctx, index, k->decoded);
    } else if (!err) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        err = zarr_chunk_decode(k->decoder, t->a->meta, t->bytes, t->len, k->decoded);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!err) {
            k->io.decode_seconds += (double)(t1.tv_sec - t0.tv_sec) +
                                    1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            k->io.chunks++;
            k->io.encoded_bytes += t->len;
            k->io.decoded_bytes += zarr_chunk_nbytes(t->a->meta);
            err = t->fn(t->ctx, index, k->decoded);
        }
    }
    err = dataset_name_chunk(err, t->a, t->coord);
    if (err)
        atomic_store(t->failed, 1);
    free(t->bytes);
    free(t);
    return err;
}

floe_err dataset_decode_submit(floe_dataset *ds, const dataset_array *a, size_t index,
                               const uint64_t *coord, const uint8_t *bytes, size_t len,
                               uint8_t **owned, int fill, floe_err err, floe_chunk_fn fn,
                               void *ctx, atomic_int *failed)
{
    dataset_decode_task *t = calloc(1, sizeof *t);
    uint8_t *copy = owned ? *owned : NULL;
    if (owned)
        *owned = NULL;
    if (t && !err && !fill && !copy && len) {
        copy = malloc(len);
        if (copy)
            memcpy(copy, bytes, len);
    }
    if (!t || (!err && !fill && len && !copy)) {
        free(t);
        free(copy);
        floe_err_free(&err);
        return FLOE_ERR(FLOE_ENOMEM, "a chunk to decode (%zu bytes)", len);
    }
    *t = (dataset_decode_task){ds, a, fn, ctx, copy, len, fill, err, coord, failed};
    floe_pool_submit(ds->pool, run_task, t, index);
    return NULL;
}
