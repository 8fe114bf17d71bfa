/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for climatology grouping (engine/plan/climatology_groups.h).
 *
 * The expected groups come from calendars written out here by hand (month
 * lengths and leap rules of each CF calendar), not from floe: every day
 * of several years is generated, its instant obtained from cf/time.h
 * (and checked to be exactly one day after the previous one, so the hand
 * calendar and cf_time agree), and its month, season and CDO-style day
 * group compared. Expected CF times and bounds follow CF 7.4's example. */
#include "engine/plan/climatology_groups.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t DAY = 86400LL * 1000000LL;

static int is_leap(cf_calendar cal, int y)
{
    switch (cal) {
    case CF_CAL_PROLEPTIC_GREGORIAN:
    case CF_CAL_STANDARD: /* only used after 1582 here */
        return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    case CF_CAL_JULIAN: return y % 4 == 0;
    case CF_CAL_ALL_LEAP: return 1;
    default: return 0;
    }
}

static int month_length(cf_calendar cal, int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (cal == CF_CAL_360_DAY)
        return 30;
    return m == 2 && is_leap(cal, y) ? 29 : len[m - 1];
}

/* The expected dayofyear group (0-based): position of (m, d) in a leap
 * year, or (m-1)*30 + d - 1 in 360_day. */
static size_t expected_doy(cf_calendar cal, int m, int d)
{
    if (cal == CF_CAL_360_DAY)
        return (size_t)((m - 1) * 30 + d - 1);
    static const int leap_len[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int before = 0;
    for (int k = 1; k < m; k++)
        before += leap_len[k - 1];
    return (size_t)(before + d - 1);
}

static size_t expected_season(int m)
{
    if (m == 12 || m <= 2)
        return 0;
    return m <= 5 ? 1 : m <= 8 ? 2 : 3;
}

/* Every day of years y0..y1 at 12:00, checked group by group. */
static void sweep(cf_calendar cal, int y0, int y1, cf_instant **steps_out, size_t *n_out)
{
    size_t cap = 400 * (size_t)(y1 - y0 + 1), n = 0;
    cf_instant *steps = malloc(cap * sizeof *steps);
    for (int y = y0; y <= y1; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= month_length(cal, y, m); d++) {
                cf_datetime dt = {y, m, d, 12, 0, 0, 0};
                cf_instant t;
                expect_ok(cf_datetime_to_instant(cal, &dt, &t));
                if (n > 0 && t - steps[n - 1] != DAY)
                    fail_msg("%s: %04d-%02d-%02d is not one day after the previous day",
                             cf_calendar_name(cal), y, m, d);
                steps[n++] = t;
                cf_datetime back;
                cf_instant_to_datetime(cal, t, &back);
                assert_int_equal(floe_clim_group_of(FLOE_CLIM_MONTH, cal, &back), m - 1);
                assert_int_equal(floe_clim_group_of(FLOE_CLIM_SEASON, cal, &back),
                                 expected_season(m));
                assert_int_equal(floe_clim_group_of(FLOE_CLIM_DAYOFYEAR, cal, &back),
                                 expected_doy(cal, m, d));
            }
    *steps_out = steps;
    *n_out = n;
}

static void test_every_calendar(void **state)
{
    (void)state;
    static const struct {
        cf_calendar cal;
        int y0, y1;
        unsigned feb29;  /* days in group 60 (29 Feb) */
        unsigned groups; /* dayofyear groups */
        unsigned days;
    } cases[] = {
        {CF_CAL_PROLEPTIC_GREGORIAN, 2000, 2003, 1, 366, 1461},
        {CF_CAL_PROLEPTIC_GREGORIAN, 1900, 1903, 0, 366, 1460}, /* 1900 is common */
        {CF_CAL_STANDARD, 2000, 2003, 1, 366, 1461},
        {CF_CAL_JULIAN, 1900, 1903, 1, 366, 1461}, /* 1900 is a Julian leap year */
        {CF_CAL_NOLEAP, 2000, 2003, 0, 366, 1460},
        {CF_CAL_ALL_LEAP, 2001, 2004, 4, 366, 1464},
        {CF_CAL_360_DAY, 2000, 2003, 4, 360, 1440}, /* 29 Feb exists every year */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cf_calendar cal = cases[k].cal;
        cf_instant *steps;
        size_t n;
        sweep(cal, cases[k].y0, cases[k].y1, &steps, &n);
        assert_int_equal(n, cases[k].days);
        int years = cases[k].y1 - cases[k].y0 + 1;

        floe_clim_groups g;
        expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_DAYOFYEAR, cal, steps, n));
        assert_int_equal(g.ngroups, cases[k].groups);
        assert_int_equal(g.nsteps_in[59], cases[k].feb29);
        assert_int_equal(g.nsteps_in[60], years);           /* 1 March (360: 1 Mar too) */
        assert_int_equal(g.nsteps_in[g.ngroups - 1], years); /* 31 Dec / 30 Dec */
        unsigned total = 0;
        for (size_t i = 0; i < g.ngroups; i++) {
            total += g.nsteps_in[i];
            if (i != 59)
                assert_int_equal(g.nsteps_in[i], years);
        }
        assert_int_equal(total, n);
        floe_clim_groups_free(&g);

        expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_MONTH, cal, steps, n));
        for (int m = 1; m <= 12; m++) {
            unsigned want = 0;
            for (int y = cases[k].y0; y <= cases[k].y1; y++)
                want += (unsigned)month_length(cal, y, m);
            assert_int_equal(g.nsteps_in[m - 1], want);
        }
        floe_clim_groups_free(&g);

        expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_SEASON, cal, steps, n));
        for (int s = 0; s < 4; s++) {
            unsigned want = 0;
            for (int y = cases[k].y0; y <= cases[k].y1; y++)
                for (int m = 1; m <= 12; m++)
                    if (expected_season(m) == (size_t)s)
                        want += (unsigned)month_length(cal, y, m);
            assert_int_equal(g.nsteps_in[s], want);
        }
        floe_clim_groups_free(&g);
        free(steps);
    }
}

