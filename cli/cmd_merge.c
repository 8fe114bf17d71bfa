/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_merge.c - `floe merge OUT`: the parts store OUT.floe-parts/
 * records the command of the unsplit request (cli/options.c's command
 * line, without --piece); merge runs that command again with the internal
 * --merge-parts, so that the job (engine/job/checkpoint.h) writes its
 * output from the pieces' partial results, fetching no chunk, through the
 * same code and with the same recorded command as the unsplit run. The
 * command kind picks the runner. It runs in the folder the pieces ran in
 * (recorded in the store), where their relative paths (-o, --points,
 * --region, --anomaly-from) mean what they meant. The recorded command
 * holds no secret: a source with credentials is given again with
 * --source URL, which must redact to the recorded one. */
#include "cli/cmd_merge.h"

#include "cli/cmd_extract.h"
#include "cli/cmd_series.h"
#include "cli/cmd_stats.h"
#include "cli/options.h"
#include "common/floe_redact.h"
#include "engine/job/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
            "usage: floe merge OUT [--source URL] [-q]\n"
            "       mpirun -np N floe merge OUT\n"
            "\n"
            "Write OUT from the pieces of a request run with --piece I/N (e.g. one Slurm\n"
            "array task each), kept in OUT.floe-parts/: every piece 1..N must be there\n"
            "and belong to the same request. The output is the one the unsplit command\n"
            "would have written, byte for byte (stats and climatology merge the pieces'\n"
            "partial statistics in the fixed tree order), and records that command\n"
            "(without --piece). Nothing is fetched but the source's metadata; the\n"
            "parts are removed once the output is in place. The command runs in the\n"
            "folder the pieces ran in, so OUT may be named from anywhere.\n"
            "\n"
            "Options:\n"
            "  --source URL         the pieces' source with its credentials (user:password@,\n"
            "                       a pre-signed query), which floe never records; it must\n"
            "                       be the recorded source once redacted. Credentials from\n"
            "                       AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN\n"
            "                       need no option\n"
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

/* Go to the folder the pieces ran in, and check that the output they
 * recorded is, from there, the store named by the user's out. */
static floe_err go_where_pieces_ran(const char *out, const job_ckpt_origin *o)
{
    size_t n = strlen(out) + strlen(o->output) + sizeof JOB_PARTS_SUFFIX;
    char *path = malloc(n);
    if (!path)
        return FLOE_ERR(FLOE_ENOMEM, "merge");
    struct stat named, recorded;
    snprintf(path, n, "%s%s", out, JOB_PARTS_SUFFIX);
    floe_err err = stat(path, &named) != 0
                       ? FLOE_ERR(FLOE_EIO, "merge: %s: %s", path, strerror(errno))
                   : *o->cwd && chdir(o->cwd) != 0
                       ? FLOE_ERR(FLOE_EIO, "merge: cannot go to %s, the folder the pieces of %s "
                                  "ran in (their paths are relative to it): %s", o->cwd, out,
                                  strerror(errno))
                       : NULL;
    snprintf(path, n, "%s%s", o->output, JOB_PARTS_SUFFIX);
    if (!err && (stat(path, &recorded) != 0 || recorded.st_dev != named.st_dev ||
                 recorded.st_ino != named.st_ino))
        err = FLOE_ERR(FLOE_EINVAL, "merge: the pieces in %s" JOB_PARTS_SUFFIX " were made with "
                       "-o %s in %s, which is not that store now (moved?): run the pieces "
                       "again, or merge where they ran", out, o->output, o->cwd);
    free(path);
    return err;
}

/* Put --source URL in the recorded command's place of the source (the
 * word equal to the recorded, redacted source), if it redacts to it. */
static floe_err give_source(const job_ckpt_origin *o, char *source, char **words, int n)
{
    char *shown = floe_redact_dup(source);
    if (!shown)
        return FLOE_ERR(FLOE_ENOMEM, "merge");
    int same = !strcmp(shown, o->source);
    floe_err err = same ? NULL
                        : FLOE_ERR(FLOE_EINVAL, "merge: --source %s is not the pieces' source "
                                   "%s (with its credentials redacted)", shown, o->source);
    free(shown);
    for (int i = 2; !err && i < n; i++)
        if (!strcmp(words[i], o->source)) {
            words[i] = source;
            return NULL;
        }
    return err ? err : FLOE_ERR(FLOE_EFORMAT, "merge: the recorded command does not name the "
                                "source %s", o->source);
}

floe_err cmd_merge_run(int argc, char **argv)
{
    const char *out = NULL;
    char *source = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (!strcmp(argv[i], "--source") && i + 1 < argc)
            source = argv[++i];
        else if (!strncmp(argv[i], "--source=", 9))
            source = argv[i] + 9;
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
    job_ckpt_origin origin;
    floe_err err = job_ckpt_parts_origin(out, &origin);
    if (err) {
        free(kind);
        free(line);
        return err;
    }
    char **words = calloc(MERGE_MAX_WORDS + 2, sizeof *words);
    int n = 0;
    if (!words)
        err = FLOE_ERR(FLOE_ENOMEM, "merge");
    if (!err)
        err = split_words(line, words, MERGE_MAX_WORDS, &n);
    if (!err && source)
        err = give_source(&origin, source, words, n);
    if (!err)
        err = go_where_pieces_ran(out, &origin);
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
        char merge_opt[] = "--merge-parts", quiet_opt[] = "--merge-quiet";
        words[n++] = merge_opt;
        if (quiet)
            words[n++] = quiet_opt;
        err = runners[r].run(n - 1, words + 1);
    }
    if (err && origin.credentials && !source) {
        /* the likely cause: what the pieces read with is not recorded */
        static const char hint[] = "the pieces' source carried credentials, which floe never "
                                   "records: give it again with `floe merge OUT --source URL`, "
                                   "or supply them in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";
        if (floe_err_reported(err))
            fprintf(stderr, "floe: merge: %s\n", hint);
        else
            err = floe_err_push(err, __FILE__, __LINE__, " merge: %s", hint);
    }
    job_ckpt_origin_free(&origin);
    free(words);
    free(kind);
    free(line);
    return err;
}
