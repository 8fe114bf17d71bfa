/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the Zarr codec pipeline (io/zarr/codec.h).
 *
 * Every encoded input comes from an independent source: the real libraries
 * (zlib compress2 and deflateInit2 for gzip, ZSTD_compress, blosc
 * compressors with each shuffle mode), HDF5 itself (chunks written with
 * its shuffle, deflate and fletcher32 filters, read back raw with
 * H5Dread_chunk), the RFC 3720 CRC-32C vectors, encoders written here
 * (byte shuffle, transpose, big-endian bytes, bitwise CRC-32C), and the
 * NLDAS-3 test bed's NetCDF files compared with netCDF's own reading. */
#include "io/zarr/codec.h"

#include <blosc.h>
#include <hdf5.h>
#include <math.h>
#include <netcdf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* ---- helpers --------------------------------------------------------------- */

static zarr_array_meta *meta_from(const char *json)
{
    zarr_array_meta *m = NULL;
    floe_err err = zarr_meta_parse(json, strlen(json), &m);
    if (err) {
        char line[512];
        fail_msg("zarr_meta_parse: %s", floe_err_line(err, line, sizeof line));
    }
    return m;
}

/* A float32 array document with one chunk of n elements and these codecs. */
static zarr_array_meta *meta_1d(const char *dtype, size_t n, const char *codecs)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[%zu],\"data_type\":\"%s\","
             "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[%zu]}},"
             "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
             "\"fill_value\":0,\"codecs\":%s}",
             n, dtype, n, codecs);
    return meta_from(json);
}

/* Smooth-ish float data with some noise: compresses, but not trivially. */
static float *make_floats(size_t n)
{
    float *v = malloc(n * sizeof *v);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        v[i] = 250.0f + 30.0f * sinf((float)i / 200.0f) + (float)(s >> 20) / 4096.0f;
    }
    return v;
}

/* Byte shuffle written independently of io/zarr/codec/shuffle.c. */
static void shuffle_bytes(const uint8_t *in, uint8_t *out, size_t n, size_t es)
{
    size_t count = n / es;
    for (size_t b = 0; b < es; b++)
        for (size_t i = 0; i < count; i++)
            out[b * count + i] = in[i * es + b];
    memcpy(out + count * es, in + count * es, n - count * es);
}

/* Bitwise CRC-32C, the textbook definition. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- checksums ------------------------------------------------------------- */

