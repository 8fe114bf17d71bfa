/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/climatology_groups.c - see climatology_groups.h. */
#include "engine/plan/climatology_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const by_names[] = {"month", "season", "dayofyear"};
static const char *const month_names[] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};
static const char *const season_names[] = {"DJF", "MAM", "JJA", "SON"};
/* Days before each month in a leap year: the dayofyear label is the day
 * of year in a leap year (so 29 Feb = 60, 1 Mar = 61 in every year). */
static const int leap_cum[13] = {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366};

static const int64_t us_per_day = 86400LL * 1000000LL;

floe_err floe_clim_by_parse(const char *text, floe_clim_by *out)
{
    for (size_t i = 0; i < 3; i++)
        if (strcmp(text, by_names[i]) == 0) {
            *out = (floe_clim_by)i;
            return NULL;
        }
    return FLOE_ERR(FLOE_EINVAL, "--by '%s': expected month, season or dayofyear", text);
}

const char *floe_clim_by_name(floe_clim_by by)
{
    return by_names[by];
}

size_t floe_clim_group_count(floe_clim_by by, cf_calendar cal)
{
    switch (by) {
    case FLOE_CLIM_MONTH: return 12;
    case FLOE_CLIM_SEASON: return 4;
    default: return cal == CF_CAL_360_DAY ? 360 : 366;
    }
}

size_t floe_clim_group_of(floe_clim_by by, cf_calendar cal, const cf_datetime *dt)
{
    switch (by) {
    case FLOE_CLIM_MONTH: return (size_t)(dt->month - 1);
    case FLOE_CLIM_SEASON: return (size_t)((dt->month % 12) / 3);
    default:
        if (cal == CF_CAL_360_DAY)
            return (size_t)((dt->month - 1) * 30 + dt->day - 1);
        return (size_t)(leap_cum[dt->month - 1] + dt->day - 1);
    }
}

int floe_clim_group_number(floe_clim_by by, cf_calendar cal, size_t group)
{
    (void)by;
    (void)cal;
    return (int)group + 1;
}

/* The month and day of a dayofyear group. */
static void day_of_group(cf_calendar cal, size_t g, int *month, int *day)
{
    if (cal == CF_CAL_360_DAY) {
        *month = (int)(g / 30) + 1;
        *day = (int)(g % 30) + 1;
        return;
    }
    int m = 1;
    while (m < 12 && (size_t)leap_cum[m] <= g)
        m++;
    *month = m;
    *day = (int)g - leap_cum[m - 1] + 1;
}

char *floe_clim_group_name(floe_clim_by by, cf_calendar cal, size_t group, char *buf,
                           size_t size)
{
    if (size == 0)
        return buf;
    if (group >= floe_clim_group_count(by, cal)) {
        snprintf(buf, size, "?");
        return buf;
    }
    switch (by) {
    case FLOE_CLIM_MONTH: snprintf(buf, size, "%s", month_names[group]); break;
    case FLOE_CLIM_SEASON: snprintf(buf, size, "%s", season_names[group]); break;
    default: {
        int m, d;
        day_of_group(cal, group, &m, &d);
        snprintf(buf, size, "%02d-%02d", m, d);
    }
    }
    return buf;
}

/* The first instant of day 1 of (year, month), month possibly 13. */
static floe_err month_start(cf_calendar cal, int year, int month, cf_instant *out)
{
    if (month > 12) {
        year++;
        month -= 12;
    }
    cf_datetime dt = {year, month, 1, 0, 0, 0, 0};
    return cf_datetime_to_instant(cal, &dt, out);
}

floe_err floe_clim_occurrence(floe_clim_by by, cf_calendar cal, cf_instant t, cf_interval *out)
{
    cf_datetime dt;
    cf_instant_to_datetime(cal, t, &dt);
    switch (by) {
    case FLOE_CLIM_MONTH:
        FLOE_CHECK(month_start(cal, dt.year, dt.month, &out->lo));
        FLOE_CHECK(month_start(cal, dt.year, dt.month + 1, &out->hi));
        return NULL;
    case FLOE_CLIM_SEASON: {
        /* December opens the season; January and February close the
         * one that began in the previous December. */
        int year = dt.year, first = dt.month - dt.month % 3;
        if (dt.month == 12)
            first = 12;
        else if (dt.month < 3) {
            first = 12;
            year--;
        }
        FLOE_CHECK(month_start(cal, year, first, &out->lo));
        FLOE_CHECK(month_start(cal, year, first + 3, &out->hi));
        return NULL;
    }
    default: {
        cf_datetime day = {dt.year, dt.month, dt.day, 0, 0, 0, 0};
        FLOE_CHECK(cf_datetime_to_instant(cal, &day, &out->lo));
        out->hi = out->lo + us_per_day; /* instants count physical days */
        return NULL;
    }
    }
}

