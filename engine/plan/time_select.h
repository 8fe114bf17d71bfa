/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/time_select.h - the time axis of a dataset: CF-decoded instants, the
 * request's ISO 8601 time selection, and human-readable formatting. */
#ifndef FLOE_TIME_SELECT_H
#define FLOE_TIME_SELECT_H

#include "common/floe_error.h"
#include "cf/time.h"
#include "dataset/dataset.h"
#include "engine/plan/time_intervals.h"

#include <stddef.h>

/* The CF units and calendar of a time array. */
floe_err floe_time_units(const floe_array *time, cf_time_units *u);
/* values[0..n) of a time array as instants (and its units in *u). */
floe_err floe_time_instants(const floe_array *time, const double *values, size_t n,
                            cf_time_units *u, cf_instant *out);

/* Does the array carry CF time units ("UNIT since REF")? */
int floe_time_is_time_axis(const floe_array *time);

/* The interval of every step of a time axis (engine/plan/time_intervals.h)
 * under `label` (POINT, START, END; BOUNDS takes them from bounds, the
 * (n, 2) values of the array the time coordinate's `bounds` attribute
 * names). *u: the axis' units. */
floe_err floe_time_axis_intervals(const floe_array *time, const double *values, size_t n,
                                  floe_time_label label, const double *bounds,
                                  cf_time_units *u, cf_interval *steps);

/* The half-open range [*t0, *t1) of the steps (intervals of the axis
 * `time` under `label`, as floe_time_axis_intervals) that `text` selects: an ISO 8601
 * instant ("2001-01-16", "2001-01-16T12:00Z") or an interval "T0/T1",
 * both ends inclusive. A bare date covers its whole day (as in xarray:
 * "2001-01-16" selects every step on that day). A request reaching past
 * the data is clipped with one warning (rank 0) naming the data's range;
 * one that selects nothing is FLOE_EINVAL naming the range. Errors name
 * the text and the axis. */
floe_err floe_time_select(const floe_array *time, const cf_time_units *u,
                          floe_time_label label, const cf_interval *steps, size_t n,
                          const char *text, size_t *t0, size_t *t1);

/* An instant as ISO 8601 in the axis' calendar. */
void floe_time_format_instant(const cf_time_units *u, cf_instant t, char *buf, size_t size);

/* values[i] as ISO 8601 ("2001-01-02T00:00:00"); the raw number when the
 * units cannot be decoded. */
void floe_time_format(const floe_array *time, double value, char *buf, size_t size);
/* A step in axis units as text ("1 day", "6 hours", "90 minutes"). */
void floe_time_format_step(const floe_array *time, double step, char *buf, size_t size);

#endif
