/* SPDX-License-Identifier: Apache-2.0 */
/* cf/time.h - CF time coordinates: "UNIT since REF" in a CF calendar, and
 * ISO 8601 instants and intervals for selecting time steps.
 *
 * The folder's role: cf/ is the CF conventions layer, pure functions over
 * values and attributes (no I/O; it uses io/zarr/ only for its data types
 * and fill values): time and calendars (this header; calendar.c, time.c)
 * and value decoding, scale/offset/fill (decode.h).
 *
 * Everything is converted to a cf_instant: whole microseconds since
 * 1970-01-01T00:00:00 of the calendar, so selecting steps is an exact
 * integer comparison. (For standard and julian, the instant counts
 * physical days: Julian 1969-12-19 is Gregorian 1970-01-01.)
 *
 * Calendars (names case-insensitive, as CF 1.11 and cftime):
 *   standard, gregorian    mixed: Julian up to 1582-10-04, Gregorian from
 *                          1582-10-15 (the ten days between do not exist);
 *                          missing or empty calendar attribute = standard
 *   proleptic_gregorian    Gregorian rules for every year
 *   julian                 a leap year every 4 years
 *   noleap, 365_day        no leap years
 *   all_leap, 366_day      every year a leap year
 *   360_day                twelve months of 30 days
 * Years are numbered astronomically (year 0 = 1 BC, -1 = 2 BC), which is
 * cftime with has_year_zero=True; cftime's default for standard/julian
 * (no year 0) differs only before year 1.
 *
 * Units: days, hours, minutes, seconds, milliseconds, microseconds
 * (singular, plural and the UDUNITS abbreviations d, h/hr, min, s/sec,
 * ms/msec, us/usec). Months and years are refused (FLOE_EUNSUPPORTED):
 * their length is not fixed. REF is "Y-M-D" (month and day may have one
 * digit, month and day may be left out), optionally followed by a space
 * or "T" and "h[:m[:s[.fff]]]", optionally followed by a time zone: "Z",
 * "UTC", "GMT", "+hh", "+hhmm", "+hh:mm" (or "-"). Values convert to the
 * nearest microsecond.
 */
#ifndef FLOE_CF_TIME_H
#define FLOE_CF_TIME_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum cf_calendar {
    CF_CAL_STANDARD,
    CF_CAL_PROLEPTIC_GREGORIAN,
    CF_CAL_JULIAN,
    CF_CAL_NOLEAP,
    CF_CAL_ALL_LEAP,
    CF_CAL_360_DAY,
} cf_calendar;

/* Microseconds since 1970-01-01T00:00:00 of the calendar. */
typedef int64_t cf_instant;
#define CF_INSTANT_MIN INT64_MIN
#define CF_INSTANT_MAX INT64_MAX

typedef struct cf_datetime {
    int year;        /* astronomical: 0 = 1 BC */
    int month;       /* 1..12 */
    int day;         /* 1..31 */
    int hour, minute, second;
    int microsecond; /* 0..999999 */
} cf_datetime;

/* The units (and calendar) of a time coordinate. */
typedef struct cf_time_units {
    cf_calendar calendar;
    int64_t unit_us;  /* microseconds per unit */
    cf_instant ref;   /* the reference instant (time zone applied) */
} cf_time_units;

/* NULL or "" gives standard. Unknown names (and "none") are
 * FLOE_EUNSUPPORTED naming the calendar. */
floe_err cf_calendar_parse(const char *name, cf_calendar *out);
/* The canonical name ("standard", "noleap", ...). */
const char *cf_calendar_name(cf_calendar cal);

/* Parse a units attribute such as "hours since 2001-01-01 00:00:00" with
 * the calendar attribute (NULL = standard). FLOE_EFORMAT names the units. */
floe_err cf_time_units_parse(const char *units, const char *calendar, cf_time_units *out);

/* Does this date exist in the calendar? (FLOE_EINVAL naming it if not.) */
floe_err cf_datetime_check(cf_calendar cal, const cf_datetime *dt);
floe_err cf_datetime_to_instant(cf_calendar cal, const cf_datetime *dt, cf_instant *out);
void cf_instant_to_datetime(cf_calendar cal, cf_instant t, cf_datetime *out);

/* A coordinate value in the axis' units as an instant; FLOE_EINVAL for NaN,
 * infinities and values beyond +-200000 years. */
floe_err cf_time_value_to_instant(const cf_time_units *u, double value, cf_instant *out);
floe_err cf_time_value_to_datetime(const cf_time_units *u, double value, cf_datetime *out);
/* An instant in the axis' units (may be fractional). */
double cf_time_instant_to_value(const cf_time_units *u, cf_instant t);

/* ISO 8601: "2001-01-16T12:00:00", with ".ffffff" only when the
 * microseconds are not zero; years outside 0..9999 as "-0001", "+10000".
 * Returns buf (always NUL-terminated; 32 bytes are always enough). */
char *cf_datetime_format(const cf_datetime *dt, char *buf, size_t size);
/* A coordinate value formatted as above. */
floe_err cf_time_value_format(const cf_time_units *u, double value, char *buf, size_t size);

/* A half-open range of instants: lo <= t < hi. */
typedef struct cf_interval {
    cf_instant lo, hi;
} cf_interval;

/* Parse an ISO 8601 instant ("2001", "2001-01", "2001-01-16",
 * "2001-01-16T12", "2001-01-16T12:00", "2001-01-16 12:00:00.5", each
 * optionally with "Z", "+hh:mm", "-hh:mm") in the calendar, as the span it
 * names, the way pandas/xarray partial date strings select: it starts at
 * the first instant of what was written and ends before the next unit of
 * its last field. So "2001-01-16" is [2001-01-16T00:00, 2001-01-17T00:00),
 * "2001-01" the whole month, "2001-01-16T12:00" the minute 12:00:00 ..
 * 12:00:59.999999, and "...T12:00:00" the second.
 * With a "/", "A/B" is an interval from the start of A to the end of B:
 * "2001-01-01/2001-01-31" is all of January, both days included. ".." or
 * an empty side leaves that end open. FLOE_EINVAL names the text. */
floe_err cf_interval_parse(cf_calendar cal, const char *text, cf_interval *out);
static inline int cf_interval_contains(const cf_interval *iv, cf_instant t)
{
    return iv->lo <= t && t < iv->hi;
}

/* The start of an ISO 8601 instant in the axis' units: e.g. with
 * "hours since 2001-01-01", "2001-01-02" gives 24. */
floe_err cf_time_from_iso(const cf_time_units *u, const char *text, double *value);

#endif
