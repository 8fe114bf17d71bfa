/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the whole-object cache (io/transport/transport.h): recording whole
 * GETs of local files (and not range reads), serializing, preloading into
 * another transport that then answers without touching the files (they
 * are deleted first), "does not exist" entries, the cap, and corrupt
 * blobs. The blob layout is checked against bytes built here by hand from
 * the format documented in transport.h. */
#include "io/fetch/prefetch.h"
#include "io/transport/transport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NFILES = 3, FILE_SIZE = 5000 };

typedef struct fixture {
    char dir[256];
    char url[NFILES][600]; /* file:// URLs */
    char missing[600];
    uint8_t bytes[NFILES][FILE_SIZE];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/floe-test-cache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    for (int i = 0; i < NFILES; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/obj%d", f->dir, i);
        snprintf(f->url[i], sizeof f->url[i], "file://%s", path);
        for (int k = 0; k < FILE_SIZE; k++)
            f->bytes[i][k] = (uint8_t)(k * 7 + i * 13);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(f->bytes[i], 1, FILE_SIZE, fp), FILE_SIZE);
        assert_int_equal(fclose(fp), 0);
    }
    snprintf(f->missing, sizeof f->missing, "file://%s/none", f->dir);
    *state = f;
    return 0;
}

static void remove_files(fixture *f)
{
    for (int i = 0; i < NFILES; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/obj%d", f->dir, i);
        unlink(path);
    }
}

