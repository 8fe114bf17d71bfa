/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/prefetch.c - floe_prefetch: whole objects, and large ones in
 * parallel ranges put together again, fetched concurrently by a fetcher
 * attached to the transport, then put into the transport's object cache
 * for the GETs that follow. An object whose server gives another size
 * than the caller's listed one is not cached: the GET reads it whole. */
#include "io/fetch/prefetch.h"

#include "common/floe_log.h"
#include "io/fetch/fetch.h"
#include "io/fetch/internal.h"
#include "io/transport/url.h"
#include "io/transport/xfer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void prefetcher_free(void *obj)
{
    floe_fetcher *f = obj;
    floe_fetcher_free(&f);
}

/* The prefetcher's requests count as the transport's, each range of an
 * object fetched in ranges one request (its retries, retries). A prefetch
 * of a whole object that failed is not a failure of the run: the GET that
 * follows asks for the same object again, by the retry policy, so the
 * failed attempt counts as what it is, the first of that object's attempts
 * (a retry follows it). */
static void prefetcher_add_counts(const void *obj, floe_transport_counts *s)
{
    floe_fetch_stats f;
    floe_fetcher_stats(obj, &f);
    s->requests += f.requests;
    s->bytes += f.bytes_delivered;
    s->new_connections += f.new_connections;
    s->retries += f.retries + f.failures;
}

/* t's prefetcher, made and attached on first use. */
static floe_err prefetcher_of(floe_transport *t, floe_fetcher **out)
{
    *out = floe_transport_attached(t, prefetcher_free);
    if (*out)
        return NULL;
    /* The transport's retry policy (whole objects get one attempt, see
     * floe_prefetch_sized); no coalescing: the ranges of an object are
     * split to be fetched in parallel. */
    floe_fetch_opts o = {.no_coalesce = 1};
    floe_fetcher *f;
    FLOE_CHECK(floe_fetcher_new(t, &o, &f), "prefetch");
    floe_transport_attachment a = {.obj = f, .free = prefetcher_free,
                                   .add_counts = prefetcher_add_counts};
    floe_err err = floe_transport_attach(t, &a);
    if (err) {
        floe_fetcher_free(&f);
        return floe_err_push(err, __FILE__, __LINE__, " prefetch");
    }
    *out = f;
    return NULL;
}

/* One object of a prefetch: whole (size 0), or in ranges put together in
 * data. */
typedef struct object {
    const char *url; /* borrowed: the caller's */
    uint64_t size;   /* in ranges: the object's size; whole: 0 */
    uint8_t *data;   /* in ranges: the object, range by range (owned) */
    size_t left;     /* ranges not yet back */
    int absent;      /* a range answered 404 */
    uint64_t served; /* in ranges: a size the server gave that is not `size`, else 0 */
} object;

/* A range of an object in the fetcher (its user pointer); a whole object
 * is one of length 0. */
typedef struct piece {
    object *obj;
    uint64_t offset, length;
} piece;

/* Whether urls[i] is for this prefetch to fetch: an HTTP or S3 URL the
 * cache does not know, not listed before. */
static int wanted(const floe_object_cache *c, const char *const *urls, size_t i)
{
    floe_url_kind kind;
    if (!urls[i])
        return 0;
    floe_err bad = floe_url_kind_of(urls[i], &kind);
    if (bad || kind == FLOE_URL_FILE) {
        floe_err_free(&bad); /* a bad URL fails in the GET; local reads gain nothing */
        return 0;
    }
    if (floe_object_cache_find(c, urls[i], NULL, NULL) != FLOE_CACHE_MISS)
        return 0;
    for (size_t j = 0; j < i; j++)
        if (urls[j] && !strcmp(urls[j], urls[i]))
            return 0;
    return 1;
}

/* A whole object is back: cached, absent, or left to the GET. */
static floe_err whole_done(floe_object_cache *c, const object *o, floe_fetch_result *r)
{
    if (!r->err)
        return floe_object_cache_put(c, o->url, r->data, r->len);
    if (floe_err_code(r->err) == FLOE_ENOTFOUND)
        return floe_object_cache_put_absent(c, o->url);
    char line[512];
    FLOE_DEBUG("prefetch of %s failed, left to the GET: %s", o->url,
               floe_err_line(r->err, line, sizeof line));
    return NULL;
}

/* A range of an object fetched in ranges is back: copied into place; the
 * object cached (or noted absent) with its last range. A range that failed
 * for good (other than 404) is the prefetch's error: *failed. Where the
 * server's Content-Range gives the object another size than the listed one
 * (a wrong size in the snapshot: too big ends in a short read or a 416,
 * too small would cache a truncated object as whole), the ranges are
 * dropped and the object left to the whole GET that follows. */
