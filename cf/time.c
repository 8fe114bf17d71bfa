/* SPDX-License-Identifier: Apache-2.0 */
/* cf/time.c - CF time units ("UNIT since REF"), date-time text and ISO 8601
 * instants and intervals (cf/time.h); the calendars are calendar.c's. */
#include "cf/internal.h"
#include "cf/time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


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
