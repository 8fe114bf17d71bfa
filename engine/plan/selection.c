/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/selection.c - see selection.h. */
#include "engine/plan/selection.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Would the four numbers make a box in CDO's order (sellonlatbox:
 * lon1,lon2,lat1,lat2)? Then the error shows them in floe's order. */
static int cdo_order_box(const double v[4])
{
    return v[0] <= v[1] && v[2] <= v[3] && v[2] >= -90 && v[3] <= 90;
}

/* The error for numbers that are no W,S,E,N box: why, the order floe
 * expects, and the same numbers in that order when they read as CDO's. */
static floe_err not_wsen(const char *text, const double v[4], const char *why)
{
    char hint[160] = "";
    if (cdo_order_box(v))
        snprintf(hint, sizeof hint, "; as CDO's lon1,lon2,lat1,lat2 that is --bbox=%g,%g,%g,%g",
                 v[0], v[2], v[1], v[3]);
    return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': %s: give W,S,E,N (west, south, east, north in "
                    "degrees, STAC's order)%s", text, why, hint);
}

floe_err floe_bbox_parse(const char *text, floe_bbox *out)
{
    double v[4];
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || !isfinite(v[i]))
            return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': expected four numbers W,S,E,N", text);
        p = end;
        if (i < 3) {
            if (*p != ',')
                return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': expected four numbers W,S,E,N", text);
            p++;
        }
    }
    if (*p)
        return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': unexpected text after the fourth number W,S,E,N",
                        text);
    *out = (floe_bbox){v[0], v[1], v[2], v[3]};
    char why[128];
    /* Latitudes first: a south or north beyond the poles is a longitude
     * (CDO's second value) whatever the rest says. */
    if (out->south < -90 || out->south > 90 || out->north < -90 || out->north > 90) {
        snprintf(why, sizeof why, "latitudes (2nd and 4th values) must lie in [-90, 90], not %g "
                 "and %g", out->south, out->north);
        return not_wsen(text, v, why);
    }
    if (out->south > out->north) {
        snprintf(why, sizeof why, "south %g is north of north %g", out->south, out->north);
        return not_wsen(text, v, why);
    }
    if (out->west > out->east) {
        snprintf(why, sizeof why, "west %g is east of east %g (boxes across the antimeridian "
                 "are not supported)", out->west, out->east);
        return not_wsen(text, v, why);
    }
    return NULL;
}

floe_err floe_select_closed(const double *c, size_t n, double lo, double hi, size_t *i0,
                            size_t *i1)
{
    *i0 = *i1 = 0;
    if (n == 0)
        return NULL;
    int ascending = n < 2 || c[n - 1] >= c[0];
    for (size_t k = 1; k < n; k++)
        if (ascending ? c[k] < c[k - 1] : c[k] > c[k - 1])
            return FLOE_ERR(FLOE_EUNSUPPORTED,
                            "coordinate is not monotonic (value %zu: %g after %g)", k, c[k],
                            c[k - 1]);
    /* Binary searches for the first index inside and the first beyond. */
    size_t a = 0, b = n;
    while (a < b) { /* first k with c[k] >= lo (ascending) or c[k] <= hi (descending) */
        size_t m = a + (b - a) / 2;
        if (ascending ? c[m] < lo : c[m] > hi)
            a = m + 1;
        else
            b = m;
    }
    size_t first = a;
    b = n;
    while (a < b) { /* first k past the range */
        size_t m = a + (b - a) / 2;
        if (ascending ? c[m] <= hi : c[m] >= lo)
            a = m + 1;
        else
            b = m;
    }
    *i0 = first;
    *i1 = a > first ? a : first;
    return NULL;
}
