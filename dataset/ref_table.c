/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/ref_table.c - a rank's compact table of chunk refs (ref_table.h),
 * received: its blob (written by ref_collector.c) parsed with every bound
 * checked, and searched (binary search: the entries are sorted). */
#include "dataset/ref_table.h"

#include <stdlib.h>
#include <string.h>

/* An entry's bytes in the blob (ref_table.h): a head, ndim coordinates,
 * then a body by kind. */
enum {
    ENTRY_HEAD_BYTES = 4 + 1,             /* u32 array slot, u8 kind */
    ENTRY_COORD_BYTES = 8,                /* u64 per dimension */
    ENTRY_INLINE_BYTES = 8 + 8,           /* u64 at, u64 length */
    ENTRY_NATIVE_BYTES = 4 + 8 + 8,       /* u32 chunk id, u64 offset, u64 length */
    ENTRY_VIRTUAL_BYTES = 4 + 4 + 8 + 8 + 8, /* u32 location, u32 etag, i64 last
                                                modified, u64 offset, u64 length */
};

/* ---- little-endian fields ---- */

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* ---- a table received ---- */

typedef struct tab_entry {
    const uint8_t *coord; /* ndim u64 in the blob */
    uint64_t offset, length;
    int64_t last_modified;
    uint32_t slot, str, etag;
    uint8_t kind;
} tab_entry;

struct floe_ref_table {
    uint8_t *blob; /* owned copy: strings and inline bytes point into it */
    uint32_t narrays;
    uint32_t *array, *ndim; /* [narrays], array ascending */
    uint32_t nstrings;
    const char **strings;   /* [nstrings] */
    const uint8_t *inl;
    uint64_t inline_bytes;
    tab_entry *e;
    uint64_t n;
};

void floe_ref_table_free(floe_ref_table **t)
{
    if (!t || !*t)
        return;
    free((*t)->blob);
    free((*t)->array);
    free((*t)->ndim);
    free((*t)->strings);
    free((*t)->e);
    free(*t);
    *t = NULL;
}

/* A bounded reader over the blob. */
typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static const uint8_t *take(reader *r, uint64_t n)
{
    if (n > r->left)
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= (size_t)n;
    return p;
}

#define BAD(...) FLOE_ERR(FLOE_EFORMAT, "ref table: " __VA_ARGS__)

/* -1, 0, 1 as (slot, coordinate) of a orders before, with, after b's. */
static int cmp_tab(uint32_t slot_a, const uint8_t *ca, uint32_t slot_b, const uint8_t *cb,
                   uint32_t ndim)
{
    if (slot_a != slot_b)
        return (slot_a > slot_b) - (slot_a < slot_b);
    for (uint32_t d = 0; d < ndim; d++) {
        uint64_t x = get_u64(ca + 8 * d), y = get_u64(cb + 8 * d);
        if (x != y)
            return (x > y) - (x < y);
    }
    return 0;
}

