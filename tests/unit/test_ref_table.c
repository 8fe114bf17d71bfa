/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_ref_table.c - unit tests for the per-rank ref table
 * (dataset/ref_table.h): refs of every kind collected, written, parsed
 * back and found; each chunk once; a coordinate it lacks and an array it
 * does not answer for told apart; every truncation and a set of corrupted
 * bytes refused with FLOE_EFORMAT (the blob crosses a process boundary). */
#include "dataset/ref_table.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t INLINE_BYTES[] = {1, 2, 3, 4, 5};

/* A table of array 2 (3-D) and array 0 (1-D, covered, no refs), with a
 * virtual ref with and without an ETag, a native, an inline and a missing
 * one, added out of order and one of them twice. */
static void make_blob(floe_buf *out, uint64_t *nrefs)
{
    floe_ref_collector *c = NULL;
    assert_null(floe_ref_collector_new(&c));
    ic_chunk_ref v1 = {.kind = IC_CHUNK_VIRTUAL, .location = "s3://b/f1.nc", .offset = 100,
                       .length = 50, .etag = "\"abc\""};
    ic_chunk_ref v2 = {.kind = IC_CHUNK_VIRTUAL, .location = "s3://b/f2.nc", .offset = 7,
                       .length = 9, .last_modified = 1700000000};
    ic_chunk_ref nat = {.kind = IC_CHUNK_NATIVE, .offset = 0, .length = 33};
    strcpy(nat.chunk_id, "ABCDEFGHIJKLMNOPQRST");
    ic_chunk_ref inl = {.kind = IC_CHUNK_INLINE, .inline_data = INLINE_BYTES,
                        .inline_len = sizeof INLINE_BYTES};
    ic_chunk_ref miss = {.kind = IC_CHUNK_MISSING};
    assert_null(floe_ref_collector_cover(c, 2, 3, (uint64_t[]){10, 8, 3}));
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){5, 0, 1}, &v2));
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){1, 0, 1}, &v1));
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){1, 0, 2}, &nat));
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){1, 0, 1}, &v1)); /* again */
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){3, 7, 0}, &inl));
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){4, 0, 0}, &miss));
    assert_null(floe_ref_collector_add(c, 2, 3, (uint64_t[]){6, 0, 1}, &v1)); /* same location */
    assert_null(floe_ref_collector_cover(c, 0, 1, (uint64_t[]){4}));
    floe_buf_init(out, SIZE_MAX);
    assert_null(floe_ref_collector_blob(c, out));
    floe_ref_collector_free(&c);
    assert_null(c);
    *nrefs = 6;
}

static void round_trip(void **state)
{
    (void)state;
    floe_buf b;
    uint64_t n;
    make_blob(&b, &n);
    floe_ref_table *t = NULL;
    assert_null(floe_ref_table_parse(b.data, b.len, &t));
    floe_buf_free(&b); /* the table holds its own copy */
    assert_int_equal(floe_ref_table_count(t), n);
    assert_int_equal(floe_ref_table_array_count(t), 2);
    uint32_t k, nd;
    floe_ref_table_array_at(t, 0, &k, &nd);
    assert_int_equal(k, 0);
    assert_int_equal(nd, 1);
    assert_true(floe_ref_table_covers(t, 0));
    assert_true(floe_ref_table_covers(t, 2));
    assert_false(floe_ref_table_covers(t, 1));

    ic_chunk_ref r;
    assert_true(floe_ref_table_find(t, 2, 3, (uint64_t[]){1, 0, 1}, &r));
    assert_int_equal(r.kind, IC_CHUNK_VIRTUAL);
    assert_string_equal(r.location, "s3://b/f1.nc");
    assert_string_equal(r.etag, "\"abc\"");
    assert_int_equal(r.offset, 100);
    assert_int_equal(r.length, 50);
    assert_int_equal(r.last_modified, 0);
    assert_true(floe_ref_table_find(t, 2, 3, (uint64_t[]){5, 0, 1}, &r));
    assert_string_equal(r.location, "s3://b/f2.nc");
    assert_null(r.etag);
    assert_int_equal(r.last_modified, 1700000000);
    assert_true(floe_ref_table_find(t, 2, 3, (uint64_t[]){6, 0, 1}, &r));
    assert_string_equal(r.location, "s3://b/f1.nc");
    assert_true(floe_ref_table_find(t, 2, 3, (uint64_t[]){1, 0, 2}, &r));
    assert_int_equal(r.kind, IC_CHUNK_NATIVE);
    assert_string_equal(r.chunk_id, "ABCDEFGHIJKLMNOPQRST");
    assert_int_equal(r.length, 33);
    assert_true(floe_ref_table_find(t, 2, 3, (uint64_t[]){3, 7, 0}, &r));
    assert_int_equal(r.kind, IC_CHUNK_INLINE);
    assert_int_equal(r.inline_len, sizeof INLINE_BYTES);
    assert_memory_equal(r.inline_data, INLINE_BYTES, sizeof INLINE_BYTES);
    assert_true(floe_ref_table_find(t, 2, 3, (uint64_t[]){4, 0, 0}, &r));
    assert_int_equal(r.kind, IC_CHUNK_MISSING);
    /* not in it: a coordinate it lacks, an array it answers for without
     * refs, an array it does not answer for, a wrong rank */
    assert_false(floe_ref_table_find(t, 2, 3, (uint64_t[]){1, 0, 0}, &r));
    assert_false(floe_ref_table_find(t, 2, 3, (uint64_t[]){7, 0, 0}, &r));
    assert_false(floe_ref_table_find(t, 0, 1, (uint64_t[]){0}, &r));
    assert_false(floe_ref_table_find(t, 1, 3, (uint64_t[]){1, 0, 1}, &r));
    assert_false(floe_ref_table_find(t, 2, 2, (uint64_t[]){1, 0}, &r));
    floe_ref_table_free(&t);
    assert_null(t);
}