static void crc32c_rfc3720_vectors(void **state)
{
    (void)state;
    /* RFC 3720 appendix B.4 (the CRC is listed there as its bytes on the
     * wire, least significant first: "aa 36 91 8a" is 0x8A9136AA). */
    assert_int_equal(zarr_crc32c(0, "123456789", 9), 0xE3069283u);
    uint8_t buf[32];
    memset(buf, 0, 32);
    assert_int_equal(zarr_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, 32);
    assert_int_equal(zarr_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(zarr_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(zarr_crc32c(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(zarr_crc32c(0, "", 0), 0u);
}

static void crc32c_matches_bitwise_and_continues(void **state)
{
    (void)state;
    size_t n = 10007;
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131 + (i >> 7));
    for (size_t len = 0; len < 40; len++)
        assert_int_equal(zarr_crc32c(0, p + 3, len), crc32c_bitwise(p + 3, len));
    uint32_t whole = crc32c_bitwise(p, n);
    assert_int_equal(zarr_crc32c(0, p, n), whole);
    assert_int_equal(zarr_crc32c(zarr_crc32c(0, p, 4097), p + 4097, n - 4097), whole);
    free(p);
}

static void crc32c_codec_trailer(void **state)
{
    (void)state;
    size_t n = 1000;
    float *v = make_floats(n);
    zarr_array_meta *m = meta_1d("float32", n,
                                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                                 "{\"name\":\"crc32c\"}]");
    uint8_t *enc = malloc(n * 4 + 4);
    memcpy(enc, v, n * 4);
    put_le32(enc + n * 4, crc32c_bitwise(enc, n * 4));
    float *out = malloc(n * 4);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    expect_ok(zarr_chunk_decode(d, m, enc, n * 4 + 4, (uint8_t *)out));
    assert_memory_equal(out, v, n * 4);
    enc[17] ^= 0x10;
    expect_code(zarr_chunk_decode(d, m, enc, n * 4 + 4, (uint8_t *)out), FLOE_ECHECKSUM, "crc32c");
    expect_code(zarr_chunk_decode(d, m, enc, 3, (uint8_t *)out), FLOE_EFORMAT, "too short");
    zarr_decoder_free(&d);
    zarr_meta_free(&m);
    free(enc);
    free(out);
    free(v);
}

/* ---- HDF5 as the oracle for fletcher32, shuffle and deflate ----------------- */

typedef struct h5_chunk {
    uint8_t *raw;   /* the stored (filtered) chunk */
    size_t nraw;
} h5_chunk;

/* Write `data` (n elements of `type`) as a 1-D dataset of one chunk with the
 * filters asked for, and read the stored chunk back raw. */
static h5_chunk hdf5_filtered_chunk(hid_t type, const void *data, hsize_t n, int shuffle, int deflate_level,
                                    int fletcher)
{
    char path[] = "/tmp/floe-test-codecs-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(H5Pset_chunk(dcpl, 1, &n) >= 0);
    /* the order in which netCDF-4 sets them: shuffle, deflate, fletcher32 */
    if (shuffle)
        assert_true(H5Pset_shuffle(dcpl) >= 0);
    if (deflate_level >= 0)
        assert_true(H5Pset_deflate(dcpl, (unsigned)deflate_level) >= 0);
    if (fletcher)
        assert_true(H5Pset_fletcher32(dcpl) >= 0);
    hid_t ds = H5Dcreate2(f, "v", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    assert_true(H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0);
    hsize_t offset = 0, nbytes = 0;
    assert_true(H5Dget_chunk_storage_size(ds, &offset, &nbytes) >= 0);
    h5_chunk c = {malloc(nbytes), (size_t)nbytes};
    uint32_t filter_mask = 0;
    assert_true(H5Dread_chunk(ds, H5P_DEFAULT, &offset, &filter_mask, c.raw) >= 0);
    assert_int_equal(filter_mask, 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
    unlink(path);
    return c;
}

static void fletcher32_matches_hdf5(void **state)
{
    (void)state;
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    /* odd and even lengths, beyond the 360-word block, and all-0xFF data
     * whose running sums reach 0xffff (where HDF5's end-around-carry
     * reduction differs from a modulo 65535) */
    const size_t lengths[] = {1, 2, 7, 720, 721, 1001, 4096, 100003};
    for (int pattern = 0; pattern < 2; pattern++) {
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            size_t n = lengths[li];
            uint8_t *data = malloc(n);
            for (size_t i = 0; i < n; i++)
                data[i] = pattern ? 0xFF : (uint8_t)(i * 7919 + (i >> 3));
            h5_chunk c = hdf5_filtered_chunk(H5T_NATIVE_UCHAR, data, n, 0, -1, 1);
            assert_int_equal(c.nraw, n + 4);
            assert_memory_equal(c.raw, data, n);
            uint32_t stored = (uint32_t)c.raw[n] | (uint32_t)c.raw[n + 1] << 8 | (uint32_t)c.raw[n + 2] << 16 |
                              (uint32_t)c.raw[n + 3] << 24;
            assert_int_equal(zarr_fletcher32(data, n), stored);

            zarr_array_meta *m = meta_1d("uint8", n, "[\"bytes\",{\"name\":\"numcodecs.fletcher32\"}]");
            uint8_t *out = malloc(n);
            expect_ok(zarr_chunk_decode(d, m, c.raw, c.nraw, out));
            assert_memory_equal(out, data, n);
            c.raw[n / 2] ^= 1;
            expect_code(zarr_chunk_decode(d, m, c.raw, c.nraw, out), FLOE_ECHECKSUM, "fletcher32");
            zarr_meta_free(&m);
            free(out);
            free(c.raw);
            free(data);
        }
    }
    zarr_decoder_free(&d);
}

/* The chain VirtualiZarr writes for a NetCDF-4 variable with shuffle,
 * deflate and fletcher32, on a chunk HDF5 itself encoded. */
static void hdf5_shuffle_deflate_fletcher_chain(void **state)
{
    (void)state;
    size_t n = 4500;
    float *v = make_floats(n);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    float *out = malloc(n * 4);

    h5_chunk c = hdf5_filtered_chunk(H5T_NATIVE_FLOAT, v, n, 1, 4, 1);
    zarr_array_meta *m = meta_1d("float32", n,
                                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                                 "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}},"
                                 "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":4}},"
                                 "{\"name\":\"numcodecs.fletcher32\"}]");
    expect_ok(zarr_chunk_decode(d, m, c.raw, c.nraw, (uint8_t *)out));
    assert_memory_equal(out, v, n * 4);
    zarr_meta_free(&m);
    free(c.raw);

    /* without the checksum: exactly the test bed's chain */
    c = hdf5_filtered_chunk(H5T_NATIVE_FLOAT, v, n, 1, 4, 0);
    m = meta_1d("float32", n,
                "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}},"
                "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":4}}]");
    memset(out, 0, n * 4);
    expect_ok(zarr_chunk_decode(d, m, c.raw, c.nraw, (uint8_t *)out));
    assert_memory_equal(out, v, n * 4);
    zarr_meta_free(&m);
    free(c.raw);
    free(out);
    free(v);
    zarr_decoder_free(&d);
}

/* ---- compressors -------------------------------------------------------------- */

static size_t gzip_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int level)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t got = zs.total_out;
    deflateEnd(&zs);
    return got;
}