static floe_err piece_done(floe_object_cache *c, const piece *p, floe_fetch_result *r,
                           floe_err *failed)
{
    object *o = p->obj;
    o->left--;
    if (r->object_size != UINT64_MAX && r->object_size != o->size && !o->served)
        o->served = r->object_size ? r->object_size : UINT64_MAX; /* 0 stays "none" */
    if (o->served) {
        /* Its ranges are of no use, failed or not: the error is not the
         * prefetch's. */
    } else if (r->err && floe_err_code(r->err) == FLOE_ENOTFOUND) {
        o->absent = 1;
    } else if (r->err) {
        *failed = r->err;
        r->err = NULL;
        return NULL;
    } else if (r->len != p->length) { /* the fetcher's promise; checked, not assumed */
        char range[64];
        *failed = FLOE_ERR(FLOE_EFORMAT, "%s%s: %zu bytes came back", o->url,
                           floe_range_text(p->offset, p->length, range), r->len);
        return NULL;
    } else if (r->len) {
        memcpy(o->data + p->offset, r->data, r->len);
    }
    if (o->left)
        return NULL;
    if (o->served) {
        FLOE_INFO("prefetch of %s: the snapshot lists %" PRIu64 " bytes, the server has %" PRIu64
                  ": ranges dropped, left to the whole GET",
                  o->url, o->size, o->served == UINT64_MAX ? 0 : o->served);
        free(o->data);
        o->data = NULL;
        return NULL;
    }
    floe_err err = o->absent ? floe_object_cache_put_absent(c, o->url)
                             : floe_object_cache_put(c, o->url, o->data, (size_t)o->size);
    free(o->data);
    o->data = NULL;
    return err;
}

/* The objects to fetch, and their ranges (a whole object: one of length
 * 0), into *objs and *pieces (owned by the caller). An object larger than
 * the transport's cap of a whole-object GET is read whole: the GET refuses
 * it, as without a size. */
static floe_err plan(floe_transport *t, const floe_object_cache *c, const char *const *urls, const uint64_t *sizes,
                     size_t n, object **objs, size_t *nobjs, piece **pieces, size_t *npieces)
{
    *objs = calloc(n, sizeof **objs);
    *nobjs = *npieces = 0;
    *pieces = NULL;
    if (!*objs)
        return FLOE_ERR(FLOE_ENOMEM, "cannot plan a prefetch of %zu objects", n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!wanted(c, urls, i))
            continue;
        object *o = &(*objs)[(*nobjs)++];
        uint64_t size = sizes ? sizes[i] : 0, len;
        o->url = urls[i];
        o->left = 1;
        if (size >= FLOE_PREFETCH_RANGED_MIN_BYTES && size <= SIZE_MAX &&
            size <= floe_transport_max_object_bytes(t)) {
            o->size = size;
            o->left = floe_split_object(size, FLOE_SPLIT_PIECE_BYTES, FLOE_SPLIT_MAX_PIECES, &len);
        }
        total += o->left;
    }
    *pieces = calloc(total ? total : 1, sizeof **pieces);
    if (!*pieces)
        return FLOE_ERR(FLOE_ENOMEM, "cannot plan a prefetch of %zu ranges", total);
    for (size_t i = 0; i < *nobjs; i++) {
        object *o = &(*objs)[i];
        uint64_t len = 0;
        if (o->size)
            floe_split_object(o->size, FLOE_SPLIT_PIECE_BYTES, FLOE_SPLIT_MAX_PIECES, &len);
        for (size_t k = 0; k < o->left; k++) {
            uint64_t off = (uint64_t)k * len;
            (*pieces)[(*npieces)++] = (piece){
                .obj = o, .offset = off,
                .length = o->size ? (o->size - off < len ? o->size - off : len) : 0};
        }
    }
    return NULL;
}

floe_err floe_prefetch(floe_transport *t, const char *const *urls, size_t n)
{
    return floe_prefetch_sized(t, urls, NULL, n);
}

floe_err floe_prefetch_sized(floe_transport *t, const char *const *urls, const uint64_t *sizes,
                             size_t n)
{
    floe_object_cache *c = floe_transport_cache(t);
    if (!c || !n)
        return NULL;
    floe_fetcher *f;
    FLOE_CHECK(prefetcher_of(t, &f));
    object *objs;
    piece *pieces;
    size_t nobjs, npieces, queued = 0;
    floe_err err = plan(t, c, urls, sizes, n, &objs, &nobjs, &pieces, &npieces);
    for (size_t i = 0; i < nobjs && !err; i++) {
        object *o = &objs[i];
        if (o->size && !(o->data = malloc((size_t)o->size)))
            err = FLOE_ERR(FLOE_ENOMEM, "cannot hold %s (%" PRIu64 " bytes)", o->url, o->size);
    }
    /* Whole objects are a hint (one attempt: a failure is left to the GET,
     * which retries by the transport's policy; retrying here as well would
     * let a store that keeps failing spend the retry budget twice); the
     * ranges of an object are retried here, where they are cheap. */
    for (size_t k = 0; k < npieces && !err; k++, queued++) {
        piece *p = &pieces[k];
        err = p->obj->size ? floe_fetch_add(f, p->obj->url, p->offset, p->length, NULL, p)
                           : floe_fetch_add_once(f, p->obj->url, 0, 0, NULL, p);
    }
    if (err)
        err = floe_err_push(err, __FILE__, __LINE__, " prefetch");
    while (queued && !err) {
        floe_fetch_result r;
        int more = 0;
        err = floe_fetch_next(f, &r, &more);
        if (err || !more)
            break;
        queued--;
        const piece *p = r.user;
        floe_err failed = NULL;
        err = p->obj->size ? piece_done(c, p, &r, &failed) : whole_done(c, p->obj, &r);
        floe_err_free(&r.err);
        if (err && !floe_object_cache_recording(c)) {
            /* Only a hint: past the cap, the GET fetches it itself. */
            floe_err_free(&err);
        }
        if (failed) {
            floe_err_free(&err);
            err = failed;
        }
    }
    if (err)
        floe_fetcher_cancel(f);
    for (size_t i = 0; i < nobjs; i++)
        free(objs[i].data);
    free(objs);
    free(pieces);
    return err;
}
