/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/flexbuf.c - FlexBuffers to cJSON (see flexbuf.h).
 *
 * Wire rules (shared/docs/icechunk-format.md §9.2): the last byte is the
 * root slot's byte width, the byte before it the root's packed type
 * (type << 2 | log2 of the child byte width). Scalars live in their slot;
 * everything else is an unsigned offset stored in the slot that points
 * backwards (target = slot - offset). Vectors and maps keep their length
 * just before the first element and the element types after the last.
 */
#include "io/icechunk/format/flexbuf.h"

#include <string.h>

enum {
    FBT_NULL = 0, FBT_INT = 1, FBT_UINT = 2, FBT_FLOAT = 3, FBT_KEY = 4, FBT_STRING = 5,
    FBT_INDIRECT_INT = 6, FBT_INDIRECT_UINT = 7, FBT_INDIRECT_FLOAT = 8, FBT_MAP = 9,
    FBT_VECTOR = 10, FBT_VECTOR_INT = 11, FBT_VECTOR_UINT = 12, FBT_VECTOR_FLOAT = 13,
    FBT_VECTOR_KEY = 14, FBT_VECTOR_STRING_DEPRECATED = 15, FBT_VECTOR_INT2 = 16,
    FBT_VECTOR_FLOAT4 = 24, FBT_BLOB = 25, FBT_BOOL = 26, FBT_VECTOR_BOOL = 36,
};

typedef struct fx {
    const uint8_t *buf;
    size_t len;
    size_t budget; /* values still allowed */
} fx;

static int in_bounds(size_t len, size_t pos, size_t n)
{
    return pos <= len && n <= len - pos;
}

static int valid_width(size_t w)
{
    return w == 1 || w == 2 || w == 4 || w == 8;
}

static uint64_t read_uint(const uint8_t *p, size_t w)
{
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int64_t read_int(const uint8_t *p, size_t w)
{
    uint64_t v = read_uint(p, w);
    if (w < 8 && (v >> (8 * w - 1)) & 1)
        v |= ~(uint64_t)0 << (8 * w); /* sign-extend */
    return (int64_t)v;
}

static floe_err read_float(const uint8_t *p, size_t w, double *out)
{
    if (w == 4) {
        float f;
        memcpy(&f, p, 4);
        *out = f;
    } else if (w == 8) {
        memcpy(out, p, 8);
    } else {
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: float of %zu bytes", w);
    }
    return NULL;
}

/* The target of the offset in the slot at pos (width w); checks that
 * `before` bytes before it and `after` bytes from it lie in the buffer. */
static floe_err deref(const fx *x, size_t pos, size_t w, size_t before, size_t after,
                      size_t *target)
{
    uint64_t off = read_uint(x->buf + pos, w);
    if (off > pos || pos - off < before || !in_bounds(x->len, (size_t)(pos - off), after))
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: offset %llu at %zu points outside the %zu-byte buffer",
                        (unsigned long long)off, pos, x->len);
    *target = (size_t)(pos - off);
    return NULL;
}

/* A NUL-terminated key at t. */
static floe_err key_at(const fx *x, size_t t, const char **key)
{
    const void *nul = memchr(x->buf + t, '\0', x->len - t);
    if (!nul)
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: key at %zu is not NUL-terminated", t);
    *key = (const char *)x->buf + t;
    return NULL;
}

static cJSON *new_number(double v)
{
    return cJSON_CreateNumber(v);
}

static floe_err value(fx *x, size_t pos, size_t parent_w, uint8_t packed, int depth, cJSON **out);

/* Elements of a vector at t: n values of width w, of type elem_type, or
 * (untyped) each with its own packed type byte after the elements. */
