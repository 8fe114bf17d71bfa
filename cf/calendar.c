/* SPDX-License-Identifier: Apache-2.0 */
/* cf/calendar.c - CF calendars (cf/time.h): their names, and dates to and
 * from cf_instant in each (mixed Julian/Gregorian, proleptic Gregorian,
 * Julian, 365-, 366- and 360-day years). Pure integer arithmetic. */
#include "cf/internal.h"
#include "cf/time.h"

#include <stddef.h>
#include <stdint.h>
#include <strings.h>


/* ---- calendars ----------------------------------------------------------- */

static const struct {
    const char *name;
    cf_calendar cal;
} calendar_names[] = {
    {"standard", CF_CAL_STANDARD},
    {"gregorian", CF_CAL_STANDARD},
    {"proleptic_gregorian", CF_CAL_PROLEPTIC_GREGORIAN},
    {"julian", CF_CAL_JULIAN},
    {"noleap", CF_CAL_NOLEAP},
    {"365_day", CF_CAL_NOLEAP},
    {"all_leap", CF_CAL_ALL_LEAP},
    {"366_day", CF_CAL_ALL_LEAP},
    {"360_day", CF_CAL_360_DAY},
};

floe_err cf_calendar_parse(const char *name, cf_calendar *out)
{
    *out = CF_CAL_STANDARD;
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < sizeof calendar_names / sizeof calendar_names[0]; i++) {
        if (strcasecmp(name, calendar_names[i].name) == 0) {
            *out = calendar_names[i].cal;
            return NULL;
        }
    }
    return FLOE_ERR(FLOE_EUNSUPPORTED, "calendar '%s' is not supported (standard, gregorian, "
                    "proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day)", name);
}

const char *cf_calendar_name(cf_calendar cal)
{
    switch (cal) {
    case CF_CAL_STANDARD: return "standard";
    case CF_CAL_PROLEPTIC_GREGORIAN: return "proleptic_gregorian";
    case CF_CAL_JULIAN: return "julian";
    case CF_CAL_NOLEAP: return "noleap";
    case CF_CAL_ALL_LEAP: return "all_leap";
    case CF_CAL_360_DAY: return "360_day";
    }
    return "?";
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int gregorian_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int julian_leap(int64_t y)
{
    return y % 4 == 0;
}

/* Day of the year counted from March 1 (0..365): putting February last
 * makes the leap day the final day of a year, so month lengths never
 * depend on the year in these formulas. */
static int64_t march_day_of_year(int m, int d)
{
    int mp = m > 2 ? m - 3 : m + 9;
    return (153 * mp + 2) / 5 + d - 1;
}

static void from_march_day(int64_t doy, int *m, int *d)
{
    int mp = (int)((5 * doy + 2) / 153);
    *d = (int)(doy - (153 * mp + 2) / 5) + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
}

/* Days since 1970-01-01 of the proleptic Gregorian calendar. Whole 400-year
 * cycles are 146097 days; within one, counting from March 1 of year 0. */
static int64_t gregorian_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t cycle = floor_div(y, 400);
    int64_t yoc = y - cycle * 400;
    int64_t doc = yoc * 365 + yoc / 4 - yoc / 100 + march_day_of_year(m, d);
    return cycle * 146097 + doc - 719468; /* 719468: 0000-03-01 to 1970-01-01 */
}

static void gregorian_date(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t cycle = floor_div(days, 146097);
    int64_t doc = days - cycle * 146097;
    int64_t yoc = (doc - doc / 1460 + doc / 36524 - doc / 146096) / 365;
    int64_t doy = doc - (365 * yoc + yoc / 4 - yoc / 100);
    from_march_day(doy, m, d);
    *y = yoc + cycle * 400 + (*m <= 2);
}

/* Julian dates on the same physical day axis as gregorian_days: Julian
 * 1582-10-04 is the day before Gregorian 1582-10-15. Four-year cycles of
 * 1461 days, from March 1 of year 0. */
static int64_t julian_raw(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t cycle = floor_div(y, 4);
    int64_t yoc = y - cycle * 4;
    return cycle * 1461 + yoc * 365 + march_day_of_year(m, d);
}

static int64_t julian_shift(void)
{
    return gregorian_days(1582, 10, 15) - 1 - julian_raw(1582, 10, 4);
}

static int64_t julian_days(int64_t y, int m, int d)
{
    return julian_raw(y, m, d) + julian_shift();
}

static void julian_date(int64_t days, int64_t *y, int *m, int *d)
{
    days -= julian_shift();
    int64_t cycle = floor_div(days, 1461);
    int64_t doc = days - cycle * 1461;
    int64_t yoc = doc >= 1460 ? 3 : doc / 365; /* the leap day ends the cycle */
    int64_t doy = doc - yoc * 365;
    from_march_day(doy, m, d);
    *y = cycle * 4 + yoc + (*m <= 2);
}

static const int noleap_month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Calendars whose years all have the same length: cumulative days. */
static int64_t fixed_year_days(cf_calendar cal, int64_t y, int m, int d)
{
    if (cal == CF_CAL_360_DAY)
        return (y - 1970) * 360 + (m - 1) * 30 + d - 1;
    int leap = cal == CF_CAL_ALL_LEAP;
    int64_t before = 0;
    for (int k = 1; k < m; k++)
        before += noleap_month_days[k - 1] + (k == 2 && leap);
    return (y - 1970) * (365 + leap) + before + d - 1;
}

