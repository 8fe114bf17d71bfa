/* SPDX-License-Identifier: Apache-2.0 */
/* cf/decode.c - CF masking and unpacking of stored values (see decode.h). */
#include "cf/decode.h"

#include "io/zarr/half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A numeric attribute value: a number, or a string such as "NaN" (JSON has
 * no NaN, so writers spell it). */
static floe_err attr_number(const cJSON *v, const char *name, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return NULL;
    }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (strcasecmp(s, "nan") == 0) {
            *out = NAN;
            return NULL;
        }
        if (strcmp(s, "Infinity") == 0 || strcasecmp(s, "inf") == 0) {
            *out = INFINITY;
            return NULL;
        }
        if (strcmp(s, "-Infinity") == 0 || strcasecmp(s, "-inf") == 0) {
            *out = -INFINITY;
            return NULL;
        }
        char *end;
        double d = strtod(s, &end);
        if (end != s && *end == '\0') {
            *out = d;
            return NULL;
        }
    }
    return FLOE_ERR(FLOE_EFORMAT, "attribute %s: not a number", name);
}

/* All values of an attribute that may be a scalar or a list. */
static floe_err attr_numbers(const cJSON *v, const char *name, double *vals, size_t max, size_t *n)
{
    *n = 0;
    if (!cJSON_IsArray(v)) {
        FLOE_CHECK(attr_number(v, name, &vals[0]));
        *n = 1;
        return NULL;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (*n == max)
            return FLOE_ERR(FLOE_EUNSUPPORTED, "attribute %s: more than %zu values", name, max);
        FLOE_CHECK(attr_number(e, name, &vals[*n]));
        (*n)++;
    }
    return NULL;
}

static floe_err attr_scalar(const cJSON *attrs, const char *name, double *out, int *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);
    *present = v && !cJSON_IsNull(v);
    if (!*present)
        return NULL;
    double vals[1];
    size_t n;
    floe_err err = attr_numbers(v, name, vals, 1, &n);
    if (err) {
        floe_err_free(&err);
        return FLOE_ERR(FLOE_EFORMAT, "attribute %s: must be one number", name);
    }
    if (n != 1)
        return FLOE_ERR(FLOE_EFORMAT, "attribute %s: must be one number", name);
    *out = vals[0];
    return NULL;
}

static int is_signed_int(zarr_dtype t)
{
    return t >= ZARR_INT8 && t <= ZARR_INT64;
}

/* Add one missing value as the stored type sees it; values the type
 * cannot hold can never match and are dropped. */
static floe_err add_missing(cf_decoder *cf, double v, int from_unsigned_attr, const char *name)
{
    if (isnan(v)) {
        cf->missing_nan = cf->is_float;
        return NULL;
    }
    if (cf->nmissing == CF_MAX_MISSING)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "attribute %s: more than %d missing values", name, CF_MAX_MISSING);
    size_t k = cf->nmissing;
    if (cf->is_float) {
        cf->missing[k] = cf->dtype == ZARR_FLOAT32   ? (double)(float)v
                         : cf->dtype == ZARR_FLOAT16 ? zarr_half_to_float(zarr_float_to_half((float)v))
                                                     : v;
        cf->nmissing++;
        return NULL;
    }
    if (v != floor(v) || !isfinite(v))
        return NULL;
    size_t bits = zarr_dtype_size(cf->dtype) * 8;
    if (is_signed_int(cf->dtype)) {
        double lo = -ldexp(1, (int)bits - 1), hi = ldexp(1, (int)bits - 1);
        if (v < lo || v >= hi)
            return NULL;
        cf->missing_i[k] = (int64_t)v;
    } else {
        /* _Unsigned data keeps its attributes in the signed type: -1 is 255 */
        if (v < 0 && from_unsigned_attr && bits < 64 && v >= -ldexp(1, (int)bits - 1))
            v += ldexp(1, (int)bits);
        if (v < 0 || v >= ldexp(1, (int)bits))
            return NULL;
        cf->missing_u[k] = (uint64_t)v;
    }
    cf->missing[k] = v;
    cf->nmissing++;
    return NULL;
}