static floe_err vector(fx *x, size_t t, size_t w, size_t n, int elem_type, int depth, cJSON **out)
{
    if ((uint64_t)n * w > x->len || !in_bounds(x->len, t, n * w))
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: vector of %zu elements at %zu runs past the buffer", n, t);
    if (elem_type < 0 && !in_bounds(x->len, t + n * w, n))
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: type bytes of the vector at %zu run past the buffer", t);
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return FLOE_ERR(FLOE_ENOMEM, "flexbuffer: out of memory");
    for (size_t i = 0; i < n; i++) {
        cJSON *item = NULL;
        uint8_t packed = elem_type < 0 ? x->buf[t + n * w + i] : (uint8_t)(elem_type << 2);
        floe_err err = value(x, t + i * w, w, packed, depth + 1, &item);
        if (err) {
            /* No context per level: nesting would crowd the key out of
             * the error's frames. Positions in the message say where. */
            cJSON_Delete(arr);
            return err;
        }
        cJSON_AddItemToArray(arr, item);
    }
    *out = arr;
    return NULL;
}

static floe_err map(fx *x, size_t t, size_t w, int depth, cJSON **out)
{
    if (t < 3 * w)
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: map at %zu has no room for its header", t);
    size_t n64 = (size_t)read_uint(x->buf + t - w, w);
    size_t kw = (size_t)read_uint(x->buf + t - 2 * w, w);
    if (!valid_width(kw))
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: map at %zu: key width %zu", t, kw);
    size_t keys;
    FLOE_CHECK(deref(x, t - 3 * w, w, 0, 0, &keys));
    if (n64 > x->len || !in_bounds(x->len, keys, n64 * kw) ||
        !in_bounds(x->len, t, n64 * w + n64))
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: map of %zu entries at %zu runs past the buffer", n64, t);
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return FLOE_ERR(FLOE_ENOMEM, "flexbuffer: out of memory");
    for (size_t i = 0; i < n64; i++) {
        size_t ks;
        const char *key = NULL;
        cJSON *item = NULL;
        floe_err err = deref(x, keys + i * kw, kw, 0, 1, &ks);
        if (!err)
            err = key_at(x, ks, &key);
        if (!err)
            err = value(x, t + i * w, w, x->buf[t + n64 * w + i], depth + 1, &item);
        if (err) {
            cJSON_Delete(obj);
            return err;
        }
        cJSON_AddItemToObject(obj, key, item);
    }
    *out = obj;
    return NULL;
}

