/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for cell areas and area-weighted statistics
 * (engine/reduce/area_weights.h).
 *
 * Independent references: the area of the whole sphere (4 pi R^2), the
 * spherical zone formula 2 pi R^2 (sin b - sin a) for latitude bands,
 * edges worked out by hand for irregular axes, and the exact area mean of
 * sin^2(lat) over the sphere (1/3; an unweighted row mean would give 1/2).
 */
#include "engine/reduce/area_weights.h"

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

static const double PI = 3.14159265358979323846;
static const double D2R = 3.14159265358979323846 / 180.0;

static void assert_rel(double got, double want, double rel, const char *what)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("%s: got %.17g, want %.17g (rel %.3g)", what, got, want,
                 fabs(got - want) / fabs(want));
}

/* A global grid of `step` degrees: lat ascending or descending. */
static void global_grid(double step, int descending, double **lat, size_t *nlat, double **lon,
                        size_t *nlon)
{
    *nlat = (size_t)lround(180 / step);
    *nlon = (size_t)lround(360 / step);
    *lat = malloc(*nlat * sizeof **lat);
    *lon = malloc(*nlon * sizeof **lon);
    for (size_t i = 0; i < *nlat; i++) {
        double v = -90 + step * ((double)i + 0.5);
        (*lat)[descending ? *nlat - 1 - i : i] = v;
    }
    for (size_t j = 0; j < *nlon; j++)
        (*lon)[j] = step * ((double)j + 0.5);
}

static void test_global_sum(void **state)
{
    (void)state;
    for (int desc = 0; desc < 2; desc++) {
        double *lat, *lon;
        size_t nlat, nlon;
        global_grid(1.0, desc, &lat, &nlat, &lon, &nlon);
        double *area = malloc(nlat * nlon * sizeof *area);
        expect_ok(floe_cell_areas(lat, nlat, lon, nlon, FLOE_EARTH_RADIUS_M, area));
        long double total = 0;
        for (size_t k = 0; k < nlat * nlon; k++) {
            assert_true(area[k] > 0);
            total += area[k];
        }
        double R = FLOE_EARTH_RADIUS_M;
        assert_rel((double)total, 4 * PI * R * R, 1e-9, "sum of a global 1-degree grid");
        /* symmetric about the equator, equal along a row */
        assert_rel(area[0], area[(nlat - 1) * nlon], 1e-12, "polar rows");
        assert_rel(area[5], area[7], 1e-15, "one row");
        free(area);
        free(lat);
        free(lon);
    }
}

/* Bands against the zone formula: rows with centres in [a, b] make up
 * the zone between latitudes a - 0.5 and b + 0.5 of a 1-degree grid. */
static void test_band_vs_zone_formula(void **state)
{
    (void)state;
    double *lat, *lon;
    size_t nlat, nlon;
    global_grid(1.0, 0, &lat, &nlat, &lon, &nlon);
    double *area = malloc(nlat * nlon * sizeof *area);
    double R = FLOE_EARTH_RADIUS_M;
    expect_ok(floe_cell_areas(lat, nlat, lon, nlon, R, area));
    static const double bands[][2] = {{30, 60}, {-90, 0}, {-10, 10}, {89, 90}, {-23, 66}};
    for (size_t k = 0; k < sizeof bands / sizeof bands[0]; k++) {
        double a = bands[k][0], b = bands[k][1];
        long double sum = 0;
        for (size_t i = 0; i < nlat; i++)
            if (lat[i] > a && lat[i] < b)
                for (size_t j = 0; j < nlon; j++)
                    sum += area[i * nlon + j];
        double zone = 2 * PI * R * R * (sin(b * D2R) - sin(a * D2R));
        char what[64];
        snprintf(what, sizeof what, "zone %g..%g", a, b);
        assert_rel((double)sum, zone, 1e-9, what);
    }
    /* a quarter of the longitudes is a quarter of the zone */
    long double q = 0;
    for (size_t i = 0; i < nlat; i++)
        if (lat[i] > 30 && lat[i] < 60)
            for (size_t j = 0; j < nlon / 4; j++)
                q += area[i * nlon + j];
    assert_rel((double)q, 0.5 * PI * R * R * (sin(60 * D2R) - sin(30 * D2R)), 1e-9, "quarter");
    free(area);
    free(lat);
    free(lon);
}

