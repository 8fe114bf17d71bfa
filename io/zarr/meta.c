/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/meta.c - parse a Zarr v3 array's zarr.json (see meta.h).
 * The codec list is parsed in codec_parse.c. */
#include "io/zarr/meta.h"

#include "io/zarr/half.h"

#include "common/floe_log.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Integers beyond 2^53 cannot come exactly through cJSON's double; shapes
 * that large do not exist, and fill values are read from the raw text. */
#define ZARR_EXACT_DOUBLE_MAX 9007199254740992.0

static const struct {
    const char *name;
    zarr_dtype type;
    size_t size;
} dtype_table[] = {
    {"bool", ZARR_BOOL, 1},       {"int8", ZARR_INT8, 1},       {"int16", ZARR_INT16, 2},
    {"int32", ZARR_INT32, 4},     {"int64", ZARR_INT64, 8},     {"uint8", ZARR_UINT8, 1},
    {"uint16", ZARR_UINT16, 2},   {"uint32", ZARR_UINT32, 4},   {"uint64", ZARR_UINT64, 8},
    {"float32", ZARR_FLOAT32, 4}, {"float64", ZARR_FLOAT64, 8},   {"float16", ZARR_FLOAT16, 2},
};

const char *zarr_dtype_name(zarr_dtype t)
{
    for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
        if (dtype_table[i].type == t)
            return dtype_table[i].name;
    return "?";
}

size_t zarr_dtype_size(zarr_dtype t)
{
    for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
        if (dtype_table[i].type == t)
            return dtype_table[i].size;
    return 0;
}

static floe_err parse_dtype(const cJSON *item, zarr_array_meta *m)
{
    if (!item)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"data_type\" is missing");
    if (cJSON_IsObject(item)) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"data_type\" extension '%s' is not supported",
                        cJSON_IsString(name) ? name->valuestring : "?");
    }
    if (!cJSON_IsString(item))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"data_type\" must be a string");
    for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++) {
        if (strcmp(item->valuestring, dtype_table[i].name) == 0) {
            m->dtype = dtype_table[i].type;
            m->itemsize = dtype_table[i].size;
            return NULL;
        }
    }
    return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"data_type\" '%s' is not supported "
                    "(floe reads bool, int8-64, uint8-64, float16, float32, float64)", item->valuestring);
}

/* A non-negative integer that a double holds exactly. */
static floe_err json_count(const cJSON *item, const char *field, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"%s\" must be a number", field);
    double v = item->valuedouble;
    if (!(v >= 0 && v <= ZARR_EXACT_DOUBLE_MAX) || v != floor(v))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"%s\" is %g, not a non-negative integer", field, v);
    *out = (uint64_t)v;
    return NULL;
}

static floe_err parse_shape(const cJSON *shape, zarr_array_meta *m)
{
    if (!shape)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"shape\" is missing");
    if (!cJSON_IsArray(shape))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"shape\" must be a list");
    int n = cJSON_GetArraySize(shape);
    if (n > ZARR_MAX_DIMS)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"shape\" has %d dimensions, floe reads at most %d",
                        n, ZARR_MAX_DIMS);
    m->ndim = n;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, shape) {
        char field[32];
        snprintf(field, sizeof field, "shape[%d]", i);
        FLOE_CHECK(json_count(e, field, &m->shape[i]));
        i++;
    }
    return NULL;
}

