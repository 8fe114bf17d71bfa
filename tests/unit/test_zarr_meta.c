/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for zarr.json parsing (io/zarr/meta.h): the documents the
 * test bed's real Icechunk writer produces (scripts/node/make_repo.mjs),
 * the fill value forms of the Zarr v3 core spec, chunk keys, and errors
 * that name the field. */
#include "io/zarr/meta.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tair as make_repo.mjs writes it (varMeta, with the test bed's values). */
static const char tair_json[] =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[62,650,1170],\"data_type\":\"float32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[1,50,90]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
    "\"fill_value\":-9999,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}},"
    "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":4}}],"
    "\"attributes\":{\"units\":\"K\",\"standard_name\":\"Near surface air temperature\","
    "\"_FillValue\":-9999,\"missing_value\":-9999},\"dimension_names\":[\"time\",\"lat\",\"lon\"]}";

static zarr_array_meta *parse_ok(const char *json)
{
    zarr_array_meta *m = NULL;
    floe_err err = zarr_meta_parse(json, strlen(json), &m);
    if (err) {
        char line[512];
        fail_msg("zarr_meta_parse: %s", floe_err_line(err, line, sizeof line));
    }
    return m;
}

static void parse_fails(const char *json, floe_code code, const char *needle)
{
    zarr_array_meta *m = NULL;
    floe_err err = zarr_meta_parse(json, strlen(json), &m);
    char line[512];
    if (!err)
        fail_msg("expected a %s error containing '%s', parse succeeded", floe_code_name(code), needle);
    floe_err_line(err, line, sizeof line);
    if (floe_err_code(err) != code || !strstr(line, needle))
        fail_msg("expected a %s error containing '%s', got %s: %s", floe_code_name(code), needle,
                 floe_code_name(floe_err_code(err)), line);
    assert_null(m);
    floe_err_free(&err);
}

/* A document with the given fields substituted (keeps the tests short). */
#define DOC(dtype, shape, chunks, keys, fill, codecs, extra)                                       \
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":" shape ",\"data_type\":\"" dtype "\","   \
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":" chunks "}},"         \
    "\"chunk_key_encoding\":" keys ",\"fill_value\":" fill ",\"codecs\":" codecs extra "}"
#define KEYS_DEFAULT "{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}}"
#define LE "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]"

static void testbed_document(void **state)
{
    (void)state;
    zarr_array_meta *m = parse_ok(tair_json);
    assert_int_equal(m->ndim, 3);
    assert_true(m->shape[0] == 62 && m->shape[1] == 650 && m->shape[2] == 1170);
    assert_true(m->chunk_shape[0] == 1 && m->chunk_shape[1] == 50 && m->chunk_shape[2] == 90);
    assert_int_equal(m->dtype, ZARR_FLOAT32);
    assert_int_equal(m->itemsize, 4);
    assert_true(m->fill_value == -9999.0);
    float f;
    memcpy(&f, m->fill_raw, 4);
    assert_true(f == -9999.0f);
    assert_int_equal(zarr_chunk_nbytes(m), 1 * 50 * 90 * 4);
    assert_string_equal(m->dim_names[0], "time");
    assert_string_equal(m->dim_names[2], "lon");
    assert_string_equal(m->codecs_text, "bytes, numcodecs.shuffle, numcodecs.zlib");
    assert_int_equal(m->ncodecs, 3);
    assert_int_equal(m->codecs[1].kind, ZARR_CODEC_SHUFFLE);
    assert_int_equal(m->codecs[1].elementsize, 4);
    assert_int_equal(m->codecs[2].kind, ZARR_CODEC_ZLIB);
    assert_int_equal(m->codecs[2].level, 4);
    assert_int_equal(m->codecs[2].decoded_nbytes, 18000);
    assert_string_equal(cJSON_GetObjectItem(m->attributes, "units")->valuestring, "K");
    uint64_t grid[3];
    zarr_chunk_grid_shape(m, grid);
    assert_true(grid[0] == 62 && grid[1] == 13 && grid[2] == 13);
    char key[64];
    uint64_t coord[3] = {61, 12, 3};
    assert_null(zarr_chunk_key(m, coord, key, sizeof key));
    assert_string_equal(key, "c/61/12/3");
    zarr_meta_free(&m);
    assert_null(m);
    zarr_meta_free(&m); /* safe twice */
}

