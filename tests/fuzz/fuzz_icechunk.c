/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_icechunk.c - libFuzzer harness for the Icechunk reader:
 * snapshot and manifest flatbuffers, the file header and its zstd payload,
 * the v2 repo file and the v1 config.yaml, read the way floe reads them.
 *
 * The reader fetches every metadata object through the transport, so the
 * harness gives it a repository in memory: at start-up it opens two shared
 * fixtures (virtual-v2, spec 2; test-repo-v1, spec 1) with a recording
 * object cache (io/transport/transport.h) and keeps what was read. Each
 * input then replaces one object of that repository and the reader opens
 * it again: a run does no I/O past start-up, except reads of fixture files
 * a mutated snapshot names (harmless: the fixture folder, read-only).
 *
 * Input: byte 0 picks the base repository (bit 0: 0 = v2, 1 = v1) and what
 * the rest of the input is (bits 1-2, MODE_* below); make_corpus.sh writes
 * the seeds in this form. Flatbuffer payloads are stored uncompressed
 * (header compression byte 0, which the reader accepts), so mutations hit
 * the flatbuffer, not a zstd stream; MODE_RAW_SNAPSHOT feeds whole files
 * to cover the header and the zstd decoder.
 *
 * Needs FLOE_SHARED_DIR (the shared fixtures), as the unit tests do.
 */
#include "io/icechunk/format/ids.h"
#include "io/icechunk/icechunk.h"
#include "io/icechunk/internal.h"
#include "io/icechunk/manifest_internal.h"
#include "io/transport/transport.h"
#include "io/zarr/meta.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    MODE_SNAPSHOT = 0,     /* a snapshot flatbuffer (uncompressed payload) */
    MODE_MANIFEST = 1,     /* a manifest flatbuffer (uncompressed payload) */
    MODE_RAW_SNAPSHOT = 2, /* a whole snapshot file: header + zstd payload */
    MODE_REPO_CONFIG = 3,  /* v2: the repo file's flatbuffer; v1: config.yaml text */
};
enum { BASE_V2 = 0, BASE_V1 = 1, N_BASES = 2 };
/* Slot 0 of both the Snapshot and the Manifest table is the 12-byte id
 * (shared/docs/icechunk-format.md; snapshot.c SNAP_ID, manifest.c MAN_ID). */
#define FUZZ_MEMORY_BUDGET ((uint64_t)256 << 20)
#define ID_SLOT 0
/* Chunk coordinates stay small: a lookup only compares them. */
#define FUZZ_GRID_EXTENT 1024u

typedef struct base_repo {
    const char *fixture;     /* folder under fixtures/icechunk/ */
    char root[1200];         /* the reader's root URL (ends with '/') */
    floe_buf blob;           /* every object the first open read (serialized cache) */
    char snapshot[IC_SNAPSHOT_ID_SIZE]; /* the snapshot "main" resolves to */
    uint8_t header[2][IC_HEADER_SIZE]; /* the headers of its snapshot [0] and manifest [1] files */
    int have_manifest_header;
} base_repo;

static base_repo BASES[N_BASES] = {{.fixture = "virtual-v2"}, {.fixture = "test-repo-v1"}};
static floe_transport *T;

static void die(const char *what, floe_err err)
{
    char line[1024];
    fprintf(stderr, "fuzz_icechunk: %s: %s\n", what, err ? floe_err_line(err, line, sizeof line) : "");
    exit(1);
}

/* The header of a recorded object (its first IC_HEADER_SIZE bytes). */
static int copy_header(floe_object_cache *c, const char *url, base_repo *b, int which)
{
    const uint8_t *bytes;
    size_t len;
    if (floe_object_cache_find(c, url, &bytes, &len) != FLOE_CACHE_BYTES || len < IC_HEADER_SIZE)
        return 0;
    memcpy(b->header[which], bytes, IC_HEADER_SIZE);
    return 1;
}

static floe_err record_visit(void *ctx, const uint32_t *coord, const ic_chunk_ref *ref)
{
    (void)ctx;
    (void)coord;
    (void)ref;
    return NULL;
}

/* Open a base repository from the fixture folder with a recording cache
 * and keep what the reader fetched. */
