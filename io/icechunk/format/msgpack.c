/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/msgpack.c - MessagePack values as cJSON, for the commit
 * metadata of spec-v1 snapshots (MetadataItem.value; v2 files use
 * FlexBuffers instead). Only what JSON can express is needed: nil, bool,
 * integers, floats, strings, binary (as an array of byte values), arrays
 * and maps (non-string keys are written as their JSON text). Extension
 * types are FLOE_EUNSUPPORTED. Untrusted input: every length is checked
 * against the bytes left, nesting is capped.
 */
#include "io/icechunk/format/msgpack.h"

#include <stdio.h>
#include <string.h>

#define MSGPACK_MAX_DEPTH 64

typedef struct mp {
    const uint8_t *p;
    size_t left;
} mp;

static floe_err take(mp *m, size_t n, const uint8_t **out)
{
    if (n > m->left)
        return FLOE_ERR(FLOE_EFORMAT, "msgpack: %zu bytes needed, %zu left", n, m->left);
    *out = m->p;
    m->p += n;
    m->left -= n;
    return NULL;
}

static floe_err be_uint(mp *m, size_t n, uint64_t *v)
{
    const uint8_t *p = NULL;
    FLOE_CHECK(take(m, n, &p));
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = (*v << 8) | p[i];
    return NULL;
}

static floe_err mp_value(mp *m, int depth, cJSON **out);

static floe_err mp_string(mp *m, size_t n, cJSON **out)
{
    const uint8_t *p = NULL;
    FLOE_CHECK(take(m, n, &p));
    if (memchr(p, '\0', n))
        return FLOE_ERR(FLOE_EFORMAT, "msgpack: string contains a NUL byte");
    char *s = cJSON_malloc(n + 1);
    if (!s)
        return FLOE_ERR(FLOE_ENOMEM, "msgpack: out of memory");
    memcpy(s, p, n);
    s[n] = '\0';
    *out = cJSON_CreateString(s);
    cJSON_free(s);
    return NULL;
}

static floe_err mp_array(mp *m, uint64_t n, int depth, cJSON **out)
{
    if (n > m->left) /* every element takes at least one byte */
        return FLOE_ERR(FLOE_EFORMAT, "msgpack: array of %llu elements in %zu bytes",
                        (unsigned long long)n, m->left);
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return FLOE_ERR(FLOE_ENOMEM, "msgpack: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        cJSON *item = NULL;
        floe_err err = mp_value(m, depth + 1, &item);
        if (err) {
            cJSON_Delete(arr);
            return err;
        }
        cJSON_AddItemToArray(arr, item);
    }
    *out = arr;
    return NULL;
}

static floe_err mp_map(mp *m, uint64_t n, int depth, cJSON **out)
{
    if (n > m->left / 2)
        return FLOE_ERR(FLOE_EFORMAT, "msgpack: map of %llu entries in %zu bytes",
                        (unsigned long long)n, m->left);
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return FLOE_ERR(FLOE_ENOMEM, "msgpack: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        cJSON *key = NULL, *val = NULL;
        floe_err err = mp_value(m, depth + 1, &key);
        if (!err)
            err = mp_value(m, depth + 1, &val);
        if (err) {
            cJSON_Delete(key);
            cJSON_Delete(obj);
            return err;
        }
        char *text = cJSON_IsString(key) ? NULL : cJSON_PrintUnformatted(key);
        const char *name = text ? text : cJSON_GetStringValue(key);
        cJSON_AddItemToObject(obj, name ? name : "", val);
        cJSON_free(text);
        cJSON_Delete(key);
    }
    *out = obj;
    return NULL;
}

