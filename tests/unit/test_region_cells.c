/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_region_cells.c - unit tests for the regions' cells as
 * runs and explicit cells, grouped into tiles (engine/plan/region_cells.h)
 * and their statistics (engine/reduce/weighted_cells.h).
 *
 * The reference is built cell by cell, independently of the runs and of
 * the grouping: every chunk in row-major order, in it every region in
 * order, in it every cell in row-major order, the cell's fraction from
 * floe_region_contains (centre) or floe_region_rect_fraction (fraction),
 * its weight f x latf x lonw as the per-cell lists had it. region_cells'
 * segments, expanded, must be that list exactly (tile, region, offset in
 * the tile's box, weight and fraction bits), the whole cells must be runs
 * (no explicit cell with f = 1, a run per region, row and chunk column
 * stretch of consecutive whole cells), and the statistics walked over the
 * segments must have the bits of the expanded list's. Grids with exact
 * edges (centres at half degrees), chunks that split rows and columns
 * unevenly, a descending latitude axis, and a global grid whose cells wrap
 * (a region across longitude 0 takes columns at both ends of a row). */
#include "engine/plan/region_cells.h"

#include "engine/plan/region_fraction.h"
#include "engine/reduce/area_weights.h"
#include "engine/reduce/weighted_cells.h"

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

/* Regions on a 10 x 13 grid of 1-degree cells (centres at .5): a square
 * whose edges are cell edges (whole cells only, runs across chunk
 * columns), a square cutting cells (partial cells around whole ones,
 * interleaved in each row), a concave L, a triangle inside one cell, a
 * polygon with a hole, one far away (no cell), and one overlapping others. */
static const char *FEATURES =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"edges\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[1,1],[7,1],[7,6],[1,6],[1,1]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"cuts\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[2.5,2.3],[9.3,2.3],[9.3,5.6],[2.5,5.6],[2.5,2.3]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"ell\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[0.2,0.2],[12.7,0.2],[12.7,2.6],[3.4,2.6],[3.4,9.8],[0.2,9.8],"
    "[0.2,0.2]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"tiny\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[8.1,7.1],[8.6,7.2],[8.3,7.7],[8.1,7.1]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"holed\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[5,5],[12.5,5],[12.5,9.5],[5,9.5],[5,5]],"
    "[[7.2,6.1],[10.6,6.1],[10.6,8.4],[7.2,8.4],[7.2,6.1]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"away\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[50,50],[51,50],[51,51],[50,51],[50,50]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"over\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[0,0],[13,0],[13,10],[0,10],[0,0]]]}}"
    "]}";

/* One region across longitude 0 on a global grid (centres 0.5..359.5). */
static const char *ACROSS_ZERO =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"zero\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[-6.4,-3.3],[5.2,-3.3],[5.2,4.7],[-6.4,4.7],[-6.4,-3.3]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"east\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[170,-2],[179.6,-2],[179.6,2.5],[170,2.5],[170,-2]]]}}"
    "]}";

/* A cell as the statistics see it. */
typedef struct ref_cell {
    size_t tile, region;
    uint32_t offset;
    double w, f;
} ref_cell;

typedef struct ref_list {
    ref_cell *c;
    size_t n, cap;
    size_t nruns;   /* maximal stretches of whole cells (region, row, chunk column) */
    size_t npart;   /* cells with 0 < f < 1 */
    double edges[8][4]; /* per region: W, S, E, N of its cells' edges */
} ref_list;

static void ref_push(ref_list *l, ref_cell c)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->c = realloc(l->c, l->cap * sizeof *l->c);
        assert_non_null(l->c);
    }
    l->c[l->n++] = c;
}

static double wrap(double lon)
{
    return lon >= 180 ? lon - 360 : lon;
}

/* A grid of 1-degree cells: lat[nlat], lon[nlon] centres at .5. */
typedef struct grid {
    double lat[200], lon[400];
    size_t nlat, nlon;
    uint64_t chy, chx;
} grid;

/* Cell (i, j)'s fraction in region r by the rule of `how`, from the
 * per-cell primitives. */
