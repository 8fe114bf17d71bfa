/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/accum.c - one accumulator (accum.h): its arrays, the
 * per-value kernels that add a time step (Welford), Chan's merge of two
 * accumulators and the results per statistic. The per-value loops are why
 * this file stands apart: they are written for the vectoriser, which GCC
 * runs fully at -O3 (the default Release build, CMakeLists.txt). Names of
 * the statistics: stat_names.c; the wire form:
 * accum_serial.c; the canonical merge order: merge_tree.c. */
#include "engine/reduce/accum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* calloc (which checks n * size for overflow) that never returns NULL
 * for zero cells. */
static void *alloc_array(size_t n, size_t size)
{
    if (n == 0)
        n = 1; /* a valid pointer even for zero cells */
    return calloc(n, size);
}

floe_err floe_accum_init(floe_accum *a, size_t ncells, unsigned stats)
{
    memset(a, 0, sizeof *a);
    if ((stats & FLOE_STAT_ALL) == 0 || (stats & ~(unsigned)FLOE_ACCUM_MASK_ALL))
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator: bad stats mask 0x%x", stats);
    a->ncells = ncells;
    a->stats = stats;
    int ok = (a->count = alloc_array(ncells, sizeof *a->count)) != NULL;
    if (stats & (FLOE_STAT_MEAN | FLOE_STAT_STD))
        ok = ok && (a->mean = alloc_array(ncells, sizeof *a->mean)) != NULL;
    if (stats & FLOE_STAT_STD)
        ok = ok && (a->m2 = alloc_array(ncells, sizeof *a->m2)) != NULL;
    int f64 = (stats & FLOE_ACCUM_F64) != 0;
    if ((stats & FLOE_STAT_MIN) && f64)
        ok = ok && (a->dmin = alloc_array(ncells, sizeof *a->dmin)) != NULL;
    else if (stats & FLOE_STAT_MIN)
        ok = ok && (a->min = alloc_array(ncells, sizeof *a->min)) != NULL;
    if ((stats & FLOE_STAT_MAX) && f64)
        ok = ok && (a->dmax = alloc_array(ncells, sizeof *a->dmax)) != NULL;
    else if (stats & FLOE_STAT_MAX)
        ok = ok && (a->max = alloc_array(ncells, sizeof *a->max)) != NULL;
    if (stats & FLOE_STAT_SUM)
        ok = ok && (a->sum = alloc_array(ncells, sizeof *a->sum)) != NULL;
    if (!ok) {
        floe_accum_free(a);
        return FLOE_ERR(FLOE_ENOMEM, "accumulator of %zu cells: out of memory", ncells);
    }
    floe_accum_reset(a);
    return NULL;
}

size_t floe_accum_cell_bytes(unsigned stats)
{
    size_t n = sizeof(uint32_t);
    size_t minmax = stats & FLOE_ACCUM_F64 ? sizeof(double) : sizeof(float);
    if (stats & (FLOE_STAT_MEAN | FLOE_STAT_STD))
        n += sizeof(double);
    if (stats & FLOE_STAT_STD)
        n += sizeof(double);
    if (stats & FLOE_STAT_MIN)
        n += minmax;
    if (stats & FLOE_STAT_MAX)
        n += minmax;
    if (stats & FLOE_STAT_SUM)
        n += sizeof(double);
    return n;
}

void floe_accum_free(floe_accum *a)
{
    free(a->count);
    free(a->mean);
    free(a->m2);
    free(a->min);
    free(a->max);
    free(a->dmin);
    free(a->dmax);
    free(a->sum);
    memset(a, 0, sizeof *a);
}