static void fixed_year_date(cf_calendar cal, int64_t days, int64_t *y, int *m, int *d)
{
    if (cal == CF_CAL_360_DAY) {
        *y = 1970 + floor_div(days, 360);
        int64_t doy = days - (*y - 1970) * 360;
        *m = (int)(doy / 30) + 1;
        *d = (int)(doy % 30) + 1;
        return;
    }
    int leap = cal == CF_CAL_ALL_LEAP;
    int64_t len = 365 + leap;
    *y = 1970 + floor_div(days, len);
    int64_t doy = days - (*y - 1970) * len;
    int k = 1;
    while (doy >= noleap_month_days[k - 1] + (k == 2 && leap)) {
        doy -= noleap_month_days[k - 1] + (k == 2 && leap);
        k++;
    }
    *m = k;
    *d = (int)doy + 1;
}

static int days_in_month(cf_calendar cal, int64_t y, int m)
{
    if (cal == CF_CAL_360_DAY)
        return 30;
    int leap;
    switch (cal) {
    case CF_CAL_PROLEPTIC_GREGORIAN: leap = gregorian_leap(y); break;
    case CF_CAL_JULIAN: leap = julian_leap(y); break;
    case CF_CAL_STANDARD: leap = y < 1582 ? julian_leap(y) : gregorian_leap(y); break;
    case CF_CAL_ALL_LEAP: leap = 1; break;
    default: leap = 0; break;
    }
    return noleap_month_days[m - 1] + (m == 2 && leap);
}

/* 1582-10-05 .. 1582-10-14 do not exist in the standard calendar. */
static int in_gregorian_gap(int64_t y, int m, int d)
{
    return y == 1582 && m == 10 && d > 4 && d < 15;
}

static int64_t days_from_date(cf_calendar cal, int64_t y, int m, int d)
{
    switch (cal) {
    case CF_CAL_PROLEPTIC_GREGORIAN:
        return gregorian_days(y, m, d);
    case CF_CAL_JULIAN:
        return julian_days(y, m, d);
    case CF_CAL_STANDARD:
        if (y > 1582 || (y == 1582 && (m > 10 || (m == 10 && d >= 15))))
            return gregorian_days(y, m, d);
        return julian_days(y, m, d);
    default:
        return fixed_year_days(cal, y, m, d);
    }
}

static void date_from_days(cf_calendar cal, int64_t days, int64_t *y, int *m, int *d)
{
    switch (cal) {
    case CF_CAL_PROLEPTIC_GREGORIAN:
        gregorian_date(days, y, m, d);
        return;
    case CF_CAL_JULIAN:
        julian_date(days, y, m, d);
        return;
    case CF_CAL_STANDARD:
        if (days >= gregorian_days(1582, 10, 15))
            gregorian_date(days, y, m, d);
        else
            julian_date(days, y, m, d);
        return;
    default:
        fixed_year_date(cal, days, y, m, d);
        return;
    }
}

floe_err cf_datetime_check(cf_calendar cal, const cf_datetime *dt)
{
    if (dt->year < -CF_MAX_YEAR || dt->year > CF_MAX_YEAR)
        return FLOE_ERR(FLOE_EINVAL, "year %d is beyond +-%d", dt->year, CF_MAX_YEAR);
    if (dt->month < 1 || dt->month > 12)
        return FLOE_ERR(FLOE_EINVAL, "month %d does not exist", dt->month);
    int dim = days_in_month(cal, dt->year, dt->month);
    if (dt->day < 1 || dt->day > dim)
        return FLOE_ERR(FLOE_EINVAL, "%04d-%02d-%02d does not exist in the %s calendar (%d days in that "
                        "month)", dt->year, dt->month, dt->day, cf_calendar_name(cal), dim);
    if (cal == CF_CAL_STANDARD && in_gregorian_gap(dt->year, dt->month, dt->day))
        return FLOE_ERR(FLOE_EINVAL, "%04d-%02d-%02d does not exist in the standard calendar (Julian "
                        "1582-10-04 is followed by Gregorian 1582-10-15)", dt->year, dt->month, dt->day);
    if (dt->hour < 0 || dt->hour > 23 || dt->minute < 0 || dt->minute > 59 || dt->second < 0 ||
        dt->second > 59 || dt->microsecond < 0 || dt->microsecond > 999999)
        return FLOE_ERR(FLOE_EINVAL, "time of day %02d:%02d:%02d.%06d does not exist", dt->hour, dt->minute,
                        dt->second, dt->microsecond);
    return NULL;
}

floe_err cf_datetime_to_instant(cf_calendar cal, const cf_datetime *dt, cf_instant *out)
{
    FLOE_CHECK(cf_datetime_check(cal, dt));
    int64_t days = days_from_date(cal, dt->year, dt->month, dt->day);
    *out = days * US_PER_DAY +
           ((int64_t)dt->hour * 3600 + (int64_t)dt->minute * 60 + dt->second) * US_PER_SECOND + dt->microsecond;
    return NULL;
}

void cf_instant_to_datetime(cf_calendar cal, cf_instant t, cf_datetime *out)
{
    int64_t days = floor_div(t, US_PER_DAY);
    int64_t us = t - days * US_PER_DAY;
    int64_t y;
    date_from_days(cal, days, &y, &out->month, &out->day);
    out->year = (int)y;
    int64_t s = us / US_PER_SECOND;
    out->microsecond = (int)(us % US_PER_SECOND);
    out->hour = (int)(s / 3600);
    out->minute = (int)(s / 60 % 60);
    out->second = (int)(s % 60);
}