static void zlib_round_trips(void **state)
{
    (void)state;
    size_t n = 20000, nb = n * 4;
    float *v = make_floats(n);
    uint8_t *enc = malloc(compressBound(nb) + 64);
    float *out = malloc(nb);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    zarr_array_meta *m = meta_1d("float32", n,
                                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                                 "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":1}}]");
    const int levels[] = {0, 1, 4, 9};
    for (size_t i = 0; i < 4; i++) {
        uLongf elen = compressBound(nb);
        assert_int_equal(compress2(enc, &elen, (const Bytef *)v, nb, levels[i]), Z_OK);
        memset(out, 0, nb);
        expect_ok(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out));
        assert_memory_equal(out, v, nb);
        /* truncated stream */
        expect_code(zarr_chunk_decode(d, m, enc, elen - 5, (uint8_t *)out), FLOE_EFORMAT, "numcodecs.zlib");
    }
    /* a gzip member is not a zlib stream */
    size_t glen = gzip_encode((const uint8_t *)v, nb, enc, compressBound(nb) + 64, 6);
    expect_code(zarr_chunk_decode(d, m, enc, glen, (uint8_t *)out), FLOE_EFORMAT, "numcodecs.zlib");
    /* a stream that decodes to fewer bytes than the chunk */
    uLongf elen = compressBound(nb);
    assert_int_equal(compress2(enc, &elen, (const Bytef *)v, nb - 4, 6), Z_OK);
    expect_code(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out), FLOE_EFORMAT, "decodes to 79996 bytes");
    /* ... and to more */
    float *big = make_floats(n + 1);
    elen = compressBound(nb + 4);
    assert_int_equal(compress2(enc, &elen, (const Bytef *)big, nb + 4, 6), Z_OK);
    expect_code(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out), FLOE_EFORMAT, "more bytes");
    /* garbage */
    memset(enc, 0xA5, 100);
    expect_code(zarr_chunk_decode(d, m, enc, 100, (uint8_t *)out), FLOE_EFORMAT, NULL);
    expect_code(zarr_chunk_decode(d, m, enc, 0, (uint8_t *)out), FLOE_EFORMAT, NULL);
    zarr_meta_free(&m);
    zarr_decoder_free(&d);
    free(big);
    free(enc);
    free(out);
    free(v);
}

static void gzip_round_trips(void **state)
{
    (void)state;
    size_t n = 20000, nb = n * 4;
    float *v = make_floats(n);
    size_t cap = compressBound(nb) * 2 + 64;
    uint8_t *enc = malloc(cap);
    float *out = malloc(nb);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    const char *names[] = {"gzip", "numcodecs.gzip"};
    for (int k = 0; k < 2; k++) {
        char codecs[256];
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"%s\",\"configuration\":{\"level\":5}}]", names[k]);
        zarr_array_meta *m = meta_1d("float32", n, codecs);
        size_t glen = gzip_encode((const uint8_t *)v, nb, enc, cap, 5);
        expect_ok(zarr_chunk_decode(d, m, enc, glen, (uint8_t *)out));
        assert_memory_equal(out, v, nb);
        /* two members: RFC 1952 concatenation */
        size_t g1 = gzip_encode((const uint8_t *)v, 1000, enc, cap, 5);
        size_t g2 = gzip_encode((const uint8_t *)v + 1000, nb - 1000, enc + g1, cap - g1, 5);
        memset(out, 0, nb);
        expect_ok(zarr_chunk_decode(d, m, enc, g1 + g2, (uint8_t *)out));
        assert_memory_equal(out, v, nb);
        /* only the first member: too short */
        expect_code(zarr_chunk_decode(d, m, enc, g1, (uint8_t *)out), FLOE_EFORMAT, "decodes to 1000 bytes");
        /* a zlib stream is not a gzip member */
        uLongf elen = compressBound(nb);
        assert_int_equal(compress2(enc, &elen, (const Bytef *)v, nb, 6), Z_OK);
        expect_code(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out), FLOE_EFORMAT, names[k]);
        /* corrupted trailer (CRC-32 of the member) */
        glen = gzip_encode((const uint8_t *)v, nb, enc, cap, 5);
        enc[glen - 6] ^= 0xFF;
        expect_code(zarr_chunk_decode(d, m, enc, glen, (uint8_t *)out), FLOE_EFORMAT, names[k]);
        zarr_meta_free(&m);
    }
    zarr_decoder_free(&d);
    free(enc);
    free(out);
    free(v);
}

