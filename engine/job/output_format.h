/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/output_format.h - what a job writes, told by the output's
 * name: NetCDF-4 (.nc, .nc4) for every job, a tidy CSV (.csv,
 * out/series_csv.h) for series only. Any other name is refused before
 * anything is opened (a file named out.csv holding HDF5 would mislead
 * every tool that opens it). Extensions compare case-insensitively. */
#ifndef FLOE_JOB_OUTPUT_FORMAT_H
#define FLOE_JOB_OUTPUT_FORMAT_H

#include "common/floe_error.h"

typedef enum job_output_format {
    JOB_OUTPUT_NETCDF,
    JOB_OUTPUT_CSV,
} job_output_format;

/* The format of `path` for `command` ("extract", "series", "stats",
 * "climatology"); FLOE_EINVAL naming the path and what is written. */
floe_err job_output_format_of(const char *command, const char *path, job_output_format *fmt);

#endif
