/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the names suggested for an unknown variable
 * (engine/plan/var_suggest.h): the closest by edit distance, case-insensitive,
 * none when nothing is close. */
#include "engine/plan/var_suggest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static const char *const NLDAS[] = {"LWdown", "PSurf", "Qair", "Rainf", "SWdown", "Tair",
                                    "Wind_E", "Wind_N"};
enum { NNAMES = sizeof NLDAS / sizeof *NLDAS };

static void distance(void **state)
{
    (void)state;
    assert_int_equal(floe_edit_distance_nocase("Tair", "tair"), 0);
    assert_int_equal(floe_edit_distance_nocase("Tair", "Qair"), 1);
    assert_int_equal(floe_edit_distance_nocase("Rainf", "Rainfall"), 3);
    assert_int_equal(floe_edit_distance_nocase("", "abc"), 3);
    assert_int_equal(floe_edit_distance_nocase("kitten", "SITTING"), 3);
}

static void closest(void **state)
{
    (void)state;
    const char *out[4];
    size_t n = floe_closest_names("tair", NLDAS, NNAMES, out, 4);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "Tair");

    n = floe_closest_names("Rainfall", NLDAS, NNAMES, out, 4);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "Rainf");

    n = floe_closest_names("Wind", NLDAS, NNAMES, out, 4); /* two at the same distance */
    assert_int_equal(n, 2);
    assert_string_equal(out[0], "Wind_E");
    assert_string_equal(out[1], "Wind_N");

    n = floe_closest_names("Wind", NLDAS, NNAMES, out, 1); /* at most max_out */
    assert_int_equal(n, 1);

    assert_int_equal(floe_closest_names("precipitation", NLDAS, NNAMES, out, 4), 0);
    assert_int_equal(floe_closest_names("x", NLDAS, 0, out, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distance),
        cmocka_unit_test(closest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