static void test_irregular_edges(void **state)
{
    (void)state;
    /* centres 0, 10, 30: edges -5, 5, 20, 40 */
    double lat[3] = {0, 10, 30}, e[4], f[3];
    expect_ok(floe_cell_edges("lat", lat, 3, e));
    assert_true(e[0] == -5 && e[1] == 5 && e[2] == 20 && e[3] == 40);
    expect_ok(floe_lat_factors(lat, 3, f));
    assert_rel(f[0], sin(5 * D2R) - sin(-5 * D2R), 1e-15, "row 0");
    assert_rel(f[1], sin(20 * D2R) - sin(5 * D2R), 1e-15, "row 1");
    assert_rel(f[2], sin(40 * D2R) - sin(20 * D2R), 1e-15, "row 2");
    /* descending: the same cells */
    double rlat[3] = {30, 10, 0}, rf[3];
    expect_ok(floe_lat_factors(rlat, 3, rf));
    assert_true(rf[0] == f[2] && rf[1] == f[1] && rf[2] == f[0]);
    /* edges past the pole are clamped: 80, 89 -> 75.5, 84.5, 90 (not 93.5) */
    double polar[2] = {80, 89}, pf[2];
    expect_ok(floe_lat_factors(polar, 2, pf));
    assert_rel(pf[1], 1 - sin(84.5 * D2R), 1e-12, "polar row");
    /* longitude widths in radians, with an irregular step */
    double lon[3] = {-100, -99, -97}, w[3];
    expect_ok(floe_lon_widths(lon, 3, w));
    assert_rel(w[0], 1 * D2R, 1e-15, "lon 0");  /* -100.5 .. -99.5 */
    assert_rel(w[1], 1.5 * D2R, 1e-15, "lon 1"); /* -99.5 .. -98 */
    assert_rel(w[2], 2 * D2R, 1e-15, "lon 2");   /* -98 .. -96 */
    /* one cell by hand: R^2 * dlon * (sin n - sin s) */
    double area[9];
    expect_ok(floe_cell_areas(lat, 3, lon, 3, 2.0, area));
    assert_rel(area[1 * 3 + 2], 4.0 * 2 * D2R * (sin(20 * D2R) - sin(5 * D2R)), 1e-15, "cell");
}

static void test_errors(void **state)
{
    (void)state;
    double one = 5, e[3], f[3];
    expect_code(floe_cell_edges("lat", &one, 1, e), FLOE_EUNSUPPORTED, "lat: 1 cell centre");
    double bad[3] = {0, 1, 1};
    expect_code(floe_cell_edges("lon", bad, 3, e), FLOE_EUNSUPPORTED, "lon[2] = 1 after 1");
    double zig[3] = {0, 2, 1};
    expect_code(floe_lon_widths(zig, 3, f), FLOE_EUNSUPPORTED, "not strictly monotonic");
    double big[2] = {80, 91};
    expect_code(floe_lat_factors(big, 2, f), FLOE_EINVAL, "lat[1] = 91");
    double nan[2] = {0, NAN};
    expect_code(floe_cell_edges("lat", nan, 2, e), FLOE_EINVAL, "lat[1] is not a finite");
}

