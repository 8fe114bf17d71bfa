/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/internal.h - what the files of the Icechunk reader share:
 * the repository struct, fetching a metadata file, the
 * configuration decoders; and the pure format headers they decode with
 * (format/file_header.h, flatbuf.h, msgpack.h). Not for use outside
 * io/icechunk/ (and its tests).
 */
#ifndef FLOE_ICECHUNK_INTERNAL_H
#define FLOE_ICECHUNK_INTERNAL_H

#include "io/icechunk/format/file_header.h"
#include "io/icechunk/format/flatbuf.h"
#include "io/icechunk/format/msgpack.h"
#include "io/icechunk/icechunk.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

/* ref.json and config.yaml are tiny. */
#define IC_MAX_SMALL_OBJECT_BYTES ((size_t)16 << 20)

/* ---- the repository (repo.c) --------------------------------------------- */

/* Slots of the v2 repo file's tables (shared/docs/icechunk-format.md §7.3):
 * Repo, Ref, SnapshotInfo. */
enum { REPO_SPEC = 0, REPO_TAGS = 1, REPO_BRANCHES = 2, REPO_DELETED_TAGS = 3,
       REPO_SNAPSHOTS = 4, REPO_CONFIG = 9 };
enum { REF_NAME = 0, REF_SNAPSHOT_INDEX = 1 };
enum { SNAPINFO_ID = 0, SNAPINFO_PARENT = 1, SNAPINFO_FLUSHED_AT = 2, SNAPINFO_MESSAGE = 3 };

typedef struct ic_manifest ic_manifest; /* manifest.c */

struct ic_repo {
    floe_transport *t; /* borrowed */
    ZSTD_DStream *zds; /* reused by every metadata file read (made on first use) */
    char *root;        /* ends with '/' */
    int spec;
    ic_file repo_file; /* v2: the `repo` object */
    ic_container *containers;
    size_t n_containers;
    char **strings;    /* every string the containers point to (owned) */
    size_t n_strings;
    ic_manifest **manifests; /* cache, sorted by id bytes */
    size_t n_manifests, cap_manifests;
    /* The most bytes one metadata object may take, stored or unpacked
     * (ic_repo_set_memory_budget): a corrupt or hostile object is stopped
     * by it, a large repository only by the machine. */
    size_t memory_budget;
    uint64_t manifests_read, manifest_bytes; /* ic_repo_manifest_stats */
};

/* GET url (a metadata object of this repository) and decode it as
 * ic_file_decode (format/file_header.h) does, under r's memory budget
 * (metadata_fetch.c). */
floe_err ic_file_fetch(ic_repo *r, const char *url, int expect_type, ic_file *f);
/* An object whose listed stored size (a snapshot's ManifestFileInfo) is
 * over r's memory budget is refused before it is fetched: a ranged
 * prefetch allocates the listed size up front (the caller names it). */
floe_err ic_listed_size_check(const ic_repo *r, uint64_t stored_bytes);
/* The smallest number in root/rel/memory.max and its ancestors' up to
 * root/memory.max (cgroup v2 limits); SIZE_MAX - 1 where none holds a
 * number ("max", missing). Part of the default memory budget. */
size_t ic_cgroup_memory_limit(const char *root, const char *rel);

/* root + key, owned by the caller. */
floe_err ic_repo_url(const ic_repo *r, const char *key, char **url);
/* GET root + key into out (capped at max). *found = 0 and no error when
 * the object does not exist (found may be NULL: then that is an error). */
floe_err ic_repo_get(ic_repo *r, const char *key, size_t max, floe_buf *out, int *found);

/* v2: the parent of a snapshot according to the repo file. *has = 0 when
 * the snapshot is the root or is not listed. */
floe_err ic_repo_v2_parent(const ic_repo *r, const uint8_t id[12], uint8_t parent[12], int *has);

/* ---- configuration (config.c) -------------------------------------------- */

/* A YAML document as JSON values, the way serde maps Icechunk's config:
 * a local tag (`!s3_compatible {...}`, `!local_file_system /x/`) becomes
 * a one-entry object {"s3_compatible": {...}}; plain scalars null/~/empty,
 * true/false and numbers are typed, everything else is a string. */
floe_err ic_yaml_to_json(const char *text, size_t len, cJSON **out);

/* The virtual chunk containers of a parsed configuration (an object, or
 * NULL for "no configuration"), normalized and filtered as in icechunk.h,
 * stored into r->containers (strings owned by r). */
floe_err ic_config_load_containers(ic_repo *r, const cJSON *config);

/* ---- manifests (manifest.c) ---------------------------------------------- */

void ic_manifest_free(ic_manifest **m);

#endif
