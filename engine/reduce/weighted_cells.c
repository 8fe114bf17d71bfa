/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/weighted_cells.c - see weighted_cells.h. */
#include "engine/reduce/weighted_cells.h"

#include <math.h>

/* As area_weights.c's WSTAT_ADD, the cells taken from the list; f x is x
 * exactly when f = 1. */
#define WCELLS_ADD(s, values, cells, n)                                                            \
    for (size_t i = 0; i < (n); i++) {                                                             \
        double x = (values)[(cells)[i].offset];                                                    \
        if (isnan(x))                                                                              \
            continue;                                                                              \
        double w = (cells)[i].w;                                                                   \
        (s)->wsum += w;                                                                            \
        (s)->wxsum += w * x;                                                                       \
        (s)->sum += (cells)[i].f * x;                                                              \
        if (x < (s)->min)                                                                          \
            (s)->min = x;                                                                          \
        if (x > (s)->max)                                                                          \
            (s)->max = x;                                                                          \
        (s)->count++;                                                                              \
    }

void floe_wstat_add_cells(floe_wstat *s, const float *values, const floe_wcell *cells, size_t n)
{
    WCELLS_ADD(s, values, cells, n)
}

void floe_wstat_add_cells_f64(floe_wstat *s, const double *values, const floe_wcell *cells,
                              size_t n)
{
    WCELLS_ADD(s, values, cells, n)
}