/* The standard calendar's October 1582 lacks the 5th..14th: those day
 * groups get nothing that year. */
static void test_standard_1582(void **state)
{
    (void)state;
    cf_datetime start = {1582, 1, 1, 12, 0, 0, 0};
    cf_instant t0;
    expect_ok(cf_datetime_to_instant(CF_CAL_STANDARD, &start, &t0));
    cf_instant steps[400];
    size_t n = 0;
    for (cf_instant t = t0;; t += DAY) {
        cf_datetime dt;
        cf_instant_to_datetime(CF_CAL_STANDARD, t, &dt);
        if (dt.year != 1582)
            break;
        steps[n++] = t;
    }
    assert_int_equal(n, 355);
    floe_clim_groups g;
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_DAYOFYEAR, CF_CAL_STANDARD, steps, n));
    assert_int_equal(g.nsteps_in[expected_doy(CF_CAL_STANDARD, 10, 4)], 1);
    for (int d = 5; d <= 14; d++)
        assert_int_equal(g.nsteps_in[expected_doy(CF_CAL_STANDARD, 10, d)], 0);
    assert_int_equal(g.nsteps_in[expected_doy(CF_CAL_STANDARD, 10, 15)], 1);
    floe_clim_groups_free(&g);
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_MONTH, CF_CAL_STANDARD, steps, n));
    assert_int_equal(g.nsteps_in[9], 21);
    floe_clim_groups_free(&g);
}

static void check_time(const floe_clim_groups *g, size_t group, const char *time,
                       const char *lo, const char *hi)
{
    cf_instant t, b[2];
    char s[3][40];
    expect_ok(floe_clim_groups_time(g, group, &t, b));
    cf_datetime dt;
    cf_instant_to_datetime(g->cal, t, &dt);
    cf_datetime_format(&dt, s[0], sizeof s[0]);
    cf_instant_to_datetime(g->cal, b[0], &dt);
    cf_datetime_format(&dt, s[1], sizeof s[1]);
    cf_instant_to_datetime(g->cal, b[1], &dt);
    cf_datetime_format(&dt, s[2], sizeof s[2]);
    if (strcmp(s[0], time) || strcmp(s[1], lo) || strcmp(s[2], hi))
        fail_msg("group %zu: time %s bounds %s %s, expected %s %s %s", group, s[0], s[1], s[2],
                 time, lo, hi);
}