static void zstd_round_trips(void **state)
{
    (void)state;
    size_t n = 30000, nb = n * 4;
    float *v = make_floats(n);
    size_t cap = ZSTD_compressBound(nb) * 2;
    uint8_t *enc = malloc(cap);
    float *out = malloc(nb);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    const char *names[] = {"zstd", "numcodecs.zstd"};
    for (int k = 0; k < 2; k++) {
        char codecs[256];
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"%s\",\"configuration\":{\"level\":3,\"checksum\":true}}]", names[k]);
        zarr_array_meta *m = meta_1d("float32", n, codecs);
        size_t elen = ZSTD_compress(enc, cap, v, nb, 3);
        assert_false(ZSTD_isError(elen));
        expect_ok(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out));
        assert_memory_equal(out, v, nb);
        /* two frames */
        size_t e1 = ZSTD_compress(enc, cap, v, 4000, 1);
        size_t e2 = ZSTD_compress(enc + e1, cap - e1, (const uint8_t *)v + 4000, nb - 4000, 1);
        memset(out, 0, nb);
        expect_ok(zarr_chunk_decode(d, m, enc, e1 + e2, (uint8_t *)out));
        assert_memory_equal(out, v, nb);
        /* a frame that declares another size */
        elen = ZSTD_compress(enc, cap, v, nb - 8, 3);
        expect_code(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out), FLOE_EFORMAT, "declares 119992");
        /* truncated; garbage */
        elen = ZSTD_compress(enc, cap, v, nb, 3);
        expect_code(zarr_chunk_decode(d, m, enc, elen / 2, (uint8_t *)out), FLOE_EFORMAT, names[k]);
        memset(enc, 0x5A, 64);
        expect_code(zarr_chunk_decode(d, m, enc, 64, (uint8_t *)out), FLOE_EFORMAT, "not a zstd frame");
        /* content checksum catches a flipped bit inside the frame */
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        elen = ZSTD_compress2(cc, enc, cap, v, nb);
        ZSTD_freeCCtx(cc);
        enc[elen - 2] ^= 0x01;
        expect_code(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out), FLOE_EFORMAT, names[k]);
        zarr_meta_free(&m);
    }
    zarr_decoder_free(&d);
    free(enc);
    free(out);
    free(v);
}

static void blosc_round_trips(void **state)
{
    (void)state;
    size_t n = 50000, nb = n * 4;
    float *v = make_floats(n);
    size_t cap = nb + BLOSC_MAX_OVERHEAD;
    uint8_t *enc = malloc(cap);
    float *out = malloc(nb);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    const char *cnames[] = {"lz4", "zstd", "blosclz"};
    const int shuffles[] = {BLOSC_NOSHUFFLE, BLOSC_SHUFFLE, BLOSC_BITSHUFFLE};
    const char *names[] = {"blosc", "numcodecs.blosc"};
    for (int k = 0; k < 2; k++) {
        char codecs[256];
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"%s\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"shuffle\","
                 "\"typesize\":4,\"blocksize\":0}}]", names[k]);
        zarr_array_meta *m = meta_1d("float32", n, codecs);
        for (int c = 0; c < 3; c++) {
            for (int s = 0; s < 3; s++) {
                int elen = blosc_compress_ctx(5, shuffles[s], 4, nb, v, enc, cap, cnames[c], 0, 1);
                assert_true(elen > 0);
                memset(out, 0, nb);
                expect_ok(zarr_chunk_decode(d, m, enc, (size_t)elen, (uint8_t *)out));
                assert_memory_equal(out, v, nb);
                expect_code(zarr_chunk_decode(d, m, enc, (size_t)elen - 1, (uint8_t *)out), FLOE_EFORMAT,
                            names[k]);
            }
        }
        int elen = blosc_compress_ctx(5, BLOSC_SHUFFLE, 4, nb - 4, v, enc, cap, "lz4", 0, 1);
        expect_code(zarr_chunk_decode(d, m, enc, (size_t)elen, (uint8_t *)out), FLOE_EFORMAT, "frame holds");
        memset(enc, 0x33, 100);
        expect_code(zarr_chunk_decode(d, m, enc, 100, (uint8_t *)out), FLOE_EFORMAT, names[k]);
        expect_code(zarr_chunk_decode(d, m, enc, 5, (uint8_t *)out), FLOE_EFORMAT, names[k]);
        zarr_meta_free(&m);
    }
    zarr_decoder_free(&d);
    free(enc);
    free(out);
    free(v);
}

/* ---- layout codecs ------------------------------------------------------------ */

