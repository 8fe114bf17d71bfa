/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the percentile kernel (engine/reduce/percentile.h) and
 * the percentile items of --stat lists.
 *
 * The expected values were computed with numpy 1.24.2, not with floe:
 *   np.nanpercentile(np.array(VALUES, dtype=np.float64), np.array(PCTS))
 * printed with float.hex(), so they are numpy's bits. The "lerp" cases are
 * random ones where a plain x[lo] + (x[hi] - x[lo]) * t differs from
 * numpy's two-sided formula in the last bits: a kernel that interpolates
 * otherwise fails them. */
#include "engine/reduce/percentile.h"
#include "engine/reduce/accum.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pcase {
    const char *what;
    double values[12];
    size_t n;
    const char *items; /* the percentiles as a --stat list */
    double want[10];   /* numpy's, in ascending percentile order */
} pcase;

static const pcase cases[] = {
    {"ten values", {3.5, -1.25, 7.0, 2.0, 9.75, 0.1, 4.4, 8.8, -3.3, 6.6}, 10,
     "p0,p5,p25,p33.3,p50,p66.7,p90,p95,p99.9,p100",
     {-0x1.a666666666666p+1, -0x1.3051eb851eb85p+1, 0x1.2666666666666p-1, 0x1.fe8a71de69ad3p+0,
      0x1.f99999999999ap+1, 0x1.a67a0f9096bb9p+2, 0x1.1ca3d70a3d70ap+3, 0x1.2a51eb851eb85p+3,
      0x1.37b9f559b3d09p+3, 0x1.3800000000000p+3}},
    {"one value", {2.5}, 1, "p0,p37.5,p100",
     {0x1.4000000000000p+1, 0x1.4000000000000p+1, 0x1.4000000000000p+1}},
    {"NaNs skipped", {NAN, 4.0, NAN, 1.0, 2.0, NAN, 3.0}, 7, "p10,p50,p87.5",
     {0x1.4cccccccccccdp+0, 0x1.4000000000000p+1, 0x1.d000000000000p+1}},
    {"repeated values", {5.0, 5.0, 5.0, 1.0, 5.0, 9.0}, 6, "p5,p20,p50,p80,p95",
     {0x1.0000000000000p+1, 0x1.4000000000000p+2, 0x1.4000000000000p+2, 0x1.4000000000000p+2,
      0x1.0000000000000p+3}},
    {"large spread", {1e16, 1.0, -1e16, 3.0, 2.0}, 5, "p30,p70,p99",
     {0x1.3333333333333p+0, 0x1.6666666666666p+1, 0x1.10d9316ec0000p+53}},
    {"both lerp sides", {0.1, 0.2, 0.3, 0.7}, 4, "p10,p40,p60,p90",
     {0x1.0a3d70a3d70a4p-3, 0x1.c28f5c28f5c2ap-3, 0x1.1eb851eb851ebp-2, 0x1.28f5c28f5c290p-1}},
    {"lerp 1", {2.987, -2.741, -8.906, -4.547, -9.916, 0.601, 13.402, -4.922, -6.205, 4.898, 3.569},
     11, "p99.9", {0x1.aa24894c447ccp+3}},
    {"lerp 2", {2.713, 1.568, -1.869, -25.168, -5.387, -0.485, 1.133, -15.301, -4.778, -9.785}, 10,
     "p99.9", {0x1.59f1e8e608077p+1}},
    {"lerp 3", {-3.272, -3.686, -2.502, 15.235, -4.28, -3.037}, 6, "p99",
     {0x1.cb240b780346fp+3}},
};

static void parse_items(const char *items, floe_pctl_list *l)
{
    memset(l, 0, sizeof *l);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", items);
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ","))
        expect_ok(floe_pctl_list_add(l, p));
}