void floe_accum_reset(floe_accum *a)
{
    size_t n = a->ncells;
    a->mean_as_sum = 0;
    memset(a->count, 0, n * sizeof *a->count);
    if (a->mean)
        memset(a->mean, 0, n * sizeof *a->mean);
    if (a->m2)
        memset(a->m2, 0, n * sizeof *a->m2);
    if (a->sum)
        memset(a->sum, 0, n * sizeof *a->sum);
    for (size_t i = 0; a->min && i < n; i++)
        a->min[i] = INFINITY;
    for (size_t i = 0; a->max && i < n; i++)
        a->max[i] = -INFINITY;
    for (size_t i = 0; a->dmin && i < n; i++)
        a->dmin[i] = INFINITY;
    for (size_t i = 0; a->dmax && i < n; i++)
        a->dmax[i] = -INFINITY;
}

/* The per-value update, written without branches so the compiler can
 * vectorise it (at -O3, the Release build): a missing value (NaN) leaves
 * every accumulator as it was through selects, and min/max need no test
 * at all (a comparison with NaN is false). For a valid value the
 * arithmetic is exactly Welford's (mean += d / n, m2 += d * (x - mean)),
 * so the bits do not depend on the form of the loop. The flags are
 * compile-time constants in each instantiation below. */
static inline __attribute__((always_inline)) void
add_cells_kernel(uint32_t *restrict count, double *restrict mean, double *restrict m2,
                 float *restrict mn, float *restrict mx, double *restrict sum,
                 const float *restrict values, size_t n, int has_mean, int has_m2,
                 int has_min, int has_max, int has_sum, int mean_as_sum)
{
    for (size_t i = 0; i < n; i++) {
        float x = values[i];
        int valid = x == x;
        uint32_t c = count[i] + (uint32_t)valid;
        count[i] = c;
        if (mean_as_sum) {
            mean[i] = valid ? mean[i] + (double)x : mean[i];
        } else if (has_mean) {
            double xd = valid ? (double)x : mean[i];
            double d = xd - mean[i];
            double cd = c ? (double)c : 1.0;
            double nm = mean[i] + d / cd;
            if (has_m2)
                m2[i] = valid ? m2[i] + d * (xd - nm) : m2[i];
            mean[i] = valid ? nm : mean[i];
        }
        if (has_min)
            mn[i] = x < mn[i] ? x : mn[i];
        if (has_max)
            mx[i] = x > mx[i] ? x : mx[i];
        if (has_sum)
            sum[i] = valid ? sum[i] + (double)x : sum[i];
    }
}

/* The same for double values (FLOE_ACCUM_F64), min/max in double: the
 * same arithmetic, without the widening. */
static inline __attribute__((always_inline)) void
add_cells_kernel_f64(uint32_t *restrict count, double *restrict mean, double *restrict m2,
                     double *restrict mn, double *restrict mx, double *restrict sum,
                     const double *restrict values, size_t n, int has_mean, int has_m2,
                     int has_min, int has_max, int has_sum, int mean_as_sum)
{
    for (size_t i = 0; i < n; i++) {
        double x = values[i];
        int valid = x == x;
        uint32_t c = count[i] + (uint32_t)valid;
        count[i] = c;
        if (mean_as_sum) {
            mean[i] = valid ? mean[i] + x : mean[i];
        } else if (has_mean) {
            double xd = valid ? x : mean[i];
            double d = xd - mean[i];
            double cd = c ? (double)c : 1.0;
            double nm = mean[i] + d / cd;
            if (has_m2)
                m2[i] = valid ? m2[i] + d * (xd - nm) : m2[i];
            mean[i] = valid ? nm : mean[i];
        }
        if (has_min)
            mn[i] = x < mn[i] ? x : mn[i];
        if (has_max)
            mx[i] = x > mx[i] ? x : mx[i];
        if (has_sum)
            sum[i] = valid ? sum[i] + x : sum[i];
    }
}

static floe_err check_cells(const floe_accum *a, size_t first, size_t n, int f64)
{
    if (first > a->ncells || n > a->ncells - first)
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator: cells [%zu, %zu) outside its %zu cells", first,
                        first + n, a->ncells);
    if (f64 != ((a->stats & FLOE_ACCUM_F64) != 0))
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator of %s values given %s values",
                        f64 ? "float" : "double", f64 ? "double" : "float");
    return NULL;
}

