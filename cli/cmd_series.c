/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_series.c - `floe series`: its help, its options parsed into a
 * floe_series_request, and the job (engine/job/series.h) run under MPI.
 */
#include "cli/cmd_series.h"

#include "cli/options.h"
#include "engine/job/series.h"

#include <string.h>

typedef struct series_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox (the region), --time, -o, --item, --report, -q */
    const char *points, *region, *method, *stat, *region_id, *weights, *resample,
        *resample_stat;
} series_args;

void cmd_series_help(FILE *out)
{
    fprintf(out,
            "usage: floe series SOURCE -v VAR[,VAR...] --points FILE.csv [--method nearest|bilinear]\n"
            "                   [--time T0[/T1]] [--resample P [--resample-stat LIST]]\n"
            "                   [--anomaly-from CLIM.nc] -o OUT.nc|OUT.csv [source options]\n"
            "       floe series SOURCE -v VAR[,VAR...] (--bbox W,S,E,N | --region FILE.geojson)\n"
            "                   [--stat LIST] [--weights centre|fraction] [--region-id PROP]\n"
            "                   [--time T0[/T1]] [--resample P [--resample-stat LIST]]\n"
            "                   [--anomaly-from CLIM.nc] -o OUT.nc|OUT.csv [source options]\n"
            "       mpirun -np N floe series ...\n"
            "\n"
            "Time series of the selected steps, as a CF-1.8 NetCDF-4 file (featureType\n"
            "timeSeries). Same bytes for any number of MPI ranks (ranks split the steps).\n"
            "\n"
            "At points: the CSV has one point a line, lon,lat[,id] (an optional header\n"
            "names the columns). Each point takes the cell that contains it (nearest), or\n"
            "the bilinear interpolation of the four centres around it, missing cells\n"
            "skipped and the weights renormalised. Output VAR(time, station). A point\n"
            "outside the grid gets a missing series and a warning; all outside: an error.\n"
            "\n"
            "Over a region: the box, or the GeoJSON Polygon/MultiPolygon (Feature,\n"
            "FeatureCollection). A FeatureCollection gives one series per feature\n"
            "(output VAR_STAT(time, region), region_id(region) from --region-id PROP,\n"
            "default property id, then name, then the feature's id, else its 1-based\n"
            "number; ids must be unique), every chunk read once for all of them; a\n"
            "feature with no cell has a missing series and a warning. Anything else is\n"
            "one region, output VAR_STAT(time).\n"
            "Weights (--weights): centre (default) takes the cells whose centres lie\n"
            "inside (like CDO); fraction weights each cell by the exact fraction of its\n"
            "area inside the polygon: exact in lon/lat, with the cell-area factor (as\n"
            "exactextract does), so a region smaller than a cell still has a value.\n"
            "A cell of fraction f (1 for centre) and area a: mean = sum(f a x) /\n"
            "sum(f a) (area-weighted on the sphere, like CDO's fldmean), sum = sum(f x)\n"
            "(with centre the plain sum, fldsum), min, max and count over the cells with\n"
            "f > 0; missing values are skipped; a step with no valid cell is missing\n"
            "(count 0). A polygon whose exact fractions would take more than 4e9\n"
            "clippings (columns x the rows its edges cross) is refused: simplify it.\n"
            "\n"
            "-o OUT.csv writes the same values as a tidy CSV: a header, then one row per\n"
            "time and id (time as ISO 8601 in the source calendar, the station or region\n"
            "id, one column per output), missing values empty, numbers that read back\n"
            "exactly (float32: 9 significant digits, float64: 17).\n"
            "\n"
            "--checkpoint/--resume save every batch (all points' or regions' values of\n"
            "up to 64 steps of one variable) as it completes, by the rank that computed\n"
            "it; a resume (at any rank count) reads them back and writes the same bytes.\n"
            "The checkpoint belongs to the points or region file's contents too.\n"
            "--piece I/N takes the I-th of N runs of whole time chunks of the selected\n"
            "steps, or with --piece-by variable every step of the I-th share of the\n"
            "variables (of every point or region: there is no split by region);\n"
            "`floe merge OUT` concatenates the pieces (with --resample the pieces\n"
            "keep every step and the merge resamples, so periods may span pieces).\n"
            "\n"
            "Options:\n"
            "  -v, --vars LIST      variables, comma-separated\n"
            "  --points FILE        points CSV\n"
            "  --method M           nearest (default) or bilinear (points only)\n"
            "  --bbox W,S,E,N       a longitude/latitude box region\n"
            "  --region FILE        a GeoJSON region, or regions (a FeatureCollection)\n"
            "  --region-id PROP     the features' property naming their series\n"
            "  --weights W          centre (default) or fraction (--region only)\n"
            "  --stat LIST          region: any of mean,min,max,sum,count (default mean)\n"
            "  --time T0[/T1]       ISO 8601 instant or interval, both ends inclusive\n"
            "  --resample P         per-period statistics of the series: calendar month,\n"
            "                       season (DJF, MAM, JJA, SON; December with the following\n"
            "                       January and February) or year, as CDO's monmean,\n"
            "                       seasmean, yearsum. Outputs NAME_STAT (Tair_mean at\n"
            "                       points; Rainf_mean_max: a region's mean, then its\n"
            "                       maximum over each period), cell_methods ending in\n"
            "                       \"time: STAT\". A step belongs to the period of its\n"
            "                       midpoint; partial periods at the ends of the selection\n"
            "                       are included. Time: the middle of the period; time_bnds:\n"
            "                       the period (or, for steps with intervals, the span of\n"
            "                       the steps that went in).\n"
            "  --resample-stat LIST any of mean,min,max,sum,std,count (default mean;\n"
            "                       missing values skipped, std with divisor n)\n");
    cmd_time_label_help(out);
    cmd_anomaly_help(out);
    cmd_output_help(out);
    cmd_dry_run_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
}

