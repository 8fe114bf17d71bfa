/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/points.c - see points.h. */
#include "engine/plan/points.h"

#include "engine/reduce/area_weights.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- CSV ---------------------------------------------------------------- */

enum { MAX_FIELDS = 64 };

typedef struct csv_line {
    char *buf;                 /* the unquoted fields, NUL-separated */
    char *field[MAX_FIELDS];
    size_t nfields;
} csv_line;

static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Split line[0..len) into fields; unquoted fields are trimmed. */
static floe_err split_fields(const char *line, size_t len, csv_line *out, const char *source,
                             size_t lineno)
{
    char *w = out->buf;
    size_t i = 0;
    out->nfields = 0;
    for (;;) {
        if (out->nfields == MAX_FIELDS)
            return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: more than %d fields", source, lineno,
                            MAX_FIELDS);
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        char *start = w;
        int quoted = i < len && line[i] == '"';
        if (quoted) {
            i++;
            for (;;) {
                if (i >= len)
                    return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: unterminated quote", source,
                                    lineno);
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        *w++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *w++ = line[i++];
            }
            while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i < len && line[i] != ',')
                return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: text after a closing quote", source,
                                lineno);
        } else {
            while (i < len && line[i] != ',')
                *w++ = line[i++];
        }
        *w++ = '\0';
        out->field[out->nfields] = quoted ? start : (char *)trim(start);
        out->nfields++;
        if (i >= len)
            return NULL;
        i++; /* the comma */
    }
}

static int parse_number(const char *s, double *v)
{
    char *end;
    if (!*s)
        return 0;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

static int name_is(const char *s, const char *const *names)
{
    for (; *names; names++)
        if (strcasecmp(s, *names) == 0)
            return 1;
    return 0;
}

static const char *const lon_names[] = {"lon", "longitude", "lng", "x", NULL};
static const char *const lat_names[] = {"lat", "latitude", "y", NULL};
static const char *const id_names[] = {"id", "name", "station", "site", NULL};

typedef struct columns {
    long lon, lat, id; /* -1: absent */
    size_t count;      /* fields a line must have (0: 2 or 3, no header) */
} columns;

static floe_err read_header(const csv_line *l, const char *source, size_t lineno, columns *c)
{
    *c = (columns){-1, -1, -1, l->nfields};
    for (size_t k = 0; k < l->nfields; k++) {
        const char *f = l->field[k];
        long *slot = name_is(f, lon_names) ? &c->lon
                     : name_is(f, lat_names) ? &c->lat
                     : name_is(f, id_names) ? &c->id
                     : NULL;
        if (!slot)
            continue;
        if (*slot >= 0)
            return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: header names column '%s' twice", source,
                            lineno, f);
        *slot = (long)k;
    }
    double v;
    if (c->lon < 0 && c->lat < 0 && l->nfields >= 2 && parse_number(l->field[1], &v))
        return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: longitude '%s' is not a number", source,
                        lineno, l->field[0]); /* a data line, not a header */
    if (c->lon < 0 || c->lat < 0)
        return FLOE_ERR(FLOE_EFORMAT,
                        "%s line %zu: header without a %s column (expected lon,lat[,id])", source,
                        lineno, c->lon < 0 ? "lon" : "lat");
    return NULL;
}