static floe_err parse_chunk_grid(const cJSON *grid, zarr_array_meta *m)
{
    if (!grid)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_grid\" is missing");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(grid, "name");
    if (!cJSON_IsString(name))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_grid.name\" is missing");
    if (strcmp(name->valuestring, "regular") != 0)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: chunk grid '%s' is not supported (only 'regular')",
                        name->valuestring);
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(grid, "configuration");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(conf, "chunk_shape");
    if (!cJSON_IsArray(cs))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_grid.configuration.chunk_shape\" is missing");
    int n = cJSON_GetArraySize(cs);
    if (n != m->ndim)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_grid.configuration.chunk_shape\" has %d entries, "
                        "\"shape\" has %d", n, m->ndim);
    size_t nbytes = m->itemsize;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cs) {
        char field[64];
        snprintf(field, sizeof field, "chunk_grid.configuration.chunk_shape[%d]", i);
        FLOE_CHECK(json_count(e, field, &m->chunk_shape[i]));
        if (m->chunk_shape[i] == 0)
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"%s\" is 0", field);
        if (m->chunk_shape[i] > ZARR_MAX_CHUNK_BYTES || nbytes > ZARR_MAX_CHUNK_BYTES / m->chunk_shape[i])
            return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"chunk_grid.configuration.chunk_shape\": a chunk "
                            "of more than %zu bytes is beyond floe's limit", ZARR_MAX_CHUNK_BYTES);
        nbytes *= (size_t)m->chunk_shape[i];
        i++;
    }
    m->chunk_nbytes = nbytes;
    return NULL;
}

static floe_err parse_key_encoding(const cJSON *enc, zarr_array_meta *m)
{
    if (!enc)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_key_encoding\" is missing");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(enc, "name");
    if (!cJSON_IsString(name))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_key_encoding.name\" is missing");
    if (strcmp(name->valuestring, "default") == 0) {
        m->key_encoding = ZARR_KEYS_DEFAULT;
        m->key_separator = '/';
    } else if (strcmp(name->valuestring, "v2") == 0) {
        m->key_encoding = ZARR_KEYS_V2;
        m->key_separator = '.';
    } else {
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: chunk key encoding '%s' is not supported",
                        name->valuestring);
    }
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(enc, "configuration");
    const cJSON *sep = cJSON_GetObjectItemCaseSensitive(conf, "separator");
    if (sep) {
        if (!cJSON_IsString(sep) || (strcmp(sep->valuestring, "/") != 0 && strcmp(sep->valuestring, ".") != 0))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"chunk_key_encoding.configuration.separator\" "
                            "must be \"/\" or \".\"");
        m->key_separator = sep->valuestring[0];
    }
    return NULL;
}

/* Where the raw text of the top-level member `key` starts, or NULL. The
 * document is already known to be valid JSON (cJSON parsed it), so this
 * only tracks nesting and strings. Used for integer fill values, which
 * must be exact beyond 2^53 and cJSON only keeps as doubles. */
static const char *raw_member(const char *s, size_t n, const char *key)
{
    size_t keylen = strlen(key);
    int depth = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < n && s[i] != '"')
                i += (s[i] == '\\') ? 2 : 1;
            size_t end = i++;
            if (depth != 1)
                continue;
            size_t j = i;
            while (j < n && isspace((unsigned char)s[j]))
                j++;
            if (j < n && s[j] == ':' && end - start == keylen && memcmp(s + start, key, keylen) == 0) {
                j++;
                while (j < n && isspace((unsigned char)s[j]))
                    j++;
                return j < n ? s + j : NULL;
            }
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        i++;
    }
    return NULL;
}

/* The integer text at p (up to the JSON token's end), if it is a plain
 * integer: returns 1 and sets *neg and *mag (magnitude). */
static int raw_integer(const char *p, const char *end, int *neg, uint64_t *mag)
{
    char tmp[32];
    size_t k = 0;
    while (p + k < end && k < sizeof tmp - 1 && (p[k] == '-' || isdigit((unsigned char)p[k])))
        k++;
    if (k == 0 || k == sizeof tmp - 1)
        return 0;
    char next = p + k < end ? p[k] : ' ';
    if (next == '.' || next == 'e' || next == 'E')
        return 0;
    memcpy(tmp, p, k);
    tmp[k] = '\0';
    *neg = tmp[0] == '-';
    const char *digits = tmp + *neg;
    if (!isdigit((unsigned char)digits[0]))
        return 0;
    errno = 0;
    char *stop;
    unsigned long long v = strtoull(digits, &stop, 10);
    if (errno || *stop)
        return 0;
    *mag = v;
    return 1;
}

