/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_extract.c - `floe extract`: its help, its options parsed into a
 * floe_extract_request, and the job (engine/job/extract.h) run under MPI.
 */
#include "cli/cmd_extract.h"

#include "cli/options.h"
#include "engine/job/extract.h"

#include <string.h>
typedef struct extract_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox, --time, -o, --item, --report, -q */
    int keep_packing;
} extract_args;

void cmd_extract_help(FILE *out)
{
    fprintf(out,
            "usage: floe extract SOURCE -v VAR[,VAR...] [--bbox W,S,E,N] [--time T0[/T1]]\n"
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
            "Options:\n"
            "  -v, --vars LIST      variables to extract, comma-separated\n"
            "  --bbox W,S,E,N       longitude/latitude box\n"
            "  --time T0[/T1]       e.g. 2001-01-16 or 2001-01-01/2001-01-31T12:00\n"
            "  --keep-packing       write packed variables as stored (integers with\n"
            "                       scale_factor/add_offset), not unpacked\n");
    cmd_time_label_help(out);
    cmd_output_help(out);
    fprintf(out, "\n");
    cmd_source_help(out);
}

static floe_err own_option(cmd_scan *s, void *args, int *taken)
{
    extract_args *a = args;
    *taken = cmd_is(s, "--keep-packing", NULL);
    if (*taken)
        a->keep_packing = 1;
    return NULL;
}

static floe_err parse_args(int argc, char **argv, extract_args *a)
{
    memset(a, 0, sizeof *a);
    return cmd_parse(argc, argv, &a->src, &a->grid, own_option, a);
}

floe_err cmd_extract_run(int argc, char **argv)
{
    extract_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    floe_extract_request req;
    memset(&req, 0, sizeof req);
    req.keep_packing = a.keep_packing;
    cmd_job job;
    floe_err err = cmd_job_begin(argc, argv, &a.src, &a.grid, &req.job, &job);
    if (!err)
        err = floe_extract_run(&job.mpi, &req); /* collective */
    return cmd_job_end(&job, err);
}