static floe_err add_point(floe_points *pts, size_t *cap, const csv_line *l, const columns *c,
                          const char *source, size_t lineno)
{
    if (c->count ? l->nfields != c->count : (l->nfields < 2 || l->nfields > 3))
        return c->count ? FLOE_ERR(FLOE_EFORMAT,
                                   "%s line %zu: %zu fields, the header has %zu", source, lineno,
                                   l->nfields, c->count)
                        : FLOE_ERR(FLOE_EFORMAT,
                                   "%s line %zu: expected lon,lat[,id], got %zu fields", source,
                                   lineno, l->nfields);
    long ilon = c->count ? c->lon : 0, ilat = c->count ? c->lat : 1;
    long iid = c->count ? c->id : (l->nfields == 3 ? 2 : -1);
    floe_point p = {0, 0, NULL, lineno};
    if (!parse_number(l->field[ilon], &p.lon))
        return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: longitude '%s' is not a number", source,
                        lineno, l->field[ilon]);
    if (!parse_number(l->field[ilat], &p.lat))
        return FLOE_ERR(FLOE_EFORMAT, "%s line %zu: latitude '%s' is not a number", source,
                        lineno, l->field[ilat]);
    if (p.lat < -90 || p.lat > 90)
        return FLOE_ERR(FLOE_EINVAL, "%s line %zu: latitude %s is outside [-90, 90]", source,
                        lineno, l->field[ilat]);
    if (p.lon < -360 || p.lon > 360)
        return FLOE_ERR(FLOE_EINVAL, "%s line %zu: longitude %s is outside [-360, 360]", source,
                        lineno, l->field[ilon]);
    char number[24];
    const char *id = iid >= 0 ? l->field[iid] : "";
    if (!*id) {
        snprintf(number, sizeof number, "%zu", pts->n + 1);
        id = number;
    }
    if (pts->n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        floe_point *np = realloc(pts->p, ncap * sizeof *np);
        if (!np)
            return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", source);
        pts->p = np;
        *cap = ncap;
    }
    if (!(p.id = strdup(id)))
        return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", source);
    pts->p[pts->n++] = p;
    return NULL;
}

static int cmp_point_id(const void *a, const void *b)
{
    const floe_point *x = *(const floe_point *const *)a, *y = *(const floe_point *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static floe_err check_unique_ids(const floe_points *pts, const char *source)
{
    const floe_point **order = malloc((pts->n ? pts->n : 1) * sizeof *order);
    if (!order)
        return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", source);
    for (size_t i = 0; i < pts->n; i++)
        order[i] = &pts->p[i];
    qsort(order, pts->n, sizeof *order, cmp_point_id);
    floe_err err = NULL;
    for (size_t i = 1; i < pts->n && !err; i++)
        if (strcmp(order[i - 1]->id, order[i]->id) == 0)
            err = FLOE_ERR(FLOE_EINVAL, "%s line %zu: id '%s' is already used on line %zu",
                           source, order[i]->line, order[i]->id, order[i - 1]->line);
    free(order);
    return err;
}

floe_err floe_points_parse_csv(const char *text, size_t len, const char *source,
                               floe_points *out)
{
    memset(out, 0, sizeof *out);
    csv_line l;
    /* Unquoting never lengthens a line; one NUL per field is added. */
    l.buf = malloc(len + MAX_FIELDS + 1);
    if (!l.buf)
        return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", source);
    size_t cap = 0, lineno = 0, pos = 0;
    /* A UTF-8 byte-order mark (Excel's "CSV UTF-8") is not text. */
    static const char bom[] = "\xEF\xBB\xBF";
    if (len >= sizeof bom - 1 && !memcmp(text, bom, sizeof bom - 1))
        pos = sizeof bom - 1;
    int seen_first = 0;
    columns cols = {0, 1, -1, 0};
    floe_err err = NULL;
    while (pos < len && !err) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && isspace((unsigned char)line[k]))
            k++;
        if (k == n || line[k] == '#')
            continue;
        err = split_fields(line, n, &l, source, lineno);
        if (err)
            break;
        if (!seen_first) {
            seen_first = 1;
            double v;
            if (!parse_number(l.field[0], &v)) {
                err = read_header(&l, source, lineno, &cols);
                continue;
            }
        }
        err = add_point(out, &cap, &l, &cols, source, lineno);
    }
    free(l.buf);
    if (!err && out->n == 0)
        err = FLOE_ERR(FLOE_EINVAL, "%s: no points", source);
    if (!err)
        err = check_unique_ids(out, source);
    if (err)
        floe_points_free(out);
    return err;
}

void floe_points_free(floe_points *pts)
{
    for (size_t i = 0; i < pts->n; i++)
        free(pts->p[i].id);
    free(pts->p);
    memset(pts, 0, sizeof *pts);
}

