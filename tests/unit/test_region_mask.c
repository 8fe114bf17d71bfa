/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for GeoJSON regions and cell masks (engine/plan/region_mask.h).
 *
 * References are written independently of the implementation: shapes made
 * of axis-aligned rectangles are checked against half-open rectangle
 * tests ([x0, x1) x [y0, y1), the documented edge rule), random star
 * polygons against a winding-number test at points off the boundary, and
 * shared edges (straight and slanted) by the partition property: every
 * centre belongs to exactly one neighbour. */
#include "engine/plan/region_mask.h"

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

static floe_region *parse(const char *json)
{
    floe_region *r;
    expect_ok(floe_region_parse(json, strlen(json), "test.geojson", &r));
    return r;
}

static void parse_fails(const char *json, floe_code code, const char *needle)
{
    floe_region *r = NULL;
    expect_code(floe_region_parse(json, strlen(json), "bad.geojson", &r), code, needle);
    assert_null(r);
}

/* Half-open rectangle [x0, x1) x [y0, y1). */
static int in_rect(double x, double y, double x0, double y0, double x1, double y1)
{
    return x >= x0 && x < x1 && y >= y0 && y < y1;
}

typedef int (*expect_fn)(double x, double y);

/* Every centre of a grid with `step` over [lo, hi]^2 (so edges and
 * vertices at multiples of step are hit exactly): contains() and mask()
 * both agree with `want`. */
static void check_grid(const floe_region *r, double lo, double hi, double step, expect_fn want)
{
    size_t n = (size_t)lround((hi - lo) / step) + 1;
    double *c = calloc(n, sizeof *c);
    uint8_t *mask = calloc(n, n);
    assert_true(c && mask);
    for (size_t i = 0; i < n; i++)
        c[i] = lo + step * (double)i;
    size_t ninside, count = 0;
    expect_ok(floe_region_mask(r, c, n, c, n, mask, &ninside));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x = c[j], y = c[i];
            int w = want(x, y);
            count += (size_t)w;
            if (floe_region_contains(r, x, y) != w)
                fail_msg("contains(%g, %g) = %d, expected %d", x, y, !w, w);
            if (mask[i * n + j] != w)
                fail_msg("mask at lon %g lat %g = %d, expected %d", x, y, mask[i * n + j], w);
        }
    assert_int_equal(ninside, count);
    free(c);
    free(mask);
}

static int want_unit_square(double x, double y) { return in_rect(x, y, 0, 0, 1, 1); }

static void test_square_and_edges(void **state)
{
    (void)state;
    /* counter-clockwise and clockwise give the same cells */
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}");
    check_grid(r, -0.5, 1.5, 0.25, want_unit_square);
    /* the documented rule, spelled out */
    assert_true(floe_region_contains(r, 0, 0.5));   /* west side: inside */
    assert_false(floe_region_contains(r, 1, 0.5));  /* east side: outside */
    assert_true(floe_region_contains(r, 0.5, 0));   /* south side: inside */
    assert_false(floe_region_contains(r, 0.5, 1));  /* north side: outside */
    assert_true(floe_region_contains(r, 0, 0));     /* south-west corner */
    assert_false(floe_region_contains(r, 1, 1));
    assert_false(floe_region_contains(r, 0, 1));
    assert_false(floe_region_contains(r, 1, 0));
    floe_bbox b = floe_region_bbox(r);
    assert_true(b.west == 0 && b.south == 0 && b.east == 1 && b.north == 1);
    floe_region_free(&r);
    floe_region_free(&r); /* safe twice */
    r = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]}");
    check_grid(r, -0.5, 1.5, 0.25, want_unit_square);
    floe_region_free(&r);
}

/* Neighbours share edges: each centre of the 2 x 2 block belongs to
 * exactly one of four squares, and a square cut along a slanted diagonal
 * into two triangles (walked in opposite directions) likewise. */
