/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stat_types.h - the precision of a source's statistics, shared
 * by stats/climatology and series (issue #12): computed in double always;
 * the values are read as float when they decode to float32 (float32 and
 * float16 sources, 8/16-bit data packed into float32), as double
 * otherwise; written as float32 for float32/float16 sources and 8/16-bit
 * packed data (their precision), as float64 for every other source
 * (integers, float64, 32/64-bit packed data). Not for use outside
 * engine/job/. */
#ifndef FLOE_JOB_STAT_TYPES_H
#define FLOE_JOB_STAT_TYPES_H

#include "cf/decode.h"
#include "dataset/dataset.h"

/* *in64: the values of `a` (decoded by cf) are double; *out64: its
 * statistics are written as float64. */
static inline void job_stat_types(const cf_decoder *cf, const floe_array *a, int *in64, int *out64)
{
    zarr_dtype ut = cf_unpacked_type(cf);
    *in64 = ut != ZARR_FLOAT32 && ut != ZARR_FLOAT16;
    *out64 = *in64 && !(cf->scaled && a->itemsize <= 2);
}

#endif