/* ---- interpolation method ------------------------------------------------ */

floe_err floe_interp_parse(const char *text, floe_interp *out)
{
    if (strcmp(text, "nearest") == 0)
        *out = FLOE_INTERP_NEAREST;
    else if (strcmp(text, "bilinear") == 0)
        *out = FLOE_INTERP_BILINEAR;
    else
        return FLOE_ERR(FLOE_EINVAL, "--interp '%s': expected nearest or bilinear", text);
    return NULL;
}

const char *floe_interp_name(floe_interp how)
{
    return how == FLOE_INTERP_BILINEAR ? "bilinear" : "nearest";
}

/* ---- locating points ----------------------------------------------------- */

/* An axis seen in ascending order: value v is at s * v. */
typedef struct axis {
    const double *c;
    size_t n;
    double s;      /* +1 ascending, -1 descending */
    double *e;     /* edges (n + 1), in the axis' own order */
    int periodic;  /* a longitude axis around the whole circle */
    double gap;    /* periodic: from the last centre to the first + 360 */
} axis;

static floe_err axis_open(axis *a, const char *name, const double *c, size_t n, int is_lon)
{
    memset(a, 0, sizeof *a);
    a->e = malloc((n + 1) * sizeof *a->e);
    if (!a->e)
        return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", name);
    FLOE_CHECK(floe_cell_edges(name, c, n, a->e));
    a->c = c;
    a->n = n;
    a->s = c[1] > c[0] ? 1 : -1;
    if (is_lon && a->s > 0) {
        double mean = (c[n - 1] - c[0]) / (double)(n - 1);
        a->gap = c[0] + 360 - c[n - 1];
        a->periodic = fabs(a->gap - mean) <= 1e-6 * mean;
    }
    return NULL;
}

static double lo_centre(const axis *a) { return fmin(a->c[0], a->c[a->n - 1]); }
static double hi_centre(const axis *a) { return fmax(a->c[0], a->c[a->n - 1]); }
static double lo_edge(const axis *a) { return fmin(a->e[0], a->e[a->n]); }
static double hi_edge(const axis *a) { return fmax(a->e[0], a->e[a->n]); }

/* Nearest: the cell whose edges hold x (see points.h for the rule). */
static int axis_nearest(const axis *a, double x, size_t *k)
{
    if (a->periodic) {
        x = a->e[0] + fmod(fmod(x - a->e[0], 360) + 360, 360);
        x = fmin(x, a->e[a->n]); /* rounding may leave the last edge a hair short */
    }
    if (x < lo_edge(a) || x > hi_edge(a))
        return 0;
    /* Count the interior edges the point has passed: edges below the
     * point in value, or equal to it (so it goes to the upper cell). */
    size_t lo = 1, hi = a->n; /* interior edges are e[1..n-1] */
    if (a->s > 0) {
        while (lo < hi) { /* first interior edge > x */
            size_t m = lo + (hi - lo) / 2;
            if (a->e[m] <= x)
                lo = m + 1;
            else
                hi = m;
        }
        *k = lo - 1;
    } else {
        while (lo < hi) { /* first interior edge <= x */
            size_t m = lo + (hi - lo) / 2;
            if (a->e[m] > x)
                lo = m + 1;
            else
                hi = m;
        }
        *k = lo - 1;
    }
    return 1;
}

/* Bilinear along one axis: x between centres i0 and i1, weight t on i1. */
static int axis_linear(const axis *a, double x, size_t *i0, size_t *i1, double *t)
{
    const double *c = a->c;
    size_t n = a->n;
    if (a->periodic) {
        x = c[0] + fmod(fmod(x - c[0], 360) + 360, 360);
        if (x > c[n - 1]) { /* between the last column and the first, wrapped */
            *i0 = n - 1;
            *i1 = 0;
            *t = (x - c[n - 1]) / a->gap;
            return 1;
        }
    }
    if (x < lo_centre(a) || x > hi_centre(a))
        return 0;
    /* the last i with s*c[i] <= s*x, at most n - 2 */
    size_t lo = 0, hi = n - 1;
    double sx = a->s * x;
    while (lo < hi) {
        size_t m = lo + (hi - lo + 1) / 2;
        if (a->s * c[m] <= sx)
            lo = m;
        else
            hi = m - 1;
    }
    if (lo > n - 2)
        lo = n - 2;
    *i0 = lo;
    *i1 = lo + 1;
    *t = (x - c[lo]) / (c[lo + 1] - c[lo]);
    return 1;
}

