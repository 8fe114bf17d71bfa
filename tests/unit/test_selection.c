/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for bbox parsing and coordinate range selection, checked
 * against a brute-force scan of the same coordinates. */
#include "engine/plan/selection.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void brute(const double *c, size_t n, double lo, double hi, size_t *i0, size_t *i1)
{
    *i0 = *i1 = 0;
    int found = 0;
    for (size_t k = 0; k < n; k++)
        if (c[k] >= lo && c[k] <= hi) {
            if (!found)
                *i0 = k;
            found = 1;
            *i1 = k + 1;
        }
}

/* Same selection; all empty selections are equal, wherever they sit. */
static void assert_same(size_t i0, size_t i1, size_t w0, size_t w1)
{
    if (w0 == w1) {
        assert_int_equal(i0, i1);
        return;
    }
    assert_int_equal(i0, w0);
    assert_int_equal(i1, w1);
}

static void matches_brute_force(void **state)
{
    (void)state;
    /* float32 centres of the real 0.01 degree NLDAS-3 grid, widened */
    double asc[700], desc[700];
    for (int k = 0; k < 700; k++) {
        asc[k] = (double)(float)(41.0 + (k + 0.5) * 0.01);
        desc[699 - k] = asc[k];
    }
    const double bounds[][2] = {{41.48, 42.10}, {41.005, 41.005}, {(double)(float)41.005,
                                (double)(float)41.005}, {0, 100}, {50, 60}, {40, 41}, {41.5, 41.5},
                                {42.0, 41.0}};
    for (size_t b = 0; b < sizeof bounds / sizeof *bounds; b++) {
        size_t i0, i1, w0, w1;
        assert_null(floe_select_closed(asc, 700, bounds[b][0], bounds[b][1], &i0, &i1));
        brute(asc, 700, bounds[b][0], bounds[b][1], &w0, &w1);
        assert_same(i0, i1, w0, w1);
        assert_null(floe_select_closed(desc, 700, bounds[b][0], bounds[b][1], &i0, &i1));
        brute(desc, 700, bounds[b][0], bounds[b][1], &w0, &w1);
        assert_same(i0, i1, w0, w1);
    }
    /* an exact centre on the bound is inside (edges inclusive) */
    size_t i0, i1;
    assert_null(floe_select_closed(asc, 700, asc[10], asc[10], &i0, &i1));
    assert_int_equal(i0, 10);
    assert_int_equal(i1, 11);
}

static void not_monotonic(void **state)
{
    (void)state;
    double c[] = {1, 2, 3, 2.5, 4};
    size_t i0, i1;
    floe_err err = floe_select_closed(c, 5, 0, 10, &i0, &i1);
    assert_int_equal(floe_err_code(err), FLOE_EUNSUPPORTED);
    floe_err_free(&err);
}

static void bbox(void **state)
{
    (void)state;
    floe_bbox b;
    assert_null(floe_bbox_parse("-70.84,41.48,-69.77,42.10", &b));
    assert_true(b.west == -70.84 && b.south == 41.48 && b.east == -69.77 && b.north == 42.10);
    const char *bad[] = {"", "1,2,3", "1,2,3,4,5", "a,b,c,d", "1,5,2,4", "5,1,4,2",
                         "0,-91,1,0", "1,2,3,4x", "nan,1,2,3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        floe_err err = floe_bbox_parse(bad[i], &b);
        if (!err)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(floe_err_code(err), FLOE_EINVAL);
        assert_non_null(strstr(floe_err_message(err), "--bbox"));
        floe_err_free(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_brute_force),
        cmocka_unit_test(not_monotonic),
        cmocka_unit_test(bbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