static floe_err parse_entry(floe_ref_table *t, reader *r, uint64_t i, tab_entry *e)
{
    const uint8_t *p = take(r, ENTRY_HEAD_BYTES);
    if (!p)
        return BAD("entry %llu is cut short", (unsigned long long)i);
    e->slot = get_u32(p);
    e->kind = p[4];
    e->str = e->etag = REF_TABLE_NONE;
    if (e->slot >= t->narrays)
        return BAD("entry %llu names array slot %u of %u", (unsigned long long)i, e->slot,
                   t->narrays);
    uint32_t ndim = t->ndim[e->slot];
    if (!(e->coord = take(r, (uint64_t)ndim * ENTRY_COORD_BYTES)))
        return BAD("entry %llu is cut short", (unsigned long long)i);
    size_t fixed = e->kind == IC_CHUNK_MISSING   ? 0
                   : e->kind == IC_CHUNK_INLINE  ? ENTRY_INLINE_BYTES
                   : e->kind == IC_CHUNK_NATIVE  ? ENTRY_NATIVE_BYTES
                   : e->kind == IC_CHUNK_VIRTUAL ? ENTRY_VIRTUAL_BYTES : SIZE_MAX;
    if (fixed == SIZE_MAX)
        return BAD("entry %llu has kind %u", (unsigned long long)i, e->kind);
    if (!(p = take(r, fixed)))
        return BAD("entry %llu is cut short", (unsigned long long)i);
    switch ((ic_chunk_kind)e->kind) {
    case IC_CHUNK_MISSING:
        break;
    case IC_CHUNK_INLINE:
        e->offset = get_u64(p);
        e->length = get_u64(p + 8);
        if (e->offset > t->inline_bytes || e->length > t->inline_bytes - e->offset)
            return BAD("entry %llu: inline bytes past the table's", (unsigned long long)i);
        break;
    case IC_CHUNK_NATIVE:
        e->str = get_u32(p);
        e->offset = get_u64(p + 4);
        e->length = get_u64(p + 12);
        if (e->str >= t->nstrings || strlen(t->strings[e->str]) >= IC_SNAPSHOT_ID_SIZE)
            return BAD("entry %llu: a bad native chunk id", (unsigned long long)i);
        break;
    case IC_CHUNK_VIRTUAL:
        e->str = get_u32(p);
        e->etag = get_u32(p + 4);
        e->last_modified = (int64_t)get_u64(p + 8);
        e->offset = get_u64(p + 16);
        e->length = get_u64(p + 24);
        if (e->str >= t->nstrings || (e->etag != REF_TABLE_NONE && e->etag >= t->nstrings))
            return BAD("entry %llu names a string past the table's %u", (unsigned long long)i,
                       t->nstrings);
        break;
    }
    if (i && cmp_tab(t->e[i - 1].slot, t->e[i - 1].coord, e->slot, e->coord, ndim) >= 0)
        return BAD("entry %llu is out of order", (unsigned long long)i);
    return NULL;
}

static floe_err parse(floe_ref_table *t, size_t len)
{
    reader r = {t->blob, len};
    enum { HEADER = REF_TABLE_MAGIC_BYTES + 4 + 4 + 8 + 8 + 8 };
    const uint8_t *h = take(&r, HEADER);
    if (!h || memcmp(h, REF_TABLE_MAGIC, REF_TABLE_MAGIC_BYTES))
        return BAD("no header (%zu bytes)", len);
    h += REF_TABLE_MAGIC_BYTES;
    t->narrays = get_u32(h);
    t->nstrings = get_u32(h + 4);
    uint64_t n = get_u64(h + 8), string_bytes = get_u64(h + 16);
    t->inline_bytes = get_u64(h + 24);
    const uint8_t *arrays = take(&r, (uint64_t)t->narrays * 8);
    if (!arrays)
        return BAD("%u arrays in %zu bytes", t->narrays, len);
    t->array = malloc((t->narrays ? t->narrays : 1) * sizeof *t->array);
    t->ndim = malloc((t->narrays ? t->narrays : 1) * sizeof *t->ndim);
    if (!t->array || !t->ndim)
        return FLOE_ERR(FLOE_ENOMEM, "a ref table of %u arrays", t->narrays);
    for (uint32_t i = 0; i < t->narrays; i++) {
        t->array[i] = get_u32(arrays + 8 * i);
        t->ndim[i] = get_u32(arrays + 8 * i + 4);
        if (t->ndim[i] > FLOE_MAX_DIMS)
            return BAD("array %u has %u dimensions", t->array[i], t->ndim[i]);
        if (i && t->array[i] <= t->array[i - 1])
            return BAD("its arrays are out of order");
    }
    const uint8_t *s = take(&r, string_bytes);
    if (!s || t->nstrings > string_bytes)
        return BAD("%u strings in %llu bytes", t->nstrings, (unsigned long long)string_bytes);
    t->strings = malloc((t->nstrings ? t->nstrings : 1) * sizeof *t->strings);
    if (!t->strings)
        return FLOE_ERR(FLOE_ENOMEM, "a ref table of %u strings", t->nstrings);
    const uint8_t *end = s + string_bytes;
    for (uint32_t i = 0; i < t->nstrings; i++) {
        const uint8_t *z = memchr(s, '\0', (size_t)(end - s));
        if (!z)
            return BAD("string %u is not terminated", i);
        t->strings[i] = (const char *)s;
        s = z + 1;
    }
    if (s != end)
        return BAD("%zu bytes after its %u strings", (size_t)(end - s), t->nstrings);
    if (!(t->inl = take(&r, t->inline_bytes)))
        return BAD("%llu inline bytes past its end", (unsigned long long)t->inline_bytes);
    /* the smallest entry: a head (a missing chunk of a 0-D array) */
    if (n > r.left / ENTRY_HEAD_BYTES)
        return BAD("%llu entries in %zu bytes", (unsigned long long)n, r.left);
    t->e = malloc((size_t)(n ? n : 1) * sizeof *t->e);
    if (!t->e)
        return FLOE_ERR(FLOE_ENOMEM, "a ref table of %llu refs", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++)
        FLOE_CHECK(parse_entry(t, &r, i, &t->e[i]));
    t->n = n;
    if (r.left)
        return BAD("%zu bytes after its %llu entries", r.left, (unsigned long long)n);
    return NULL;
}

