/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/read_plan.c - batched reads planned for a dry run
 * (floe_dataset_plan_chunks, dataset.h): the same queueing as
 * readahead.c's, counted by the fetcher's own planning
 * (floe_fetch_plan_count) instead of sent; with floe_read_plan.collect
 * set, every ref looked up is collected too (a rank's ref table,
 * ref_table.h). */
#include "dataset/internal.h"

#include <stdlib.h>
#include <string.h>

/* A chunk announced for a later batch and not yet asked for. */
typedef struct read_plan_ahead {
    const dataset_array *a;
    uint64_t coord[FLOE_MAX_DIMS];
    uint64_t length; /* its range's */
} read_plan_ahead;

static int ahead_take(floe_read_plan *p, const dataset_array *a, const uint64_t *c,
                      uint64_t *length)
{
    for (size_t k = 0; k < p->nahead; k++)
        if (p->ahead[k].a == a && !memcmp(p->ahead[k].coord, c, (size_t)a->pub.ndim * sizeof *c)) {
            *length = p->ahead[k].length;
            p->ahead[k] = p->ahead[--p->nahead];
            return 1;
        }
    return 0;
}

static int ahead_has(const floe_read_plan *p, const dataset_array *a, const uint64_t *c)
{
    for (size_t k = 0; k < p->nahead; k++)
        if (p->ahead[k].a == a && !memcmp(p->ahead[k].coord, c, (size_t)a->pub.ndim * sizeof *c))
            return 1;
    return 0;
}

static void queued_clear(floe_read_plan *p)
{
    for (size_t i = 0; i < p->nqueued; i++) {
        free((char *)p->queued[i].url);
        free((char *)p->queued[i].cond.etag);
    }
    p->nqueued = 0;
}

/* The fetcher plans what is queued (a floe_fetch_next). */
static floe_err plan_wave(floe_dataset *ds, floe_read_plan *p)
{
    floe_fetch_plan_totals before = p->fetch;
    floe_err err = floe_fetch_plan_count(&ds->fetch_opts, p->queued, p->nqueued, &p->fetch);
    uint64_t wave = p->fetch.bytes - before.bytes;
    p->largest_wave = wave > p->largest_wave ? wave : p->largest_wave;
    queued_clear(p);
    return err;
}

/* Queue the virtual chunk c of a (a fill, inline or native chunk needs no
 * fetcher): *queued says whether it was. */
static floe_err queue_chunk(floe_dataset *ds, floe_read_plan *p, dataset_array *a,
                            const uint64_t *c, int *queued)
{
    *queued = 0;
    ic_chunk_ref ref;
    FLOE_CHECK(dataset_lookup(ds, a, c, &ref));
    if (p->collect)
        FLOE_CHECK(floe_ref_collector_add(p->collect, (uint32_t)(a - ds->arrays), a->pub.ndim, c,
                                          &ref));
    if (ref.kind != IC_CHUNK_VIRTUAL)
        return NULL;
    char *url = NULL;
    FLOE_CHECK(virtual_policy_resolve(ds->policy, ref.location, &url));
    if (p->nqueued == p->cap_queued) {
        size_t cap = p->cap_queued ? 2 * p->cap_queued : 64;
        floe_fetch_range *q = realloc(p->queued, cap * sizeof *q);
        if (!q) {
            free(url);
            return FLOE_ERR(FLOE_ENOMEM, "planning %zu chunk reads", cap);
        }
        p->queued = q;
        p->cap_queued = cap;
    }
    char *etag = ref.etag ? strdup(ref.etag) : NULL;
    if (ref.etag && !etag) {
        free(url);
        return FLOE_ERR(FLOE_ENOMEM, "planning a chunk read");
    }
    p->queued[p->nqueued++] = (floe_fetch_range){
        .url = url, .offset = ref.offset, .length = ref.length,
        .cond = {.etag = etag, .unmodified_since = ref.last_modified}};
    *queued = 1;
    return NULL;
}

floe_err floe_dataset_plan_chunks(floe_dataset *ds, floe_read_plan *p, const floe_array *array,
                                  const uint64_t *coords, size_t n, const uint64_t *ahead,
                                  size_t nahead)
{
    dataset_array *a = dataset_array_of(array);
    if (a->unreadable)
        return FLOE_ERR(a->unreadable_code, "array %s: %s", array->name, a->unreadable);
    if (!dataset_uses_table(ds, a))
        FLOE_CHECK(dataset_load_manifests_for(ds, a, coords, n, ahead, nahead));
    if (p->collect) { /* the rank's table answers for it, even with no chunk of it */
        uint64_t grid[FLOE_MAX_DIMS];
        for (int d = 0; d < array->ndim; d++)
            grid[d] = array->chunk_shape[d]
                          ? (array->shape[d] + array->chunk_shape[d] - 1) / array->chunk_shape[d]
                          : 0;
        FLOE_CHECK(floe_ref_collector_cover(p->collect, (uint32_t)(a - ds->arrays), array->ndim,
                                            grid));
    }
    size_t nbytes = zarr_chunk_nbytes(a->meta);
    p->largest_chunk = nbytes > p->largest_chunk ? nbytes : p->largest_chunk;
    int ndim = array->ndim;
    size_t waiting = 0; /* the batch's chunks that come through the fetcher */
    char where[128];
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = coords + i * (size_t)ndim;
        p->chunks++;
        p->decoded_bytes += nbytes;
        int queued = 0;
        uint64_t length = 0;
        if (ahead_take(p, a, c, &length))
            queued = 1; /* read ahead: in flight (or arrived: see dataset.h) */
        else {
            floe_err err = queue_chunk(ds, p, a, c, &queued);
            if (err)
                return floe_err_push(err, __FILE__, __LINE__, " array %s chunk %s", array->name,
                                     dataset_format_coord(c, ndim, where, sizeof where));
            length = queued ? p->queued[p->nqueued - 1].length : 0;
        }
        waiting += (size_t)queued;
        p->virtual_chunks += (uint64_t)queued;
        p->encoded_bytes += length;
    }
    for (size_t i = 0; i < nahead; i++) {
        const uint64_t *c = ahead + i * (size_t)ndim;
        if (ahead_has(p, a, c))
            continue;
        int queued = 0;
        floe_err err = queue_chunk(ds, p, a, c, &queued);
        floe_err_free(&err); /* as readahead.c: such a chunk fails when asked for */
        if (!queued)
            continue;
        if (p->nahead == p->cap_ahead) {
            size_t cap = p->cap_ahead ? 2 * p->cap_ahead : 64;
            read_plan_ahead *q = realloc(p->ahead, cap * sizeof *q);
            if (!q)
                return FLOE_ERR(FLOE_ENOMEM, "planning %zu chunks read ahead", cap);
            p->ahead = q;
            p->cap_ahead = cap;
        }
        read_plan_ahead *s = &p->ahead[p->nahead++];
        s->a = a;
        memcpy(s->coord, c, (size_t)ndim * sizeof *c);
        s->length = p->queued[p->nqueued - 1].length;
    }
    /* every call plans its queue: a wait, or floe_fetch_poll (readahead.c) */
    return waiting || p->nqueued ? plan_wave(ds, p) : NULL;
}

floe_err floe_read_plan_finish(floe_dataset *ds, floe_read_plan *p)
{
    floe_err err = p->nqueued ? plan_wave(ds, p) : NULL;
    queued_clear(p);
    free(p->queued);
    free(p->ahead);
    p->queued = NULL;
    p->ahead = NULL;
    p->cap_queued = p->nahead = p->cap_ahead = 0;
    return err;
}
