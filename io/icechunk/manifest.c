/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/manifest.c - manifest files (type 2): read, checked, indexed and cached.
 *
 * A manifest holds, per array (node id), the ChunkRefs of some of its
 * chunks, sorted by coordinate. Manifests are immutable, so each is read
 * once and kept in the repository's cache; chunk refs hand out pointers
 * into it. At load only the arrays are indexed by node id: the refs (1.4
 * million per array in a real archive) are checked where they are
 * touched, by the lookup's binary search and the walks (chunk_ref.c, whose
 * top comment says what a search does not check), so that opening a
 * manifest costs its unpacking, not a walk of every ref.
 */
#include "io/fetch/prefetch.h"
#include "io/icechunk/format/ids.h"
#include "io/icechunk/manifest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Manifest table slots (shared/docs/icechunk-format.md §7.4). */
enum { MAN_ID = 0, MAN_ARRAYS = 1, MAN_DICTIONARY = 2, MAN_COMPRESSION = 3 };
enum { AM_NODE_ID = 0, AM_REFS = 1 };

void ic_manifest_free(ic_manifest **mp)
{
    if (!mp || !*mp)
        return;
    ic_manifest *m = *mp;
    for (uint32_t a = 0; m->arrays && a < m->n_arrays; a++) {
        if (m->arrays[a].locations)
            for (uint32_t i = 0; i < m->arrays[a].refs.n; i++)
                free(m->arrays[a].locations[i]);
        free(m->arrays[a].locations);
    }
    free(m->arrays);
    ZSTD_freeDDict(m->ddict);
    ZSTD_freeDCtx(m->dctx);
    ic_file_free(&m->file);
    free(m);
    *mp = NULL;
}

void ic_repo_drop_manifests(ic_repo *r)
{
    for (size_t i = 0; i < r->n_manifests; i++)
        ic_manifest_free(&r->manifests[i]);
    r->n_manifests = 0;
}

static int cmp_node_id(const void *a, const void *b)
{
    return memcmp(((const ic_array_refs *)a)->node_id, ((const ic_array_refs *)b)->node_id, 8);
}

/* The coordinate vector of a ChunkRef. */
floe_err ic_ref_index(const fb_vector *refs, uint32_t i, fb_table *ref, fb_vector *index)
{
    FLOE_CHECK(fb_vector_table(refs, i, ref), "refs");
    FLOE_CHECK(fb_field_vector(ref, CR_INDEX, "index", 4, 1, index), "ref %u", i);
    return NULL;
}

/* -1, 0, 1 comparing a stored index with a coordinate (lexicographic). */
int ic_ref_cmp_index(const fb_vector *index, const uint32_t *coord, uint32_t ndim)
{
    for (uint32_t d = 0; d < ndim; d++) {
        uint32_t v = fb_vector_u32(index, d);
        if (v != coord[d])
            return v < coord[d] ? -1 : 1;
    }
    return 0;
}

static floe_err parse_manifest(ic_manifest *m)
{
    const fb_table *root = &m->file.root;
    const uint8_t *id;
    FLOE_CHECK(fb_field_struct(root, MAN_ID, "id", 12, 1, &id));
    if (memcmp(id, m->id, 12) != 0) {
        char got[IC_SNAPSHOT_ID_SIZE];
        return FLOE_ERR(FLOE_EFORMAT, "the file holds manifest %s", ic_id_encode(id, 12, got));
    }
    fb_vector dict;
    FLOE_CHECK(fb_field_vector(root, MAN_DICTIONARY, "location_dictionary", 1, 0, &dict));
    if (dict.present && dict.n > 0) {
        m->dict = fb_vector_elem(&dict, 0);
        m->dict_len = dict.n;
    }
    FLOE_CHECK(fb_field_u8(root, MAN_COMPRESSION, "compression_algorithm", 1, &m->compression));
    fb_vector arrays;
    FLOE_CHECK(fb_field_vector(root, MAN_ARRAYS, "arrays", FB_REF_SIZE, 1, &arrays));
    m->arrays = calloc(arrays.n ? arrays.n : 1, sizeof *m->arrays);
    if (!m->arrays)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory for %u arrays", arrays.n);
    m->n_arrays = arrays.n;
    for (uint32_t a = 0; a < arrays.n; a++) {
        fb_table am;
        const uint8_t *node_id;
        FLOE_CHECK(fb_vector_table(&arrays, a, &am), "arrays");
        FLOE_CHECK(fb_field_struct(&am, AM_NODE_ID, "node_id", 8, 1, &node_id), "arrays[%u]", a);
        memcpy(m->arrays[a].node_id, node_id, 8);
        FLOE_CHECK(fb_field_vector(&am, AM_REFS, "refs", FB_REF_SIZE, 1, &m->arrays[a].refs), "arrays[%u]", a);
    }
    /* Writers sort by node id; sorting our own index keeps lookups right
     * even if one did not. */
    qsort(m->arrays, m->n_arrays, sizeof *m->arrays, cmp_node_id);
    for (uint32_t a = 1; a < m->n_arrays; a++)
        if (!memcmp(m->arrays[a].node_id, m->arrays[a - 1].node_id, 8)) {
            char nid[IC_NODE_ID_SIZE];
            return FLOE_ERR(FLOE_EFORMAT, "array %s is listed twice",
                            ic_id_encode(m->arrays[a].node_id, 8, nid));
        }
    return NULL;
}