static void test_numpy_values(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const pcase *k = &cases[c];
        floe_pctl_list l;
        parse_items(k->items, &l);
        double x[12], out[FLOE_PCTL_MAX];
        size_t n = floe_pctl_valid_f64(k->values, k->n, x);
        floe_pctl_compute(&l, x, n, out, -1.0);
        for (size_t q = 0; q < l.n; q++)
            if (memcmp(&out[q], &k->want[q], sizeof out[q]))
                fail_msg("%s %s: %a, numpy %a", k->what, l.name[q], out[q], k->want[q]);
        /* the same from float values (exactly representable ones) */
        float f[12];
        for (size_t i = 0; i < k->n; i++)
            f[i] = (float)k->values[i];
        n = floe_pctl_valid_f32(f, k->n, x);
        size_t valid = 0;
        for (size_t i = 0; i < k->n; i++)
            valid += !isnan(k->values[i]);
        assert_int_equal(n, valid);
    }
}

/* The order of the values does not matter: every rotation and the reverse
 * give the same bits. */
static void test_order_free(void **state)
{
    (void)state;
    const pcase *k = &cases[0];
    floe_pctl_list l;
    parse_items(k->items, &l);
    for (size_t r = 0; r < 2 * k->n; r++) {
        double x[12], out[FLOE_PCTL_MAX];
        for (size_t i = 0; i < k->n; i++)
            x[i] = r < k->n ? k->values[(i + r) % k->n] : k->values[k->n - 1 - (i + r) % k->n];
        floe_pctl_compute(&l, x, k->n, out, -1.0);
        assert_memory_equal(out, k->want, l.n * sizeof *out);
    }
}

/* Many values (selection over several partitions): against a sort. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_against_sort(void **state)
{
    (void)state;
    enum { N = 1001 };
    static double v[N], s[N];
    uint64_t z = 12345;
    for (size_t i = 0; i < N; i++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (double)(z >> 40) / 1024.0 - (i % 7 == 0 ? 3000.0 : 0.0); /* with repeats */
    }
    memcpy(s, v, sizeof s);
    qsort(s, N, sizeof *s, cmp_double);
    floe_pctl_list l;
    parse_items("p0,p1,p10,p50,p50.05,p99,p99.99,p100", &l);
    double out[FLOE_PCTL_MAX];
    floe_pctl_compute(&l, v, N, out, -1.0);
    for (size_t q = 0; q < l.n; q++) {
        double i = (double)(N - 1) * (l.pct[q] / 100.0);
        size_t lo = (size_t)floor(i), hi = lo + 1 < N ? lo + 1 : N - 1;
        double want = i >= N - 1 ? s[N - 1] : (i - (double)lo >= 0.5
                                                   ? s[hi] - (s[hi] - s[lo]) * (1 - (i - (double)lo))
                                                   : s[lo] + (s[hi] - s[lo]) * (i - (double)lo));
        if (out[q] != want)
            fail_msg("%s: %a, sorted %a", l.name[q], out[q], want);
    }
}

static void test_no_values(void **state)
{
    (void)state;
    floe_pctl_list l;
    parse_items("p5,p95", &l);
    double x[3] = {NAN, NAN, NAN}, out[2];
    size_t n = floe_pctl_valid_f64(x, 3, x);
    assert_int_equal(n, 0);
    floe_pctl_compute(&l, x, n, out, -9999.0);
    assert_true(out[0] == -9999.0 && out[1] == -9999.0);
}

