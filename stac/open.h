/* SPDX-License-Identifier: Apache-2.0 */
/* stac/open.h - from a STAC document to "how to open the store": which
 * asset is the Icechunk repository, where it lives and with which access
 * settings (storage extension), which virtual chunk containers it reads
 * from (virtual-assets extension), and which branch, tag or snapshot to
 * open (command line, icechunk:*, version extension, ZEP 8 href).
 *
 * Only the STAC side: nothing here opens the repository, and nothing here
 * prints (cli/inspect_print.c shows the parameters). The rules:
 *
 * Asset: --asset KEY if given (an unknown key is FLOE_ENOTFOUND listing the
 *   keys); else the asset of type application/vnd.zarr+icechunk with role
 *   latest-version (several: ambiguous, listed); else the only Icechunk
 *   asset; else an error listing the candidates as "key (type)".
 * Storage: the asset href (s3://bucket/prefix/, http(s)://, a local path;
 *   relative hrefs resolve against the document) plus the storage:schemes
 *   entry its storage:refs names. aws-s3 and custom-s3 schemes are read;
 *   any other type is FLOE_EUNSUPPORTED naming it. The href's bucket must
 *   match the scheme's. Several refs must resolve to the same storage.
 * Containers: each vrt:hrefs[].key names a sibling asset whose href is the
 *   container prefix and whose storage:refs give its access settings.
 * Version: --branch/--tag/--snapshot > ZEP 8 href (URL|icechunk://tag.v5/g/)
 *   > icechunk:branch > icechunk:tag > icechunk:snapshot_id > version
 *   (a snapshot id; anything else is taken as a tag) > branch "main".
 * Time label: "floe:time_label" of the temporal dimension in the owner's
 *   cube:dimensions (stac/time_label.c), passed on unchecked.
 * Zarr: zarr:zarr_format must be 3 when present; zarr:consolidated true is
 *   wrong for Icechunk (a note and a warning, not an error).
 */
#ifndef FLOE_STAC_OPEN_H
#define FLOE_STAC_OPEN_H

#include "common/floe_error.h"
#include "io/transport/transport.h"
#include "stac/doc.h"

#include <stddef.h>

typedef enum stac_ref_kind { STAC_REF_BRANCH, STAC_REF_TAG, STAC_REF_SNAPSHOT } stac_ref_kind;

typedef enum stac_storage_kind {
    STAC_STORAGE_S3,   /* bucket + prefix, through an S3 API (AWS or custom endpoint) */
    STAC_STORAGE_HTTP, /* plain http(s) GETs below url */
    STAC_STORAGE_FILE, /* a local folder */
} stac_storage_kind;

/* Where a repository or a virtual chunk container lives. All strings
 * owned; NULL when not given. */
typedef struct stac_storage {
    stac_storage_kind kind;
    char *url;          /* s3://bucket/prefix/, https://host/path/ or a local path. For the
                           repository it always ends in '/'; for a container it is the
                           prefix exactly as the asset href gives it */
    char *bucket;       /* S3 only */
    char *prefix;       /* S3 only: the key prefix ("" for the bucket root) */
    char *region;       /* NULL: not given (environment or transport default) */
    char *endpoint;     /* custom-s3: the endpoint URL; NULL for AWS itself (so that
                           AWS_ENDPOINT_URL_S3 still applies) */
    char *platform;     /* the scheme's platform with {bucket}/{region} filled in */
    int anonymous;      /* 1: send unsigned requests */
    int requester_pays; /* 1: x-amz-request-payer: requester */
    char *scheme_key;   /* the storage:schemes entry used (NULL: the href alone) */
    char *scheme_type;  /* "aws-s3", "custom-s3" (NULL: the href alone) */
    char *asset_key;    /* the asset whose href this is */
} stac_storage;

typedef struct stac_open_params {
    char *source;          /* the STAC document as given */
    char *doc_kind;        /* "Collection", "Item", "ItemCollection" */
    char *collection_id;   /* Collection id, or an Item's "collection" (NULL: none) */
    char *item_id;         /* the Item holding the asset (NULL for a Collection) */
    char *asset_key;
    char *asset_type;      /* its media type (NULL: none given) */
    char *asset_origin;    /* why this asset: "--asset", "role latest-version",
                              "only Icechunk asset" */
    stac_storage repo;     /* the Icechunk repository */
    char *group;           /* group path inside the repository from a ZEP 8 href
                              ("rlus/"); NULL: the root */
    size_t n_containers;
    stac_storage *containers; /* virtual chunk containers, url = the prefix */
    stac_ref_kind ref_kind;
    char *ref_name;        /* branch or tag name, or snapshot id */
    char *ref_origin;      /* "--branch", "--tag", "--snapshot", "href", "icechunk:branch",
                              "icechunk:tag", "icechunk:snapshot_id", "version", "default" */
    int zarr_format;       /* 3, or 0 when the document does not say */
    int consolidated;      /* zarr:consolidated: 1, 0, or -1 unknown */
    char *time_label;      /* the temporal cube:dimensions' "floe:time_label" (stac/time_label.c);
                              NULL: none */
    size_t n_notes;
    char **notes;          /* things worth telling the user (inspect prints them) */
} stac_open_params;

/* What the command line asked for. All fields may be NULL / unset. */
typedef struct stac_request {
    const char *asset;          /* --asset KEY (in an ItemCollection also "ITEM:KEY") */
    stac_ref_kind cli_ref_kind; /* which of --branch/--tag/--snapshot */
    const char *cli_ref;        /* its value; NULL: none given */
} stac_request;

/* Load source (see stac_doc_load; t may be NULL) and resolve it. req may
 * be NULL. On success *out holds owned parameters (stac_open_params_clear);
 * on error *out is left cleared. Messages name the document, the asset
 * and the field at fault, on one line. */
floe_err stac_open_resolve(floe_transport *t, const char *source, const stac_request *req,
                           stac_open_params *out);

/* The same on a document already in memory (no I/O). */
floe_err stac_open_resolve_doc(const stac_doc *doc, const stac_request *req,
                               stac_open_params *out);

/* Free everything in p and zero it. Safe on a zeroed struct. */
void stac_open_params_clear(stac_open_params *p);

/* "branch", "tag", "snapshot". */
const char *stac_ref_kind_name(stac_ref_kind kind);

#endif
