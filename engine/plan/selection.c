/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/selection.c - see selection.h. */
#include "engine/plan/selection.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
        return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': unexpected text after the fourth number", text);
    *out = (floe_bbox){v[0], v[1], v[2], v[3]};
    if (out->south > out->north)
        return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': south %g is north of north %g", text,
                        out->south, out->north);
    if (out->west > out->east)
        return FLOE_ERR(FLOE_EINVAL,
                        "--bbox '%s': west %g is east of east %g (boxes across the "
                        "antimeridian are not supported)", text, out->west, out->east);
    if (out->south < -90 || out->north > 90)
        return FLOE_ERR(FLOE_EINVAL, "--bbox '%s': latitudes must lie in [-90, 90]", text);
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