/* --points, --region, --method, --stat, --region-id, --weights, --resample,
 * --resample-stat */
static floe_err own_option(cmd_scan *s, void *args, int *taken)
{
    series_args *a = args;
    *taken = 1;
    if (cmd_is(s, "--points", NULL))
        return cmd_value(s, &a->points);
    if (cmd_is(s, "--region", NULL))
        return cmd_value(s, &a->region);
    if (cmd_is(s, "--method", NULL))
        return cmd_value(s, &a->method);
    if (cmd_is(s, "--stat", "--stats"))
        return cmd_value(s, &a->stat);
    if (cmd_is(s, "--region-id", NULL))
        return cmd_value(s, &a->region_id);
    if (cmd_is(s, "--weights", NULL))
        return cmd_value(s, &a->weights);
    if (cmd_is(s, "--resample", NULL))
        return cmd_value(s, &a->resample);
    if (cmd_is(s, "--resample-stat", "--resample-stats"))
        return cmd_value(s, &a->resample_stat);
    *taken = 0;
    return NULL;
}

static floe_err parse_args(int argc, char **argv, series_args *a)
{
    memset(a, 0, sizeof *a);
    FLOE_CHECK(cmd_parse(argc, argv, &a->src, &a->grid, own_option, a));
    int nwhere = !!a->points + !!a->region + !!a->grid.bbox;
    if (nwhere != 1)
        return FLOE_ERR(FLOE_EINVAL, "series: give exactly one of --points FILE, --bbox W,S,E,N "
                        "and --region FILE");
    if (a->points && a->stat)
        return FLOE_ERR(FLOE_EINVAL, "series: --stat applies to regions (--bbox, --region), "
                        "not to --points");
    if (!a->points && a->method)
        return FLOE_ERR(FLOE_EINVAL, "series: --method applies to --points only");
    if (!a->region && (a->region_id || a->weights))
        return FLOE_ERR(FLOE_EINVAL, "series: %s applies to --region FILE.geojson only",
                        a->region_id ? "--region-id" : "--weights");
    return NULL;
}

floe_err cmd_series_run(int argc, char **argv)
{
    series_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    floe_series_request req = {
        .points = a.points, .region = a.region, .method = a.method, .stat = a.stat,
        .region_id = a.region_id, .weights = a.weights,
        .resample = a.resample, .resample_stat = a.resample_stat,
    };
    cmd_job job;
    floe_err err = cmd_job_begin(argc, argv, &a.src, &a.grid, &req.job, &job);
    if (!err)
        err = floe_series_run(&job.mpi, &req); /* collective */
    return cmd_job_end(&job, err);
}