static int teardown(void **state)
{
    fixture *f = *state;
    remove_files(f);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void get_ok(floe_transport *t, const char *url, uint64_t off, uint64_t len, floe_buf *b)
{
    floe_buf_init(b, 1 << 20);
    floe_err err = floe_transport_get(t, url, off, len, NULL, b);
    if (err) {
        char line[512];
        fail_msg("%s", floe_err_line(err, line, sizeof line));
    }
}

/* Record the whole files (and a range read and a missing one), serialize. */
static void record(fixture *f, floe_buf *blob)
{
    floe_transport *t;
    floe_object_cache *c;
    assert_null(floe_transport_new(NULL, &t));
    assert_null(floe_object_cache_new(0, &c));
    floe_object_cache_record(c, 1);
    floe_transport_set_cache(t, c);
    for (int i = 0; i < NFILES; i++) {
        floe_buf b;
        get_ok(t, f->url[i], 0, 0, &b);
        assert_int_equal(b.len, FILE_SIZE);
        floe_buf_free(&b);
    }
    floe_buf r;
    get_ok(t, f->url[0], 10, 100, &r); /* a range: not recorded */
    floe_buf_free(&r);
    floe_buf m;
    floe_buf_init(&m, 100);
    floe_err err = floe_transport_get(t, f->missing, 0, 0, NULL, &m);
    assert_int_equal(floe_err_code(err), FLOE_ENOTFOUND);
    floe_err_free(&err);
    assert_int_equal(floe_object_cache_count(c), NFILES + 1);
    /* While recording, entries stay after they are served. */
    floe_buf again;
    get_ok(t, f->url[1], 0, 0, &again);
    assert_memory_equal(again.data, f->bytes[1], FILE_SIZE);
    floe_buf_free(&again);
    assert_int_equal(floe_object_cache_count(c), NFILES + 1);
    assert_null(floe_object_cache_serialize(c, blob));
    floe_transport_free(&t);
    floe_object_cache_free(&c);
}

static void preload_serves_without_requests(void **state)
{
    fixture *f = *state;
    floe_buf blob;
    record(f, &blob);
    remove_files(f); /* whatever is served now comes from the blob */

    floe_transport *t;
    floe_object_cache *c;
    assert_null(floe_transport_new(NULL, &t));
    assert_null(floe_object_cache_new(0, &c));
    assert_null(floe_object_cache_preload(c, blob.data, blob.len));
    floe_transport_set_cache(t, c);
    int exists = -1;
    assert_null(floe_transport_exists(t, f->url[2], &exists));
    assert_int_equal(exists, 1);
    assert_null(floe_transport_exists(t, f->missing, &exists));
    assert_int_equal(exists, 0);
    for (int i = 0; i < NFILES; i++) {
        floe_buf b;
        get_ok(t, f->url[i], 0, 0, &b);
        assert_int_equal(b.len, FILE_SIZE);
        assert_memory_equal(b.data, f->bytes[i], FILE_SIZE);
        floe_buf_free(&b);
    }
    floe_buf m;
    floe_buf_init(&m, 100);
    floe_err err = floe_transport_get(t, f->missing, 0, 0, NULL, &m);
    assert_int_equal(floe_err_code(err), FLOE_ENOTFOUND);
    assert_non_null(strstr(floe_err_message(err), "/none"));
    floe_err_free(&err);
    floe_transport_counts s;
    floe_transport_stats(t, &s);
    assert_int_equal(s.requests, 0);
    assert_int_equal(s.cache_hits, NFILES + 3);
    /* Not recording: served objects are dropped, the absent one stays. */
    assert_int_equal(floe_object_cache_count(c), 1);
    /* A range read is never served from the cache: the file is gone. */
    floe_buf r;
    floe_buf_init(&r, 100);
    err = floe_transport_get(t, f->url[0], 10, 100, NULL, &r);
    assert_int_equal(floe_err_code(err), FLOE_ENOTFOUND);
    floe_err_free(&err);
    floe_transport_free(&t);
    floe_object_cache_free(&c);
    floe_buf_free(&blob);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The documented layout: "FLOEOBJ1", u64 count; per entry u8 state, u32
 * URL length, u64 byte count, URL, bytes; sorted by URL. */
static size_t hand_blob(uint8_t *p)
{
    size_t pos = 0;
    memcpy(p, "FLOEOBJ1", 8);
    put_le(p + 8, 2, 8);
    pos = 16;
    p[pos] = FLOE_CACHE_BYTES;
    put_le(p + pos + 1, 8, 4);
    put_le(p + pos + 5, 3, 8);
    memcpy(p + pos + 13, "s3://b/a" "xyz", 11);
    pos += 13 + 11;
    p[pos] = FLOE_CACHE_ABSENT;
    put_le(p + pos + 1, 8, 4);
    put_le(p + pos + 5, 0, 8);
    memcpy(p + pos + 13, "s3://b/b", 8);
    pos += 13 + 8;
    return pos;
}

static void blob_layout(void **state)
{
    (void)state;
    floe_object_cache *c;
    assert_null(floe_object_cache_new(0, &c));
    /* Inserted out of order: the blob is sorted by URL. */
    assert_null(floe_object_cache_put_absent(c, "s3://b/b"));
    assert_null(floe_object_cache_put(c, "s3://b/a", "xyz", 3));
    floe_buf blob;
    assert_null(floe_object_cache_serialize(c, &blob));
    uint8_t want[128];
    size_t n = hand_blob(want);
    assert_int_equal(blob.len, n);
    assert_memory_equal(blob.data, want, n);
    floe_buf_free(&blob);
    floe_object_cache_free(&c);

    assert_null(floe_object_cache_new(0, &c));
    assert_null(floe_object_cache_preload(c, want, n));
    const uint8_t *d;
    size_t len;
    assert_int_equal(floe_object_cache_find(c, "s3://b/a", &d, &len), FLOE_CACHE_BYTES);
    assert_int_equal(len, 3);
    assert_memory_equal(d, "xyz", 3);
    assert_int_equal(floe_object_cache_find(c, "s3://b/b", NULL, NULL), FLOE_CACHE_ABSENT);
    assert_int_equal(floe_object_cache_find(c, "s3://b/c", NULL, NULL), FLOE_CACHE_MISS);
    /* An empty cache makes a valid blob too. */
    floe_object_cache_clear(c);
    assert_null(floe_object_cache_serialize(c, &blob));
    assert_int_equal(blob.len, 16);
    assert_null(floe_object_cache_preload(c, blob.data, blob.len));
    assert_int_equal(floe_object_cache_count(c), 0);
    floe_buf_free(&blob);
    floe_object_cache_free(&c);
}

/* floe_object_cache_forget drops one entry (its bytes no longer counted,
 * not in the blob), leaves the others, and is a no-op for an unknown URL. */
static void forget_one(void **state)
{
    (void)state;
    floe_object_cache *c;
    assert_null(floe_object_cache_new(0, &c));
    floe_object_cache_record(c, 1);
    assert_null(floe_object_cache_put(c, "s3://b/a", "xyz", 3));
    assert_null(floe_object_cache_put(c, "s3://b/data-manifest", "12345", 5));
    floe_object_cache_forget(c, "s3://b/data-manifest");
    floe_object_cache_forget(c, "s3://b/never-seen");
    assert_int_equal(floe_object_cache_count(c), 1);
    assert_int_equal(floe_object_cache_bytes(c), strlen("s3://b/a") + 3);
    assert_int_equal(floe_object_cache_find(c, "s3://b/data-manifest", NULL, NULL),
                     FLOE_CACHE_MISS);
    assert_int_equal(floe_object_cache_find(c, "s3://b/a", NULL, NULL), FLOE_CACHE_BYTES);
    assert_true(floe_object_cache_recording(c));
    floe_buf blob;
    assert_null(floe_object_cache_serialize(c, &blob));
    static const char gone[] = "data-manifest";
    for (size_t i = 0; i + sizeof gone - 1 <= blob.len; i++)
        assert_memory_not_equal(blob.data + i, gone, sizeof gone - 1);
    floe_buf_free(&blob);
    floe_object_cache_free(&c);
}

static void expect_corrupt(const uint8_t *p, size_t n, floe_code code, const char *needle)
{
    floe_object_cache *c;
    assert_null(floe_object_cache_new(0, &c));
    assert_null(floe_object_cache_put(c, "s3://keep/me", "k", 1));
    floe_err err = floe_object_cache_preload(c, p, n);
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), code);
    char line[512];
    floe_err_line(err, line, sizeof line);
    if (needle && !strstr(line, needle))
        fail_msg("\"%s\" does not say \"%s\"", line, needle);
    floe_err_free(&err);
    /* Left as it was. */
    assert_int_equal(floe_object_cache_count(c), 1);
    assert_int_equal(floe_object_cache_find(c, "s3://keep/me", NULL, NULL), FLOE_CACHE_BYTES);
    floe_object_cache_free(&c);
}