static void test_wstat_by_hand(void **state)
{
    (void)state;
    float v[4] = {1, 2, NAN, 4};
    double w[4] = {1, 3, 5, 0.5};
    uint8_t mask[4] = {1, 1, 1, 0};
    floe_wstat s;
    floe_wstat_init(&s);
    floe_wstat_add(&s, v, w, mask, 4);
    float out;
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MEAN, -1, &out));
    assert_true(out == 1.75f); /* (1*1 + 3*2) / (1 + 3) */
    expect_ok(floe_wstat_result(&s, FLOE_STAT_SUM, -1, &out));
    assert_true(out == 3);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MIN, -1, &out));
    assert_true(out == 1);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MAX, -1, &out));
    assert_true(out == 2);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_COUNT, -1, &out));
    assert_true(out == 2);
    expect_code(floe_wstat_result(&s, FLOE_STAT_STD, -1, &out), FLOE_EINVAL, "'std'");

    /* no weights, no mask: all valid cells, plain mean */
    floe_wstat_init(&s);
    floe_wstat_add(&s, v, NULL, NULL, 4);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MEAN, -1, &out));
    assert_true(out == 7.0f / 3);

    /* merge of parts = whole */
    floe_wstat a, b;
    floe_wstat_init(&a);
    floe_wstat_init(&b);
    floe_wstat_add(&a, v, w, NULL, 2);
    floe_wstat_add(&b, v + 2, w + 2, NULL, 2);
    floe_wstat_merge(&a, &b);
    expect_ok(floe_wstat_result(&a, FLOE_STAT_MEAN, -1, &out));
    assert_true(out == (float)((1.0 + 6 + 2) / 4.5));
    expect_ok(floe_wstat_result(&a, FLOE_STAT_MAX, -1, &out));
    assert_true(out == 4);

    /* nothing valid: missing, count 0 */
    float m[2] = {NAN, NAN};
    floe_wstat_init(&s);
    floe_wstat_add(&s, m, NULL, NULL, 2);
    floe_wstat_merge(&s, &s);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MEAN, -9999, &out));
    assert_true(out == -9999);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MIN, -9999, &out));
    assert_true(out == -9999);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_COUNT, -9999, &out));
    assert_true(out == 0);
}

/* The area mean of sin^2(lat) over the sphere is exactly 1/3 (the mean of
 * u^2 for u = sin(lat) uniform on [-1, 1]); a row-unweighted mean is 1/2. */
static void test_weighted_mean_analytic(void **state)
{
    (void)state;
    double *lat, *lon;
    size_t nlat, nlon;
    global_grid(0.5, 0, &lat, &nlat, &lon, &nlon);
    double *area = malloc(nlat * nlon * sizeof *area);
    float *v = malloc(nlat * nlon * sizeof *v);
    expect_ok(floe_cell_areas(lat, nlat, lon, nlon, 1.0, area));
    for (size_t i = 0; i < nlat; i++)
        for (size_t j = 0; j < nlon; j++) {
            double s = sin(lat[i] * D2R);
            v[i * nlon + j] = (float)(s * s);
        }
    floe_wstat s;
    floe_wstat_init(&s);
    for (size_t i = 0; i < nlat; i++) /* row by row, as tiles would */
        floe_wstat_add(&s, v + i * nlon, area + i * nlon, NULL, nlon);
    float out;
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MEAN, NAN, &out));
    assert_true(fabs(out - 1.0 / 3) < 1e-5);
    /* missing values are skipped, not counted as zero: punch out the
     * southern hemisphere and get the northern mean, also 1/3 */
    for (size_t k = 0; k < nlat * nlon / 2; k++)
        v[k] = NAN;
    floe_wstat_init(&s);
    floe_wstat_add(&s, v, area, NULL, nlat * nlon);
    expect_ok(floe_wstat_result(&s, FLOE_STAT_MEAN, NAN, &out));
    assert_true(fabs(out - 1.0 / 3) < 1e-5);
    free(v);
    free(area);
    free(lat);
    free(lon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_sum),
        cmocka_unit_test(test_band_vs_zone_formula),
        cmocka_unit_test(test_irregular_edges),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_wstat_by_hand),
        cmocka_unit_test(test_weighted_mean_analytic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