static void test_cf_time_and_bounds(void **state)
{
    (void)state;
    cf_instant *steps;
    size_t n;
    sweep(CF_CAL_PROLEPTIC_GREGORIAN, 2001, 2003, &steps, &n);
    floe_clim_groups g;
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_MONTH, CF_CAL_PROLEPTIC_GREGORIAN, steps, n));
    check_time(&g, 0, "2001-01-16T12:00:00", "2001-01-01T00:00:00", "2003-02-01T00:00:00");
    check_time(&g, 1, "2001-02-15T00:00:00", "2001-02-01T00:00:00", "2003-03-01T00:00:00");
    check_time(&g, 11, "2001-12-16T12:00:00", "2001-12-01T00:00:00", "2004-01-01T00:00:00");
    floe_clim_groups_free(&g);

    /* seasons: January 2001 belongs to the DJF that began in December 2000 */
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_SEASON, CF_CAL_PROLEPTIC_GREGORIAN, steps, n));
    check_time(&g, 0, "2001-01-15T00:00:00", "2000-12-01T00:00:00", "2004-03-01T00:00:00");
    check_time(&g, 1, "2001-04-16T00:00:00", "2001-03-01T00:00:00", "2003-06-01T00:00:00");
    check_time(&g, 3, "2001-10-16T12:00:00", "2001-09-01T00:00:00", "2003-12-01T00:00:00");
    floe_clim_groups_free(&g);

    /* days */
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_DAYOFYEAR, CF_CAL_PROLEPTIC_GREGORIAN, steps,
                                     n));
    check_time(&g, 60, "2001-03-01T12:00:00", "2001-03-01T00:00:00", "2003-03-02T00:00:00");
    expect_code(floe_clim_groups_time(&g, 59, &steps[0], steps), FLOE_EINVAL,
                "group 02-29 (dayofyear) has no time step");
    floe_clim_groups_free(&g);
    free(steps);

    /* 360_day: 30-day months; 30 February exists */
    sweep(CF_CAL_360_DAY, 2001, 2002, &steps, &n);
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_MONTH, CF_CAL_360_DAY, steps, n));
    check_time(&g, 1, "2001-02-16T00:00:00", "2001-02-01T00:00:00", "2002-03-01T00:00:00");
    floe_clim_groups_free(&g);
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_DAYOFYEAR, CF_CAL_360_DAY, steps, n));
    check_time(&g, 59, "2001-02-30T12:00:00", "2001-02-30T00:00:00", "2002-03-01T00:00:00");
    floe_clim_groups_free(&g);
    free(steps);

    /* order of steps does not matter; sub-daily steps */
    cf_datetime a = {2005, 7, 20, 18, 0, 0, 0}, b = {2002, 7, 3, 6, 0, 0, 0};
    cf_instant two[2];
    expect_ok(cf_datetime_to_instant(CF_CAL_NOLEAP, &a, &two[0]));
    expect_ok(cf_datetime_to_instant(CF_CAL_NOLEAP, &b, &two[1]));
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_SEASON, CF_CAL_NOLEAP, two, 2));
    assert_int_equal(g.nsteps_in[2], 2);
    check_time(&g, 2, "2002-07-17T00:00:00", "2002-06-01T00:00:00", "2005-09-01T00:00:00");
    floe_clim_groups_free(&g);
}

/* NLDAS-3 daily files, stamped at 00:00 after their day: as end-labelled
 * intervals each file falls in the month of its day (January holds the 31
 * files A20010101..A20010131) and the bounds are exactly the data's; as
 * points (the old reading), January held 30 and February began with Jan 31. */
