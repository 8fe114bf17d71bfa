/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/output_format.c - see output_format.h. */
#include "engine/job/output_format.h"

#include <string.h>
#include <strings.h>

/* Does the file name (after the last '/') end in ext? */
static int has_extension(const char *path, const char *ext)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base), m = strlen(ext);
    return n > m && !strcasecmp(base + n - m, ext);
}

floe_err job_output_format_of(const char *command, const char *path, job_output_format *fmt)
{
    int series = !strcmp(command, "series");
    *fmt = JOB_OUTPUT_NETCDF;
    if (has_extension(path, ".nc") || has_extension(path, ".nc4"))
        return NULL;
    if (has_extension(path, ".csv")) {
        if (!series)
            return FLOE_ERR(FLOE_EINVAL, "%s: -o %s: CSV is written by series only; %s writes "
                            "NetCDF-4 (.nc, .nc4)", command, path, command);
        *fmt = JOB_OUTPUT_CSV;
        return NULL;
    }
    return FLOE_ERR(FLOE_EINVAL, "%s: -o %s: name the output .nc or .nc4 (NetCDF-4)%s", command,
                    path, series ? " or .csv (a tidy CSV)" : "");
}