floe_err floe_accum_add_cells_f64(floe_accum *a, size_t first, const double *values, size_t n)
{
    FLOE_CHECK(check_cells(a, first, n, 1));
    uint32_t *count = a->count + first;
    double *mean = a->mean ? a->mean + first : NULL;
    double *m2 = a->m2 ? a->m2 + first : NULL;
    double *mn = a->dmin ? a->dmin + first : NULL;
    double *mx = a->dmax ? a->dmax + first : NULL;
    double *sum = a->sum ? a->sum + first : NULL;
    /* the common masks of float64 sources get their own loop */
    unsigned m = a->stats & (unsigned)FLOE_STAT_ALL & ~(unsigned)FLOE_STAT_COUNT;
    int ms = a->mean_as_sum;
    if (ms && m == FLOE_STAT_MEAN)
        add_cells_kernel_f64(count, mean, m2, mn, mx, sum, values, n, 1, 0, 0, 0, 0, 1);
    else if (ms)
        add_cells_kernel_f64(count, mean, m2, mn, mx, sum, values, n, 1, 0, mn != NULL,
                             mx != NULL, sum != NULL, 1);
    else if (m == (FLOE_STAT_MEAN | FLOE_STAT_STD) || m == FLOE_STAT_STD)
        add_cells_kernel_f64(count, mean, m2, mn, mx, sum, values, n, 1, 1, 0, 0, 0, 0);
    else
        add_cells_kernel_f64(count, mean, m2, mn, mx, sum, values, n, mean != NULL, m2 != NULL,
                             mn != NULL, mx != NULL, sum != NULL, 0);
    return NULL;
}

floe_err floe_accum_add_cells(floe_accum *a, size_t first, const float *values, size_t n)
{
    FLOE_CHECK(check_cells(a, first, n, 0));
    uint32_t *count = a->count + first;
    double *mean = a->mean ? a->mean + first : NULL;
    double *m2 = a->m2 ? a->m2 + first : NULL;
    float *mn = a->min ? a->min + first : NULL;
    float *mx = a->max ? a->max + first : NULL;
    double *sum = a->sum ? a->sum + first : NULL;
    /* the common masks get their own loop; any other goes through the
     * general one (same arithmetic) */
    unsigned m = a->stats & ~(unsigned)FLOE_STAT_COUNT;
    int ms = a->mean_as_sum;
    if (ms && m == (FLOE_STAT_MEAN | FLOE_STAT_MIN | FLOE_STAT_MAX))
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, 1, 0, 1, 1, 0, 1);
    else if (ms && m == FLOE_STAT_MEAN)
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, 1, 0, 0, 0, 0, 1);
    else if (ms)
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, 1, 0, mn != NULL, mx != NULL,
                         sum != NULL, 1);
    else if (m == (FLOE_STAT_MEAN | FLOE_STAT_MIN | FLOE_STAT_MAX))
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, 1, 0, 1, 1, 0, 0);
    else if (m == FLOE_STAT_MEAN)
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, 1, 0, 0, 0, 0, 0);
    else if (m == (FLOE_STAT_MEAN | FLOE_STAT_STD) || m == FLOE_STAT_STD)
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, 1, 1, 0, 0, 0, 0);
    else
        add_cells_kernel(count, mean, m2, mn, mx, sum, values, n, mean != NULL, m2 != NULL,
                         mn != NULL, mx != NULL, sum != NULL, 0);
    return NULL;
}

floe_err floe_accum_add_step(floe_accum *a, const float *values, size_t ncells)
{
    if (ncells != a->ncells)
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator of %zu cells given a step of %zu values",
                        a->ncells, ncells);
    return floe_accum_add_cells(a, 0, values, ncells);
}