static void coordinate_document(void **state)
{
    (void)state;
    /* lat as make_repo.mjs writes it (coordMeta): NaN fill, bytes + zstd */
    zarr_array_meta *m = parse_ok(
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[650],\"data_type\":\"float32\","
        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[650]}},"
        "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
        "\"fill_value\":\"NaN\",\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
        "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}],"
        "\"attributes\":{\"units\":\"degrees_north\"},\"dimension_names\":[\"lat\"]}");
    assert_true(isnan(m->fill_value));
    uint32_t bits;
    memcpy(&bits, m->fill_raw, 4);
    assert_int_equal(bits, 0x7fc00000u);
    assert_string_equal(m->codecs_text, "bytes, zstd");
    zarr_meta_free(&m);
}

static void chunk_keys(void **state)
{
    (void)state;
    char key[64];
    uint64_t c3[3] = {0, 1, 2};
    zarr_array_meta *m = parse_ok(DOC("int32", "[10,10,15]", "[5,5,5]",
                                      "{\"name\":\"default\",\"configuration\":{\"separator\":\".\"}}", "0", LE, ""));
    assert_null(zarr_chunk_key(m, c3, key, sizeof key));
    assert_string_equal(key, "c.0.1.2");
    zarr_meta_free(&m);
    m = parse_ok(DOC("int32", "[10,10,15]", "[5,5,5]", "{\"name\":\"default\"}", "0", LE, ""));
    assert_null(zarr_chunk_key(m, c3, key, sizeof key));
    assert_string_equal(key, "c/0/1/2");
    zarr_meta_free(&m);
    m = parse_ok(DOC("int32", "[10,10,15]", "[5,5,5]", "{\"name\":\"v2\"}", "0", LE, ""));
    assert_null(zarr_chunk_key(m, c3, key, sizeof key));
    assert_string_equal(key, "0.1.2");
    zarr_meta_free(&m);
    m = parse_ok(DOC("int32", "[10,10,15]", "[5,5,5]", "{\"name\":\"v2\",\"configuration\":{\"separator\":\"/\"}}",
                     "0", LE, ""));
    assert_null(zarr_chunk_key(m, c3, key, sizeof key));
    assert_string_equal(key, "0/1/2");
    /* a buffer too small for "0/1/2" */
    floe_err err = zarr_chunk_key(m, c3, key, 5);
    assert_int_equal(floe_err_code(err), FLOE_ENOMEM);
    floe_err_free(&err);
    zarr_meta_free(&m);
    /* ragged edge: 11 / 5 = 3 chunks; the last one exists */
    m = parse_ok(DOC("int32", "[11]", "[5]", KEYS_DEFAULT, "0", LE, ""));
    uint64_t c1 = 2;
    assert_null(zarr_chunk_key(m, &c1, key, sizeof key));
    assert_string_equal(key, "c/2");
    c1 = 3;
    err = zarr_chunk_key(m, &c1, key, sizeof key);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    zarr_meta_free(&m);
    /* 0-d arrays: one chunk, "c" or "0" */
    m = parse_ok(DOC("float64", "[]", "[]", KEYS_DEFAULT, "1.5", LE, ""));
    assert_int_equal(m->ndim, 0);
    assert_int_equal(zarr_chunk_nbytes(m), 8);
    assert_null(zarr_chunk_key(m, NULL, key, sizeof key));
    assert_string_equal(key, "c");
    zarr_meta_free(&m);
    m = parse_ok(DOC("float64", "[]", "[]", "{\"name\":\"v2\"}", "1.5", LE, ""));
    assert_null(zarr_chunk_key(m, NULL, key, sizeof key));
    assert_string_equal(key, "0");
    zarr_meta_free(&m);
}

