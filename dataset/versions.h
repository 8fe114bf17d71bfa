/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/versions.h - the versions of the repository a dataset was opened
 * from (`floe inspect --versions`): its branches and tags, with the
 * snapshot each names, and the history of the snapshot opened.
 */
#ifndef FLOE_DATASET_VERSIONS_H
#define FLOE_DATASET_VERSIONS_H

#include "common/floe_error.h"
#include "dataset/dataset.h"

#include <stddef.h>
#include <stdint.h>

enum { FLOE_SNAPSHOT_ID_SIZE = 21 }; /* 20 base32 characters + NUL */

typedef struct floe_version_ref {
    int is_tag;                              /* 0: a branch */
    char *name;                              /* owned */
    char snapshot_id[FLOE_SNAPSHOT_ID_SIZE];
} floe_version_ref;

typedef struct floe_version_snapshot {
    char id[FLOE_SNAPSHOT_ID_SIZE];
    char time[40]; /* ISO 8601 UTC, microseconds */
    char *message; /* owned */
} floe_version_snapshot;

typedef struct floe_versions {
    floe_version_ref *refs;  /* branches then tags, each sorted by name */
    size_t nrefs;
    /* NULL when refs lists them all; else why they cannot be listed (a
     * spec-1 repository keeps them as objects, and listing those needs an
     * object listing floe does not do) */
    char *refs_unlisted;
    floe_version_snapshot *history; /* the snapshot opened, then its ancestors */
    size_t nhistory;
} floe_versions;

/* Read the refs and the history (spec 2: no read beyond the open; spec 1:
 * one snapshot file per step of the history). Clear with
 * floe_versions_clear, also after an error. */
floe_err floe_dataset_versions(floe_dataset *ds, floe_versions *out);
void floe_versions_clear(floe_versions *v);

#endif
