/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/manifest_internal.h - what manifest.c (reading, checking,
 * indexing and caching manifest files) and chunk_ref.c (chunk references
 * looked up or walked in them) share. Not for use outside io/icechunk/. */
#ifndef FLOE_ICECHUNK_MANIFEST_INTERNAL_H
#define FLOE_ICECHUNK_MANIFEST_INTERNAL_H

#include "io/icechunk/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

/* ChunkRef table slots (shared/docs/icechunk-format.md §7.4). */
enum { CR_INDEX = 0, CR_INLINE = 1, CR_OFFSET = 2, CR_LENGTH = 3, CR_CHUNK_ID = 4,
       CR_LOCATION = 5, CR_ETAG = 6, CR_LAST_MODIFIED = 7, CR_COMPRESSED_LOCATION = 8 };

typedef struct ic_array_refs {
    uint8_t node_id[8];
    fb_vector refs;   /* ChunkRef tables, sorted by index (checked where touched) */
    char **locations; /* expanded locations by ref position (lazy) */
} ic_array_refs;

struct ic_manifest {
    uint8_t id[12];
    char id_str[IC_SNAPSHOT_ID_SIZE];
    ic_file file;
    ic_array_refs *arrays; /* sorted by node id */
    uint32_t n_arrays;
    const uint8_t *dict;   /* location_dictionary, or NULL */
    size_t dict_len;
    uint8_t compression;   /* 1: compressed locations use the dictionary */
    ZSTD_DDict *ddict;     /* made on first use */
    ZSTD_DCtx *dctx;
};

/* The manifest of extent e, from r's cache or read, parsed and cached now
 * (borrowed: valid while r caches it). */
floe_err ic_manifest_get(ic_repo *r, const ic_manifest_extent *e, ic_manifest **out);
/* The same, read and parsed but not cached (the caller frees it with
 * ic_manifest_free): for a walk that drops each manifest after it. */
floe_err ic_manifest_read(ic_repo *r, const ic_manifest_extent *e, ic_manifest **out);
/* The cached manifest with this id, or NULL. */
ic_manifest *ic_manifest_cached(const ic_repo *r, const uint8_t id[12]);
/* The refs of array node_id in m, or NULL. */
ic_array_refs *ic_manifest_array(ic_manifest *m, const uint8_t node_id[8]);
/* The coordinate vector of a ChunkRef. */
floe_err ic_ref_index(const fb_vector *refs, uint32_t i, fb_table *ref, fb_vector *index);
/* -1, 0, 1 comparing a stored index with a coordinate (lexicographic). */
int ic_ref_cmp_index(const fb_vector *index, const uint32_t *coord, uint32_t ndim);

#endif
