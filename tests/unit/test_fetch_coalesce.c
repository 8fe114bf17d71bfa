/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the pure parts of the range fetcher (io/fetch/internal.h):
 * coalescing on hand-made cases and, against the rules stated in the
 * header, on random ranges (every range in exactly one span that contains
 * it, spans within the cap, never across objects, greedy: neighbouring
 * spans could not have been merged); the span cap for few bytes;
 * splitting a large object into parallel ranges (every byte in exactly
 * one range, none empty, at most the cap, about the piece size). (The
 * retry policy's tests are test_transport_retry.c's.) */
#include "io/fetch/internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

enum { MAXN = 400 };

static size_t run(floe_coalesce_range *r, size_t n, uint64_t gap, uint64_t max,
                  floe_coalesce_span *s)
{
    for (size_t i = 0; i < n; i++)
        r[i].id = i;
    return floe_coalesce(r, n, gap, max, s);
}

static void empty_and_single(void **state)
{
    (void)state;
    floe_coalesce_range r[1] = {{.object = 3, .offset = 10, .length = 5}};
    floe_coalesce_span s[1];
    assert_int_equal(floe_coalesce(r, 0, 100, 100, s), 0);
    assert_int_equal(run(r, 1, 100, 100, s), 1);
    assert_int_equal(s[0].first, 0);
    assert_int_equal(s[0].count, 1);
    assert_int_equal(s[0].offset, 10);
    assert_int_equal(s[0].length, 5);
}

static void gaps_and_caps(void **state)
{
    (void)state;
    floe_coalesce_range r[4];
    floe_coalesce_span s[4];
    /* Given out of order: [200,300) [0,100) [100,200) -> one span [0,300). */
    r[0] = (floe_coalesce_range){.offset = 200, .length = 100};
    r[1] = (floe_coalesce_range){.offset = 0, .length = 100};
    r[2] = (floe_coalesce_range){.offset = 100, .length = 100};
    assert_int_equal(run(r, 3, 0, 1000, s), 1);
    assert_int_equal(s[0].offset, 0);
    assert_int_equal(s[0].length, 300);
    assert_int_equal(r[0].id, 1); /* sorted by offset, ids carried */
    assert_int_equal(r[1].id, 2);
    assert_int_equal(r[2].id, 0);
    /* A gap of exactly max_gap merges; one byte more does not. */
    r[0] = (floe_coalesce_range){.offset = 0, .length = 10};
    r[1] = (floe_coalesce_range){.offset = 60, .length = 10};  /* gap 50 */
    r[2] = (floe_coalesce_range){.offset = 121, .length = 10}; /* gap 51 */
    assert_int_equal(run(r, 3, 50, 1000, s), 2);
    assert_int_equal(s[0].count, 2);
    assert_int_equal(s[0].length, 70);
    assert_int_equal(s[1].offset, 121);
    /* The cap: exactly max_bytes is allowed, one more is not. */
    r[0] = (floe_coalesce_range){.offset = 0, .length = 40};
    r[1] = (floe_coalesce_range){.offset = 40, .length = 60}; /* [0,100) */
    r[2] = (floe_coalesce_range){.offset = 100, .length = 1}; /* [0,101) */
    assert_int_equal(run(r, 3, 0, 100, s), 2);
    assert_int_equal(s[0].length, 100);
    assert_int_equal(s[1].offset, 100);
    /* A range longer than the cap is fetched whole, alone. */
    r[0] = (floe_coalesce_range){.offset = 0, .length = 10};
    r[1] = (floe_coalesce_range){.offset = 10, .length = 500};
    r[2] = (floe_coalesce_range){.offset = 510, .length = 10};
    assert_int_equal(run(r, 3, 0, 100, s), 3);
    assert_int_equal(s[1].length, 500);
}

