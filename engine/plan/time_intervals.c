/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/time_intervals.c - see time_intervals.h. */
#include "engine/plan/time_intervals.h"

#include <string.h>

static const char *const label_names[] = {"auto", "point", "start", "end", "bounds"};

floe_err floe_time_label_parse(const char *text, const char *what, floe_time_label *out)
{
    if (!text) {
        *out = FLOE_TIME_LABEL_AUTO;
        return NULL;
    }
    for (int k = FLOE_TIME_LABEL_POINT; k <= FLOE_TIME_LABEL_END; k++)
        if (strcmp(text, label_names[k]) == 0) {
            *out = (floe_time_label)k;
            return NULL;
        }
    return FLOE_ERR(FLOE_EINVAL, "%s '%s': expected point, start or end", what, text);
}

const char *floe_time_label_name(floe_time_label label)
{
    return label_names[label];
}

floe_err floe_time_step_intervals(const cf_instant *t, size_t n, floe_time_label label,
                                  cf_interval *out)
{
    if (label != FLOE_TIME_LABEL_START && label != FLOE_TIME_LABEL_END) {
        for (size_t i = 0; i < n; i++)
            out[i].lo = out[i].hi = t[i];
        return NULL;
    }
    if (n < 2)
        return FLOE_ERR(FLOE_EINVAL, "time label %s: a time axis of %zu step%s gives no step "
                        "length", label_names[label], n, n == 1 ? "" : "s");
    for (size_t i = 1; i < n; i++)
        if (t[i] <= t[i - 1])
            return FLOE_ERR(FLOE_EINVAL, "time label %s: the stamps do not increase at step %zu",
                            label_names[label], i);
    for (size_t i = 0; i < n; i++) {
        if (label == FLOE_TIME_LABEL_END) {
            cf_instant len = i > 0 ? t[i] - t[i - 1] : t[1] - t[0];
            out[i].lo = t[i] - len;
            out[i].hi = t[i];
        } else {
            cf_instant len = i + 1 < n ? t[i + 1] - t[i] : t[n - 1] - t[n - 2];
            out[i].lo = t[i];
            out[i].hi = t[i] + len;
        }
    }
    return NULL;
}

floe_err floe_time_bounds_intervals(const cf_time_units *u, const double *b, size_t n,
                                    cf_interval *out)
{
    for (size_t i = 0; i < n; i++) {
        cf_instant a, z;
        FLOE_CHECK(cf_time_value_to_instant(u, b[2 * i], &a), "time bounds of step %zu", i);
        FLOE_CHECK(cf_time_value_to_instant(u, b[2 * i + 1], &z), "time bounds of step %zu", i);
        if (a == z)
            return FLOE_ERR(FLOE_EINVAL, "time bounds of step %zu: both ends are %g", i,
                            b[2 * i]);
        out[i].lo = a < z ? a : z;
        out[i].hi = a < z ? z : a;
    }
    return NULL;
}

/* Does query select step s? Points: contained; intervals: an overlap
 * longer than an instant. */
static int selects(const cf_interval *query, const cf_interval *s)
{
    if (floe_time_step_is_point(s))
        return cf_interval_contains(query, s->lo);
    return s->lo < query->hi && query->lo < s->hi;
}

void floe_time_select_steps(const cf_interval *steps, size_t n, const cf_interval *query,
                            floe_time_selection *out)
{
    memset(out, 0, sizeof *out);
    if (!n)
        return;
    size_t first = n, last = 0;
    for (size_t i = 0; i < n; i++)
        if (selects(query, &steps[i])) {
            if (first == n)
                first = i;
            last = i + 1;
        }
    out->range.lo = steps[0].lo;
    out->range.hi = steps[n - 1].hi;
    if (first == n)
        return;
    out->t0 = first;
    out->t1 = last;
    out->clipped_before = query->lo != CF_INSTANT_MIN && query->lo < out->range.lo;
    out->clipped_after = query->hi != CF_INSTANT_MAX && query->hi > out->range.hi;
}