static void empty_table(void **state)
{
    (void)state;
    floe_ref_collector *c = NULL;
    assert_null(floe_ref_collector_new(&c));
    floe_buf b;
    floe_buf_init(&b, SIZE_MAX);
    assert_null(floe_ref_collector_blob(c, &b));
    floe_ref_collector_free(&c);
    floe_ref_table *t = NULL;
    assert_null(floe_ref_table_parse(b.data, b.len, &t));
    assert_int_equal(floe_ref_table_count(t), 0);
    assert_false(floe_ref_table_covers(t, 0));
    floe_ref_table_free(&t);
    floe_buf_free(&b);
}

/* The blob of one inline ref at chunk {2, 1, 0} of array 4, added `times`
 * times. */
static void inline_blob(int times, floe_buf *out)
{
    floe_ref_collector *c = NULL;
    assert_null(floe_ref_collector_new(&c));
    ic_chunk_ref inl = {.kind = IC_CHUNK_INLINE, .inline_data = INLINE_BYTES,
                        .inline_len = sizeof INLINE_BYTES};
    assert_null(floe_ref_collector_cover(c, 4, 3, (uint64_t[]){3, 2, 1}));
    for (int i = 0; i < times; i++)
        assert_null(floe_ref_collector_add(c, 4, 3, (uint64_t[]){2, 1, 0}, &inl));
    floe_buf_init(out, SIZE_MAX);
    assert_null(floe_ref_collector_blob(c, out));
    floe_ref_collector_free(&c);
}

/* The same inline chunk added again (a read-ahead chunk read later) is
 * one entry and its bytes are held and written once: the blob is the one
 * of a single add. */
static void duplicate_inline_written_once(void **state)
{
    (void)state;
    floe_buf once, thrice;
    inline_blob(1, &once);
    inline_blob(3, &thrice);
    assert_int_equal(thrice.len, once.len);
    assert_memory_equal(thrice.data, once.data, once.len);
    floe_buf_free(&once);
    floe_buf_free(&thrice);
}

/* Every chunk of a 3-D array's grid (7 x 5 x 9), added in a scrambled
 * order, some twice, written and parsed back: each found with its own
 * ref, nothing else. */
static void many_entries_round_trip(void **state)
{
    (void)state;
    enum { NT = 7, NY = 5, NX = 9, N = NT * NY * NX };
    floe_ref_collector *c = NULL;
    assert_null(floe_ref_collector_new(&c));
    assert_null(floe_ref_collector_cover(c, 1, 3, (uint64_t[]){NT, NY, NX}));
    for (int k = 0; k < 2 * N; k++) {
        int i = (k * 97) % N; /* 97 is prime to N: every chunk, twice */
        uint64_t co[3] = {(uint64_t)(i / (NY * NX)), (uint64_t)(i / NX % NY), (uint64_t)(i % NX)};
        ic_chunk_ref v = {.kind = IC_CHUNK_VIRTUAL, .location = i % 2 ? "s3://b/odd.nc"
                                                                      : "s3://b/even.nc",
                          .offset = 1000u * (uint64_t)i, .length = (uint64_t)i + 1,
                          .last_modified = i};
        assert_null(floe_ref_collector_add(c, 1, 3, co, &v));
    }
    floe_buf b;
    floe_buf_init(&b, SIZE_MAX);
    assert_null(floe_ref_collector_blob(c, &b));
    floe_ref_collector_free(&c);
    floe_ref_table *t = NULL;
    assert_null(floe_ref_table_parse(b.data, b.len, &t));
    floe_buf_free(&b);
    assert_int_equal(floe_ref_table_count(t), N);
    for (int i = 0; i < N; i++) {
        uint64_t co[3] = {(uint64_t)(i / (NY * NX)), (uint64_t)(i / NX % NY), (uint64_t)(i % NX)};
        ic_chunk_ref r;
        assert_true(floe_ref_table_find(t, 1, 3, co, &r));
        assert_int_equal(r.kind, IC_CHUNK_VIRTUAL);
        assert_string_equal(r.location, i % 2 ? "s3://b/odd.nc" : "s3://b/even.nc");
        assert_int_equal(r.offset, 1000u * (uint64_t)i);
        assert_int_equal(r.length, (uint64_t)i + 1);
        assert_int_equal(r.last_modified, i);
    }
    assert_false(floe_ref_table_find(t, 1, 3, (uint64_t[]){NT, 0, 0}, &(ic_chunk_ref){0}));
    assert_false(floe_ref_table_find(t, 1, 3, (uint64_t[]){0, NY, 0}, &(ic_chunk_ref){0}));
    floe_ref_table_free(&t);
}

