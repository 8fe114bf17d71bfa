/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/cache.c - the whole-object cache of transport.h: a sorted table
 * of url -> bytes | absent | exists, its blob format, and the transport's
 * hooks into it.
 *
 * Why a transport-level cache rather than one in the Icechunk reader: the
 * reader, the STAC loader and whoever comes next all read metadata through
 * floe_transport_get, so recording there captures everything an open
 * fetched without any of them knowing about MPI; and a layer above that
 * fills the cache with floe_object_cache_put (a concurrent prefetch) turns
 * the readers' sequential GETs into one concurrent wave without
 * restructuring them.
 */
#include "io/transport/internal.h"
#include "io/transport/url.h"

#include <stdlib.h>
#include <string.h>

/* Framing of the blob (see transport.h). */
static const char BLOB_MAGIC[8] = {'F', 'L', 'O', 'E', 'O', 'B', 'J', '1'};
enum { BLOB_HEADER = 16, ENTRY_HEADER = 13 };
/* A URL longer than this in a blob is corruption, not a URL. */
#define MAX_URL_BYTES ((size_t)64 << 10)

typedef struct entry {
    char *url;
    uint8_t *data; /* FLOE_CACHE_BYTES only (NULL for an empty object) */
    size_t len;
    floe_cache_state state;
} entry;

struct floe_object_cache {
    entry *e; /* sorted by url (strcmp) */
    size_t n, cap;
    size_t bytes; /* URL and object bytes held */
    size_t max_bytes;
    int recording;
};

floe_err floe_object_cache_new(size_t max_bytes, floe_object_cache **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate an object cache");
    (*out)->max_bytes = max_bytes ? max_bytes : FLOE_OBJECT_CACHE_MAX_BYTES;
    return NULL;
}

static size_t entry_cost(const entry *e)
{
    return strlen(e->url) + e->len;
}

static void entry_free(entry *e)
{
    free(e->url);
    free(e->data);
    memset(e, 0, sizeof *e);
}

void floe_object_cache_clear(floe_object_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->e[i]);
    c->n = 0;
    c->bytes = 0;
}

void floe_object_cache_free(floe_object_cache **cp)
{
    if (!cp || !*cp)
        return;
    floe_object_cache_clear(*cp);
    free((*cp)->e);
    free(*cp);
    *cp = NULL;
}

void floe_object_cache_record(floe_object_cache *c, int on)
{
    c->recording = on != 0;
}

int floe_object_cache_recording(const floe_object_cache *c)
{
    return c->recording;
}

size_t floe_object_cache_count(const floe_object_cache *c)
{
    return c->n;
}

size_t floe_object_cache_bytes(const floe_object_cache *c)
{
    return c->bytes;
}

/* Index of url, or where it would go (*found = 0). */
static size_t search(const floe_object_cache *c, const char *url, int *found)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->e[mid].url, url);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static void remove_at(floe_object_cache *c, size_t i)
{
    c->bytes -= entry_cost(&c->e[i]);
    entry_free(&c->e[i]);
    memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof *c->e);
    c->n--;
}

void floe_object_cache_forget(floe_object_cache *c, const char *url)
{
    int found;
    size_t i = search(c, url, &found);
    if (found)
        remove_at(c, i);
}

/* Insert or replace; takes ownership of e's strings on success only. */
static floe_err insert(floe_object_cache *c, entry *e)
{
    int found;
    size_t i = search(c, e->url, &found);
    size_t old = found ? entry_cost(&c->e[i]) : 0;
    size_t add = entry_cost(e);
    if (c->bytes - old > c->max_bytes || add > c->max_bytes - (c->bytes - old))
        return FLOE_ERR(FLOE_ENOMEM,
                        "object cache: adding %.300s (%zu bytes) would exceed its cap of %zu "
                        "bytes (FLOE_OBJECT_CACHE_MAX_BYTES unless set)",
                        e->url, e->len, c->max_bytes);
    if (found) {
        c->bytes -= old;
        entry_free(&c->e[i]);
        c->e[i] = *e;
        c->bytes += add;
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        entry *grown = realloc(c->e, cap * sizeof *grown);
        if (!grown)
            return FLOE_ERR(FLOE_ENOMEM, "object cache: cannot grow to %zu entries", cap);
        c->e = grown;
        c->cap = cap;
    }
    memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof *c->e);
    c->e[i] = *e;
    c->n++;
    c->bytes += add;
    return NULL;
}

