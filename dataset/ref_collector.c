/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/ref_collector.c - collecting one rank's chunk refs on the rank
 * that plans (ref_table.h): strings interned, each chunk once, kept as a
 * linear chunk index, and written as the table's blob (its layout:
 * ref_table.h; read back by ref_table.c). */
#include "dataset/ref_table.h"

#include <stdlib.h>
#include <string.h>

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

/* ---- collecting ---- */

/* One chunk's ref. Its coordinate is kept as its index in the array's
 * chunk grid, row-major, so an entry is the same few bytes whatever the
 * rank (a whole archive's refs pass through here) and (array, chunk)
 * orders as (array, coordinate) does. */
typedef struct coll_entry {
    uint64_t chunk;          /* the linear chunk index (coll_array.grid) */
    uint64_t offset, length; /* INLINE: into the inline bytes */
    int64_t last_modified;
    uint32_t array;
    uint32_t str, etag;      /* string ids: location or native chunk id; ETag */
    uint8_t kind;
} coll_entry;

typedef struct coll_array {
    uint32_t array, ndim;
    uint64_t grid[FLOE_MAX_DIMS]; /* chunks along each dimension */
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
    /* open addressing over the inline entries: index in e + 1, 0 empty;
     * a power of two, at least twice ninl (an inline chunk added again
     * keeps its first bytes, not a second copy) */
    size_t *inl_slot;
    size_t ninl, ninl_slot;
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
    free((*c)->inl_slot);
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

/* The covered array's entry, or NULL. */
static const coll_array *array_of(const floe_ref_collector *c, uint32_t array, uint32_t *slot)
{
    for (size_t i = 0; i < c->narrays; i++)
        if (c->arrays[i].array == array) {
            *slot = (uint32_t)i;
            return &c->arrays[i];
        }
    return NULL;
}

floe_err floe_ref_collector_cover(floe_ref_collector *c, uint32_t array, int ndim,
                                  const uint64_t *grid)
{
    if (ndim < 0 || ndim > FLOE_MAX_DIMS)
        return FLOE_ERR(FLOE_EINVAL, "array %u has %d dimensions", array, ndim);
    uint32_t slot;
    const coll_array *had = array_of(c, array, &slot);
    if (had)
        return had->ndim == (uint32_t)ndim
                   ? NULL
                   : FLOE_ERR(FLOE_EINVAL, "array %u with %d and %u dimensions", array, ndim,
                              had->ndim);
    coll_array a = {array, (uint32_t)ndim, {0}};
    uint64_t chunks = 1; /* the linear index must fit */
    for (int d = 0; d < ndim; d++) {
        a.grid[d] = grid[d];
        if (grid[d] && chunks > UINT64_MAX / grid[d])
            return FLOE_ERR(FLOE_EINVAL, "array %u's chunk grid is too large for a ref table",
                            array);
        chunks *= grid[d];
    }
    if (c->narrays == c->cap_arrays) {
        size_t cap = c->cap_arrays ? 2 * c->cap_arrays : 8;
        coll_array *p = realloc(c->arrays, cap * sizeof *p);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "a ref table's arrays");
        c->arrays = p;
        c->cap_arrays = cap;
    }
    c->arrays[c->narrays++] = a;
    return NULL;
}

static size_t hash_chunk(uint32_t array, uint64_t chunk)
{
    uint64_t h = (chunk ^ ((uint64_t)array << 40)) * 0x9E3779B97F4A7C15u; /* Fibonacci */
    return (size_t)(h ^ (h >> 29));
}

/* The inline entry of (array, chunk) added before: its index + 1 in e, or
 * 0 with *at where to note a new one. */
static size_t inline_seen(const floe_ref_collector *c, uint32_t array, uint64_t chunk, size_t *at)
{
    size_t k = hash_chunk(array, chunk) & (c->ninl_slot - 1);
    for (; c->inl_slot[k]; k = (k + 1) & (c->ninl_slot - 1)) {
        const coll_entry *e = &c->e[c->inl_slot[k] - 1];
        if (e->array == array && e->chunk == chunk)
            return c->inl_slot[k];
    }
    *at = k;
    return 0;
}