static void shuffle_element_sizes(void **state)
{
    (void)state;
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    /* float64 with elementsize 8; uint8 data with elementsize 3 leaves a
     * tail of n % 3 bytes that HDF5 stores unshuffled */
    struct {
        const char *dtype;
        size_t n, itemsize, es;
    } cases[] = {{"float64", 1000, 8, 8}, {"int16", 999, 2, 2}, {"uint8", 1000, 1, 3}, {"float32", 777, 4, 4},
                 {"uint8", 2, 1, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t nb = cases[c].n * cases[c].itemsize;
        uint8_t *raw = malloc(nb), *sh = malloc(nb), *out = malloc(nb);
        for (size_t i = 0; i < nb; i++)
            raw[i] = (uint8_t)(i * 37 + i / 11);
        shuffle_bytes(raw, sh, nb, cases[c].es);
        uLongf elen = compressBound(nb);
        uint8_t *enc = malloc(elen);
        assert_int_equal(compress2(enc, &elen, sh, nb, 4), Z_OK);
        char codecs[512];
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":%zu}},"
                 "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":4}}]", cases[c].es);
        zarr_array_meta *m = meta_1d(cases[c].dtype, cases[c].n, codecs);
        expect_ok(zarr_chunk_decode(d, m, enc, elen, out));
        assert_memory_equal(out, raw, nb);
        /* shuffle without compression: the raw input is the shuffled bytes */
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":%zu}}]", cases[c].es);
        zarr_meta_free(&m);
        m = meta_1d(cases[c].dtype, cases[c].n, codecs);
        memset(out, 0, nb);
        expect_ok(zarr_chunk_decode(d, m, sh, nb, out));
        assert_memory_equal(out, raw, nb);
        zarr_meta_free(&m);
        free(raw);
        free(sh);
        free(out);
        free(enc);
    }
    zarr_decoder_free(&d);
}

static void big_endian_bytes(void **state)
{
    (void)state;
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    /* int32 written most significant byte first by hand */
    int32_t ints[5] = {1, -2, 0x12345678, INT32_MIN, 1000000};
    uint8_t be[20];
    for (int i = 0; i < 5; i++) {
        uint32_t u = (uint32_t)ints[i];
        be[4 * i] = (uint8_t)(u >> 24);
        be[4 * i + 1] = (uint8_t)(u >> 16);
        be[4 * i + 2] = (uint8_t)(u >> 8);
        be[4 * i + 3] = (uint8_t)u;
    }
    zarr_array_meta *m = meta_1d("int32", 5, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]");
    int32_t got[5];
    expect_ok(zarr_chunk_decode(d, m, be, 20, (uint8_t *)got));
    assert_memory_equal(got, ints, 20);
    expect_code(zarr_chunk_decode(d, m, be, 16, (uint8_t *)got), FLOE_EFORMAT, "decodes to 16 bytes");
    zarr_meta_free(&m);

    /* float64 1.5 is 3FF8000000000000; big endian, then gzip'd */
    uint8_t be8[16] = {0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0xC0, 0x59, 0, 0, 0, 0, 0, 0}; /* 1.5, -100 */
    uint8_t gz[128];
    size_t glen = gzip_encode(be8, 16, gz, sizeof gz, 9);
    m = meta_1d("float64", 2,
                "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},{\"name\":\"gzip\"}]");
    double dv[2];
    expect_ok(zarr_chunk_decode(d, m, gz, glen, (uint8_t *)dv));
    assert_true(dv[0] == 1.5 && dv[1] == -100.0);
    zarr_meta_free(&m);

    /* uint16 big endian, uncompressed and little endian for comparison */
    uint8_t u16be[4] = {0x01, 0x02, 0xFF, 0x00};
    m = meta_1d("uint16", 2, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]");
    uint16_t u16[2];
    expect_ok(zarr_chunk_decode(d, m, u16be, 4, (uint8_t *)u16));
    assert_int_equal(u16[0], 0x0102);
    assert_int_equal(u16[1], 0xFF00);
    zarr_meta_free(&m);
    zarr_decoder_free(&d);
}

/* Encode a C-order int16 array of `shape` with the transpose `order`
 * (element at encoded index j is the element at i with i[order[k]] = j[k]). */
static void transpose_encode(const int16_t *in, int16_t *out, int ndim, const size_t *shape, const int *order)
{
    size_t eshape[8], total = 1;
    for (int k = 0; k < ndim; k++) {
        eshape[k] = shape[order[k]];
        total *= shape[k];
    }
    for (size_t e = 0; e < total; e++) {
        size_t j[8], rest = e;
        for (int k = ndim - 1; k >= 0; k--) {
            j[k] = rest % eshape[k];
            rest /= eshape[k];
        }
        size_t i[8];
        for (int k = 0; k < ndim; k++)
            i[order[k]] = j[k];
        size_t flat = 0;
        for (int k = 0; k < ndim; k++)
            flat = flat * shape[k] + i[k];
        out[e] = in[flat];
    }
}