static void float_fill_values(void **state)
{
    (void)state;
    zarr_array_meta *m = parse_ok(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "\"Infinity\"", LE, ""));
    assert_true(isinf(m->fill_value) && m->fill_value > 0);
    zarr_meta_free(&m);
    m = parse_ok(DOC("float64", "[4]", "[4]", KEYS_DEFAULT, "\"-Infinity\"", LE, ""));
    assert_true(isinf(m->fill_value) && m->fill_value < 0);
    double d;
    memcpy(&d, m->fill_raw, 8);
    assert_true(isinf(d) && d < 0);
    zarr_meta_free(&m);
    /* the hex form is the element's bits, most significant first */
    m = parse_ok(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "\"0x7fc00001\"", LE, ""));
    uint32_t b32;
    memcpy(&b32, m->fill_raw, 4);
    assert_int_equal(b32, 0x7fc00001u); /* a NaN payload kept bit for bit */
    assert_true(isnan(m->fill_value));
    zarr_meta_free(&m);
    m = parse_ok(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "\"0x3f800000\"", LE, ""));
    assert_true(m->fill_value == 1.0);
    zarr_meta_free(&m);
    m = parse_ok(DOC("float64", "[4]", "[4]", KEYS_DEFAULT, "\"0xC08F400000000000\"", LE, ""));
    assert_true(m->fill_value == -1000.0);
    zarr_meta_free(&m);
    /* float32 rounding: 0.1 is stored as the float nearest 0.1 */
    m = parse_ok(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0.1", LE, ""));
    float f;
    memcpy(&f, m->fill_raw, 4);
    assert_true(f == 0.1f);
    assert_true(m->fill_value == (double)0.1f);
    zarr_meta_free(&m);
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "\"0x7fc0\"", LE, ""), FLOE_EFORMAT, "fill_value");
    /* float16: 2-byte elements, numbers rounded to the nearest half, hex bits,
     * the named values; out of range refused */
    m = parse_ok(DOC("float16", "[4]", "[4]", KEYS_DEFAULT, "\"0x7e00\"", LE, ""));
    assert_int_equal(m->itemsize, 2);
    assert_true(isnan(m->fill_value));
    zarr_meta_free(&m);
    m = parse_ok(DOC("float16", "[4]", "[4]", KEYS_DEFAULT, "0.1", LE, ""));
    uint16_t h;
    memcpy(&h, m->fill_raw, 2);
    assert_int_equal(h, 0x2e66); /* numpy: np.float16(0.1).view(np.uint16) */
    assert_true(m->fill_value == 0.0999755859375);
    zarr_meta_free(&m);
    m = parse_ok(DOC("float16", "[4]", "[4]", KEYS_DEFAULT, "\"-Infinity\"", LE, ""));
    memcpy(&h, m->fill_raw, 2);
    assert_int_equal(h, 0xfc00);
    zarr_meta_free(&m);
    m = parse_ok(DOC("float16", "[4]", "[4]", KEYS_DEFAULT, "-9999", LE, ""));
    assert_true(m->fill_value == -10000.0); /* numpy: float(np.float16(-9999)) */
    zarr_meta_free(&m);
    parse_fails(DOC("float16", "[4]", "[4]", KEYS_DEFAULT, "70000", LE, ""), FLOE_EFORMAT, "float16");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "\"nan\"", LE, ""), FLOE_EFORMAT, "fill_value");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "1e300", LE, ""), FLOE_EFORMAT, "out of range");
    parse_fails(DOC("float64", "[4]", "[4]", KEYS_DEFAULT, "null", LE, ""), FLOE_EFORMAT, "fill_value");
}

