/* SPDX-License-Identifier: Apache-2.0 */
/* stac/internal.h - what the steps of resolving a STAC document share
 * (stac/open.c runs them in order: asset, storage, pipeline href, version,
 * Zarr flags, containers). Only stac/ includes it.
 *
 * Conventions of every step: the document is only read; every string that
 * ends up in stac_open_params is copied; a field present with the wrong
 * type is an error naming it, an absent one is NULL / the default; things
 * worth telling the user become notes (stac_add_note). */
#ifndef FLOE_STAC_INTERNAL_H
#define FLOE_STAC_INTERNAL_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "stac/doc.h"
#include "stac/open.h"

#include <cjson/cJSON.h>
#include <stdarg.h>

/* Lists in messages stop after this many entries ("... and N more"):
 * an ItemCollection can hold hundreds of assets. */
#define STAC_LIST_MAX 12
/* Bound for messages built in memory (lists of keys). */
#define STAC_MSG_MAX ((size_t)1 << 16)

/* ---- stac/fields.c: strings, notes, typed field access ------------------ */

/* *out = a copy of s (NULL when s is NULL). */
floe_err stac_dup(const char *s, char **out);
/* *out = the formatted text (owned). */
floe_err stac_vformat(char **out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
floe_err stac_format(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append formatted text to b. */
floe_err stac_buf_printf(floe_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* b's text ("" while empty); borrowed. */
const char *stac_buf_str(const floe_buf *b);
/* Equal strings, or both NULL. */
int stac_str_eq(const char *a, const char *b);
/* Add a note for the user to p (inspect prints them; also logged at debug). */
floe_err stac_add_note(stac_open_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* obj.field as a string (borrowed) or bool; where names obj in messages. */
floe_err stac_get_string(const cJSON *obj, const char *field, const char *where,
                         const char **val);
floe_err stac_get_bool(const cJSON *obj, const char *field, const char *where, int *val);
/* An asset's "type" and "href" when they are strings, else NULL (borrowed). */
const char *stac_asset_type(const cJSON *asset);
const char *stac_asset_href(const cJSON *asset);

/* ---- stac/asset.c: which asset is the repository ------------------------- */

typedef struct stac_cand {
    const cJSON *owner; /* the Collection or Item holding the asset */
    const cJSON *asset;
    const char *key;
} stac_cand;

/* The asset to open (rules in stac/open.h); *origin says why (static text). */
floe_err stac_select_asset(const stac_doc *doc, const stac_request *req, stac_open_params *p,
                           stac_cand *chosen, const char **origin);

/* ---- stac/storage.c: where an asset lives --------------------------------- */

/* Where the asset (href already resolved) lives, with its access settings.
 * folder: a repository (the URL gets a trailing '/'). On error *st is
 * cleared. */
floe_err stac_resolve_storage(const cJSON *owner, const char *key, const cJSON *asset,
                              const char *href, int folder, stac_open_params *p,
                              stac_storage *st);
/* Free everything in s and zero it. */
void stac_storage_clear(stac_storage *s);
/* The same place with the same access settings. */
int stac_storage_same(const stac_storage *a, const stac_storage *b);

/* ---- stac/pipeline.c: ZEP 8 hrefs "URL|icechunk://tag.v5/group/|zarr3" --- */

typedef struct stac_pipeline {
    char *store;      /* the first segment (owned) */
    int has_ref;
    stac_ref_kind ref_kind;
    char *ref_name;   /* owned */
    char *group;      /* owned, NULL: root */
    int zarr3;
} stac_pipeline;

/* Split the asset key's href into its segments; *pl is owned
 * (stac_pipeline_clear, also after an error). */
floe_err stac_parse_pipeline(const char *key, const char *href, stac_pipeline *pl);
void stac_pipeline_clear(stac_pipeline *pl);

/* ---- stac/version.c: which branch, tag or snapshot ------------------------ */

/* Fill p->ref_* by the precedence in stac/open.h; a losing source that
 * disagrees becomes a note. */
floe_err stac_resolve_version(const char *key, const cJSON *asset, const stac_request *req,
                              const stac_pipeline *pl, stac_open_params *p);

/* ---- stac/zarr_flags.c ----------------------------------------------------- */

/* Fill p->zarr_format and p->consolidated from the asset and the href. */
floe_err stac_check_zarr(const char *key, const cJSON *asset, const stac_pipeline *pl,
                         stac_open_params *p);

/* ---- stac/containers.c ------------------------------------------------------ */

/* Fill p->containers from the asset's vrt:hrefs. */
floe_err stac_resolve_containers(const stac_doc *doc, const cJSON *owner, const char *key,
                                 const cJSON *asset, stac_open_params *p);

/* ---- stac/time_label.c: the time-label hint ----------------------------- */

/* p->time_label from the owner's (Collection's or Item's properties')
 * cube:dimensions: the temporal dimension's "floe:time_label". */
floe_err stac_read_time_label(const cJSON *owner, stac_open_params *p);

#endif
