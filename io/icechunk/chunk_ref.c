/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/chunk_ref.c - chunk references out of manifests: looking one
 * up by coordinate, walking every ref of an array (each once, however many
 * manifests list it) and counting them, native chunk URLs and reads.
 *
 * Refs are not checked when a manifest is read (manifest.c), and no
 * lookup walks them all (the refs are sorted: search, don't walk). What
 * is checked: each ref a lookup's binary search visits has the array's
 * number of coordinates; a ref it finds sorts between its neighbours; a
 * coordinate it does not find has its neighbours at that place (or, past
 * the end, the last two refs) in order. A walk (ic_array_each_ref) checks
 * every ref and the order as it goes. What is not: order elsewhere, so a
 * manifest whose refs are out of order can hide a chunk from a lookup,
 * which then answers MISSING (fill values) without an error, as in
 * Icechunk's own reader (also a binary search without a walk). Counting
 * reads coordinates only (and none where an extent covers the whole
 * grid), never a location.
 *
 * Locations that are not stored verbatim (dictionary-compressed
 * `compressed_location`, relative `vcc://NAME/...`) are expanded on first
 * use and kept per ref, so the pointer a lookup returns stays valid as
 * long as the manifest is cached.
 */
#include "io/icechunk/format/ids.h"
#include "io/icechunk/manifest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Icechunk caps a decompressed location at 1024 bytes. */
#define IC_MAX_COMPRESSED_LOCATION 1024

static int extent_contains(const ic_manifest_extent *e, const uint32_t *coord)
{
    for (int d = 0; d < e->ndim; d++)
        if (coord[d] < e->from[d] || coord[d] >= e->to[d])
            return 0;
    return 1; /* an empty extents vector matches every coordinate */
}

/* ---- expanding locations ---------------------------------------------------------- */

static floe_err decompress_location(ic_manifest *m, const fb_vector *cl, char **out)
{
    if (!m->dict || m->compression != 1)
        return FLOE_ERR(FLOE_EFORMAT, "compressed_location without a location dictionary");
    if (!m->ddict) {
        m->ddict = ZSTD_createDDict(m->dict, m->dict_len);
        m->dctx = ZSTD_createDCtx();
        if (!m->ddict || !m->dctx)
            return FLOE_ERR(FLOE_ENOMEM, "zstd: cannot load the location dictionary");
    }
    char buf[IC_MAX_COMPRESSED_LOCATION + 1];
    const uint8_t *src = cl->n ? fb_vector_elem(cl, 0) : (const uint8_t *)"";
    size_t n = ZSTD_decompress_usingDDict(m->dctx, buf, IC_MAX_COMPRESSED_LOCATION, src, cl->n,
                                          m->ddict);
    if (ZSTD_isError(n))
        return FLOE_ERR(FLOE_EFORMAT, "compressed_location: %s", ZSTD_getErrorName(n));
    if (memchr(buf, '\0', n))
        return FLOE_ERR(FLOE_EFORMAT, "compressed_location holds a NUL byte");
    buf[n] = '\0';
    *out = strdup(buf);
    return *out ? NULL : FLOE_ERR(FLOE_ENOMEM, "out of memory");
}

/* vcc://NAME/path -> the url_prefix of the container named NAME + path. */
static floe_err expand_vcc(const ic_repo *r, const char *loc, char **out)
{
    const char *name = loc + strlen("vcc://");
    const char *slash = strchr(name, '/');
    size_t nlen = slash ? (size_t)(slash - name) : strlen(name);
    for (size_t i = 0; slash && i < r->n_containers; i++) {
        const ic_container *c = &r->containers[i];
        if (c->name && strlen(c->name) == nlen && !strncmp(c->name, name, nlen)) {
            size_t a = strlen(c->url_prefix), b = strlen(slash + 1);
            *out = malloc(a + b + 1);
            if (!*out)
                return FLOE_ERR(FLOE_ENOMEM, "out of memory");
            memcpy(*out, c->url_prefix, a);
            memcpy(*out + a, slash + 1, b + 1);
            return NULL;
        }
    }
    return FLOE_ERR(FLOE_ENOTFOUND, "location %.200s: the repository has no virtual chunk container named \"%.*s\"",
                    loc, (int)(nlen > 100 ? 100 : nlen), name);
}

static const int VCC_LEN = 6; /* strlen("vcc://") */

/* ---- building an ic_chunk_ref ---------------------------------------------------------- */

static floe_err make_ref(ic_repo *r, ic_manifest *m, ic_array_refs *a, uint32_t i,
                         const fb_table *t, ic_chunk_ref *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->manifest_id, m->id_str, sizeof out->manifest_id);
    const uint8_t *chunk_id;
    fb_vector inl, cloc;
    const char *loc;
    FLOE_CHECK(fb_field_u64(t, CR_OFFSET, "offset", 0, &out->offset));
    FLOE_CHECK(fb_field_u64(t, CR_LENGTH, "length", 0, &out->length));
    FLOE_CHECK(fb_field_struct(t, CR_CHUNK_ID, "chunk_id", IC_ID12_BYTES, 0, &chunk_id));
    /* Icechunk's classification order: chunk_id, compressed_location,
     * location, inline. */
    if (chunk_id) {
        out->kind = IC_CHUNK_NATIVE;
        ic_id_encode(chunk_id, IC_ID12_BYTES, out->chunk_id);
        return NULL;
    }
    FLOE_CHECK(fb_field_vector(t, CR_COMPRESSED_LOCATION, "compressed_location", 1, 0, &cloc));
    FLOE_CHECK(fb_field_string(t, CR_LOCATION, "location", 0, &loc, NULL));
    if (cloc.present || loc) {
        out->kind = IC_CHUNK_VIRTUAL;
        if (cloc.present || !strncmp(loc, "vcc://", VCC_LEN)) {
            if (!a->locations) {
                a->locations = calloc(a->refs.n, sizeof *a->locations);
                if (!a->locations)
                    return FLOE_ERR(FLOE_ENOMEM, "out of memory");
            }
            if (!a->locations[i]) {
                char *plain = NULL;
                if (cloc.present)
                    FLOE_CHECK(decompress_location(m, &cloc, &plain));
                if (!strncmp(plain ? plain : loc, "vcc://", VCC_LEN)) {
                    char *full = NULL;
                    floe_err err = expand_vcc(r, plain ? plain : loc, &full);
                    free(plain);
                    FLOE_CHECK(err);
                    plain = full;
                }
                a->locations[i] = plain;
            }
            out->location = a->locations[i];
        } else {
            out->location = loc;
        }
        const char *etag;
        uint32_t lm;
        FLOE_CHECK(fb_field_string(t, CR_ETAG, "checksum_etag", 0, &etag, NULL));
        FLOE_CHECK(fb_field_u32(t, CR_LAST_MODIFIED, "checksum_last_modified", 0, &lm));
        out->etag = etag;
        out->last_modified = etag ? 0 : (int64_t)lm;
        return NULL;
    }
    FLOE_CHECK(fb_field_vector(t, CR_INLINE, "inline", 1, 0, &inl));
    if (inl.present) {
        out->kind = IC_CHUNK_INLINE;
        out->inline_data = inl.n ? fb_vector_elem(&inl, 0) : (const uint8_t *)"";
        out->inline_len = inl.n;
        return NULL;
    }
    return FLOE_ERR(FLOE_EFORMAT, "chunk ref has neither chunk_id, location nor inline data");
}