static floe_err put(floe_object_cache *c, const char *url, floe_cache_state state,
                    const void *data, size_t len)
{
    if (!url || !*url)
        return FLOE_ERR(FLOE_EINVAL, "object cache: empty URL");
    entry e = {.url = strdup(url), .state = state, .len = state == FLOE_CACHE_BYTES ? len : 0};
    if (e.len && (e.data = malloc(e.len)))
        memcpy(e.data, data, e.len);
    if (!e.url || (e.len && !e.data)) {
        entry_free(&e);
        return FLOE_ERR(FLOE_ENOMEM, "object cache: cannot copy %.300s (%zu bytes)", url, len);
    }
    floe_err err = insert(c, &e);
    if (err)
        entry_free(&e);
    return err;
}

floe_err floe_object_cache_put(floe_object_cache *c, const char *url, const void *data,
                               size_t len)
{
    return put(c, url, FLOE_CACHE_BYTES, data, len);
}

floe_err floe_object_cache_put_absent(floe_object_cache *c, const char *url)
{
    return put(c, url, FLOE_CACHE_ABSENT, NULL, 0);
}

floe_cache_state floe_object_cache_find(const floe_object_cache *c, const char *url,
                                        const uint8_t **data, size_t *len)
{
    int found;
    size_t i = search(c, url, &found);
    if (!found)
        return FLOE_CACHE_MISS;
    if (data)
        *data = c->e[i].data;
    if (len)
        *len = c->e[i].len;
    return c->e[i].state;
}

/* ---- the blob ------------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

floe_err floe_object_cache_serialize(const floe_object_cache *c, floe_buf *out)
{
    size_t total = BLOB_HEADER + c->n * (size_t)ENTRY_HEADER + c->bytes;
    floe_buf_init(out, total);
    uint8_t head[BLOB_HEADER];
    memcpy(head, BLOB_MAGIC, 8);
    put_le(head + 8, c->n, 8);
    floe_err err = floe_buf_append(out, head, sizeof head);
    for (size_t i = 0; i < c->n && !err; i++) {
        const entry *e = &c->e[i];
        size_t ulen = strlen(e->url);
        uint8_t eh[ENTRY_HEADER];
        eh[0] = (uint8_t)e->state;
        put_le(eh + 1, ulen, 4);
        put_le(eh + 5, e->len, 8);
        err = floe_buf_append(out, eh, sizeof eh);
        if (!err)
            err = floe_buf_append(out, e->url, ulen);
        if (!err)
            err = floe_buf_append(out, e->data, e->len);
    }
    if (err) {
        floe_buf_free(out);
        return floe_err_push(err, __FILE__, __LINE__, " serializing an object cache of %zu entries",
                             c->n);
    }
    return NULL;
}

/* Check the whole blob before changing anything, so a bad blob leaves the
 * cache as it was. */
