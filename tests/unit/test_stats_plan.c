/* SPDX-License-Identifier: Apache-2.0 */
/* test_stats_plan.c - the split of a selection into tiles (and bands of
 * rows when a tile would be too large) and over ranks: every selected cell
 * in exactly one tile, tiles within one chunk and the cell cap, owners
 * dealt in turn, time-split when there are fewer tiles than
 * ranks. Coverage is counted here cell by cell, independently of the plan. */
#include "engine/plan/stats_plan.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void check_plan(size_t sy, size_t ny, size_t sx, size_t nx, uint64_t chy, uint64_t chx,
                       int nranks, size_t max_cells)
{
    stats_plan p;
    assert_null(stats_plan_make(sy, ny, sx, nx, chy, chx, 100, nranks, max_cells, &p));
    unsigned char *seen = calloc(ny * nx, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < p.ntiles; i++) {
        const stats_tile *t = &p.tiles[i];
        assert_true(t->y0 < t->y1 && t->x0 < t->x1 && t->y1 <= ny && t->x1 <= nx);
        /* inside its chunk */
        assert_true(sy + t->y0 >= t->cy * chy && sy + t->y1 <= (t->cy + 1) * chy);
        assert_true(sx + t->x0 >= t->cx * chx && sx + t->x1 <= (t->cx + 1) * chx);
        if (max_cells)
            assert_true((t->y1 - t->y0) * (t->x1 - t->x0) <= max_cells ||
                        t->y1 - t->y0 == 1);
        for (size_t y = t->y0; y < t->y1; y++)
            for (size_t x = t->x0; x < t->x1; x++)
                seen[y * nx + x]++;
        if (!p.time_split) /* dealt in turn: the index order of writing */
            assert_int_equal(t->owner, (int)(i % (size_t)nranks));
    }
    for (size_t k = 0; k < ny * nx; k++)
        assert_int_equal(seen[k], 1);
    assert_int_equal(p.time_split, p.ntiles < (size_t)nranks);
    free(seen);
    stats_plan_free(&p);
}

static void whole_chunks(void **state)
{
    (void)state;
    stats_plan p;
    assert_null(stats_plan_make(0, 2000, 0, 2700, 500, 900, 365, 2, 0, &p));
    assert_int_equal(p.ntiles, 12);
    stats_plan_free(&p);
    check_plan(0, 2000, 0, 2700, 500, 900, 2, 0);
    check_plan(37, 1000, 450, 1300, 500, 900, 7, 0); /* partial chunks, 7 ranks */
    check_plan(10, 5, 10, 5, 500, 900, 4, 0);        /* one tile: time-split */
}

static void bands(void **state)
{
    (void)state;
    stats_plan p;
    /* 500 x 900 chunks capped at 100,000 cells: bands of 111 rows, 5 a chunk */
    assert_null(stats_plan_make(0, 2000, 0, 2700, 500, 900, 365, 2, 100000, &p));
    assert_int_equal(p.ntiles, 12 * 5);
    stats_plan_free(&p);
    check_plan(0, 2000, 0, 2700, 500, 900, 2, 100000);
    check_plan(123, 777, 5, 2000, 500, 900, 3, 50000);
    check_plan(0, 50, 0, 90, 50, 90, 2, 1); /* one row a band */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_chunks),
        cmocka_unit_test(bands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
