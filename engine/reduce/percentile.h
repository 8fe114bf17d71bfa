/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/percentile.h - exact percentiles of a cell's values, as
 * numpy.nanpercentile computes them by default (method "linear", NaN
 * skipped), and their names in --stat lists ("p5", "p99.9").
 *
 * The definition, numpy's arithmetic step by step (numpy 1.22 and later,
 * lib/function_base.py: _quantile, _get_indexes, _get_gamma, _lerp), all
 * in double:
 *   q = P / 100 (P the percentile as written, parsed to the nearest double);
 *   of the n valid values sorted ascending x[0..n-1]:
 *   i = (n - 1) * q; lo = floor(i), hi = lo + 1;
 *   if i >= n - 1: lo = hi = n - 1 and t = i + 1 (numpy's index -1);
 *   else t = i - lo;
 *   d = x[hi] - x[lo]; result = t >= 0.5 ? x[hi] - d * (1 - t)
 *                                        : x[lo] + d * t.
 * Written with the same operations in the same order (no fused
 * multiply-add: see percentile.c), it gives numpy's bits. A cell with no
 * valid value has no percentile (the caller's missing value).
 *
 * Values are not kept in any order: the order statistics are found by
 * selection (O(n) expected per percentile), which is exact; only the sign
 * of a zero may differ from numpy where +0 and -0 both occur at the
 * chosen rank (they compare equal, so which one a selection returns is
 * arbitrary; numpy's own partition is no different).
 */
#ifndef FLOE_PERCENTILE_H
#define FLOE_PERCENTILE_H

#include "common/floe_error.h"

#include <stddef.h>

/* At most this many percentiles in one --stat list: each is one more
 * output variable per variable, and the job's output tables are sized by
 * it (engine/job/stats_internal.h). */
enum { FLOE_PCTL_MAX = 32 };

/* "p99.9" and "99_9" fit, with room for long decimals. */
enum { FLOE_PCTL_NAME_SIZE = 24 };

/* The percentiles of a --stat list, ascending, without repeats. */
typedef struct floe_pctl_list {
    size_t n;
    double pct[FLOE_PCTL_MAX];                    /* 0..100, as parsed */
    char name[FLOE_PCTL_MAX][FLOE_PCTL_NAME_SIZE]; /* canonical: "p5", "p99.9" */
} floe_pctl_list;

/* Whether a --stat item is meant as a percentile: 'p' and a digit. */
int floe_pctl_is_item(const char *item);
/* Add one item ("p5", "p05", "p99.90") to the list, kept ascending. The
 * canonical name drops leading zeros of the integer part and trailing
 * zeros of the decimals ("p05" is "p5", "p99.90" is "p99.9", "p50.0" is
 * "p50"); repeats (by that name) and values outside 0..100 are
 * FLOE_EINVAL naming the item, as are more than FLOE_PCTL_MAX. */
floe_err floe_pctl_list_add(floe_pctl_list *l, const char *item);
/* The netCDF-safe suffix of percentile k: "p99.9" -> "p99_9". */
void floe_pctl_var_suffix(const floe_pctl_list *l, size_t k, char *buf, size_t size);
/* "5th", "22nd", "99.9th": the ordinal for long_name attributes. */
void floe_pctl_ordinal(const floe_pctl_list *l, size_t k, char *buf, size_t size);

/* A --stat list ("mean,p5,p95") to a mask of the statistics, restricted
 * to `allowed` as floe_stat_parse_list (engine/reduce/accum.h) does, and
 * its percentiles (*pctl, emptied first); the mask is 0 for a list of
 * percentiles only. Implemented in stat_names.c. */
floe_err floe_stat_parse_list_pctl(const char *text, unsigned allowed, unsigned *mask,
                                   floe_pctl_list *pctl);

/* Copy the valid (non-NaN) values among v[0..n) (float or double) to
 * out, in double; returns how many. */
size_t floe_pctl_valid_f32(const float *v, size_t n, double *out);
size_t floe_pctl_valid_f64(const double *v, size_t n, double *out);

/* The percentiles l->pct of the n values x (no NaN; reordered in place)
 * into out[0..l->n); `missing` for every one where n is 0. */
void floe_pctl_compute(const floe_pctl_list *l, double *x, size_t n, double *out, double missing);

#endif
