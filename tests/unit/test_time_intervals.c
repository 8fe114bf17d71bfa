/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the spans time steps stand for and selecting by them
 * (engine/plan/time_intervals.h). The axis is the NLDAS-3 daily archive's:
 * file A2001MMDD stamped at 00:00 of the NEXT day. The expected steps
 * are counted here from the file days, not from floe. */
#include "engine/plan/time_intervals.h"

#include "floe_test.h"

static const int64_t HOUR = 3600LL * 1000000LL, DAY = 24 * HOUR;

static cf_instant at(const char *iso)
{
    cf_interval iv;
    expect_ok(cf_interval_parse(CF_CAL_STANDARD, iso, &iv));
    return iv.lo;
}

/* The stamps of the files A20010101 .. A20010303 (62 days): each the
 * 00:00 after its day. */
enum { NDAYS = 62 };
static void nldas_stamps(cf_instant *t)
{
    for (int k = 0; k < NDAYS; k++)
        t[k] = at("2001-01-01") + (k + 1) * DAY;
}

static void labels(void **state)
{
    (void)state;
    floe_time_label l;
    expect_ok(floe_time_label_parse(NULL, "--time-label", &l));
    assert_int_equal(l, FLOE_TIME_LABEL_AUTO);
    expect_ok(floe_time_label_parse("end", "--time-label", &l));
    assert_int_equal(l, FLOE_TIME_LABEL_END);
    expect_ok(floe_time_label_parse("start", "--time-label", &l));
    assert_int_equal(l, FLOE_TIME_LABEL_START);
    expect_ok(floe_time_label_parse("point", "--time-label", &l));
    assert_int_equal(l, FLOE_TIME_LABEL_POINT);
    expect_err(floe_time_label_parse("middle", "--time-label", &l), FLOE_EINVAL,
               "--time-label 'middle'", "point, start or end");
    expect_err(floe_time_label_parse("bounds", "--time-label", &l), FLOE_EINVAL, "bounds", NULL);
    assert_string_equal(floe_time_label_name(FLOE_TIME_LABEL_END), "end");
}

static void step_intervals(void **state)
{
    (void)state;
    cf_instant t[NDAYS];
    cf_interval s[NDAYS];
    nldas_stamps(t);
    expect_ok(floe_time_step_intervals(t, NDAYS, FLOE_TIME_LABEL_END, s));
    /* A20010131 (stamped 2001-02-01T00:00) covers January 31 */
    assert_true(s[30].lo == at("2001-01-31") && s[30].hi == at("2001-02-01"));
    assert_true(s[0].lo == at("2001-01-01") && s[0].hi == at("2001-01-02"));
    assert_true(floe_time_step_mid(&s[30]) == at("2001-01-31T12"));
    expect_ok(floe_time_step_intervals(t, NDAYS, FLOE_TIME_LABEL_START, s));
    assert_true(s[30].lo == at("2001-02-01") && s[30].hi == at("2001-02-02"));
    assert_true(s[NDAYS - 1].hi - s[NDAYS - 1].lo == DAY);
    expect_ok(floe_time_step_intervals(t, NDAYS, FLOE_TIME_LABEL_POINT, s));
    assert_true(s[30].lo == s[30].hi && s[30].lo == t[30]);
    assert_true(floe_time_step_is_point(&s[0]));

    /* months of unequal length, end-labelled: each step its own month */
    cf_instant m[4] = {at("2001-02-01"), at("2001-03-01"), at("2001-04-01"), at("2001-05-01")};
    cf_interval ms[4];
    expect_ok(floe_time_step_intervals(m, 4, FLOE_TIME_LABEL_END, ms));
    assert_true(ms[1].lo == at("2001-02-01") && ms[1].hi == at("2001-03-01"));
    assert_true(ms[2].lo == at("2001-03-01") && ms[2].hi == at("2001-04-01"));
    /* the first takes its neighbour's length (28 days) */
    assert_true(ms[0].hi - ms[0].lo == 28 * DAY);

    /* one stamp: no length; stamps that repeat: no interval */
    expect_err(floe_time_step_intervals(t, 1, FLOE_TIME_LABEL_END, s), FLOE_EINVAL,
               "1 step", "no step length");
    cf_instant rep[3] = {t[0], t[1], t[1]};
    expect_err(floe_time_step_intervals(rep, 3, FLOE_TIME_LABEL_START, s), FLOE_EINVAL,
               "do not increase", "step 2");
}

