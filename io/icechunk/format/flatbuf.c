/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/flatbuf.c - bounds-checked FlatBuffers access (see flatbuf.h). Every
 * position is computed in size_t from values already known to lie in the
 * buffer, and checked with in_bounds() before any byte is read. */
#include "io/icechunk/format/flatbuf.h"

#include <string.h>

uint16_t fb_load_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t fb_load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

uint64_t fb_load_u64(const uint8_t *p)
{
    return (uint64_t)fb_load_u32(p) | ((uint64_t)fb_load_u32(p + 4) << 32);
}

/* Does [pos, pos + n) lie within a buffer of len bytes? (overflow-safe) */
static int in_bounds(size_t len, size_t pos, size_t n)
{
    return pos <= len && n <= len - pos;
}

floe_err fb_table_at(const uint8_t *buf, size_t len, size_t pos, fb_table *out)
{
    memset(out, 0, sizeof *out);
    if (!in_bounds(len, pos, 4))
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: table at %zu lies outside the %zu-byte buffer",
                        pos, len);
    int32_t soff = (int32_t)fb_load_u32(buf + pos);
    /* vtable = table - soffset; done in 64-bit signed arithmetic so neither
     * direction can wrap. */
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || !in_bounds(len, (size_t)vt, 4))
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: table at %zu: vtable offset %d points outside the %zu-byte buffer",
                        pos, (int)soff, len);
    uint16_t vt_size = fb_load_u16(buf + vt);
    uint16_t inline_size = fb_load_u16(buf + vt + 2);
    if (vt_size < 4 || (vt_size & 1) || !in_bounds(len, (size_t)vt, vt_size))
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: table at %zu: bad vtable at %lld (size %u, buffer %zu bytes)",
                        pos, (long long)vt, vt_size, len);
    if (inline_size < 4 || !in_bounds(len, pos, inline_size))
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: table at %zu: inline size %u runs past the %zu-byte buffer",
                        pos, inline_size, len);
    out->buf = buf;
    out->len = len;
    out->pos = pos;
    out->vt = (size_t)vt;
    out->vt_size = vt_size;
    out->inline_size = inline_size;
    return NULL;
}

floe_err fb_root(const uint8_t *buf, size_t len, const char *ident, fb_table *out)
{
    memset(out, 0, sizeof *out);
    if (len > FB_MAX_BUFFER)
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: %zu bytes is more than 32-bit offsets address", len);
    if (len < 8)
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: only %zu bytes", len);
    if (ident && memcmp(buf + 4, ident, 4) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: file identifier is not \"%.4s\"", ident);
    return fb_table_at(buf, len, fb_load_u32(buf), out);
}

uint16_t fb_field_offset(const fb_table *t, unsigned slot)
{
    size_t entry = 4 + 2 * (size_t)slot;
    if (entry + 2 > t->vt_size)
        return 0;
    return fb_load_u16(t->buf + t->vt + entry);
}

/* Locate field `slot` of `size` inline bytes: *p = NULL when absent. The
 * field must lie inside the table's inline part (which lies in the buffer). */
static floe_err field_ptr(const fb_table *t, unsigned slot, const char *name, size_t size,
                          const uint8_t **p)
{
    *p = NULL;
    uint16_t off = fb_field_offset(t, slot);
    if (off == 0)
        return NULL;
    if (off < 4 || (size_t)off + size > t->inline_size)
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: field '%s' (slot %u) at offset %u runs past its table's %u inline bytes",
                        name, slot, off, t->inline_size);
    *p = t->buf + t->pos + off;
    return NULL;
}

floe_err fb_field_u8(const fb_table *t, unsigned slot, const char *name, uint8_t def, uint8_t *out)
{
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 1, &p));
    *out = p ? p[0] : def;
    return NULL;
}

floe_err fb_field_u16(const fb_table *t, unsigned slot, const char *name, uint16_t def, uint16_t *out)
{
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 2, &p));
    *out = p ? fb_load_u16(p) : def;
    return NULL;
}

floe_err fb_field_u32(const fb_table *t, unsigned slot, const char *name, uint32_t def, uint32_t *out)
{
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 4, &p));
    *out = p ? fb_load_u32(p) : def;
    return NULL;
}

floe_err fb_field_i32(const fb_table *t, unsigned slot, const char *name, int32_t def, int32_t *out)
{
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 4, &p));
    *out = p ? (int32_t)fb_load_u32(p) : def;
    return NULL;
}

floe_err fb_field_u64(const fb_table *t, unsigned slot, const char *name, uint64_t def, uint64_t *out)
{
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 8, &p));
    *out = p ? fb_load_u64(p) : def;
    return NULL;
}

floe_err fb_field_struct(const fb_table *t, unsigned slot, const char *name, size_t size,
                         int required, const uint8_t **out)
{
    FLOE_CHECK(field_ptr(t, slot, name, size, out));
    if (!*out && required)
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: required field '%s' (slot %u) is missing", name,
                        slot);
    return NULL;
}

/* Follow the u32 reference at absolute position at (which lies in the
 * buffer): the target is at + value, and must leave room for `need` bytes. */
