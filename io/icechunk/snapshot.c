/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/snapshot.c - snapshot files (type 1): the nodes of one version
 * of the repository, each array with its zarr.json, chunk grid and the
 * manifests (with extents) that hold its chunk references.
 *
 * The whole snapshot is parsed and checked at load, so a corrupt file fails
 * there, naming the key, rather than on some later lookup.
 */
#include "io/icechunk/format/flexbuf.h"
#include "io/icechunk/format/ids.h"
#include "io/icechunk/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Slots (shared/docs/icechunk-format.md §7.2). */
enum { SNAP_ID = 0, SNAP_PARENT = 1, SNAP_NODES = 2, SNAP_FLUSHED_AT = 3, SNAP_MESSAGE = 4,
       SNAP_METADATA = 5, SNAP_MANIFEST_FILES = 6, SNAP_MANIFEST_FILES_V2 = 7 };
enum { NODE_ID = 0, NODE_PATH = 1, NODE_USER_DATA = 2, NODE_DATA_TYPE = 3, NODE_DATA = 4 };
enum { NODE_TYPE_ARRAY = 1, NODE_TYPE_GROUP = 2 };
enum { ARRAY_SHAPE = 0, ARRAY_MANIFESTS = 2, ARRAY_SHAPE_V2 = 3 };
enum { MREF_ID = 0, MREF_EXTENTS = 1 };
enum { DIMV2_LENGTH = 0, DIMV2_NUM_CHUNKS = 1 };
enum { META_NAME = 0, META_VALUE = 1 };
enum { MFI_V2_ID = 0, MFI_V2_SIZE = 1, MFI_V2_NUM_REFS = 2 };

struct ic_snapshot {
    ic_file file;
    char id[IC_SNAPSHOT_ID_SIZE];
    char parent[IC_SNAPSHOT_ID_SIZE];
    int has_parent;
    const char *message; /* points into file.payload */
    int64_t flushed_at;
    fb_vector metadata;
    ic_node *nodes;
    size_t n_nodes;
    ic_manifest_extent *extents; /* every node's manifests, one allocation */
    char **user_data;            /* NUL-terminated copies, one per node */
    ic_manifest_file_info *mfiles;
    size_t n_mfiles;
};

static floe_err parse_shape(const fb_table *array, ic_node *node)
{
    fb_vector v2;
    FLOE_CHECK(fb_field_vector(array, ARRAY_SHAPE_V2, "shape_v2", FB_REF_SIZE, 0, &v2));
    /* Icechunk branches on the presence of shape_v2, not on the header. */
    if (v2.present) {
        if (v2.n > IC_MAX_DIMS)
            return FLOE_ERR(FLOE_EUNSUPPORTED, "%u dimensions (at most %d)", v2.n, IC_MAX_DIMS);
        node->ndim = (int)v2.n;
        for (uint32_t d = 0; d < v2.n; d++) {
            fb_table dim;
            FLOE_CHECK(fb_vector_table(&v2, d, &dim), "shape_v2");
            FLOE_CHECK(fb_field_u64(&dim, DIMV2_LENGTH, "array_length", 0, &node->shape[d]), "shape_v2[%u]", d);
            FLOE_CHECK(fb_field_u32(&dim, DIMV2_NUM_CHUNKS, "num_chunks", 0, &node->num_chunks[d]), "shape_v2[%u]", d);
        }
        return NULL;
    }
    fb_vector v1;
    FLOE_CHECK(fb_field_vector(array, ARRAY_SHAPE, "shape", 16, 1, &v1));
    if (v1.n > IC_MAX_DIMS)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "%u dimensions (at most %d)", v1.n, IC_MAX_DIMS);
    node->ndim = (int)v1.n;
    for (uint32_t d = 0; d < v1.n; d++) {
        const uint8_t *p = fb_vector_elem(&v1, d);
        uint64_t len = fb_load_u64(p), chunk = fb_load_u64(p + 8);
        uint64_t n = chunk ? len / chunk + (len % chunk != 0) : 0;
        if (n > UINT32_MAX)
            return FLOE_ERR(FLOE_EFORMAT, "shape[%u]: %llu chunks", d, (unsigned long long)n);
        node->shape[d] = len;
        node->num_chunks[d] = (uint32_t)n;
    }
    return NULL;
}

