/* SPDX-License-Identifier: Apache-2.0 */
/* out/climatology_input.h - a climatology read back from a NetCDF file
 * (`--anomaly-from CLIM.nc`): floe climatology's output, or CDO's
 * ymonmean, yseasmean, ydaymean (and their ymon*, yseas*, yday* kin).
 *
 * What the file groups by (month, season or day of year) is recognised
 * from the file itself:
 *   1. its words: floe's title ("Monthly climatology", "Seasonal
 *      climatology", "Day-of-year climatology") or the latest CDO
 *      operator in its history (ymon*, yseas*, yday*);
 *   2. else its time axis: more than 12 steps, or two steps in one
 *      calendar month, is by day of year; otherwise by month.
 * Each step's group is the month, season or month and day of its time
 * coordinate (floe's: the middle of the group's first occurrence; CDO's:
 * the last time stamp of the group), in the file's own calendar.
 *
 * Variables: VAR_mean (floe's naming) else VAR (CDO's), (time, lat, lon),
 * decoded with its _FillValue/missing_value (and scale_factor/add_offset),
 * NaN where missing. The file stays open while the job runs; its values
 * are read as hyperslabs, only those a rank's work touches (a file's
 * whole climatology may be far larger than a rank's memory): as float
 * when stored as plain float (widened later, exactly: the same doubles as
 * reading them as double), else as double. */
#ifndef FLOE_OUT_CLIMATOLOGY_INPUT_H
#define FLOE_OUT_CLIMATOLOGY_INPUT_H

#include "common/floe_error.h"
#include "cf/time.h"

#include <stddef.h>

typedef enum floe_clim_input_kind {
    FLOE_CLIM_INPUT_MONTH,
    FLOE_CLIM_INPUT_SEASON,
    FLOE_CLIM_INPUT_DAYOFYEAR,
} floe_clim_input_kind;

typedef struct floe_clim_input {
    char *path;
    floe_clim_input_kind kind;
    cf_calendar calendar;
    size_t nt, ny, nx;
    cf_datetime *when;   /* [nt]: each step's date (its group) */
    double *lat, *lon;   /* [ny], [nx] */
    int nc;              /* the open file; -1: none */
} floe_clim_input;

/* NetCDF's longest name (NC_MAX_NAME) and its NUL */
enum { FLOE_CLIM_NAME_LEN = 256 + 1 };

/* One variable of the file and how its stored values decode. */
typedef struct floe_clim_var {
    int varid;
    char name[FLOE_CLIM_NAME_LEN]; /* VAR_mean or VAR, for errors */
    int f32;             /* plain float (no scale/offset): read as float */
    int has_fill, has_miss;
    double fill, miss, scale, offset;
} floe_clim_var;

/* Open path and read its time, lat and lon. Errors name the file and
 * the problem (not NetCDF, no time/lat/lon, times that are not CF). */
floe_err floe_clim_input_open(const char *path, floe_clim_input *c);
/* Find var (VAR_mean else VAR) and check it is time x lat x lon. */
floe_err floe_clim_input_var(const floe_clim_input *c, const char *var, floe_clim_var *out);
/* The hyperslab start[3], count[3] (time, lat, lon) of cv, decoded, NaN
 * where missing, into out: float when cv->f32, else double. */
floe_err floe_clim_input_read_box(const floe_clim_input *c, const floe_clim_var *cv,
                                  const size_t start[3], const size_t count[3], void *out);
void floe_clim_input_free(floe_clim_input *c);
/* "month", "season", "day of year". */
const char *floe_clim_input_kind_name(floe_clim_input_kind kind);

#endif