floe_err floe_clim_groups_build_intervals(floe_clim_groups *g, floe_clim_by by, cf_calendar cal,
                                          const cf_interval *steps, size_t nsteps)
{
    memset(g, 0, sizeof *g);
    g->by = by;
    g->cal = cal;
    g->ngroups = floe_clim_group_count(by, cal);
    g->nsteps = nsteps;
    g->intervals = nsteps > 0 && steps[0].lo != steps[0].hi;
    g->group_of_step = calloc(nsteps ? nsteps : 1, sizeof *g->group_of_step);
    g->nsteps_in = calloc(g->ngroups, sizeof *g->nsteps_in);
    g->first = calloc(g->ngroups, sizeof *g->first);
    g->last = calloc(g->ngroups, sizeof *g->last);
    g->lo = calloc(g->ngroups, sizeof *g->lo);
    g->hi = calloc(g->ngroups, sizeof *g->hi);
    if (!g->group_of_step || !g->nsteps_in || !g->first || !g->last || !g->lo || !g->hi) {
        floe_clim_groups_free(g);
        return FLOE_ERR(FLOE_ENOMEM, "climatology groups of %zu steps: out of memory", nsteps);
    }
    for (size_t i = 0; i < nsteps; i++) {
        const cf_interval *s = &steps[i];
        if ((s->lo != s->hi) != g->intervals) {
            floe_clim_groups_free(g);
            return FLOE_ERR(FLOE_EINVAL, "climatology groups: step %zu is %s among %s", i,
                            s->lo != s->hi ? "an interval" : "a point",
                            s->lo != s->hi ? "points" : "intervals");
        }
        cf_instant mid = s->lo + (s->hi - s->lo) / 2;
        cf_datetime dt;
        cf_instant_to_datetime(cal, mid, &dt);
        size_t k = floe_clim_group_of(by, cal, &dt);
        g->group_of_step[i] = (uint32_t)k;
        int first = g->nsteps_in[k] == 0;
        if (first || mid < g->first[k])
            g->first[k] = mid;
        if (first || mid > g->last[k])
            g->last[k] = mid;
        if (first || s->lo < g->lo[k])
            g->lo[k] = s->lo;
        if (first || s->hi > g->hi[k])
            g->hi[k] = s->hi;
        g->nsteps_in[k]++;
    }
    return NULL;
}

floe_err floe_clim_groups_build(floe_clim_groups *g, floe_clim_by by, cf_calendar cal,
                                const cf_instant *steps, size_t nsteps)
{
    cf_interval *iv = malloc((nsteps ? nsteps : 1) * sizeof *iv);
    if (!iv)
        return FLOE_ERR(FLOE_ENOMEM, "climatology groups of %zu steps: out of memory", nsteps);
    for (size_t i = 0; i < nsteps; i++)
        iv[i].lo = iv[i].hi = steps[i];
    floe_err err = floe_clim_groups_build_intervals(g, by, cal, iv, nsteps);
    free(iv);
    return err;
}

void floe_clim_groups_free(floe_clim_groups *g)
{
    free(g->group_of_step);
    free(g->nsteps_in);
    free(g->first);
    free(g->last);
    free(g->lo);
    free(g->hi);
    memset(g, 0, sizeof *g);
}

floe_err floe_clim_groups_time(const floe_clim_groups *g, size_t group, cf_instant *time,
                               cf_instant bounds[2])
{
    char name[32];
    if (group >= g->ngroups || g->nsteps_in[group] == 0)
        return FLOE_ERR(FLOE_EINVAL, "climatology group %s (%s) has no time step",
                        floe_clim_group_name(g->by, g->cal, group, name, sizeof name),
                        floe_clim_by_name(g->by));
    cf_interval first, last;
    FLOE_CHECK(floe_clim_occurrence(g->by, g->cal, g->first[group], &first),
               "climatology group %s", floe_clim_group_name(g->by, g->cal, group, name,
                                                            sizeof name));
    FLOE_CHECK(floe_clim_occurrence(g->by, g->cal, g->last[group], &last),
               "climatology group %s", floe_clim_group_name(g->by, g->cal, group, name,
                                                            sizeof name));
    if (g->intervals) {
        /* exactly the data that went in; the time in its first occurrence */
        bounds[0] = g->lo[group];
        bounds[1] = g->hi[group];
        cf_instant a = first.lo > bounds[0] ? first.lo : bounds[0];
        cf_instant z = first.hi < bounds[1] ? first.hi : bounds[1];
        *time = a + (z - a) / 2;
        return NULL;
    }
    *time = first.lo + (first.hi - first.lo) / 2;
    bounds[0] = first.lo;
    bounds[1] = last.hi;
    return NULL;
}
