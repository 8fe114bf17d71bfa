/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/area_weights.c - see area_weights.h. */
#include "engine/reduce/area_weights.h"

#include "engine/reduce/accum.h"

#include <math.h>
#include <stdlib.h>

static const double deg2rad = 3.14159265358979323846 / 180.0;

floe_err floe_cell_edges(const char *axis, const double *c, size_t n, double *edges)
{
    if (n < 2)
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "%s: %zu cell centre(s): cell edges need at least two", axis, n);
    int ascending = c[1] > c[0];
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(c[i]))
            return FLOE_ERR(FLOE_EINVAL, "%s[%zu] is not a finite number", axis, i);
        if (i > 0 && (ascending ? !(c[i] > c[i - 1]) : !(c[i] < c[i - 1])))
            return FLOE_ERR(FLOE_EUNSUPPORTED,
                            "%s is not strictly monotonic (%s[%zu] = %g after %g)", axis, axis,
                            i, c[i], c[i - 1]);
    }
    for (size_t i = 1; i < n; i++)
        edges[i] = 0.5 * (c[i - 1] + c[i]);
    edges[0] = c[0] - 0.5 * (c[1] - c[0]);
    edges[n] = c[n - 1] + 0.5 * (c[n - 1] - c[n - 2]);
    return NULL;
}

floe_err floe_lat_factors(const double *lat, size_t nlat, double *factor)
{
    for (size_t i = 0; i < nlat; i++)
        if (!(lat[i] >= -90 && lat[i] <= 90))
            return FLOE_ERR(FLOE_EINVAL, "lat[%zu] = %g is outside [-90, 90]", i, lat[i]);
    double *e = malloc((nlat + 1) * sizeof *e);
    if (!e)
        return FLOE_ERR(FLOE_ENOMEM, "lat: %zu cell edges: out of memory", nlat + 1);
    floe_err err = floe_cell_edges("lat", lat, nlat, e);
    if (!err)
        for (size_t i = 0; i < nlat; i++) {
            double a = fmax(-90.0, fmin(90.0, e[i])), b = fmax(-90.0, fmin(90.0, e[i + 1]));
            factor[i] = fabs(sin(b * deg2rad) - sin(a * deg2rad));
        }
    free(e);
    return err;
}

floe_err floe_lon_widths(const double *lon, size_t nlon, double *width)
{
    double *e = malloc((nlon + 1) * sizeof *e);
    if (!e)
        return FLOE_ERR(FLOE_ENOMEM, "lon: %zu cell edges: out of memory", nlon + 1);
    floe_err err = floe_cell_edges("lon", lon, nlon, e);
    if (!err)
        for (size_t j = 0; j < nlon; j++)
            width[j] = fabs(e[j + 1] - e[j]) * deg2rad;
    free(e);
    return err;
}

floe_err floe_cell_areas(const double *lat, size_t nlat, const double *lon, size_t nlon,
                         double radius, double *area)
{
    double *f = malloc((nlat ? nlat : 1) * sizeof *f), *w = malloc((nlon ? nlon : 1) * sizeof *w);
    floe_err err = NULL;
    if (!f || !w)
        err = FLOE_ERR(FLOE_ENOMEM, "cell areas of a %zu x %zu grid: out of memory", nlat, nlon);
    if (!err)
        err = floe_lat_factors(lat, nlat, f);
    if (!err)
        err = floe_lon_widths(lon, nlon, w);
    if (!err)
        for (size_t i = 0; i < nlat; i++)
            for (size_t j = 0; j < nlon; j++)
                area[i * nlon + j] = radius * radius * w[j] * f[i];
    free(f);
    free(w);
    return err;
}

/* ---- weighted statistics ---------------------------------------------- */

void floe_wstat_init(floe_wstat *s)
{
    *s = (floe_wstat){0, 0, 0, INFINITY, -INFINITY, 0};
}

/* One kernel for float and double values: the arithmetic is in double
 * either way (a float widens exactly), so float values give the bits they
 * always gave. */
#define WSTAT_ADD(s, values, weights, mask, n)                                                     \
    for (size_t i = 0; i < (n); i++) {                                                             \
        double x = (values)[i];                                                                    \
        if (isnan(x) || ((mask) && !(mask)[i]))                                                    \
            continue;                                                                              \
        double w = (weights) ? (weights)[i] : 1.0;                                                 \
        (s)->wsum += w;                                                                            \
        (s)->wxsum += w * x;                                                                       \
        (s)->sum += x;                                                                             \
        if (x < (s)->min)                                                                          \
            (s)->min = x;                                                                          \
        if (x > (s)->max)                                                                          \
            (s)->max = x;                                                                          \
        (s)->count++;                                                                              \
    }

void floe_wstat_add(floe_wstat *s, const float *values, const double *weights,
                    const uint8_t *mask, size_t n)
{
    WSTAT_ADD(s, values, weights, mask, n)
}

void floe_wstat_add_f64(floe_wstat *s, const double *values, const double *weights,
                        const uint8_t *mask, size_t n)
{
    WSTAT_ADD(s, values, weights, mask, n)
}

void floe_wstat_merge(floe_wstat *into, const floe_wstat *from)
{
    if (from->count == 0)
        return;
    into->wsum += from->wsum;
    into->wxsum += from->wxsum;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->count += from->count;
}

floe_err floe_wstat_result_f64(const floe_wstat *s, unsigned stat, double missing, double *out)
{
    if (stat == FLOE_STAT_COUNT) {
        *out = (double)s->count;
        return NULL;
    }
    if (stat != FLOE_STAT_MEAN && stat != FLOE_STAT_SUM && stat != FLOE_STAT_MIN &&
        stat != FLOE_STAT_MAX) {
        const char *name = floe_stat_name(stat);
        return FLOE_ERR(FLOE_EINVAL, "statistic '%s' is not available over a region (expected "
                        "mean, min, max, sum or count)", name ? name : "?");
    }
    if (s->count == 0) {
        *out = missing;
        return NULL;
    }
    switch (stat) {
    case FLOE_STAT_MEAN:
        /* all-zero weights (degenerate cells) fall back to the plain mean */
        *out = s->wsum > 0 ? s->wxsum / s->wsum : s->sum / (double)s->count;
        break;
    case FLOE_STAT_SUM: *out = s->sum; break;
    case FLOE_STAT_MIN: *out = s->min; break;
    default: *out = s->max; break;
    }
    return NULL;
}

floe_err floe_wstat_result(const floe_wstat *s, unsigned stat, float missing, float *out)
{
    if (stat == FLOE_STAT_COUNT) {
        *out = (float)s->count;
        return NULL;
    }
    double d = 0;
    FLOE_CHECK(floe_wstat_result_f64(s, stat, (double)missing, &d));
    *out = (float)d;
    return NULL;
}
