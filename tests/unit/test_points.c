/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the points CSV and point location (engine/plan/points.h).
 * Expected indices and weights are worked out by hand next to each case. */
#include "engine/plan/points.h"

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

static void parse_ok(const char *text, floe_points *pts)
{
    expect_ok(floe_points_parse_csv(text, strlen(text), "points.csv", pts));
}

static void parse_fails(const char *text, floe_code code, const char *needle)
{
    floe_points pts;
    expect_code(floe_points_parse_csv(text, strlen(text), "points.csv", &pts), code, needle);
    assert_null(pts.p);
    assert_int_equal(pts.n, 0);
}

static void test_csv_without_header(void **state)
{
    (void)state;
    floe_points pts;
    parse_ok("-71.06,42.36,Boston\n-70.67, 41.52\n", &pts);
    assert_int_equal(pts.n, 2);
    assert_true(pts.p[0].lon == -71.06 && pts.p[0].lat == 42.36);
    assert_string_equal(pts.p[0].id, "Boston");
    assert_int_equal(pts.p[0].line, 1);
    assert_true(pts.p[1].lon == -70.67 && pts.p[1].lat == 41.52);
    assert_string_equal(pts.p[1].id, "2"); /* its number */
    assert_int_equal(pts.p[1].line, 2);
    floe_points_free(&pts);
    floe_points_free(&pts);

    /* no final newline; len shorter than the string */
    const char *text = "1,2,a\n3,4,b\nGARBAGE";
    expect_ok(floe_points_parse_csv(text, 11, "points.csv", &pts));
    assert_int_equal(pts.n, 2);
    assert_string_equal(pts.p[1].id, "b");
    floe_points_free(&pts);
}

/* Excel's "CSV UTF-8" starts the file with a byte-order mark, which is not
 * part of the first header name. */
static void test_csv_byte_order_mark(void **state)
{
    (void)state;
    floe_points pts;
    parse_ok("\xEF\xBB\xBFlon,lat,id\r\n-71.06,42.36,Boston\r\n", &pts);
    assert_int_equal(pts.n, 1);
    assert_true(pts.p[0].lon == -71.06 && pts.p[0].lat == 42.36);
    assert_string_equal(pts.p[0].id, "Boston");
    floe_points_free(&pts);
    parse_ok("\xEF\xBB\xBF-71.06,42.36\n", &pts); /* no header */
    assert_int_equal(pts.n, 1);
    assert_true(pts.p[0].lon == -71.06);
    floe_points_free(&pts);
    /* Only at the start of the file. */
    parse_fails("lon,lat\n\xEF\xBB\xBF-71.06,42.36\n", FLOE_EFORMAT, "line 2");
}

static void test_csv_header_quotes_comments(void **state)
{
    (void)state;
    floe_points pts;
    parse_ok("# stations\r\n"
             "\r\n"
             "ID, Lat ,LONGITUDE,elevation\r\n"
             "\"Woods Hole, MA\",41.52,-70.67,3\r\n"
             "   \r\n"
             "# a comment\r\n"
             "\"say \"\"hi\"\"\",  42.0 ,-71,  10\r\n"
             ",43,-72,0\r\n",
             &pts);
    assert_int_equal(pts.n, 3);
    assert_string_equal(pts.p[0].id, "Woods Hole, MA");
    assert_true(pts.p[0].lon == -70.67 && pts.p[0].lat == 41.52);
    assert_int_equal(pts.p[0].line, 4);
    assert_string_equal(pts.p[1].id, "say \"hi\"");
    assert_true(pts.p[1].lon == -71 && pts.p[1].lat == 42);
    assert_int_equal(pts.p[1].line, 7);
    assert_string_equal(pts.p[2].id, "3"); /* empty id: its number */
    floe_points_free(&pts);

    parse_ok("\"lon\",\"lat\"\n5,6\n", &pts); /* a quoted header */
    assert_int_equal(pts.n, 1);
    assert_true(pts.p[0].lon == 5 && pts.p[0].lat == 6);
    floe_points_free(&pts);
}