static void integer_fill_values(void **state)
{
    (void)state;
    /* beyond 2^53, exact only if read from the text */
    zarr_array_meta *m = parse_ok(DOC("int64", "[4]", "[4]", KEYS_DEFAULT, "9223372036854775807", LE, ""));
    int64_t i64;
    memcpy(&i64, m->fill_raw, 8);
    assert_true(i64 == INT64_MAX);
    zarr_meta_free(&m);
    m = parse_ok(DOC("int64", "[4]", "[4]", KEYS_DEFAULT, "-9223372036854775808", LE, ""));
    memcpy(&i64, m->fill_raw, 8);
    assert_true(i64 == INT64_MIN);
    zarr_meta_free(&m);
    m = parse_ok(DOC("int64", "[4]", "[4]", KEYS_DEFAULT, "9007199254740993", LE, ""));
    memcpy(&i64, m->fill_raw, 8);
    assert_true(i64 == INT64_C(9007199254740993));
    zarr_meta_free(&m);
    m = parse_ok(DOC("uint64", "[4]", "[4]", KEYS_DEFAULT, "18446744073709551615", LE, ""));
    uint64_t u64;
    memcpy(&u64, m->fill_raw, 8);
    assert_true(u64 == UINT64_MAX);
    zarr_meta_free(&m);
    /* "fill_value" nested in attributes must not be mistaken for the top-level one */
    m = parse_ok("{\"attributes\":{\"x\":{\"fill_value\":5}},\"zarr_format\":3,\"node_type\":\"array\","
                 "\"shape\":[4],\"data_type\":\"int16\",\"chunk_grid\":{\"name\":\"regular\","
                 "\"configuration\":{\"chunk_shape\":[4]}},\"chunk_key_encoding\":{\"name\":\"default\"},"
                 "\"fill_value\" : -32768 ,\"codecs\":" LE "}");
    int16_t i16;
    memcpy(&i16, m->fill_raw, 2);
    assert_int_equal(i16, -32768);
    assert_true(m->fill_value == -32768.0);
    zarr_meta_free(&m);
    m = parse_ok(DOC("uint8", "[4]", "[4]", KEYS_DEFAULT, "255", "[\"bytes\"]", ""));
    assert_int_equal(m->fill_raw[0], 255);
    zarr_meta_free(&m);
    m = parse_ok(DOC("int32", "[4]", "[4]", KEYS_DEFAULT, "1e3", LE, ""));
    int32_t i32;
    memcpy(&i32, m->fill_raw, 4);
    assert_int_equal(i32, 1000);
    zarr_meta_free(&m);
    m = parse_ok(DOC("bool", "[4]", "[4]", KEYS_DEFAULT, "true", "[{\"name\":\"bytes\"}]", ""));
    assert_int_equal(m->fill_raw[0], 1);
    assert_int_equal(m->itemsize, 1);
    zarr_meta_free(&m);
    parse_fails(DOC("int8", "[4]", "[4]", KEYS_DEFAULT, "200", LE, ""), FLOE_EFORMAT, "out of range for int8");
    parse_fails(DOC("uint16", "[4]", "[4]", KEYS_DEFAULT, "-1", LE, ""), FLOE_EFORMAT, "out of range for uint16");
    parse_fails(DOC("int64", "[4]", "[4]", KEYS_DEFAULT, "9223372036854775808", LE, ""), FLOE_EFORMAT,
                "out of range");
    parse_fails(DOC("int16", "[4]", "[4]", KEYS_DEFAULT, "1.5", LE, ""), FLOE_EFORMAT, "not a valid int16");
    parse_fails(DOC("int16", "[4]", "[4]", KEYS_DEFAULT, "\"NaN\"", LE, ""), FLOE_EFORMAT, "fill_value");
    parse_fails(DOC("bool", "[4]", "[4]", KEYS_DEFAULT, "0", "[\"bytes\"]", ""), FLOE_EFORMAT, "fill_value");
}

