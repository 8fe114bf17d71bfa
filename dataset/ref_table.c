/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/ref_table.c - a rank's compact table of chunk refs (ref_table.h):
 * collected on the planning rank (strings interned, each chunk once),
 * written as one blob, parsed back with every bound checked, and searched
 * (binary search: the entries are sorted). */
#include "dataset/ref_table.h"

#include <stdlib.h>
#include <string.h>

static const char REF_TABLE_MAGIC[8] = {'F', 'L', 'O', 'E', 'R', 'E', 'F', '1'};

/* ---- little-endian fields ---- */

static floe_err put_u32(floe_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return floe_buf_append(b, x, sizeof x);
}

static floe_err put_u64(floe_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return floe_buf_append(b, x, sizeof x);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* ---- collecting ---- */

typedef struct coll_entry {
    uint32_t array;
    uint8_t kind;
    uint32_t str, etag;   /* string ids: location or native chunk id; ETag */
    int64_t last_modified;
    uint64_t offset, length; /* INLINE: into the inline bytes */
    uint64_t coord[FLOE_MAX_DIMS];
} coll_entry;

typedef struct coll_array {
    uint32_t array, ndim;
} coll_array;

struct floe_ref_collector {
    coll_entry *e;
    size_t n, cap;
    coll_array *arrays;
    size_t narrays, cap_arrays;
    char **str;           /* the distinct strings, by id (owned) */
    size_t nstr, cap_str;
    uint32_t *slot;       /* open addressing over str: id + 1, 0 empty */
    size_t nslot;         /* a power of two, at least twice nstr */
    floe_buf inl;         /* the inline chunks' bytes */
};

floe_err floe_ref_collector_new(floe_ref_collector **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return FLOE_ERR(FLOE_ENOMEM, "a ref collector");
    floe_buf_init(&(*out)->inl, SIZE_MAX);
    return NULL;
}

void floe_ref_collector_free(floe_ref_collector **c)
{
    if (!c || !*c)
        return;
    for (size_t i = 0; i < (*c)->nstr; i++)
        free((*c)->str[i]);
    free((*c)->str);
    free((*c)->slot);
    free((*c)->e);
    free((*c)->arrays);
    floe_buf_free(&(*c)->inl);
    free(*c);
    *c = NULL;
}

static size_t hash_str(const char *s)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211u;
    return h;
}

/* Room for one more string in the hash; rehashes at half full. */
static floe_err grow_slots(floe_ref_collector *c)
{
    if (2 * (c->nstr + 1) <= c->nslot)
        return NULL;
    size_t n = c->nslot ? 2 * c->nslot : 64;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return FLOE_ERR(FLOE_ENOMEM, "a ref table's strings (%zu)", c->nstr);
    for (size_t i = 0; i < c->nstr; i++) {
        size_t k = hash_str(c->str[i]) & (n - 1);
        while (s[k])
            k = (k + 1) & (n - 1);
        s[k] = (uint32_t)i + 1;
    }
    free(c->slot);
    c->slot = s;
    c->nslot = n;
    return NULL;
}

/* The id of string s, added if new. */
static floe_err intern(floe_ref_collector *c, const char *s, uint32_t *id)
{
    FLOE_CHECK(grow_slots(c));
    size_t k = hash_str(s) & (c->nslot - 1);
    for (; c->slot[k]; k = (k + 1) & (c->nslot - 1))
        if (!strcmp(c->str[c->slot[k] - 1], s)) {
            *id = c->slot[k] - 1;
            return NULL;
        }
    if (c->nstr >= REF_TABLE_NONE - 1)
        return FLOE_ERR(FLOE_ENOMEM, "a ref table of more than %u strings", REF_TABLE_NONE - 1);
    if (c->nstr == c->cap_str) {
        size_t cap = c->cap_str ? 2 * c->cap_str : 64;
        char **p = realloc(c->str, cap * sizeof *p);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "a ref table's strings (%zu)", cap);
        c->str = p;
        c->cap_str = cap;
    }
    if (!(c->str[c->nstr] = strdup(s)))
        return FLOE_ERR(FLOE_ENOMEM, "a ref table's string");
    *id = (uint32_t)c->nstr++;
    c->slot[k] = *id + 1;
    return NULL;
}

