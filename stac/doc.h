/* SPDX-License-Identifier: Apache-2.0 */
/* stac/doc.h - a STAC document (Collection, Item or ItemCollection) read
 * from a local path or an http(s)/s3 URL and parsed into cJSON, plus the
 * few structural lookups every STAC reader needs (which objects own assets,
 * where their storage:schemes live, how a relative href resolves).
 *
 * Nothing here knows about Zarr or Icechunk: stac/open.h interprets the
 * assets.
 *
 *     stac_doc *doc;
 *     FLOE_CHECK(stac_doc_load(transport, "collection.json", &doc));
 *     for (size_t i = 0; i < stac_doc_owner_count(doc); i++)
 *         ... stac_owner_assets(stac_doc_owner(doc, i)) ...
 *     stac_doc_free(&doc);
 */
#ifndef FLOE_STAC_DOC_H
#define FLOE_STAC_DOC_H

#include "common/floe_error.h"
#include "io/transport/transport.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Largest STAC document floe reads (the biggest real ItemCollections with
 * embedded kerchunk references are a few MB). */
#define STAC_DOC_MAX_BYTES ((size_t)64 << 20)

typedef enum stac_doc_kind {
    STAC_DOC_COLLECTION,      /* "type": "Collection" */
    STAC_DOC_ITEM,            /* "type": "Feature" */
    STAC_DOC_ITEM_COLLECTION, /* "type": "FeatureCollection" of Items */
} stac_doc_kind;

typedef struct stac_doc {
    char *source;       /* path or URL as given (owned) */
    stac_doc_kind kind;
    cJSON *root;        /* the whole document (owned) */
} stac_doc;

/* Parse len bytes of JSON text (need not be NUL-terminated; a UTF-8 BOM is
 * skipped). source names the document in messages. Errors (FLOE_EFORMAT):
 * "not valid JSON at line N, column C" (1-based, where the parser stopped),
 * a top level that is not an object, a missing or unknown "type";
 * a Catalog is FLOE_EUNSUPPORTED (it has no assets). */
floe_err stac_doc_parse(const char *text, size_t len, const char *source, stac_doc **out);

/* Read source (local path, file://, http(s)://, s3://) with
 * floe_transport_get and parse it. t may be NULL: a default transport is
 * made for the call (environment settings, fine for local paths and public
 * URLs). */
floe_err stac_doc_load(floe_transport *t, const char *source, stac_doc **out);

/* Free the document and set *doc = NULL. Safe on NULL. */
void stac_doc_free(stac_doc **doc);

/* "Collection", "Item" or "ItemCollection". */
const char *stac_doc_kind_name(stac_doc_kind kind);

/* The objects that own assets: the Collection, the Item, or each Item of an
 * ItemCollection (in document order). Borrowed from doc. */
size_t stac_doc_owner_count(const stac_doc *doc);
const cJSON *stac_doc_owner(const stac_doc *doc, size_t i);

/* Borrowed lookups on an owner; NULL when absent or not an object/string. */
const cJSON *stac_owner_assets(const cJSON *owner);
/* storage:schemes: Items keep it under "properties", Collections at the top
 * level; both places are looked at (properties first). */
const cJSON *stac_owner_schemes(const cJSON *owner);
const char *stac_owner_id(const cJSON *owner);

/* Resolve href against the document it appears in (base: a path or URL).
 * Absolute hrefs ("scheme://...", "/...") are returned as they are;
 * "./x", "x" and "../x" are taken relative to base's folder. *out is owned
 * (free()). */
floe_err stac_href_resolve(const char *base, const char *href, char **out);

/* Does SOURCE name a STAC document rather than a repository? True when its
 * path (query and fragment ignored) ends in .json, .jsonc or .geojson, or
 * when it is a local regular file whose first non-blank byte is '{'. A
 * folder, an s3:// prefix or an https:// repository URL is not. Never
 * fails; does no network I/O. */
int stac_source_is_document(const char *source);

#endif