static void bounds_intervals(void **state)
{
    (void)state;
    cf_time_units u;
    expect_ok(cf_time_units_parse("hours since 2001-01-01", "standard", &u));
    double b[6] = {0, 24, 48, 24, 48, 72}; /* either order */
    cf_interval s[3];
    expect_ok(floe_time_bounds_intervals(&u, b, 3, s));
    assert_true(s[1].lo == at("2001-01-02") && s[1].hi == at("2001-01-03"));
    double z[2] = {5, 5};
    expect_err(floe_time_bounds_intervals(&u, z, 1, s), FLOE_EINVAL, "step 0", "both ends");
}

static void select_of(const cf_interval *s, size_t n, const char *text, floe_time_selection *out)
{
    cf_interval q;
    expect_ok(cf_interval_parse(CF_CAL_STANDARD, text, &q));
    floe_time_select_steps(s, n, &q, out);
}

static void selection(void **state)
{
    (void)state;
    cf_instant t[NDAYS];
    cf_interval s[NDAYS];
    floe_time_selection sel;
    nldas_stamps(t);

    /* points (today's reading): January holds the files A20010101..A20010130 */
    expect_ok(floe_time_step_intervals(t, NDAYS, FLOE_TIME_LABEL_POINT, s));
    select_of(s, NDAYS, "2001-01", &sel);
    assert_int_equal(sel.t0, 0);
    assert_int_equal(sel.t1, 30);
    assert_true(sel.clipped_before && !sel.clipped_after); /* the data start on Jan 2 */
    assert_true(sel.range.lo == at("2001-01-02") && sel.range.hi == at("2001-03-04"));

    /* end labels: January is the 31 files A20010101..A20010131 */
    expect_ok(floe_time_step_intervals(t, NDAYS, FLOE_TIME_LABEL_END, s));
    select_of(s, NDAYS, "2001-01", &sel);
    assert_int_equal(sel.t0, 0);
    assert_int_equal(sel.t1, 31);
    assert_false(sel.clipped_before || sel.clipped_after);
    assert_true(sel.range.lo == at("2001-01-01") && sel.range.hi == at("2001-03-04"));
    select_of(s, NDAYS, "2001-01-01/2001-01-31", &sel);
    assert_int_equal(sel.t1 - sel.t0, 31);
    /* February begins with A20010201, not with January 31's file */
    select_of(s, NDAYS, "2001-02", &sel);
    assert_int_equal(sel.t0, 31);
    assert_int_equal(sel.t1, 59);
    /* a period inside one day selects that day */
    select_of(s, NDAYS, "2001-01-15T06", &sel);
    assert_int_equal(sel.t0, 14);
    assert_int_equal(sel.t1, 15);
    /* past the data: clipped, and said */
    select_of(s, NDAYS, "2001-02-20/2001-04-30", &sel);
    assert_int_equal(sel.t0, 50);
    assert_int_equal(sel.t1, NDAYS);
    assert_true(!sel.clipped_before && sel.clipped_after);
    select_of(s, NDAYS, "2001", &sel);
    assert_true(sel.clipped_before == 0 && sel.clipped_after == 1);
    assert_int_equal(sel.t1 - sel.t0, NDAYS);
    /* open ends are not clipping */
    select_of(s, NDAYS, "../2001-01-10", &sel);
    assert_true(sel.t0 == 0 && sel.t1 == 10 && !sel.clipped_before && !sel.clipped_after);
    /* nothing: empty, with the range */
    select_of(s, NDAYS, "2002", &sel);
    assert_int_equal(sel.t0, sel.t1);
    assert_true(sel.range.lo == at("2001-01-01") && sel.range.hi == at("2001-03-04"));
    /* Dec 31 2000's file (stamped 2001-01-01T00:00) would not be January */
    cf_instant t2[3] = {at("2001-01-01"), at("2001-01-02"), at("2001-01-03")};
    cf_interval s2[3];
    expect_ok(floe_time_step_intervals(t2, 3, FLOE_TIME_LABEL_END, s2));
    select_of(s2, 3, "2001-01", &sel);
    assert_int_equal(sel.t0, 1);
    assert_int_equal(sel.t1, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(labels),
        cmocka_unit_test(step_intervals),
        cmocka_unit_test(bounds_intervals),
        cmocka_unit_test(selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