static void dimension_names_and_attributes(void **state)
{
    (void)state;
    zarr_array_meta *m = parse_ok(DOC("int16", "[4,5]", "[2,5]", KEYS_DEFAULT, "0", LE,
                                      ",\"dimension_names\":[null,\"x\"]"));
    assert_null(m->dim_names[0]);
    assert_string_equal(m->dim_names[1], "x");
    assert_true(cJSON_IsObject(m->attributes)); /* absent -> empty object */
    assert_null(m->attributes->child);
    zarr_meta_free(&m);
    parse_fails(DOC("int16", "[4,5]", "[2,5]", KEYS_DEFAULT, "0", LE, ",\"dimension_names\":[\"x\"]"),
                FLOE_EFORMAT, "\"dimension_names\" has 1 entries, \"shape\" has 2");
    parse_fails(DOC("int16", "[4,5]", "[2,5]", KEYS_DEFAULT, "0", LE, ",\"dimension_names\":[1,2]"),
                FLOE_EFORMAT, "dimension_names[0]");
    parse_fails(DOC("int16", "[4,5]", "[2,5]", KEYS_DEFAULT, "0", LE, ",\"attributes\":[]"), FLOE_EFORMAT,
                "attributes");
}

static void structural_errors(void **state)
{
    (void)state;
    parse_fails(DOC("float32", "[10,20,30]", "[5,5]", KEYS_DEFAULT, "0", LE, ""), FLOE_EFORMAT,
                "zarr.json: \"chunk_grid.configuration.chunk_shape\" has 2 entries, \"shape\" has 3");
    parse_fails(DOC("float32", "[10]", "[0]", KEYS_DEFAULT, "0", LE, ""), FLOE_EFORMAT, "chunk_shape[0]\" is 0");
    parse_fails(DOC("float32", "[10,-1]", "[5,5]", KEYS_DEFAULT, "0", LE, ""), FLOE_EFORMAT, "shape[1]");
    parse_fails(DOC("float32", "[1,1,1,1,1,1,1,1,1]", "[1,1,1,1,1,1,1,1,1]", KEYS_DEFAULT, "0", LE, ""),
                FLOE_EUNSUPPORTED, "9 dimensions");
    parse_fails(DOC("float32", "[100000,100000]", "[100000,100000]", KEYS_DEFAULT, "0", LE, ""), FLOE_EUNSUPPORTED,
                "limit");
    parse_fails(DOC("bfloat16", "[4]", "[4]", KEYS_DEFAULT, "0", LE, ""), FLOE_EUNSUPPORTED, "'bfloat16'");
    parse_fails(DOC("complex64", "[4]", "[4]", KEYS_DEFAULT, "0", LE, ""), FLOE_EUNSUPPORTED, "data_type");
    parse_fails(DOC("float32", "[4]", "[4]", "{\"name\":\"weird\"}", "0", LE, ""), FLOE_EUNSUPPORTED,
                "chunk key encoding 'weird'");
    parse_fails(DOC("float32", "[4]", "[4]", "{\"name\":\"default\",\"configuration\":{\"separator\":\"-\"}}", "0",
                    LE, ""), FLOE_EFORMAT, "separator");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", LE,
                    ",\"storage_transformers\":[{\"name\":\"x\"}]"), FLOE_EUNSUPPORTED, "storage_transformers");
    zarr_array_meta *m = parse_ok(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", LE, ",\"storage_transformers\":[]"));
    zarr_meta_free(&m);
    /* extensions: must_understand true is refused, false (or plain extra keys) ignored */
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", LE, ",\"ext\":{\"must_understand\":true}"),
                FLOE_EUNSUPPORTED, "\"ext\"");
    m = parse_ok(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", LE, ",\"ext\":{\"must_understand\":false}"));
    zarr_meta_free(&m);
    parse_fails("{\"zarr_format\":3,\"node_type\":\"group\"}", FLOE_EFORMAT, "'group'");
    parse_fails("{\"zarr_format\":2,\"node_type\":\"array\"}", FLOE_EUNSUPPORTED, "zarr_format");
    parse_fails("{\"zarr_format\":3,\"node_type\":\"array\",", FLOE_EFORMAT, "not valid JSON");
    parse_fails("[]", FLOE_EFORMAT, "not a JSON object");
    parse_fails("{\"zarr_format\":3,\"node_type\":\"array\",\"data_type\":\"int8\"}", FLOE_EFORMAT, "\"shape\" is missing");
    parse_fails("{\"zarr_format\":3,\"node_type\":\"array\",\"data_type\":\"int8\",\"shape\":[1],"
                "\"chunk_grid\":{\"name\":\"rectilinear\"}}", FLOE_EUNSUPPORTED, "chunk grid 'rectilinear'");
}

