/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for CF time (cf/time.h).
 *
 * Expected dates come from cftime 1.6.2 (python3-netcdf4's, run by hand:
 * cftime.num2date(VALUE, UNITS, CALENDAR).isoformat() and
 * cftime.date2num(cftime.datetime(..., calendar=CAL), UNITS, CAL)), quoted
 * next to each case, and from glibc's gmtime_r (proleptic Gregorian) for a
 * sweep over 5000 years. */
#include "cf/time.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
    double value;
    const char *units, *calendar, *iso;
} num2date_cases[] = {
    /* cftime.num2date(v, units, calendar).isoformat() */
    {59, "days since 2000-01-01", "360_day", "2000-02-30T00:00:00"},
    {360, "days since 2000-01-01", "360_day", "2001-01-01T00:00:00"},
    {-1, "days since 2000-01-01", "360_day", "1999-12-30T00:00:00"},
    {59, "days since 2000-01-01", "noleap", "2000-03-01T00:00:00"},
    {365, "days since 2000-01-01", "365_day", "2001-01-01T00:00:00"},
    {59, "days since 2001-01-01", "all_leap", "2001-02-29T00:00:00"},
    {366, "days since 2001-01-01", "366_day", "2002-01-01T00:00:00"},
    {59, "days since 2000-01-01", "proleptic_gregorian", "2000-02-29T00:00:00"},
    {59, "days since 1900-01-01", "proleptic_gregorian", "1900-03-01T00:00:00"},
    {-1, "days since 1600-03-01", "proleptic_gregorian", "1600-02-29T00:00:00"},
    {146097, "days since 2000-03-01", "proleptic_gregorian", "2400-03-01T00:00:00"},
    {59, "days since 1900-01-01", "julian", "1900-02-29T00:00:00"},
    {1461, "days since 1200-02-29", "julian", "1204-02-29T00:00:00"},
    {730000, "days since 1-1-1", "julian", "1999-08-20T00:00:00"},
    {59, "days since 1900-01-01", "standard", "1900-03-01T00:00:00"},
    {1, "days since 1582-10-04", "standard", "1582-10-15T00:00:00"},
    {-1, "days since 1582-10-15", "gregorian", "1582-10-04T00:00:00"},
    {59, "days since 1500-01-01", "standard", "1500-02-29T00:00:00"},
    {59, "days since 1500-01-01", "proleptic_gregorian", "1500-03-01T00:00:00"},
    {719164, "days since 0001-01-01", "standard", "1970-01-01T00:00:00"},
    {719162, "days since 0001-01-01", "proleptic_gregorian", "1970-01-01T00:00:00"},
    {0, "hours since 2001-01-01 00:00:00 +05:00", "standard", "2000-12-31T19:00:00"},
    {1.5, "days since 2001-01-01", "standard", "2001-01-02T12:00:00"},
    {1500, "milliseconds since 2001-01-01T00:00:00Z", "standard", "2001-01-01T00:00:01.500000"},
    {24, "hours since 2001-01-01 00:00:00", "standard", "2001-01-02T00:00:00"}, /* the test bed's first step */
    {1e9, "seconds since 1970-01-01", "standard", "2001-09-09T01:46:40"},
    {-0.5, "hours since 2001-01-01", "standard", "2000-12-31T23:30:00"},
    /* cftime prints "20001-01-01T00:00:00"; ISO 8601 expanded years carry a sign */
    {7320000, "days since 1-1-1", "all_leap", "+20001-01-01T00:00:00"},
    /* by hand: units spelled in other ways */
    {90, "Minutes Since 2001-1-1 0:0:0", NULL, "2001-01-01T01:30:00"},
    {1, "day since 2001-01-01T06:00:00.25", "", "2001-01-02T06:00:00.250000"},
    {3, "hrs since 2001-01-01 00:00 UTC", "Standard", "2001-01-01T03:00:00"},
    {7, "us since 2001-01-01 -01:30", "standard", "2001-01-01T01:30:00.000007"},
    {-1, "d since 2001-01-01", "noleap", "2000-12-31T00:00:00"},
};