/* Read and parse the manifest of extent e (not cached). */
floe_err ic_manifest_read(ic_repo *r, const ic_manifest_extent *e, ic_manifest **out)
{
    *out = NULL;
    ic_manifest *m = calloc(1, sizeof *m);
    if (!m)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    memcpy(m->id, e->id_bytes, IC_ID12_BYTES);
    ic_id_encode(m->id, IC_ID12_BYTES, m->id_str);
    char key[40], *url;
    snprintf(key, sizeof key, "manifests/%s", m->id_str);
    floe_err err = ic_repo_url(r, key, &url);
    if (err) {
        free(m);
        return err;
    }
    /* A large one not in the transport's cache yet (a lazy lookup's) comes
     * in parallel ranges; one a wave prefetched is skipped there. */
    err = ic_listed_size_check(r, e->size_bytes);
    if (!err && e->size_bytes >= FLOE_PREFETCH_RANGED_MIN_BYTES)
        err = floe_prefetch_sized(r->t, (const char *const *)&url, &e->size_bytes, 1);
    if (!err)
        err = ic_file_fetch(r, url, IC_FILE_MANIFEST, &m->file);
    if (!err)
        err = parse_manifest(m);
    if (err) {
        err = floe_err_push(err, __FILE__, __LINE__, " manifest %s", url);
        ic_manifest_free(&m);
    }
    free(url);
    *out = m;
    return err;
}

