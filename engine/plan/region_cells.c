/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_cells.c - see region_cells.h. */
#include "engine/plan/region_cells.h"

#include "engine/plan/region_cells_internal.h"
#include "engine/plan/region_fraction.h"
#include "engine/reduce/area_weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Exact fractions clip every cell of a row against the polygon edges that
 * cross the row's band: about columns x (edge, row) crossings of work. A
 * region needing more than this (tens of seconds) is refused with advice,
 * so that a hostile or needlessly detailed polygon (millions of vertices
 * zig-zagging through every row) cannot hold a job for hours. */
#define FRACTION_WORK_MAX 4e9


floe_err floe_region_weights_parse(const char *text, floe_region_weights *out)
{
    if (!text || !strcmp(text, "centre") || !strcmp(text, "center")) {
        *out = FLOE_WEIGHTS_CENTRE;
        return NULL;
    }
    if (!strcmp(text, "fraction")) {
        *out = FLOE_WEIGHTS_FRACTION;
        return NULL;
    }
    return FLOE_ERR(FLOE_EINVAL, "--weights '%s': expected centre or fraction", text);
}

void region_cells_free(region_cells *rc)
{
    free(rc->tiles);
    free(rc->pair_first);
    free(rc->pair_region);
    free(rc->seg_first);
    free(rc->segs);
    free(rc->cell_first);
    free(rc->cells);
    free(rc->latf);
    free(rc->lonw);
    free(rc->ncells);
    free(rc->edges);
    memset(rc, 0, sizeof *rc);
}

/* The grid's cells as the regions see them. */
typedef struct grid {
    const double *lat;
    size_t nlat, nlon;
    double *latf, *lonw;  /* area factors */
    double *ylo, *yhi;    /* row edges, clamped to +-90 */
    double *xc, *xlo, *xhi; /* column centres and edges, wrapped into [-180, 180) */
    rc_builder cells;
} grid;

static double wrap_lon(double lon)
{
    if (lon >= 180 || lon < -180)
        lon -= 360 * floor((lon + 180) / 360);
    return lon;
}

static void grid_free(grid *g)
{
    free(g->latf);
    free(g->lonw);
    free(g->ylo);
    free(g->yhi);
    free(g->xc);
    free(g->xlo);
    free(g->xhi);
    rc_builder_free(&g->cells);
}

static floe_err grid_init(grid *g, const double *lat, size_t nlat, const double *lon, size_t nlon,
                          uint64_t chx)
{
    memset(g, 0, sizeof *g);
    g->lat = lat, g->nlat = nlat, g->nlon = nlon;
    g->cells.chx = chx;
    g->latf = malloc(nlat * sizeof *g->latf);
    g->lonw = malloc(nlon * sizeof *g->lonw);
    g->ylo = malloc((nlat + 1) * sizeof *g->ylo);
    g->yhi = malloc(nlat * sizeof *g->yhi);
    g->xc = malloc(nlon * sizeof *g->xc);
    g->xlo = malloc((nlon + 1) * sizeof *g->xlo);
    g->xhi = malloc(nlon * sizeof *g->xhi);
    if (!g->latf || !g->lonw || !g->ylo || !g->yhi || !g->xc || !g->xlo || !g->xhi)
        return FLOE_ERR(FLOE_ENOMEM, "region cells: %zu x %zu grid", nlat, nlon);
    FLOE_CHECK(floe_lat_factors(lat, nlat, g->latf));
    FLOE_CHECK(floe_lon_widths(lon, nlon, g->lonw));
    FLOE_CHECK(floe_cell_edges("lat", lat, nlat, g->ylo)); /* nlat + 1 edges, then split */
    for (size_t i = 0; i < nlat; i++) { /* upwards: ylo[i + 1] is still the edge */
        double a = g->ylo[i], b = g->ylo[i + 1];
        g->yhi[i] = fmin(fmax(a, b), 90);
        g->ylo[i] = fmax(fmin(a, b), -90);
    }
    FLOE_CHECK(floe_cell_edges("lon", lon, nlon, g->xlo));
    for (size_t j = 0; j < nlon; j++) {
        double a = g->xlo[j], b = g->xlo[j + 1], c = wrap_lon(lon[j]), shift = c - lon[j];
        g->xc[j] = c;
        g->xhi[j] = fmax(a, b) + shift;
        g->xlo[j] = fmin(a, b) + shift;
    }
    return NULL;
}

/* Column q's fraction in a row: computed (frow), or 1 where the centre is
 * inside (mrow). */
