/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_merge.c - `floe merge OUT`: the parts store OUT.floe-parts/
 * records the command of the unsplit request (cli/options.c's command
 * line, without --piece); merge runs that command again with the internal
 * --merge-parts, so that the job (engine/job/checkpoint.h) writes its
 * output from the pieces' partial results, fetching no chunk, through the
 * same code and with the same recorded command as the unsplit run. The
 * command kind picks the runner. */
#include "cli/cmd_merge.h"

#include "cli/cmd_extract.h"
#include "cli/cmd_series.h"
#include "cli/cmd_stats.h"
#include "cli/options.h"
#include "engine/job/checkpoint.h"

#include <stdlib.h>
#include <string.h>

/* The commands whose pieces merge, by the kind the store records. */
static const struct {
    const char *kind;
    floe_err (*run)(int argc, char **argv);
} runners[] = {
    {"stats", cmd_stats_run},
    {"climatology", cmd_climatology_run},
    {"extract", cmd_extract_run},
    {"series", cmd_series_run},
};

/* The most words a recorded command may have. */
enum { MERGE_MAX_WORDS = 1024 };

void cmd_merge_help(FILE *out)
{
    fprintf(out,
            "usage: floe merge OUT [-q]\n"
            "       mpirun -np N floe merge OUT\n"
            "\n"
            "Write OUT from the pieces of a request run with --piece I/N (e.g. one Slurm\n"
            "array task each), kept in OUT.floe-parts/: every piece 1..N must be there\n"
            "and belong to the same request. The output is the one the unsplit command\n"
            "would have written, byte for byte (stats and climatology merge the pieces'\n"
            "partial statistics in the fixed tree order), and records that command\n"
            "(without --piece). Nothing is fetched but the source's metadata; the\n"
            "parts are removed once the output is in place.\n"
            "\n"
            "Options:\n"
            "  -q, --quiet          errors only\n");
}

/* Split a command line that cli/options.c's cmd_line wrote (words
 * separated by spaces, '...' quoting, '\'' for a quote) into words, in
 * place; *n words into words[]. */
static floe_err split_words(char *line, char **words, int max, int *n)
{
    *n = 0;
    char *r = line, *w = line;
    while (*r) {
        while (*r == ' ')
            r++;
        if (!*r)
            break;
        if (*n == max)
            return FLOE_ERR(FLOE_EINVAL, "merge: the recorded command has over %d words", max);
        words[(*n)++] = w;
        while (*r && *r != ' ') {
            if (*r == '\'') {
                for (r++; *r && *r != '\''; r++)
                    *w++ = *r;
                if (!*r)
                    return FLOE_ERR(FLOE_EFORMAT, "merge: the recorded command has an open "
                                    "quote");
                r++;
            } else if (*r == '\\' && r[1]) {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
    return NULL;
}

floe_err cmd_merge_run(int argc, char **argv)
{
    const char *out = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (argv[i][0] == '-' || out)
            return FLOE_ERR(FLOE_EINVAL, "merge: unexpected '%s' (see 'floe merge --help')",
                            argv[i]);
        else
            out = argv[i];
    }
    if (!out)
        return FLOE_ERR(FLOE_EINVAL, "merge: give the output, OUT of the pieces' -o OUT");
    char *kind, *line;
    FLOE_CHECK(job_ckpt_parts_command(out, &kind, &line));
    floe_err err = NULL;
    char **words = calloc(MERGE_MAX_WORDS + 2, sizeof *words);
    int n = 0;
    if (!words)
        err = FLOE_ERR(FLOE_ENOMEM, "merge");
    if (!err)
        err = split_words(line, words, MERGE_MAX_WORDS, &n);
    /* "floe COMMAND ARGS...": run COMMAND with ARGS and --merge-parts; the
     * job kind is the command's, but `extract --resample` runs the stats job */
    int stats_of_extract = n >= 2 && !strcmp(kind, "stats") && !strcmp(words[1], "extract");
    if (!err && (n < 2 || strcmp(words[0], "floe") ||
                 (strcmp(words[1], kind) && !stats_of_extract)))
        err = FLOE_ERR(FLOE_EFORMAT, "merge: %s" JOB_PARTS_SUFFIX " records no floe %s "
                       "command", out, kind);
    size_t r = 0;
    while (!err && r < sizeof runners / sizeof *runners && strcmp(runners[r].kind, words[1]))
        r++;
    if (!err && r == sizeof runners / sizeof *runners)
        err = FLOE_ERR(FLOE_EUNSUPPORTED, "merge: pieces of floe %s do not merge (yet)", kind);
    if (!err) {
        char merge_opt[] = "--merge-parts", quiet_opt[] = "-q";
        words[n++] = merge_opt;
        if (quiet)
            words[n++] = quiet_opt;
        err = runners[r].run(n - 1, words + 1);
    }
    free(words);
    free(kind);
    free(line);
    return err;
}
