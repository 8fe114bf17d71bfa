/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/time_intervals.h - the span of time each step of a time axis
 * stands for, and selecting steps by it (`--time-label`, `--time`).
 *
 * A stored time stamp is either a point (an instantaneous value) or a
 * label of an interval: the NLDAS-3 archive stamps each daily file at the
 * END of its day (file A20010131 holds 2001-02-01T00:00). Treated as
 * points, `--time 2001-01` would select Jan 2..31 and a monthly
 * climatology's January would miss Jan 31; with the intervals known, both
 * are right. The label:
 *   point  each step is the instant of its stamp (lo == hi): CDO's and
 *          xarray's reading, and floe's default without bounds;
 *   start  each step covers [stamp, stamp + step);
 *   end    each step covers (stamp - step, stamp];
 *   bounds the source's own time bounds (the time coordinate's CF
 *          `bounds` attribute names a (time, 2) array).
 * `step` is the spacing to the neighbouring stamp on the side the step
 * covers (the previous one for end, the next one for start), so months
 * of unequal length come out right; the first step of an end-labelled
 * axis (the last of a start-labelled one) takes its neighbour's length.
 * Intervals are half-open [lo, hi) as measures: (lo, hi] and [lo, hi)
 * cover the same time, and only their endpoints differ.
 *
 * Selection: a point step is selected when the requested period contains
 * it (lo <= t < hi, as before); an interval step when it overlaps the
 * period by more than an instant, so `--time 2001-01` with end labels
 * selects the 31 days of January, and a period inside one day selects
 * that day. The data's range is [first lo, last hi]: a request reaching
 * past it is clipped (floe_time_select_steps says so), and one that
 * selects nothing is an error naming the range. Pure functions: no I/O.
 */
#ifndef FLOE_TIME_INTERVALS_H
#define FLOE_TIME_INTERVALS_H

#include "common/floe_error.h"
#include "cf/time.h"

#include <stddef.h>

typedef enum floe_time_label {
    FLOE_TIME_LABEL_AUTO,   /* not chosen: the source's bounds, else point */
    FLOE_TIME_LABEL_POINT,
    FLOE_TIME_LABEL_START,
    FLOE_TIME_LABEL_END,
    FLOE_TIME_LABEL_BOUNDS, /* the source's own bounds (never parsed from text) */
} floe_time_label;

/* "point", "start", "end"; NULL gives AUTO; anything else is FLOE_EINVAL
 * naming `what` (e.g. "--time-label") and the text. */
floe_err floe_time_label_parse(const char *text, const char *what, floe_time_label *out);
/* "auto", "point", "start", "end", "bounds". */
const char *floe_time_label_name(floe_time_label label);

/* The interval of each of the n stamps t[] (increasing) under a point,
 * start or end label. start/end need at least 2 steps (FLOE_EINVAL
 * otherwise: one stamp says nothing of the step's length) and strictly
 * increasing stamps. */
floe_err floe_time_step_intervals(const cf_instant *t, size_t n, floe_time_label label,
                                  cf_interval *out);

/* The steps' intervals from their bounds: b[2k], b[2k+1] the two ends of
 * step k (either order). FLOE_EINVAL naming the step if an end is not a
 * time or a step has zero length. */
floe_err floe_time_bounds_intervals(const cf_time_units *u, const double *b, size_t n,
                                    cf_interval *out);

/* Do the steps have intervals (rather than points)? */
static inline int floe_time_step_is_point(const cf_interval *s)
{
    return s->lo == s->hi;
}
/* The instant that represents a step: its midpoint (its stamp for a
 * point), used to group it by month, season or day of year. */
static inline cf_instant floe_time_step_mid(const cf_interval *s)
{
    return s->lo + (s->hi - s->lo) / 2;
}

/* What a request selected. */
typedef struct floe_time_selection {
    size_t t0, t1;        /* steps [t0, t1); t0 == t1: none */
    int clipped_before;   /* the request starts before the data */
    int clipped_after;    /* the request ends after the data */
    cf_interval range;    /* the data's range: [first lo, last hi] */
} floe_time_selection;

/* Select the steps[0..n) (sorted by lo, not overlapping) that `query`
 * selects (see the top of this file). Open ends (CF_INSTANT_MIN/MAX) are
 * never "clipped". */
void floe_time_select_steps(const cf_interval *steps, size_t n, const cf_interval *query,
                            floe_time_selection *out);

#endif