/* x, or x shifted by a turn, inside [lo, hi]; the first that fits. */
static double shift_lon(double x, double lo, double hi)
{
    static const double turns[] = {0, 360, -360, 720, -720};
    for (size_t i = 0; i < 5; i++)
        if (x + turns[i] >= lo && x + turns[i] <= hi)
            return x + turns[i];
    return x;
}

floe_err floe_point_locate(const floe_point *pt, floe_interp how, const double *lat, size_t nlat,
                           const double *lon, size_t nlon, floe_point_weights *out)
{
    axis ay, ax;
    floe_err err = axis_open(&ay, "lat", lat, nlat, 0);
    if (!err)
        err = axis_open(&ax, "lon", lon, nlon, 1);
    else
        ax.e = NULL;
    if (err) {
        free(ay.e);
        free(ax.e);
        return err;
    }
    memset(out, 0, sizeof *out);
    int ok;
    double x = pt->lon;
    if (how == FLOE_INTERP_NEAREST) {
        if (!ax.periodic)
            x = shift_lon(x, lo_edge(&ax), hi_edge(&ax));
        size_t i, j;
        ok = axis_nearest(&ay, pt->lat, &i) && axis_nearest(&ax, x, &j);
        if (ok) {
            out->ilat[0] = out->ilat[1] = i;
            out->ilon[0] = out->ilon[1] = j;
            out->w[0][0] = 1;
        }
    } else {
        if (!ax.periodic)
            x = shift_lon(x, lo_centre(&ax), hi_centre(&ax));
        double ty, tx;
        ok = axis_linear(&ay, pt->lat, &out->ilat[0], &out->ilat[1], &ty) &&
             axis_linear(&ax, x, &out->ilon[0], &out->ilon[1], &tx);
        if (ok) {
            out->w[0][0] = (1 - ty) * (1 - tx);
            out->w[0][1] = (1 - ty) * tx;
            out->w[1][0] = ty * (1 - tx);
            out->w[1][1] = ty * tx;
        }
    }
    if (!ok) {
        int near = how == FLOE_INTERP_NEAREST;
        err = FLOE_ERR(FLOE_EINVAL,
                       "point '%s' (line %zu: lon %g, lat %g) is outside the grid%s (lon %g .. "
                       "%g, lat %g .. %g%s)",
                       pt->id ? pt->id : "?", pt->line, pt->lon, pt->lat,
                       near ? "" : "'s cell centres", near ? lo_edge(&ax) : lo_centre(&ax),
                       near ? hi_edge(&ax) : hi_centre(&ax), near ? lo_edge(&ay) : lo_centre(&ay),
                       near ? hi_edge(&ay) : hi_centre(&ay),
                       near ? "" : "; bilinear interpolation needs a centre on each side");
    }
    free(ay.e);
    free(ax.e);
    return err;
}

double floe_point_interpolate_f64(const floe_point_weights *w, const double v[2][2])
{
    double num = 0, den = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            if (w->w[a][b] > 0 && !isnan(v[a][b])) {
                num += w->w[a][b] * v[a][b];
                den += w->w[a][b];
            }
    return den > 0 ? num / den : NAN;
}

float floe_point_interpolate(const floe_point_weights *w, const float v[2][2])
{
    const double d[2][2] = {{v[0][0], v[0][1]}, {v[1][0], v[1][1]}}; /* exact */
    return (float)floe_point_interpolate_f64(w, d);
}