static void coord_text(const uint32_t *coord, uint32_t ndim, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (uint32_t d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%u", d ? "," : "", coord[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* ---- refs checked where touched ----------------------------------------------------------- */

/* Ref i's coordinate vector, checked to have the array's ndim entries. */
static floe_err ref_index_checked(const ic_array_refs *a, uint32_t i, uint32_t ndim, fb_table *t,
                                  fb_vector *index)
{
    FLOE_CHECK(ic_ref_index(&a->refs, i, t, index));
    if (index->n != ndim)
        return FLOE_ERR(FLOE_EFORMAT, "ref %u has %u coordinates, the array has %u dimensions", i,
                        index->n, ndim);
    return NULL;
}

/* *cmp: ref i's coordinate against c (ic_ref_cmp_index), ref i checked. */
static floe_err ref_cmp_checked(const ic_array_refs *a, uint32_t i, const uint32_t *c,
                                uint32_t ndim, fb_table *t, int *cmp)
{
    fb_vector index;
    FLOE_CHECK(ref_index_checked(a, i, ndim, t, &index));
    *cmp = ic_ref_cmp_index(&index, c, ndim);
    return NULL;
}

/* The ref found at i for coordinate c sorts strictly after ref i-1 and
 * before ref i+1: a manifest whose refs are out of order is refused where
 * a lookup lands, rather than answering from the wrong place. */
static floe_err neighbours_sorted(const ic_array_refs *a, uint32_t i, const uint32_t *c,
                                  uint32_t ndim)
{
    fb_table t;
    int cmp;
    if (i > 0) {
        FLOE_CHECK(ref_cmp_checked(a, i - 1, c, ndim, &t, &cmp));
        if (cmp >= 0)
            return FLOE_ERR(FLOE_EFORMAT, "ref %u is not sorted after ref %u by coordinate", i,
                            i - 1);
    }
    if (i + 1 < a->refs.n) {
        FLOE_CHECK(ref_cmp_checked(a, i + 1, c, ndim, &t, &cmp));
        if (cmp <= 0)
            return FLOE_ERR(FLOE_EFORMAT, "ref %u is not sorted after ref %u by coordinate", i + 1,
                            i);
    }
    return NULL;
}

/* Ref i sorts strictly before ref i + 1 (both checked). */
static floe_err pair_sorted(const ic_array_refs *a, uint32_t i, uint32_t ndim)
{
    fb_table t;
    fb_vector index;
    uint32_t c[IC_MAX_DIMS];
    FLOE_CHECK(ref_index_checked(a, i, ndim, &t, &index));
    for (uint32_t d = 0; d < ndim; d++)
        c[d] = fb_vector_u32(&index, d);
    int cmp;
    FLOE_CHECK(ref_cmp_checked(a, i + 1, c, ndim, &t, &cmp));
    if (cmp <= 0)
        return FLOE_ERR(FLOE_EFORMAT, "ref %u is not sorted after ref %u by coordinate", i + 1, i);
    return NULL;
}

/* A coordinate the search did not find, where it would be (before ref
 * `at`; at == n: past the last): the refs next to that place are in order
 * (past the end: the last ref after its predecessor). Refs out of order
 * elsewhere can still send the search past a chunk (see the top comment). */
static floe_err gap_sorted(const ic_array_refs *a, uint32_t at, uint32_t ndim)
{
    uint32_t n = a->refs.n;
    if (n < 2)
        return NULL;
    if (at >= n)
        return pair_sorted(a, n - 2, ndim);
    if (at > 0)
        FLOE_CHECK(pair_sorted(a, at - 1, ndim));
    if (at + 1 < n)
        FLOE_CHECK(pair_sorted(a, at, ndim));
    return NULL;
}

/* ---- public ---------------------------------------------------------------------------- */

floe_err ic_chunk_ref_lookup(ic_repo *r, const ic_node *array, const uint64_t *coord,
                             ic_chunk_ref *out)
{
    memset(out, 0, sizeof *out);
    out->kind = IC_CHUNK_MISSING;
    if (!array->is_array)
        return FLOE_ERR(FLOE_EINVAL, "%s is a group, not an array", array->path);
    uint32_t c[IC_MAX_DIMS];
    for (int d = 0; d < array->ndim; d++) {
        /* Icechunk accepts index 0 of a zero-length dimension. */
        uint32_t n = array->num_chunks[d] ? array->num_chunks[d] : 1;
        if (coord[d] >= n)
            return NULL; /* outside the chunk grid */
        c[d] = (uint32_t)coord[d];
    }
    const ic_manifest_extent *e = NULL;
    for (size_t i = 0; i < array->n_manifests && !e; i++)
        if (extent_contains(&array->manifests[i], c))
            e = &array->manifests[i];
    if (!e)
        return NULL;
    ic_manifest *m;
    FLOE_CHECK(ic_manifest_get(r, e, &m), "array %s", array->path);
    ic_array_refs *a = ic_manifest_array(m, array->id);
    if (!a)
        return NULL;
    uint32_t ndim = (uint32_t)array->ndim;
    char where[16 * IC_MAX_DIMS];
    /* Binary search over refs nobody checked at load: each ref it visits
     * must have the array's number of coordinates, the one it finds must
     * sort between its neighbours, and where it finds none the refs next
     * to that place must be in order (gap_sorted); order elsewhere is not
     * checked (top comment). */
    uint32_t lo = 0, hi = a->refs.n;
    floe_err err = NULL;
    while (lo < hi && !err) {
        uint32_t mid = lo + (hi - lo) / 2;
        fb_table t;
        int cmp;
        err = ref_cmp_checked(a, mid, c, ndim, &t, &cmp);
        if (err)
            break;
        if (cmp == 0) {
            err = neighbours_sorted(a, mid, c, ndim);
            if (!err)
                err = make_ref(r, m, a, mid, &t, out);
            break;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!err && lo == hi)
        err = gap_sorted(a, lo, ndim);
    if (err) {
        coord_text(c, ndim, where, sizeof where);
        memset(out, 0, sizeof *out);
        out->kind = IC_CHUNK_MISSING;
        return floe_err_push(err, __FILE__, __LINE__, " manifest %smanifests/%s: array %s chunk %s",
                             r->root, m->id_str, array->path, where);
    }
    return NULL;
}

typedef struct id_pos {
    const uint8_t *id;
    size_t pos;
} id_pos;

static int cmp_id_pos(const void *a, const void *b)
{
    const id_pos *x = a, *y = b;
    int c = memcmp(x->id, y->id, IC_ID12_BYTES);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* repeat[k] = 1 when manifests[k] names the same manifest as an earlier
 * entry, which is then walked once. Sorting keeps this O(M log M) for
 * arrays split into thousands of manifests. Owned by the caller. */
static floe_err repeated_manifests(const ic_node *array, uint8_t **repeat)
{
    size_t n = array->n_manifests;
    *repeat = calloc(n ? n : 1, 1);
    id_pos *v = malloc((n ? n : 1) * sizeof *v);
    if (!*repeat || !v) {
        free(*repeat);
        free(v);
        *repeat = NULL;
        return FLOE_ERR(FLOE_ENOMEM, "out of memory for %zu manifests", n);
    }
    for (size_t k = 0; k < n; k++)
        v[k] = (id_pos){array->manifests[k].id_bytes, k};
    qsort(v, n, sizeof *v, cmp_id_pos);
    for (size_t k = 1; k < n; k++)
        if (!memcmp(v[k].id, v[k - 1].id, IC_ID12_BYTES))
            (*repeat)[v[k].pos] = 1;
    free(v);
    return NULL;
}

/* The refs of `array` in its k-th manifest. */
static floe_err walk_manifest(ic_repo *r, const ic_node *array, size_t k, ic_ref_visitor fn, void *ctx)
{
    const ic_manifest_extent *e = &array->manifests[k];
    ic_manifest *m;
    FLOE_CHECK(ic_manifest_get(r, e, &m), "array %s", array->path);
    ic_array_refs *a = ic_manifest_array(m, array->id);
    if (!a)
        return NULL;
    uint32_t ndim = (uint32_t)array->ndim, prev[IC_MAX_DIMS];
    for (uint32_t i = 0; i < a->refs.n; i++) {
        fb_table t;
        fb_vector index;
        uint32_t c[IC_MAX_DIMS];
        /* Each ref checked as it is walked: its coordinates, and that it
         * sorts after the one before (what lookups' binary search needs). */
        floe_err bad = ref_index_checked(a, i, ndim, &t, &index);
        if (!bad && i > 0 && ic_ref_cmp_index(&index, prev, ndim) <= 0)
            bad = FLOE_ERR(FLOE_EFORMAT, "ref %u is not sorted after ref %u by coordinate", i, i - 1);
        if (bad)
            return floe_err_push(bad, __FILE__, __LINE__, " manifest %smanifests/%s: array %s",
                                 r->root, m->id_str, array->path);
        for (uint32_t d = 0; d < ndim; d++)
            c[d] = prev[d] = fb_vector_u32(&index, d);
        /* Visit a ref only where a lookup would find it: inside one of
         * this manifest's extents for the array. */
        int inside = extent_contains(e, c);
        for (size_t j = k + 1; j < array->n_manifests && !inside; j++)
            inside = !memcmp(array->manifests[j].id_bytes, e->id_bytes, IC_ID12_BYTES) &&
                     extent_contains(&array->manifests[j], c);
        if (!inside)
            continue;
        ic_chunk_ref ref;
        floe_err err = make_ref(r, m, a, i, &t, &ref);
        if (err) {
            char where[16 * IC_MAX_DIMS];
            coord_text(c, ndim, where, sizeof where);
            return floe_err_push(err, __FILE__, __LINE__, " manifest %smanifests/%s: array %s chunk %s", r->root,
                                 m->id_str, array->path, where);
        }
        FLOE_CHECK(fn(ctx, c, &ref));
    }
    return NULL;
}

floe_err ic_array_each_ref(ic_repo *r, const ic_node *array, ic_ref_visitor fn, void *ctx)
{
    if (!array->is_array)
        return FLOE_ERR(FLOE_EINVAL, "%s is a group, not an array", array->path);
    uint8_t *repeat;
    FLOE_CHECK(repeated_manifests(array, &repeat));
    floe_err err = NULL;
    for (size_t k = 0; k < array->n_manifests && !err; k++)
        if (!repeat[k])
            err = walk_manifest(r, array, k, fn, ctx);
    free(repeat);
    return err;
}

/* Does some extent of `array` naming manifest k's id (k or a later
 * repeat of it) cover the whole chunk grid? Then every ref of the array
 * in that manifest counts, without reading one. */
static int whole_grid(const ic_node *array, size_t k)
{
    const uint8_t *id = array->manifests[k].id_bytes;
    for (size_t j = k; j < array->n_manifests; j++) {
        const ic_manifest_extent *e = &array->manifests[j];
        if (memcmp(e->id_bytes, id, IC_ID12_BYTES))
            continue;
        int all = 1;
        for (int d = 0; d < e->ndim && all; d++)
            all = e->from[d] == 0 && e->to[d] >= (array->num_chunks[d] ? array->num_chunks[d] : 1);
        if (all)
            return 1;
    }
    return 0;
}

/* The refs of `array` in manifest m (its k-th) that a lookup could find:
 * those inside one of the extents naming m. Only coordinates are read: no
 * location is decoded, nothing is kept. */
static floe_err count_in_manifest(const ic_node *array, size_t k, ic_manifest *m, uint64_t *n)
{
    ic_array_refs *a = ic_manifest_array(m, array->id);
    if (!a)
        return NULL;
    if (whole_grid(array, k)) {
        *n += a->refs.n;
        return NULL;
    }
    const ic_manifest_extent *e = &array->manifests[k];
    uint32_t ndim = (uint32_t)array->ndim;
    for (uint32_t i = 0; i < a->refs.n; i++) {
        fb_table t;
        fb_vector index;
        uint32_t c[IC_MAX_DIMS];
        FLOE_CHECK(ref_index_checked(a, i, ndim, &t, &index), "manifest %s: array %s", m->id_str,
                   array->path);
        for (uint32_t d = 0; d < ndim; d++)
            c[d] = fb_vector_u32(&index, d);
        int inside = extent_contains(e, c);
        for (size_t j = k + 1; j < array->n_manifests && !inside; j++)
            inside = !memcmp(array->manifests[j].id_bytes, e->id_bytes, IC_ID12_BYTES) &&
                     extent_contains(&array->manifests[j], c);
        *n += (uint64_t)inside;
    }
    return NULL;
}

/* The refs of `array`, counted manifest by manifest. A manifest that only
 * this extent names, over the whole chunk grid, holds nothing but the
 * array's refs: the count the snapshot lists for it is the answer, and
 * nothing is read (Icechunk's default, one manifest per array: counting an
 * archive's 14 million refs costs no manifest). Any other manifest the
 * repo does not cache is read, counted and dropped at once, so counting
 * holds one manifest at a time. */
static floe_err count_refs(ic_repo *r, const ic_node *array, const uint8_t *repeat, uint64_t *n)
{
    *n = 0;
    for (size_t k = 0; k < array->n_manifests; k++) {
        if (repeat[k])
            continue;
        const ic_manifest_extent *e = &array->manifests[k];
        if (e->users == 1 && e->listed_refs && whole_grid(array, k)) {
            *n += e->listed_refs;
            continue;
        }
        ic_manifest *m = ic_manifest_cached(r, e->id_bytes), *own = NULL;
        if (!m)
            FLOE_CHECK(ic_manifest_read(r, e, &own)); /* the caller names the array */
        floe_err err = count_in_manifest(array, k, m ? m : own, n);
        ic_manifest_free(&own);
        FLOE_CHECK(err);
    }
    return NULL;
}

floe_err ic_array_count_refs(ic_repo *r, const ic_node *array, uint64_t *n_refs, size_t *n_manifests)
{
    if (!array->is_array)
        return FLOE_ERR(FLOE_EINVAL, "%s is a group, not an array", array->path);
    uint8_t *repeat;
    FLOE_CHECK(repeated_manifests(array, &repeat));
    floe_err err = n_refs ? count_refs(r, array, repeat, n_refs) : NULL;
    if (n_manifests) {
        size_t distinct = 0;
        for (size_t k = 0; k < array->n_manifests; k++)
            distinct += !repeat[k];
        *n_manifests = distinct;
    }
    free(repeat);
    return err;
}

floe_err ic_native_chunk_url(const ic_repo *r, const ic_chunk_ref *ref, char **url)
{
    *url = NULL;
    if (ref->kind != IC_CHUNK_NATIVE)
        return FLOE_ERR(FLOE_EINVAL, "not a native chunk reference");
    char key[40];
    snprintf(key, sizeof key, "chunks/%s", ref->chunk_id);
    return ic_repo_url(r, key, url);
}

floe_err ic_read_stored_chunk(ic_repo *r, const ic_chunk_ref *ref, floe_buf *out)
{
    switch (ref->kind) {
    case IC_CHUNK_INLINE:
        FLOE_CHECK(floe_buf_append(out, ref->inline_data, ref->inline_len), "inline chunk");
        return NULL;
    case IC_CHUNK_NATIVE: {
        if (ref->length == 0)
            return NULL; /* an empty chunk; a transport length of 0 would mean "all" */
        char *url;
        FLOE_CHECK(ic_native_chunk_url(r, ref, &url));
        size_t before = out->len;
        /* Icechunk writes each native chunk as an object of its own (offset
         * 0, the whole object): read it whole, so that it can come from the
         * object cache (coordinates at open, transport.h). */
        floe_err err = floe_transport_get(r->t, url, ref->offset, ref->offset ? ref->length : 0,
                                          NULL, out);
        if (!err && out->len - before > ref->length && !ref->offset)
            out->len = before + ref->length; /* a longer object: its first bytes */
        if (!err && out->len - before != ref->length) {
            err = FLOE_ERR(FLOE_EFORMAT, "got %zu bytes, the reference says %llu", out->len - before,
                           (unsigned long long)ref->length);
            out->len = before; /* out is left as it was */
        }
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " native chunk %s (bytes %llu+%llu)", url,
                                (unsigned long long)ref->offset, (unsigned long long)ref->length);
        free(url);
        return err;
    }
    case IC_CHUNK_VIRTUAL:
        return FLOE_ERR(FLOE_EINVAL, "virtual chunk at %s: fetched through the virtual-access layer",
                        ref->location ? ref->location : "?");
    default:
        return FLOE_ERR(FLOE_EINVAL, "missing chunk: there are no stored bytes (fill value)");
    }
}