/* The value in the slot at pos, of width parent_w, with packed type. */
static floe_err value(fx *x, size_t pos, size_t parent_w, uint8_t packed, int depth, cJSON **out)
{
    *out = NULL;
    if (depth > FLEXBUF_MAX_DEPTH)
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: nested deeper than %d levels", FLEXBUF_MAX_DEPTH);
    if (x->budget == 0)
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: more values than a %zu-byte buffer can hold", x->len);
    x->budget--;
    int type = packed >> 2;
    size_t w = (size_t)1 << (packed & 3); /* the child's byte width */
    if (!in_bounds(x->len, pos, parent_w))
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: slot at %zu runs past the buffer", pos);
    const uint8_t *slot = x->buf + pos;
    size_t t;
    double d;
    switch (type) {
    case FBT_NULL:
        *out = cJSON_CreateNull();
        break;
    case FBT_BOOL:
        *out = cJSON_CreateBool(read_uint(slot, parent_w) != 0);
        break;
    case FBT_INT:
        *out = new_number((double)read_int(slot, parent_w));
        break;
    case FBT_UINT:
        *out = new_number((double)read_uint(slot, parent_w));
        break;
    case FBT_FLOAT:
        FLOE_CHECK(read_float(slot, parent_w, &d));
        *out = new_number(d);
        break;
    case FBT_INDIRECT_INT:
    case FBT_INDIRECT_UINT:
    case FBT_INDIRECT_FLOAT:
        FLOE_CHECK(deref(x, pos, parent_w, 0, w, &t));
        if (type == FBT_INDIRECT_FLOAT) {
            FLOE_CHECK(read_float(x->buf + t, w, &d));
        } else {
            d = type == FBT_INDIRECT_INT ? (double)read_int(x->buf + t, w)
                                         : (double)read_uint(x->buf + t, w);
        }
        *out = new_number(d);
        break;
    case FBT_KEY: {
        const char *key = NULL;
        FLOE_CHECK(deref(x, pos, parent_w, 0, 1, &t));
        FLOE_CHECK(key_at(x, t, &key));
        *out = cJSON_CreateString(key);
        break;
    }
    case FBT_STRING:
    case FBT_BLOB: {
        FLOE_CHECK(deref(x, pos, parent_w, w, 0, &t));
        uint64_t n = read_uint(x->buf + t - w, w);
        if (n > x->len || !in_bounds(x->len, t, (size_t)n + (type == FBT_STRING)))
            return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: %s of %llu bytes at %zu runs past the buffer",
                            type == FBT_STRING ? "string" : "blob", (unsigned long long)n, t);
        if (type == FBT_BLOB) {
            if (n > x->budget)
                return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: blob of %llu bytes is too large",
                                (unsigned long long)n);
            x->budget -= (size_t)n;
            cJSON *arr = cJSON_CreateArray();
            for (size_t i = 0; arr && i < n; i++)
                cJSON_AddItemToArray(arr, new_number(x->buf[t + i]));
            *out = arr;
            break;
        }
        if (memchr(x->buf + t, '\0', (size_t)n))
            return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: string at %zu contains a NUL byte", t);
        if (x->buf[t + n] != '\0')
            return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: string at %zu is not NUL-terminated", t);
        /* cJSON strings are NUL-terminated: copy the n bytes. */
        char *s = cJSON_malloc((size_t)n + 1);
        if (!s)
            return FLOE_ERR(FLOE_ENOMEM, "flexbuffer: out of memory");
        memcpy(s, x->buf + t, (size_t)n);
        s[n] = '\0';
        *out = cJSON_CreateString(s);
        cJSON_free(s);
        break;
    }
    case FBT_MAP:
        FLOE_CHECK(deref(x, pos, parent_w, 0, 0, &t));
        return map(x, t, w, depth, out);
    case FBT_VECTOR:
    case FBT_VECTOR_INT:
    case FBT_VECTOR_UINT:
    case FBT_VECTOR_FLOAT:
    case FBT_VECTOR_KEY:
    case FBT_VECTOR_STRING_DEPRECATED:
    case FBT_VECTOR_BOOL: {
        FLOE_CHECK(deref(x, pos, parent_w, w, 0, &t));
        uint64_t n = read_uint(x->buf + t - w, w);
        if (n > x->len)
            return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: vector length %llu at %zu", (unsigned long long)n, t);
        int elem = type == FBT_VECTOR ? -1
                   : type == FBT_VECTOR_BOOL ? FBT_BOOL
                   : type == FBT_VECTOR_STRING_DEPRECATED ? FBT_STRING
                   : type - FBT_VECTOR_INT + FBT_INT;
        return vector(x, t, w, (size_t)n, elem, depth, out);
    }
    default:
        if (type >= FBT_VECTOR_INT2 && type <= FBT_VECTOR_FLOAT4) {
            /* Fixed-length typed vectors of 2, 3 or 4 ints/uints/floats. */
            FLOE_CHECK(deref(x, pos, parent_w, 0, 0, &t));
            size_t n = (size_t)(type - FBT_VECTOR_INT2) / 3 + 2;
            int elem = (type - FBT_VECTOR_INT2) % 3 + FBT_INT;
            return vector(x, t, w, n, elem, depth, out);
        }
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: unknown value type %d at %zu", type, pos);
    }
    if (!*out)
        return FLOE_ERR(FLOE_ENOMEM, "flexbuffer: out of memory");
    return NULL;
}

floe_err flexbuf_to_json(const uint8_t *buf, size_t len, cJSON **out)
{
    *out = NULL;
    if (!buf || len < 3)
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: only %zu bytes", len);
    size_t w = buf[len - 1];
    if (!valid_width(w) || len < w + 2)
        return FLOE_ERR(FLOE_EFORMAT, "flexbuffer: bad root width %zu", w);
    /* Every value costs at least one byte of the buffer, except shared
     * sub-values; this bound keeps a hostile DAG from exploding. */
    fx x = {buf, len, 4 * len + 64};
    return value(&x, len - 2 - w, w, buf[len - 2], 0, out);
}
