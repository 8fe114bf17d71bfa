/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/resample_periods.c - see resample_periods.h. */
#include "engine/plan/resample_periods.h"

#include "engine/plan/climatology_groups.h"

#include <stdlib.h>
#include <string.h>

static const char *const by_names[] = {"month", "season", "year"};
enum { NBY = sizeof by_names / sizeof by_names[0] };

floe_err floe_resample_by_parse(const char *text, floe_resample_by *out)
{
    for (size_t i = 0; text && i < NBY; i++)
        if (strcmp(text, by_names[i]) == 0) {
            *out = (floe_resample_by)i;
            return NULL;
        }
    return FLOE_ERR(FLOE_EINVAL, "--resample '%s': expected month, season or year",
                    text ? text : "");
}

const char *floe_resample_by_name(floe_resample_by by)
{
    return by_names[by];
}

floe_err floe_resample_period_of(floe_resample_by by, cf_calendar cal, cf_instant t,
                                 cf_interval *out)
{
    /* a month or a season is one occurrence of a climatology group */
    if (by == FLOE_RESAMPLE_MONTH)
        return floe_clim_occurrence(FLOE_CLIM_MONTH, cal, t, out);
    if (by == FLOE_RESAMPLE_SEASON)
        return floe_clim_occurrence(FLOE_CLIM_SEASON, cal, t, out);
    cf_datetime dt;
    cf_instant_to_datetime(cal, t, &dt);
    cf_datetime a = {dt.year, 1, 1, 0, 0, 0, 0}, z = {dt.year + 1, 1, 1, 0, 0, 0, 0};
    FLOE_CHECK(cf_datetime_to_instant(cal, &a, &out->lo));
    return cf_datetime_to_instant(cal, &z, &out->hi);
}

void floe_resample_periods_free(floe_resample_periods *p)
{
    free(p->period_of_step);
    free(p->nsteps_in);
    free(p->period);
    free(p->time);
    free(p->bounds);
    memset(p, 0, sizeof *p);
}

floe_err floe_resample_periods_build(floe_resample_periods *p, floe_resample_by by,
                                     cf_calendar cal, const cf_interval *steps, size_t nsteps)
{
    memset(p, 0, sizeof *p);
    p->by = by;
    p->cal = cal;
    p->nsteps = nsteps;
    size_t n = nsteps ? nsteps : 1; /* at most one period a step */
    p->period_of_step = calloc(n, sizeof *p->period_of_step);
    p->nsteps_in = calloc(n, sizeof *p->nsteps_in);
    p->period = calloc(n, sizeof *p->period);
    p->time = calloc(n, sizeof *p->time);
    p->bounds = calloc(n, sizeof *p->bounds);
    if (!p->period_of_step || !p->nsteps_in || !p->period || !p->time || !p->bounds) {
        floe_resample_periods_free(p);
        return FLOE_ERR(FLOE_ENOMEM, "resampling %zu steps: out of memory", nsteps);
    }
    int intervals = nsteps > 0 && !(steps[0].lo == steps[0].hi);
    floe_err err = NULL;
    for (size_t i = 0; i < nsteps && !err; i++) {
        const cf_interval *s = &steps[i];
        if ((s->lo != s->hi) != intervals) {
            err = FLOE_ERR(FLOE_EINVAL, "resampling: step %zu is %s among %s", i,
                           intervals ? "a point" : "an interval",
                           intervals ? "intervals" : "points");
            break;
        }
        cf_interval per;
        err = floe_resample_period_of(by, cal, s->lo + (s->hi - s->lo) / 2, &per);
        if (err)
            break;
        size_t k = p->nperiods;
        if (k > 0 && p->period[k - 1].lo == per.lo) {
            k--; /* the same period as the step before */
        } else if (k > 0 && per.lo < p->period[k - 1].lo) {
            err = FLOE_ERR(FLOE_EINVAL, "resampling: step %zu lies before the step ahead of it", i);
            break;
        } else {
            p->period[k] = per;
            p->bounds[k] = *s;
            p->nperiods++;
        }
        p->period_of_step[i] = (uint32_t)k;
        p->nsteps_in[k]++;
        if (s->lo < p->bounds[k].lo)
            p->bounds[k].lo = s->lo;
        if (s->hi > p->bounds[k].hi)
            p->bounds[k].hi = s->hi;
    }
    for (size_t k = 0; k < p->nperiods && !err; k++) {
        if (!intervals)
            p->bounds[k] = p->period[k]; /* points: the whole period */
        /* the middle of the period, cut to the bounds */
        cf_instant a = p->period[k].lo > p->bounds[k].lo ? p->period[k].lo : p->bounds[k].lo;
        cf_instant z = p->period[k].hi < p->bounds[k].hi ? p->period[k].hi : p->bounds[k].hi;
        p->time[k] = a + (z - a) / 2;
    }
    if (err)
        floe_resample_periods_free(p);
    return err;
}