static void overlaps_objects_and_to_the_end(void **state)
{
    (void)state;
    floe_coalesce_range r[6];
    floe_coalesce_span s[6];
    /* Duplicates and a range inside another: one span, as long as the
     * union. */
    r[0] = (floe_coalesce_range){.offset = 0, .length = 100};
    r[1] = (floe_coalesce_range){.offset = 0, .length = 100};
    r[2] = (floe_coalesce_range){.offset = 10, .length = 20};
    r[3] = (floe_coalesce_range){.offset = 90, .length = 30};
    assert_int_equal(run(r, 4, 0, 120, s), 1);
    assert_int_equal(s[0].count, 4);
    assert_int_equal(s[0].length, 120);
    /* Touching ranges of different objects never merge. */
    r[0] = (floe_coalesce_range){.object = 1, .offset = 0, .length = 10};
    r[1] = (floe_coalesce_range){.object = 2, .offset = 10, .length = 10};
    r[2] = (floe_coalesce_range){.object = 1, .offset = 10, .length = 10};
    assert_int_equal(run(r, 3, 1000, 1000, s), 2);
    assert_int_equal(s[0].count, 2);
    assert_int_equal(r[s[1].first].object, 2);
    /* Length 0 (to the end) is never merged, in either direction. */
    r[0] = (floe_coalesce_range){.offset = 0, .length = 10};
    r[1] = (floe_coalesce_range){.offset = 10, .length = 0};
    r[2] = (floe_coalesce_range){.offset = 10, .length = 10};
    assert_int_equal(run(r, 3, 1000, 1000, s), 3);
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    return *x >> 33;
}

/* The rules of floe_coalesce checked on random input, independently of how
 * it finds its answer. */
static void random_ranges_follow_the_rules(void **state)
{
    (void)state;
    static floe_coalesce_range r[MAXN], orig[MAXN];
    static floe_coalesce_span s[MAXN];
    static int seen[MAXN];
    uint64_t x = 12345;
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + lcg(&x) % MAXN;
        uint64_t gap = lcg(&x) % 3 == 0 ? 0 : lcg(&x) % 5000;
        uint64_t max = 1 + lcg(&x) % 20000;
        for (size_t i = 0; i < n; i++) {
            r[i] = (floe_coalesce_range){.object = lcg(&x) % 3, .offset = lcg(&x) % 100000,
                                         .length = lcg(&x) % 8 == 0 ? 0 : 1 + lcg(&x) % 3000,
                                         .id = i};
            orig[i] = r[i];
        }
        size_t ns = floe_coalesce(r, n, gap, max, s);
        memset(seen, 0, sizeof seen);
        size_t next_first = 0;
        for (size_t k = 0; k < ns; k++) {
            const floe_coalesce_span *sp = &s[k];
            assert_int_equal(sp->first, next_first); /* spans tile the sorted array */
            assert_true(sp->count >= 1);
            next_first += sp->count;
            if (sp->count > 1)
                assert_true(sp->length <= max);
            uint64_t lo = UINT64_MAX, hi = 0;
            for (size_t j = sp->first; j < sp->first + sp->count; j++) {
                const floe_coalesce_range *q = &r[j];
                /* The range is one of the input, once. */
                assert_true(q->id < n);
                assert_int_equal(seen[q->id]++, 0);
                assert_int_equal(q->object, orig[q->id].object);
                assert_int_equal(q->offset, orig[q->id].offset);
                assert_int_equal(q->length, orig[q->id].length);
                assert_int_equal(q->object, r[sp->first].object);
                if (sp->count > 1)
                    assert_true(q->length > 0);
                if (j > sp->first) /* sorted by offset */
                    assert_true(r[j - 1].offset <= q->offset);
                assert_true(q->offset >= sp->offset);
                assert_true(q->offset + q->length <= sp->offset + sp->length);
                lo = q->offset < lo ? q->offset : lo;
                hi = q->offset + q->length > hi ? q->offset + q->length : hi;
            }
            assert_int_equal(lo, sp->offset); /* no larger than needed */
            assert_int_equal(hi, sp->offset + sp->length);
            /* Greedy: the first range of the next span could not join. */
            if (k + 1 < ns) {
                const floe_coalesce_range *nx = &r[s[k + 1].first];
                if (nx->object == r[sp->first].object && nx->length && sp->length &&
                    r[sp->first].length) {
                    uint64_t end = sp->offset + sp->length;
                    uint64_t g = nx->offset > end ? nx->offset - end : 0;
                    uint64_t nend = nx->offset + nx->length > end ? nx->offset + nx->length : end;
                    assert_true(g > gap || nend - sp->offset > max);
                }
            }
        }
        assert_int_equal(next_first, n);
    }
}

