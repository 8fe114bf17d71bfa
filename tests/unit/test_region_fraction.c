/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for exact cell fractions (engine/plan/region_fraction.h).
 *
 * References are independent of the clipping: areas of rectangles,
 * triangles and L shapes worked out by hand for cells they cover partly,
 * and for random star polygons (concave) the partition property: over a
 * grid of cells that covers the polygon, the sum of fraction x cell area
 * equals the polygon's own shoelace area, and two polygons that split a
 * cell along a shared edge have fractions summing to 1 there. */
#include "engine/plan/region_fraction.h"

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

static void near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("fraction %.17g, expected %.17g", got, want);
}

/* The square [0, 2] x [0, 2]: cells of 1 x 1 inside, halves on its sides. */
static void test_square(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[2,0],[2,2],[0,2],[0,0]]]}");
    near(floe_region_rect_fraction(r, 0, 0, 1, 1), 1, 1e-15);
    near(floe_region_rect_fraction(r, 1.5, 1.5, 2.5, 2.5), 0.25, 1e-15);
    near(floe_region_rect_fraction(r, 1.5, 0.5, 2.5, 1.5), 0.5, 1e-15);
    near(floe_region_rect_fraction(r, 3, 0, 4, 1), 0, 0);
    /* a cell sharing only an edge: nothing */
    near(floe_region_rect_fraction(r, 2, 0, 3, 1), 0, 0);
    /* a cell larger than the polygon */
    near(floe_region_rect_fraction(r, -1, -1, 3, 3), 4.0 / 16, 1e-15);
    floe_region_free(&r);
}

/* The triangle (0,0) (4,0) (0,4): the cell [0,2]x[0,2] is whole, [2,4]x[0,2]
 * holds the triangle (2,0) (4,0) (2,2) (half), [1,3]x[1,3] holds 1 + 2 x
 * 0.5... worked out: the line x + y = 4 cuts [1,3]^2 on its anti-diagonal,
 * so half. */
static void test_triangle(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[4,0],[0,4],[0,0]]]}");
    near(floe_region_rect_fraction(r, 0, 0, 2, 2), 1, 1e-15);
    near(floe_region_rect_fraction(r, 2, 0, 4, 2), 0.5, 1e-15);
    near(floe_region_rect_fraction(r, 1, 1, 3, 3), 0.5, 1e-15);
    /* [3, 4] x [0, 1]: the triangle (3,0) (4,0) (3,1): half */
    near(floe_region_rect_fraction(r, 3, 0, 4, 1), 0.5, 1e-15);
    floe_region_free(&r);
}

/* A polygon with a hole: [0,4]^2 less [1,3]^2; a cell [0,2]^2 keeps 4 - 1. */
static void test_hole(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[4,0],[4,4],[0,4],[0,0]],"
                           "[[1,1],[1,3],[3,3],[3,1],[1,1]]]}");
    near(floe_region_rect_fraction(r, 0, 0, 2, 2), 0.75, 1e-15);
    near(floe_region_rect_fraction(r, 1.5, 1.5, 2.5, 2.5), 0, 1e-15);
    near(floe_region_rect_fraction(r, -1, -1, 5, 5), (16.0 - 4) / 36, 1e-15);
    floe_region_free(&r);
}

/* Two parts of a multipolygon in one cell add up. */
static void test_multipolygon(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"MultiPolygon\",\"coordinates\":["
                           "[[[0,0],[1,0],[1,1],[0,1],[0,0]]],"
                           "[[[2,2],[3,2],[3,3],[2,3],[2,2]]]]}");
    near(floe_region_rect_fraction(r, 0, 0, 4, 4), 2.0 / 16, 1e-15);
    near(floe_region_rect_fraction(r, 0.5, 0.5, 2.5, 2.5), 0.5 / 4, 1e-15);
    floe_region_free(&r);
}

/* A concave U: [0,3]x[0,3] less the notch [1,2]x[1,3]. The cell [0.5,2.5]x
 * [0.5, 2.5] holds 4 less the notch's part [1,2]x[1,2.5] (1.5). */
