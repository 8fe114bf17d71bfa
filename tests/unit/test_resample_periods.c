/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for resampling periods (engine/plan/resample_periods.h).
 *
 * Expected periods are written out by hand (calendar dates of the period
 * starts), and instants come from cf/time.h: daily points from 2000-11-30
 * to 2002-01-02 give 15 months, 6 seasons (SON 2000 partial, DJF with
 * December 2000, ..., DJF 2001/02 partial) and 3 years; end-labelled
 * daily intervals are grouped by their midpoint, so the step stamped
 * 2001-02-01T00:00 belongs to January. */
#include "engine/plan/resample_periods.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <stdlib.h>
#include <string.h>

static const int64_t DAY = 86400LL * 1000000LL;

static cf_instant at(cf_calendar cal, int y, int m, int d, int h)
{
    cf_datetime dt = {y, m, d, h, 0, 0, 0};
    cf_instant t;
    floe_err err = cf_datetime_to_instant(cal, &dt, &t);
    assert_null(err);
    return t;
}

/* Daily points from (y0,m0,d0), n of them. */
static cf_interval *daily_points(cf_calendar cal, int y0, int m0, int d0, size_t n)
{
    cf_interval *s = calloc(n, sizeof *s);
    assert_non_null(s);
    cf_instant t0 = at(cal, y0, m0, d0, 0);
    for (size_t i = 0; i < n; i++)
        s[i].lo = s[i].hi = t0 + (int64_t)i * DAY;
    return s;
}

static void test_parse(void **state)
{
    (void)state;
    floe_resample_by by;
    assert_null(floe_resample_by_parse("season", &by));
    assert_int_equal(by, FLOE_RESAMPLE_SEASON);
    assert_string_equal(floe_resample_by_name(FLOE_RESAMPLE_YEAR), "year");
    floe_err err = floe_resample_by_parse("monthly", &by);
    assert_non_null(err);
    assert_non_null(strstr(floe_err_message(err), "'monthly'"));
    floe_err_free(&err);
}

static void test_points(void **state)
{
    (void)state;
    cf_calendar cal = CF_CAL_STANDARD;
    /* 2000-11-30 .. 2002-01-02: 30 Nov + 31 Dec + 365 + 2 = 399 days */
    size_t n = 399;
    cf_interval *s = daily_points(cal, 2000, 11, 30, n);
    floe_resample_periods p;
    assert_null(floe_resample_periods_build(&p, FLOE_RESAMPLE_MONTH, cal, s, n));
    assert_int_equal(p.nperiods, 15); /* Nov 2000 .. Jan 2002 */
    assert_int_equal(p.nsteps_in[0], 1);
    assert_int_equal(p.nsteps_in[1], 31);
    assert_int_equal(p.nsteps_in[3], 28); /* February 2001 */
    assert_int_equal(p.nsteps_in[14], 2);
    /* points: bounds are the whole month, time its middle */
    assert_true(p.bounds[2].lo == at(cal, 2001, 1, 1, 0));
    assert_true(p.bounds[2].hi == at(cal, 2001, 2, 1, 0));
    assert_true(p.time[2] == at(cal, 2001, 1, 16, 12));
    assert_true(p.bounds[0].lo == at(cal, 2000, 11, 1, 0)); /* partial: still the month */
    assert_int_equal(p.period_of_step[0], 0);
    assert_int_equal(p.period_of_step[1], 1);
    floe_resample_periods_free(&p);

    assert_null(floe_resample_periods_build(&p, FLOE_RESAMPLE_SEASON, cal, s, n));
    assert_int_equal(p.nperiods, 6); /* SON00 DJF MAM JJA SON DJF01/02 */
    assert_int_equal(p.nsteps_in[0], 1);
    assert_int_equal(p.nsteps_in[1], 31 + 31 + 28); /* Dec 2000 joins Jan/Feb 2001 */
    assert_true(p.period[1].lo == at(cal, 2000, 12, 1, 0));
    assert_true(p.period[1].hi == at(cal, 2001, 3, 1, 0));
    assert_int_equal(p.nsteps_in[5], 31 + 2);
    floe_resample_periods_free(&p);

    assert_null(floe_resample_periods_build(&p, FLOE_RESAMPLE_YEAR, cal, s, n));
    assert_int_equal(p.nperiods, 3);
    assert_int_equal(p.nsteps_in[0], 32);
    assert_int_equal(p.nsteps_in[1], 365);
    assert_int_equal(p.nsteps_in[2], 2);
    assert_true(p.time[1] == at(cal, 2001, 7, 2, 12));
    floe_resample_periods_free(&p);
    free(s);
}

static void test_360_day(void **state)
{
    (void)state;
    cf_calendar cal = CF_CAL_360_DAY;
    cf_interval *s = daily_points(cal, 2001, 1, 1, 90);
    floe_resample_periods p;
    assert_null(floe_resample_periods_build(&p, FLOE_RESAMPLE_MONTH, cal, s, 90));
    assert_int_equal(p.nperiods, 3);
    assert_int_equal(p.nsteps_in[1], 30); /* 30 February */
    floe_resample_periods_free(&p);
    free(s);
}

/* End-labelled daily intervals: (stamp - 1 day, stamp]. */
static void test_intervals(void **state)
{
    (void)state;
    cf_calendar cal = CF_CAL_STANDARD;
    size_t n = 62; /* stamps 2001-01-02 .. 2001-03-04: days Jan 1 .. Mar 3 */
    cf_interval *s = daily_points(cal, 2001, 1, 2, n);
    for (size_t i = 0; i < n; i++)
        s[i].lo -= DAY;
    floe_resample_periods p;
    assert_null(floe_resample_periods_build(&p, FLOE_RESAMPLE_MONTH, cal, s, n));
    assert_int_equal(p.nperiods, 3);
    assert_int_equal(p.nsteps_in[0], 31); /* the step stamped Feb 1 is Jan 31 */
    assert_int_equal(p.nsteps_in[1], 28);
    assert_int_equal(p.nsteps_in[2], 3);
    /* intervals: the span of the data, time in the middle of it */
    assert_true(p.bounds[2].lo == at(cal, 2001, 3, 1, 0));
    assert_true(p.bounds[2].hi == at(cal, 2001, 3, 4, 0));
    assert_true(p.time[2] == at(cal, 2001, 3, 2, 12));
    assert_true(p.time[0] == at(cal, 2001, 1, 16, 12));
    floe_resample_periods_free(&p);
    /* mixing points and intervals is refused */
    s[5].lo = s[5].hi;
    floe_err err = floe_resample_periods_build(&p, FLOE_RESAMPLE_MONTH, cal, s, n);
    assert_non_null(err);
    floe_err_free(&err);
    free(s);
}

static void test_out_of_order(void **state)
{
    (void)state;
    cf_calendar cal = CF_CAL_STANDARD;
    cf_interval s[2];
    s[0].lo = s[0].hi = at(cal, 2001, 3, 1, 0);
    s[1].lo = s[1].hi = at(cal, 2001, 1, 1, 0);
    floe_resample_periods p;
    floe_err err = floe_resample_periods_build(&p, FLOE_RESAMPLE_MONTH, cal, s, 2);
    assert_non_null(err);
    floe_err_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_points),
        cmocka_unit_test(test_360_day),     cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
