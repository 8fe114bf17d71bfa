/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/time_select.c - see time_select.h. The CF arithmetic is io/cf_time's;
 * this file only connects it to a dataset's time array. */
#include "engine/plan/time_select.h"

#include "cf/time.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *attr_text(const floe_array *a, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->attributes, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

floe_err floe_time_units(const floe_array *time, cf_time_units *u)
{
    const char *units = attr_text(time, "units");
    if (!units)
        return FLOE_ERR(FLOE_EFORMAT, "time coordinate %s has no units attribute", time->name);
    FLOE_CHECK(cf_time_units_parse(units, attr_text(time, "calendar"), u),
               "time coordinate %s", time->name);
    return NULL;
}

floe_err floe_time_instants(const floe_array *time, const double *values, size_t n,
                            cf_time_units *u, cf_instant *out)
{
    FLOE_CHECK(floe_time_units(time, u));
    for (size_t i = 0; i < n; i++)
        FLOE_CHECK(cf_time_value_to_instant(u, values[i], &out[i]), "time coordinate %s, step %zu",
                   time->name, i);
    return NULL;
}

int floe_time_is_time_axis(const floe_array *time)
{
    const char *units = attr_text(time, "units");
    return units && strstr(units, " since ");
}

floe_err floe_time_select(const floe_array *time, const double *values, size_t n,
                          const char *text, size_t *t0, size_t *t1)
{
    cf_time_units u;
    FLOE_CHECK(floe_time_units(time, &u));
    cf_interval iv;
    FLOE_CHECK(cf_interval_parse(u.calendar, text, &iv), "--time '%s'", text);
    /* Steps are sorted in time (checked): the selection is contiguous. */
    size_t first = n, last = 0;
    cf_instant prev = CF_INSTANT_MIN;
    for (size_t i = 0; i < n; i++) {
        cf_instant t;
        FLOE_CHECK(cf_time_value_to_instant(&u, values[i], &t), "time coordinate %s, step %zu",
                   time->name, i);
        if (t < prev)
            return FLOE_ERR(FLOE_EUNSUPPORTED, "time coordinate %s is not increasing at step %zu",
                            time->name, i);
        prev = t;
        if (cf_interval_contains(&iv, t)) {
            if (first == n)
                first = i;
            last = i + 1;
        }
    }
    *t0 = first == n ? 0 : first;
    *t1 = first == n ? 0 : last;
    return NULL;
}

void floe_time_format(const floe_array *time, double value, char *buf, size_t size)
{
    cf_time_units u;
    floe_err err = floe_time_units(time, &u);
    if (!err)
        err = cf_time_value_format(&u, value, buf, size);
    if (err)
        snprintf(buf, size, "%.10g", value);
    floe_err_free(&err);
}

void floe_time_format_step(const floe_array *time, double step, char *buf, size_t size)
{
    cf_time_units u;
    floe_err err = floe_time_units(time, &u);
    if (err) {
        floe_err_free(&err);
        snprintf(buf, size, "%.6g", step);
        return;
    }
    static const struct {
        int64_t us;
        const char *name;
    } scale[] = {{86400000000LL, "day"}, {3600000000LL, "hour"}, {60000000LL, "minute"},
                 {1000000LL, "second"}};
    double us = step * (double)u.unit_us;
    for (size_t i = 0; i < sizeof scale / sizeof *scale; i++) {
        double k = us / (double)scale[i].us;
        if (k >= 1 && fabs(k - round(k)) < 1e-9) {
            snprintf(buf, size, "%.0f %s%s", k, scale[i].name, k == 1 ? "" : "s");
            return;
        }
    }
    snprintf(buf, size, "%.6g s", us / 1e6);
}