static floe_err fill_integer(const cJSON *fv, const char *json, size_t len, zarr_array_meta *m)
{
    int neg = 0;
    uint64_t mag = 0;
    const char *raw = raw_member(json, len, "fill_value");
    if (!raw || !raw_integer(raw, json + len, &neg, &mag)) {
        /* 1.0 or 1e3: acceptable when exactly integral */
        double v = fv->valuedouble;
        if (v != floor(v) || fabs(v) > ZARR_EXACT_DOUBLE_MAX)
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" %g is not a valid %s", v,
                            zarr_dtype_name(m->dtype));
        neg = v < 0;
        mag = (uint64_t)fabs(v);
    }
    int is_signed = m->dtype >= ZARR_INT8 && m->dtype <= ZARR_INT64;
    unsigned bits = (unsigned)(m->itemsize * 8);
    uint64_t max_pos = is_signed ? ((uint64_t)1 << (bits - 1)) - 1
                                 : (bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1);
    uint64_t max_neg = is_signed ? ((uint64_t)1 << (bits - 1)) : 0;
    if (mag == 0)
        neg = 0;
    if ((neg && mag > max_neg) || (!neg && mag > max_pos))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" %s%" PRIu64 " is out of range for %s",
                        neg ? "-" : "", mag, zarr_dtype_name(m->dtype));
    if (is_signed) {
        int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        m->fill_value = (double)v;
        switch (m->dtype) {
        case ZARR_INT8: { int8_t x = (int8_t)v; memcpy(m->fill_raw, &x, 1); break; }
        case ZARR_INT16: { int16_t x = (int16_t)v; memcpy(m->fill_raw, &x, 2); break; }
        case ZARR_INT32: { int32_t x = (int32_t)v; memcpy(m->fill_raw, &x, 4); break; }
        default: memcpy(m->fill_raw, &v, 8); break;
        }
    } else {
        m->fill_value = (double)mag;
        switch (m->dtype) {
        case ZARR_UINT8: { uint8_t x = (uint8_t)mag; memcpy(m->fill_raw, &x, 1); break; }
        case ZARR_UINT16: { uint16_t x = (uint16_t)mag; memcpy(m->fill_raw, &x, 2); break; }
        case ZARR_UINT32: { uint32_t x = (uint32_t)mag; memcpy(m->fill_raw, &x, 4); break; }
        default: memcpy(m->fill_raw, &mag, 8); break;
        }
    }
    return NULL;
}

static floe_err fill_float(const cJSON *fv, zarr_array_meta *m)
{
    double v;
    if (cJSON_IsNumber(fv)) {
        v = fv->valuedouble;
        if (m->dtype == ZARR_FLOAT32 && isfinite(v) && !isfinite((float)v))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" %g is out of range for float32", v);
        if (m->dtype == ZARR_FLOAT16 && isfinite(v) && !isfinite(zarr_half_to_float(zarr_float_to_half((float)v))))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" %g is out of range for float16", v);
    } else if (cJSON_IsString(fv)) {
        const char *s = fv->valuestring;
        if (strcmp(s, "NaN") == 0) {
            v = NAN;
        } else if (strcmp(s, "Infinity") == 0) {
            v = INFINITY;
        } else if (strcmp(s, "-Infinity") == 0) {
            v = -INFINITY;
        } else if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
            /* the element's bits, most significant first */
            size_t digits = strlen(s + 2);
            if (digits != 2 * m->itemsize || strspn(s + 2, "0123456789abcdefABCDEF") != digits)
                return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" '%s' must be 0x and %zu hex digits "
                                "for %s", s, 2 * m->itemsize, zarr_dtype_name(m->dtype));
            uint64_t bits = strtoull(s + 2, NULL, 16);
            if (m->dtype == ZARR_FLOAT16) {
                uint16_t b16 = (uint16_t)bits;
                memcpy(m->fill_raw, &b16, 2);
                m->fill_value = zarr_half_to_float(b16);
            } else if (m->dtype == ZARR_FLOAT32) {
                uint32_t b32 = (uint32_t)bits;
                float f;
                memcpy(&f, &b32, 4);
                memcpy(m->fill_raw, &b32, 4);
                m->fill_value = f;
            } else {
                double d;
                memcpy(&d, &bits, 8);
                memcpy(m->fill_raw, &bits, 8);
                m->fill_value = d;
            }
            return NULL;
        } else {
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" '%s' is not a number, \"NaN\", "
                            "\"Infinity\", \"-Infinity\" or 0x hex bits", s);
        }
    } else {
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" must be a number or string for %s",
                        zarr_dtype_name(m->dtype));
    }
    if (m->dtype == ZARR_FLOAT16) {
        uint16_t h = zarr_float_to_half((float)v);
        memcpy(m->fill_raw, &h, 2);
        m->fill_value = zarr_half_to_float(h);
    } else if (m->dtype == ZARR_FLOAT32) {
        float f = (float)v;
        memcpy(m->fill_raw, &f, 4);
        m->fill_value = f;
    } else {
        memcpy(m->fill_raw, &v, 8);
        m->fill_value = v;
    }
    return NULL;
}