static void corrupt_blobs(void **state)
{
    (void)state;
    uint8_t good[128], bad[160];
    size_t n = hand_blob(good);
    for (size_t k = 0; k < n; k++)
        expect_corrupt(good, k, FLOE_EFORMAT, "object cache blob");
    memcpy(bad, good, n);
    bad[0] = 'X';
    expect_corrupt(bad, n, FLOE_EFORMAT, "magic");
    memcpy(bad, good, n);
    put_le(bad + 8, 3, 8); /* one entry more than there is */
    expect_corrupt(bad, n, FLOE_EFORMAT, "truncated");
    memcpy(bad, good, n);
    put_le(bad + 8, UINT64_MAX, 8);
    expect_corrupt(bad, n, FLOE_EFORMAT, NULL);
    memcpy(bad, good, n);
    put_le(bad + 16 + 5, UINT64_MAX - 4, 8); /* byte count past the end */
    expect_corrupt(bad, n, FLOE_EFORMAT, "past the end");
    memcpy(bad, good, n);
    bad[16] = 9; /* unknown state */
    expect_corrupt(bad, n, FLOE_EFORMAT, "state");
    memcpy(bad, good, n);
    bad[16 + 13 + 2] = '\0'; /* NUL inside a URL */
    expect_corrupt(bad, n, FLOE_EFORMAT, "NUL");
    memcpy(bad, good, n);
    bad[n] = 0;
    expect_corrupt(bad, n + 1, FLOE_EFORMAT, "after its 2 entries");
    memcpy(bad, good, n);
    memcpy(bad + 16 + 13 + 11 + 13, "s3://b/a", 8); /* the same URL twice */
    expect_corrupt(bad, n, FLOE_EFORMAT, "listed twice");
    memcpy(bad, good, n);
    put_le(bad + 16 + 24 + 5, 1, 8); /* an absent entry with bytes */
    bad[n] = 'z';
    expect_corrupt(bad, n + 1, FLOE_EFORMAT, "no object");
}

static void cap_is_enforced(void **state)
{
    fixture *f = *state;
    floe_object_cache *c;
    assert_null(floe_object_cache_new(FILE_SIZE + 100, &c));
    floe_object_cache_record(c, 1);
    floe_transport *t;
    assert_null(floe_transport_new(NULL, &t));
    floe_transport_set_cache(t, c);
    floe_buf b;
    get_ok(t, f->url[0], 0, 0, &b);
    floe_buf_free(&b);
    floe_buf_init(&b, 1 << 20);
    assert_null(floe_buf_append(&b, "ab", 2));
    floe_err err = floe_transport_get(t, f->url[1], 0, 0, NULL, &b);
    assert_int_equal(floe_err_code(err), FLOE_ENOMEM);
    char line[512];
    floe_err_line(err, line, sizeof line);
    assert_non_null(strstr(line, "cap of 5100 bytes"));
    assert_non_null(strstr(line, "obj1"));
    floe_err_free(&err);
    assert_int_equal(b.len, 2); /* out is left as it was */
    floe_buf_free(&b);
    assert_int_equal(floe_object_cache_count(c), 1);

    /* A blob bigger than a cache's cap is refused whole. */
    floe_buf blob;
    assert_null(floe_object_cache_serialize(c, &blob));
    floe_object_cache *small;
    assert_null(floe_object_cache_new(100, &small));
    err = floe_object_cache_preload(small, blob.data, blob.len);
    assert_int_equal(floe_err_code(err), FLOE_ENOMEM);
    assert_non_null(strstr(floe_err_line(err, line, sizeof line), "cap of 100 bytes"));
    floe_err_free(&err);
    assert_int_equal(floe_object_cache_count(small), 0);
    floe_object_cache_free(&small);
    floe_buf_free(&blob);
    floe_transport_free(&t);
    floe_object_cache_free(&c);
}

static void prefetch_without_cache_or_for_files(void **state)
{
    fixture *f = *state;
    floe_transport *t;
    assert_null(floe_transport_new(NULL, &t));
    const char *urls[] = {f->url[0], f->missing};
    assert_null(floe_prefetch(t, urls, 2)); /* no cache: nothing */
    floe_object_cache *c;
    assert_null(floe_object_cache_new(0, &c));
    floe_transport_set_cache(t, c);
    assert_null(floe_prefetch(t, urls, 2)); /* local files: skipped */
    assert_int_equal(floe_object_cache_count(c), 0);
    floe_transport_counts s;
    floe_transport_stats(t, &s);
    assert_int_equal(s.requests, 0);
    floe_transport_free(&t);
    floe_object_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(preload_serves_without_requests, setup, teardown),
        cmocka_unit_test(blob_layout),
        cmocka_unit_test(forget_one),
        cmocka_unit_test(corrupt_blobs),
        cmocka_unit_test_setup_teardown(cap_is_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(prefetch_without_cache_or_for_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