static double cell_fraction(const grid *g, const floe_region *r, floe_region_weights how,
                            size_t i, size_t j)
{
    double x = wrap(g->lon[j]);
    if (how == FLOE_WEIGHTS_CENTRE)
        return floe_region_contains(r, x, g->lat[i]) ? 1.0 : 0.0;
    return floe_region_rect_fraction(r, x - 0.5, g->lat[i] - 0.5, x + 0.5, g->lat[i] + 0.5);
}

/* The reference list (see the top comment); set NULL: the box. */
static void reference(const grid *g, const floe_region_set *set, floe_region_weights how,
                      size_t y0, size_t ny, size_t x0, size_t nx, ref_list *out)
{
    double latf[200], lonw[400];
    expect_ok(floe_lat_factors(g->lat, g->nlat, latf));
    expect_ok(floe_lon_widths(g->lon, g->nlon, lonw));
    size_t nreg = set ? set->n : 1;
    size_t ncy = (g->nlat + g->chy - 1) / g->chy, ncx = (g->nlon + g->chx - 1) / g->chx;
    double *f = calloc(nreg * g->nlat * g->nlon, sizeof *f);
    assert_non_null(f);
    for (size_t k = 0; k < nreg; k++)
        for (size_t i = 0; i < g->nlat; i++)
            for (size_t j = 0; j < g->nlon; j++)
                f[(k * g->nlat + i) * g->nlon + j] =
                    set ? cell_fraction(g, set->r[k], how, i, j)
                        : (i >= y0 && i < y0 + ny && j >= x0 && j < x0 + nx);
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < nreg && k < 8; k++) {
        double *e = out->edges[k];
        e[0] = e[1] = INFINITY, e[2] = e[3] = -INFINITY;
        for (size_t i = 0; i < g->nlat; i++)
            for (size_t j = 0; j < g->nlon; j++)
                if (f[(k * g->nlat + i) * g->nlon + j] > 0) {
                    double x = wrap(g->lon[j]);
                    e[0] = fmin(e[0], x - 0.5), e[2] = fmax(e[2], x + 0.5);
                    e[1] = fmin(e[1], g->lat[i] - 0.5), e[3] = fmax(e[3], g->lat[i] + 0.5);
                }
    }
    size_t tile = 0;
    for (size_t cy = 0; cy < ncy; cy++)
        for (size_t cx = 0; cx < ncx; cx++) {
            size_t ra = cy * g->chy, rb = ra + g->chy < g->nlat ? ra + g->chy : g->nlat;
            size_t ca = cx * g->chx, cb = ca + g->chx < g->nlon ? ca + g->chx : g->nlon;
            size_t r0 = SIZE_MAX, r1 = 0, c0 = SIZE_MAX, c1 = 0;
            for (size_t k = 0; k < nreg; k++) /* the tile's box: any region's cells */
                for (size_t i = ra; i < rb; i++)
                    for (size_t j = ca; j < cb; j++)
                        if (f[(k * g->nlat + i) * g->nlon + j] > 0) {
                            r0 = i < r0 ? i : r0, r1 = i + 1 > r1 ? i + 1 : r1;
                            c0 = j < c0 ? j : c0, c1 = j + 1 > c1 ? j + 1 : c1;
                        }
            if (r1 == 0)
                continue;
            for (size_t k = 0; k < nreg; k++)
                for (size_t i = ra; i < rb; i++)
                    for (size_t j = ca; j < cb; j++) {
                        double fr = f[(k * g->nlat + i) * g->nlon + j];
                        if (!(fr > 0))
                            continue;
                        double w = fr == 1 ? latf[i] * lonw[j] : fr * (latf[i] * lonw[j]);
                        uint32_t off = (uint32_t)((i - r0) * (c1 - c0) + (j - c0));
                        ref_push(out, (ref_cell){tile, k, off, w, fr});
                        if (fr < 1)
                            out->npart++;
                        else if (j == ca || f[(k * g->nlat + i) * g->nlon + j - 1] != 1)
                            out->nruns++;
                    }
            tile++;
        }
    free(f);
}