static void test_items(void **state)
{
    (void)state;
    floe_pctl_list l;
    memset(&l, 0, sizeof l);
    assert_true(floe_pctl_is_item("p5") && floe_pctl_is_item("p99.9"));
    assert_false(floe_pctl_is_item("pct") || floe_pctl_is_item("p") || floe_pctl_is_item("mean"));
    expect_ok(floe_pctl_list_add(&l, "p95"));
    expect_ok(floe_pctl_list_add(&l, "p05"));
    expect_ok(floe_pctl_list_add(&l, "p99.90"));
    expect_ok(floe_pctl_list_add(&l, "p50.0"));
    expect_ok(floe_pctl_list_add(&l, "p0"));
    expect_ok(floe_pctl_list_add(&l, "p100"));
    assert_int_equal(l.n, 6);
    const char *want[] = {"p0", "p5", "p50", "p95", "p99.9", "p100"};
    for (size_t k = 0; k < l.n; k++)
        assert_string_equal(l.name[k], want[k]);
    assert_true(l.pct[4] == 99.9);
    char buf[FLOE_PCTL_NAME_SIZE];
    floe_pctl_var_suffix(&l, 4, buf, sizeof buf);
    assert_string_equal(buf, "p99_9");
    floe_pctl_ordinal(&l, 4, buf, sizeof buf);
    assert_string_equal(buf, "99.9th");
    floe_pctl_ordinal(&l, 1, buf, sizeof buf);
    assert_string_equal(buf, "5th");
    floe_pctl_list m;
    parse_items("p1,p2,p3,p11,p12,p13,p21,p22,p23", &m);
    const char *ord[] = {"1st", "2nd", "3rd", "11th", "12th", "13th", "21st", "22nd", "23rd"};
    for (size_t k = 0; k < m.n; k++) {
        floe_pctl_ordinal(&m, k, buf, sizeof buf);
        assert_string_equal(buf, ord[k]);
    }
    expect_code(floe_pctl_list_add(&l, "p5"), FLOE_EINVAL, "twice");
    expect_code(floe_pctl_list_add(&l, "p5.00"), FLOE_EINVAL, "twice");
    expect_code(floe_pctl_list_add(&l, "p100.5"), FLOE_EINVAL, "0 to 100");
    expect_code(floe_pctl_list_add(&l, "p101"), FLOE_EINVAL, "0 to 100");
    expect_code(floe_pctl_list_add(&l, "p5x"), FLOE_EINVAL, "'p5x'");
    expect_code(floe_pctl_list_add(&l, "p5."), FLOE_EINVAL, "'p5.'");
    expect_code(floe_pctl_list_add(&l, "p-5"), FLOE_EINVAL, "'p-5'");
    expect_code(floe_pctl_list_add(&l, "p1e1"), FLOE_EINVAL, "'p1e1'");
}

static void test_too_many(void **state)
{
    (void)state;
    floe_pctl_list l;
    memset(&l, 0, sizeof l);
    char item[16];
    for (int k = 0; k < FLOE_PCTL_MAX; k++) {
        snprintf(item, sizeof item, "p%d", k);
        expect_ok(floe_pctl_list_add(&l, item));
    }
    expect_code(floe_pctl_list_add(&l, "p99"), FLOE_EINVAL, "at most");
}

/* --stat lists mixing statistics and percentiles. */
static void test_stat_lists(void **state)
{
    (void)state;
    unsigned m = 0;
    floe_pctl_list l;
    expect_ok(floe_stat_parse_list_pctl("p95, mean ,p5,count", FLOE_STAT_ALL, &m, &l));
    assert_int_equal(m, FLOE_STAT_MEAN | FLOE_STAT_COUNT);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.name[0], "p5");
    expect_ok(floe_stat_parse_list_pctl("p50", FLOE_STAT_ALL, &m, &l));
    assert_int_equal(m, 0);
    assert_int_equal(l.n, 1);
    expect_code(floe_stat_parse_list_pctl("mean,p5,p05", FLOE_STAT_ALL, &m, &l), FLOE_EINVAL,
                "twice");
    expect_code(floe_stat_parse_list_pctl("mean,median", FLOE_STAT_ALL, &m, &l), FLOE_EINVAL,
                "pNN");
    /* without room for percentiles (series' regions): unknown, as before */
    expect_code(floe_stat_parse_list("mean,p5", FLOE_STAT_ALL, &m), FLOE_EINVAL, "'p5'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_values), cmocka_unit_test(test_order_free),
        cmocka_unit_test(test_against_sort), cmocka_unit_test(test_no_values),
        cmocka_unit_test(test_items),        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_stat_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