floe_err floe_ref_collector_cover(floe_ref_collector *c, uint32_t array, int ndim)
{
    if (ndim < 0 || ndim > FLOE_MAX_DIMS)
        return FLOE_ERR(FLOE_EINVAL, "array %u has %d dimensions", array, ndim);
    for (size_t i = 0; i < c->narrays; i++)
        if (c->arrays[i].array == array)
            return c->arrays[i].ndim == (uint32_t)ndim
                       ? NULL
                       : FLOE_ERR(FLOE_EINVAL, "array %u with %d and %u dimensions", array,
                                  ndim, c->arrays[i].ndim);
    if (c->narrays == c->cap_arrays) {
        size_t cap = c->cap_arrays ? 2 * c->cap_arrays : 8;
        coll_array *p = realloc(c->arrays, cap * sizeof *p);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "a ref table's arrays");
        c->arrays = p;
        c->cap_arrays = cap;
    }
    c->arrays[c->narrays++] = (coll_array){array, (uint32_t)ndim};
    return NULL;
}

floe_err floe_ref_collector_add(floe_ref_collector *c, uint32_t array, int ndim,
                                const uint64_t *coord, const ic_chunk_ref *ref)
{
    FLOE_CHECK(floe_ref_collector_cover(c, array, ndim));
    coll_entry e;
    memset(&e, 0, sizeof e);
    e.array = array;
    e.kind = (uint8_t)ref->kind;
    e.str = e.etag = REF_TABLE_NONE;
    if (ndim)
        memcpy(e.coord, coord, (size_t)ndim * sizeof *coord);
    switch (ref->kind) {
    case IC_CHUNK_MISSING:
        break;
    case IC_CHUNK_INLINE:
        e.offset = c->inl.len;
        e.length = ref->inline_len;
        FLOE_CHECK(floe_buf_append(&c->inl, ref->inline_data, ref->inline_len));
        break;
    case IC_CHUNK_NATIVE:
        FLOE_CHECK(intern(c, ref->chunk_id, &e.str));
        e.offset = ref->offset;
        e.length = ref->length;
        break;
    case IC_CHUNK_VIRTUAL:
        FLOE_CHECK(intern(c, ref->location, &e.str));
        if (ref->etag)
            FLOE_CHECK(intern(c, ref->etag, &e.etag));
        e.last_modified = ref->last_modified;
        e.offset = ref->offset;
        e.length = ref->length;
        break;
    default:
        return FLOE_ERR(FLOE_EINVAL, "a chunk ref of kind %d", (int)ref->kind);
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        coll_entry *p = realloc(c->e, cap * sizeof *p);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "a ref table of %zu refs", cap);
        c->e = p;
        c->cap = cap;
    }
    c->e[c->n++] = e;
    return NULL;
}

static int cmp_array(const void *a, const void *b)
{
    uint32_t x = ((const coll_array *)a)->array, y = ((const coll_array *)b)->array;
    return (x > y) - (x < y);
}

/* By array, then coordinate (unused dimensions are zero). */
static int cmp_entry(const void *a, const void *b)
{
    const coll_entry *x = a, *y = b;
    if (x->array != y->array)
        return (x->array > y->array) - (x->array < y->array);
    for (int d = 0; d < FLOE_MAX_DIMS; d++)
        if (x->coord[d] != y->coord[d])
            return (x->coord[d] > y->coord[d]) - (x->coord[d] < y->coord[d]);
    return 0;
}

static uint32_t ndim_of(const floe_ref_collector *c, uint32_t array, uint32_t *slot)
{
    for (size_t i = 0; i < c->narrays; i++)
        if (c->arrays[i].array == array) {
            *slot = (uint32_t)i;
            return c->arrays[i].ndim;
        }
    return 0; /* not reached: every entry's array is covered */
}