/* One stored element as a missing value: exact for 64-bit integers. */
static floe_err add_missing_raw(cf_decoder *cf, zarr_dtype stored, const uint8_t *raw)
{
    if (cf->nmissing == CF_MAX_MISSING)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "fill_value: more than %d missing values", CF_MAX_MISSING);
    size_t k = cf->nmissing;
    switch (stored) {
    case ZARR_INT64:
    case ZARR_UINT64:
        if (cf->dtype == ZARR_INT64) {
            memcpy(&cf->missing_i[k], raw, 8);
            cf->missing[k] = (double)cf->missing_i[k];
        } else {
            memcpy(&cf->missing_u[k], raw, 8);
            cf->missing[k] = (double)cf->missing_u[k];
        }
        cf->nmissing++;
        return NULL;
    default: {
        double d;
        switch (stored) {
        case ZARR_BOOL: return NULL;
        case ZARR_INT8: d = cf->dtype == ZARR_UINT8 ? (double)*raw : (double)(int8_t)*raw; break;
        case ZARR_UINT8: d = *raw; break;
        case ZARR_INT16:
        case ZARR_UINT16: {
            uint16_t u;
            memcpy(&u, raw, 2);
            d = cf->dtype == ZARR_INT16 ? (double)(int16_t)u : (double)u;
            break;
        }
        case ZARR_INT32:
        case ZARR_UINT32: {
            uint32_t u;
            memcpy(&u, raw, 4);
            d = cf->dtype == ZARR_INT32 ? (double)(int32_t)u : (double)u;
            break;
        }
        case ZARR_FLOAT16: {
            uint16_t u;
            memcpy(&u, raw, 2);
            d = zarr_half_to_float(u);
            break;
        }
        case ZARR_FLOAT32: {
            float f;
            memcpy(&f, raw, 4);
            d = f;
            break;
        }
        default: memcpy(&d, raw, 8); break;
        }
        return add_missing(cf, d, 0, "fill_value");
    }
    }
}

/* Is the attribute a number float32 holds exactly (see decode.h)? */
static int float32_value(double v)
{
    return isnan(v) || (double)(float)v == v;
}

floe_err cf_decoder_init(cf_decoder *cf, const cJSON *attrs, zarr_dtype dtype, unsigned flags,
                         const uint8_t *zarr_fill)
{
    memset(cf, 0, sizeof *cf);
    cf->dtype = dtype;
    cf->scale_factor = 1;
    cf->add_offset = 0;
    int made_unsigned = 0;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(attrs, "_Unsigned");
    if (cJSON_IsString(u) && strcasecmp(u->valuestring, "true") == 0 && is_signed_int(dtype)) {
        cf->dtype = (zarr_dtype)(dtype - ZARR_INT8 + ZARR_UINT8);
        made_unsigned = 1;
    }
    cf->is_float = cf->dtype == ZARR_FLOAT32 || cf->dtype == ZARR_FLOAT64 ||
                   cf->dtype == ZARR_FLOAT16;

    static const char *const missing_attrs[] = {"_FillValue", "missing_value"};
    for (size_t a = 0; a < 2; a++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, missing_attrs[a]);
        if (!v || cJSON_IsNull(v))
            continue;
        double vals[CF_MAX_MISSING];
        size_t n;
        FLOE_CHECK(attr_numbers(v, missing_attrs[a], vals, CF_MAX_MISSING, &n));
        for (size_t i = 0; i < n; i++)
            FLOE_CHECK(add_missing(cf, vals[i], made_unsigned, missing_attrs[a]));
    }
    if ((flags & CF_MASK_ZARR_FILL) && zarr_fill && dtype != ZARR_BOOL)
        FLOE_CHECK(add_missing_raw(cf, dtype, zarr_fill));

    FLOE_CHECK(attr_scalar(attrs, "scale_factor", &cf->scale_factor, &cf->has_scale));
    FLOE_CHECK(attr_scalar(attrs, "add_offset", &cf->add_offset, &cf->has_offset));
    cf->scaled = cf->has_scale || cf->has_offset;
    cf->unpack_f32 = cf->scaled && zarr_dtype_size(cf->dtype) <= 2 &&
                     cf->dtype != ZARR_FLOAT64 && float32_value(cf->scale_factor) &&
                     float32_value(cf->add_offset);

    if (flags & CF_APPLY_VALID_RANGE) {
        FLOE_CHECK(attr_scalar(attrs, "valid_min", &cf->valid_min, &cf->has_valid_min));
        FLOE_CHECK(attr_scalar(attrs, "valid_max", &cf->valid_max, &cf->has_valid_max));
        const cJSON *vr = cJSON_GetObjectItemCaseSensitive(attrs, "valid_range");
        if (vr && !cJSON_IsNull(vr)) {
            double r[2];
            size_t n;
            floe_err err = attr_numbers(vr, "valid_range", r, 2, &n);
            if (err || n != 2) {
                floe_err_free(&err);
                return FLOE_ERR(FLOE_EFORMAT, "attribute valid_range: must be two numbers");
            }
            cf->valid_min = r[0];
            cf->valid_max = r[1];
            cf->has_valid_min = cf->has_valid_max = 1;
        }
        if (cf->dtype == ZARR_FLOAT32) {
            cf->valid_min = (float)cf->valid_min;
            cf->valid_max = (float)cf->valid_max;
        }
    }
    return NULL;
}

