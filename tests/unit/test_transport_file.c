/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the local-file transport: byte ranges against the bytes
 * the test wrote with stdio, short reads, missing files, the mtime and
 * ETag conditions (the ETag computed here from stat(2) as object_store
 * does), names with spaces, size caps, exists(). */
#include "io/transport/transport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { FILE_SIZE = 10000 };
static const int64_t FIXED_MTIME = 1704164645; /* 2024-01-02 03:04:05 UTC */

typedef struct fixture {
    char dir[256];
    char path[512];   /* dir/data.bin */
    char spaced[512]; /* dir/with space/a b&c.bin */
    uint8_t bytes[FILE_SIZE];
    floe_transport *t;
} fixture;

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void set_mtime(const char *path, int64_t mtime)
{
    struct timespec ts[2] = {{.tv_sec = (time_t)mtime}, {.tv_sec = (time_t)mtime}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "%s/floe-test-transport-file-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    uint32_t x = 12345;
    for (size_t i = 0; i < FILE_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        f->bytes[i] = (uint8_t)(x >> 16);
    }
    snprintf(f->path, sizeof f->path, "%s/data.bin", f->dir);
    write_file(f->path, f->bytes, FILE_SIZE);
    set_mtime(f->path, FIXED_MTIME);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/with space", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(f->spaced, sizeof f->spaced, "%s/a b&c.bin", sub);
    write_file(f->spaced, f->bytes, 100);
    assert_null(floe_transport_new(NULL, &f->t));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    floe_transport_free(&f->t);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static void ranges_match_the_file(void **state)
{
    fixture *f = *state;
    const uint64_t cases[][2] = {{0, 1}, {0, FILE_SIZE}, {1, 99}, {4095, 2}, {9999, 1},
                                 {1234, 5678}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        assert_null(floe_transport_get(f->t, f->path, cases[i][0], cases[i][1], NULL, &b));
        assert_int_equal(b.len, cases[i][1]);
        assert_memory_equal(b.data, f->bytes + cases[i][0], cases[i][1]);
        floe_buf_free(&b);
    }
    /* file:// URL, appended after what the buffer holds. */
    char url[600];
    snprintf(url, sizeof url, "file://%s", f->path);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    assert_null(floe_buf_append(&b, "xy", 2));
    assert_null(floe_transport_get(f->t, url, 10, 20, NULL, &b));
    assert_int_equal(b.len, 22);
    assert_memory_equal(b.data, "xy", 2);
    assert_memory_equal(b.data + 2, f->bytes + 10, 20);
    floe_buf_free(&b);
}

static void whole_and_to_the_end(void **state)
{
    fixture *f = *state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    assert_null(floe_transport_get(f->t, f->path, 0, 0, NULL, &b));
    assert_int_equal(b.len, FILE_SIZE);
    assert_memory_equal(b.data, f->bytes, FILE_SIZE);
    floe_buf_reset(&b);
    assert_null(floe_transport_get(f->t, f->path, 9000, 0, NULL, &b));
    assert_int_equal(b.len, 1000);
    assert_memory_equal(b.data, f->bytes + 9000, 1000);
    floe_buf_reset(&b);
    /* From the very end: nothing, not an error. */
    assert_null(floe_transport_get(f->t, f->path, FILE_SIZE, 0, NULL, &b));
    assert_int_equal(b.len, 0);
    floe_buf_free(&b);
}

static void short_reads(void **state)
{
    fixture *f = *state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    assert_null(floe_buf_append(&b, "keep", 4));
    expect_err(floe_transport_get(f->t, f->path, 9990, 20, NULL, &b), FLOE_EFORMAT,
               "short read", "data.bin bytes=9990-10009");
    expect_err(floe_transport_get(f->t, f->path, FILE_SIZE, 1, NULL, &b), FLOE_EFORMAT,
               "short read", "bytes=10000-10000");
    expect_err(floe_transport_get(f->t, f->path, 20000, 0, NULL, &b), FLOE_EFORMAT, "short read",
               "bytes=20000-");
    expect_err(floe_transport_get(f->t, f->path, UINT64_MAX, 2, NULL, &b), FLOE_EINVAL,
               "overflows", NULL);
    assert_int_equal(b.len, 4); /* failed reads leave the buffer as it was */
    assert_string_equal((char *)b.data, "keep");
    floe_buf_free(&b);
}

static void missing_and_exists(void **state)
{
    fixture *f = *state;
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.bin", f->dir);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_err(floe_transport_get(f->t, missing, 0, 10, NULL, &b), FLOE_ENOTFOUND, missing,
               "No such file");
    char under_file[600];
    snprintf(under_file, sizeof under_file, "%s/x", f->path);
    expect_err(floe_transport_get(f->t, under_file, 0, 10, NULL, &b), FLOE_ENOTFOUND, NULL,
               NULL);
    expect_err(floe_transport_get(f->t, f->dir, 0, 10, NULL, &b), FLOE_EIO,
               "not a regular file", NULL);
    floe_buf_free(&b);

    int e = -1;
    assert_null(floe_transport_exists(f->t, f->path, &e));
    assert_int_equal(e, 1);
    assert_null(floe_transport_exists(f->t, missing, &e));
    assert_int_equal(e, 0);
    assert_null(floe_transport_exists(f->t, f->dir, &e));
    assert_int_equal(e, 0); /* a directory is not an object */
    char url[600];
    snprintf(url, sizeof url, "file://localhost%s", f->spaced);
    assert_null(floe_transport_exists(f->t, url, &e));
    assert_int_equal(e, 1);
    expect_err(floe_transport_exists(f->t, "gs://b/k", &e), FLOE_EUNSUPPORTED, "gs://b/k", NULL);
}

static void mtime_condition(void **state)
{
    fixture *f = *state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    floe_condition same = {.unmodified_since = FIXED_MTIME};
    assert_null(floe_transport_get(f->t, f->path, 0, 10, &same, &b));
    floe_condition later = {.unmodified_since = FIXED_MTIME + 86400};
    assert_null(floe_transport_get(f->t, f->path, 0, 10, &later, &b));
    floe_condition older = {.unmodified_since = FIXED_MTIME - 1};
    expect_err(floe_transport_get(f->t, f->path, 0, 10, &older, &b), FLOE_ECHECKSUM,
               "changed since the snapshot", "data.bin bytes=0-9");
    expect_err(floe_transport_get(f->t, f->path, 0, 10, &older, &b), FLOE_ECHECKSUM,
               "Tue, 02 Jan 2024 03:04:04 GMT", "Tue, 02 Jan 2024 03:04:05 GMT");
    assert_int_equal(b.len, 20);
    floe_buf_free(&b);
}

static void etag_condition(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    /* object_store's local ETag: inode-mtime_us-size in hex. */
    char etag[80], quoted[90];
    snprintf(etag, sizeof etag, "%" PRIx64 "-%" PRIx64 "-%" PRIx64, (uint64_t)st.st_ino,
             (uint64_t)FIXED_MTIME * 1000000u, (uint64_t)FILE_SIZE);
    snprintf(quoted, sizeof quoted, "\"%s\"", etag);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    floe_condition c = {.etag = etag};
    assert_null(floe_transport_get(f->t, f->path, 0, 10, &c, &b));
    c.etag = quoted;
    assert_null(floe_transport_get(f->t, f->path, 0, 10, &c, &b));
    c.etag = "\"1-2-3\"";
    expect_err(floe_transport_get(f->t, f->path, 0, 10, &c, &b), FLOE_ECHECKSUM,
               "changed since the snapshot", "If-Match \"1-2-3\"");
    floe_buf_free(&b);
}

static void names_with_spaces(void **state)
{
    fixture *f = *state;
    char url[600];
    snprintf(url, sizeof url, "file://%s", f->spaced);
    const char *names[] = {f->spaced, url};
    for (int i = 0; i < 2; i++) {
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        assert_null(floe_transport_get(f->t, names[i], 50, 50, NULL, &b));
        assert_memory_equal(b.data, f->bytes + 50, 50);
        floe_buf_free(&b);
    }
    /* Relative paths are relative to the working directory. */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    floe_err err = floe_transport_get(f->t, "with space/a b&c.bin", 0, 100, NULL, &b);
    assert_int_equal(chdir(cwd), 0);
    assert_null(err);
    assert_memory_equal(b.data, f->bytes, 100);
    floe_buf_free(&b);
}

static void size_caps(void **state)
{
    fixture *f = *state;
    floe_buf small;
    floe_buf_init(&small, 100);
    expect_err(floe_transport_get(f->t, f->path, 0, 101, NULL, &small), FLOE_ENOMEM,
               "limit of 100 bytes", "data.bin");
    assert_int_equal(small.len, 0);
    assert_null(floe_transport_get(f->t, f->path, 0, 100, NULL, &small));
    floe_buf_free(&small);

    floe_transport *t;
    floe_transport_opts o = {.max_object_bytes = 5000};
    assert_null(floe_transport_new(&o, &t));
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_err(floe_transport_get(t, f->path, 0, 0, NULL, &b), FLOE_ENOMEM, "cap of 5000",
               "data.bin");
    assert_null(floe_transport_get(t, f->path, 5000, 0, NULL, &b)); /* 5000 left: fits */
    assert_null(floe_transport_get(t, f->path, 0, 6000, NULL, &b)); /* ranges are not capped */
    assert_int_equal(b.len, 11000);
    floe_transport_counts s;
    floe_transport_stats(t, &s);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.bytes, 11000);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.new_connections, 0);
    floe_buf_free(&b);
    floe_transport_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranges_match_the_file), cmocka_unit_test(whole_and_to_the_end),
        cmocka_unit_test(short_reads),           cmocka_unit_test(missing_and_exists),
        cmocka_unit_test(mtime_condition),       cmocka_unit_test(etag_condition),
        cmocka_unit_test(names_with_spaces),     cmocka_unit_test(size_caps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
