/* SPDX-License-Identifier: Apache-2.0 */
/* cli/run_controls.c - see run_controls.h. */
#include "cli/run_controls.h"

#include "cli/options.h"
#include "engine/job/checkpoint.h"
#include "engine/job/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --piece I/N: 1 <= I <= N <= CMD_MAX_PIECES. */
static floe_err parse_piece(const char *v, int *piece, int *pieces)
{
    char *end;
    long i = strtol(v, &end, 10);
    long n = *end == '/' ? strtol(end + 1, &end, 10) : 0;
    if (*end || i < 1 || n < 1 || i > n || n > CMD_MAX_PIECES)
        return FLOE_ERR(FLOE_EINVAL, "--piece %s: give I/N, piece I of N (1 <= I <= N <= %d)", v,
                        CMD_MAX_PIECES);
    *piece = (int)i;
    *pieces = (int)n;
    return NULL;
}

floe_err cmd_run_control_option(struct cmd_scan *s, cmd_run_controls *c, int *taken)
{
    *taken = 1;
    if (cmd_is(s, "--checkpoint", NULL)) {
        c->checkpoint = 1;
        return NULL;
    }
    if (cmd_is(s, "--resume", NULL)) {
        c->resume = 1;
        return NULL;
    }
    if (cmd_is(s, "--merge-parts", NULL)) {
        c->merge = 1;
        return NULL;
    }
    if (cmd_is(s, "--gather-output", NULL)) {
        c->gather_output = 1;
        return NULL;
    }
    if (cmd_is(s, "--merge-quiet", NULL)) { /* `floe merge -q`: not recorded, unlike -q */
        c->quiet = 1;
        return NULL;
    }
    if (cmd_is(s, "--progress-interval", NULL)) {
        const char *v;
        FLOE_CHECK(cmd_value(s, &v));
        char *end;
        double sec = strtod(v, &end);
        if (end == v || *end || !isfinite(sec) || sec < 0)
            return FLOE_ERR(FLOE_EINVAL, "--progress-interval %s: give seconds, 0 or more "
                            "(0: no progress lines in a log)", v);
        c->progress_interval = sec;
        c->progress_interval_given = 1;
        return NULL;
    }
    if (cmd_is(s, "--piece", NULL)) {
        const char *v;
        FLOE_CHECK(cmd_value(s, &v));
        return parse_piece(v, &c->piece, &c->pieces);
    }
    if (cmd_is(s, "--piece-by", NULL)) {
        const char *v;
        FLOE_CHECK(cmd_value(s, &v));
        if (strcmp(v, job_piece_by_name(JOB_PIECE_BY_TIME)) &&
            strcmp(v, job_piece_by_name(JOB_PIECE_BY_VARIABLE)))
            return FLOE_ERR(FLOE_EINVAL, "--piece-by %s: give time or variable", v);
        c->piece_by = strcmp(v, job_piece_by_name(JOB_PIECE_BY_TIME)) ? JOB_PIECE_BY_VARIABLE
                                                                       : JOB_PIECE_BY_TIME;
        c->piece_by_given = 1;
        return NULL;
    }
    *taken = 0;
    return NULL;
}

floe_err cmd_run_controls_finish(const char *command, const cmd_run_controls *c)
{
    if (c->piece_by_given && !c->pieces)
        return FLOE_ERR(FLOE_EINVAL, "%s: --piece-by goes with --piece I/N", command);
    return NULL;
}

void cmd_run_controls_apply(const cmd_run_controls *c, floe_job_request *req)
{
    req->progress_interval = c->progress_interval_given ? c->progress_interval
                                                        : JOB_PROGRESS_INTERVAL_DEFAULT;
    req->checkpoint = c->checkpoint;
    req->resume = c->resume;
    req->piece = c->piece;
    req->pieces = c->pieces;
    req->piece_by = c->piece_by;
    req->merge = c->merge;
    req->quiet |= c->quiet;
    req->gather_output = c->gather_output;
}

int cmd_run_control_dropped(int argc, char **argv, int i)
{
    static const char *const flags[] = {"--checkpoint", "--resume", "--merge-parts",
                                         "--merge-quiet", "--gather-output"};
    /* --threads (a source option, cli/options.c) is left out too: like the
     * rank count, it changes how fast, never what */
    static const char *const valued[] = {"--piece", "--piece-by", "--progress-interval",
                                         "--threads"};
    const char *a = argv[i];
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
        if (!strcmp(a, flags[k]))
            return 1;
    for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) {
        size_t n = strlen(valued[k]);
        if (!strncmp(a, valued[k], n) && a[n] == '=')
            return 1;
        if (!strcmp(a, valued[k]))
            return i + 1 < argc ? 2 : 1;
    }
    return 0;
}

void cmd_run_controls_help(FILE *out)
{
    fprintf(out,
            "  --checkpoint         keep the progress in OUT.floe-ckpt/ beside the output,\n"
            "                       saved as units complete; on SIGTERM or SIGUSR1 (Slurm's\n"
            "                       time limit, --signal) save what is done and exit 3\n"
            "  --resume             continue from OUT.floe-ckpt/ if it is there (it must be\n"
            "                       the same request, snapshot and floe version), else start\n"
            "                       as --checkpoint; the output is the bytes of an\n"
            "                       uninterrupted run, and the checkpoint goes with its commit\n"
            "  --progress-interval SEC\n"
            "                       when stderr is not a terminal (mpirun, srun, sbatch\n"
            "                       logs), rank 0 writes a progress line every SEC seconds\n"
            "                       (all ranks' chunks done/total, MB/s, ETA, the least\n"
            "                       and most advanced rank) and a last line with the\n"
            "                       totals; default 30, 0: none\n"
            "  --gather-output      stats and climatology under MPI: rank 0 receives every\n"
            "                       output chunk and writes it. Default: each rank writes\n"
            "                       its own chunks of a large output (1 MiB of values or\n"
            "                       more) into the file where every rank sees and may\n"
            "                       write the output's folder (probed) and each rank's\n"
            "                       share fits a quarter of its memory; else gathered.\n"
            "                       The same bytes either way\n"
            "  --piece I/N          compute piece I of N (a share of the request) into\n"
            "                       OUT.floe-parts/ and write no output; `floe merge OUT`\n"
            "                       writes the output once all N are done\n"
            "  --piece-by time|variable\n"
            "                       what --piece shares out: time (default: the I-th share\n"
            "                       of the steps of every variable) or variable (every step\n"
            "                       of the I-th share of the variables, in the order given;\n"
            "                       with N above their number the last pieces are empty).\n"
            "                       Every piece of one output must use the same split.\n");
}
