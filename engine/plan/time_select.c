/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/time_select.c - see time_select.h. The CF arithmetic is
 * cf/time's and the step intervals engine/plan/time_intervals'; this file
 * only connects them to a dataset's time array. */
#include "engine/plan/time_select.h"

#include "cf/time.h"
#include "common/floe_log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

floe_err floe_time_axis_intervals(const floe_array *time, const double *values, size_t n,
                                  floe_time_label label, const double *bounds,
                                  cf_time_units *u, cf_interval *steps)
{
    FLOE_CHECK(floe_time_units(time, u));
    cf_instant *t = malloc((n ? n : 1) * sizeof *t);
    if (!t)
        return FLOE_ERR(FLOE_ENOMEM, "time coordinate %s (%zu steps)", time->name, n);
    floe_err err = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        err = cf_time_value_to_instant(u, values[i], &t[i]);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " time coordinate %s, step %zu",
                                time->name, i);
    }
    if (!err && label == FLOE_TIME_LABEL_BOUNDS)
        err = floe_time_bounds_intervals(u, bounds, n, steps);
    else if (!err)
        err = floe_time_step_intervals(t, n, label, steps);
    free(t);
    FLOE_CHECK(err, "time coordinate %s", time->name);
    return NULL;
}

void floe_time_format_instant(const cf_time_units *u, cf_instant t, char *buf, size_t size)
{
    cf_datetime dt;
    cf_instant_to_datetime(u->calendar, t, &dt);
    cf_datetime_format(&dt, buf, size);
}

floe_err floe_time_select(const floe_array *time, const cf_time_units *u,
                          floe_time_label label, const cf_interval *steps, size_t n,
                          const char *text, size_t *t0, size_t *t1)
{
    cf_interval iv;
    FLOE_CHECK(cf_interval_parse(u->calendar, text, &iv), "--time '%s'", text);
    floe_time_selection sel;
    floe_time_select_steps(steps, n, &iv, &sel);
    char lo[40], hi[40];
    floe_time_format_instant(u, sel.range.lo, lo, sizeof lo);
    floe_time_format_instant(u, sel.range.hi, hi, sizeof hi);
    if (sel.t0 == sel.t1)
        return FLOE_ERR(FLOE_EINVAL, "--time '%s' selects no time step: the data (time "
                        "coordinate %s, %s labels) cover %s .. %s", text, time->name,
                        floe_time_label_name(label), lo, hi);
    if ((sel.clipped_before || sel.clipped_after) && floe_log_rank() <= 0)
        FLOE_WARN("--time '%s' reaches %s the data, which (time coordinate %s, %s labels) "
                  "cover %s .. %s: clipped to them, %zu step%s", text,
                  sel.clipped_before && sel.clipped_after ? "before and after"
                  : sel.clipped_before ? "before" : "past",
                  time->name, floe_time_label_name(label), lo, hi, sel.t1 - sel.t0,
                  sel.t1 - sel.t0 == 1 ? "" : "s");
    *t0 = sel.t0;
    *t1 = sel.t1;
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