static floe_err parse_manifest_refs(const fb_vector *mrefs, ic_node *node, ic_manifest_extent *ext)
{
    for (uint32_t m = 0; m < mrefs->n; m++) {
        fb_table mref;
        const uint8_t *id;
        fb_vector extents;
        FLOE_CHECK(fb_vector_table(mrefs, m, &mref), "manifests");
        FLOE_CHECK(fb_field_struct(&mref, MREF_ID, "object_id", 12, 1, &id), "manifests[%u]", m);
        FLOE_CHECK(fb_field_vector(&mref, MREF_EXTENTS, "extents", 8, 1, &extents), "manifests[%u]", m);
        if (extents.n != 0 && extents.n != (uint32_t)node->ndim)
            return FLOE_ERR(FLOE_EFORMAT, "manifests[%u]: %u extents for %d dimensions", m, extents.n,
                            node->ndim);
        ic_manifest_extent *e = &ext[m];
        memcpy(e->id_bytes, id, 12);
        ic_id_encode(id, 12, e->id);
        e->ndim = (int)extents.n;
        for (uint32_t d = 0; d < extents.n; d++) {
            const uint8_t *p = fb_vector_elem(&extents, d);
            e->from[d] = fb_load_u32(p);
            e->to[d] = fb_load_u32(p + 4);
        }
    }
    node->manifests = ext;
    node->n_manifests = mrefs->n;
    return NULL;
}

/* First pass: count the manifest refs of all arrays (one allocation). */
static floe_err count_extents(const fb_vector *nodes, size_t *total)
{
    *total = 0;
    for (uint32_t i = 0; i < nodes->n; i++) {
        fb_table node, data;
        uint8_t type;
        fb_vector mrefs;
        FLOE_CHECK(fb_vector_table(nodes, i, &node), "nodes");
        FLOE_CHECK(fb_field_u8(&node, NODE_DATA_TYPE, "node_data_type", 0, &type), "node %u", i);
        if (type != NODE_TYPE_ARRAY)
            continue;
        FLOE_CHECK(fb_field_table(&node, NODE_DATA, "node_data", 1, &data), "node %u", i);
        FLOE_CHECK(fb_field_vector(&data, ARRAY_MANIFESTS, "manifests", FB_REF_SIZE, 1, &mrefs), "node %u", i);
        *total += mrefs.n;
    }
    return NULL;
}

static floe_err parse_node(ic_snapshot *s, uint32_t i, const fb_table *node_t, ic_manifest_extent **ext)
{
    ic_node *node = &s->nodes[i];
    const uint8_t *id;
    fb_vector user;
    uint8_t type;
    FLOE_CHECK(fb_field_struct(node_t, NODE_ID, "id", 8, 1, &id));
    memcpy(node->id, id, 8);
    ic_id_encode(id, 8, node->id_str);
    FLOE_CHECK(fb_field_string(node_t, NODE_PATH, "path", 1, &node->path, NULL));
    if (node->path[0] != '/')
        return FLOE_ERR(FLOE_EFORMAT, "node path \"%.100s\" is not absolute", node->path);
    FLOE_CHECK(fb_field_vector(node_t, NODE_USER_DATA, "user_data", 1, 1, &user), "node %s", node->path);
    s->user_data[i] = malloc((size_t)user.n + 1);
    if (!s->user_data[i])
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    if (user.n)
        memcpy(s->user_data[i], fb_vector_elem(&user, 0), user.n);
    s->user_data[i][user.n] = '\0';
    node->zarr_json = s->user_data[i];
    node->zarr_json_len = user.n;
    FLOE_CHECK(fb_field_u8(node_t, NODE_DATA_TYPE, "node_data_type", 0, &type), "node %s", node->path);
    if (type == NODE_TYPE_GROUP)
        return NULL;
    if (type != NODE_TYPE_ARRAY)
        return FLOE_ERR(FLOE_EFORMAT, "node %s: node_data_type %u is neither array nor group",
                        node->path, type);
    node->is_array = 1;
    fb_table data;
    fb_vector mrefs;
    FLOE_CHECK(fb_field_table(node_t, NODE_DATA, "node_data", 1, &data), "node %s", node->path);
    FLOE_CHECK(parse_shape(&data, node), "array %s", node->path);
    FLOE_CHECK(fb_field_vector(&data, ARRAY_MANIFESTS, "manifests", FB_REF_SIZE, 1, &mrefs), "array %s",
               node->path);
    FLOE_CHECK(parse_manifest_refs(&mrefs, node, *ext), "array %s", node->path);
    *ext += mrefs.n;
    return NULL;
}

