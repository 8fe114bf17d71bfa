/* SPDX-License-Identifier: Apache-2.0 */
/* cli/options.h - the options every data command shares (where to read
 * from) and a small long-option scanner, so each command parses the same
 * way: `--name value` or `--name=value`, repeatable options collected. */
#ifndef FLOE_CMD_OPTIONS_H
#define FLOE_CMD_OPTIONS_H

#include "cli/var_list.h"
#include "cli/run_controls.h"
#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"

#include <stdio.h>

enum { FLOE_MAX_LIST = 64 };

/* Source options: SOURCE [--asset K] [--branch B | --tag T | --snapshot ID]
 * [--allow PREFIX]... [--remap FROM=TO]... [--s3-endpoint URL], and how
 * the rank reads: --concurrency, --max-gap, --max-request, --retries,
 * --retry-budget, --stall-timeout, --memory-budget, --threads N (req.threads;
 * 0, not given: the engine's default, engine/mpi/threads.h). */
typedef struct cmd_source {
    floe_open_request req;
    const char *allow[FLOE_MAX_LIST];
    const char *remap[FLOE_MAX_LIST];
} cmd_source;

typedef struct cmd_scan {
    int argc;
    char **argv;
    int i;               /* next argument */
    const char *name;    /* current option name, e.g. "--bbox" */
    char name_buf[64];   /* holds the name of a "--name=value" argument */
    const char *value;   /* its value (after '=' or the next argument) */
    const char *positional[4];
    int npositional;
} cmd_scan;

void cmd_scan_init(cmd_scan *s, int argc, char **argv);
/* Advance: returns 1 with s->name set at an option, 0 at the end;
 * positional arguments are collected into s->positional. "--" ends options. */
floe_err cmd_scan_next(cmd_scan *s, int *more);
/* Is the current option `name`? If it takes a value, fetch it (error if
 * missing). */
int cmd_is(cmd_scan *s, const char *name, const char *alias);
floe_err cmd_value(cmd_scan *s, const char **value);

/* If the current option is a source option, consume it and set *taken. */
floe_err cmd_source_option(cmd_scan *s, cmd_source *src, int *taken);
/* After scanning: the source must be the first positional argument. */
floe_err cmd_source_finish(cmd_scan *s, cmd_source *src);
/* Help text for the source options (shared by the commands' --help). */
void cmd_source_help(FILE *out);

/* The options every data operation (extract, series, stats, climatology)
 * takes: -v/--vars LIST, --bbox W,S,E,N, --time T0[/T1], --time-label
 * point|start|end, -o/--output FILE, --item PATH, --collection
 * ID_OR_HREF, --report FILE.json, -q/--quiet (no progress line, errors
 * only), --verbose (what the job does; twice: debugging detail),
 * --dry-run [--json] [--ranks N]. --quiet
 * and --verbose set the log level as they are read. */
typedef struct cmd_grid_args {
    /* vars: every -v's names in var_list (cli/var_list.h), NULL when none */
    const char *vars, *bbox, *time, *time_label, *out, *item, *report, *collection;
    char var_list[CMD_VAR_LIST_SIZE];
    const char *anomaly_from; /* --anomaly-from CLIM.nc */
    int overwrite; /* -O: replace existing outputs */
    int quiet;
    /* --dry-run [--json] [--ranks N]: print the plan (engine/job/dry_run.h) */
    int dry_run, dry_run_json, dry_run_ranks;
    cmd_run_controls ctl; /* --checkpoint, --resume, --piece (cli/run_controls.h) */
} cmd_grid_args;
/* If the current option is one of them, consume it and set *taken. */
floe_err cmd_grid_option(cmd_scan *s, cmd_grid_args *g, int *taken);
/* After scanning: -v and -o are required; a --bbox must read as W,S,E,N
 * (engine/plan/selection.h). */
floe_err cmd_grid_finish(const char *command, const cmd_grid_args *g);

/* A command's own options: when s's current option is one of them,
 * consume it (cmd_is, cmd_value) and set *taken. */
typedef floe_err (*cmd_own_option)(cmd_scan *s, void *own_args, int *taken);

/* Parse a command's arguments (argv[0] is the command's name): the source
 * options, the grid options (g not NULL) and the command's own (own not
 * NULL, given own_args); any other option is an error naming it and the
 * command's --help. Then cmd_source_finish and (g) cmd_grid_finish. */
floe_err cmd_parse(int argc, char **argv, cmd_source *src, cmd_grid_args *g, cmd_own_option own,
                   void *own_args);

/* FLOE_TILE_MEMORY (bytes) from the environment, for the jobs that cut
 * tiles by memory (stats, climatology, extract --resample): a tuning knob,
 * and how the tests make small tiles take the banded path; 0 (unset or not
 * a positive number): the job's default. */
size_t cmd_tile_memory(void);

/* Help lines for --time-label. */
void cmd_time_label_help(FILE *out);
/* --anomaly-from (every gridded command). */
void cmd_anomaly_help(FILE *out);
/* Help lines for -o, --item, --collection, --report, -q and --verbose. */
void cmd_output_help(FILE *out);
/* Help lines for --dry-run, --json and --ranks. */
void cmd_dry_run_help(FILE *out);

/* The exact command line, for provenance, with secrets in URLs redacted
 * (common/floe_redact.h; caller frees). */
char *cmd_line(int argc, char **argv);

/* What a data command holds while its job runs. */
typedef struct cmd_job {
    floe_mpi mpi;
    char *line; /* the command line (owned), req->command */
} cmd_job;

/* Start a data command's job: MPI (engine/mpi/comm.h) and the command
 * line, and req filled from the parsed options (src and g must outlive
 * the job). COLLECTIVE: on error every rank holds it. Call cmd_job_end
 * whatever it returns. */
floe_err cmd_job_begin(int argc, char **argv, const cmd_source *src, const cmd_grid_args *g,
                       floe_job_request *req, cmd_job *job);
/* Collective. Under MPI with err set, print it first (rank 0, flushed,
 * marked reported), then wait for every rank, finish MPI and free the
 * line; returns err. */
floe_err cmd_job_end(cmd_job *job, floe_err err);

#endif
