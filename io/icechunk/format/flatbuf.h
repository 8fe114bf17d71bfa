/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/flatbuf.h - a bounds-checked reader for FlatBuffers (no schema compiler).
 *
 * Icechunk's metadata files are flatbuffers from untrusted storage, so every
 * position this reader computes is checked against the buffer before it is
 * read: a corrupt offset, a vtable that runs off the end or a vector longer
 * than the buffer is FLOE_EFORMAT ("flatbuffer: ..."), never an
 * out-of-bounds read. Callers add which object and field they were reading
 * with FLOE_CHECK. All loads are little-endian and unaligned-safe (memcpy).
 *
 * Wire rules in short (shared/docs/icechunk-format.md §6): root u32 at 0;
 * a table starts with an i32 soffset to its vtable (vtable = table - soffset);
 * the vtable is u16 size, u16 table inline size, one u16 per field slot
 * (0 = absent); references (tables, strings, vectors) are u32 offsets
 * relative to their own position; strings and vectors start with a u32 count.
 *
 *     fb_table root;
 *     FLOE_CHECK(fb_root(data, len, "Ichk", &root), "snapshot %s", key);
 *     fb_vector nodes;
 *     FLOE_CHECK(fb_field_vector(&root, 2, "nodes", FB_REF_SIZE, 1, &nodes));
 *     for (uint32_t i = 0; i < nodes.n; i++) {
 *         fb_table node;
 *         FLOE_CHECK(fb_vector_table(&nodes, i, &node), "node %u", i);
 *         ...
 *
 * The fb_* structs are small values that point into the caller's buffer
 * (borrowed): they are valid as long as that buffer is.
 */
#ifndef FLOE_FLATBUF_H
#define FLOE_FLATBUF_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

/* Element size of a vector of tables or strings (u32 offsets). */
#define FB_REF_SIZE 4u

/* The largest buffer this reader accepts: flatbuffers use 32-bit offsets. */
#define FB_MAX_BUFFER ((size_t)INT32_MAX)

typedef struct fb_table {
    const uint8_t *buf; /* the whole flatbuffer (borrowed) */
    size_t len;
    size_t pos;         /* start of the table (its soffset) */
    size_t vt;          /* start of its vtable */
    uint16_t vt_size;   /* bytes in the vtable, header included */
    uint16_t inline_size; /* bytes of the table's inline part */
} fb_table;

typedef struct fb_vector {
    const uint8_t *buf; /* the whole flatbuffer (borrowed) */
    size_t len;
    size_t pos;         /* first element (just after the u32 count) */
    uint32_t n;         /* number of elements */
    uint32_t elem_size; /* bytes per element (FB_REF_SIZE for tables/strings) */
    int present;        /* 0: the field was absent (n is 0) */
} fb_vector;

/* The root table of a flatbuffer (no size prefix). If ident is not NULL,
 * bytes 4..7 must equal those 4 characters (the file identifier). */
floe_err fb_root(const uint8_t *buf, size_t len, const char *ident, fb_table *out);

/* The table at absolute position pos: checks the soffset, the vtable and
 * that the inline part lies in the buffer. */
floe_err fb_table_at(const uint8_t *buf, size_t len, size_t pos, fb_table *out);

/* Byte offset of field `slot` from the table start, 0 if absent. Never
 * fails: fb_table_at already checked that the vtable lies in the buffer. */
uint16_t fb_field_offset(const fb_table *t, unsigned slot);

/* Scalars: *out = the stored value, or def when the field is absent.
 * `name` is the field name, for messages. */
floe_err fb_field_u8(const fb_table *t, unsigned slot, const char *name, uint8_t def, uint8_t *out);
floe_err fb_field_u16(const fb_table *t, unsigned slot, const char *name, uint16_t def, uint16_t *out);
floe_err fb_field_u32(const fb_table *t, unsigned slot, const char *name, uint32_t def, uint32_t *out);
floe_err fb_field_i32(const fb_table *t, unsigned slot, const char *name, int32_t def, int32_t *out);
floe_err fb_field_u64(const fb_table *t, unsigned slot, const char *name, uint64_t def, uint64_t *out);

/* A struct stored inline in the table (e.g. a 12-byte id): *out points at
 * its `size` bytes, or is NULL when absent (an error if required). */
floe_err fb_field_struct(const fb_table *t, unsigned slot, const char *name, size_t size,
                         int required, const uint8_t **out);

/* A string: *s points at its bytes (NUL-terminated in the buffer; a string
 * without its NUL or with an embedded NUL is corrupt), *slen its length.
 * Absent: *s = NULL, *slen = 0 (an error if required). slen may be NULL. */
floe_err fb_field_string(const fb_table *t, unsigned slot, const char *name, int required,
                         const char **s, size_t *slen);

/* A sub-table. Absent: out->buf = NULL (an error if required). */
floe_err fb_field_table(const fb_table *t, unsigned slot, const char *name, int required,
                        fb_table *out);

/* A vector whose elements are elem_size bytes each (1/2/4/8 for scalars,
 * the struct size for structs, FB_REF_SIZE for tables and strings). Checks
 * that all n elements lie in the buffer. Absent: n = 0, present = 0 (an
 * error if required). */
floe_err fb_field_vector(const fb_table *t, unsigned slot, const char *name, uint32_t elem_size,
                         int required, fb_vector *out);

/* Element access. i must be < v->n: fb_vector_elem returns NULL and
 * fb_vector_u32 0 otherwise; the table/string accessors return
 * FLOE_EINTERNAL (a caller bug), and FLOE_EFORMAT for a corrupt element. */
const uint8_t *fb_vector_elem(const fb_vector *v, uint32_t i); /* NULL if i >= n */
uint32_t fb_vector_u32(const fb_vector *v, uint32_t i);        /* 0 if i >= n */
floe_err fb_vector_table(const fb_vector *v, uint32_t i, fb_table *out);
floe_err fb_vector_string(const fb_vector *v, uint32_t i, const char **s, size_t *slen);

/* Unaligned little-endian loads (no bounds check: callers checked). */
uint16_t fb_load_u16(const uint8_t *p);
uint32_t fb_load_u32(const uint8_t *p);
uint64_t fb_load_u64(const uint8_t *p);

#endif