static floe_err parse_manifest_files(ic_snapshot *s)
{
    fb_vector v1, v2;
    FLOE_CHECK(fb_field_vector(&s->file.root, SNAP_MANIFEST_FILES, "manifest_files", 32, 0, &v1));
    FLOE_CHECK(fb_field_vector(&s->file.root, SNAP_MANIFEST_FILES_V2, "manifest_files_v2", FB_REF_SIZE, 0,
                               &v2));
    size_t n = (size_t)v1.n + v2.n;
    s->mfiles = calloc(n ? n : 1, sizeof *s->mfiles);
    if (!s->mfiles)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < v1.n; i++) {
        const uint8_t *p = fb_vector_elem(&v1, i);
        ic_manifest_file_info *f = &s->mfiles[s->n_mfiles++];
        ic_id_encode(p, 12, f->id);
        f->size_bytes = fb_load_u64(p + 16);
        f->num_chunk_refs = fb_load_u32(p + 24);
    }
    for (uint32_t i = 0; i < v2.n; i++) {
        fb_table t;
        const uint8_t *id;
        ic_manifest_file_info *f = &s->mfiles[s->n_mfiles];
        FLOE_CHECK(fb_vector_table(&v2, i, &t), "manifest_files_v2");
        FLOE_CHECK(fb_field_struct(&t, MFI_V2_ID, "id", 12, 1, &id), "manifest_files_v2[%u]", i);
        FLOE_CHECK(fb_field_u64(&t, MFI_V2_SIZE, "size_bytes", 0, &f->size_bytes), "manifest_files_v2[%u]", i);
        FLOE_CHECK(fb_field_u32(&t, MFI_V2_NUM_REFS, "num_chunk_refs", 0, &f->num_chunk_refs),
                   "manifest_files_v2[%u]", i);
        ic_id_encode(id, 12, f->id);
        s->n_mfiles++;
    }
    return NULL;
}

static int cmp_mfile_ptr(const void *a, const void *b)
{
    return strcmp((*(const ic_manifest_file_info *const *)a)->id,
                  (*(const ic_manifest_file_info *const *)b)->id);
}

/* Each extent's stored size and ref count, from the manifest files listed
 * with the same id (so a large manifest can be fetched in parallel ranges,
 * and an array's refs counted without reading its manifests), and how many
 * extents name the same manifest; 0 where none is listed. */
static floe_err set_extent_sizes(ic_snapshot *s, size_t n_ext)
{
    if (!s->n_mfiles || !n_ext)
        return NULL;
    const ic_manifest_file_info **by_id = malloc(s->n_mfiles * sizeof *by_id);
    size_t *at = malloc(n_ext * sizeof *at);
    uint32_t *users = calloc(s->n_mfiles, sizeof *users);
    if (!by_id || !at || !users) {
        free(by_id);
        free(at);
        free(users);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory for %zu manifest files", s->n_mfiles);
    }
    for (size_t i = 0; i < s->n_mfiles; i++)
        by_id[i] = &s->mfiles[i];
    qsort(by_id, s->n_mfiles, sizeof *by_id, cmp_mfile_ptr);
    for (size_t i = 0; i < n_ext; i++) {
        ic_manifest_file_info key;
        const ic_manifest_file_info *k = &key, **hit;
        memcpy(key.id, s->extents[i].id, sizeof key.id);
        hit = bsearch(&k, by_id, s->n_mfiles, sizeof *by_id, cmp_mfile_ptr);
        at[i] = hit ? (size_t)(hit - by_id) : SIZE_MAX;
        if (hit && users[at[i]] < UINT32_MAX)
            users[at[i]]++;
    }
    for (size_t i = 0; i < n_ext; i++) {
        const ic_manifest_file_info *f = at[i] == SIZE_MAX ? NULL : by_id[at[i]];
        s->extents[i].size_bytes = f ? f->size_bytes : 0;
        s->extents[i].listed_refs = f ? f->num_chunk_refs : 0;
        s->extents[i].users = f ? users[at[i]] : 0;
    }
    free(users);
    free(at);
    free(by_id);
    return NULL;
}

