/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/stat_names.c - the statistics' names: "mean" to
 * FLOE_STAT_MEAN and back, and the --stat lists ("mean,std", "mean,p95")
 * parsed into a mask and percentiles, with messages that name the list and
 * the bad item (accum.h, percentile.h). */
#include "engine/reduce/accum.h"
#include "engine/reduce/percentile.h"

#include <stdio.h>
#include <string.h>

static const struct {
    unsigned bit;
    const char *name;
} stat_names[] = {
    {FLOE_STAT_MEAN, "mean"}, {FLOE_STAT_MIN, "min"}, {FLOE_STAT_MAX, "max"},
    {FLOE_STAT_SUM, "sum"},   {FLOE_STAT_STD, "std"}, {FLOE_STAT_COUNT, "count"},
};
enum { NSTATS = sizeof stat_names / sizeof stat_names[0] };

const char *floe_stat_name(unsigned stat)
{
    for (size_t i = 0; i < NSTATS; i++)
        if (stat_names[i].bit == stat)
            return stat_names[i].name;
    return NULL;
}

floe_err floe_stat_parse(const char *name, unsigned *stat)
{
    for (size_t i = 0; i < NSTATS; i++)
        if (strcmp(stat_names[i].name, name) == 0) {
            *stat = stat_names[i].bit;
            return NULL;
        }
    return FLOE_ERR(FLOE_EINVAL, "unknown statistic '%s' (expected mean, min, max, sum, std or count)",
                    name);
}

static void allowed_list(unsigned allowed, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NSTATS && used < size; i++)
        if (allowed & stat_names[i].bit)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                     stat_names[i].name);
}

floe_err floe_stat_parse_list(const char *text, unsigned allowed, unsigned *mask)
{
    return floe_stat_parse_list_pctl(text, allowed, mask, NULL);
}

floe_err floe_stat_parse_list_pctl(const char *text, unsigned allowed, unsigned *mask,
                                   floe_pctl_list *pctl)
{
    char item[32], ok[112];
    unsigned m = 0;
    const char *p = text;
    allowed_list(allowed, ok, sizeof ok);
    if (pctl) {
        memset(pctl, 0, sizeof *pctl);
        size_t used = strlen(ok);
        snprintf(ok + used, sizeof ok - used, "%spNN (a percentile, 0 to 100)", used ? ", " : "");
    }
    for (;;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        size_t len = n;
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0)
            return FLOE_ERR(FLOE_EINVAL, "--stat '%s': empty item (expected a list such as mean,std)",
                            text);
        if (len >= sizeof item)
            return FLOE_ERR(FLOE_EINVAL, "--stat '%s': unknown statistic '%.*s' (expected %s)",
                            text, (int)len, p, ok);
        memcpy(item, p, len);
        item[len] = '\0';
        if (pctl && floe_pctl_is_item(item)) {
            FLOE_CHECK(floe_pctl_list_add(pctl, item), "--stat '%s'", text);
            p += n;
            if (*p == '\0')
                break;
            p++;
            continue;
        }
        unsigned bit = 0;
        floe_err err = floe_stat_parse(item, &bit);
        if (err || !(bit & allowed)) {
            floe_err_free(&err);
            return FLOE_ERR(FLOE_EINVAL, "--stat '%s': unknown statistic '%s' (expected %s)", text,
                            item, ok);
        }
        if (m & bit)
            return FLOE_ERR(FLOE_EINVAL, "--stat '%s': '%s' is given twice", text, item);
        m |= bit;
        p += n;
        if (*p == '\0')
            break;
        p++;
    }
    *mask = m;
    return NULL;
}