/* rc's segments expanded into cells, checked against the reference. */
static void expect_same(const region_cells *rc, const ref_list *ref)
{
    size_t q = 0, nexplicit = 0, nruns = 0;
    for (size_t t = 0; t < rc->ntiles; t++)
        for (size_t p = rc->pair_first[t]; p < rc->pair_first[t + 1]; p++) {
            const floe_wcell *cells = rc->cells + rc->cell_first[p];
            for (size_t s = rc->seg_first[p]; s < rc->seg_first[p + 1]; s++) {
                const floe_wseg *sg = &rc->segs[s];
                assert_true(sg->n >= 1);
                if (sg->row != FLOE_WSEG_CELLS)
                    nruns++;
                for (size_t k = 0; k < sg->n; k++, q++) {
                    ref_cell got;
                    if (sg->row == FLOE_WSEG_CELLS) {
                        const floe_wcell *c = cells++;
                        got = (ref_cell){t, rc->pair_region[p], c->offset, c->w, c->f};
                        nexplicit++;
                        if (!(c->f > 0 && c->f < 1))
                            fail_msg("explicit cell %zu has fraction %.17g (whole cells are runs)",
                                     q, c->f);
                    } else {
                        got = (ref_cell){t, rc->pair_region[p], (uint32_t)(sg->offset + k),
                                         rc->latf[sg->row] * rc->lonw[sg->col + k], 1.0};
                    }
                    if (q >= ref->n)
                        fail_msg("more cells than the reference's %zu", ref->n);
                    const ref_cell *want = &ref->c[q];
                    if (got.tile != want->tile || got.region != want->region ||
                        got.offset != want->offset || memcmp(&got.w, &want->w, sizeof got.w) ||
                        memcmp(&got.f, &want->f, sizeof got.f))
                        fail_msg("cell %zu: tile %zu region %zu offset %u w %.17g f %.17g; want "
                                 "tile %zu region %zu offset %u w %.17g f %.17g",
                                 q, got.tile, got.region, got.offset, got.w, got.f, want->tile,
                                 want->region, want->offset, want->w, want->f);
                }
            }
            assert_ptr_equal(cells, rc->cells + rc->cell_first[p + 1]);
        }
    assert_int_equal(q, ref->n);
    assert_int_equal(nexplicit, ref->npart);
    assert_int_equal(nruns, ref->nruns);
}

/* Random values (some NaN) in each tile's box; every pair's statistics
 * over its segments have the bits of the same cells as one explicit list. */
static void expect_same_stats(const region_cells *rc, const ref_list *ref)
{
    srand(7);
    size_t q = 0;
    for (size_t t = 0; t < rc->ntiles; t++) {
        const series_tile *tl = &rc->tiles[t];
        size_t n = (tl->r1 - tl->r0) * (tl->c1 - tl->c0);
        float *v = malloc(n * sizeof *v);
        double *d = malloc(n * sizeof *d);
        assert_true(v && d);
        for (size_t k = 0; k < n; k++) {
            v[k] = rand() % 11 == 0 ? NAN : 250.0f + (float)rand() / (float)RAND_MAX * 60.0f;
            d[k] = v[k] * (1 + 1e-9 * (double)k);
        }
        for (size_t p = rc->pair_first[t]; p < rc->pair_first[t + 1]; p++) {
            size_t ncell = 0;
            for (size_t s = rc->seg_first[p]; s < rc->seg_first[p + 1]; s++)
                ncell += rc->segs[s].n;
            floe_wcell *list = malloc(ncell * sizeof *list);
            assert_non_null(list);
            for (size_t k = 0; k < ncell; k++)
                list[k] = (floe_wcell){ref->c[q + k].offset, ref->c[q + k].w, ref->c[q + k].f};
            q += ncell;
            floe_wstat a, b, a64, b64;
            floe_wstat_init(&a), floe_wstat_init(&b), floe_wstat_init(&a64), floe_wstat_init(&b64);
            const floe_wseg *segs = rc->segs + rc->seg_first[p];
            size_t nseg = rc->seg_first[p + 1] - rc->seg_first[p];
            const floe_wcell *cells = rc->cells + rc->cell_first[p];
            floe_wstat_add_segs(&a, v, segs, nseg, cells, rc->latf, rc->lonw);
            floe_wstat_add_cells(&b, v, list, ncell);
            floe_wstat_add_segs_f64(&a64, d, segs, nseg, cells, rc->latf, rc->lonw);
            floe_wstat_add_cells_f64(&b64, d, list, ncell);
            assert_memory_equal(&a, &b, sizeof a);
            assert_memory_equal(&a64, &b64, sizeof a64);
            free(list);
        }
        free(v);
        free(d);
    }
}