static void test_shared_edges_partition(void **state)
{
    (void)state;
    floe_region *sq[4];
    sq[0] = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}");
    sq[1] = parse("{\"type\":\"Polygon\",\"coordinates\":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}");
    sq[2] = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,1],[0,2],[1,2],[1,1],[0,1]]]}");
    sq[3] = parse("{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],[2,2],[1,2],[1,1]]]}");
    for (double y = 0; y < 2; y += 0.125)
        for (double x = 0; x < 2; x += 0.125) {
            int n = 0;
            for (int k = 0; k < 4; k++)
                n += floe_region_contains(sq[k], x, y);
            if (n != 1)
                fail_msg("centre (%g, %g) is in %d of the four squares", x, y, n);
        }
    for (int k = 0; k < 4; k++)
        floe_region_free(&sq[k]);

    /* a slanted shared edge from (0,0) to (3,0.7) */
    floe_region *lower = parse("{\"type\":\"Polygon\",\"coordinates\":"
                               "[[[0,0],[3,0],[3,0.7],[0,0]]]}");
    floe_region *upper = parse("{\"type\":\"Polygon\",\"coordinates\":[[[3,0.7],[0,0.7],[0,0],[3,0.7]]]}");
    int on_edge = 0;
    for (int i = 0; i < 300; i++) {
        double x = 3.0 * i / 300;
        double y = x * (0.7 / 3); /* on the diagonal, up to rounding */
        double ys[3] = {y, nextafter(y, 0), nextafter(y, 1)};
        for (int k = 0; k < 3; k++) {
            int a = floe_region_contains(lower, x, ys[k]), b = floe_region_contains(upper, x, ys[k]);
            if (a + b != 1)
                fail_msg("point (%.17g, %.17g) is in %d of the two triangles", x, ys[k], a + b);
            on_edge++;
        }
    }
    assert_int_equal(on_edge, 900);
    floe_region_free(&lower);
    floe_region_free(&upper);
}

static int want_hole(double x, double y)
{
    return in_rect(x, y, 0, 0, 10, 10) && !in_rect(x, y, 4, 4, 6, 6);
}

static void test_polygon_with_hole(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":["
                           "[[0,0],[10,0],[10,10],[0,10],[0,0]],"
                           "[[4,4],[4,6],[6,6],[6,4],[4,4]]]}");
    check_grid(r, -1, 11, 0.5, want_hole);
    assert_false(floe_region_contains(r, 5, 5));
    assert_false(floe_region_contains(r, 4, 5)); /* hole's west side: in the hole */
    assert_true(floe_region_contains(r, 6, 5));  /* hole's east side: in the polygon */
    floe_region_free(&r);
}

static int want_multi(double x, double y)
{
    return in_rect(x, y, 0, 0, 2, 2) || in_rect(x, y, 1, 1, 3, 3) || in_rect(x, y, 5, 0, 6, 1);
}

static void test_multipolygon(void **state)
{
    (void)state;
    /* overlapping parts are a union, not an exclusive or */
    const char *json = "{\"type\":\"MultiPolygon\",\"coordinates\":["
                       "[[[0,0],[2,0],[2,2],[0,2],[0,0]]],"
                       "[[[1,1],[3,1],[3,3],[1,3],[1,1]]],"
                       "[[[5,0],[6,0],[6,1],[5,1],[5,0]]]]}";
    floe_region *r = parse(json);
    assert_int_equal(floe_region_polygon_count(r), 3);
    check_grid(r, -1, 7, 0.25, want_multi);
    assert_true(floe_region_contains(r, 1.5, 1.5));
    floe_bbox b = floe_region_bbox(r);
    assert_true(b.west == 0 && b.south == 0 && b.east == 6 && b.north == 3);
    floe_region_free(&r);

    /* the same as a FeatureCollection, a Feature, a GeometryCollection */
    r = parse("{\"type\":\"FeatureCollection\",\"features\":["
              "{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":"
              "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]}},"
              "{\"type\":\"Feature\",\"properties\":null,\"geometry\":"
              "{\"type\":\"GeometryCollection\",\"geometries\":["
              "{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[3,1],[3,3],[1,3],[1,1]]]},"
              "{\"type\":\"MultiPolygon\",\"coordinates\":"
              "[[[[5,0],[6,0],[6,1],[5,1],[5,0]]]]}]}}]}");
    assert_int_equal(floe_region_polygon_count(r), 3);
    check_grid(r, -1, 7, 0.25, want_multi);
    floe_region_free(&r);
    r = parse("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
              "[[[0,0,12.5],[1,0,12.5],[1,1,12.5],[0,1,12.5],[0,0,12.5]]]}}"); /* altitudes */
    check_grid(r, -0.5, 1.5, 0.25, want_unit_square);
    floe_region_free(&r);
}