/* A ref outside what was covered is refused, not written wrong: an array
 * not covered, a coordinate past its grid, a grid whose chunks cannot be
 * counted in 64 bits. */
static void uncovered_is_refused(void **state)
{
    (void)state;
    floe_ref_collector *c = NULL;
    assert_null(floe_ref_collector_new(&c));
    ic_chunk_ref miss = {.kind = IC_CHUNK_MISSING};
    floe_err err = floe_ref_collector_add(c, 3, 2, (uint64_t[]){0, 0}, &miss);
    assert_non_null(err);
    floe_err_free(&err);
    assert_null(floe_ref_collector_cover(c, 3, 2, (uint64_t[]){2, 5}));
    assert_null(floe_ref_collector_add(c, 3, 2, (uint64_t[]){1, 4}, &miss));
    assert_non_null(err = floe_ref_collector_add(c, 3, 2, (uint64_t[]){2, 0}, &miss));
    floe_err_free(&err);
    assert_non_null(err = floe_ref_collector_add(c, 3, 2, (uint64_t[]){0, 5}, &miss));
    floe_err_free(&err);
    assert_non_null(err = floe_ref_collector_cover(c, 5, 2, (uint64_t[]){1ull << 32, 1ull << 32}));
    floe_err_free(&err);
    floe_ref_collector_free(&c);
}

static void refused(const uint8_t *p, size_t n)
{
    floe_ref_table *t = NULL;
    floe_err err = floe_ref_table_parse(p, n, &t);
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
    assert_non_null(strstr(floe_err_message(err), "ref table"));
    assert_null(t);
    floe_err_free(&err);
}

static void truncated_is_refused(void **state)
{
    (void)state;
    floe_buf b;
    uint64_t n;
    make_blob(&b, &n);
    for (size_t len = 0; len < b.len; len++)
        refused(b.data, len);
    /* and a byte too many */
    uint8_t *more = malloc(b.len + 1);
    memcpy(more, b.data, b.len);
    more[b.len] = 0;
    refused(more, b.len + 1);
    free(more);
    floe_buf_free(&b);
}

/* Header: magic 0..7, narrays 8..11, nstrings 12..15, nentries 16..23,
 * string bytes 24..31, inline bytes 32..39, arrays from 40. */
static void corrupt_is_refused(void **state)
{
    (void)state;
    floe_buf b;
    uint64_t n;
    make_blob(&b, &n);
    uint8_t *p = malloc(b.len);
    struct { size_t at; uint8_t value; } bad[] = {
        {0, 'X'},         /* magic */
        {8, 0xff},        /* narrays */
        {12, 0xff},       /* nstrings */
        {16, 0xff},       /* nentries: more than the bytes hold */
        {23, 0x01},       /* nentries: 2^56 */
        {24, 0xff},       /* string bytes */
        {32, 0xff},       /* inline bytes */
        {44, 0x09},       /* array 0's ndim past FLOE_MAX_DIMS */
        {40, 0x03},       /* arrays out of order (0 -> 3, then 2) */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memcpy(p, b.data, b.len);
        p[bad[i].at] = bad[i].value;
        refused(p, b.len);
    }
    /* every byte of the entries flipped: parsed or refused, never past
     * the buffer (run under ASan in CI) */
    for (size_t at = 40; at < b.len; at++) {
        memcpy(p, b.data, b.len);
        p[at] ^= 0xff;
        floe_ref_table *t = NULL;
        floe_err err = floe_ref_table_parse(p, b.len, &t);
        if (err)
            assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
        floe_err_free(&err);
        ic_chunk_ref r;
        if (t)
            (void)floe_ref_table_find(t, 2, 3, (uint64_t[]){1, 0, 1}, &r);
        floe_ref_table_free(&t);
    }
    free(p);
    floe_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(empty_table),
        cmocka_unit_test(duplicate_inline_written_once),
        cmocka_unit_test(many_entries_round_trip),
        cmocka_unit_test(uncovered_is_refused),
        cmocka_unit_test(truncated_is_refused),
        cmocka_unit_test(corrupt_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
