/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_cells.c - see region_cells.h. */
#include "engine/plan/region_cells.h"

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
    free(rc->cell_first);
    free(rc->cells);
    free(rc->ncells);
    free(rc->edges);
    memset(rc, 0, sizeof *rc);
}

/* A cell of a region before it is put in its tile. */
typedef struct raw_cell {
    size_t row, col, region, tile;
    double w, f;
} raw_cell;

/* The grid's cells as the regions see them. */
typedef struct grid {
    const double *lat;
    size_t nlat, nlon;
    double *latf, *lonw;  /* area factors */
    double *ylo, *yhi;    /* row edges, clamped to +-90 */
    double *xc, *xlo, *xhi; /* column centres and edges, wrapped into [-180, 180) */
    raw_cell *c;
    size_t n, cap;
} grid;

static double wrap_lon(double lon)
{
    if (lon >= 180 || lon < -180)
        lon -= 360 * floor((lon + 180) / 360);
    return lon;
}

static int push(grid *g, size_t row, size_t col, size_t region, double w, double f)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 1024;
        raw_cell *c = realloc(g->c, cap * sizeof *c);
        if (!c)
            return 0;
        g->c = c, g->cap = cap;
    }
    g->c[g->n++] = (raw_cell){row, col, region, 0, w, f};
    return 1;
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
    free(g->c);
}