/* An L and an E: concave, with a reflex vertex at grid points. */
static int want_l(double x, double y)
{
    return in_rect(x, y, 0, 0, 3, 1) || in_rect(x, y, 0, 0, 1, 3);
}
static int want_e(double x, double y)
{
    return in_rect(x, y, 0, 0, 1, 5) || in_rect(x, y, 0, 0, 3, 1) || in_rect(x, y, 0, 2, 3, 3) ||
           in_rect(x, y, 0, 4, 3, 5);
}

static void test_concave(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[3,0],[3,1],[1,1],[1,3],[0,3],[0,0]]]}");
    check_grid(r, -1, 4, 0.25, want_l);
    assert_false(floe_region_contains(r, 1, 1)); /* the reflex vertex */
    assert_true(floe_region_contains(r, 0.999, 1));
    floe_region_free(&r);
    r = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[3,0],[3,1],[1,1],[1,2],[3,2],"
              "[3,3],[1,3],[1,4],[3,4],[3,5],[0,5],[0,0]]]}");
    check_grid(r, -1, 6, 0.25, want_e);
    floe_region_free(&r);
}

/* Random star-shaped (generally concave) polygons against a winding
 * number test, at random points (never exactly on the boundary). */
static uint64_t rng_state = 99;
static double rng_unit(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static int winding(const double *x, const double *y, size_t n, double px, double py)
{
    int w = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double cross = (x[i + 1] - x[i]) * (py - y[i]) - (px - x[i]) * (y[i + 1] - y[i]);
        if (y[i] <= py && y[i + 1] > py && cross > 0)
            w++;
        else if (y[i] > py && y[i + 1] <= py && cross < 0)
            w--;
    }
    return w;
}

static void test_random_star_polygons(void **state)
{
    (void)state;
    for (int trial = 0; trial < 20; trial++) {
        size_t nv = 5 + (size_t)(rng_unit() * 30);
        double x[64], y[64];
        char json[8192];
        size_t used = (size_t)snprintf(json, sizeof json,
                                       "{\"type\":\"Polygon\",\"coordinates\":[[");
        for (size_t i = 0; i <= nv; i++) {
            size_t k = i % nv;
            if (i < nv) {
                double a = 2 * 3.14159265358979 * ((double)k + 0.8 * rng_unit()) / (double)nv;
                double rad = 1 + 9 * rng_unit();
                x[k] = -100 + rad * cos(a);
                y[k] = 40 + rad * sin(a);
            }
            x[i] = x[k];
            y[i] = y[k];
            used += (size_t)snprintf(json + used, sizeof json - used, "%s[%.17g,%.17g]",
                                     i ? "," : "", x[k], y[k]);
        }
        snprintf(json + used, sizeof json - used, "]]}");
        floe_region *r = parse(json);
        size_t nlat = 40, nlon = 50;
        double lat[40], lon[50];
        for (size_t i = 0; i < nlat; i++)
            lat[i] = 29 + 22 * rng_unit();
        for (size_t j = 0; j < nlon; j++)
            lon[j] = -111 + 22 * rng_unit();
        uint8_t mask[40 * 50];
        expect_ok(floe_region_mask(r, lat, nlat, lon, nlon, mask, NULL));
        for (size_t i = 0; i < nlat; i++)
            for (size_t j = 0; j < nlon; j++) {
                int want = winding(x, y, nv + 1, lon[j], lat[i]) != 0;
                if (mask[i * nlon + j] != want || floe_region_contains(r, lon[j], lat[i]) != want)
                    fail_msg("star %d: (%g, %g) mask %d, expected %d", trial, lon[j], lat[i],
                             mask[i * nlon + j], want);
            }
        floe_region_free(&r);
    }
}

