/* cf/time.c - CF calendars, time units and ISO 8601 text (see cf_time.h). */
#include "cf/time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define US_PER_SECOND INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SECOND)
/* Far enough for any climate record, near enough that day and microsecond
 * arithmetic never overflows int64 (2^63 us is about 292000 years). */
enum { CF_MAX_YEAR = 200000 };

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

/* ---- parsing date-time text ---------------------------------------------- */

enum resolution { RES_YEAR, RES_MONTH, RES_DAY, RES_HOUR, RES_MINUTE, RES_SECOND, RES_FRACTION };

typedef struct parsed_time {
    cf_datetime dt;
    enum resolution res;
    int frac_digits;      /* digits after the decimal point */
    int64_t tz_offset_us; /* local time minus UTC */
} parsed_time;

/* 1..max digits into *v; returns the number read (0 on none). */
static int read_digits(const char **p, int max, long *v)
{
    int n = 0;
    long x = 0;
    while (n < max && isdigit((unsigned char)(*p)[0])) {
        x = x * 10 + ((*p)[0] - '0');
        (*p)++;
        n++;
    }
    *v = x;
    return n;
}

static void skip_spaces(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

/* "Z", "UTC", "GMT", "+hh", "+hhmm", "+hh:mm", "-..."; returns 1 if one
 * was read (or 0 if none was there), -1 if malformed. */
static int read_zone(const char **p, int64_t *offset_us)
{
    const char *s = *p;
    *offset_us = 0;
    if (*s == 'Z' || *s == 'z') {
        *p = s + 1;
        return 1;
    }
    if (strncasecmp(s, "UTC", 3) == 0 || strncasecmp(s, "GMT", 3) == 0) {
        *p = s + 3;
        return 1;
    }
    if (*s != '+' && *s != '-')
        return 0;
    int sign = *s == '-' ? -1 : 1;
    s++;
    long hh, mm = 0;
    int n = read_digits(&s, 4, &hh);
    if (n == 0)
        return -1;
    if (n == 4 || n == 3) { /* hhmm or hmm */
        mm = hh % 100;
        hh /= 100;
    } else if (*s == ':') {
        s++;
        if (read_digits(&s, 2, &mm) != 2)
            return -1;
    }
    if (hh > 23 || mm > 59)
        return -1;
    *offset_us = sign * ((int64_t)hh * 3600 + (int64_t)mm * 60) * US_PER_SECOND;
    *p = s;
    return 1;
}

/* Date and optional time and zone, then the end of the text (or `stop`,
 * a character that may end the text, e.g. '/'). */
static int parse_datetime_text(const char *text, char stop, parsed_time *out, const char **end)
{
    const char *p = text;
    memset(out, 0, sizeof *out);
    out->dt.month = out->dt.day = 1;
    skip_spaces(&p);
    int sign = 1;
    if (*p == '-' || *p == '+') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    long v;
    if (read_digits(&p, 6, &v) == 0)
        return 0;
    out->dt.year = (int)(sign * v);
    out->res = RES_YEAR;
    if (*p == '-' && isdigit((unsigned char)p[1])) {
        p++;
        read_digits(&p, 2, &v);
        out->dt.month = (int)v;
        out->res = RES_MONTH;
        if (*p == '-' && isdigit((unsigned char)p[1])) {
            p++;
            read_digits(&p, 2, &v);
            out->dt.day = (int)v;
            out->res = RES_DAY;
            /* time after "T" or spaces */
            const char *q = p;
            if (*q == 'T' || *q == 't')
                q++;
            else
                skip_spaces(&q);
            if (q != p && isdigit((unsigned char)*q)) {
                p = q;
                read_digits(&p, 2, &v);
                out->dt.hour = (int)v;
                out->res = RES_HOUR;
                if (*p == ':' && isdigit((unsigned char)p[1])) {
                    p++;
                    read_digits(&p, 2, &v);
                    out->dt.minute = (int)v;
                    out->res = RES_MINUTE;
                    if (*p == ':' && isdigit((unsigned char)p[1])) {
                        p++;
                        read_digits(&p, 2, &v);
                        out->dt.second = (int)v;
                        out->res = RES_SECOND;
                        if (*p == '.' && isdigit((unsigned char)p[1])) {
                            p++;
                            long us = 0;
                            int n = 0;
                            while (isdigit((unsigned char)*p)) {
                                if (n < 6)
                                    us = us * 10 + (*p - '0');
                                n++;
                                p++;
                            }
                            for (int k = n; k < 6; k++)
                                us *= 10;
                            out->dt.microsecond = (int)us;
                            out->frac_digits = n;
                            out->res = RES_FRACTION;
                        }
                    }
                }
            }
        }
    }
    const char *q = p;
    skip_spaces(&q);
    int z = read_zone(&q, &out->tz_offset_us);
    if (z < 0)
        return 0;
    if (z > 0)
        p = q;
    skip_spaces(&p);
    if (*p && *p != stop)
        return 0;
    *end = p;
    return 1;
}

/* The first instant of the parsed text and the first after its span. */
static floe_err parsed_span(cf_calendar cal, const parsed_time *pt, cf_instant *lo, cf_instant *hi)
{
    cf_instant start;
    FLOE_CHECK(cf_datetime_to_instant(cal, &pt->dt, &start));
    cf_datetime next = pt->dt;
    int64_t step = 0;
    switch (pt->res) {
    case RES_YEAR:
        next.year++;
        break;
    case RES_MONTH:
        if (++next.month > 12) {
            next.month = 1;
            next.year++;
        }
        break;
    case RES_DAY: step = US_PER_DAY; break;
    case RES_HOUR: step = 3600 * US_PER_SECOND; break;
    case RES_MINUTE: step = 60 * US_PER_SECOND; break;
    case RES_SECOND: step = US_PER_SECOND; break;
    case RES_FRACTION:
        step = 1;
        for (int k = pt->frac_digits; k < 6; k++)
            step *= 10;
        break;
    }
    cf_instant end;
    if (step)
        end = start + step;
    else
        FLOE_CHECK(cf_datetime_to_instant(cal, &next, &end));
    *lo = start - pt->tz_offset_us;
    *hi = end - pt->tz_offset_us;
    return NULL;
}

/* ---- units --------------------------------------------------------------- */

static const struct {
    const char *name;
    int64_t us;
} unit_names[] = {
    {"days", US_PER_DAY}, {"day", US_PER_DAY}, {"d", US_PER_DAY},
    {"hours", 3600 * US_PER_SECOND}, {"hour", 3600 * US_PER_SECOND}, {"hrs", 3600 * US_PER_SECOND},
    {"hr", 3600 * US_PER_SECOND}, {"h", 3600 * US_PER_SECOND},
    {"minutes", 60 * US_PER_SECOND}, {"minute", 60 * US_PER_SECOND}, {"mins", 60 * US_PER_SECOND},
    {"min", 60 * US_PER_SECOND},
    {"seconds", US_PER_SECOND}, {"second", US_PER_SECOND}, {"secs", US_PER_SECOND}, {"sec", US_PER_SECOND},
    {"s", US_PER_SECOND},
    {"milliseconds", 1000}, {"millisecond", 1000}, {"msecs", 1000}, {"msec", 1000}, {"ms", 1000},
    {"microseconds", 1}, {"microsecond", 1}, {"usecs", 1}, {"usec", 1}, {"us", 1},
};

floe_err cf_time_units_parse(const char *units, const char *calendar, cf_time_units *out)
{
    memset(out, 0, sizeof *out);
    FLOE_CHECK(cf_calendar_parse(calendar, &out->calendar));
    if (!units)
        return FLOE_ERR(FLOE_EFORMAT, "time units are missing");
    const char *p = units;
    skip_spaces(&p);
    const char *w = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    size_t wlen = (size_t)(p - w);
    int found = 0;
    for (size_t i = 0; i < sizeof unit_names / sizeof unit_names[0]; i++) {
        if (strlen(unit_names[i].name) == wlen && strncasecmp(w, unit_names[i].name, wlen) == 0) {
            out->unit_us = unit_names[i].us;
            found = 1;
            break;
        }
    }
    if (!found) {
        static const char *const variable[] = {"months", "month", "years", "year", "yr", "common_years"};
        for (size_t i = 0; i < sizeof variable / sizeof variable[0]; i++)
            if (strlen(variable[i]) == wlen && strncasecmp(w, variable[i], wlen) == 0)
                return FLOE_ERR(FLOE_EUNSUPPORTED, "time units '%s': months and years have no fixed length",
                                units);
        return FLOE_ERR(FLOE_EFORMAT, "time units '%s': expected days, hours, minutes, seconds, "
                        "milliseconds or microseconds since a date", units);
    }
    skip_spaces(&p);
    if (strncasecmp(p, "since", 5) != 0 || !isspace((unsigned char)p[5]))
        return FLOE_ERR(FLOE_EFORMAT, "time units '%s': expected 'UNIT since DATE'", units);
    p += 5;
    parsed_time pt;
    const char *end;
    if (!parse_datetime_text(p, '\0', &pt, &end))
        return FLOE_ERR(FLOE_EFORMAT, "time units '%s': cannot read the reference date", units);
    cf_instant hi;
    FLOE_CHECK(parsed_span(out->calendar, &pt, &out->ref, &hi), "time units '%s'", units);
    return NULL;
}

floe_err cf_time_value_to_instant(const cf_time_units *u, double value, cf_instant *out)
{
    const double limit = (double)CF_MAX_YEAR * 366.0 * (double)US_PER_DAY;
    if (!isfinite(value))
        return FLOE_ERR(FLOE_EINVAL, "time value %g is not a finite number", value);
    double us = value * (double)u->unit_us;
    if (fabs(us) > limit)
        return FLOE_ERR(FLOE_EINVAL, "time value %g is beyond +-%d years", value, CF_MAX_YEAR);
    /* Whole values stay exact in integers; others round to the microsecond. */
    int64_t offset = value == floor(value) ? (int64_t)value * u->unit_us : (int64_t)llround(us);
    int64_t t;
    if (__builtin_add_overflow(u->ref, offset, &t) || t > (int64_t)limit || t < -(int64_t)limit)
        return FLOE_ERR(FLOE_EINVAL, "time value %g is beyond +-%d years", value, CF_MAX_YEAR);
    *out = t;
    return NULL;
}

floe_err cf_time_value_to_datetime(const cf_time_units *u, double value, cf_datetime *out)
{
    cf_instant t;
    FLOE_CHECK(cf_time_value_to_instant(u, value, &t));
    cf_instant_to_datetime(u->calendar, t, out);
    return NULL;
}

double cf_time_instant_to_value(const cf_time_units *u, cf_instant t)
{
    int64_t d = t - u->ref;
    /* whole units exactly; the remainder as a fraction */
    int64_t whole = d / u->unit_us, rest = d % u->unit_us;
    return (double)whole + (double)rest / (double)u->unit_us;
}

char *cf_datetime_format(const cf_datetime *dt, char *buf, size_t size)
{
    char year[16];
    if (dt->year < 0)
        snprintf(year, sizeof year, "-%04d", -dt->year);
    else if (dt->year > 9999)
        snprintf(year, sizeof year, "+%d", dt->year);
    else
        snprintf(year, sizeof year, "%04d", dt->year);
    if (dt->microsecond)
        snprintf(buf, size, "%s-%02d-%02dT%02d:%02d:%02d.%06d", year, dt->month, dt->day, dt->hour, dt->minute,
                 dt->second, dt->microsecond);
    else
        snprintf(buf, size, "%s-%02d-%02dT%02d:%02d:%02d", year, dt->month, dt->day, dt->hour, dt->minute,
                 dt->second);
    return buf;
}

floe_err cf_time_value_format(const cf_time_units *u, double value, char *buf, size_t size)
{
    cf_datetime dt;
    FLOE_CHECK(cf_time_value_to_datetime(u, value, &dt));
    cf_datetime_format(&dt, buf, size);
    return NULL;
}

/* ---- ISO 8601 selections ----------------------------------------------- */

static int is_open_end(const char *s, const char *e)
{
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    return s == e || (e - s == 2 && s[0] == '.' && s[1] == '.');
}

floe_err cf_interval_parse(cf_calendar cal, const char *text, cf_interval *out)
{
    const char *slash = strchr(text, '/');
    const char *end;
    parsed_time pt;
    cf_instant lo, hi;
    if (!slash) {
        if (!parse_datetime_text(text, '\0', &pt, &end))
            return FLOE_ERR(FLOE_EINVAL, "time '%s': not an ISO 8601 date or date-time", text);
        FLOE_CHECK(parsed_span(cal, &pt, &out->lo, &out->hi), "time '%s'", text);
        return NULL;
    }
    if (strchr(slash + 1, '/'))
        return FLOE_ERR(FLOE_EINVAL, "time interval '%s': more than one '/'", text);
    out->lo = CF_INSTANT_MIN;
    out->hi = CF_INSTANT_MAX;
    if (!is_open_end(text, slash)) {
        if (!parse_datetime_text(text, '/', &pt, &end))
            return FLOE_ERR(FLOE_EINVAL, "time interval '%s': the start is not an ISO 8601 date or "
                            "date-time", text);
        FLOE_CHECK(parsed_span(cal, &pt, &out->lo, &hi), "time interval '%s'", text);
    }
    if (!is_open_end(slash + 1, slash + 1 + strlen(slash + 1))) {
        if (!parse_datetime_text(slash + 1, '\0', &pt, &end))
            return FLOE_ERR(FLOE_EINVAL, "time interval '%s': the end is not an ISO 8601 date or "
                            "date-time", text);
        FLOE_CHECK(parsed_span(cal, &pt, &lo, &out->hi), "time interval '%s'", text);
    }
    if (out->hi <= out->lo)
        return FLOE_ERR(FLOE_EINVAL, "time interval '%s' ends before it starts", text);
    return NULL;
}

floe_err cf_time_from_iso(const cf_time_units *u, const char *text, double *value)
{
    parsed_time pt;
    const char *end;
    if (!parse_datetime_text(text, '\0', &pt, &end))
        return FLOE_ERR(FLOE_EINVAL, "time '%s': not an ISO 8601 date or date-time", text);
    cf_instant lo, hi;
    FLOE_CHECK(parsed_span(u->calendar, &pt, &lo, &hi), "time '%s'", text);
    *value = cf_time_instant_to_value(u, lo);
    return NULL;
}