static void grid_make(grid *g, size_t nlat, size_t nlon, double lat0, double lon0, int descending,
                      uint64_t chy, uint64_t chx)
{
    g->nlat = nlat, g->nlon = nlon, g->chy = chy, g->chx = chx;
    for (size_t i = 0; i < nlat; i++)
        g->lat[i] = descending ? lat0 + (double)(nlat - 1 - i) : lat0 + (double)i;
    for (size_t j = 0; j < nlon; j++)
        g->lon[j] = lon0 + (double)j;
}

static void check(const grid *g, const char *json, floe_region_weights how)
{
    floe_region_set set;
    expect_ok(floe_region_set_parse(json, strlen(json), "test.geojson", NULL, &set));
    region_cells rc;
    expect_ok(region_cells_make(&set, how, g->lat, g->nlat, g->lon, g->nlon, 0, 0, 0, 0, g->chy,
                                g->chx, &rc));
    ref_list ref;
    reference(g, &set, how, 0, 0, 0, 0, &ref);
    assert_true(ref.n > 0);
    expect_same(&rc, &ref);
    expect_same_stats(&rc, &ref);
    /* ncells: each region's cells; edges: the box of their edges */
    assert_true(set.n <= 8);
    for (size_t k = 0; k < set.n; k++) {
        size_t n = 0;
        for (size_t q = 0; q < ref.n; q++)
            n += ref.c[q].region == k;
        assert_int_equal(rc.ncells[k], n);
        for (int e = 0; e < 4 && n; e++)
            if (rc.edges[k][e] != ref.edges[k][e])
                fail_msg("region %zu edge %d: %.17g, want %.17g", k, e, rc.edges[k][e],
                         ref.edges[k][e]);
    }
    free(ref.c);
    region_cells_free(&rc);
    floe_region_set_free(&set);
}

static void test_centre(void **state)
{
    (void)state;
    grid g;
    grid_make(&g, 10, 13, 0.5, 0.5, 0, 3, 4);
    check(&g, FEATURES, FLOE_WEIGHTS_CENTRE);
    grid_make(&g, 10, 13, 0.5, 0.5, 1, 4, 5);
    check(&g, FEATURES, FLOE_WEIGHTS_CENTRE);
}

static void test_fraction(void **state)
{
    (void)state;
    grid g;
    grid_make(&g, 10, 13, 0.5, 0.5, 0, 3, 4);
    check(&g, FEATURES, FLOE_WEIGHTS_FRACTION);
    grid_make(&g, 10, 13, 0.5, 0.5, 1, 4, 5); /* latitudes descending */
    check(&g, FEATURES, FLOE_WEIGHTS_FRACTION);
    grid_make(&g, 10, 13, 0.5, 0.5, 0, 10, 13); /* one chunk */
    check(&g, FEATURES, FLOE_WEIGHTS_FRACTION);
}

/* A global grid: the region across 0 takes columns 0.. and ..359, which
 * are not consecutive, so its runs in a row are two. */
static void test_wrapped(void **state)
{
    (void)state;
    grid g;
    grid_make(&g, 20, 360, -9.5, 0.5, 0, 7, 90);
    check(&g, ACROSS_ZERO, FLOE_WEIGHTS_CENTRE);
    check(&g, ACROSS_ZERO, FLOE_WEIGHTS_FRACTION);
    grid_make(&g, 20, 360, -9.5, 0.5, 0, 20, 360);
    check(&g, ACROSS_ZERO, FLOE_WEIGHTS_CENTRE);
}

/* No region: the box, whole cells, one run per row and chunk column. */
static void test_box(void **state)
{
    (void)state;
    grid g;
    grid_make(&g, 10, 13, 0.5, 0.5, 0, 3, 4);
    region_cells rc;
    expect_ok(region_cells_make(NULL, FLOE_WEIGHTS_CENTRE, g.lat, g.nlat, g.lon, g.nlon, 1, 7, 2,
                                9, g.chy, g.chx, &rc));
    ref_list ref;
    reference(&g, NULL, FLOE_WEIGHTS_CENTRE, 1, 7, 2, 9, &ref);
    assert_int_equal(ref.n, 63);
    assert_int_equal(rc.cell_first[rc.npairs], 0); /* no explicit cell */
    expect_same(&rc, &ref);
    expect_same_stats(&rc, &ref);
    assert_int_equal(rc.ncells[0], 63);
    free(ref.c);
    region_cells_free(&rc);
}

