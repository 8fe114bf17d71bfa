/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/weighted_cells.c - see weighted_cells.h. */
#include "engine/reduce/weighted_cells.h"

#include <math.h>

/* One valid or missing value x of weight w and fraction f, as area_weights.c's
 * WSTAT_ADD adds it; f x is x exactly when f = 1. */
#define WCELL_ADD(s, x, w, fx)                                                                     \
    do {                                                                                           \
        if (isnan(x))                                                                              \
            break;                                                                                 \
        (s)->wsum += (w);                                                                          \
        (s)->wxsum += (w) * (x);                                                                   \
        (s)->sum += (fx);                                                                          \
        if ((x) < (s)->min)                                                                        \
            (s)->min = (x);                                                                        \
        if ((x) > (s)->max)                                                                        \
            (s)->max = (x);                                                                        \
        (s)->count++;                                                                              \
    } while (0)

#define WCELLS_ADD(s, values, cells, n)                                                            \
    for (size_t i = 0; i < (n); i++) {                                                             \
        double x = (values)[(cells)[i].offset];                                                    \
        WCELL_ADD(s, x, (cells)[i].w, (cells)[i].f * x);                                           \
    }

/* A run: f = 1, so f x = x; w the area factor, the product the list would
 * have stored. */
#define WRUN_ADD(s, values, latf_row, lonw, n)                                                     \
    for (size_t i = 0; i < (n); i++) {                                                             \
        double x = (values)[i];                                                                    \
        double w = (latf_row) * (lonw)[i];                                                         \
        WCELL_ADD(s, x, w, x);                                                                     \
    }

#define WSEGS_ADD(s, values, segs, nseg, cells, latf, lonw)                                        \
    for (size_t g = 0; g < (nseg); g++) {                                                          \
        const floe_wseg *sg = &(segs)[g];                                                          \
        if (sg->row == FLOE_WSEG_CELLS) {                                                          \
            WCELLS_ADD(s, values, cells, sg->n)                                                    \
            (cells) += sg->n;                                                                      \
        } else {                                                                                   \
            WRUN_ADD(s, (values) + sg->offset, (latf)[sg->row], (lonw) + sg->col, sg->n)           \
        }                                                                                          \
    }

void floe_wstat_add_segs(floe_wstat *s, const float *values, const floe_wseg *segs, size_t nseg,
                         const floe_wcell *cells, const double *latf, const double *lonw)
{
    WSEGS_ADD(s, values, segs, nseg, cells, latf, lonw)
}

void floe_wstat_add_segs_f64(floe_wstat *s, const double *values, const floe_wseg *segs,
                             size_t nseg, const floe_wcell *cells, const double *latf,
                             const double *lonw)
{
    WSEGS_ADD(s, values, segs, nseg, cells, latf, lonw)
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