static void transpose_codec(void **state)
{
    (void)state;
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    size_t shape[3] = {2, 3, 4};
    int16_t a[24], enc[24], enc2[24], got[24];
    for (int i = 0; i < 24; i++)
        a[i] = (int16_t)(i * 100 - 7);
#define TRANSPOSE_DOC                                                                              \
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2,3,4],\"data_type\":\"int16\","                 \
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2,3,4]}},"                    \
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[%s"                        \
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}"
    char json[1024];
    int orders[][3] = {{2, 0, 1}, {1, 2, 0}, {2, 1, 0}, {0, 2, 1}, {0, 1, 2}};
    for (size_t o = 0; o < 5; o++) {
        char t[128];
        snprintf(t, sizeof t, "{\"name\":\"transpose\",\"configuration\":{\"order\":[%d,%d,%d]}},", orders[o][0],
                 orders[o][1], orders[o][2]);
        snprintf(json, sizeof json, TRANSPOSE_DOC, t);
        zarr_array_meta *m = meta_from(json);
        transpose_encode(a, enc, 3, shape, orders[o]);
        memset(got, 0, sizeof got);
        expect_ok(zarr_chunk_decode(d, m, (const uint8_t *)enc, sizeof enc, (uint8_t *)got));
        assert_memory_equal(got, a, sizeof a);
        zarr_meta_free(&m);
    }
    /* two transposes in a row: [2,0,1] then [1,0,2] on the result */
    snprintf(json, sizeof json, TRANSPOSE_DOC,
             "{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}},"
             "{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0,2]}},");
    zarr_array_meta *m = meta_from(json);
    transpose_encode(a, enc, 3, shape, orders[0]);
    size_t shape2[3] = {4, 2, 3};
    int order2[3] = {1, 0, 2};
    transpose_encode(enc, enc2, 3, shape2, order2);
    expect_ok(zarr_chunk_decode(d, m, (const uint8_t *)enc2, sizeof enc2, (uint8_t *)got));
    assert_memory_equal(got, a, sizeof a);
    zarr_meta_free(&m);
    /* "F" (the string form): reversed dimensions, plus zstd */
    snprintf(json, sizeof json,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2,3,4],\"data_type\":\"int16\","
             "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2,3,4]}},"
             "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":["
             "{\"name\":\"transpose\",\"configuration\":{\"order\":\"F\"}},"
             "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\"}]}");
    m = meta_from(json);
    transpose_encode(a, enc, 3, shape, orders[2]);
    uint8_t z[256];
    size_t zlen = ZSTD_compress(z, sizeof z, enc, sizeof enc, 1);
    expect_ok(zarr_chunk_decode(d, m, z, zlen, (uint8_t *)got));
    assert_memory_equal(got, a, sizeof a);
    zarr_meta_free(&m);
    zarr_decoder_free(&d);
}

static void checksum_inside_compression(void **state)
{
    (void)state;
    /* [bytes, crc32c, zstd]: zstd must decode to the chunk + 4 bytes */
    size_t n = 500, nb = n * 4;
    float *v = make_floats(n);
    uint8_t *plain = malloc(nb + 4);
    memcpy(plain, v, nb);
    put_le32(plain + nb, crc32c_bitwise(plain, nb));
    uint8_t *enc = malloc(ZSTD_compressBound(nb + 4));
    size_t elen = ZSTD_compress(enc, ZSTD_compressBound(nb + 4), plain, nb + 4, 3);
    zarr_array_meta *m = meta_1d("float32", n,
                                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                                 "{\"name\":\"crc32c\"},{\"name\":\"zstd\"}]");
    assert_int_equal(m->codecs[2].decoded_nbytes, nb + 4);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    float *out = malloc(nb);
    expect_ok(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out));
    assert_memory_equal(out, v, nb);
    /* the raw chunk without its checksum: zstd yields 4 bytes too few */
    elen = ZSTD_compress(enc, ZSTD_compressBound(nb + 4), plain, nb, 3);
    expect_code(zarr_chunk_decode(d, m, enc, elen, (uint8_t *)out), FLOE_EFORMAT, "zstd");
    zarr_meta_free(&m);
    zarr_decoder_free(&d);
    free(out);
    free(enc);
    free(plain);
    free(v);
}

static void raw_bytes_and_fill(void **state)
{
    (void)state;
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    zarr_array_meta *m = meta_1d("uint8", 5, "[\"bytes\"]");
    uint8_t out[5];
    expect_ok(zarr_chunk_decode(d, m, (const uint8_t *)"hello", 5, out));
    assert_memory_equal(out, "hello", 5);
    expect_code(zarr_chunk_decode(d, m, (const uint8_t *)"hell", 4, out), FLOE_EFORMAT, "expected 5");
    zarr_meta_free(&m);

#define FILL_DOC                                                                                   \
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,7],\"data_type\":\"%s\","                    \
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,5]}},"                      \
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":%s,"                                     \
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}"
    char json[1024];
    snprintf(json, sizeof json, FILL_DOC, "float32", "-9999");
    m = meta_from(json);
    assert_int_equal(zarr_chunk_nbytes(m), 80);
    float f[20];
    zarr_chunk_fill(m, (uint8_t *)f);
    for (int i = 0; i < 20; i++)
        assert_true(f[i] == -9999.0f);
    zarr_meta_free(&m);
    snprintf(json, sizeof json, FILL_DOC, "float64", "\"NaN\"");
    m = meta_from(json);
    double dd[20];
    zarr_chunk_fill(m, (uint8_t *)dd);
    for (int i = 0; i < 20; i++)
        assert_true(isnan(dd[i]));
    zarr_meta_free(&m);
    snprintf(json, sizeof json, FILL_DOC, "int16", "-2");
    m = meta_from(json);
    int16_t s[20];
    zarr_chunk_fill(m, (uint8_t *)s);
    for (int i = 0; i < 20; i++)
        assert_int_equal(s[i], -2);
    zarr_meta_free(&m);
    snprintf(json, sizeof json, FILL_DOC, "uint64", "0");
    m = meta_from(json);
    uint64_t u[20];
    memset(u, 0xFF, sizeof u);
    zarr_chunk_fill(m, (uint8_t *)u);
    for (int i = 0; i < 20; i++)
        assert_true(u[i] == 0);
    zarr_meta_free(&m);
    zarr_decoder_free(&d);
}

