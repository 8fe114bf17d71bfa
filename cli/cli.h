/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cli.h - the `floe` command line: global options and the table of
 * subcommands. main() only calls floe_cli_main(). */
#ifndef FLOE_CLI_H
#define FLOE_CLI_H

#include "common/floe_error.h"

#include <stdio.h>

/* Exit statuses of the floe executable. */
enum {
    FLOE_EXIT_OK = 0,
    FLOE_EXIT_FAILURE = 1, /* the job failed: the error line says why */
    FLOE_EXIT_USAGE = 2,   /* the command line was wrong */
    FLOE_EXIT_CHECKPOINTED = 3, /* interrupted, checkpoint kept: rerun with --resume */
};

typedef struct floe_command {
    const char *name;
    const char *summary; /* one line for `floe --help` */
    /* Runs the command with argv[0] = the command name. Returns an error or
     * NULL; usage errors are FLOE_EINVAL. */
    floe_err (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} floe_command;

/* Parses global options, dispatches, prints the one-line error on failure
 * and returns the exit status. out/err are stdout/stderr in the executable. */
int floe_cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Print err as the user's one error line (rank 0; the other ranks only
 * with --verbose), flush, and mark it reported so it is printed once. */
void floe_cli_report(FILE *errout, floe_err err);

#endif