static void test_interval_steps(void **state)
{
    (void)state;
    enum { N = 62 }; /* A20010101 .. A20010303 */
    cf_datetime jan1 = {2001, 1, 1, 0, 0, 0, 0};
    cf_instant t0;
    expect_ok(cf_datetime_to_instant(CF_CAL_STANDARD, &jan1, &t0));
    cf_interval iv[N];
    cf_instant stamps[N];
    for (int k = 0; k < N; k++) {
        iv[k].lo = t0 + k * DAY;
        iv[k].hi = stamps[k] = t0 + (k + 1) * DAY;
    }
    floe_clim_groups g;
    expect_ok(floe_clim_groups_build_intervals(&g, FLOE_CLIM_MONTH, CF_CAL_STANDARD, iv, N));
    assert_int_equal(g.nsteps_in[0], 31);
    assert_int_equal(g.nsteps_in[1], 28);
    assert_int_equal(g.nsteps_in[2], 3);
    for (int k = 0; k < 31; k++)
        assert_int_equal(g.group_of_step[k], 0);
    assert_int_equal(g.group_of_step[31], 1);
    check_time(&g, 0, "2001-01-16T12:00:00", "2001-01-01T00:00:00", "2001-02-01T00:00:00");
    check_time(&g, 1, "2001-02-15T00:00:00", "2001-02-01T00:00:00", "2001-03-01T00:00:00");
    /* March holds 1-3 March: the bounds say so, the time lies inside them */
    check_time(&g, 2, "2001-03-02T12:00:00", "2001-03-01T00:00:00", "2001-03-04T00:00:00");
    floe_clim_groups_free(&g);
    expect_ok(floe_clim_groups_build_intervals(&g, FLOE_CLIM_DAYOFYEAR, CF_CAL_STANDARD, iv, N));
    check_time(&g, 30, "2001-01-31T12:00:00", "2001-01-31T00:00:00", "2001-02-01T00:00:00");
    floe_clim_groups_free(&g);

    /* the same stamps as points: the old grouping, unchanged */
    expect_ok(floe_clim_groups_build(&g, FLOE_CLIM_MONTH, CF_CAL_STANDARD, stamps, N));
    assert_int_equal(g.nsteps_in[0], 30);
    assert_int_equal(g.nsteps_in[1], 28);
    assert_int_equal(g.nsteps_in[2], 4);
    check_time(&g, 2, "2001-03-16T12:00:00", "2001-03-01T00:00:00", "2001-04-01T00:00:00");
    floe_clim_groups_free(&g);

    /* points among intervals are refused */
    iv[5].hi = iv[5].lo;
    expect_code(floe_clim_groups_build_intervals(&g, FLOE_CLIM_MONTH, CF_CAL_STANDARD, iv, N),
                FLOE_EINVAL, "step 5 is a point");
}

static void test_names(void **state)
{
    (void)state;
    floe_clim_by by;
    expect_ok(floe_clim_by_parse("dayofyear", &by));
    assert_int_equal(by, FLOE_CLIM_DAYOFYEAR);
    expect_ok(floe_clim_by_parse("season", &by));
    assert_int_equal(by, FLOE_CLIM_SEASON);
    expect_code(floe_clim_by_parse("week", &by), FLOE_EINVAL, "--by 'week'");
    assert_string_equal(floe_clim_by_name(FLOE_CLIM_MONTH), "month");
    char buf[32];
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_DAYOFYEAR, CF_CAL_NOLEAP, 59, buf, 32),
                        "02-29");
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_DAYOFYEAR, CF_CAL_NOLEAP, 60, buf, 32),
                        "03-01");
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_DAYOFYEAR, CF_CAL_STANDARD, 365, buf, 32),
                        "12-31");
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_DAYOFYEAR, CF_CAL_360_DAY, 59, buf, 32),
                        "02-30");
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_DAYOFYEAR, CF_CAL_360_DAY, 359, buf, 32),
                        "12-30");
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_SEASON, CF_CAL_STANDARD, 0, buf, 32),
                        "DJF");
    assert_string_equal(floe_clim_group_name(FLOE_CLIM_MONTH, CF_CAL_STANDARD, 11, buf, 32),
                        "December");
    assert_int_equal(floe_clim_group_number(FLOE_CLIM_DAYOFYEAR, CF_CAL_NOLEAP, 60), 61);
    assert_int_equal(floe_clim_group_count(FLOE_CLIM_DAYOFYEAR, CF_CAL_360_DAY), 360);
    assert_int_equal(floe_clim_group_count(FLOE_CLIM_DAYOFYEAR, CF_CAL_ALL_LEAP), 366);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_calendar),
        cmocka_unit_test(test_standard_1582),
        cmocka_unit_test(test_cf_time_and_bounds),
        cmocka_unit_test(test_interval_steps),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