/* Room for one more inline entry in the hash; rehashes at half full. */
static floe_err grow_inline_slots(floe_ref_collector *c)
{
    if (2 * (c->ninl + 1) <= c->ninl_slot)
        return NULL;
    size_t n = c->ninl_slot ? 2 * c->ninl_slot : 64;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return FLOE_ERR(FLOE_ENOMEM, "a ref table's inline chunks (%zu)", c->ninl);
    for (size_t i = 0; i < c->ninl_slot; i++)
        if (c->inl_slot[i]) {
            const coll_entry *e = &c->e[c->inl_slot[i] - 1];
            size_t k = hash_chunk(e->array, e->chunk) & (n - 1);
            while (s[k])
                k = (k + 1) & (n - 1);
            s[k] = c->inl_slot[i];
        }
    free(c->inl_slot);
    c->inl_slot = s;
    c->ninl_slot = n;
    return NULL;
}

floe_err floe_ref_collector_add(floe_ref_collector *c, uint32_t array, int ndim,
                                const uint64_t *coord, const ic_chunk_ref *ref)
{
    uint32_t slot;
    const coll_array *a = array_of(c, array, &slot);
    if (!a || a->ndim != (uint32_t)ndim)
        return FLOE_ERR(FLOE_EINVAL, "a ref of array %u (%d dimensions) not covered first",
                        array, ndim);
    coll_entry e;
    memset(&e, 0, sizeof e);
    e.array = array;
    e.kind = (uint8_t)ref->kind;
    e.str = e.etag = REF_TABLE_NONE;
    for (int d = 0; d < ndim; d++) {
        if (coord[d] >= a->grid[d])
            return FLOE_ERR(FLOE_EINVAL, "chunk %llu along dimension %d of array %u, of %llu",
                            (unsigned long long)coord[d], d, array,
                            (unsigned long long)a->grid[d]);
        e.chunk = e.chunk * a->grid[d] + coord[d];
    }
    size_t inl_at = 0;
    switch (ref->kind) {
    case IC_CHUNK_MISSING:
        break;
    case IC_CHUNK_INLINE:
        FLOE_CHECK(grow_inline_slots(c));
        if (inline_seen(c, array, e.chunk, &inl_at)) /* the same chunk has the same bytes */
            return NULL;
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
    if (e.kind == IC_CHUNK_INLINE) {
        c->inl_slot[inl_at] = c->n;
        c->ninl++;
    }
    return NULL;
}

static int cmp_array(const void *a, const void *b)
{
    uint32_t x = ((const coll_array *)a)->array, y = ((const coll_array *)b)->array;
    return (x > y) - (x < y);
}

/* By array, then chunk: by coordinate (row-major). */
static int cmp_entry(const void *a, const void *b)
{
    const coll_entry *x = a, *y = b;
    if (x->array != y->array)
        return (x->array > y->array) - (x->array < y->array);
    return (x->chunk > y->chunk) - (x->chunk < y->chunk);
}

/* The coordinate of linear chunk index `chunk` in a's grid. */
static void coord_of(const coll_array *a, uint64_t chunk, uint64_t *coord)
{
    for (uint32_t d = a->ndim; d-- > 0;) {
        coord[d] = chunk % a->grid[d]; /* a grid with an entry has no empty dimension */
        chunk /= a->grid[d];
    }
}

floe_err floe_ref_collector_blob(floe_ref_collector *c, floe_buf *out)
{
    if (c->narrays) /* qsort's base must not be NULL, even for none */
        qsort(c->arrays, c->narrays, sizeof *c->arrays, cmp_array);
    if (c->n)
        qsort(c->e, c->n, sizeof *c->e, cmp_entry);
    /* the inline hash points into e, reordered now (an add after this
     * would only lose the inline dedup; the dedup below keeps one) */
    free(c->inl_slot);
    c->inl_slot = NULL;
    c->ninl = c->ninl_slot = 0;
    size_t n = 0; /* each chunk once: the same chunk has the same ref */
    for (size_t i = 0; i < c->n; i++)
        if (!n || cmp_entry(&c->e[n - 1], &c->e[i]))
            c->e[n++] = c->e[i];
    c->n = n;
    uint64_t string_bytes = 0;
    for (size_t i = 0; i < c->nstr; i++)
        string_bytes += strlen(c->str[i]) + 1;
    FLOE_CHECK(floe_buf_append(out, REF_TABLE_MAGIC, REF_TABLE_MAGIC_BYTES));
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
        uint32_t slot = 0;
        const coll_array *a = array_of(c, e->array, &slot); /* covered: add checks */
        uint64_t coord[FLOE_MAX_DIMS];
        coord_of(a, e->chunk, coord);
        FLOE_CHECK(put_u32(out, slot));
        FLOE_CHECK(floe_buf_append(out, &e->kind, 1));
        for (uint32_t d = 0; d < a->ndim; d++)
            FLOE_CHECK(put_u64(out, coord[d]));
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