static void num2date_matches_cftime(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof num2date_cases / sizeof num2date_cases[0]; i++) {
        cf_time_units u;
        expect_ok(cf_time_units_parse(num2date_cases[i].units, num2date_cases[i].calendar, &u));
        char buf[64];
        expect_ok(cf_time_value_format(&u, num2date_cases[i].value, buf, sizeof buf));
        if (strcmp(buf, num2date_cases[i].iso) != 0)
            fail_msg("%g %s (%s): got %s, cftime says %s", num2date_cases[i].value, num2date_cases[i].units,
                     num2date_cases[i].calendar ? num2date_cases[i].calendar : "default", buf,
                     num2date_cases[i].iso);
    }
}

static void date2num_matches_cftime(void **state)
{
    (void)state;
    static const struct {
        const char *iso, *units, *calendar;
        double value;
    } cases[] = {
        /* cftime.date2num(cftime.datetime(1970,1,1, calendar=C), "days since 0001-01-01", C) */
        {"1970-01-01", "days since 0001-01-01", "standard", 719164},
        {"1970-01-01", "days since 0001-01-01", "proleptic_gregorian", 719162},
        {"1970-01-01", "days since 0001-01-01", "julian", 719177},
        {"1582-10-15", "days since 1582-10-04", "standard", 1},
        {"2001-02-30T12:00", "hours since 2001-01-01", "360_day", 1428},
        {"1000-03-01", "days since 1970-01-01", "standard", -354220},
        /* by hand: the test bed's axis */
        {"2001-01-02", "hours since 2001-01-01 00:00:00", "standard", 24},
        {"2001-01-02T06:00:00Z", "hours since 2001-01-01 00:00:00", "standard", 30},
        {"2001-01-02T06:00:00+06:00", "hours since 2001-01-01 00:00:00", "standard", 24},
        {"2001-01-01T00:30", "hours since 2001-01-01 00:00:00", "standard", 0.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cf_time_units u;
        expect_ok(cf_time_units_parse(cases[i].units, cases[i].calendar, &u));
        double v;
        expect_ok(cf_time_from_iso(&u, cases[i].iso, &v));
        if (v != cases[i].value)
            fail_msg("%s in %s (%s): got %.17g, expected %g", cases[i].iso, cases[i].units, cases[i].calendar, v,
                     cases[i].value);
    }
}

static void dates_that_exist_per_calendar(void **state)
{
    (void)state;
    static const struct {
        cf_calendar cal;
        int y, m, d;
        int exists;
    } cases[] = {
        {CF_CAL_STANDARD, 2000, 2, 29, 1},      {CF_CAL_STANDARD, 1900, 2, 29, 0},
        {CF_CAL_STANDARD, 1500, 2, 29, 1},      {CF_CAL_STANDARD, 1582, 10, 4, 1},
        {CF_CAL_STANDARD, 1582, 10, 5, 0},      {CF_CAL_STANDARD, 1582, 10, 14, 0},
        {CF_CAL_STANDARD, 1582, 10, 15, 1},     {CF_CAL_PROLEPTIC_GREGORIAN, 1582, 10, 10, 1},
        {CF_CAL_PROLEPTIC_GREGORIAN, 1900, 2, 29, 0}, {CF_CAL_PROLEPTIC_GREGORIAN, 2000, 2, 29, 1},
        {CF_CAL_PROLEPTIC_GREGORIAN, 1500, 2, 29, 0}, {CF_CAL_JULIAN, 1900, 2, 29, 1},
        {CF_CAL_JULIAN, 1582, 10, 10, 1},       {CF_CAL_JULIAN, 2001, 2, 29, 0},
        {CF_CAL_NOLEAP, 2000, 2, 29, 0},        {CF_CAL_NOLEAP, 2000, 2, 28, 1},
        {CF_CAL_ALL_LEAP, 2001, 2, 29, 1},      {CF_CAL_ALL_LEAP, 2001, 2, 30, 0},
        {CF_CAL_360_DAY, 2001, 2, 30, 1},       {CF_CAL_360_DAY, 2001, 1, 31, 0},
        {CF_CAL_360_DAY, 2001, 13, 1, 0},       {CF_CAL_STANDARD, 2001, 4, 31, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cf_datetime dt = {cases[i].y, cases[i].m, cases[i].d, 0, 0, 0, 0};
        floe_err err = cf_datetime_check(cases[i].cal, &dt);
        if ((err == NULL) != cases[i].exists)
            fail_msg("%04d-%02d-%02d in %s: expected it to %s", cases[i].y, cases[i].m, cases[i].d,
                     cf_calendar_name(cases[i].cal), cases[i].exists ? "exist" : "not exist");
        if (err)
            assert_int_equal(floe_err_code(err), FLOE_EINVAL);
        floe_err_free(&err);
    }
    cf_datetime bad_time = {2001, 1, 1, 24, 0, 0, 0};
    expect_code(cf_datetime_check(CF_CAL_STANDARD, &bad_time), FLOE_EINVAL, "time of day");
}

/* Every day in a long span converts to a date and back, consecutive days
 * are consecutive dates, and each year has the calendar's length. */
static void round_trip_every_calendar(void **state)
{
    (void)state;
    const cf_calendar cals[] = {CF_CAL_STANDARD, CF_CAL_PROLEPTIC_GREGORIAN, CF_CAL_JULIAN,
                                CF_CAL_NOLEAP, CF_CAL_ALL_LEAP, CF_CAL_360_DAY};
    const int64_t day = INT64_C(86400000000);
    for (size_t c = 0; c < 6; c++) {
        cf_datetime prev;
        cf_instant_to_datetime(cals[c], -800000 * day, &prev);
        for (int64_t d = -800000 + 1; d <= 800000; d++) {
            cf_datetime dt;
            cf_instant_to_datetime(cals[c], d * day + 3723000001, &dt); /* 01:02:03.000001 */
            assert_true(dt.hour == 1 && dt.minute == 2 && dt.second == 3 && dt.microsecond == 1);
            cf_instant back;
            expect_ok(cf_datetime_to_instant(cals[c], &dt, &back));
            assert_true(back == d * day + 3723000001);
            int next_day = dt.day == prev.day + 1 && dt.month == prev.month && dt.year == prev.year;
            int next_month = dt.day == 1 && dt.month == prev.month + 1 && dt.year == prev.year;
            int next_year = dt.day == 1 && dt.month == 1 && prev.month == 12 && dt.year == prev.year + 1;
            int gap = cals[c] == CF_CAL_STANDARD && prev.year == 1582 && prev.month == 10 && prev.day == 4 &&
                      dt.day == 15;
            if (!(next_day || next_month || next_year || gap))
                fail_msg("%s: day %lld is %d-%d-%d after %d-%d-%d", cf_calendar_name(cals[c]), (long long)d,
                         dt.year, dt.month, dt.day, prev.year, prev.month, prev.day);
            prev = dt;
        }
    }
    /* year lengths: 2000 and 2001 */
    static const struct {
        cf_calendar cal;
        int64_t len2000, len2001;
    } lens[] = {{CF_CAL_STANDARD, 366, 365},     {CF_CAL_PROLEPTIC_GREGORIAN, 366, 365},
                {CF_CAL_JULIAN, 366, 365},       {CF_CAL_NOLEAP, 365, 365},
                {CF_CAL_ALL_LEAP, 366, 366},     {CF_CAL_360_DAY, 360, 360}};
    for (size_t i = 0; i < 6; i++) {
        cf_datetime a = {2000, 1, 1, 0, 0, 0, 0}, b = {2001, 1, 1, 0, 0, 0, 0}, c2 = {2002, 1, 1, 0, 0, 0, 0};
        cf_instant ta, tb, tc;
        expect_ok(cf_datetime_to_instant(lens[i].cal, &a, &ta));
        expect_ok(cf_datetime_to_instant(lens[i].cal, &b, &tb));
        expect_ok(cf_datetime_to_instant(lens[i].cal, &c2, &tc));
        assert_true((tb - ta) / day == lens[i].len2000);
        assert_true((tc - tb) / day == lens[i].len2001);
    }
}

/* Proleptic Gregorian against glibc's gmtime_r (itself proleptic
 * Gregorian), 1000 .. 6000, every 13 days. */
static void proleptic_gregorian_matches_gmtime(void **state)
{
    (void)state;
    const int64_t day = INT64_C(86400000000);
    for (int64_t d = -355000; d <= 1480000; d += 13) {
        time_t t = (time_t)(d * 86400 + 45296); /* 12:34:56 */
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        cf_datetime dt;
        cf_instant_to_datetime(CF_CAL_PROLEPTIC_GREGORIAN, d * day + INT64_C(45296000000), &dt);
        if (dt.year != tm.tm_year + 1900 || dt.month != tm.tm_mon + 1 || dt.day != tm.tm_mday ||
            dt.hour != 12 || dt.minute != 34 || dt.second != 56)
            fail_msg("day %lld: floe %d-%d-%d, gmtime %d-%d-%d", (long long)d, dt.year, dt.month, dt.day,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        /* the standard calendar agrees from 1582-10-15 on */
        if (d >= -141427) {
            cf_datetime s;
            cf_instant_to_datetime(CF_CAL_STANDARD, d * day, &s);
            assert_true(s.year == dt.year && s.month == dt.month && s.day == dt.day);
        }
    }
}

static void intervals(void **state)
{
    (void)state;
    cf_time_units u;
    expect_ok(cf_time_units_parse("hours since 2001-01-01 00:00:00", "standard", &u));
    cf_interval iv;
    const int64_t h = INT64_C(3600000000);

    /* a bare date: the whole day, as pandas/xarray select with "2001-01-16" */
    expect_ok(cf_interval_parse(u.calendar, "2001-01-16", &iv));
    assert_true(iv.lo == u.ref + 15 * 24 * h && iv.hi == u.ref + 16 * 24 * h);
    cf_instant t;
    expect_ok(cf_time_value_to_instant(&u, 15 * 24 + 23.5, &t));
    assert_true(cf_interval_contains(&iv, t));
    expect_ok(cf_time_value_to_instant(&u, 16 * 24, &t));
    assert_false(cf_interval_contains(&iv, t));

    /* both days included; the end covers its whole day */
    expect_ok(cf_interval_parse(u.calendar, "2001-01-01/2001-01-31", &iv));
    assert_true(iv.lo == u.ref && iv.hi == u.ref + 31 * 24 * h);
    /* the test bed's steps are at the end of each day: 24, 48, ..., 744 */
    int n = 0;
    for (int k = 1; k <= 62; k++) {
        expect_ok(cf_time_value_to_instant(&u, 24.0 * k, &t));
        n += cf_interval_contains(&iv, t);
    }
    assert_int_equal(n, 30); /* 2001-01-02T00 .. 2001-01-31T00 */

    /* an explicit time is a minute (or second) wide, inclusive of that instant */
    expect_ok(cf_interval_parse(u.calendar, "2001-01-02T00:00/2001-01-03T00:00", &iv));
    assert_true(iv.lo == u.ref + 24 * h && iv.hi == u.ref + 48 * h + 60000000);
    expect_ok(cf_interval_parse(u.calendar, "2001-01-02T00:00:00Z/2001-01-03T00:00:00Z", &iv));
    assert_true(iv.hi == u.ref + 48 * h + 1000000);
    expect_ok(cf_interval_parse(u.calendar, "2001-01-02 06:00:00.5", &iv));
    assert_true(iv.lo == u.ref + 30 * h + 500000 && iv.hi == u.ref + 30 * h + 600000);
    /* time zones */
    expect_ok(cf_interval_parse(u.calendar, "2001-01-02T01:00+01:00", &iv));
    assert_true(iv.lo == u.ref + 24 * h);
    expect_ok(cf_interval_parse(u.calendar, "2001-01-01T19:00-0500", &iv));
    assert_true(iv.lo == u.ref + 24 * h);
    /* open ends */
    expect_ok(cf_interval_parse(u.calendar, "../2001-01-02", &iv));
    assert_true(iv.lo == CF_INSTANT_MIN && iv.hi == u.ref + 48 * h);
    expect_ok(cf_interval_parse(u.calendar, "2001-01-02/", &iv));
    assert_true(iv.lo == u.ref + 24 * h && iv.hi == CF_INSTANT_MAX);
    /* months and years per calendar */
    expect_ok(cf_interval_parse(CF_CAL_STANDARD, "2000-02", &iv));
    assert_true((iv.hi - iv.lo) == 29 * 24 * h);
    expect_ok(cf_interval_parse(CF_CAL_NOLEAP, "2000-02", &iv));
    assert_true((iv.hi - iv.lo) == 28 * 24 * h);
    expect_ok(cf_interval_parse(CF_CAL_360_DAY, "2000-02", &iv));
    assert_true((iv.hi - iv.lo) == 30 * 24 * h);
    expect_ok(cf_interval_parse(CF_CAL_360_DAY, "2000", &iv));
    assert_true((iv.hi - iv.lo) == 360 * 24 * h);
    expect_ok(cf_interval_parse(CF_CAL_STANDARD, "2000-12/2001-01", &iv));
    assert_true((iv.hi - iv.lo) == 62 * 24 * h);
    expect_ok(cf_interval_parse(CF_CAL_STANDARD, "1582-10", &iv));
    assert_true((iv.hi - iv.lo) == 21 * 24 * h); /* the month without its ten lost days */

    /* errors name the text */
    expect_code(cf_interval_parse(CF_CAL_STANDARD, "2001-02-01/2001-01-01", &iv), FLOE_EINVAL, "ends before");
    expect_code(cf_interval_parse(CF_CAL_STANDARD, "yesterday", &iv), FLOE_EINVAL, "'yesterday'");
    expect_code(cf_interval_parse(CF_CAL_STANDARD, "2001-13-01", &iv), FLOE_EINVAL, "month 13");
    expect_code(cf_interval_parse(CF_CAL_NOLEAP, "2000-02-29", &iv), FLOE_EINVAL, "noleap");
    expect_code(cf_interval_parse(CF_CAL_STANDARD, "2001-01-01/2001-02-01/2001-03-01", &iv), FLOE_EINVAL, "'/'");
    expect_code(cf_interval_parse(CF_CAL_STANDARD, "2001-01-01T12:00+25:00", &iv), FLOE_EINVAL, "2001");
    expect_code(cf_interval_parse(CF_CAL_STANDARD, "2001-01-01 trailing", &iv), FLOE_EINVAL, "trailing");
}

static void units_errors(void **state)
{
    (void)state;
    cf_time_units u;
    expect_code(cf_time_units_parse("months since 2000-01-01", "360_day", &u), FLOE_EUNSUPPORTED, "months");
    expect_code(cf_time_units_parse("fortnights since 2000-01-01", NULL, &u), FLOE_EFORMAT, "fortnights");
    expect_code(cf_time_units_parse("days after 2000-01-01", NULL, &u), FLOE_EFORMAT, "UNIT since DATE");
    expect_code(cf_time_units_parse("days since", NULL, &u), FLOE_EFORMAT, "days since");
    expect_code(cf_time_units_parse("days since 2001-02-29", "noleap", &u), FLOE_EINVAL, "2001-02-29");
    expect_code(cf_time_units_parse("days since 2000-01-01", "none", &u), FLOE_EUNSUPPORTED, "'none'");
    expect_code(cf_time_units_parse(NULL, NULL, &u), FLOE_EFORMAT, "missing");
    expect_ok(cf_time_units_parse("days since 2000-01-01", "366_DAY", &u));
    assert_int_equal(u.calendar, CF_CAL_ALL_LEAP);
    cf_instant t;
    expect_code(cf_time_value_to_instant(&u, NAN, &t), FLOE_EINVAL, "finite");
    expect_code(cf_time_value_to_instant(&u, 1e12, &t), FLOE_EINVAL, "beyond");
}

static void value_conversions(void **state)
{
    (void)state;
    cf_time_units u;
    expect_ok(cf_time_units_parse("seconds since 1970-01-01", "proleptic_gregorian", &u));
    cf_instant t;
    /* whole values stay exact far from the reference */
    expect_ok(cf_time_value_to_instant(&u, 4102444800.0, &t));
    assert_true(t == INT64_C(4102444800000000));
    /* fractions round to the nearest microsecond */
    expect_ok(cf_time_value_to_instant(&u, 0.0000014, &t));
    assert_true(t == 1);
    expect_ok(cf_time_value_to_instant(&u, -0.0000016, &t));
    assert_true(t == -2);
    assert_true(cf_time_instant_to_value(&u, INT64_C(1500000)) == 1.5);
    assert_true(cf_time_instant_to_value(&u, INT64_C(-2500000)) == -2.5);
    char buf[64];
    cf_datetime neg = {-1, 12, 31, 23, 59, 59, 0};
    assert_string_equal(cf_datetime_format(&neg, buf, sizeof buf), "-0001-12-31T23:59:59");
    cf_datetime y0 = {0, 1, 1, 0, 0, 0, 0};
    assert_string_equal(cf_datetime_format(&y0, buf, sizeof buf), "0000-01-01T00:00:00");
    assert_string_equal(cf_calendar_name(CF_CAL_360_DAY), "360_day");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(num2date_matches_cftime),
        cmocka_unit_test(date2num_matches_cftime),
        cmocka_unit_test(dates_that_exist_per_calendar),
        cmocka_unit_test(round_trip_every_calendar),
        cmocka_unit_test(proleptic_gregorian_matches_gmtime),
        cmocka_unit_test(intervals),
        cmocka_unit_test(units_errors),
        cmocka_unit_test(value_conversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