static floe_err mp_value(mp *m, int depth, cJSON **out)
{
    *out = NULL;
    if (depth > MSGPACK_MAX_DEPTH)
        return FLOE_ERR(FLOE_EFORMAT, "msgpack: nested deeper than %d levels", MSGPACK_MAX_DEPTH);
    const uint8_t *p = NULL;
    FLOE_CHECK(take(m, 1, &p));
    uint8_t b = p[0];
    uint64_t u;
    if (b <= 0x7f) {
        *out = cJSON_CreateNumber(b);
    } else if (b >= 0xe0) {
        *out = cJSON_CreateNumber((int8_t)b);
    } else if (b >= 0x80 && b <= 0x8f) {
        return mp_map(m, b & 0x0f, depth, out);
    } else if (b >= 0x90 && b <= 0x9f) {
        return mp_array(m, b & 0x0f, depth, out);
    } else if (b >= 0xa0 && b <= 0xbf) {
        FLOE_CHECK(mp_string(m, b & 0x1f, out));
    } else {
        switch (b) {
        case 0xc0: *out = cJSON_CreateNull(); break;
        case 0xc2: *out = cJSON_CreateFalse(); break;
        case 0xc3: *out = cJSON_CreateTrue(); break;
        case 0xc4: case 0xc5: case 0xc6: { /* bin 8/16/32 */
            FLOE_CHECK(be_uint(m, (size_t)1 << (b - 0xc4), &u));
            if (u > m->left)
                return FLOE_ERR(FLOE_EFORMAT, "msgpack: binary of %llu bytes in %zu",
                                (unsigned long long)u, m->left);
            FLOE_CHECK(take(m, (size_t)u, &p));
            cJSON *arr = cJSON_CreateArray();
            for (size_t i = 0; arr && i < u; i++)
                cJSON_AddItemToArray(arr, cJSON_CreateNumber(p[i]));
            *out = arr;
            break;
        }
        case 0xca: case 0xcb: { /* float 32/64, big-endian */
            FLOE_CHECK(be_uint(m, b == 0xca ? 4 : 8, &u));
            double d;
            if (b == 0xca) {
                uint32_t u32 = (uint32_t)u;
                float f;
                memcpy(&f, &u32, 4);
                d = f;
            } else {
                memcpy(&d, &u, 8);
            }
            *out = cJSON_CreateNumber(d);
            break;
        }
        case 0xcc: case 0xcd: case 0xce: case 0xcf: /* uint 8..64 */
            FLOE_CHECK(be_uint(m, (size_t)1 << (b - 0xcc), &u));
            *out = cJSON_CreateNumber((double)u);
            break;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* int 8..64 */
            size_t n = (size_t)1 << (b - 0xd0);
            FLOE_CHECK(be_uint(m, n, &u));
            if (n < 8 && (u >> (8 * n - 1)) & 1)
                u |= ~(uint64_t)0 << (8 * n);
            *out = cJSON_CreateNumber((double)(int64_t)u);
            break;
        }
        case 0xd9: case 0xda: case 0xdb: /* str 8/16/32 */
            FLOE_CHECK(be_uint(m, (size_t)1 << (b - 0xd9), &u));
            if (u > m->left)
                return FLOE_ERR(FLOE_EFORMAT, "msgpack: string of %llu bytes in %zu",
                                (unsigned long long)u, m->left);
            FLOE_CHECK(mp_string(m, (size_t)u, out));
            break;
        case 0xdc: case 0xdd: /* array 16/32 */
            FLOE_CHECK(be_uint(m, b == 0xdc ? 2 : 4, &u));
            return mp_array(m, u, depth, out);
        case 0xde: case 0xdf: /* map 16/32 */
            FLOE_CHECK(be_uint(m, b == 0xde ? 2 : 4, &u));
            return mp_map(m, u, depth, out);
        case 0xc7: case 0xc8: case 0xc9:
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            return FLOE_ERR(FLOE_EUNSUPPORTED, "msgpack: extension type 0x%02x", b);
        default:
            return FLOE_ERR(FLOE_EFORMAT, "msgpack: invalid type byte 0x%02x", b);
        }
    }
    if (!*out)
        return FLOE_ERR(FLOE_ENOMEM, "msgpack: out of memory");
    return NULL;
}

floe_err ic_msgpack_to_json(const uint8_t *data, size_t len, cJSON **out)
{
    mp m = {data, len};
    FLOE_CHECK(mp_value(&m, 0, out));
    if (m.left) {
        cJSON_Delete(*out);
        *out = NULL;
        return FLOE_ERR(FLOE_EFORMAT, "msgpack: %zu bytes after the value", m.left);
    }
    return NULL;
}
