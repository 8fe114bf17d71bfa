/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/time.c - stac_item_times: an Item's datetimes and step from a
 * CF time coordinate. The same rules as the grid Item (out/item/grid.c,
 * whose private copies this can replace): physical calendars as the
 * proleptic Gregorian date RFC 3339 means, model calendars with their own
 * labels (a day the Gregorian month lacks moved to its last day). */
#include "out/item/item.h"

#include "cf/time.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>

static const char *text_attr(const floe_array *a, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->attributes, name);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static int days_in_gregorian_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static floe_err to_rfc3339(const cf_time_units *u, cf_instant t, const char *axis_name,
                           char out[40])
{
    int physical = u->calendar == CF_CAL_STANDARD || u->calendar == CF_CAL_JULIAN ||
                   u->calendar == CF_CAL_PROLEPTIC_GREGORIAN;
    cf_datetime dt;
    cf_instant_to_datetime(physical ? CF_CAL_PROLEPTIC_GREGORIAN : u->calendar, t, &dt);
    if (dt.year < 0 || dt.year > 9999)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "time coordinate %s: year %d cannot be written as "
                        "RFC 3339", axis_name, dt.year);
    int last = days_in_gregorian_month(dt.year, dt.month);
    if (dt.day > last)
        dt.day = last;
    char buf[32];
    cf_datetime_format(&dt, buf, sizeof buf);
    snprintf(out, 40, "%sZ", buf);
    return NULL;
}

/* A constant step d (microseconds) in the largest unit that divides it. */
static const char *iso_duration(int64_t d, char out[40])
{
    const int64_t s = 1000000, m = 60 * s, h = 60 * m, day = 24 * h;
    if (d <= 0 || d % s)
        return NULL;
    if (d % day == 0)
        snprintf(out, 40, "P%" PRId64 "D", d / day);
    else if (d % h == 0)
        snprintf(out, 40, "PT%" PRId64 "H", d / h);
    else if (d % m == 0)
        snprintf(out, 40, "PT%" PRId64 "M", d / m);
    else
        snprintf(out, 40, "PT%" PRId64 "S", d / s);
    return out;
}

floe_err stac_item_times(const floe_array *time, const double *values, size_t n,
                         char first[40], char last[40], char step_buf[40], const char **step)
{
    *step = NULL;
    if (!n)
        return FLOE_ERR(FLOE_EINVAL, "time coordinate %s: no steps", time->name);
    const char *units = text_attr(time, "units");
    if (!units)
        return FLOE_ERR(FLOE_EFORMAT, "time coordinate %s has no units", time->name);
    cf_time_units u;
    FLOE_CHECK(cf_time_units_parse(units, text_attr(time, "calendar"), &u),
               "time coordinate %s", time->name);
    cf_instant t0, prev, cur;
    FLOE_CHECK(cf_time_value_to_instant(&u, values[0], &t0), "time coordinate %s", time->name);
    prev = t0;
    int64_t d = 0;
    int regular = n > 1;
    for (size_t i = 1; i < n; i++, prev = cur) {
        FLOE_CHECK(cf_time_value_to_instant(&u, values[i], &cur), "time coordinate %s",
                   time->name);
        if (i == 1)
            d = cur - prev;
        else if (cur - prev != d)
            regular = 0;
    }
    FLOE_CHECK(to_rfc3339(&u, t0, time->name, first));
    FLOE_CHECK(to_rfc3339(&u, prev, time->name, last));
    if (regular)
        *step = iso_duration(d, step_buf);
    return NULL;
}