static void test_csv_errors_name_the_line(void **state)
{
    (void)state;
    parse_fails("abc,42\n", FLOE_EFORMAT, "points.csv line 1: longitude 'abc' is not a number");
    parse_fails("1,2\n\n# c\n1,y\n", FLOE_EFORMAT, "points.csv line 4: latitude 'y' is not a number");
    parse_fails("1,2\n1,95\n", FLOE_EINVAL, "line 2: latitude 95 is outside [-90, 90]");
    parse_fails("400,2\n", FLOE_EINVAL, "line 1: longitude 400 is outside");
    parse_fails("1,2,3,4\n", FLOE_EFORMAT, "line 1: expected lon,lat[,id], got 4 fields");
    parse_fails("5\n", FLOE_EFORMAT, "line 1: expected lon,lat[,id], got 1 fields");
    parse_fails("lon,lat\n1,2\n1,2,3\n", FLOE_EFORMAT, "line 3: 3 fields, the header has 2");
    parse_fails("lon,name\n1,a\n", FLOE_EFORMAT, "line 1: header without a lat column");
    parse_fails("lon,lat,lon\n", FLOE_EFORMAT, "line 1: header names column 'lon' twice");
    parse_fails("1,2,a\n3,4,b\n5,6,a\n", FLOE_EINVAL, "line 3: id 'a' is already used on line 1");
    parse_fails("1,2,\"open\n", FLOE_EFORMAT, "line 1: unterminated quote");
    parse_fails("1,2,\"a\"b\n", FLOE_EFORMAT, "line 1: text after a closing quote");
    parse_fails("1,2.5x\n", FLOE_EFORMAT, "latitude '2.5x' is not a number");
    parse_fails("1,nan\n", FLOE_EFORMAT, "latitude 'nan' is not a number");
    parse_fails("", FLOE_EINVAL, "points.csv: no points");
    parse_fails("lon,lat\n# nothing\n", FLOE_EINVAL, "no points");
}

static const double lat3[3] = {10, 11, 12}, lat3d[3] = {12, 11, 10}, lon3[3] = {-100, -99, -98};

static floe_point pt(double lon, double lat)
{
    static char id[] = "P";
    return (floe_point){lon, lat, id, 7};
}

static void assert_weights(const floe_point_weights *w, size_t i0, size_t i1, size_t j0, size_t j1,
                           double w00, double w01, double w10, double w11)
{
    if (w->ilat[0] != i0 || w->ilat[1] != i1 || w->ilon[0] != j0 || w->ilon[1] != j1)
        fail_msg("indices lat %zu %zu lon %zu %zu, expected %zu %zu %zu %zu", w->ilat[0],
                 w->ilat[1], w->ilon[0], w->ilon[1], i0, i1, j0, j1);
    double want[2][2] = {{w00, w01}, {w10, w11}};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            if (fabs(w->w[a][b] - want[a][b]) > 1e-12)
                fail_msg("w[%d][%d] = %.17g, expected %.17g", a, b, w->w[a][b], want[a][b]);
}

static void test_bilinear_by_hand(void **state)
{
    (void)state;
    floe_point_weights w;
    floe_point p = pt(-99.25, 10.5);
    /* lon: 0.75 of the way from -100 (j=0) to -99 (j=1); lat halfway */
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, lon3, 3, &w));
    assert_weights(&w, 0, 1, 0, 1, 0.125, 0.375, 0.125, 0.375);
    float v[2][2] = {{1, 2}, {3, 4}};
    assert_true(fabsf(floe_point_interpolate(&w, v) - 2.75f) < 1e-6f);
    /* a missing corner: the others renormalised, (1*.125 + 3*.125 + 4*.375) / .625 */
    float m[2][2] = {{1, NAN}, {3, 4}};
    assert_true(fabsf(floe_point_interpolate(&w, m) - 3.2f) < 1e-6f);
    float none[2][2] = {{NAN, NAN}, {NAN, NAN}};
    assert_true(isnan(floe_point_interpolate(&w, none)));

    /* descending latitudes: 10.2 is 0.2 from 10 (i=2) and 0.8 from 11 (i=1) */
    p = pt(-98, 10.2);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3d, 3, lon3, 3, &w));
    assert_weights(&w, 1, 2, 1, 2, 0, 0.2, 0, 0.8); /* lon on the last centre: t = 1 */
    /* exactly on a centre */
    p = pt(-99, 11);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, lon3, 3, &w));
    assert_true(w.w[0][0] + w.w[0][1] + w.w[1][0] + w.w[1][1] == 1);
    float v2[2][2] = {{5, 6}, {7, 8}};
    size_t a = w.ilat[0] == 1 ? 0 : 1, b = w.ilon[0] == 1 ? 0 : 1;
    assert_true(floe_point_interpolate(&w, v2) == v2[a][b]);
    /* irregular spacing: lon -100, -99, -97; -98.5 is 0.25 of the way from -99 to -97 */
    static const double lon_irr[3] = {-100, -99, -97};
    p = pt(-98.5, 12);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, lon_irr, 3, &w));
    assert_weights(&w, 1, 2, 1, 2, 0, 0, 0.75, 0.25);
}

static void test_nearest_by_hand(void **state)
{
    (void)state;
    floe_point_weights w;
    floe_point p = pt(-99.25, 10.4);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon3, 3, &w));
    assert_weights(&w, 0, 0, 1, 1, 1, 0, 0, 0);
    float v[2][2] = {{9, 1}, {1, 1}};
    assert_true(floe_point_interpolate(&w, v) == 9);
    /* on the edge between two cells: the northern / eastern one */
    p = pt(-99.5, 10.5);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon3, 3, &w));
    assert_weights(&w, 1, 1, 1, 1, 1, 0, 0, 0);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3d, 3, lon3, 3, &w));
    assert_weights(&w, 1, 1, 1, 1, 1, 0, 0, 0); /* lat 11 is index 1 there too */
    p = pt(-99.5, 11.5);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3d, 3, lon3, 3, &w));
    assert_weights(&w, 0, 0, 1, 1, 1, 0, 0, 0); /* lat 12 is index 0 descending */
    /* the outermost edges are inside */
    p = pt(-100.5, 9.5);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon3, 3, &w));
    assert_weights(&w, 0, 0, 0, 0, 1, 0, 0, 0);
    p = pt(-97.5, 12.5);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3d, 3, lon3, 3, &w));
    assert_weights(&w, 0, 0, 2, 2, 1, 0, 0, 0);
    /* nearest reaches the edges, bilinear only the centres */
    p = pt(-100.2, 10);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon3, 3, &w));
}