static floe_err parse_snapshot(ic_repo *r, ic_snapshot *s, const uint8_t want[12])
{
    const fb_table *root = &s->file.root;
    const uint8_t *id, *parent;
    FLOE_CHECK(fb_field_struct(root, SNAP_ID, "id", 12, 1, &id));
    if (memcmp(id, want, 12) != 0) {
        char got[IC_SNAPSHOT_ID_SIZE];
        return FLOE_ERR(FLOE_EFORMAT, "the file holds snapshot %s", ic_id_encode(id, 12, got));
    }
    ic_id_encode(id, 12, s->id);
    FLOE_CHECK(fb_field_struct(root, SNAP_PARENT, "parent_id", 12, 0, &parent));
    if (parent) {
        ic_id_encode(parent, 12, s->parent);
        s->has_parent = 1;
    } else {
        /* v2 keeps the ancestry in the repo file. */
        uint8_t p[12];
        FLOE_CHECK(ic_repo_v2_parent(r, id, p, &s->has_parent), "parent from the repo file");
        if (s->has_parent)
            ic_id_encode(p, 12, s->parent);
    }
    uint64_t flushed;
    FLOE_CHECK(fb_field_u64(root, SNAP_FLUSHED_AT, "flushed_at", 0, &flushed));
    s->flushed_at = flushed > INT64_MAX ? INT64_MAX : (int64_t)flushed;
    FLOE_CHECK(fb_field_string(root, SNAP_MESSAGE, "message", 1, &s->message, NULL));
    FLOE_CHECK(fb_field_vector(root, SNAP_METADATA, "metadata", FB_REF_SIZE, 0, &s->metadata));
    FLOE_CHECK(parse_manifest_files(s));

    fb_vector nodes;
    FLOE_CHECK(fb_field_vector(root, SNAP_NODES, "nodes", FB_REF_SIZE, 1, &nodes));
    size_t n_ext;
    FLOE_CHECK(count_extents(&nodes, &n_ext));
    s->nodes = calloc(nodes.n ? nodes.n : 1, sizeof *s->nodes);
    s->user_data = calloc(nodes.n ? nodes.n : 1, sizeof *s->user_data);
    s->extents = calloc(n_ext ? n_ext : 1, sizeof *s->extents);
    if (!s->nodes || !s->user_data || !s->extents)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory for %u nodes", nodes.n);
    s->n_nodes = nodes.n;
    ic_manifest_extent *ext = s->extents;
    for (uint32_t i = 0; i < nodes.n; i++) {
        fb_table node;
        FLOE_CHECK(fb_vector_table(&nodes, i, &node), "nodes");
        FLOE_CHECK(parse_node(s, i, &node, &ext), "node %u", i);
    }
    FLOE_CHECK(set_extent_sizes(s, n_ext));
    return NULL;
}

