/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/netcdf_chunk_encode and the raw-chunk mode of
 * io/netcdf_writer: chunks that floe shuffles and deflates itself (with
 * libdeflate) and stores with H5Dwrite_chunk must read back through
 * netCDF-C, whose HDF5 filters (zlib's inflate, HDF5's unshuffle) are the
 * independent decoder here, as exactly the values that went in, including
 * edge chunks (padded) and NaN. A second file written the ordinary way
 * (nc_put_vara, HDF5's own filters) must read back the same. */
#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "out/chunk_encode.h"
#include "out/netcdf_writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <math.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A 2 x 7 x 5 variable in 1 x 4 x 3 chunks: the last chunk row and column
 * are partial (7 = 4 + 3, 5 = 3 + 2). */
enum { NT = 2, NY = 7, NX = 5, CY = 4, CX = 3 };
static const float FILL = -9999.0f;

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/floe-test-chunks-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static float value_at(size_t t, size_t y, size_t x)
{
    if ((t + y * 3 + x) % 11 == 0)
        return NAN; /* missing cells travel as NaN, as statistics write them */
    return 250.0f + (float)t * 7.25f + (float)y * 0.5f - (float)x * 1.125f;
}

/* Defines "v" (time, lat, lon) like io/cf_grid_output does. */
static void define(const char *path, nc_writer **w, int *varid)
{
    int d[3];
    expect_ok(nc_writer_create(path, w));
    expect_ok(nc_writer_def_dim(*w, "time", NT, &d[0]));
    expect_ok(nc_writer_def_dim(*w, "lat", NY, &d[1]));
    expect_ok(nc_writer_def_dim(*w, "lon", NX, &d[2]));
    size_t chunks[3] = {1, CY, CX};
    expect_ok(nc_writer_def_var(*w, "v", NC_FLOAT, 3, d, chunks, 1, varid));
    expect_ok(nc_writer_def_fill(*w, *varid, &FILL));
    expect_ok(nc_writer_enddef(*w));
}

static void read_back(const char *path, float *out)
{
    int ncid, varid;
    assert_int_equal(nc_open(path, NC_NOWRITE, &ncid), NC_NOERR);
    assert_int_equal(nc_inq_varid(ncid, "v", &varid), NC_NOERR);
    assert_int_equal(nc_get_var_float(ncid, varid, out), NC_NOERR);
    int shuffle = 0, deflate = 0, level = 0;
    assert_int_equal(nc_inq_var_deflate(ncid, varid, &shuffle, &deflate, &level), NC_NOERR);
    assert_true(shuffle && deflate && level == 1);
    nc_close(ncid);
}

static void raw_chunks_read_back_exactly(void **state)
{
    (void)state;
    static float want[NT * NY * NX], raw[NT * NY * NX], plain[NT * NY * NX];
    for (size_t t = 0; t < NT; t++)
        for (size_t y = 0; y < NY; y++)
            for (size_t x = 0; x < NX; x++)
                want[(t * NY + y) * NX + x] = value_at(t, y, x);

    char raw_path[128], plain_path[128];
    snprintf(raw_path, sizeof raw_path, "%s/raw.nc", tmpdir);
    snprintf(plain_path, sizeof plain_path, "%s/plain.nc", tmpdir);

    /* floe's encoder, stored as is */
    nc_writer *w = NULL;
    int varid = -1;
    define(raw_path, &w, &varid);
    expect_ok(nc_writer_begin_raw_chunks(w));
    size_t zero[3] = {0, 0, 0}, all[3] = {NT, NY, NX};
    floe_err refused = nc_writer_put(w, varid, zero, all, want);
    assert_non_null(refused); /* the netCDF handle is closed in raw mode */
    floe_err_free(&refused);
    floe_buf enc;
    floe_buf_init(&enc, 1 << 20);
    float tile[CY * CX];
    for (size_t t = 0; t < NT; t++)
        for (size_t y0 = 0; y0 < NY; y0 += CY)
            for (size_t x0 = 0; x0 < NX; x0 += CX) {
                size_t h = NY - y0 < CY ? NY - y0 : CY, wd = NX - x0 < CX ? NX - x0 : CX;
                for (size_t y = 0; y < h; y++)
                    for (size_t x = 0; x < wd; x++)
                        tile[y * wd + x] = want[(t * NY + y0 + y) * NX + x0 + x];
                float fill = FILL;
                expect_ok(nc_chunk_encode(tile, sizeof *tile, h, wd, CY, CX, &fill, 1, &enc));
                size_t start[3] = {t, y0, x0};
                expect_ok(nc_writer_put_raw_chunk(w, "v", 3, start, enc.data, enc.len));
            }
    floe_buf_free(&enc);
    expect_ok(nc_writer_commit(&w));

    /* HDF5's own filters */
    define(plain_path, &w, &varid);
    expect_ok(nc_writer_put(w, varid, zero, all, want));
    expect_ok(nc_writer_commit(&w));

    read_back(raw_path, raw);
    read_back(plain_path, plain);
    assert_memory_equal(raw, want, sizeof want);
    assert_memory_equal(plain, want, sizeof want);
}

static void bad_chunks_are_refused(void **state)
{
    (void)state;
    floe_buf enc;
    floe_buf_init(&enc, 1 << 20);
    float v[4] = {1, 2, 3, 4}, fill = FILL;
    floe_err err = nc_chunk_encode(v, 4, 2, 2, 1, 4, &fill, 1, &enc); /* taller than the chunk */
    assert_non_null(err);
    floe_err_free(&err);
    err = nc_chunk_encode(v, 4, 2, 2, 2, 2, &fill, 0, &enc); /* level 0: not deflate */
    assert_non_null(err);
    floe_err_free(&err);
    err = nc_chunk_encode(v, 2, 2, 2, 2, 2, &fill, 1, &enc); /* 2-byte elements: not ours */
    assert_non_null(err);
    floe_err_free(&err);
    floe_buf_free(&enc);

    /* a raw chunk before raw mode, and at a place that is no chunk */
    char path[128];
    snprintf(path, sizeof path, "%s/bad.nc", tmpdir);
    nc_writer *w = NULL;
    int varid = -1;
    define(path, &w, &varid);
    size_t start[3] = {0, 0, 0};
    err = nc_writer_put_raw_chunk(w, "v", 3, start, v, sizeof v);
    assert_non_null(err);
    floe_err_free(&err);
    expect_ok(nc_writer_begin_raw_chunks(w));
    err = nc_writer_put_raw_chunk(w, "nope", 3, start, v, sizeof v);
    assert_non_null(err);
    floe_err_free(&err);
    nc_writer_abort(&w);
    assert_int_equal(access(path, F_OK), -1); /* nothing left behind */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(raw_chunks_read_back_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_chunks_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