static floe_err parse_fill(const cJSON *fv, const char *json, size_t len, zarr_array_meta *m)
{
    if (!fv)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" is missing");
    memset(m->fill_raw, 0, sizeof m->fill_raw);
    switch (m->dtype) {
    case ZARR_BOOL:
        if (!cJSON_IsBool(fv))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" must be true or false for bool");
        m->fill_raw[0] = cJSON_IsTrue(fv) ? 1 : 0;
        m->fill_value = m->fill_raw[0];
        return NULL;
    case ZARR_FLOAT16:
    case ZARR_FLOAT32:
    case ZARR_FLOAT64:
        return fill_float(fv, m);
    default:
        if (!cJSON_IsNumber(fv))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"fill_value\" must be an integer for %s",
                            zarr_dtype_name(m->dtype));
        return fill_integer(fv, json, len, m);
    }
}

static floe_err parse_dim_names(const cJSON *names, zarr_array_meta *m)
{
    if (!names || cJSON_IsNull(names))
        return NULL;
    if (!cJSON_IsArray(names))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"dimension_names\" must be a list");
    int n = cJSON_GetArraySize(names);
    if (n != m->ndim)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"dimension_names\" has %d entries, \"shape\" has %d",
                        n, m->ndim);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, names) {
        if (cJSON_IsString(e)) {
            m->dim_names[i] = strdup(e->valuestring);
            if (!m->dim_names[i])
                return FLOE_ERR(FLOE_ENOMEM, "zarr.json: out of memory copying \"dimension_names\"");
        } else if (!cJSON_IsNull(e)) {
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"dimension_names[%d]\" must be a string or null", i);
        }
        i++;
    }
    return NULL;
}

static int is_known_key(const char *k)
{
    static const char *const known[] = {
        "zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding",
        "fill_value", "codecs", "attributes", "storage_transformers", "dimension_names",
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(k, known[i]) == 0)
            return 1;
    return 0;
}

static floe_err parse_root(cJSON *root, const char *json, size_t len, zarr_array_meta *m)
{
    if (!cJSON_IsObject(root))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: not a JSON object");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "zarr_format");
    if (!cJSON_IsNumber(fmt))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"zarr_format\" is missing");
    if (fmt->valuedouble != 3)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"zarr_format\" is %g, floe reads Zarr v3",
                        fmt->valuedouble);
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(root, "node_type");
    if (!cJSON_IsString(nt))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"node_type\" is missing");
    if (strcmp(nt->valuestring, "array") != 0)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"node_type\" is '%s', expected 'array'", nt->valuestring);

    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (is_known_key(e->string))
            continue;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "must_understand")))
            return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: extension \"%s\" must be understood and "
                            "floe does not support it", e->string);
        FLOE_DEBUG("zarr.json: ignoring unknown key \"%s\"", e->string);
    }

    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "storage_transformers");
    if (st && !(cJSON_IsArray(st) && cJSON_GetArraySize(st) == 0))
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"storage_transformers\" is not empty; floe "
                        "supports none");

    FLOE_CHECK(parse_dtype(cJSON_GetObjectItemCaseSensitive(root, "data_type"), m));
    FLOE_CHECK(parse_shape(cJSON_GetObjectItemCaseSensitive(root, "shape"), m));
    FLOE_CHECK(parse_chunk_grid(cJSON_GetObjectItemCaseSensitive(root, "chunk_grid"), m));
    FLOE_CHECK(parse_key_encoding(cJSON_GetObjectItemCaseSensitive(root, "chunk_key_encoding"), m));
    FLOE_CHECK(parse_fill(cJSON_GetObjectItemCaseSensitive(root, "fill_value"), json, len, m));
    FLOE_CHECK(parse_dim_names(cJSON_GetObjectItemCaseSensitive(root, "dimension_names"), m));
    FLOE_CHECK(zarr_codecs_parse(cJSON_GetObjectItemCaseSensitive(root, "codecs"), m));

    cJSON *attrs = cJSON_GetObjectItemCaseSensitive(root, "attributes");
    if (attrs && !cJSON_IsNull(attrs)) {
        if (!cJSON_IsObject(attrs))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"attributes\" must be an object");
        m->attributes = cJSON_DetachItemViaPointer(root, attrs);
    } else {
        m->attributes = cJSON_CreateObject();
        if (!m->attributes)
            return FLOE_ERR(FLOE_ENOMEM, "zarr.json: out of memory");
    }
    return NULL;
}