floe_err floe_ref_table_parse(const void *blob, size_t len, floe_ref_table **out)
{
    *out = NULL;
    floe_ref_table *t = calloc(1, sizeof *t);
    if (!t || !(t->blob = malloc(len ? len : 1))) {
        free(t);
        return FLOE_ERR(FLOE_ENOMEM, "a ref table of %zu bytes", len);
    }
    if (len)
        memcpy(t->blob, blob, len);
    floe_err err = parse(t, len);
    if (err) {
        floe_ref_table_free(&t);
        return err;
    }
    *out = t;
    return NULL;
}

uint64_t floe_ref_table_count(const floe_ref_table *t)
{
    return t ? t->n : 0;
}

size_t floe_ref_table_array_count(const floe_ref_table *t)
{
    return t ? t->narrays : 0;
}

void floe_ref_table_array_at(const floe_ref_table *t, size_t i, uint32_t *array, uint32_t *ndim)
{
    *array = t->array[i];
    *ndim = t->ndim[i];
}

/* The slot of `array`, or -1. */
static long slot_of(const floe_ref_table *t, uint32_t array)
{
    size_t lo = 0, hi = t->narrays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->array[mid] < array)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->narrays && t->array[lo] == array ? (long)lo : -1;
}

int floe_ref_table_covers(const floe_ref_table *t, uint32_t array)
{
    return t && slot_of(t, array) >= 0;
}

int floe_ref_table_find(const floe_ref_table *t, uint32_t array, int ndim, const uint64_t *coord,
                        ic_chunk_ref *out)
{
    long slot = t ? slot_of(t, array) : -1;
    if (slot < 0 || (uint32_t)ndim != t->ndim[slot])
        return 0;
    uint8_t key[8 * FLOE_MAX_DIMS];
    for (int d = 0; d < ndim; d++)
        for (int i = 0; i < 8; i++)
            key[8 * d + i] = (uint8_t)(coord[d] >> (8 * i));
    uint64_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (cmp_tab(t->e[mid].slot, t->e[mid].coord, (uint32_t)slot, key, (uint32_t)ndim) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->n || cmp_tab(t->e[lo].slot, t->e[lo].coord, (uint32_t)slot, key,
                              (uint32_t)ndim))
        return 0;
    const tab_entry *e = &t->e[lo];
    memset(out, 0, sizeof *out);
    out->kind = (ic_chunk_kind)e->kind;
    switch (out->kind) {
    case IC_CHUNK_MISSING:
        break;
    case IC_CHUNK_INLINE:
        out->inline_data = t->inl + e->offset;
        out->inline_len = (size_t)e->length;
        break;
    case IC_CHUNK_NATIVE:
        strcpy(out->chunk_id, t->strings[e->str]); /* checked shorter at parse */
        out->offset = e->offset;
        out->length = e->length;
        break;
    case IC_CHUNK_VIRTUAL:
        out->location = t->strings[e->str];
        out->etag = e->etag == REF_TABLE_NONE ? NULL : t->strings[e->etag];
        out->last_modified = e->last_modified;
        out->offset = e->offset;
        out->length = e->length;
        break;
    }
    return 1;
}