/* Valid range and unpacking of a value that is not missing. */
static inline double finish(const cf_decoder *cf, double x)
{
    if ((cf->has_valid_min && x < cf->valid_min) || (cf->has_valid_max && x > cf->valid_max))
        return NAN;
    if (!cf->scaled)
        return x;
    if (cf->unpack_f32) { /* float32 arithmetic, each step rounded (see decode.h) */
        float y = (float)x;
        if (cf->has_scale)
            y = y * (float)cf->scale_factor;
        if (cf->has_offset)
            y = y + (float)cf->add_offset;
        return y;
    }
    if (cf->has_scale)
        x = x * cf->scale_factor;
    if (cf->has_offset)
        x = x + cf->add_offset;
    return x;
}

static inline double decode_half(const cf_decoder *cf, uint16_t h);

static inline double decode_float(const cf_decoder *cf, double x)
{
    if (isnan(x))
        return NAN;
    for (size_t j = 0; j < cf->nmissing; j++)
        if (x == cf->missing[j])
            return NAN;
    return finish(cf, x);
}

static inline double decode_signed(const cf_decoder *cf, int64_t v)
{
    for (size_t j = 0; j < cf->nmissing; j++)
        if (v == cf->missing_i[j])
            return NAN;
    return finish(cf, (double)v);
}

static inline double decode_unsigned(const cf_decoder *cf, uint64_t v)
{
    for (size_t j = 0; j < cf->nmissing; j++)
        if (v == cf->missing_u[j])
            return NAN;
    return finish(cf, (double)v);
}

static inline double decode_half(const cf_decoder *cf, uint16_t h)
{
    return decode_float(cf, zarr_half_to_float(h));
}

#define CF_LOOP(T, DECODE)                                                      \
    for (size_t i = 0; i < n; i++) {                                            \
        T v;                                                                    \
        memcpy(&v, p + i * sizeof(T), sizeof(T));                               \
        out[i] = DECODE(cf, v);                                                 \
    }

