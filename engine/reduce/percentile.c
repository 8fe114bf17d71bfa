/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/percentile.c - exact percentiles by selection, with
 * numpy's linear interpolation, and the percentile items of --stat lists
 * (see percentile.h).
 *
 * Why no fused multiply-add: numpy multiplies and adds in two roundings.
 * floe is built as ISO C17, where GCC does not contract; clang contracts
 * only within one expression, so every product below is its own
 * statement. */
#include "engine/reduce/percentile.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int floe_pctl_is_item(const char *item)
{
    return item[0] == 'p' && isdigit((unsigned char)item[1]);
}

/* "p05.50" -> "p5.5"; NULL-terminated into name; 0 if not pDIGITS[.DIGITS]. */
static int canonical_name(const char *item, char *name, size_t size)
{
    const char *p = item + 1, *int0, *int1, *dec0 = NULL, *dec1 = NULL;
    int0 = p;
    while (isdigit((unsigned char)*p))
        p++;
    int1 = p;
    if (*p == '.') {
        dec0 = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        dec1 = p;
        if (dec1 == dec0)
            return 0;
    }
    if (*p || int1 == int0)
        return 0;
    while (int1 - int0 > 1 && *int0 == '0')
        int0++;
    while (dec0 && dec1 > dec0 && dec1[-1] == '0')
        dec1--;
    int n = dec0 && dec1 > dec0
                ? snprintf(name, size, "p%.*s.%.*s", (int)(int1 - int0), int0, (int)(dec1 - dec0), dec0)
                : snprintf(name, size, "p%.*s", (int)(int1 - int0), int0);
    return n > 0 && (size_t)n < size;
}

floe_err floe_pctl_list_add(floe_pctl_list *l, const char *item)
{
    char name[FLOE_PCTL_NAME_SIZE];
    if (!floe_pctl_is_item(item) || !canonical_name(item, name, sizeof name))
        return FLOE_ERR(FLOE_EINVAL, "percentile '%s': expected pNN or pNN.N (e.g. p5, p99.9)",
                        item);
    /* the C locale's strtod: "99.9" parses as Python's float("99.9") */
    double pct = strtod(name + 1, NULL);
    if (!(pct >= 0 && pct <= 100))
        return FLOE_ERR(FLOE_EINVAL, "percentile '%s': outside 0 to 100", item);
    size_t at = 0;
    for (; at < l->n; at++) {
        if (!strcmp(l->name[at], name))
            return FLOE_ERR(FLOE_EINVAL, "percentile '%s' is given twice (as %s)", item, name);
        if (l->pct[at] > pct)
            break;
    }
    if (l->n == FLOE_PCTL_MAX)
        return FLOE_ERR(FLOE_EINVAL, "percentile '%s': at most %d percentiles", item,
                        (int)FLOE_PCTL_MAX);
    memmove(&l->pct[at + 1], &l->pct[at], (l->n - at) * sizeof l->pct[0]);
    memmove(&l->name[at + 1], &l->name[at], (l->n - at) * sizeof l->name[0]);
    l->pct[at] = pct;
    memcpy(l->name[at], name, sizeof name);
    l->n++;
    return NULL;
}

void floe_pctl_var_suffix(const floe_pctl_list *l, size_t k, char *buf, size_t size)
{
    snprintf(buf, size, "%s", l->name[k]);
    for (char *p = buf; *p; p++)
        if (*p == '.')
            *p = '_';
}

void floe_pctl_ordinal(const floe_pctl_list *l, size_t k, char *buf, size_t size)
{
    const char *num = l->name[k] + 1, *suffix = "th";
    if (!strchr(num, '.')) {
        unsigned v = (unsigned)atoi(num);
        if (v % 100 < 11 || v % 100 > 13)
            suffix = v % 10 == 1 ? "st" : v % 10 == 2 ? "nd" : v % 10 == 3 ? "rd" : "th";
    }
    snprintf(buf, size, "%s%s", num, suffix);
}

size_t floe_pctl_valid_f32(const float *v, size_t n, double *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            out[m++] = v[i];
    return m;
}

size_t floe_pctl_valid_f64(const double *v, size_t n, double *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            out[m++] = v[i];
    return m;
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Reorder x[lo..hi] (inclusive) so that x[k] is the value of rank k,
 * nothing before it larger, nothing after it smaller (Hoare partitions
 * around a median of three, so sorted, reversed and constant runs stay
 * linear). */
static void select_rank(double *x, size_t lo, size_t hi, size_t k)
{
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < x[lo])
            swap(&x[mid], &x[lo]);
        if (x[hi] < x[lo])
            swap(&x[hi], &x[lo]);
        if (x[hi] < x[mid])
            swap(&x[hi], &x[mid]);
        double pivot = x[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                swap(&x[i], &x[j]);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* now x[lo..j] <= pivot <= x[i..hi], and j < i */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return; /* between: equal to the pivot, in place */
    }
}

void floe_pctl_compute(const floe_pctl_list *l, double *x, size_t n, double *out, double missing)
{
    /* ascending percentiles: the ranks found so far split x, so each
     * selection searches only what lies above the previous one */
    size_t from = 0;
    for (size_t q = 0; q < l->n; q++) {
        if (n == 0) {
            out[q] = missing;
            continue;
        }
        double frac = l->pct[q] / 100.0;
        double vi = (double)(n - 1) * frac;
        size_t lo, hi;
        double t;
        if (vi >= (double)(n - 1)) { /* numpy's index -1: the largest */
            lo = hi = n - 1;
            t = vi - -1.0;
        } else {
            lo = (size_t)floor(vi);
            hi = lo + 1;
            t = vi - (double)lo;
        }
        select_rank(x, from, n - 1, lo);
        from = lo;
        if (hi != lo) { /* the smallest above rank lo */
            size_t m = hi;
            for (size_t i = hi + 1; i < n; i++)
                if (x[i] < x[m])
                    m = i;
            swap(&x[hi], &x[m]);
        }
        double a = x[lo], b = x[hi];
        double d = b - a;
        if (t >= 0.5) {
            double dt = d * (1 - t);
            out[q] = b - dt;
        } else {
            double dt = d * t;
            out[q] = a + dt;
        }
    }
}
