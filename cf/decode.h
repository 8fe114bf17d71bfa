/* SPDX-License-Identifier: Apache-2.0 */
/* cf/decode.h - turn stored values into physical values the CF way.
 *
 * From a variable's attributes (the Zarr attributes, which carry the
 * NetCDF attributes of the source file):
 *   _FillValue, missing_value  (a number or a list; "NaN" strings allowed)
 *                               -> NaN
 *   _Unsigned = "true"          -> a signed integer type is read unsigned
 *   scale_factor, add_offset    -> value * scale_factor + add_offset, in
 *                               the unpacked type (cf_unpacked_type)
 *   valid_min, valid_max, valid_range -> NaN outside, only with
 *                               CF_APPLY_VALID_RANGE (xarray ignores them
 *                               by default; netCDF4-python applies them)
 * Missing values are compared in the STORED type, as netCDF does: an
 * attribute -9999 (a double in JSON) against float32 data compares
 * (float)-9999 with the float element, and a NaN missing value matches any
 * NaN. Masking happens before scaling. An attribute that is a one-element
 * list (how some writers store NetCDF attributes) counts as a scalar.
 *
 * The unpacked type: netCDF-C and xarray unpack into the type of the
 * scale_factor/add_offset attributes (xarray: float64 for 32- and 64-bit
 * integer data whatever the attributes say). Zarr attributes are JSON and
 * carry no type, but a float32 attribute written through JSON is a number
 * that float32 holds exactly (0.01f is 0.009999999776482582), a float64
 * one usually is not (0.01). So: float32 when the stored type has at most
 * 16 bits and every packing attribute present is a float32 value, float64
 * otherwise; unpacking to float32 is done in float32 arithmetic, as xarray
 * does (value * scale, rounded, + offset, rounded).
 */
#ifndef FLOE_CF_DECODE_H
#define FLOE_CF_DECODE_H

#include "common/floe_error.h"
#include "io/zarr/meta.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

enum { CF_MAX_MISSING = 8 };

enum cf_decode_flags {
    /* Also mask values outside valid_min/valid_max/valid_range. */
    CF_APPLY_VALID_RANGE = 1 << 0,
    /* Treat the Zarr fill_value as a missing value too (xarray does this
     * for Zarr v2 stores; for v3 only when asked). */
    CF_MASK_ZARR_FILL = 1 << 1,
};

typedef struct cf_decoder {
    zarr_dtype dtype;          /* stored type (after _Unsigned) */
    int is_float;              /* float32/float64 storage */
    double scale_factor;       /* 1 when absent */
    double add_offset;         /* 0 when absent */
    int scaled;                /* scale_factor or add_offset present */
    int has_scale, has_offset;
    int unpack_f32;            /* scaled, and the unpacked type is float32 */
    size_t nmissing;
    /* Missing values as the stored type sees them: floats rounded to the
     * storage precision; for integers the exact integer value. */
    double missing[CF_MAX_MISSING];
    int64_t missing_i[CF_MAX_MISSING];
    uint64_t missing_u[CF_MAX_MISSING];
    int missing_nan;           /* a NaN missing value: NaN elements are missing */
    int has_valid_min, has_valid_max;
    double valid_min, valid_max;
} cf_decoder;

/* Read the CF attributes of an array whose stored elements have type
 * dtype. attrs may be NULL (no attributes). zarr_fill (one element's
 * bytes in the stored type, native order, so 64-bit integers are exact)
 * is used only with CF_MASK_ZARR_FILL (may be NULL otherwise); a bool
 * array's fill is never a missing value (false would mask half a mask). FLOE_EFORMAT names the
 * attribute when one has the wrong type; FLOE_EUNSUPPORTED for more than
 * CF_MAX_MISSING missing values. */
floe_err cf_decoder_init(cf_decoder *cf, const cJSON *attrs, zarr_dtype dtype, unsigned flags,
                         const uint8_t *zarr_fill);

/* The type decoded values have: ZARR_FLOAT32 or ZARR_FLOAT64 for packed
 * data (see above), the stored type otherwise. */
zarr_dtype cf_unpacked_type(const cf_decoder *cf);

/* Packed data only: n stored elements unpacked into the unpacked type
 * (float or double elements at out), masked -> NaN. */
void cf_unpack(const cf_decoder *cf, const void *in, size_t n, void *out);

/* Decode n stored elements (native byte order, as zarr_chunk_decode gives
 * them) into doubles / floats: masked -> NaN, then scaled. */
void cf_decode_to_double(const cf_decoder *cf, const void *in, size_t n, double *out);
void cf_decode_to_float(const cf_decoder *cf, const void *in, size_t n, float *out);

/* Is one stored element (given as its double value) a missing value?
 * For callers that decode element by element. */
int cf_is_missing(const cf_decoder *cf, double stored);

/* n float16 elements (native order) widened to float32 (n floats written
 * at out, which need not be aligned): exact, nothing masked. */
void cf_widen_float16(const void *in, size_t n, void *out);

#endif