static floe_err check_blob(const uint8_t *p, size_t len, uint64_t *count)
{
    if (len < BLOB_HEADER)
        return FLOE_ERR(FLOE_EFORMAT, "object cache blob: %zu bytes is shorter than its header",
                        len);
    if (memcmp(p, BLOB_MAGIC, 8) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "object cache blob: bad magic (not FLOEOBJ1)");
    *count = get_le(p + 8, 8);
    size_t pos = BLOB_HEADER;
    for (uint64_t i = 0; i < *count; i++) {
        if (len - pos < ENTRY_HEADER)
            return FLOE_ERR(FLOE_EFORMAT, "object cache blob: entry %llu of %llu is truncated",
                            (unsigned long long)i, (unsigned long long)*count);
        uint8_t state = p[pos];
        uint64_t ulen = get_le(p + pos + 1, 4), dlen = get_le(p + pos + 5, 8);
        pos += ENTRY_HEADER;
        if (state != FLOE_CACHE_BYTES && state != FLOE_CACHE_ABSENT && state != FLOE_CACHE_EXISTS)
            return FLOE_ERR(FLOE_EFORMAT, "object cache blob: entry %llu has unknown state %u",
                            (unsigned long long)i, state);
        if (ulen == 0 || ulen > MAX_URL_BYTES)
            return FLOE_ERR(FLOE_EFORMAT, "object cache blob: entry %llu has a URL of %llu bytes",
                            (unsigned long long)i, (unsigned long long)ulen);
        if (state != FLOE_CACHE_BYTES && dlen)
            return FLOE_ERR(FLOE_EFORMAT, "object cache blob: entry %llu has bytes but no object",
                            (unsigned long long)i);
        if (ulen > len - pos || dlen > len - pos - ulen)
            return FLOE_ERR(FLOE_EFORMAT,
                            "object cache blob: entry %llu (%llu + %llu bytes) runs past the end "
                            "of the %zu-byte blob",
                            (unsigned long long)i, (unsigned long long)ulen,
                            (unsigned long long)dlen, len);
        if (memchr(p + pos, '\0', ulen))
            return FLOE_ERR(FLOE_EFORMAT, "object cache blob: entry %llu has a NUL in its URL",
                            (unsigned long long)i);
        pos += ulen + dlen;
    }
    if (pos != len)
        return FLOE_ERR(FLOE_EFORMAT, "object cache blob: %zu bytes after its %llu entries",
                        len - pos, (unsigned long long)*count);
    return NULL;
}

floe_err floe_object_cache_preload(floe_object_cache *c, const void *blob, size_t len)
{
    const uint8_t *p = blob;
    uint64_t count = 0;
    if (!p && len)
        return FLOE_ERR(FLOE_EINVAL, "object cache blob: NULL with %zu bytes", len);
    FLOE_CHECK(check_blob(p, len, &count));
    /* Preloading into an empty cache (the usual case) can be checked
     * against the cap up front; otherwise replaced entries make the sum an
     * upper bound, and a failure part way is undone below. */
    floe_object_cache *tmp;
    FLOE_CHECK(floe_object_cache_new(c->max_bytes, &tmp));
    floe_err err = NULL;
    size_t pos = BLOB_HEADER;
    for (uint64_t i = 0; i < count && !err; i++) {
        floe_cache_state state = (floe_cache_state)p[pos];
        size_t ulen = (size_t)get_le(p + pos + 1, 4), dlen = (size_t)get_le(p + pos + 5, 8);
        pos += ENTRY_HEADER;
        char *url = malloc(ulen + 1);
        if (!url) {
            err = FLOE_ERR(FLOE_ENOMEM, "object cache blob: entry %llu", (unsigned long long)i);
            break;
        }
        memcpy(url, p + pos, ulen);
        url[ulen] = '\0';
        int dup;
        search(tmp, url, &dup);
        if (dup)
            err = FLOE_ERR(FLOE_EFORMAT, "object cache blob: %.300s is listed twice", url);
        else
            err = put(tmp, url, state, p + pos + ulen, dlen);
        free(url);
        pos += ulen + dlen;
    }
    /* Merge: move tmp's entries into c (replacing), checking the cap. */
    size_t replaced = 0;
    for (size_t i = 0; i < tmp->n && !err; i++) {
        int found;
        size_t j = search(c, tmp->e[i].url, &found);
        if (found)
            replaced += entry_cost(&c->e[j]);
    }
    if (!err && (tmp->bytes > c->max_bytes || c->bytes - replaced > c->max_bytes - tmp->bytes))
        err = FLOE_ERR(FLOE_ENOMEM,
                       "object cache: preloading %zu entries (%zu bytes) would exceed its cap of "
                       "%zu bytes (FLOE_OBJECT_CACHE_MAX_BYTES unless set)",
                       tmp->n, tmp->bytes, c->max_bytes);
    for (size_t i = 0; i < tmp->n && !err; i++) {
        err = insert(c, &tmp->e[i]);
        if (!err)
            memset(&tmp->e[i], 0, sizeof tmp->e[i]); /* moved */
    }
    /* insert cannot fail past the checks above except for growing the
     * table; entries moved before such a failure stay (they are valid). */
    for (size_t i = 0; i < tmp->n; i++)
        if (tmp->e[i].url)
            entry_free(&tmp->e[i]);
    tmp->n = 0;
    tmp->bytes = 0;
    floe_object_cache_free(&tmp);
    return err;
}

