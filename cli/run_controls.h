/* SPDX-License-Identifier: Apache-2.0 */
/* cli/run_controls.h - the options that say how a data command runs, not
 * what it computes: --checkpoint, --resume, --piece I/N, --piece-by,
 * --progress-interval SEC (engine/job/progress.h), --gather-output
 * (engine/job/stats_place.h; the same bytes either way) (and the internal
 * --merge-parts and --merge-quiet that `floe merge` adds). They are not part of the request
 * (engine/job/checkpoint.h leaves them out of its fingerprint) and the
 * command recorded in an output leaves them out, with --progress-interval,
 * so that a resumed or merged output is the bytes of the uninterrupted,
 * unsplit one. */
#ifndef FLOE_CLI_RUN_CONTROLS_H
#define FLOE_CLI_RUN_CONTROLS_H

#include "common/floe_error.h"
#include "engine/job/request.h"

#include <stdio.h>

/* The most pieces a request may be split into. */
enum { CMD_MAX_PIECES = 100000 };

typedef struct cmd_run_controls {
    int checkpoint, resume;
    int piece, pieces; /* 0, 0: no --piece */
    int piece_by, piece_by_given; /* --piece-by (job_piece_by) */
    int merge;         /* --merge-parts: set by `floe merge` only */
    int quiet;         /* --merge-quiet: `floe merge -q` (-q itself would be recorded) */
    int gather_output; /* --gather-output: rank 0 receives and writes every chunk */
    int progress_interval_given;
    double progress_interval; /* --progress-interval SEC */
} cmd_run_controls;

struct cmd_scan;
/* If the current option is one of them, consume it and set *taken. */
floe_err cmd_run_control_option(struct cmd_scan *s, cmd_run_controls *c, int *taken);
/* Once every option is read: --piece-by without --piece is refused. */
floe_err cmd_run_controls_finish(const char *command, const cmd_run_controls *c);
/* Copy them into the job request. */
void cmd_run_controls_apply(const cmd_run_controls *c, floe_job_request *req);
/* How many arguments from argv[i] on the recorded command leaves out
 * (0: argv[i] is kept): these options (--piece-by too),
 * --progress-interval and --threads (whose output bytes are the same for
 * any count), with their values. */
int cmd_run_control_dropped(int argc, char **argv, int i);
/* Their lines of a data command's --help. */
void cmd_run_controls_help(FILE *out);

#endif