/* Grids in 0..360 are wrapped before comparing. */
static void test_grid_longitudes_0_360(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[-100,30],[-90,30],[-90,40],[-100,40],[-100,30]]]}");
    double lon[4] = {255, 265, 275, 95}, lat[1] = {35};
    uint8_t mask[4];
    size_t n;
    expect_ok(floe_region_mask(r, lat, 1, lon, 4, mask, &n));
    assert_true(mask[0] == 0 && mask[1] == 1 && mask[2] == 0 && mask[3] == 0);
    assert_int_equal(n, 1);
    assert_true(floe_region_contains(r, 265, 35));
    assert_true(floe_region_contains(r, -95 - 720, 35));
    floe_region_free(&r);
}

static void test_errors_name_the_field(void **state)
{
    (void)state;
    parse_fails("{\"type\":\"Polygon\"", FLOE_EFORMAT, "region bad.geojson: not valid JSON");
    parse_fails("[1,2]", FLOE_EFORMAT, "the document: expected a GeoJSON object");
    parse_fails("{\"coordinates\":[]}", FLOE_EFORMAT, "type: missing or not a string");
    parse_fails("{\"type\":\"Polygon\"}", FLOE_EFORMAT, "coordinates: expected a polygon");
    parse_fails("{\"type\":\"Polgon\",\"coordinates\":[]}", FLOE_EFORMAT,
                "type: 'Polgon' is not a GeoJSON type");
    parse_fails("{\"type\":\"Point\",\"coordinates\":[1,2]}", FLOE_EUNSUPPORTED,
                "type: 'Point' encloses no cells");
    parse_fails("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", FLOE_EFORMAT,
                "coordinates[0]: a ring needs at least 4 positions, has 3");
    parse_fails("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}",
                FLOE_EFORMAT, "coordinates[0]: the ring is not closed");
    parse_fails("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],"
                "[0,0]]]}},{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\","
                "\"coordinates\":[[[0,0],[1,0],[\"x\",1],[0,1],[0,0]]]}}]}",
                FLOE_EFORMAT,
                "features[1].geometry.coordinates[0][2]: expected a position [lon, lat]");
    parse_fails("{\"type\":\"Feature\",\"geometry\":null}", FLOE_EINVAL, "geometry: null");
    parse_fails("{\"type\":\"Feature\"}", FLOE_EFORMAT, "geometry: missing");
    parse_fails("{\"type\":\"FeatureCollection\",\"features\":{}}", FLOE_EFORMAT,
                "features: missing or not an array");
    parse_fails("{\"type\":\"FeatureCollection\",\"features\":[]}", FLOE_EINVAL,
                "no polygon in the document");
    parse_fails("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
                "[[[0,0],[1,0],[1,91],[0,0]]]]}",
                FLOE_EINVAL, "coordinates[1][0][2]: latitude 91 is outside [-90, 90]");
    /* across the antimeridian: refused with a way out */
    parse_fails("{\"type\":\"Polygon\",\"coordinates\":"
                "[[[170,0],[-170,0],[-170,10],[170,10],[170,0]]]}",
                FLOE_EUNSUPPORTED, "coordinates[0][1]: the ring crosses the antimeridian");
    parse_fails("{\"type\":\"Polygon\",\"coordinates\":"
                "[[[170,0],[190,0],[190,10],[170,10],[170,0]]]}",
                FLOE_EINVAL, "longitude 190 is outside [-180, 180] (regions across the antimeridian");
    /* a region that ends at the antimeridian is fine */
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[170,0],[180,0],[180,10],[170,10],[170,0]]]}");
    assert_true(floe_region_contains(r, 179.5, 5));
    assert_false(floe_region_contains(r, 180, 5)); /* east side */
    floe_region_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square_and_edges),
        cmocka_unit_test(test_shared_edges_partition),
        cmocka_unit_test(test_polygon_with_hole),
        cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_concave),
        cmocka_unit_test(test_random_star_polygons),
        cmocka_unit_test(test_grid_longitudes_0_360),
        cmocka_unit_test(test_errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
