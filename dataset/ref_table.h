/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/ref_table.h - a compact table of chunk references: the refs one
 * rank will look up, collected where they are found (a read plan replaying
 * that rank's reads, read_plan.c; ref_collector.c) and handed to the rank
 * as one blob (parsed and searched by ref_table.c), so that it reads its
 * chunks without holding, or parsing, a manifest.
 *
 * The blob crosses a process boundary: floe_ref_table_parse treats it as
 * input (every count, offset and string checked, entries strictly sorted)
 * and refuses anything else with FLOE_EFORMAT. Its layout, all integers
 * little-endian:
 *
 *   "FLOEREF1"                          magic (REF_TABLE_MAGIC)
 *   u32 narrays, u32 nstrings
 *   u64 nentries, u64 string_bytes, u64 inline_bytes
 *   narrays x {u32 array index in the dataset, u32 ndim}   strictly ascending
 *   string_bytes: nstrings NUL-terminated strings (locations, ETags, native
 *                 chunk ids; each distinct one once)
 *   inline_bytes: the inline chunks' bytes
 *   nentries x {u32 array slot (into the arrays above), u8 kind,
 *               ndim x u64 coordinate, then by kind:
 *               MISSING: nothing;
 *               INLINE:  u64 at, u64 length (into the inline bytes);
 *               NATIVE:  u32 chunk id (a string), u64 offset, u64 length;
 *               VIRTUAL: u32 location (a string), u32 etag (a string, or
 *                        REF_TABLE_NONE), i64 last_modified, u64 offset,
 *                        u64 length}
 *              strictly ascending by (array index, coordinate)
 *
 * The arrays listed are those the table answers for: a coordinate of one
 * of them that the table lacks is a lookup it did not answer (the caller
 * counts it and asks the manifests); other arrays are not its business.
 *
 * Dataset-internal: the engine uses dataset.h (floe_ref_collector,
 * floe_dataset_use_refs). Exposed here for the dataset's files and the
 * unit tests.
 */
#ifndef FLOE_DATASET_REF_TABLE_H
#define FLOE_DATASET_REF_TABLE_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "io/icechunk/icechunk.h"

#include <stddef.h>
#include <stdint.h>

/* The blob's first bytes (not NUL-terminated in it). */
#define REF_TABLE_MAGIC "FLOEREF1"
enum { REF_TABLE_MAGIC_BYTES = sizeof REF_TABLE_MAGIC - 1 };

/* A string id that names no string (a virtual ref without an ETag). */
#define REF_TABLE_NONE UINT32_MAX

/* ---- collecting (one rank's refs, on the rank that plans) ---- */

/* floe_ref_collector_new, _free and _blob: dataset.h. The table answers
 * for `array` (ndim dimensions, grid[d] chunks along dimension d), even
 * with no ref of it (a rank with nothing to read of it). FLOE_EINVAL: a
 * grid of more than 2^64 chunks, or the array covered with another ndim. */
floe_err floe_ref_collector_cover(floe_ref_collector *c, uint32_t array, int ndim,
                                  const uint64_t *grid);
/* Add the ref of chunk `coord` of `array` (covered first: FLOE_EINVAL
 * otherwise, or for a coordinate outside its grid); its strings and inline
 * bytes are copied. The same chunk added twice is kept once (its inline
 * bytes too). */
floe_err floe_ref_collector_add(floe_ref_collector *c, uint32_t array, int ndim,
                                const uint64_t *coord, const ic_chunk_ref *ref);

/* ---- a table received ---- */

typedef struct floe_ref_table floe_ref_table;

/* Parse blob[0..len) (copied: the table owns what it points into).
 * FLOE_EFORMAT names what is wrong; FLOE_ENOMEM. */
floe_err floe_ref_table_parse(const void *blob, size_t len, floe_ref_table **out);
/* Safe on NULL; NULLs *t. */
void floe_ref_table_free(floe_ref_table **t);
/* Its entries (chunk refs). */
uint64_t floe_ref_table_count(const floe_ref_table *t);
/* The arrays it answers for: i in [0, count), their index and ndim. */
size_t floe_ref_table_array_count(const floe_ref_table *t);
void floe_ref_table_array_at(const floe_ref_table *t, size_t i, uint32_t *array, uint32_t *ndim);
/* Whether the table answers for `array`. */
int floe_ref_table_covers(const floe_ref_table *t, uint32_t array);
/* The ref of chunk `coord` (ndim values) of `array`: 1 and *out (its
 * pointers borrowed from the table), or 0 when the table lacks it. */
int floe_ref_table_find(const floe_ref_table *t, uint32_t array, int ndim, const uint64_t *coord,
                        ic_chunk_ref *out);

#endif