static void test_outside_names_the_point(void **state)
{
    (void)state;
    floe_point_weights w;
    floe_point p = {-100.2, 10, "Buoy 7", 12};
    expect_code(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, lon3, 3, &w), FLOE_EINVAL,
                "point 'Buoy 7' (line 12: lon -100.2, lat 10) is outside the grid's cell centres "
                "(lon -100 .. -98, lat 10 .. 12; bilinear");
    p.lat = 12.51;
    p.lon = -99;
    expect_code(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon3, 3, &w), FLOE_EINVAL,
                "point 'Buoy 7' (line 12: lon -99, lat 12.51) is outside the grid (lon -100.5 .. "
                "-97.5, lat 9.5 .. 12.5)");
    p.lat = 11;
    p.lon = 10;
    expect_code(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon3, 3, &w), FLOE_EINVAL,
                "'Buoy 7'");
    /* bad axes */
    static const double one[1] = {5}, zig[3] = {0, 2, 1};
    expect_code(floe_point_locate(&p, FLOE_INTERP_NEAREST, one, 1, lon3, 3, &w),
                FLOE_EUNSUPPORTED, "lat: 1 cell centre");
    expect_code(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, zig, 3, &w),
                FLOE_EUNSUPPORTED, "lon is not strictly monotonic");
}

static void test_longitude_conventions(void **state)
{
    (void)state;
    floe_point_weights w;
    /* a 0..360 grid takes -180..180 points */
    static const double lon360[3] = {250, 251, 252};
    floe_point p = pt(-109.5, 11); /* 250.5: on the edge, so the eastern cell */
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, lon360, 3, &w));
    assert_weights(&w, 1, 1, 1, 1, 1, 0, 0, 0);
    p = pt(-109.25, 11);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, lon360, 3, &w));
    assert_weights(&w, 1, 2, 0, 1, 0.25, 0.75, 0, 0);

    /* a global grid is periodic: 0.5 .. 359.5 */
    double glon[360];
    for (int j = 0; j < 360; j++)
        glon[j] = j + 0.5;
    p = pt(359.8, 10);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, glon, 360, &w));
    assert_weights(&w, 0, 1, 359, 0, 0.7, 0.3, 0, 0);
    p = pt(-0.2, 10); /* the same place */
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, glon, 360, &w));
    assert_weights(&w, 0, 1, 359, 0, 0.7, 0.3, 0, 0);
    p = pt(0.1, 10); /* 0.6 east of 359.5 */
    expect_ok(floe_point_locate(&p, FLOE_INTERP_BILINEAR, lat3, 3, glon, 360, &w));
    assert_weights(&w, 0, 1, 359, 0, 0.4, 0.6, 0, 0);
    p = pt(-0.3, 10);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, glon, 360, &w));
    assert_weights(&w, 0, 0, 359, 359, 1, 0, 0, 0);
    p = pt(0, 10); /* the edge between 359 and 0: the eastern cell */
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, glon, 360, &w));
    assert_weights(&w, 0, 0, 0, 0, 1, 0, 0, 0);
    p = pt(-180, 10);
    expect_ok(floe_point_locate(&p, FLOE_INTERP_NEAREST, lat3, 3, glon, 360, &w));
    assert_weights(&w, 0, 0, 180, 180, 1, 0, 0, 0);
}

static void test_interp_names(void **state)
{
    (void)state;
    floe_interp how;
    expect_ok(floe_interp_parse("bilinear", &how));
    assert_int_equal(how, FLOE_INTERP_BILINEAR);
    expect_ok(floe_interp_parse("nearest", &how));
    assert_int_equal(how, FLOE_INTERP_NEAREST);
    expect_code(floe_interp_parse("cubic", &how), FLOE_EINVAL, "--interp 'cubic'");
    assert_string_equal(floe_interp_name(FLOE_INTERP_BILINEAR), "bilinear");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_without_header),
        cmocka_unit_test(test_csv_byte_order_mark),
        cmocka_unit_test(test_csv_header_quotes_comments),
        cmocka_unit_test(test_csv_errors_name_the_line),
        cmocka_unit_test(test_bilinear_by_hand),
        cmocka_unit_test(test_nearest_by_hand),
        cmocka_unit_test(test_outside_names_the_point),
        cmocka_unit_test(test_longitude_conventions),
        cmocka_unit_test(test_interp_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