static void record_base(base_repo *b, const char *shared)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/fixtures/icechunk/%s/", shared, b->fixture);
    floe_object_cache *c = NULL;
    ic_repo *r = NULL;
    ic_snapshot *s = NULL;
    floe_err err = floe_object_cache_new(0, &c);
    if (err)
        die("cache", err);
    floe_object_cache_record(c, 1);
    floe_transport_set_cache(T, c);
    if ((err = ic_repo_open(T, dir, &r)))
        die(dir, err);
    snprintf(b->root, sizeof b->root, "%s", ic_repo_root(r));
    if ((err = ic_repo_resolve(r, IC_REF_BRANCH, "main", b->snapshot)))
        die("resolve main", err);
    if ((err = ic_snapshot_load(r, b->snapshot, &s)))
        die("snapshot", err);
    char url[1400];
    snprintf(url, sizeof url, "%ssnapshots/%s", b->root, b->snapshot);
    if (!copy_header(c, url, b, 0))
        die("no snapshot header recorded", NULL);
    for (size_t i = 0; i < ic_snapshot_node_count(s); i++) {
        const ic_node *n = ic_snapshot_node(s, i);
        if (!n->is_array)
            continue;
        if ((err = ic_array_each_ref(r, n, record_visit, NULL)))
            die(n->path, err);
        for (size_t m = 0; m < n->n_manifests && !b->have_manifest_header; m++) {
            snprintf(url, sizeof url, "%smanifests/%s", b->root, n->manifests[m].id);
            b->have_manifest_header = copy_header(c, url, b, 1);
        }
    }
    if (!b->have_manifest_header)
        die("no manifest in the fixture", NULL);
    if ((err = floe_object_cache_serialize(c, &b->blob)))
        die("serialize", err);
    floe_transport_set_cache(T, NULL);
    ic_snapshot_free(&s);
    ic_repo_free(&r);
    floe_object_cache_free(&c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *shared = getenv("FLOE_SHARED_DIR");
    if (!shared || !*shared) {
        fprintf(stderr, "fuzz_icechunk: set FLOE_SHARED_DIR (the shared fixtures)\n");
        exit(1);
    }
    floe_err err = floe_transport_new(NULL, &T);
    if (err)
        die("transport", err);
    for (int i = 0; i < N_BASES; i++)
        record_base(&BASES[i], shared);
    return 0;
}

/* header (compression byte set to "none") + payload, as one object. */
static int stored_object(const base_repo *b, int which, const uint8_t *payload, size_t len,
                         floe_buf *out)
{
    uint8_t header[IC_HEADER_SIZE];
    memcpy(header, b->header[which], IC_HEADER_SIZE);
    header[IC_HEADER_SIZE - 1] = 0; /* compression: none */
    floe_buf_init(out, IC_HEADER_SIZE + len);
    floe_err err = floe_buf_append(out, header, sizeof header);
    if (!err)
        err = floe_buf_append(out, payload, len);
    if (err) {
        floe_err_free(&err);
        return 0;
    }
    return 1;
}

/* The id in slot 0 of a flatbuffer payload, or 0 if it has none. */
static int payload_id(const uint8_t *payload, size_t len, uint8_t id[12])
{
    fb_table root;
    const uint8_t *p = NULL;
    floe_err err = fb_root(payload, len, "Ichk", &root);
    if (!err)
        err = fb_field_struct(&root, ID_SLOT, "id", 12, 0, &p);
    if (err || !p) {
        floe_err_free(&err);
        return 0;
    }
    memcpy(id, p, 12);
    return 1;
}

static floe_err visit_ref(void *ctx, const uint32_t *coord, const ic_chunk_ref *ref)
{
    ic_repo *r = ctx;
    (void)coord;
    if (ref->kind == IC_CHUNK_NATIVE) {
        char *url = NULL;
        floe_err err = ic_native_chunk_url(r, ref, &url);
        free(url);
        return err;
    }
    volatile size_t touched = 0;
    if (ref->kind == IC_CHUNK_INLINE && ref->inline_len)
        touched += ref->inline_data[0] + ref->inline_data[ref->inline_len - 1];
    if (ref->kind == IC_CHUNK_VIRTUAL)
        touched += strlen(ref->location) + (ref->etag ? strlen(ref->etag) : 0);
    (void)touched;
    return NULL;
}