static double row_fraction(const double *frow, const uint8_t *mrow, size_t q)
{
    return frow ? frow[q] : mrow[q] ? 1.0 : 0.0;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* How many of the n sorted values are < x (strict: below) or <= x. */
static size_t count_below(const double *v, size_t n, double x, int or_equal)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < x || (or_equal && v[mid] == x))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The clipping work of region r over rows[0..nr) of g and nc columns:
 * nc x the (edge, row band) pairs that meet. The bands are disjoint, so
 * the rows an edge [y0, y1] meets are those with ylo < y1, less those
 * with yhi <= y0 (two binary searches per edge). */
static floe_err fraction_work(const grid *g, const size_t *rows, size_t nr, size_t nc,
                              const floe_region *r, double *work)
{
    double *lo = malloc((nr ? nr : 1) * sizeof *lo), *hi = malloc((nr ? nr : 1) * sizeof *hi);
    if (!lo || !hi) {
        free(lo);
        free(hi);
        return FLOE_ERR(FLOE_ENOMEM, "region cells: %zu rows", nr);
    }
    for (size_t p = 0; p < nr; p++)
        lo[p] = g->ylo[rows[p]], hi[p] = g->yhi[rows[p]];
    qsort(lo, nr, sizeof *lo, cmp_double);
    qsort(hi, nr, sizeof *hi, cmp_double);
    double pairs = 0;
    for (size_t k = 0; k < floe_region_polygon_count(r); k++)
        for (size_t q = 0; q < floe_region_ring_count(r, k); q++) {
            const double *x, *y;
            size_t n;
            floe_region_ring(r, k, q, &x, &y, &n);
            for (size_t e = 0; e + 1 < n; e++) {
                double y0 = fmin(y[e], y[e + 1]), y1 = fmax(y[e], y[e + 1]);
                size_t a = count_below(lo, nr, y1, 1), b = count_below(hi, nr, y0, 1);
                pairs += a > b ? (double)(a - b) : 0;
            }
        }
    free(lo);
    free(hi);
    *work = pairs * (double)nc;
    return NULL;
}

/* Region k's cells (region_cells.h), row-major; *ncells of them and
 * their edges' box. */
