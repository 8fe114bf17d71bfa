/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/resample_periods.h - the calendar periods (month, season,
 * year) that `--resample` groups a time axis into, each period's steps,
 * and its CF time coordinate and time bounds (CDO's monmean, seasmean,
 * yearmean ...: one output step per period, not cyclic like a climatology).
 *
 * Periods, in the source's calendar (cf/time.h: 360_day months have 30
 * days, noleap years 365):
 *   month   a calendar month;
 *   season  DJF, MAM, JJA, SON: December joins the January and February
 *           AFTER it (Dec 2000 + Jan/Feb 2001 are one season), as CDO's
 *           seasmean and engine/plan/climatology_groups.h;
 *   year    a calendar year.
 * A step belongs to the period containing its midpoint
 * (engine/plan/time_intervals.h: a daily value stamped at the end of its
 * day belongs to that day's month, not the next one's). Only periods that
 * hold a step exist, numbered in time order from 0; partial periods at
 * the ends of the selection are periods like the others (as CDO does).
 *
 * Time coordinate and bounds, as climatology_groups does for one
 * occurrence: for point steps the bounds are the whole period and the
 * time its middle (January 2001: 2001-01-16T12:00, bounds 2001-01-01 and
 * 2001-02-01); for interval steps the bounds are the span of the data
 * that went in (the earliest start to the latest end of the period's
 * steps) and the time the middle of the period cut to those bounds. Pure
 * functions: no I/O.
 */
#ifndef FLOE_RESAMPLE_PERIODS_H
#define FLOE_RESAMPLE_PERIODS_H

#include "common/floe_error.h"
#include "cf/time.h"

#include <stddef.h>
#include <stdint.h>

typedef enum floe_resample_by {
    FLOE_RESAMPLE_MONTH,
    FLOE_RESAMPLE_SEASON,
    FLOE_RESAMPLE_YEAR,
} floe_resample_by;

/* "month", "season", "year"; FLOE_EINVAL naming the text otherwise. */
floe_err floe_resample_by_parse(const char *text, floe_resample_by *out);
const char *floe_resample_by_name(floe_resample_by by);

/* The period that contains instant t. */
floe_err floe_resample_period_of(floe_resample_by by, cf_calendar cal, cf_instant t,
                                 cf_interval *out);

/* The periods of a whole time axis (a few words per step: every rank can
 * build it). */
typedef struct floe_resample_periods {
    floe_resample_by by;
    cf_calendar cal;
    size_t nsteps, nperiods;
    uint32_t *period_of_step; /* [nsteps] */
    uint32_t *nsteps_in;      /* [nperiods]: never 0 */
    cf_interval *period;      /* [nperiods]: the calendar period */
    cf_instant *time;         /* [nperiods]: the CF time coordinate */
    cf_interval *bounds;      /* [nperiods]: the CF time bounds */
} floe_resample_periods;

/* The periods of steps[0..nsteps-1] (in time order: points, lo == hi, or
 * intervals, not mixed). FLOE_EINVAL if a step's period comes before the
 * previous step's, or points and intervals are mixed. */
floe_err floe_resample_periods_build(floe_resample_periods *p, floe_resample_by by,
                                     cf_calendar cal, const cf_interval *steps, size_t nsteps);
void floe_resample_periods_free(floe_resample_periods *p);

#endif
