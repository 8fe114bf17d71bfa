/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_fraction.c - see region_fraction.h. */
#include "engine/plan/region_fraction.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A polygon's vertices (open: the last is not the first again). */
typedef struct pts {
    double *x, *y;
    size_t n, cap;
} pts;

static int pts_reserve(pts *p, size_t n)
{
    if (n <= p->cap)
        return 1;
    size_t cap = p->cap ? p->cap : 16;
    while (cap < n)
        cap *= 2;
    double *x = realloc(p->x, cap * sizeof *x);
    if (!x)
        return 0;
    p->x = x;
    double *y = realloc(p->y, cap * sizeof *y);
    if (!y)
        return 0;
    p->y = y;
    p->cap = cap;
    return 1;
}

static void pts_free(pts *p)
{
    free(p->x);
    free(p->y);
    memset(p, 0, sizeof *p);
}

/* The sides of the clipping rectangle: keep x >= v, x <= v, y >= v, y <= v. */
enum side { KEEP_X_ABOVE, KEEP_X_BELOW, KEEP_Y_ABOVE, KEEP_Y_BELOW };

static int inside(enum side sd, double v, double x, double y)
{
    switch (sd) {
    case KEEP_X_ABOVE: return x >= v;
    case KEEP_X_BELOW: return x <= v;
    case KEEP_Y_ABOVE: return y >= v;
    default: return y <= v;
    }
}

/* Sutherland-Hodgman against one side: out = in clipped (out has room for
 * 2 * in->n vertices). The crossing point gets the side's coordinate
 * exactly, so a part that degenerates onto a side has exactly no area. */
static void clip_side(const pts *in, enum side sd, double v, pts *out)
{
    out->n = 0;
    size_t n = in->n;
    for (size_t i = 0; i < n; i++) {
        double px = in->x[i], py = in->y[i];
        double qx = in->x[(i + 1) % n], qy = in->y[(i + 1) % n];
        int pin = inside(sd, v, px, py), qin = inside(sd, v, qx, qy);
        if (pin) {
            out->x[out->n] = px, out->y[out->n] = py, out->n++;
        }
        if (pin != qin) {
            double cx, cy;
            if (sd == KEEP_X_ABOVE || sd == KEEP_X_BELOW) {
                cx = v;
                cy = py + (v - px) * (qy - py) / (qx - px);
            } else {
                cy = v;
                cx = px + (v - py) * (qx - px) / (qy - py);
            }
            out->x[out->n] = cx, out->y[out->n] = cy, out->n++;
        }
    }
}

/* |area| by the shoelace formula, relative to (x0, y0) for precision
 * (and so that vertices all on one side of the rectangle give exactly 0). */
static double area(const pts *p, double x0, double y0)
{
    double a = 0;
    for (size_t i = 0; i < p->n; i++) {
        size_t k = (i + 1) % p->n;
        a += (p->x[i] - x0) * (p->y[k] - y0) - (p->x[k] - x0) * (p->y[i] - y0);
    }
    return fabs(a) / 2;
}

/* Scratch of the clipping: the band's clipped rings of one polygon and
 * two buffers for a cell's. */
typedef struct clipper {
    pts *band;    /* [nrings] */
    size_t nband;
    pts a, b;
} clipper;

static void clipper_free(clipper *c)
{
    for (size_t i = 0; i < c->nband; i++)
        pts_free(&c->band[i]);
    free(c->band);
    pts_free(&c->a);
    pts_free(&c->b);
    memset(c, 0, sizeof *c);
}

/* c->band[g] = ring g of polygon k clipped to s <= y <= n. 0: no memory. */
static int clip_band(clipper *c, const floe_region *r, size_t k, double s, double n)
{
    size_t nr = floe_region_ring_count(r, k);
    if (nr > c->nband) {
        pts *p = realloc(c->band, nr * sizeof *p);
        if (!p)
            return 0;
        memset(p + c->nband, 0, (nr - c->nband) * sizeof *p);
        c->band = p, c->nband = nr;
    }
    for (size_t g = 0; g < nr; g++) {
        const double *x, *y;
        size_t m;
        floe_region_ring(r, k, g, &x, &y, &m);
        m--; /* closed: the last repeats the first */
        if (!pts_reserve(&c->a, 4 * m + 8) || !pts_reserve(&c->band[g], 4 * m + 8))
            return 0;
        memcpy(c->a.x, x, m * sizeof *x);
        memcpy(c->a.y, y, m * sizeof *y);
        c->a.n = m;
        clip_side(&c->a, KEEP_Y_ABOVE, s, &c->band[g]);
        pts tmp = c->band[g];
        clip_side(&tmp, KEEP_Y_BELOW, n, &c->a);
        /* back into band[g] */
        memcpy(c->band[g].x, c->a.x, c->a.n * sizeof *c->a.x);
        memcpy(c->band[g].y, c->a.y, c->a.n * sizeof *c->a.y);
        c->band[g].n = c->a.n;
    }
    return 1;
}

/* The area of polygon k's band rings inside w <= x <= e (exterior less
 * holes). 0 return: no memory. */
static int cell_area(clipper *c, size_t nr, double w, double s, double e, double *out)
{
    double total = 0;
    for (size_t g = 0; g < nr; g++) {
        const pts *in = &c->band[g];
        if (in->n < 3)
            continue;
        if (!pts_reserve(&c->a, 4 * in->n + 8) || !pts_reserve(&c->b, 4 * in->n + 8))
            return 0;
        clip_side(in, KEEP_X_ABOVE, w, &c->a);
        clip_side(&c->a, KEEP_X_BELOW, e, &c->b);
        double a = c->b.n >= 3 ? area(&c->b, w, s) : 0;
        total += g == 0 ? a : -a;
    }
    *out = total;
    return 1;
}

floe_err floe_region_row_fractions(const floe_region *r, double s, double n, const double *xw,
                                   const double *xe, size_t ncols, double *frac)
{
    memset(frac, 0, ncols * sizeof *frac);
    clipper c = {0};
    for (size_t k = 0; k < floe_region_polygon_count(r); k++) {
        floe_bbox b = floe_region_polygon_bbox(r, k);
        if (b.south >= n || b.north <= s)
            continue;
        if (!clip_band(&c, r, k, s, n)) {
            clipper_free(&c);
            return FLOE_ERR(FLOE_ENOMEM, "cell fractions: out of memory");
        }
        size_t nr = floe_region_ring_count(r, k);
        for (size_t j = 0; j < ncols; j++) {
            if (b.west >= xe[j] || b.east <= xw[j])
                continue;
            double a = 0;
            if (!cell_area(&c, nr, xw[j], s, xe[j], &a)) {
                clipper_free(&c);
                return FLOE_ERR(FLOE_ENOMEM, "cell fractions: out of memory");
            }
            frac[j] += a;
        }
    }
    clipper_free(&c);
    for (size_t j = 0; j < ncols; j++) {
        double f = frac[j] / ((xe[j] - xw[j]) * (n - s));
        frac[j] = f < 0 ? 0 : f > 1 ? 1 : f;
    }
    return NULL;
}

double floe_region_rect_fraction(const floe_region *r, double w, double s, double e, double n)
{
    double f = 0;
    floe_err err = floe_region_row_fractions(r, s, n, &w, &e, 1, &f);
    if (err) { /* out of memory for a few vertices: nothing sensible to return */
        floe_err_free(&err);
        return NAN;
    }
    return f;
}