/* What floe does with an array node: its zarr.json, its refs. */
static void use_array(ic_repo *r, const ic_node *n)
{
    zarr_array_meta *meta = NULL;
    floe_err err = zarr_meta_parse(n->zarr_json, n->zarr_json_len, &meta);
    zarr_meta_free(&meta);
    floe_err_free(&err);
    uint64_t nrefs = 0;
    size_t nman = 0;
    err = ic_array_count_refs(r, n, &nrefs, &nman);
    floe_err_free(&err);
    err = ic_array_each_ref(r, n, visit_ref, r);
    floe_err_free(&err);
    uint64_t coord[IC_MAX_DIMS] = {0};
    for (int pass = 0; pass < 2; pass++) {
        ic_chunk_ref ref;
        err = ic_chunk_ref_lookup(r, n, coord, &ref);
        floe_err_free(&err);
        for (int d = 0; d < n->ndim && d < IC_MAX_DIMS; d++)
            coord[d] = n->num_chunks[d] ? n->num_chunks[d] - 1 : 0;
    }
}

static void use_snapshot(ic_repo *r, const char *id)
{
    ic_snapshot *s = NULL;
    floe_err err = ic_snapshot_load(r, id, &s);
    if (err) {
        floe_err_free(&err);
        return;
    }
    char *meta = NULL, when[40];
    err = ic_snapshot_metadata_json(s, &meta);
    free(meta);
    floe_err_free(&err);
    ic_format_time(ic_snapshot_flushed_at(s), when, sizeof when);
    volatile size_t touched = strlen(ic_snapshot_message(s)) + strlen(ic_snapshot_id(s));
    const char *parent = ic_snapshot_parent_id(s);
    if (parent)
        touched += strlen(parent);
    for (size_t i = 0; i < ic_snapshot_manifest_file_count(s); i++)
        touched += ic_snapshot_manifest_file(s, i)->num_chunk_refs;
    (void)touched;
    for (size_t i = 0; i < ic_snapshot_node_count(s); i++) {
        const ic_node *n = ic_snapshot_node(s, i);
        if (ic_snapshot_find(s, n->path) != n)
            continue; /* duplicate paths: the reader's business, not a crash */
        if (n->is_array)
            use_array(r, n);
    }
    ic_snapshot_free(&s);
}

/* A manifest no snapshot needs to name: one extent that matches every
 * coordinate, and an array node made for each array it lists. */