floe_err ic_snapshot_load(ic_repo *r, const char *snapshot_id, ic_snapshot **out)
{
    *out = NULL;
    uint8_t want[12];
    FLOE_CHECK(ic_id_decode(snapshot_id, want, 12), "snapshot id");
    char canon[IC_SNAPSHOT_ID_SIZE], key[40], *url;
    ic_id_encode(want, 12, canon);
    snprintf(key, sizeof key, "snapshots/%s", canon);
    FLOE_CHECK(ic_repo_url(r, key, &url));
    ic_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        free(url);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    floe_err err = ic_file_fetch(r, url, IC_FILE_SNAPSHOT, &s->file);
    if (!err)
        err = parse_snapshot(r, s, want);
    if (err) {
        err = floe_err_push(err, __FILE__, __LINE__, " snapshot %s", url);
        ic_snapshot_free(&s);
    }
    free(url);
    *out = s;
    return err;
}

void ic_snapshot_free(ic_snapshot **sp)
{
    if (!sp || !*sp)
        return;
    ic_snapshot *s = *sp;
    if (s->user_data)
        for (size_t i = 0; i < s->n_nodes; i++)
            free(s->user_data[i]);
    free(s->user_data);
    free(s->nodes);
    free(s->extents);
    free(s->mfiles);
    ic_file_free(&s->file);
    free(s);
    *sp = NULL;
}

const char *ic_snapshot_id(const ic_snapshot *s)
{
    return s->id;
}

const char *ic_snapshot_parent_id(const ic_snapshot *s)
{
    return s->has_parent ? s->parent : NULL;
}

const char *ic_snapshot_message(const ic_snapshot *s)
{
    return s->message;
}

int64_t ic_snapshot_flushed_at(const ic_snapshot *s)
{
    return s->flushed_at;
}

int ic_snapshot_file_spec(const ic_snapshot *s)
{
    return s->file.spec;
}

size_t ic_snapshot_node_count(const ic_snapshot *s)
{
    return s->n_nodes;
}

const ic_node *ic_snapshot_node(const ic_snapshot *s, size_t i)
{
    return i < s->n_nodes ? &s->nodes[i] : NULL;
}

const ic_node *ic_snapshot_find(const ic_snapshot *s, const char *path)
{
    if (!path)
        return NULL;
    /* Icechunk sorts nodes by path bytes; older docs describe a
     * component-wise order that differs for names with characters below
     * '/'. Binary search first, then a scan so either order is found. */
    size_t lo = 0, hi = s->n_nodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->nodes[mid].path, path);
        if (c == 0)
            return &s->nodes[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < s->n_nodes; i++)
        if (!strcmp(s->nodes[i].path, path))
            return &s->nodes[i];
    return NULL;
}

size_t ic_snapshot_manifest_file_count(const ic_snapshot *s)
{
    return s->n_mfiles;
}

const ic_manifest_file_info *ic_snapshot_manifest_file(const ic_snapshot *s, size_t i)
{
    return i < s->n_mfiles ? &s->mfiles[i] : NULL;
}

floe_err ic_snapshot_metadata_json(const ic_snapshot *s, char **json)
{
    *json = NULL;
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    floe_err err = NULL;
    for (uint32_t i = 0; i < s->metadata.n && !err; i++) {
        fb_table item;
        const char *name = NULL;
        fb_vector value;
        cJSON *v = NULL;
        err = fb_vector_table(&s->metadata, i, &item);
        if (!err)
            err = fb_field_string(&item, META_NAME, "name", 1, &name, NULL);
        if (!err)
            err = fb_field_vector(&item, META_VALUE, "value", 1, 1, &value);
        if (!err) {
            const uint8_t *p = value.n ? fb_vector_elem(&value, 0) : (const uint8_t *)"";
            /* The encoding follows the spec byte of the file that holds it. */
            err = s->file.spec == 1 ? ic_msgpack_to_json(p, value.n, &v)
                                    : flexbuf_to_json(p, value.n, &v);
        }
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " snapshot %s: metadata item %u (%s)", s->id,
                                i, name ? name : "?");
        else
            cJSON_AddItemToObject(obj, name, v);
    }
    if (!err) {
        *json = cJSON_PrintUnformatted(obj);
        if (!*json)
            err = FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    cJSON_Delete(obj);
    return err;
}

char *ic_format_time(int64_t us, char *buf, size_t size)
{
    time_t secs = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, size, "%lld us", (long long)us);
        return buf;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}