static floe_err add_region(grid *g, const floe_region *r, size_t k, floe_region_weights how,
                           size_t *ncells, double edges[4])
{
    floe_bbox b = floe_region_bbox(r);
    int frac = how == FLOE_WEIGHTS_FRACTION;
    size_t *rows = malloc(g->nlat * sizeof *rows), *cols = malloc(g->nlon * sizeof *cols);
    size_t nr = 0, nc = 0;
    floe_err err = NULL;
    if (!rows || !cols)
        err = FLOE_ERR(FLOE_ENOMEM, "region cells");
    for (size_t i = 0; !err && i < g->nlat; i++)
        if (frac ? g->ylo[i] < b.north && g->yhi[i] > b.south
                 : g->lat[i] >= b.south && g->lat[i] <= b.north)
            rows[nr++] = i;
    for (size_t j = 0; !err && j < g->nlon; j++)
        if (frac ? g->xlo[j] < b.east && g->xhi[j] > b.west
                 : g->xc[j] >= b.west && g->xc[j] <= b.east)
            cols[nc++] = j;
    double work = 0;
    if (!err && frac && nr && nc && !(err = fraction_work(g, rows, nr, nc, r, &work)) &&
        work > FRACTION_WORK_MAX)
        err = FLOE_ERR(FLOE_EUNSUPPORTED, "exact fractions of %zu x %zu cells against this "
                       "polygon's edges are %.3g clippings, more than %.3g: simplify the "
                       "polygon (fewer vertices) or use --weights centre", nr, nc, work,
                       FRACTION_WORK_MAX);
    /* per row: the columns' centres or edges, and a row of answers */
    double *sx = malloc((nc ? nc : 1) * sizeof *sx), *sw = malloc((nc ? nc : 1) * sizeof *sw);
    double *sf = malloc((nc ? nc : 1) * sizeof *sf), *sy = malloc((nr ? nr : 1) * sizeof *sy);
    uint8_t *mask = !frac ? malloc(nr * nc > 0 ? nr * nc : 1) : NULL;
    if (!err && (!sx || !sw || !sf || !sy || (!frac && !mask)))
        err = FLOE_ERR(FLOE_ENOMEM, "region cells (%zu x %zu)", nr, nc);
    *ncells = 0;
    edges[0] = edges[1] = INFINITY, edges[2] = edges[3] = -INFINITY;
    if (!err && nr && nc) {
        for (size_t q = 0; q < nc; q++)
            sx[q] = frac ? g->xlo[cols[q]] : g->xc[cols[q]], sw[q] = g->xhi[cols[q]];
        for (size_t p = 0; p < nr; p++)
            sy[p] = g->lat[rows[p]];
        if (!frac)
            err = floe_region_mask(r, sy, nr, sx, nc, mask, NULL);
        for (size_t p = 0; p < nr && !err; p++) {
            size_t i = rows[p];
            if (frac)
                err = floe_region_row_fractions(r, g->ylo[i], g->yhi[i], sx, sw, nc, sf);
            /* the row's fractions: computed, or 1 for the centres inside */
            const double *frow = frac ? sf : NULL;
            const uint8_t *mrow = frac ? NULL : mask + p * nc;
            for (size_t q = 0, q1; q < nc && !err; q = q1) {
                double f = row_fraction(frow, mrow, q);
                q1 = q + 1;
                if (!(f > 0))
                    continue;
                if (f == 1) { /* a run: the whole cells of consecutive columns */
                    while (q1 < nc && cols[q1] == cols[q1 - 1] + 1 &&
                           row_fraction(frow, mrow, q1) == 1)
                        q1++;
                    if (!rc_add_run(&g->cells, k, i, cols[q], cols[q1 - 1] + 1))
                        err = FLOE_ERR(FLOE_ENOMEM, "region cells");
                } else { /* its weight: f x the area factor, as the dense weights were */
                    size_t j = cols[q];
                    if (!rc_add_cell(&g->cells, k, i, j, f * (g->latf[i] * g->lonw[j]), f))
                        err = FLOE_ERR(FLOE_ENOMEM, "region cells");
                }
                *ncells += q1 - q;
                for (size_t u = q; u < q1; u++) {
                    edges[0] = fmin(edges[0], g->xlo[cols[u]]);
                    edges[2] = fmax(edges[2], g->xhi[cols[u]]);
                }
                edges[1] = fmin(edges[1], g->ylo[i]), edges[3] = fmax(edges[3], g->yhi[i]);
            }
        }
    }
    if (!*ncells)
        edges[0] = edges[1] = edges[2] = edges[3] = NAN;
    free(rows);
    free(cols);
    free(sx);
    free(sw);
    free(sf);
    free(sy);
    free(mask);
    return err;
}

floe_err region_cells_make(const floe_region_set *set, floe_region_weights how,
                           const double *lat, size_t nlat, const double *lon, size_t nlon,
                           size_t y0, size_t ny, size_t x0, size_t nx, uint64_t chy,
                           uint64_t chx, region_cells *out)
{
    memset(out, 0, sizeof *out);
    if (!chy || !chx)
        return FLOE_ERR(FLOE_EINVAL, "series: empty chunk shape");
    size_t nreg = set ? set->n : 1;
    out->nregions = nreg;
    out->ncells = calloc(nreg, sizeof *out->ncells);
    out->edges = calloc(nreg, sizeof *out->edges);
    if (!out->ncells || !out->edges)
        return FLOE_ERR(FLOE_ENOMEM, "%zu regions", nreg);
    if (nlat >= FLOE_WSEG_CELLS || nlon >= FLOE_WSEG_CELLS)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "region cells: a %zu x %zu grid", nlat, nlon);
    grid g;
    floe_err err = grid_init(&g, lat, nlat, lon, nlon, chx);
    if (set)
        for (size_t k = 0; k < nreg && !err; k++) {
            err = add_region(&g, set->r[k], k, how, &out->ncells[k], out->edges[k]);
            if (err && set->per_feature)
                err = floe_err_push(err, __FILE__, __LINE__, " region '%s'", set->ids[k]);
        }
    else {
        for (size_t i = y0; i < y0 + ny && !err; i++)
            if (!rc_add_run(&g.cells, 0, i, x0, x0 + nx))
                err = FLOE_ERR(FLOE_ENOMEM, "region cells: %zu x %zu", ny, nx);
        out->ncells[0] = ny * nx;
        for (int e = 0; e < 4; e++)
            out->edges[0][e] = NAN; /* the caller's box */
    }
    if (!err)
        err = rc_group(&g.cells, nlat, nlon, chy, chx, out);
    if (!err) /* a run's weights */
        out->latf = g.latf, out->lonw = g.lonw, g.latf = NULL, g.lonw = NULL;
    grid_free(&g);
    if (err)
        region_cells_free(out);
    return err;
}