floe_err floe_ref_collector_blob(floe_ref_collector *c, floe_buf *out)
{
    if (c->narrays) /* qsort's base must not be NULL, even for none */
        qsort(c->arrays, c->narrays, sizeof *c->arrays, cmp_array);
    if (c->n)
        qsort(c->e, c->n, sizeof *c->e, cmp_entry);
    size_t n = 0; /* each chunk once: the same chunk has the same ref */
    for (size_t i = 0; i < c->n; i++)
        if (!n || cmp_entry(&c->e[n - 1], &c->e[i]))
            c->e[n++] = c->e[i];
    c->n = n;
    uint64_t string_bytes = 0;
    for (size_t i = 0; i < c->nstr; i++)
        string_bytes += strlen(c->str[i]) + 1;
    FLOE_CHECK(floe_buf_append(out, REF_TABLE_MAGIC, sizeof REF_TABLE_MAGIC));
    FLOE_CHECK(put_u32(out, (uint32_t)c->narrays));
    FLOE_CHECK(put_u32(out, (uint32_t)c->nstr));
    FLOE_CHECK(put_u64(out, c->n));
    FLOE_CHECK(put_u64(out, string_bytes));
    FLOE_CHECK(put_u64(out, c->inl.len));
    for (size_t i = 0; i < c->narrays; i++) {
        FLOE_CHECK(put_u32(out, c->arrays[i].array));
        FLOE_CHECK(put_u32(out, c->arrays[i].ndim));
    }
    for (size_t i = 0; i < c->nstr; i++)
        FLOE_CHECK(floe_buf_append(out, c->str[i], strlen(c->str[i]) + 1));
    FLOE_CHECK(floe_buf_append(out, c->inl.data, c->inl.len));
    for (size_t i = 0; i < c->n; i++) {
        const coll_entry *e = &c->e[i];
        uint32_t slot = 0, ndim = ndim_of(c, e->array, &slot);
        FLOE_CHECK(put_u32(out, slot));
        FLOE_CHECK(floe_buf_append(out, &e->kind, 1));
        for (uint32_t d = 0; d < ndim; d++)
            FLOE_CHECK(put_u64(out, e->coord[d]));
        switch ((ic_chunk_kind)e->kind) {
        case IC_CHUNK_MISSING:
            break;
        case IC_CHUNK_INLINE:
            FLOE_CHECK(put_u64(out, e->offset));
            FLOE_CHECK(put_u64(out, e->length));
            break;
        case IC_CHUNK_NATIVE:
            FLOE_CHECK(put_u32(out, e->str));
            FLOE_CHECK(put_u64(out, e->offset));
            FLOE_CHECK(put_u64(out, e->length));
            break;
        case IC_CHUNK_VIRTUAL:
            FLOE_CHECK(put_u32(out, e->str));
            FLOE_CHECK(put_u32(out, e->etag));
            FLOE_CHECK(put_u64(out, (uint64_t)e->last_modified));
            FLOE_CHECK(put_u64(out, e->offset));
            FLOE_CHECK(put_u64(out, e->length));
            break;
        }
    }
    return NULL;
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
    const uint8_t *p = take(r, 5);
    if (!p)
        return BAD("entry %llu is cut short", (unsigned long long)i);
    e->slot = get_u32(p);
    e->kind = p[4];
    e->str = e->etag = REF_TABLE_NONE;
    if (e->slot >= t->narrays)
        return BAD("entry %llu names array slot %u of %u", (unsigned long long)i, e->slot,
                   t->narrays);
    uint32_t ndim = t->ndim[e->slot];
    if (!(e->coord = take(r, (uint64_t)ndim * 8)))
        return BAD("entry %llu is cut short", (unsigned long long)i);
    size_t fixed = e->kind == IC_CHUNK_MISSING  ? 0
                   : e->kind == IC_CHUNK_INLINE ? 16
                   : e->kind == IC_CHUNK_NATIVE ? 20
                   : e->kind == IC_CHUNK_VIRTUAL ? 32 : SIZE_MAX;
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
    enum { HEADER = sizeof REF_TABLE_MAGIC + 4 + 4 + 8 + 8 + 8 };
    const uint8_t *h = take(&r, HEADER);
    if (!h || memcmp(h, REF_TABLE_MAGIC, sizeof REF_TABLE_MAGIC))
        return BAD("no header (%zu bytes)", len);
    h += sizeof REF_TABLE_MAGIC;
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
    /* the smallest entry: a slot and a kind */
    if (n > r.left / 5)
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
