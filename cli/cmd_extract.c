/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_extract.c - `floe extract`: its help, its options parsed into a
 * floe_extract_request, and the job (engine/job/extract.h) run under MPI.
 */
#include "cli/cmd_extract.h"

#include "cli/options.h"
#include "engine/job/extract.h"
#include "engine/job/stats.h"

#include <stdlib.h>
#include <string.h>
typedef struct extract_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox, --time, -o, --item, --report, -q */
    int keep_packing;
    const char *resample, *resample_stat;
} extract_args;

void cmd_extract_help(FILE *out)
{
    fprintf(out,
            "usage: floe extract SOURCE -v VAR[,VAR...] [--bbox W,S,E,N] [--time T0[/T1]]\n"
            "                    [--resample P [--resample-stat LIST]] [--anomaly-from CLIM.nc]\n"
            "                    -o OUT.nc [source options]\n"
            "       mpirun -np N floe extract ...\n"
            "\n"
            "Writes the cells whose centres lie in the bbox (degrees, STAC order, edges\n"
            "inclusive) and the time steps in the interval (ISO 8601 instant or T0/T1,\n"
            "both ends inclusive; a bare date covers its whole day, as in xarray) as a\n"
            "CF-1.8 NetCDF-4 file with the source coordinates and attributes. Without\n"
            "--bbox or --time, all cells or all steps. OUT.nc appears only when it is\n"
            "complete. Under mpirun the ranks read in\n"
            "parallel and rank 0 writes; the file is the same for any rank count.\n"
            "\n"
            "Values keep their type (bool as ubyte, float16 as float32), bit for bit.\n"
            "Packed variables (scale_factor/add_offset) are written unpacked, in the\n"
            "unpacked type (float32 for 8/16-bit data with float32 attributes, else\n"
            "float64), missing values as NaN; --keep-packing writes the packed\n"
            "integers and their attributes as stored instead.\n"
            "\n"
            "--checkpoint/--resume save every batch (whole time chunks of one variable,\n"
            "up to 128 MiB or 512 chunks) as it completes, by the rank that read it; a\n"
            "resume (at any rank count) reads them back and writes the same bytes.\n"
            "--piece I/N takes the I-th of N runs of whole time chunks of the selected\n"
            "steps (as even as possible), or with --piece-by variable every step of the\n"
            "I-th share of the variables; `floe merge OUT` concatenates the pieces.\n"
            "\n"
            "Options:\n"
            "  -v, --vars LIST      variables to extract, comma-separated\n"
            "  --bbox W,S,E,N       longitude/latitude box\n"
            "  --time T0[/T1]       e.g. 2001-01-16 or 2001-01-01/2001-01-31T12:00\n"
            "  --keep-packing       write packed variables as stored (integers with\n"
            "                       scale_factor/add_offset), not unpacked\n"
            "  --resample P         per-cell statistics of the steps of each calendar\n"
            "                       month, season (DJF, MAM, JJA, SON; December with the\n"
            "                       following January and February) or year, as CDO's\n"
            "                       monmean, seasmean, yearmean: variables VAR_STAT (as\n"
            "                       floe stats), one step per period, time in the middle\n"
            "                       of the period, time_bnds the period (or, for steps\n"
            "                       with intervals, the span of the steps that went in).\n"
            "                       A step belongs to the period of its midpoint; partial\n"
            "                       periods at the ends of the selection are included.\n"
            "                       Same bytes for any number of MPI ranks.\n"
            "  --resample-stat LIST any of mean,min,max,sum,std,count and percentiles pNN\n"
            "                       (exact, as `floe stats --help` says; default mean)\n");
    cmd_time_label_help(out);
    cmd_anomaly_help(out);
    cmd_output_help(out);
    cmd_dry_run_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
}

static floe_err own_option(cmd_scan *s, void *args, int *taken)
{
    extract_args *a = args;
    *taken = 1;
    if (cmd_is(s, "--resample", NULL))
        return cmd_value(s, &a->resample);
    if (cmd_is(s, "--resample-stat", "--resample-stats"))
        return cmd_value(s, &a->resample_stat);
    *taken = cmd_is(s, "--keep-packing", NULL);
    if (*taken)
        a->keep_packing = 1;
    return NULL;
}

static floe_err parse_args(int argc, char **argv, extract_args *a)
{
    memset(a, 0, sizeof *a);
    FLOE_CHECK(cmd_parse(argc, argv, &a->src, &a->grid, own_option, a));
    if (a->resample_stat && !a->resample)
        return FLOE_ERR(FLOE_EINVAL, "extract: --resample-stat needs --resample month|season|year");
    if (a->resample && a->keep_packing)
        return FLOE_ERR(FLOE_EINVAL, "extract: --keep-packing writes values as stored; "
                        "--resample writes statistics of the unpacked values");
    return NULL;
}

/* extract --resample: the stats job grouped by calendar periods
 * (engine/job/stats.h), so the bytes do not depend on the rank count. */
static floe_err run_resampled(int argc, char **argv, extract_args *a)
{
    floe_stats_request req;
    memset(&req, 0, sizeof req);
    req.stat = a->resample_stat;
    req.resample = a->resample;
    req.tile_memory = cmd_tile_memory();
    req.no_raw_chunks = getenv("FLOE_NO_RAW_CHUNKS") != NULL;
    cmd_job job;
    floe_err err = cmd_job_begin(argc, argv, &a->src, &a->grid, &req.job, &job);
    if (!err)
        err = floe_stats_run(&job.mpi, &req); /* collective */
    return cmd_job_end(&job, err);
}

floe_err cmd_extract_run(int argc, char **argv)
{
    extract_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    if (a.resample)
        return run_resampled(argc, argv, &a);
    floe_extract_request req;
    memset(&req, 0, sizeof req);
    req.keep_packing = a.keep_packing;
    cmd_job job;
    floe_err err = cmd_job_begin(argc, argv, &a.src, &a.grid, &req.job, &job);
    if (!err)
        err = floe_extract_run(&job.mpi, &req); /* collective */
    return cmd_job_end(&job, err);
}
