/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/selection.h - from a request's geographic and temporal bounds to index
 * ranges along coordinate axes. Pure functions: no I/O. */
#ifndef FLOE_SELECTION_H
#define FLOE_SELECTION_H

#include "common/floe_error.h"

#include <stddef.h>

typedef struct floe_bbox {
    double west, south, east, north;
} floe_bbox;

/* Parse "W,S,E,N" (STAC order, degrees). Errors name the text, why, and
 * the order W,S,E,N; numbers that read as CDO's lon1,lon2,lat1,lat2
 * (sellonlatbox) are shown in floe's order. Numbers that are a valid box
 * in both orders cannot be told apart: the selection line of a run on a
 * terminal (engine/job/selection_note.h) shows what was taken. */
floe_err floe_bbox_parse(const char *text, floe_bbox *out);

/* The half-open index range [*i0, *i1) of a monotonic coordinate (ascending
 * or descending) whose values v satisfy lo <= v <= hi. Edges are inclusive:
 * a cell centre exactly on the bound is selected. Empty: *i0 == *i1.
 * Coordinates that are not monotonic are FLOE_EUNSUPPORTED. */
floe_err floe_select_closed(const double *coord, size_t n, double lo, double hi, size_t *i0,
                            size_t *i1);

#endif