static floe_err grid_init(grid *g, const double *lat, size_t nlat, const double *lon, size_t nlon)
{
    memset(g, 0, sizeof *g);
    g->lat = lat, g->nlat = nlat, g->nlon = nlon;
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
    for (size_t i = nlat; i-- > 0;) {
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
            for (size_t q = 0; q < nc && !err; q++) {
                double f = frac ? sf[q] : mask[p * nc + q] ? 1.0 : 0.0;
                if (!(f > 0))
                    continue;
                size_t j = cols[q];
                /* centre: the area factor exactly as the dense weights were */
                double w = frac ? f * (g->latf[i] * g->lonw[j]) : g->latf[i] * g->lonw[j];
                if (!push(g, i, j, k, w, f))
                    err = FLOE_ERR(FLOE_ENOMEM, "region cells");
                (*ncells)++;
                edges[0] = fmin(edges[0], g->xlo[j]), edges[2] = fmax(edges[2], g->xhi[j]);
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

static int cmp_key(const void *pa, const void *pb)
{
    const uint64_t *a = pa, *b = pb;
    return a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] != b[1] ? (a[1] < b[1] ? -1 : 1) : 0;
}

/* g's cells into tiles, pairs and lists (the order of region_cells.h). */
static floe_err group(grid *g, uint64_t chy, uint64_t chx, region_cells *rc)
{
    size_t n = g->n;
    uint64_t *keys = malloc((n ? n : 1) * 2 * sizeof *keys);
    if (!keys)
        return FLOE_ERR(FLOE_ENOMEM, "region cells: %zu cells", n);
    for (size_t k = 0; k < n; k++)
        keys[2 * k] = g->c[k].row / chy, keys[2 * k + 1] = g->c[k].col / chx;
    qsort(keys, n, 2 * sizeof *keys, cmp_key);
    size_t nt = 0;
    for (size_t k = 0; k < n; k++)
        if (!nt || cmp_key(keys + 2 * k, keys + 2 * (nt - 1)))
            keys[2 * nt] = keys[2 * k], keys[2 * nt + 1] = keys[2 * k + 1], nt++;
    rc->tiles = calloc(nt ? nt : 1, sizeof *rc->tiles);
    size_t *first = calloc(nt + 1, sizeof *first), *fill = calloc(nt ? nt : 1, sizeof *fill);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    floe_err err = NULL;
    if (!rc->tiles || !first || !fill || !order)
        err = FLOE_ERR(FLOE_ENOMEM, "region cells: %zu tiles", nt);
    for (size_t t = 0; !err && t < nt; t++)
        rc->tiles[t] = (series_tile){keys[2 * t], keys[2 * t + 1], SIZE_MAX, 0, SIZE_MAX, 0};
    rc->ntiles = nt;
    for (size_t k = 0; !err && k < n; k++) {
        uint64_t key[2] = {g->c[k].row / chy, g->c[k].col / chx};
        size_t lo = 0, hi = nt;
        while (lo + 1 < hi) {
            size_t mid = (lo + hi) / 2;
            if (cmp_key(keys + 2 * mid, key) <= 0)
                lo = mid;
            else
                hi = mid;
        }
        g->c[k].tile = lo;
        first[lo + 1]++;
        series_tile *t = &rc->tiles[lo];
        size_t r = g->c[k].row, c = g->c[k].col;
        t->r0 = r < t->r0 ? r : t->r0, t->r1 = r + 1 > t->r1 ? r + 1 : t->r1;
        t->c0 = c < t->c0 ? c : t->c0, t->c1 = c + 1 > t->c1 ? c + 1 : t->c1;
    }
    free(keys);
    for (size_t t = 0; !err && t < nt; t++)
        first[t + 1] += first[t];
    for (size_t k = 0; !err && k < n; k++) /* stable: region, then row-major, kept */
        order[first[g->c[k].tile] + fill[g->c[k].tile]++] = k;
    /* pairs: runs of one region within a tile */
    size_t np = 0;
    for (size_t q = 0; !err && q < n; q++)
        if (q == 0 || g->c[order[q]].tile != g->c[order[q - 1]].tile ||
            g->c[order[q]].region != g->c[order[q - 1]].region)
            np++;
    if (!err) {
        rc->pair_first = calloc(nt + 1, sizeof *rc->pair_first);
        rc->pair_region = malloc((np ? np : 1) * sizeof *rc->pair_region);
        rc->cell_first = malloc((np + 1) * sizeof *rc->cell_first);
        rc->cells = malloc((n ? n : 1) * sizeof *rc->cells);
        if (!rc->pair_first || !rc->pair_region || !rc->cell_first || !rc->cells)
            err = FLOE_ERR(FLOE_ENOMEM, "region cells: %zu cells", n);
    }
    size_t p = 0;
    for (size_t q = 0; !err && q < n; q++) {
        const raw_cell *c = &g->c[order[q]];
        if (q == 0 || c->tile != g->c[order[q - 1]].tile || c->region != g->c[order[q - 1]].region) {
            rc->pair_region[p] = c->region;
            rc->cell_first[p] = q;
            rc->pair_first[c->tile + 1] = ++p;
        }
        const series_tile *t = &rc->tiles[c->tile];
        uint64_t off = (uint64_t)(c->row - t->r0) * (t->c1 - t->c0) + (c->col - t->c0);
        if (off > UINT32_MAX) {
            err = FLOE_ERR(FLOE_EUNSUPPORTED, "region cells: a chunk of more than %u cells",
                           (unsigned)UINT32_MAX);
            break;
        }
        rc->cells[q] = (floe_wcell){(uint32_t)off, c->w, c->f};
    }
    if (!err) {
        rc->cell_first[np] = n;
        rc->npairs = np;
        for (size_t t = 0; t < nt; t++) /* tiles with no pair of their own: none */
            if (rc->pair_first[t + 1] < rc->pair_first[t])
                rc->pair_first[t + 1] = rc->pair_first[t];
    }
    free(first);
    free(fill);
    free(order);
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
    grid g;
    floe_err err = grid_init(&g, lat, nlat, lon, nlon);
    if (set)
        for (size_t k = 0; k < nreg && !err; k++) {
            err = add_region(&g, set->r[k], k, how, &out->ncells[k], out->edges[k]);
            if (err && set->per_feature)
                err = floe_err_push(err, __FILE__, __LINE__, " region '%s'", set->ids[k]);
        }
    else {
        for (size_t i = y0; i < y0 + ny && !err; i++)
            for (size_t j = x0; j < x0 + nx && !err; j++)
                if (!push(&g, i, j, 0, g.latf[i] * g.lonw[j], 1.0))
                    err = FLOE_ERR(FLOE_ENOMEM, "region cells: %zu x %zu", ny, nx);
        out->ncells[0] = ny * nx;
        for (int e = 0; e < 4; e++)
            out->edges[0][e] = NAN; /* the caller's box */
    }
    if (!err)
        err = group(&g, chy, chx, out);
    grid_free(&g);
    if (err)
        region_cells_free(out);
    return err;
}
