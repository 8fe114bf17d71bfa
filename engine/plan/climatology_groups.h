/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/climatology_groups.h - which climatology group each time step belongs to
 * (`floe climatology --by month|season|dayofyear`), and each group's CF
 * time coordinate and climatology_bounds.
 *
 * Groups, numbered from 0 (floe_clim_group_number gives the label):
 *   month      12 groups, January..December.
 *   season     4 groups: DJF, MAM, JJA, SON. December joins the January and
 *              February AFTER it (Dec 2000 + Jan/Feb 2001 are one season
 *              occurrence), as in CDO and CF.
 *   dayofyear  by calendar month and day, as CDO's ydaystat (whose day
 *              index is (month - 1) * 31 + day): 1 March is one group in
 *              every year, leap or not, and 29 February is a group of its
 *              own that only leap days fall in. The label is the day of
 *              year in a leap year, 1..366: 1 Jan = 1, 29 Feb = 60,
 *              1 Mar = 61, 31 Dec = 366; so in noleap (365_day) data group
 *              60 stays empty and in all_leap data every group fills.
 *              (xarray's groupby("time.dayofyear") differs: it puts
 *              1 March of common years with 29 February of leap years.)
 *              360_day: 360 groups, label (month - 1) * 30 + day, so
 *              30 February is day 60.
 * In every calendar the month and day come from the calendar itself
 * (cf/time.h), so 360_day has 30-day months, Julian years have 29
 * February every fourth year, and the standard calendar's missing days of
 * October 1582 fall in no group.
 *
 * Steps that stand for intervals (engine/plan/time_intervals.h: a start
 * or end label, or the source's bounds) are grouped by their midpoint: a
 * daily value stamped at the END of its day (00:00 of the next) would
 * otherwise be grouped with the next day, month or season.
 *
 * CF (section 7.4, "climatological statistics"): for point steps, each
 * group's time coordinate is the middle of the group's first occurrence,
 * and climatology_bounds run from the start of its first occurrence to
 * the end of its last (for January over 2001-2003: 2001-01-16T12:00,
 * bounds 2001-01-01 and 2003-02-01). An occurrence is the calendar month,
 * the season (three months) or the day containing a step. For interval
 * steps the bounds are exactly the span of the data that went in: from
 * the start of the group's earliest step to the end of its latest (a
 * group holding 1-4 March says 2001-03-01 .. 2001-03-05), and the time
 * coordinate is the middle of the first occurrence cut to those bounds
 * (2001-03-03T00:00; a whole January gives 2001-01-16T12:00 as above).
 */
#ifndef FLOE_CLIMATOLOGY_GROUPS_H
#define FLOE_CLIMATOLOGY_GROUPS_H

#include "common/floe_error.h"
#include "cf/time.h"

#include <stddef.h>
#include <stdint.h>

typedef enum floe_clim_by {
    FLOE_CLIM_MONTH,
    FLOE_CLIM_SEASON,
    FLOE_CLIM_DAYOFYEAR,
} floe_clim_by;

/* "month", "season", "dayofyear"; FLOE_EINVAL naming the text otherwise. */
floe_err floe_clim_by_parse(const char *text, floe_clim_by *out);
const char *floe_clim_by_name(floe_clim_by by);

/* 12, 4, or 366 (360 for 360_day). */
size_t floe_clim_group_count(floe_clim_by by, cf_calendar cal);
/* The group (0-based) of a date of the calendar. */
size_t floe_clim_group_of(floe_clim_by by, cf_calendar cal, const cf_datetime *dt);
/* The group's label: month 1..12, season 1..4 (DJF..SON), day of year
 * 1..366 (1..360) as described above. */
int floe_clim_group_number(floe_clim_by by, cf_calendar cal, size_t group);
/* "January", "DJF", "02-29" (month-day) for attributes and logs. Returns
 * buf (always NUL-terminated). */
char *floe_clim_group_name(floe_clim_by by, cf_calendar cal, size_t group, char *buf,
                           size_t size);

/* The occurrence (month, season or day) that contains instant t. */
floe_err floe_clim_occurrence(floe_clim_by by, cf_calendar cal, cf_instant t, cf_interval *out);

/* The grouping of a whole time axis. Cheap (a few words per step), so
 * every rank can build it from the time coordinate. */
typedef struct floe_clim_groups {
    floe_clim_by by;
    cf_calendar cal;
    size_t ngroups;        /* floe_clim_group_count */
    size_t nsteps;
    uint32_t *group_of_step; /* [nsteps] */
    uint32_t *nsteps_in;     /* [ngroups]: steps in each group (0: empty group) */
    cf_instant *first, *last; /* [ngroups]: earliest and latest step instant (midpoint) */
    int intervals;           /* the steps are intervals, not points */
    cf_instant *lo, *hi;     /* [ngroups]: earliest start, latest end of its steps */
} floe_clim_groups;

/* Group the steps whose instants are steps[0..nsteps-1] (any order). */
floe_err floe_clim_groups_build(floe_clim_groups *g, floe_clim_by by, cf_calendar cal,
                                const cf_instant *steps, size_t nsteps);
/* The same for steps[0..nsteps-1] that may be intervals (lo < hi), each
 * grouped by its midpoint; points (lo == hi) as floe_clim_groups_build.
 * Mixing the two is FLOE_EINVAL. */
floe_err floe_clim_groups_build_intervals(floe_clim_groups *g, floe_clim_by by, cf_calendar cal,
                                          const cf_interval *steps, size_t nsteps);
void floe_clim_groups_free(floe_clim_groups *g);

/* The CF time coordinate and climatology_bounds of a non-empty group
 * (FLOE_EINVAL naming the group if it has no step). */
floe_err floe_clim_groups_time(const floe_clim_groups *g, size_t group, cf_instant *time,
                               cf_instant bounds[2]);

#endif
