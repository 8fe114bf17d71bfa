/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for CF decoding (cf/decode.h): masking in the stored type,
 * unpacking, _Unsigned, valid ranges. Expected values are worked out by
 * hand from the CF conventions (section 2.5.1 and 8.1) and checked where
 * it matters against what netCDF4-python does (it compares missing values
 * in the variable's type and masks before unpacking). */
#include "cf/decode.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static cJSON *attrs_of(const char *json)
{
    cJSON *a = cJSON_Parse(json);
    assert_non_null(a);
    return a;
}

static cf_decoder init_ok(const char *json, zarr_dtype dtype, unsigned flags, const void *fill)
{
    cJSON *a = json ? attrs_of(json) : NULL;
    cf_decoder cf;
    floe_err err = cf_decoder_init(&cf, a, dtype, flags, fill);
    if (err) {
        char line[512];
        fail_msg("cf_decoder_init: %s", floe_err_line(err, line, sizeof line));
    }
    cJSON_Delete(a);
    return cf;
}

static void init_fails(const char *json, zarr_dtype dtype, floe_code code, const char *needle)
{
    cJSON *a = attrs_of(json);
    cf_decoder cf;
    floe_err err = cf_decoder_init(&cf, a, dtype, CF_APPLY_VALID_RANGE, NULL);
    char line[512];
    assert_non_null(err);
    floe_err_line(err, line, sizeof line);
    if (floe_err_code(err) != code || !strstr(line, needle))
        fail_msg("expected %s error with '%s', got %s", floe_code_name(code), needle, line);
    floe_err_free(&err);
    cJSON_Delete(a);
}

static void float32_missing_compared_as_float(void **state)
{
    (void)state;
    /* The test bed's attributes: _FillValue and missing_value -9999. */
    cf_decoder cf = init_ok("{\"_FillValue\":-9999,\"missing_value\":-9999,\"units\":\"K\"}", ZARR_FLOAT32, 0, NULL);
    float in[5] = {-9999.0f, 273.15f, -9998.999f, NAN, 0.0f};
    double out[5];
    cf_decode_to_double(&cf, in, 5, out);
    assert_true(isnan(out[0]));
    assert_true(out[1] == (double)273.15f);
    assert_true(out[2] == (double)-9998.999f);
    assert_true(isnan(out[3]));
    assert_true(out[4] == 0.0);

    /* 0.1 as a double attribute is not (double)0.1f, yet a float32 0.1f
     * element is that missing value: the comparison is in float32. Same
     * for 1e20 (no float is exactly 1e20). */
    cf = init_ok("{\"missing_value\":[0.1, 1e20]}", ZARR_FLOAT32, 0, NULL);
    float in2[3] = {0.1f, 1e20f, 0.2f};
    cf_decode_to_double(&cf, in2, 3, out);
    assert_true(isnan(out[0]) && isnan(out[1]));
    assert_true(out[2] == (double)0.2f);
    /* in float64 storage the same 0.1f value is not 0.1 */
    cf = init_ok("{\"missing_value\":0.1}", ZARR_FLOAT64, 0, NULL);
    double d2[2] = {(double)0.1f, 0.1};
    cf_decode_to_double(&cf, d2, 2, out);
    assert_false(isnan(out[0]));
    assert_true(isnan(out[1]));

    float fout[5];
    cf = init_ok("{\"_FillValue\":-9999}", ZARR_FLOAT32, 0, NULL);
    cf_decode_to_float(&cf, in, 5, fout);
    assert_true(isnan(fout[0]) && fout[1] == 273.15f && isnan(fout[3]));
    assert_true(cf_is_missing(&cf, -9999.0));
    assert_false(cf_is_missing(&cf, 1.0));
}

static void packed_int16(void **state)
{
    (void)state;
    cf_decoder cf = init_ok("{\"scale_factor\":0.01,\"add_offset\":273.15,\"_FillValue\":-32768}", ZARR_INT16, 0,
                            NULL);
    int16_t in[4] = {0, 100, -32768, -100};
    double out[4];
    cf_decode_to_double(&cf, in, 4, out);
    assert_true(out[0] == 273.15);
    assert_true(out[1] == 100 * 0.01 + 273.15);
    assert_true(isnan(out[2]));
    assert_true(out[3] == -100 * 0.01 + 273.15);
    /* one-element lists count as scalars; the fill is in the packed type */
    cf = init_ok("{\"scale_factor\":[2],\"_FillValue\":[7]}", ZARR_INT32, 0, NULL);
    int32_t i32[2] = {7, 8};
    cf_decode_to_double(&cf, i32, 2, out);
    assert_true(isnan(out[0]) && out[1] == 16.0);
    /* a fill value the type cannot hold never matches */
    cf = init_ok("{\"_FillValue\":1e10}", ZARR_INT16, 0, NULL);
    int16_t s[1] = {-7168}; /* (int16_t)(int64_t)1e10: a careless cast would match */
    cf_decode_to_double(&cf, s, 1, out);
    assert_true(out[0] == -7168.0);
}

static void unsigned_attribute(void **state)
{
    (void)state;
    /* NetCDF's _Unsigned: bytes stored signed, read unsigned; the fill -1
     * is 255 in the unsigned view */
    cf_decoder cf = init_ok("{\"_Unsigned\":\"true\",\"_FillValue\":-1}", ZARR_INT8, 0, NULL);
    int8_t in[3] = {-1, -128, 5};
    double out[3];
    cf_decode_to_double(&cf, in, 3, out);
    assert_true(isnan(out[0]));
    assert_true(out[1] == 128.0);
    assert_true(out[2] == 5.0);
    cf = init_ok("{\"_Unsigned\":\"false\"}", ZARR_INT8, 0, NULL);
    cf_decode_to_double(&cf, in, 3, out);
    assert_true(out[0] == -1.0);
    /* unsigned types compare as integers */
    cf = init_ok("{\"_FillValue\":4294967295}", ZARR_UINT64, 0, NULL);
    uint64_t u[2] = {4294967295u, 4294967294u};
    cf_decode_to_double(&cf, u, 2, out);
    assert_true(isnan(out[0]) && out[1] == 4294967294.0);
}

static void nan_and_strings(void **state)
{
    (void)state;
    cf_decoder cf = init_ok("{\"_FillValue\":\"NaN\",\"missing_value\":\"-1e30\"}", ZARR_FLOAT64, 0, NULL);
    double in[3] = {NAN, -1e30, 5};
    double out[3];
    cf_decode_to_double(&cf, in, 3, out);
    assert_true(isnan(out[0]) && isnan(out[1]) && out[2] == 5);
    init_fails("{\"_FillValue\":\"abc\"}", ZARR_FLOAT32, FLOE_EFORMAT, "_FillValue");
    init_fails("{\"scale_factor\":\"x\"}", ZARR_FLOAT32, FLOE_EFORMAT, "scale_factor");
    init_fails("{\"add_offset\":[1,2]}", ZARR_FLOAT32, FLOE_EFORMAT, "add_offset");
    init_fails("{\"valid_range\":[1]}", ZARR_FLOAT32, FLOE_EFORMAT, "valid_range");
    init_fails("{\"missing_value\":[1,2,3,4,5,6,7,8,9]}", ZARR_FLOAT32, FLOE_EUNSUPPORTED, "missing_value");
}

static void valid_range_only_when_asked(void **state)
{
    (void)state;
    const char *attrs = "{\"valid_min\":0,\"valid_max\":100,\"scale_factor\":0.5}";
    int16_t in[3] = {-1, 50, 101};
    double out[3];
    cf_decoder cf = init_ok(attrs, ZARR_INT16, 0, NULL);
    cf_decode_to_double(&cf, in, 3, out);
    assert_true(out[0] == -0.5 && out[1] == 25 && out[2] == 50.5);
    cf = init_ok(attrs, ZARR_INT16, CF_APPLY_VALID_RANGE, NULL);
    cf_decode_to_double(&cf, in, 3, out);
    assert_true(isnan(out[0]) && out[1] == 25 && isnan(out[2]));
    cf = init_ok("{\"valid_range\":[0,50]}", ZARR_INT16, CF_APPLY_VALID_RANGE, NULL);
    cf_decode_to_double(&cf, in, 3, out);
    assert_true(isnan(out[0]) && out[1] == 50 && isnan(out[2]));
}

static void zarr_fill_and_no_attributes(void **state)
{
    (void)state;
    float fill = -9999; /* the fill's bytes in the stored type */
    float in[2] = {-9999.0f, 1.0f};
    double out[3];
    cf_decoder cf = init_ok(NULL, ZARR_FLOAT32, 0, &fill);
    cf_decode_to_double(&cf, in, 2, out);
    assert_true(out[0] == -9999.0 && out[1] == 1.0); /* Zarr v3: fill_value is not a mask by default */
    cf = init_ok(NULL, ZARR_FLOAT32, CF_MASK_ZARR_FILL, &fill);
    cf_decode_to_double(&cf, in, 2, out);
    assert_true(isnan(out[0]) && out[1] == 1.0);
    uint8_t b[3] = {0, 1, 200};
    cf = init_ok("{}", ZARR_UINT8, 0, NULL);
    cf_decode_to_double(&cf, b, 3, out);
    assert_true(out[0] == 0 && out[1] == 1);
}

/* The unpacked type (decode.h): float32 for <= 16-bit data with float32
 * attributes, float64 otherwise; float32 unpacking rounds like numpy's
 * float32 arithmetic (xarray), float64 unpacking like numpy's float64. */
static void unpacked_types(void **state)
{
    (void)state;
    int16_t in[2] = {12345, -32767};
    float f[2];
    double d[2];
    cf_decoder cf = init_ok("{\"scale_factor\":0.019999999552965164,\"add_offset\":250,"
                            "\"_FillValue\":-32767}", ZARR_INT16, 0, NULL);
    assert_int_equal(cf_unpacked_type(&cf), ZARR_FLOAT32);
    cf_unpack(&cf, in, 2, f);
    assert_true(f[0] == (float)12345 * 0.02f + 250.0f && isnan(f[1]));
    cf = init_ok("{\"scale_factor\":0.01,\"add_offset\":273.15}", ZARR_INT16, 0, NULL);
    assert_int_equal(cf_unpacked_type(&cf), ZARR_FLOAT64);
    cf_unpack(&cf, in, 1, d);
    assert_true(d[0] == 12345.0 * 0.01 + 273.15);
    int32_t in32 = 7;
    cf = init_ok("{\"scale_factor\":0.5}", ZARR_INT32, 0, NULL);
    assert_int_equal(cf_unpacked_type(&cf), ZARR_FLOAT64); /* 32-bit data: float64 */
    cf_unpack(&cf, &in32, 1, d);
    assert_true(d[0] == 3.5);
    cf = init_ok("{}", ZARR_UINT16, 0, NULL);
    assert_int_equal(cf_unpacked_type(&cf), ZARR_UINT16); /* not packed: its own type */
}

/* float16 elements; 64-bit fills exact (beyond 2^53); a bool's fill is no mask. */
static void float16_and_exact_fills(void **state)
{
    (void)state;
    uint16_t h[3] = {0x3c00, 0x7e00, 0xc500}; /* 1, NaN, -5 */
    double out[3];
    cf_decoder cf = init_ok("{\"missing_value\":-5}", ZARR_FLOAT16, 0, NULL);
    cf_decode_to_double(&cf, h, 3, out);
    assert_true(out[0] == 1.0 && isnan(out[1]) && isnan(out[2]));
    uint64_t u[2] = {UINT64_MAX, UINT64_MAX - 1}, fill = UINT64_MAX;
    cf = init_ok("{}", ZARR_UINT64, CF_MASK_ZARR_FILL, &fill);
    cf_decode_to_double(&cf, u, 2, out);
    assert_true(isnan(out[0]) && out[1] == (double)(UINT64_MAX - 1));
    uint8_t b[2] = {0, 1}, bfill = 0;
    cf = init_ok("{}", ZARR_BOOL, CF_MASK_ZARR_FILL, &bfill);
    cf_decode_to_double(&cf, b, 2, out);
    assert_true(out[0] == 0 && out[1] == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float32_missing_compared_as_float),
        cmocka_unit_test(packed_int16),
        cmocka_unit_test(unsigned_attribute),
        cmocka_unit_test(nan_and_strings),
        cmocka_unit_test(valid_range_only_when_asked),
        cmocka_unit_test(zarr_fill_and_no_attributes),
        cmocka_unit_test(unpacked_types),
        cmocka_unit_test(float16_and_exact_fills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
