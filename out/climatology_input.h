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
 * decoded with its _FillValue/missing_value (and scale_factor/add_offset)
 * into double, NaN where missing. The file is read whole, once. */
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
} floe_clim_input;

/* Open path and read its time, lat and lon. Errors name the file and
 * the problem (not NetCDF, no time/lat/lon, times that are not CF). */
floe_err floe_clim_input_open(const char *path, floe_clim_input *c);
/* var's values (VAR_mean else VAR): [nt][ny][nx] doubles, NaN where
 * missing, owned by the caller. */
floe_err floe_clim_input_read(const floe_clim_input *c, const char *var, double **values);
void floe_clim_input_free(floe_clim_input *c);
/* "month", "season", "day of year". */
const char *floe_clim_input_kind_name(floe_clim_input_kind kind);

#endif
