/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_stats.c - `floe stats` and `floe climatology`: their help, their
 * options parsed into a floe_stats_request, and the job
 * (engine/job/stats.h) run under MPI.
 */
#include "cli/cmd_stats.h"

#include "cli/options.h"
#include "engine/job/stats.h"

#include <stdlib.h>
#include <string.h>

typedef struct stats_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox, --time, -o, --item, -q */
    const char *stat;
    const char *by;     /* climatology: month, season, dayofyear */
    int climatology;
} stats_args;

/* The settings stats and climatology take from the environment (read by
 * cmd_stats_run; rank 0's values hold for every rank). */
static void stats_env_help(FILE *out)
{
    fprintf(out,
            "\n"
            "Environment (tuning; rank 0's values hold for every rank):\n"
            "  FLOE_TILE_MEMORY     bytes for one tile's accumulators and statistics per\n"
            "                       rank (default 1 GiB), and with percentiles its values\n"
            "                       (cells x steps x 4 or 8 bytes); tiles that need more are\n"
            "                       cut into bands of rows: the same result, other memory\n"
            "                       and speed (an error if one row does not fit)\n"
            "  FLOE_CHECKPOINT_SECONDS\n"
            "                       with --checkpoint, --resume, --piece: seconds between a\n"
            "                       rank's part-way saves of a long unit (default 60; 0: at\n"
            "                       every block of 32 steps)\n"
            "  FLOE_NO_RAW_CHUNKS   when set (any value), rank 0 compresses every output\n"
            "                       chunk itself instead of each rank its own tiles' (to\n"
            "                       compare the two paths; the same bytes)\n");
}

/* The percentiles paragraph of both commands' help. */
static void pctl_help(FILE *out)
{
    fprintf(out,
            "Percentiles: pNN or pNN.N (p0 to p100, e.g. p5,p50,p95,p99.9; at most 32)\n"
            "mix freely with the other statistics and are exact: numpy.nanpercentile's\n"
            "default (method \"linear\": with the n valid values sorted x[0..n-1],\n"
            "i = (n-1)*P/100, interpolated between x[floor(i)] and the next), computed\n"
            "in double with numpy's arithmetic and rounded once to the output type.\n"
            "Written as VAR_pNN (a decimal point becomes '_': Tair_p99_9) with a\n"
            "long_name such as \"5th percentile of Tair ...\" and no cell_methods (CF\n"
            "has no percentile method). Every value of a tile is kept: tiles are cut\n"
            "into bands of rows by FLOE_TILE_MEMORY, and each rank computes whole tiles.\n"
            "\n");
}

void cmd_climatology_help(FILE *out)
{
    fprintf(out,
            "usage: floe climatology SOURCE -v VAR[,VAR...] --by month|season|dayofyear\n"
            "                        [--stat LIST] [--bbox W,S,E,N] [--time T0[/T1]]\n"
            "                        [--anomaly-from CLIM.nc] -o OUT.nc [source options]\n"
            "       mpirun -np N floe climatology ...\n"
            "\n"
            "Per-cell statistics of the steps of each calendar month, season (DJF, MAM,\n"
            "JJA, SON; December joins the following January and February) or day of\n"
            "year (CDO's ydaymean grouping: month and day, 29 February its own group),\n"
            "grouped by the steps' stamps, or by the middle of their spans when they\n"
            "are intervals (--time-label). Written as CF\n"
            "NetCDF-4 variables VAR_STAT over a time axis of the groups present, with\n"
            "climatology_bounds and cell_methods \"time: mean within years time: mean\n"
            "over years\". Same bytes for any number of MPI ranks.\n"
            "\n"
            "\n");
    pctl_help(out);
    fprintf(out,
            "Options:\n"
            "  --by GROUPING        month, season or dayofyear (required)\n"
            "  -v, --vars LIST      variables, comma-separated\n"
            "  --stat LIST          any of mean,std,count,min,max,sum and percentiles pNN\n"
            "                       (default mean,std,count)\n"
            "  --bbox W,S,E,N       longitude/latitude box (cell centres, edges inclusive)\n"
            "  --time T0[/T1]       ISO 8601 instant or interval, both ends inclusive\n");
    cmd_time_label_help(out);
    cmd_anomaly_help(out);
    cmd_output_help(out);
    cmd_dry_run_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
    stats_env_help(out);
}

void cmd_stats_help(FILE *out)
{
    fprintf(out,
            "usage: floe stats SOURCE -v VAR[,VAR...] [--stat LIST] [--bbox W,S,E,N]\n"
            "                  [--time T0[/T1]] [--anomaly-from CLIM.nc] -o OUT.nc [source options]\n"
            "       mpirun -np N floe stats ...\n"
            "\n"
            "Per-cell statistics over the selected time steps, written as CF NetCDF-4\n"
            "variables VAR_STAT (e.g. Tair_mean) with time bounds and cell_methods.\n"
            "Missing values (_FillValue, missing_value) are skipped; cells without any\n"
            "valid value are missing (count: 0). std is the population standard\n"
            "deviation (divisor n, like CDO's timstd). The result is the same, bit for\n"
            "bit, for any number of MPI ranks.\n"
            "\n"
            "\n");
    pctl_help(out);
    fprintf(out,
            "Options:\n"
            "  -v, --vars LIST      variables, comma-separated\n"
            "  --stat LIST          any of mean,min,max,sum,std,count and percentiles pNN\n"
            "                       (p5,p95,p99.9; default mean)\n"
            "  --bbox W,S,E,N       longitude/latitude box (cell centres, edges inclusive)\n"
            "  --time T0[/T1]       ISO 8601 instant or interval, both ends inclusive\n");
    cmd_time_label_help(out);
    cmd_anomaly_help(out);
    cmd_output_help(out);
    cmd_dry_run_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
    stats_env_help(out);
}

/* --stat; climatology: --by */
static floe_err own_option(cmd_scan *s, void *args, int *taken)
{
    stats_args *a = args;
    *taken = 1;
    if (cmd_is(s, "--stat", "--stats"))
        return cmd_value(s, &a->stat);
    if (a->climatology && cmd_is(s, "--by", NULL))
        return cmd_value(s, &a->by);
    *taken = 0;
    return NULL;
}

static floe_err parse_args(int argc, char **argv, stats_args *a)
{
    memset(a, 0, sizeof *a);
    a->climatology = !strcmp(argv[0], "climatology");
    FLOE_CHECK(cmd_parse(argc, argv, &a->src, &a->grid, own_option, a));
    if (a->climatology && !a->by)
        return FLOE_ERR(FLOE_EINVAL, "climatology: give the grouping with --by "
                        "month|season|dayofyear");
    return NULL;
}

floe_err cmd_climatology_run(int argc, char **argv)
{
    return cmd_stats_run(argc, argv); /* argv[0] tells them apart */
}

floe_err cmd_stats_run(int argc, char **argv)
{
    stats_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    floe_stats_request req = {
        .stat = a.stat, .climatology = a.climatology, .by = a.by,
        .tile_memory = cmd_tile_memory(), .no_raw_chunks = getenv("FLOE_NO_RAW_CHUNKS") != NULL,
    };
    cmd_job job;
    floe_err err = cmd_job_begin(argc, argv, &a.src, &a.grid, &req.job, &job);
    if (!err)
        err = floe_stats_run(&job.mpi, &req); /* collective */
    return cmd_job_end(&job, err);
}