/* The walk of hand-made segments: a run, explicit cells, a run, with the
 * bits of floe_wstat_add over the same cells with the same weights. */
static void test_walk(void **state)
{
    (void)state;
    const double latf[2] = {0.25, 0.75}, lonw[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    const float v[12] = {1, 2, NAN, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* 2 rows x 6 */
    /* row 1 (values 7..12): columns 0..1 whole, 2 and 4 in part, 5 whole */
    const floe_wseg segs[] = {{3, 2, 0, 2},        /* row 0, columns 2..4: v NaN, 4, 5 */
                              {2, 6, 1, 0},        /* row 1, columns 0..1: v 7, 8 */
                              {2, 0, FLOE_WSEG_CELLS, 0},
                              {1, 11, 1, 5}};      /* row 1, column 5: v 12 */
    const floe_wcell cells[] = {{8, 0.5 * (0.75 * 0.3), 0.5}, {10, 0.25 * (0.75 * 0.5), 0.25}};
    floe_wstat got;
    floe_wstat_init(&got);
    floe_wstat_add_segs(&got, v, segs, 4, cells, latf, lonw);
    /* the same cells, in order, with weights and a mask */
    const float x[] = {NAN, 4, 5, 7, 8, 9, 11, 12};
    const double w[] = {0.25 * 0.3,          0.25 * 0.4,          0.25 * 0.5,
                        0.75 * 0.1,          0.75 * 0.2,          0.5 * (0.75 * 0.3),
                        0.25 * (0.75 * 0.5), 0.75 * 0.6};
    floe_wstat want;
    floe_wstat_init(&want);
    floe_wstat_add(&want, x, w, NULL, 8);
    /* sum: f x for the partial cells, not x */
    want.sum = 4.0 + 5 + 7 + 8 + 0.5 * 9 + 0.25 * 11 + 12;
    assert_memory_equal(&got, &want, sizeof got);
}

/* A polygon whose edges cross every row of a large grid many times makes
 * exact fractions too much work: refused with advice before any clipping;
 * --weights centre takes the same polygon. */
static void test_fraction_work_capped(void **state)
{
    (void)state;
    enum { NLAT = 2000, NLON = 2000, NV = 2400 };
    double *lat = malloc(NLAT * sizeof *lat), *lon = malloc(NLON * sizeof *lon);
    char *json = malloc((size_t)NV * 48 + 256);
    assert_non_null(lat), assert_non_null(lon), assert_non_null(json);
    for (size_t i = 0; i < NLAT; i++)
        lat[i] = 0.005 + 0.01 * (double)i;
    for (size_t j = 0; j < NLON; j++)
        lon[j] = 0.005 + 0.01 * (double)j;
    /* a zig-zag between the grid's bottom and top: every edge crosses every row */
    size_t n = (size_t)sprintf(json, "{\"type\": \"Polygon\", \"coordinates\": [[");
    for (size_t k = 0; k < NV; k++)
        n += (size_t)sprintf(json + n, "[%.6f, %.6f], ", 0.001 + 19.99 * (double)k / NV,
                             k % 2 ? 19.999 : 0.001);
    sprintf(json + n, "[0.001, 0.001]]]}");
    floe_region_set set;
    expect_ok(floe_region_set_parse(json, strlen(json), "zigzag.geojson", NULL, &set));
    region_cells rc;
    expect_code(region_cells_make(&set, FLOE_WEIGHTS_FRACTION, lat, NLAT, lon, NLON, 0, 0, 0, 0,
                                  500, 900, &rc),
                FLOE_EUNSUPPORTED, "--weights centre");
    expect_ok(region_cells_make(&set, FLOE_WEIGHTS_CENTRE, lat, NLAT, lon, NLON, 0, 0, 0, 0, 500,
                                900, &rc));
    region_cells_free(&rc);
    floe_region_set_free(&set);
    free(json);
    free(lat);
    free(lon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_centre),
        cmocka_unit_test(test_fraction),
        cmocka_unit_test(test_wrapped),
        cmocka_unit_test(test_box),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_fraction_work_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