/* ---- the transport's side ------------------------------------------------ */

void floe_transport_set_cache(floe_transport *t, floe_object_cache *c)
{
    t->cache = c;
}

floe_object_cache *floe_transport_cache(const floe_transport *t)
{
    return t->cache;
}

int floe_transport_cache_get(floe_transport *t, const char *url, floe_buf *out, floe_err *err)
{
    *err = NULL;
    floe_object_cache *c = t->cache;
    if (!c || !url)
        return 0;
    int found;
    size_t i = search(c, url, &found);
    if (!found || c->e[i].state == FLOE_CACHE_EXISTS)
        return 0;
    t->stats.cache_hits++;
    if (c->e[i].state == FLOE_CACHE_ABSENT) {
        char shown[1024];
        *err = FLOE_ERR(FLOE_ENOTFOUND, "%s: no such object", floe_url_redact(url, shown, sizeof shown));
        return 1;
    }
    if (c->e[i].len > t->max_object_bytes) {
        char shown[1024];
        *err = FLOE_ERR(FLOE_ENOMEM, "%s: object of %zu bytes exceeds the limit of %zu bytes",
                        floe_url_redact(url, shown, sizeof shown), c->e[i].len, t->max_object_bytes);
        return 1;
    }
    *err = floe_buf_append(out, c->e[i].data, c->e[i].len);
    if (!*err) {
        t->stats.bytes += c->e[i].len;
        if (!c->recording)
            remove_at(c, i); /* parsed once; do not keep a second copy */
    }
    return 1;
}

int floe_transport_cache_exists(floe_transport *t, const char *url, int *exists)
{
    floe_object_cache *c = t->cache;
    if (!c || !url)
        return 0;
    floe_cache_state s = floe_object_cache_find(c, url, NULL, NULL);
    if (s == FLOE_CACHE_MISS)
        return 0;
    t->stats.cache_hits++;
    *exists = s != FLOE_CACHE_ABSENT;
    return 1;
}

floe_err floe_transport_cache_note_get(floe_transport *t, const char *url, const uint8_t *data,
                                       size_t len, const floe_err result)
{
    floe_object_cache *c = t->cache;
    if (!c || !c->recording)
        return NULL;
    if (!result)
        return floe_object_cache_put(c, url, data, len);
    if (floe_err_code(result) == FLOE_ENOTFOUND)
        return floe_object_cache_put_absent(c, url);
    return NULL;
}

floe_err floe_transport_cache_note_exists(floe_transport *t, const char *url, int exists)
{
    floe_object_cache *c = t->cache;
    if (!c || !c->recording)
        return NULL;
    int found;
    size_t i = search(c, url, &found);
    if (found && c->e[i].state == FLOE_CACHE_BYTES && exists)
        return NULL; /* already know more */
    return put(c, url, exists ? FLOE_CACHE_EXISTS : FLOE_CACHE_ABSENT, NULL, 0);
}