static floe_err follow(const uint8_t *buf, size_t len, size_t at, size_t need, const char *name,
                       size_t *target)
{
    uint32_t rel = fb_load_u32(buf + at);
    size_t pos = at + rel; /* at < 2^31 and rel < 2^32: no size_t overflow */
    if (rel == 0 || !in_bounds(len, pos, need))
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: field '%s': reference at %zu to %zu lies outside the %zu-byte buffer",
                        name, at, pos, len);
    *target = pos;
    return NULL;
}

/* A string whose u32 length is at absolute position s. */
static floe_err string_at(const uint8_t *buf, size_t len, size_t s, const char *name,
                          const char **out, size_t *slen)
{
    uint32_t n = fb_load_u32(buf + s);
    if (!in_bounds(len, s + 4, (size_t)n + 1))
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: string '%s' at %zu: length %u runs past the %zu-byte buffer",
                        name, s, n, len);
    const char *p = (const char *)buf + s + 4;
    if (p[n] != '\0')
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: string '%s' at %zu is not NUL-terminated", name, s);
    if (memchr(p, '\0', n))
        return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: string '%s' at %zu contains a NUL byte", name, s);
    *out = p;
    if (slen)
        *slen = n;
    return NULL;
}

floe_err fb_field_string(const fb_table *t, unsigned slot, const char *name, int required,
                         const char **s, size_t *slen)
{
    *s = NULL;
    if (slen)
        *slen = 0;
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 4, &p));
    if (!p) {
        if (required)
            return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: required string '%s' (slot %u) is missing",
                            name, slot);
        return NULL;
    }
    size_t target;
    FLOE_CHECK(follow(t->buf, t->len, (size_t)(p - t->buf), 4, name, &target));
    return string_at(t->buf, t->len, target, name, s, slen);
}

floe_err fb_field_table(const fb_table *t, unsigned slot, const char *name, int required,
                        fb_table *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 4, &p));
    if (!p) {
        if (required)
            return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: required table '%s' (slot %u) is missing",
                            name, slot);
        return NULL;
    }
    size_t target;
    FLOE_CHECK(follow(t->buf, t->len, (size_t)(p - t->buf), 4, name, &target));
    FLOE_CHECK(fb_table_at(t->buf, t->len, target, out), "field '%s'", name);
    return NULL;
}

floe_err fb_field_vector(const fb_table *t, unsigned slot, const char *name, uint32_t elem_size,
                         int required, fb_vector *out)
{
    memset(out, 0, sizeof *out);
    out->buf = t->buf;
    out->len = t->len;
    out->elem_size = elem_size;
    const uint8_t *p;
    FLOE_CHECK(field_ptr(t, slot, name, 4, &p));
    if (!p) {
        if (required)
            return FLOE_ERR(FLOE_EFORMAT, "flatbuffer: required vector '%s' (slot %u) is missing",
                            name, slot);
        return NULL;
    }
    size_t target;
    FLOE_CHECK(follow(t->buf, t->len, (size_t)(p - t->buf), 4, name, &target));
    uint32_t n = fb_load_u32(t->buf + target);
    /* n * elem_size in 64 bits: both < 2^32, so the product cannot wrap. */
    uint64_t bytes = (uint64_t)n * elem_size;
    if (bytes > t->len || !in_bounds(t->len, target + 4, (size_t)bytes))
        return FLOE_ERR(FLOE_EFORMAT,
                        "flatbuffer: vector '%s' at %zu: %u elements of %u bytes run past the %zu-byte buffer",
                        name, target, n, elem_size, t->len);
    out->pos = target + 4;
    out->n = n;
    out->present = 1;
    return NULL;
}

const uint8_t *fb_vector_elem(const fb_vector *v, uint32_t i)
{
    if (i >= v->n)
        return NULL;
    return v->buf + v->pos + (size_t)i * v->elem_size;
}

uint32_t fb_vector_u32(const fb_vector *v, uint32_t i)
{
    const uint8_t *p = fb_vector_elem(v, i);
    return p && v->elem_size >= 4 ? fb_load_u32(p) : 0;
}

floe_err fb_vector_table(const fb_vector *v, uint32_t i, fb_table *out)
{
    memset(out, 0, sizeof *out);
    if (i >= v->n || v->elem_size != FB_REF_SIZE)
        return FLOE_ERR(FLOE_EINTERNAL, "flatbuffer: table element %u of a vector of %u (element size %u)",
                        i, v->n, v->elem_size);
    size_t at = v->pos + (size_t)i * FB_REF_SIZE;
    size_t target;
    FLOE_CHECK(follow(v->buf, v->len, at, 4, "vector element", &target), "element %u", i);
    FLOE_CHECK(fb_table_at(v->buf, v->len, target, out), "element %u", i);
    return NULL;
}

floe_err fb_vector_string(const fb_vector *v, uint32_t i, const char **s, size_t *slen)
{
    *s = NULL;
    if (i >= v->n || v->elem_size != FB_REF_SIZE)
        return FLOE_ERR(FLOE_EINTERNAL, "flatbuffer: string element %u of a vector of %u (element size %u)",
                        i, v->n, v->elem_size);
    size_t at = v->pos + (size_t)i * FB_REF_SIZE;
    size_t target;
    FLOE_CHECK(follow(v->buf, v->len, at, 4, "vector element", &target), "element %u", i);
    FLOE_CHECK(string_at(v->buf, v->len, target, "vector element", s, slen), "element %u", i);
    return NULL;
}