static void use_manifest(ic_repo *r, const uint8_t id[12])
{
    ic_manifest_extent ext;
    memset(&ext, 0, sizeof ext);
    memcpy(ext.id_bytes, id, 12);
    ic_id_encode(id, 12, ext.id);
    ic_manifest *m = NULL;
    floe_err err = ic_manifest_get(r, &ext, &m);
    if (err) {
        floe_err_free(&err);
        return;
    }
    for (uint32_t a = 0; a < m->n_arrays; a++) {
        /* The manifest does not say the array's rank: take ref 0's (the
         * reader checks every ref it touches against the node's). */
        uint32_t ndim = 1;
        fb_table t;
        fb_vector index;
        if (m->arrays[a].refs.n) {
            err = ic_ref_index(&m->arrays[a].refs, 0, &t, &index);
            if (err) {
                floe_err_free(&err);
                continue;
            }
            ndim = index.n;
        }
        if (ndim > IC_MAX_DIMS)
            continue;
        ic_node n;
        memset(&n, 0, sizeof n);
        n.path = "/fuzz";
        memcpy(n.id, m->arrays[a].node_id, 8);
        ic_id_encode(n.id, 8, n.id_str);
        n.is_array = 1;
        n.zarr_json = "{}";
        n.zarr_json_len = 2;
        n.ndim = (int)ndim;
        for (int d = 0; d < n.ndim; d++) {
            n.shape[d] = FUZZ_GRID_EXTENT;
            n.num_chunks[d] = FUZZ_GRID_EXTENT;
        }
        n.n_manifests = 1;
        n.manifests = &ext;
        use_array(r, &n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    base_repo *b = &BASES[data[0] & 1];
    int mode = (data[0] >> 1) & 3;
    const uint8_t *body = data + 1;
    size_t len = size - 1;

    floe_object_cache *c = NULL;
    floe_err err = floe_object_cache_new(0, &c);
    if (!err)
        err = floe_object_cache_preload(c, b->blob.data, b->blob.len);
    if (err)
        die("cache", err);

    char url[1400];
    char snapshot[IC_SNAPSHOT_ID_SIZE], name[IC_SNAPSHOT_ID_SIZE];
    uint8_t id[12];
    int have_id = 0;
    floe_buf obj;
    floe_buf_init(&obj, 0);
    snprintf(snapshot, sizeof snapshot, "%s", b->snapshot);
    switch (mode) {
    case MODE_SNAPSHOT:
    case MODE_MANIFEST:
        have_id = payload_id(body, len, id);
        if (!have_id && mode == MODE_MANIFEST)
            break;
        if (!stored_object(b, mode == MODE_MANIFEST, body, len, &obj))
            break;
        if (mode == MODE_SNAPSHOT && have_id)
            ic_id_encode(id, 12, snapshot);
        if (mode == MODE_SNAPSHOT)
            snprintf(url, sizeof url, "%ssnapshots/%s", b->root, snapshot);
        else
            snprintf(url, sizeof url, "%smanifests/%s", b->root, ic_id_encode(id, 12, name));
        err = floe_object_cache_put(c, url, obj.data, obj.len);
        break;
    case MODE_RAW_SNAPSHOT:
        snprintf(url, sizeof url, "%ssnapshots/%s", b->root, snapshot);
        err = floe_object_cache_put(c, url, body, len);
        break;
    case MODE_REPO_CONFIG:
        if (data[0] & 1) {
            snprintf(url, sizeof url, "%sconfig.yaml", b->root);
            err = floe_object_cache_put(c, url, body, len);
        } else {
            /* The repo file's header: magic and spec as the snapshot's
             * (byte 37 is the file type, 38 the compression). */
            uint8_t h[IC_HEADER_SIZE];
            memcpy(h, b->header[0], IC_HEADER_SIZE);
            h[IC_HEADER_SIZE - 2] = IC_FILE_REPO_INFO;
            h[IC_HEADER_SIZE - 1] = 0;
            floe_buf_init(&obj, IC_HEADER_SIZE + len);
            err = floe_buf_append(&obj, h, sizeof h);
            if (!err)
                err = floe_buf_append(&obj, body, len);
            snprintf(url, sizeof url, "%srepo", b->root);
            if (!err)
                err = floe_object_cache_put(c, url, obj.data, obj.len);
        }
        break;
    default:
        break;
    }
    floe_buf_free(&obj);
    floe_err_free(&err); /* an input too large for the cache: nothing to read */

    floe_transport_set_cache(T, c);
    ic_repo *r = NULL;
    /* A zstd bomb stops at the budget (the default, physical memory, is
     * more than the fuzzer's RSS limit). */
    err = ic_repo_open_budget(T, b->root, FUZZ_MEMORY_BUDGET, &r);
    if (!err) {
        for (size_t i = 0; i < ic_repo_container_count(r); i++) {
            volatile size_t touched = strlen(ic_repo_container(r, i)->url_prefix);
            (void)touched;
        }
        char resolved[IC_SNAPSHOT_ID_SIZE];
        floe_err rerr = ic_repo_resolve(r, IC_REF_BRANCH, "main", resolved);
        floe_err_free(&rerr);
        if (mode == MODE_REPO_CONFIG && !(data[0] & 1)) {
            ic_ref_info *refs = NULL;
            size_t n = 0;
            rerr = ic_repo_list_refs(r, &refs, &n);
            floe_err_free(&rerr);
            ic_ref_list_free(&refs, n);
        }
        if (mode == MODE_MANIFEST)
            use_manifest(r, id);
        else
            use_snapshot(r, snapshot);
    }
    floe_err_free(&err);
    ic_repo_free(&r);
    floe_transport_set_cache(T, NULL);
    floe_object_cache_free(&c);
    return 0;
}