static void codec_list_errors(void **state)
{
    (void)state;
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", "[{\"name\":\"sharding_indexed\"}]", ""),
                FLOE_EUNSUPPORTED, "sharding_indexed");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", "[{\"name\":\"bytes\",\"configuration\":"
                    "{\"endian\":\"little\"}},{\"name\":\"foo\"}]", ""), FLOE_EUNSUPPORTED, "unknown codec 'foo'");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", "[{\"name\":\"zstd\"}]", ""), FLOE_EFORMAT,
                "before the array->bytes codec");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", "[]", ""), FLOE_EFORMAT, "no array->bytes codec");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0", "[\"bytes\"]", ""), FLOE_EFORMAT,
                "endian\" of 'bytes' is required for float32");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0",
                    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"middle\"}}]", ""), FLOE_EFORMAT, "endian");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0",
                    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                    "{\"name\":\"transpose\",\"configuration\":{\"order\":[0]}}]", ""), FLOE_EFORMAT,
                "after the array->bytes codec");
    parse_fails(DOC("float32", "[4,4]", "[4,4]", KEYS_DEFAULT, "0",
                    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[0,0]}},"
                    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]", ""), FLOE_EFORMAT,
                "not a permutation");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0",
                    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\"},"
                    "{\"name\":\"gzip\"}]", ""), FLOE_EUNSUPPORTED, "two compressors");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0",
                    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                    "{\"name\":\"gzip\",\"configuration\":{\"level\":12}}]", ""), FLOE_EFORMAT,
                "\"codecs[1].configuration.level\" of 'gzip'");
    parse_fails(DOC("float32", "[4]", "[4]", KEYS_DEFAULT, "0",
                    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                    "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":0}}]", ""), FLOE_EFORMAT,
                "elementsize");
    /* a second bytes codec */
    parse_fails(DOC("uint8", "[4]", "[4]", KEYS_DEFAULT, "0", "[\"bytes\",\"bytes\"]", ""), FLOE_EFORMAT,
                "second array->bytes");
    /* decoded sizes through checksums: [bytes, crc32c, gzip, fletcher32] */
    zarr_array_meta *m = parse_ok(DOC("int16", "[10]", "[10]", KEYS_DEFAULT, "0",
                                      "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},\"crc32c\","
                                      "{\"name\":\"gzip\",\"configuration\":{\"level\":1}},"
                                      "{\"name\":\"numcodecs.fletcher32\"}]", ""));
    assert_int_equal(m->codecs[0].big_endian, 1);
    assert_int_equal(m->codecs[1].decoded_nbytes, 20);
    assert_int_equal(m->codecs[2].decoded_nbytes, 24);
    assert_string_equal(m->codecs_text, "bytes, crc32c, gzip, numcodecs.fletcher32");
    zarr_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testbed_document),
        cmocka_unit_test(coordinate_document),
        cmocka_unit_test(chunk_keys),
        cmocka_unit_test(float_fill_values),
        cmocka_unit_test(integer_fill_values),
        cmocka_unit_test(dimension_names_and_attributes),
        cmocka_unit_test(structural_errors),
        cmocka_unit_test(codec_list_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