/* Where id is in r's cache, or would go (*found says which). */
static size_t cache_slot(const ic_repo *r, const uint8_t id[12], int *found)
{
    size_t lo = 0, hi = r->n_manifests;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(r->manifests[mid]->id, id, 12);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

ic_manifest *ic_manifest_cached(const ic_repo *r, const uint8_t id[12])
{
    int found;
    size_t at = cache_slot(r, id, &found);
    return found ? r->manifests[at] : NULL;
}

/* The cached manifest with this id, reading it on first use. */
floe_err ic_manifest_get(ic_repo *r, const ic_manifest_extent *e, ic_manifest **out)
{
    int found;
    size_t lo = cache_slot(r, e->id_bytes, &found);
    if (found) {
        *out = r->manifests[lo];
        return NULL;
    }
    if (r->n_manifests == r->cap_manifests) {
        size_t cap = r->cap_manifests ? 2 * r->cap_manifests : 16;
        ic_manifest **grown = realloc(r->manifests, cap * sizeof *grown);
        if (!grown)
            return FLOE_ERR(FLOE_ENOMEM, "out of memory");
        r->manifests = grown;
        r->cap_manifests = cap;
    }
    ic_manifest *m;
    FLOE_CHECK(ic_manifest_read(r, e, &m));
    memmove(&r->manifests[lo + 1], &r->manifests[lo], (r->n_manifests - lo) * sizeof *r->manifests);
    r->manifests[lo] = m;
    r->n_manifests++;
    *out = m;
    return NULL;
}

static int extents_overlap(const ic_manifest_extent *e, const uint32_t *from, const uint32_t *to)
{
    for (int d = 0; d < e->ndim; d++)
        if (to[d] <= e->from[d] || from[d] >= e->to[d])
            return 0;
    return 1; /* an empty extents vector matches every coordinate */
}

/* Read the manifests of extents[0..n) that are not cached yet: one
 * concurrent wave into the transport's cache (large ones in parallel
 * ranges), then each is read (from memory) and parsed in order. Those of
 * extents[nkept..n) that no earlier one shares are then forgotten by the
 * transport's object cache, so that a recording cache does not carry them
 * (ic_repo_load_manifests_beside). */
static floe_err load_extents(ic_repo *r, const ic_manifest_extent *const *extents, size_t n,
                             size_t nkept)
{
    if (!n)
        return NULL;
    const ic_manifest_extent **todo = malloc(n * sizeof *todo);
    char **urls = calloc(n, sizeof *urls);
    uint64_t *sizes = calloc(n, sizeof *sizes);
    unsigned char *forget = calloc(n, 1);
    floe_err err = NULL;
    if (!todo || !urls || !sizes || !forget)
        err = FLOE_ERR(FLOE_ENOMEM, "out of memory for %zu manifests", n);
    size_t k = 0;
    for (size_t i = 0; i < n && !err; i++) {
        const ic_manifest_extent *e = extents[i];
        int seen = ic_manifest_cached(r, e->id_bytes) != NULL;
        for (size_t q = 0; q < k && !seen; q++)
            seen = !memcmp(todo[q]->id_bytes, e->id_bytes, 12);
        if (seen)
            continue;
        char key[40];
        snprintf(key, sizeof key, "manifests/%s", e->id);
        todo[k] = e;
        forget[k] = i >= nkept;
        sizes[k] = e->size_bytes;
        err = ic_repo_url(r, key, &urls[k]);
        if (!err && (err = ic_listed_size_check(r, e->size_bytes)))
            err = floe_err_push(err, __FILE__, __LINE__, " manifest %s", urls[k]);
        k++;
    }
    /* large ones in parallel ranges */
    if (!err)
        err = floe_prefetch_sized(r->t, (const char *const *)urls, sizes, k);
    for (size_t q = 0; q < k && !err; q++) {
        ic_manifest *m;
        err = ic_manifest_get(r, todo[q], &m);
    }
    floe_object_cache *cache = floe_transport_cache(r->t);
    for (size_t q = 0; cache && q < k; q++)
        if (forget[q])
            floe_object_cache_forget(cache, urls[q]);
    for (size_t q = 0; urls && q < k; q++)
        free(urls[q]);
    free(urls);
    free(sizes);
    free(forget);
    free(todo);
    return err;
}

/* The manifests of arrays[0..n) appended to list at *k. */
static void list_manifests(const ic_node *const *arrays, size_t n,
                           const ic_manifest_extent **list, size_t *k)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; arrays[i]->is_array && j < arrays[i]->n_manifests; j++)
            list[(*k)++] = &arrays[i]->manifests[j];
}

static size_t count_manifests(const ic_node *const *arrays, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (arrays[i]->is_array)
            total += arrays[i]->n_manifests;
    return total;
}

floe_err ic_repo_load_manifests_beside(ic_repo *r, const ic_node *const *arrays, size_t n,
                                       const ic_node *const *beside, size_t nbeside)
{
    size_t kept = count_manifests(arrays, n);
    size_t total = kept + count_manifests(beside, nbeside);
    if (!total)
        return NULL;
    const ic_manifest_extent **list = malloc(total * sizeof *list);
    if (!list)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory for %zu manifests", total);
    size_t k = 0;
    list_manifests(arrays, n, list, &k);
    list_manifests(beside, nbeside, list, &k);
    floe_err err = load_extents(r, list, k, kept);
    free(list);
    return err;
}

floe_err ic_repo_load_manifests(ic_repo *r, const ic_node *const *arrays, size_t n)
{
    return ic_repo_load_manifests_beside(r, arrays, n, NULL, 0);
}

floe_err ic_repo_load_manifests_box(ic_repo *r, const ic_node *array, const uint32_t *from,
                                    const uint32_t *to)
{
    if (!array->is_array)
        return FLOE_ERR(FLOE_EINVAL, "%s is a group, not an array", array->path);
    if (!array->n_manifests)
        return NULL;
    const ic_manifest_extent **list = malloc(array->n_manifests * sizeof *list);
    if (!list)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory for %zu manifests", array->n_manifests);
    size_t k = 0;
    for (size_t j = 0; j < array->n_manifests; j++)
        if (extents_overlap(&array->manifests[j], from, to))
            list[k++] = &array->manifests[j];
    floe_err err = load_extents(r, list, k, k);
    free(list);
    FLOE_CHECK(err, "array %s", array->path);
    return NULL;
}

ic_array_refs *ic_manifest_array(ic_manifest *m, const uint8_t node_id[8])
{
    ic_array_refs key;
    memcpy(key.node_id, node_id, 8);
    return bsearch(&key, m->arrays, m->n_arrays, sizeof *m->arrays, cmp_node_id);
}
