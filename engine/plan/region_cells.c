/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_cells.c - see region_cells.h. */
#include "engine/plan/region_cells.h"

#include "engine/plan/region_cells_internal.h"
#include "engine/plan/region_fraction.h"
#include "engine/reduce/area_weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