static void cap_for_few_bytes(void **state)
{
    (void)state;
    const uint64_t MiB = 1 << 20;
    /* Plenty queued: the configured cap. */
    assert_int_equal(floe_coalesce_cap(16 * MiB, 1000 * MiB, 16), 16 * MiB);
    /* 32 MiB over 16 connections: 2 MiB each. */
    assert_int_equal(floe_coalesce_cap(16 * MiB, 32 * MiB, 16), 2 * MiB);
    /* Little queued: never below the floor. */
    assert_int_equal(floe_coalesce_cap(16 * MiB, 100, 16), FLOE_COALESCE_FLOOR);
    /* A configured cap below the floor wins. */
    assert_int_equal(floe_coalesce_cap(10000, 100, 16), 10000);
    assert_int_equal(floe_coalesce_cap(16 * MiB, 64 * MiB, 1), 16 * MiB);
}

static void split_objects(void **state)
{
    (void)state;
    const uint64_t MiB = 1 << 20;
    uint64_t piece = 99;
    assert_int_equal(floe_split_object(0, 2 * MiB, 16, &piece), 0);
    assert_int_equal(piece, 0);
    /* Smaller than a piece: one. */
    assert_int_equal(floe_split_object(100, 2 * MiB, 16, &piece), 1);
    assert_int_equal(piece, 100);
    /* Exactly two pieces; two and a bit: three equal ones (the last shorter). */
    assert_int_equal(floe_split_object(4 * MiB, 2 * MiB, 16, &piece), 2);
    assert_int_equal(piece, 2 * MiB);
    assert_int_equal(floe_split_object(4 * MiB + 1, 2 * MiB, 16, &piece), 3);
    assert_int_equal(piece, (4 * MiB + 1) / 3 + 1);
    /* A 20 MB manifest: 10 pieces of 2 MB, one wave of 16. */
    assert_int_equal(floe_split_object(20000000, 2 * MiB, 16, &piece), 10);
    assert_int_equal(piece, 2000000);
    /* 128 MiB: capped at 16 pieces of 8 MiB. */
    assert_int_equal(floe_split_object(128 * MiB, 2 * MiB, 16, &piece), 16);
    assert_int_equal(piece, 8 * MiB);
    /* Rounding up leaves fewer pieces than asked, never an empty one:
     * 10 bytes in 4 -> 3, 3, 3, 1; 9 in 4 -> 3, 3, 3. */
    assert_int_equal(floe_split_object(10, 1, 4, &piece), 4);
    assert_int_equal(piece, 3);
    assert_int_equal(floe_split_object(9, 1, 4, &piece), 3);
    assert_int_equal(piece, 3);
    /* Degenerate settings still cover the object. */
    assert_int_equal(floe_split_object(7, 0, 0, &piece), 1);
    assert_int_equal(piece, 7);
    /* The rules, on many sizes: together exactly [0, size), none empty, at
     * most max_pieces, no piece longer than needed. */
    srand(7);
    for (int iter = 0; iter < 20000; iter++) {
        uint64_t size = (uint64_t)rand() % (64 * MiB) + 1;
        uint64_t want = (uint64_t)rand() % (4 * MiB) + 1;
        size_t max = (size_t)(rand() % 20) + 1;
        size_t n = floe_split_object(size, want, max, &piece);
        assert_true(n >= 1 && n <= max);
        assert_true(piece >= 1);
        assert_true((n - 1) * piece < size);  /* the last piece is not empty */
        assert_true(n * piece >= size);       /* every byte is in one */
        uint64_t ideal = size / want + (size % want != 0);
        if (ideal <= max)
            assert_true(piece <= want);       /* about the size asked for */
        else /* capped: max_pieces equal ones, as short as that allows */
            assert_int_equal(piece, size / max + (size % max != 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_and_single),
        cmocka_unit_test(gaps_and_caps),
        cmocka_unit_test(overlaps_objects_and_to_the_end),
        cmocka_unit_test(random_ranges_follow_the_rules),
        cmocka_unit_test(cap_for_few_bytes),
        cmocka_unit_test(split_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