static void unknown_codec_is_unsupported(void **state)
{
    (void)state;
    const char *json = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"float32\","
                       "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4]}},"
                       "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
                       "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                       "{\"name\":\"numcodecs.lzma\"}]}";
    zarr_array_meta *m = NULL;
    expect_code(zarr_meta_parse(json, strlen(json), &m), FLOE_EUNSUPPORTED,
                "unknown codec 'numcodecs.lzma' in zarr.json");
    assert_null(m);
}

/* Every prefix of valid encodings, and random bytes, through each chain:
 * errors, never crashes (run under ASan + UBSan by scripts/test). */
static void truncations_and_garbage_never_crash(void **state)
{
    (void)state;
    size_t n = 300, nb = n * 4;
    float *v = make_floats(n);
    float *out = malloc(nb);
    uint8_t *enc = malloc(4096), *junk = malloc(4096);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    const char *chains[] = {
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"numcodecs.zlib\"}]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"gzip\"}]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\"}]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"blosc\"}]",
    };
    for (int c = 0; c < 4; c++) {
        zarr_array_meta *m = meta_1d("float32", n, chains[c]);
        size_t elen = 0;
        if (c == 0) {
            uLongf l = 4096;
            assert_int_equal(compress2(enc, &l, (const Bytef *)v, nb, 6), Z_OK);
            elen = l;
        } else if (c == 1) {
            elen = gzip_encode((const uint8_t *)v, nb, enc, 4096, 6);
        } else if (c == 2) {
            elen = ZSTD_compress(enc, 4096, v, nb, 3);
        } else {
            elen = (size_t)blosc_compress_ctx(5, BLOSC_SHUFFLE, 4, nb, v, enc, 4096, "lz4", 0, 1);
        }
        for (size_t k = 0; k < elen; k++) {
            floe_err err = zarr_chunk_decode(d, m, enc, k, (uint8_t *)out);
            assert_non_null(err);
            floe_err_free(&err);
        }
        uint32_t seed = 99u + (uint32_t)c;
        for (int trial = 0; trial < 200; trial++) {
            size_t len = 1 + trial * 13 % 4000;
            for (size_t i = 0; i < len; i++) {
                seed = seed * 1664525u + 1013904223u;
                junk[i] = (uint8_t)(seed >> 24);
            }
            if (trial % 2) /* keep a valid header, scramble the rest */
                memcpy(junk, enc, elen < 16 ? elen : 16);
            floe_err err = zarr_chunk_decode(d, m, junk, len, (uint8_t *)out);
            floe_err_free(&err);
        }
        zarr_meta_free(&m);
    }
    zarr_decoder_free(&d);
    free(enc);
    free(junk);
    free(out);
    free(v);
}

/* ---- the test bed: a real NetCDF-4 chunk, compared with netCDF ------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void testbed_chunks_match_netcdf(void **state)
{
    (void)state;
    const char *dir = getenv("FLOE_TESTBED_DIR");
    const char *src = getenv("FLOE_SOURCE_DIR");
    char path[1024];
    if (dir)
        snprintf(path, sizeof path, "%s/testbed.json", dir);
    else
        snprintf(path, sizeof path, "%s/build/testbed/mini/testbed.json", src ? src : ".");
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text) {
        floe_test_skip_case("test bed not built (%s; scripts/testbed build mini, or set "
                            "FLOE_TESTBED_DIR)", path);
    }
    char base[1024];
    snprintf(base, sizeof base, "%s", path);
    *strrchr(base, '/') = '\0';
    cJSON *tb = cJSON_ParseWithLength(text, len);
    assert_non_null(tb);
    const cJSON *chunks = cJSON_GetObjectItem(tb, "chunks");
    int cy = cJSON_GetArrayItem(chunks, 1)->valueint, cx = cJSON_GetArrayItem(chunks, 2)->valueint;
    int ny = cJSON_GetObjectItem(tb, "ny")->valueint, nx = cJSON_GetObjectItem(tb, "nx")->valueint;
    int gx = (nx + cx - 1) / cx;
    const char *bucket = cJSON_GetObjectItem(tb, "bucket")->valuestring;
    int level = cJSON_GetObjectItem(tb, "deflate_level")->valueint;

    /* the array metadata make_repo.mjs writes (VirtualiZarr's for an HDF5
     * deflate+shuffle float32 variable) */
    char json[2048];
    snprintf(json, sizeof json,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[62,%d,%d],\"data_type\":\"float32\","
             "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[1,%d,%d]}},"
             "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
             "\"fill_value\":-9999,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
             "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}},"
             "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":%d}}],"
             "\"attributes\":{},\"dimension_names\":[\"time\",\"lat\",\"lon\"]}",
             ny, nx, cy, cx, level);
    zarr_array_meta *m = meta_from(json);
    zarr_decoder *d;
    expect_ok(zarr_decoder_new(&d));
    size_t nb = zarr_chunk_nbytes(m);
    float *got = malloc(nb), *want = malloc(nb);

    const cJSON *files = cJSON_GetObjectItem(tb, "files");
    int checked = 0, land = 0;
    for (int fi = 0; fi < cJSON_GetArraySize(files) && fi < 40; fi += 13) {
        const cJSON *file = cJSON_GetArrayItem(files, fi);
        char fpath[2048];
        snprintf(fpath, sizeof fpath, "%s/s3/%s/%s", base, bucket, cJSON_GetObjectItem(file, "key")->valuestring);
        int fd = open(fpath, O_RDONLY);
        if (fd < 0)
            continue;
        int nc, varid;
        assert_int_equal(nc_open(fpath, NC_NOWRITE, &nc), NC_NOERR);
        const char *vars[] = {"Tair", "Rainf", "PSurf"};
        for (int vi = 0; vi < 3; vi++) {
            assert_int_equal(nc_inq_varid(nc, vars[vi], &varid), NC_NOERR);
            const cJSON *refs = cJSON_GetObjectItem(cJSON_GetObjectItem(file, "chunks"), vars[vi]);
            for (int k = 0; k < cJSON_GetArraySize(refs); k += 7) {
                const cJSON *ref = cJSON_GetArrayItem(refs, k);
                size_t off = (size_t)cJSON_GetArrayItem(ref, 0)->valuedouble;
                size_t n = (size_t)cJSON_GetArrayItem(ref, 1)->valuedouble;
                uint8_t *enc = malloc(n);
                assert_int_equal(pread(fd, enc, n, (off_t)off), (ssize_t)n);
                expect_ok(zarr_chunk_decode(d, m, enc, n, (uint8_t *)got));
                size_t start[3] = {0, (size_t)(k / gx * cy), (size_t)(k % gx * cx)};
                size_t count[3] = {1, (size_t)cy, (size_t)cx};
                assert_int_equal(nc_get_vara_float(nc, varid, start, count, want), NC_NOERR);
                assert_memory_equal(got, want, nb);
                land += n > 1000;
                checked++;
                /* a flipped byte in the deflate stream is caught (the
                 * zlib Adler-32 trailer) or decodes to other values */
                enc[n / 2] ^= 0x40;
                floe_err err = zarr_chunk_decode(d, m, enc, n, (uint8_t *)got);
                if (err)
                    expect_code(err, FLOE_EFORMAT, "numcodecs.zlib");
                free(enc);
            }
        }
        nc_close(nc);
        close(fd);
    }
    print_message("compared %d test bed chunks (%d with land) with nc_get_vara_float\n", checked, land);
    assert_true(checked > 0);
    assert_true(land > 0);
    free(got);
    free(want);
    zarr_decoder_free(&d);
    zarr_meta_free(&m);
    cJSON_Delete(tb);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_rfc3720_vectors),
        cmocka_unit_test(crc32c_matches_bitwise_and_continues),
        cmocka_unit_test(crc32c_codec_trailer),
        cmocka_unit_test(fletcher32_matches_hdf5),
        cmocka_unit_test(hdf5_shuffle_deflate_fletcher_chain),
        cmocka_unit_test(zlib_round_trips),
        cmocka_unit_test(gzip_round_trips),
        cmocka_unit_test(zstd_round_trips),
        cmocka_unit_test(blosc_round_trips),
        cmocka_unit_test(shuffle_element_sizes),
        cmocka_unit_test(big_endian_bytes),
        cmocka_unit_test(transpose_codec),
        cmocka_unit_test(checksum_inside_compression),
        cmocka_unit_test(raw_bytes_and_fill),
        cmocka_unit_test(unknown_codec_is_unsupported),
        cmocka_unit_test(truncations_and_garbage_never_crash),
        cmocka_unit_test(testbed_chunks_match_netcdf),
    };
    return floe_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
