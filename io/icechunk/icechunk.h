/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/icechunk.h - reading Icechunk repositories (spec v1, v2 and 2.1).
 *
 * From (repository URL, branch | tag | snapshot id, array path, chunk
 * coordinate) to where the chunk's encoded bytes are: inline in the
 * manifest, a native object of the repository, or a virtual reference into
 * an outside file. Format: shared/docs/icechunk-format.md.
 *
 *     ic_repo *repo;                         // the transport is borrowed
 *     FLOE_CHECK(ic_repo_open(t, "s3://bucket/store/", &repo));
 *     char snap[IC_SNAPSHOT_ID_SIZE];
 *     FLOE_CHECK(ic_repo_resolve(repo, IC_REF_BRANCH, "main", snap));
 *     ic_snapshot *s;
 *     FLOE_CHECK(ic_snapshot_load(repo, snap, &s));
 *     const ic_node *tair = ic_snapshot_find(s, "/Tair");
 *     ic_chunk_ref ref;
 *     FLOE_CHECK(ic_chunk_ref_lookup(repo, tair, (uint64_t[]){0, 0, 0}, &ref));
 *     // ref.kind: MISSING (fill value), INLINE, NATIVE (ic_read_stored_chunk)
 *     // or VIRTUAL (ref.location + offset/length + checksum: fetched by the
 *     // virtual-access layer, never here)
 *
 * The folder's role: io/icechunk/ is the Icechunk reader, above
 * io/transport/ and io/fetch/ (for prefetching metadata) and knowing
 * nothing of Zarr decoding, STAC or the engine. Its format/ subfolder is
 * the pure on-disk format (no I/O, format/file_header.h). Files: repo.c
 * (open, refs, metadata file fetch), config.c (virtual chunk containers),
 * metadata_fetch.c (a metadata file fetched under the memory budget),
 * snapshot.c (nodes, parent), history.c (a snapshot's ancestry),
 * manifest.c (manifests read and cached), chunk_ref.c (refs looked up,
 * walked, read), virtual_access.c (which virtual locations may be
 * fetched, virtual_access.h).
 *
 * Every object is read through the transport (floe_transport_get): keys
 * are the root URL + "repo", "refs/branch.NAME/ref.json", "snapshots/ID"...
 * Branch and tag names are used as they are (URL-escaping for HTTP is the
 * transport's job).
 *
 * Lifetimes: an ic_repo owns its parsed repo file, config and a cache of
 * parsed manifests (immutable objects, read once). An ic_snapshot owns its
 * nodes; ic_node pointers are valid until ic_snapshot_free. Pointers inside
 * an ic_chunk_ref (inline bytes, location, etag) are borrowed from the
 * repository's manifest cache: valid until ic_repo_drop_manifests or
 * ic_repo_free. Not thread-safe (one ic_repo per thread, like the transport).
 */
#ifndef FLOE_ICECHUNK_H
#define FLOE_ICECHUNK_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "io/transport/transport.h"

#include <stddef.h>
#include <stdint.h>

#define IC_MAX_DIMS 32
#define IC_SNAPSHOT_ID_SIZE 21 /* 20 base32 characters + NUL */
#define IC_NODE_ID_SIZE 14     /* 13 base32 characters + NUL */

typedef struct ic_repo ic_repo;

/* Open the repository at root_url (file:///dir/, a plain local path,
 * s3://bucket/prefix/, http(s)://...; a missing trailing '/' is added).
 * Detects the spec version (a `repo` object: v2; else
 * refs/branch.main/ref.json: v1; else FLOE_ENOTFOUND "not an Icechunk
 * repository"), reads the v2 repo file or the v1 config.yaml and the
 * virtual chunk containers. t is borrowed and must outlive the repo. */
floe_err ic_repo_open(floe_transport *t, const char *root_url, ic_repo **out);

void ic_repo_free(ic_repo **r);

/* The same, the repository's metadata objects (repo file, snapshots,
 * manifests) read under a memory budget: the most bytes one may take,
 * stored or unpacked; 0: the machine's physical memory (ic_repo_open's).
 * An object past it is FLOE_ENOMEM naming it, its size so far and "raise
 * --memory-budget". ic_repo_set_memory_budget changes it for later reads. */
floe_err ic_repo_open_budget(floe_transport *t, const char *root_url, uint64_t memory_budget,
                             ic_repo **out);
void ic_repo_set_memory_budget(ic_repo *r, uint64_t bytes);

/* Manifest objects this repo fetched and parsed, and their stored bytes
 * (--report's manifests_read, manifest_bytes). */
void ic_repo_manifest_stats(const ic_repo *r, uint64_t *manifests_read, uint64_t *manifest_bytes);

int ic_repo_spec_version(const ic_repo *r); /* 1 or 2 (2.1 reads as 2) */
const char *ic_repo_root(const ic_repo *r); /* normalized root URL, ends with '/' */

/* A virtual chunk container declared by the repository (v1 config.yaml,
 * v2 repo file). As Icechunk does, a trailing '/' is added to url_prefix,
 * containers whose prefix is not a URL or whose scheme does not suit the
 * store kind are dropped, and the rest are sorted longest prefix first
 * (the first whose prefix starts a location serves it). Strings are owned
 * by the repo; NULL where the configuration has null or nothing. */
typedef struct ic_container {
    const char *name;         /* optional container name (vcc://NAME/...) */
    const char *url_prefix;   /* e.g. "s3://testbucket/", ends with '/' */
    const char *store_kind;   /* "s3", "s3_compatible", "tigris", "gcs", "azure",
                                 "http", "local_file_system" */
    const char *store_path;   /* local_file_system: the stored path (Icechunk ignores it) */
    const char *region;       /* s3-like stores */
    const char *endpoint_url; /* s3-like stores */
    int anonymous, allow_http, force_path_style, requester_pays; /* 0/1, s3-like */
} ic_container;

size_t ic_repo_container_count(const ic_repo *r);
const ic_container *ic_repo_container(const ic_repo *r, size_t i); /* NULL if i out of range */

typedef enum ic_ref_kind { IC_REF_BRANCH, IC_REF_TAG, IC_REF_SNAPSHOT } ic_ref_kind;

/* The snapshot id a branch, tag or explicit snapshot id names. A missing
 * branch, a missing or deleted tag, or a snapshot id without a snapshot
 * file is FLOE_ENOTFOUND naming it (and, spec 2, the branches or tags
 * there are: the first 20, then "..."); a malformed id is FLOE_EINVAL. */
floe_err ic_repo_resolve(ic_repo *r, ic_ref_kind kind, const char *name_or_id,
                         char snapshot_id[IC_SNAPSHOT_ID_SIZE]);

/* Fetch at once, concurrently, what opening root_url at (kind, name) will
 * read first and can be known before anything is read: the repo object,
 * and for a snapshot id its snapshot file; so that ic_repo_open,
 * ic_repo_resolve and ic_snapshot_load cost one round trip, not three.
 * Only a hint (see floe_prefetch, io/fetch/prefetch.h): does nothing without an
 * object cache on t; a failure is met again, and reported, by the reads. */
floe_err ic_repo_prefetch(floe_transport *t, const char *root_url, ic_ref_kind kind,
                          const char *name_or_id);

typedef struct ic_ref_info {
    ic_ref_kind kind;           /* IC_REF_BRANCH or IC_REF_TAG */
    char *name;                 /* owned by the list */
    char snapshot_id[IC_SNAPSHOT_ID_SIZE];
} ic_ref_info;

/* Branches (sorted by name) then live tags (sorted by name). Spec v2 only:
 * a spec-v1 repository keeps its refs as objects under refs/, and listing
 * them needs an object listing the transport does not offer
 * (FLOE_EUNSUPPORTED); resolve v1 refs by name instead. Free the list with
 * ic_ref_list_free. */
floe_err ic_repo_list_refs(ic_repo *r, ic_ref_info **refs, size_t *n);
void ic_ref_list_free(ic_ref_info **refs, size_t n);

/* ---- history (history.c) ------------------------------------------------- */

typedef struct ic_snapshot_info {
    char id[IC_SNAPSHOT_ID_SIZE];
    int64_t flushed_at; /* µs since 1970-01-01 UTC */
    char *message;      /* owned by the list */
} ic_snapshot_info;

/* The snapshot and its ancestors, newest first, down to the repository's
 * first snapshot (Icechunk's `ancestry`). Spec 2: from the repo file, no
 * read (a snapshot it does not list is read from its file); spec 1: one
 * snapshot file read per step. A parent chain that loops is FLOE_EFORMAT.
 * Free the list with ic_snapshot_info_list_free. */
floe_err ic_repo_ancestry(ic_repo *r, const char *snapshot_id, ic_snapshot_info **list, size_t *n);
void ic_snapshot_info_list_free(ic_snapshot_info **list, size_t n);

/* ---- snapshots ---------------------------------------------------------- */

typedef struct ic_manifest_extent {
    char id[IC_SNAPSHOT_ID_SIZE]; /* manifest id, manifests/<id> */
    uint8_t id_bytes[12];
    int ndim;                     /* 0: the extent matches every coordinate */
    uint32_t from[IC_MAX_DIMS];   /* inclusive, in chunk coordinates */
    uint32_t to[IC_MAX_DIMS];     /* exclusive */
    uint64_t size_bytes;          /* the stored object's size from the snapshot's
                                     manifest files; 0: not listed (unknown) */
    uint32_t listed_refs;         /* its num_chunk_refs there (every array's); 0: not listed */
    uint32_t users;               /* extents of the snapshot (any array) naming this manifest */
} ic_manifest_extent;

typedef struct ic_node {
    const char *path;             /* "/", "/group1", "/group1/big_chunks" */
    uint8_t id[8];
    char id_str[IC_NODE_ID_SIZE];
    int is_array;                 /* 0: group */
    const char *zarr_json;        /* the node's zarr.json (user_data), NUL-terminated */
    size_t zarr_json_len;
    /* arrays only: */
    int ndim;
    uint64_t shape[IC_MAX_DIMS];      /* array length per dimension */
    uint32_t num_chunks[IC_MAX_DIMS]; /* chunk grid size per dimension */
    size_t n_manifests;
    const ic_manifest_extent *manifests; /* in stored order (not sorted) */
} ic_node;

typedef struct ic_manifest_file_info {
    char id[IC_SNAPSHOT_ID_SIZE];
    uint64_t size_bytes;      /* size of the stored manifest object */
    uint32_t num_chunk_refs;
} ic_manifest_file_info;

typedef struct ic_snapshot ic_snapshot;

/* Read snapshots/<id>. A missing file is FLOE_ENOTFOUND; a corrupt one
 * FLOE_EFORMAT naming the key. */
floe_err ic_snapshot_load(ic_repo *r, const char *snapshot_id, ic_snapshot **out);
void ic_snapshot_free(ic_snapshot **s);

const char *ic_snapshot_id(const ic_snapshot *s);
/* The parent snapshot id (v1: in the snapshot file; v2: from the repo
 * file), NULL for the first snapshot or when the repo does not list it. */
const char *ic_snapshot_parent_id(const ic_snapshot *s);
const char *ic_snapshot_message(const ic_snapshot *s);
int64_t ic_snapshot_flushed_at(const ic_snapshot *s); /* µs since 1970-01-01 UTC */
int ic_snapshot_file_spec(const ic_snapshot *s);      /* spec byte of the snapshot file */
/* The commit metadata as a JSON object text {"name": value, ...} (v1
 * MessagePack and v2 FlexBuffers values decoded). Owned by the caller. */
floe_err ic_snapshot_metadata_json(const ic_snapshot *s, char **json);

size_t ic_snapshot_node_count(const ic_snapshot *s);
const ic_node *ic_snapshot_node(const ic_snapshot *s, size_t i); /* sorted by path */
const ic_node *ic_snapshot_find(const ic_snapshot *s, const char *path); /* NULL if absent */

size_t ic_snapshot_manifest_file_count(const ic_snapshot *s);
const ic_manifest_file_info *ic_snapshot_manifest_file(const ic_snapshot *s, size_t i);

/* "2026-04-08T10:11:12.123456Z" into buf (at least 32 bytes). Returns buf. */
char *ic_format_time(int64_t us, char *buf, size_t size);

/* ---- chunk references --------------------------------------------------- */

typedef enum ic_chunk_kind {
    IC_CHUNK_MISSING, /* no reference: every element is the fill value */
    IC_CHUNK_INLINE,  /* encoded bytes stored in the manifest */
    IC_CHUNK_NATIVE,  /* chunks/<chunk_id>, [offset, offset + length) */
    IC_CHUNK_VIRTUAL, /* location, [offset, offset + length), checksum */
} ic_chunk_kind;

typedef struct ic_chunk_ref {
    ic_chunk_kind kind;
    const uint8_t *inline_data; /* INLINE (borrowed) */
    size_t inline_len;
    char chunk_id[IC_SNAPSHOT_ID_SIZE]; /* NATIVE */
    const char *location;       /* VIRTUAL: absolute URL (vcc://NAME/ already expanded;
                                   not percent-decoded) (borrowed) */
    uint64_t offset, length;    /* NATIVE and VIRTUAL */
    const char *etag;           /* VIRTUAL: expected ETag as stored (may carry quotes), or NULL */
    int64_t last_modified;      /* VIRTUAL: seconds since the epoch, 0 = none
                                   (0 whenever etag is set: the ETag wins) */
    char manifest_id[IC_SNAPSHOT_ID_SIZE]; /* the manifest that held it ("" if MISSING) */
} ic_chunk_ref;

/* The reference of chunk `coord` (node->ndim coordinates) of an array: the
 * first manifest whose extents contain it is read (once; cached in the
 * repo) and searched. No manifest, no entry for the array, no entry for
 * the coordinate, or a coordinate outside the chunk grid: IC_CHUNK_MISSING.
 * Errors: FLOE_EINVAL for a group node; FLOE_ENOTFOUND for a manifest the
 * snapshot names that is gone; FLOE_EFORMAT for corrupt refs the search
 * meets (a manifest whose refs are out of order elsewhere can answer
 * MISSING for a chunk it holds, as in Icechunk: see chunk_ref.c). */
floe_err ic_chunk_ref_lookup(ic_repo *r, const ic_node *array, const uint64_t *coord,
                             ic_chunk_ref *out);

/* Call fn for every chunk reference of an array, manifest by manifest (in
 * the node's order), each manifest's references in coordinate order.
 * coord has array->ndim entries (borrowed for the call). A non-NULL return
 * from fn stops the walk and is returned. */
typedef floe_err (*ic_ref_visitor)(void *ctx, const uint32_t *coord, const ic_chunk_ref *ref);
floe_err ic_array_each_ref(ic_repo *r, const ic_node *array, ic_ref_visitor fn, void *ctx);

/* Number of chunk references of an array across its manifests, and the
 * number of distinct manifests (either pointer may be NULL; with n_refs
 * NULL no manifest is read). */
floe_err ic_array_count_refs(ic_repo *r, const ic_node *array, uint64_t *n_refs,
                             size_t *n_manifests);

/* Append the encoded bytes of an INLINE or NATIVE chunk to out (native:
 * GET root + "chunks/" + id, the ref's range). VIRTUAL is FLOE_EINVAL: those
 * are fetched by the virtual-access layer. MISSING is FLOE_EINVAL too. */
floe_err ic_read_stored_chunk(ic_repo *r, const ic_chunk_ref *ref, floe_buf *out);

/* The URL of a native chunk's object (root + "chunks/" + id), for callers
 * that batch their own range requests. Owned by the caller (free()). */
floe_err ic_native_chunk_url(const ic_repo *r, const ic_chunk_ref *ref, char **url);

/* Read the manifests of arrays[0..n) that are not cached yet, all at
 * once (concurrently when the transport has an object cache), so that
 * their lookups and walks need no request. Errors as in lookups. */
floe_err ic_repo_load_manifests(ic_repo *r, const ic_node *const *arrays, size_t n);

/* As ic_repo_load_manifests, and in the same concurrent wave the manifests
 * of beside[0..nbeside): parsed into r like the others, but then forgotten
 * by the transport's object cache (unless one of arrays shares them), so
 * that a recording cache (transport.h) does not carry them. For a process
 * that will read an array's chunks itself and must not hand the array's
 * manifests on to others. */
floe_err ic_repo_load_manifests_beside(ic_repo *r, const ic_node *const *arrays, size_t n,
                                       const ic_node *const *beside, size_t nbeside);

/* Read, concurrently, only the manifests of `array` whose extents overlap
 * the chunk box [from, to) (array->ndim coordinates each, `to` exclusive)
 * and that are not cached yet: what a batch of chunks inside that box
 * needs, so that an array split into many manifests costs only the
 * overlapping ones. Errors as in lookups. */
floe_err ic_repo_load_manifests_box(ic_repo *r, const ic_node *array, const uint32_t *from,
                                    const uint32_t *to);

/* Forget the cached manifests (invalidates every ic_chunk_ref pointer). */
void ic_repo_drop_manifests(ic_repo *r);

#endif