floe_err floe_accum_merge(floe_accum *into, const floe_accum *from)
{
    if (into->mean_as_sum || from->mean_as_sum)
        return FLOE_ERR(FLOE_EINTERNAL, "merging a block accumulator that is still filling");
    if (into->ncells != from->ncells || into->stats != from->stats)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "merging accumulators of %zu cells (stats 0x%x) and %zu cells (stats 0x%x)",
                        into->ncells, into->stats, from->ncells, from->stats);
    for (size_t i = 0; i < into->ncells; i++) {
        uint32_t nb = from->count[i];
        if (nb == 0)
            continue;
        uint32_t na = into->count[i];
        into->count[i] = na + nb;
        if (na == 0) { /* an exact copy keeps merging with empty an identity */
            if (into->mean)
                into->mean[i] = from->mean[i];
            if (into->m2)
                into->m2[i] = from->m2[i];
            if (into->min)
                into->min[i] = from->min[i];
            if (into->max)
                into->max[i] = from->max[i];
            if (into->dmin)
                into->dmin[i] = from->dmin[i];
            if (into->dmax)
                into->dmax[i] = from->dmax[i];
            if (into->sum)
                into->sum[i] = from->sum[i];
            continue;
        }
        if (into->mean) {
            double n = (double)na + (double)nb;
            double d = from->mean[i] - into->mean[i];
            double fb = (double)nb / n;
            into->mean[i] += d * fb;
            if (into->m2)
                into->m2[i] += from->m2[i] + d * d * ((double)na * fb);
        }
        if (into->min && from->min[i] < into->min[i])
            into->min[i] = from->min[i];
        if (into->max && from->max[i] > into->max[i])
            into->max[i] = from->max[i];
        if (into->dmin && from->dmin[i] < into->dmin[i])
            into->dmin[i] = from->dmin[i];
        if (into->dmax && from->dmax[i] > into->dmax[i])
            into->dmax[i] = from->dmax[i];
        if (into->sum)
            into->sum[i] += from->sum[i];
    }
    return NULL;
}

/* Checks common to both result functions (either takes either kind). */
static floe_err check_result(const floe_accum *a, unsigned stat)
{
    const char *name = floe_stat_name(stat);
    if (a->mean_as_sum)
        return FLOE_ERR(FLOE_EINTERNAL, "result of a block accumulator that is still filling");
    if (!name || !(a->stats & stat))
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator (stats 0x%x) asked for statistic 0x%x",
                        a->stats, stat);
    return NULL;
}

/* Cell i's statistic, in double (either kind of accumulator). Every
 * float32 result is this value rounded once: the same as computing it in
 * float, since min and max of a float accumulator are floats already. */
static double cell_result(const floe_accum *a, unsigned stat, size_t i, double missing)
{
    uint32_t n = a->count[i];
    if (stat == FLOE_STAT_COUNT)
        return (double)n;
    if (n == 0)
        return missing;
    switch (stat) {
    case FLOE_STAT_MEAN: return a->mean[i];
    case FLOE_STAT_MIN: return a->dmin ? a->dmin[i] : (double)a->min[i];
    case FLOE_STAT_MAX: return a->dmax ? a->dmax[i] : (double)a->max[i];
    case FLOE_STAT_SUM: return a->sum[i];
    default: /* STD */ return sqrt(fmax(a->m2[i], 0.0) / n);
    }
}

floe_err floe_accum_result(const floe_accum *a, unsigned stat, float *out, float missing)
{
    FLOE_CHECK(check_result(a, stat));
    for (size_t i = 0; i < a->ncells; i++)
        out[i] = (float)cell_result(a, stat, i, missing);
    return NULL;
}

floe_err floe_accum_result_f64(const floe_accum *a, unsigned stat, double *out, double missing)
{
    FLOE_CHECK(check_result(a, stat));
    for (size_t i = 0; i < a->ncells; i++)
        out[i] = cell_result(a, stat, i, missing);
    return NULL;
}