void cf_decode_to_double(const cf_decoder *cf, const void *in, size_t n, double *out)
{
    const uint8_t *p = in;
    switch (cf->dtype) {
    case ZARR_FLOAT32: CF_LOOP(float, decode_float) break;
    case ZARR_FLOAT64: CF_LOOP(double, decode_float) break;
    case ZARR_FLOAT16: CF_LOOP(uint16_t, decode_half) break;
    case ZARR_INT8: CF_LOOP(int8_t, decode_signed) break;
    case ZARR_INT16: CF_LOOP(int16_t, decode_signed) break;
    case ZARR_INT32: CF_LOOP(int32_t, decode_signed) break;
    case ZARR_INT64: CF_LOOP(int64_t, decode_signed) break;
    case ZARR_BOOL:
    case ZARR_UINT8: CF_LOOP(uint8_t, decode_unsigned) break;
    case ZARR_UINT16: CF_LOOP(uint16_t, decode_unsigned) break;
    case ZARR_UINT32: CF_LOOP(uint32_t, decode_unsigned) break;
    case ZARR_UINT64: CF_LOOP(uint64_t, decode_unsigned) break;
    }
}

/* The common case, float32 data with only fill/missing values: decided in
 * float32 (the missing values are stored-precision already), no round trip
 * through double. Statistics spend most of their time here otherwise. */
static void decode_float32_masked(const cf_decoder *cf, const uint8_t *p, size_t n, float *out)
{
    /* the distinct missing values: _FillValue, missing_value and the Zarr
     * fill are often one number (NaN needs no entry: x != x catches it) */
    float miss[CF_MAX_MISSING];
    size_t nm = 0;
    for (size_t j = 0; j < cf->nmissing; j++) {
        float m = (float)cf->missing[j];
        int seen = m != m;
        for (size_t k = 0; k < nm && !seen; k++)
            seen = miss[k] == m;
        if (!seen)
            miss[nm++] = m;
    }
    /* one or two get a loop the compiler can vectorise (at -O3, the
     * Release build); more go through the general loop */
    if (nm <= 2) {
        float m0 = nm ? miss[0] : NAN, m1 = nm == 2 ? miss[1] : m0;
        for (size_t i = 0; i < n; i++) {
            float x;
            memcpy(&x, p + 4 * i, sizeof x);
            out[i] = (x != x || x == m0 || x == m1) ? NAN : x;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float x;
        memcpy(&x, p + 4 * i, sizeof x);
        int m = x != x;
        for (size_t j = 0; j < nm; j++)
            m |= x == miss[j];
        out[i] = m ? NAN : x;
    }
}

void cf_decode_to_float(const cf_decoder *cf, const void *in, size_t n, float *out)
{
    if (cf->dtype == ZARR_FLOAT32 && !cf->scaled && !cf->has_valid_min && !cf->has_valid_max) {
        decode_float32_masked(cf, in, n, out);
        return;
    }
    /* through a small double buffer: one decoding path, no allocation */
    double tmp[512];
    size_t is = zarr_dtype_size(cf->dtype);
    const uint8_t *p = in;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 512 ? n - done : 512;
        cf_decode_to_double(cf, p + done * is, k, tmp);
        for (size_t i = 0; i < k; i++)
            out[done + i] = (float)tmp[i];
        done += k;
    }
}

zarr_dtype cf_unpacked_type(const cf_decoder *cf)
{
    if (!cf->scaled)
        return cf->dtype;
    return cf->unpack_f32 ? ZARR_FLOAT32 : ZARR_FLOAT64;
}

void cf_unpack(const cf_decoder *cf, const void *in, size_t n, void *out)
{
    if (cf_unpacked_type(cf) == ZARR_FLOAT32)
        cf_decode_to_float(cf, in, n, out); /* exact: the double holds a float32 result */
    else
        cf_decode_to_double(cf, in, n, out);
}

int cf_is_missing(const cf_decoder *cf, double stored)
{
    if (isnan(stored))
        return 1;
    for (size_t j = 0; j < cf->nmissing; j++)
        if (stored == cf->missing[j])
            return 1;
    return (cf->has_valid_min && stored < cf->valid_min) || (cf->has_valid_max && stored > cf->valid_max);
}

void cf_widen_float16(const void *in, size_t n, void *out)
{
    const uint8_t *p = in;
    uint8_t *q = out;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        float f = zarr_half_to_float(h);
        memcpy(q + 4 * i, &f, 4);
    }
}