static void test_concave(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[3,0],[3,3],[2,3],[2,1],[1,1],[1,3],[0,3],[0,0]]]}");
    near(floe_region_rect_fraction(r, 0.5, 0.5, 2.5, 2.5), (4 - 1.5) / 4, 1e-15);
    /* a cell across the notch only, top: two thin strips */
    near(floe_region_rect_fraction(r, 0.5, 2, 2.5, 3), 1.0 / 2, 1e-15);
    floe_region_free(&r);
}

/* A polygon smaller than one cell, inside it: its area over the cell's. */
static void test_smaller_than_a_cell(void **state)
{
    (void)state;
    floe_region *r = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[10.02,20.02],[10.05,20.02],[10.05,20.06],[10.02,20.02]]]}");
    double area = 0.03 * 0.04 / 2;
    near(floe_region_rect_fraction(r, 10, 20, 10.125, 20.125), area / (0.125 * 0.125), 1e-12);
    floe_region_free(&r);
}

/* A random star polygon around (cx, cy), as GeoJSON text (concave). */
static void star(char *buf, size_t size, double cx, double cy, unsigned seed, double *xs,
                 double *ys, size_t *nv)
{
    srand(seed);
    size_t n = 5 + (size_t)(rand() % 20);
    int len = snprintf(buf, size, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (size_t i = 0; i <= n; i++) {
        size_t k = i % n;
        double a = 2 * 3.14159265358979323846 * (double)k / (double)n;
        if (i < n) {
            double rad = 0.3 + 2.7 * rand() / (double)RAND_MAX;
            xs[k] = cx + rad * cos(a), ys[k] = cy + rad * sin(a);
        }
        len += snprintf(buf + len, size - (size_t)len, "%s[%.17g,%.17g]", i ? "," : "", xs[k],
                        ys[k]);
    }
    snprintf(buf + len, size - (size_t)len, "]]}");
    *nv = n;
}

static double shoelace(const double *x, const double *y, size_t n)
{
    double a = 0;
    for (size_t i = 0; i < n; i++)
        a += x[i] * y[(i + 1) % n] - x[(i + 1) % n] * y[i];
    return fabs(a) / 2;
}

/* The partition property on random stars, with the row function too (it
 * must agree with the cell-at-a-time one). */
static void test_random_stars_partition(void **state)
{
    (void)state;
    char json[4096];
    double xs[32], ys[32];
    enum { NROW = 16, NCOL = 16 };
    double xw[NCOL], xe[NCOL], frac[NCOL];
    for (unsigned seed = 1; seed <= 50; seed++) {
        size_t nv;
        star(json, sizeof json, 10.3, 40.7, seed, xs, ys, &nv);
        floe_region *r = parse(json);
        double h = 0.4, total = 0;
        for (size_t j = 0; j < NCOL; j++)
            xw[j] = 7 + h * (double)j, xe[j] = xw[j] + h;
        for (size_t i = 0; i < NROW; i++) {
            double s = 37.5 + h * (double)i;
            expect_ok(floe_region_row_fractions(r, s, s + h, xw, xe, NCOL, frac));
            for (size_t j = 0; j < NCOL; j++) {
                assert_true(frac[j] >= 0 && frac[j] <= 1);
                near(frac[j], floe_region_rect_fraction(r, xw[j], s, xe[j], s + h), 1e-13);
                total += frac[j] * h * h;
            }
        }
        near(total, shoelace(xs, ys, nv), 1e-11);
        floe_region_free(&r);
    }
}

/* Two neighbours sharing a slanted edge split a cell: fractions sum to 1. */
static void test_shared_edge(void **state)
{
    (void)state;
    floe_region *a = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0,0],[0.37,0],[0.81,1],[0,1],[0,0]]]}");
    floe_region *b = parse("{\"type\":\"Polygon\",\"coordinates\":"
                           "[[[0.37,0],[1,0],[1,1],[0.81,1],[0.37,0]]]}");
    double fa = floe_region_rect_fraction(a, 0, 0, 1, 1);
    double fb = floe_region_rect_fraction(b, 0, 0, 1, 1);
    near(fa, (0.37 + 0.81) / 2, 1e-15);
    near(fa + fb, 1, 1e-15);
    floe_region_free(&a);
    floe_region_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square),
        cmocka_unit_test(test_triangle),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_concave),
        cmocka_unit_test(test_smaller_than_a_cell),
        cmocka_unit_test(test_random_stars_partition),
        cmocka_unit_test(test_shared_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
