/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cli.c - global options, subcommand dispatch, and the single place
 * where an error becomes a printed line and an exit status. */
#include "cli/cli.h"

#include "common/floe_log.h"
#include "common/floe_redact.h"
#include "common/floe_version.h"
#include "cli/cmd_extract.h"
#include "cli/cmd_inspect.h"
#include "cli/cmd_sbatch.h"
#include "cli/cmd_merge.h"
#include "cli/cmd_series.h"
#include "cli/cmd_stats.h"

#include <string.h>

/* Subcommands. Only commands that exist are listed here (and in --help);
 * each issue that adds one adds its row. */
static const floe_command commands[] = {
    {"inspect", "describe the dataset a STAC document or repository leads to",
     cmd_inspect_run, cmd_inspect_help},
    {"extract", "write a bbox / time subset of variables as CF NetCDF-4", cmd_extract_run,
     cmd_extract_help},
    {"series", "time series at points or of a region's area-weighted statistics, MPI-parallel",
     cmd_series_run, cmd_series_help},
    {"stats", "per-cell temporal statistics (mean, min, max, sum, std, count, pNN), MPI-parallel",
     cmd_stats_run, cmd_stats_help},
    {"climatology", "per-cell statistics by month, season or day of year, MPI-parallel",
     cmd_climatology_run, cmd_climatology_help},
    {"sbatch", "write a Slurm batch script (one MPI job, or an array and a merge) for a request",
     cmd_sbatch_run, cmd_sbatch_help},
    {"merge", "write the output of a request run in pieces (--piece I/N) from its parts",
     cmd_merge_run, cmd_merge_help},
    {NULL, NULL, NULL, NULL},
};

static const floe_command *find_command(const char *name)
{
    for (const floe_command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: floe [--verbose | --quiet] COMMAND [ARGS...]\n"
            "       floe --version | --help\n"
            "\n"
            "floe pulls answers out of virtual Icechunk climate archives: it reads\n"
            "the chunks a request needs straight from the legacy NetCDF-4 files the\n"
            "store indexes, in parallel under MPI.\n"
            "\n"
            "Options:\n"
            "  -h, --help     show this help and exit\n"
            "  -V, --version  show floe's version and the libraries it runs with\n"
            "  -v, --verbose  more detail on stderr; errors show where they arose\n"
            "  -q, --quiet    only errors on stderr\n"
            "\n");
    if (!commands[0].name) {
        fprintf(out, "No commands are available in this build yet.\n");
        return;
    }
    fprintf(out, "Commands:\n");
    for (const floe_command *c = commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'floe COMMAND --help' for a command's options.\n");
    fprintf(out,
            "\n"
            "Environment:\n"
            "  FLOE_MPI_INIT    when set (any value), start MPI even though no MPI launcher\n"
            "                   (mpirun, mpiexec, srun) started floe; otherwise such a\n"
            "                   floe runs as one rank without starting MPI (MPI's\n"
            "                   start-up alone takes about 0.35 s)\n"
            "\n"
            "Exit status:\n"
            "  0        success\n"
            "  1        runtime failure (the error line says why)\n"
            "  2        usage error (the command line was wrong)\n"
            "  3        interrupted with a checkpoint kept: rerun with --resume\n"
            "  128+N    killed by signal N without a checkpoint (temporaries removed)\n");
}

static void print_version(FILE *out)
{
    char libs[1024];
    fprintf(out, "floe %s\n%s\n", floe_version(), floe_library_versions(libs, sizeof libs));
}

/* Print err as the one line a user sees (plus the trace with --verbose),
 * redacted (common/floe_redact.h: no passwords or signatures from URLs),
 * flush it and mark it reported.
 * Under MPI the commands agree on errors collectively before they return
 * (every rank holds the same failure, naming the rank it came from), so
 * rank 0 speaks for the job; the other ranks print theirs only with
 * --verbose. */
void floe_cli_report(FILE *errout, floe_err err)
{
    char raw[2048], line[2048];
    floe_redact(floe_err_line(err, raw, sizeof raw), line, sizeof line);
    int rank = floe_log_rank();
    if (rank > 0 && floe_log_get_level() < FLOE_LOG_INFO)
        return;
    /* a checkpointed stop is no error: the line says what to do next */
    const char *kind = floe_err_code(err) == FLOE_EINTERRUPTED ? "" : "error: ";
    if (rank > 0)
        fprintf(errout, "floe[%d]: %s%s\n", rank, kind, line);
    else
        fprintf(errout, "floe: %s%s\n", kind, line);
    if (floe_log_get_level() >= FLOE_LOG_DEBUG) {
        char raw_trace[4096], trace[4096];
        floe_redact(floe_err_trace(err, raw_trace, sizeof raw_trace), trace, sizeof trace);
        fputs(trace, errout);
    }
    fflush(errout);
    floe_err_mark_reported(err);
}

int floe_cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
    int i = 1;
    floe_log_set_level(FLOE_LOG_WARN);
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_usage(out);
            return FLOE_EXIT_OK;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            print_version(out);
            return FLOE_EXIT_OK;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            floe_log_set_level(floe_log_get_level() >= FLOE_LOG_INFO ? FLOE_LOG_DEBUG
                                                                     : FLOE_LOG_INFO);
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            floe_log_set_level(FLOE_LOG_ERROR);
        } else {
            fprintf(errout, "floe: error: unknown option '%s' (see 'floe --help')\n", a);
            return FLOE_EXIT_USAGE;
        }
    }
    if (i == argc) {
        print_usage(errout);
        return FLOE_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "help")) {
        const floe_command *c = i + 1 < argc ? find_command(argv[i + 1]) : NULL;
        if (c && c->help)
            c->help(out);
        else
            print_usage(out);
        return FLOE_EXIT_OK;
    }
    const floe_command *cmd = find_command(argv[i]);
    if (!cmd) {
        fprintf(errout, "floe: error: unknown command '%s' (see 'floe --help')\n", argv[i]);
        return FLOE_EXIT_USAGE;
    }
    /* `floe COMMAND --help` anywhere among its options shows its help. */
    for (int k = i + 1; k < argc && strcmp(argv[k], "--"); k++) {
        if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help")) {
            cmd->help(out);
            return FLOE_EXIT_OK;
        }
    }
    floe_err err = cmd->run(argc - i, argv + i);
    if (!err)
        return FLOE_EXIT_OK;
    int status = floe_err_code(err) == FLOE_EINVAL         ? FLOE_EXIT_USAGE
                 : floe_err_code(err) == FLOE_EINTERRUPTED ? FLOE_EXIT_CHECKPOINTED
                                                           : FLOE_EXIT_FAILURE;
    if (!floe_err_reported(err))
        floe_cli_report(errout, err);
    floe_err_free(&err);
    return status;
}