floe_err zarr_meta_parse(const char *json, size_t len, zarr_array_meta **out)
{
    *out = NULL;
    zarr_array_meta *m = calloc(1, sizeof *m);
    if (!m)
        return FLOE_ERR(FLOE_ENOMEM, "zarr.json: out of memory");
    /* the _Opts form reports where parsing stopped without cJSON's global
     * error pointer, which other threads may be writing */
    const char *at = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &at, 0);
    if (!root) {
        zarr_meta_free(&m);
        long off = (at && at >= json && at <= json + len) ? (long)(at - json) : -1;
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: not valid JSON (near byte %ld of %zu)", off, len);
    }
    floe_err err = parse_root(root, json, len, m);
    cJSON_Delete(root);
    if (err) {
        zarr_meta_free(&m);
        return err;
    }
    *out = m;
    return NULL;
}

void zarr_meta_free(zarr_array_meta **mp)
{
    if (!mp || !*mp)
        return;
    zarr_array_meta *m = *mp;
    *mp = NULL;
    for (int i = 0; i < ZARR_MAX_DIMS; i++)
        free(m->dim_names[i]);
    cJSON_Delete(m->attributes);
    free(m->codecs_text);
    free(m);
}

size_t zarr_chunk_nbytes(const zarr_array_meta *m)
{
    return m->chunk_nbytes;
}

void zarr_chunk_grid_shape(const zarr_array_meta *m, uint64_t *grid)
{
    for (int i = 0; i < m->ndim; i++)
        grid[i] = m->shape[i] / m->chunk_shape[i] + (m->shape[i] % m->chunk_shape[i] != 0);
}

floe_err zarr_chunk_key(const zarr_array_meta *m, const uint64_t *coord, char *buf, size_t size)
{
    uint64_t grid[ZARR_MAX_DIMS];
    zarr_chunk_grid_shape(m, grid);
    char tmp[16 + ZARR_MAX_DIMS * 22];
    size_t pos = 0;
    if (m->key_encoding == ZARR_KEYS_DEFAULT)
        tmp[pos++] = 'c';
    else if (m->ndim == 0)
        tmp[pos++] = '0';
    for (int i = 0; i < m->ndim; i++) {
        if (coord[i] >= grid[i])
            return FLOE_ERR(FLOE_EINVAL, "chunk coordinate %" PRIu64 " of dimension %d is outside the "
                            "grid of %" PRIu64 " chunks", coord[i], i, grid[i]);
        if (pos > 0)
            tmp[pos++] = m->key_separator;
        int n = snprintf(tmp + pos, sizeof tmp - pos, "%" PRIu64, coord[i]);
        pos += (size_t)n;
    }
    tmp[pos] = '\0';
    if (pos >= size)
        return FLOE_ERR(FLOE_ENOMEM, "chunk key %s does not fit in %zu bytes", tmp, size);
    memcpy(buf, tmp, pos + 1);
    return NULL;
}
