/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sbatch.c - `floe sbatch [OPTIONS] -- floe COMMAND ARGS...`:
 * runs the request's dry run (this floe, `--dry-run --json --ranks N`, in
 * a child process: no MPI, nothing fetched) and writes the batch script
 * sized from it (cli/sbatch_script.h). */
#include "cli/cmd_sbatch.h"

#include "cli/sbatch_script.h"
#include "common/floe_buf.h"
#include "common/floe_file.h"
#include "common/floe_pool.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void cmd_sbatch_help(FILE *out)
{
    fprintf(out,
            "usage: floe sbatch [OPTIONS] -- floe COMMAND ARGS...\n"
            "\n"
            "Write a Slurm batch script for the request `floe COMMAND ARGS...` (extract,\n"
            "series, stats or climatology), sized from its dry run (nothing is fetched).\n"
            "\n"
            "  --ranks N            MPI ranks of the job (of each array task); default 1\n"
            "  --nodes N            #SBATCH --nodes (default: Slurm's choice)\n"
            "  --array-by month|year|N|variable\n"
            "                       a job array instead of one job: as many tasks as the\n"
            "                       calendar months or years the request's steps span, or\n"
            "                       N; task I runs `--piece I/N --resume`, a contiguous\n"
            "                       share of the steps cut where the merge stays exact\n"
            "                       (stats, climatology: on 32-step blocks; extract,\n"
            "                       series: on whole time chunks), so task I is not month\n"
            "                       I; never more tasks than the dry run's max_pieces (a\n"
            "                       comment in the script says so); a merge job\n"
            "                       (`floe merge OUT`) runs after all succeeded\n"
            "  --partition P, --account A\n"
            "                       #SBATCH --partition, --account\n"
            "  --time-factor F      multiply the estimated time by F (default 2)\n"
            "  --job-name NAME      default floe-COMMAND\n"
            "  -o, --output SCRIPT  write the script there (default: standard output)\n"
            "\n"
            "One job: `sbatch SCRIPT` runs `srun --mpi=pmix -n N floe ... --checkpoint\n"
            "--resume`. An array: `bash SCRIPT` submits the array and the merge job.\n"
            "--mem: the dry run's peak memory per rank x 1.5 x the ranks on a node (at\n"
            "least 1024M); --time: (120 s + bytes / (ranks x 50 MB/s)) x F, at least 10\n"
            "minutes. --signal=USR1@60 (Slurm signals floe under srun 60 s before the\n"
            "limit: it keeps its checkpoint and exits 3), then the script requeues the\n"
            "job (--requeue), whose --resume continues; logs append across requeues.\n"
            "--array-by variable: one task per variable of the request, task I running\n"
            "`--piece I/N --piece-by variable --resume` (every step of the I-th variable).\n"
            "A request with --threads N asks N CPUs a task (#SBATCH --cpus-per-task=N and\n"
            "srun --cpus-per-task=N); without it, each task's threads follow the CPUs\n"
            "Slurm gave it ($SLURM_CPUS_PER_TASK, else its affinity).\n");
}

/* Run `self cmd[1..] --dry-run --json --ranks N -q` and read its JSON. */
static floe_err dry_run_of(char *const *cmd, int ncmd, int ranks, cJSON **plan)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return FLOE_ERR(FLOE_EIO, "sbatch: cannot find this floe (/proc/self/exe)");
    self[n] = 0;
    char nr[16];
    snprintf(nr, sizeof nr, "%d", ranks);
    char **argv = calloc((size_t)ncmd + 8, sizeof *argv);
    if (!argv)
        return FLOE_ERR(FLOE_ENOMEM, "sbatch");
    int k = 0;
    argv[k++] = self;
    for (int i = 1; i < ncmd; i++)
        argv[k++] = cmd[i];
    const char *extra[] = {"--dry-run", "--json", "--ranks", nr, "-q"};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        argv[k++] = (char *)extra[i];
    int fd[2];
    if (pipe(fd)) {
        free(argv);
        return FLOE_ERR(FLOE_EIO, "sbatch: pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execv(self, argv);
        _exit(127);
    }
    free(argv);
    close(fd[1]);
    floe_buf text;
    floe_buf_init(&text, (size_t)1 << 24);
    floe_err err = pid < 0 ? FLOE_ERR(FLOE_EIO, "sbatch: fork") : NULL;
    char buf[4096];
    ssize_t got;
    while (!err && (got = read(fd[0], buf, sizeof buf)) > 0)
        err = floe_buf_append(&text, buf, (size_t)got);
    close(fd[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (!err && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        err = FLOE_ERR(FLOE_EINVAL, "sbatch: the request's dry run failed (its error is above)");
    if (!err && !(err = floe_buf_append(&text, "", 1)) &&
        !(*plan = cJSON_Parse((const char *)text.data)))
        err = FLOE_ERR(FLOE_EFORMAT, "sbatch: the dry run's JSON does not parse");
    floe_buf_free(&text);
    return err;
}

/* Whether the request names the version it reads (--snapshot, --branch,
 * --tag, with or without '='). */
static int names_version(char *const *cmd, int ncmd)
{
    static const char *const opts[] = {"--snapshot", "--branch", "--tag"};
    for (int k = 2; k < ncmd; k++)
        for (size_t o = 0; o < sizeof opts / sizeof *opts; o++) {
            size_t n = strlen(opts[o]);
            if (!strncmp(cmd[k], opts[o], n) && (cmd[k][n] == '\0' || cmd[k][n] == '='))
                return 1;
        }
    return 0;
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : 0;
}

/* Calendar months (by = 'm') or years spanned by the plan's first and last
 * steps ("YYYY-MM-..."); 0 if they do not read so. */
static int periods(const cJSON *plan, char by)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(plan, "time");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "first");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(t, "last");
    int y0, m0, y1, m1;
    if (!cJSON_IsString(a) || !cJSON_IsString(b) ||
        sscanf(a->valuestring, "%d-%d", &y0, &m0) != 2 ||
        sscanf(b->valuestring, "%d-%d", &y1, &m1) != 2)
        return 0;
    return by == 'm' ? (y1 - y0) * 12 + m1 - m0 + 1 : y1 - y0 + 1;
}

static floe_err positive(const char *opt, const char *v, int *out)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > 1000000)
        return FLOE_ERR(FLOE_EINVAL, "sbatch: %s %s: not a positive number", opt, v);
    *out = (int)n;
    return NULL;
}

/* The request's --threads value as a count, 0 if it is not one (the
 * dry run then refuses the request with floe's own message). */
static int threads_of(const char *v)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return *v && !*end && n >= 1 && n <= FLOE_POOL_MAX_WORKERS ? (int)n : 0;
}

floe_err cmd_sbatch_run(int argc, char **argv)
{
    sbatch_request r = {.ranks = 1};
    const char *array_by = NULL, *script = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--ranks") || !strcmp(a, "--nodes") || !strcmp(a, "--array-by") ||
                    !strcmp(a, "--partition") || !strcmp(a, "--account") ||
                    !strcmp(a, "--time-factor") || !strcmp(a, "--job-name") ||
                    !strcmp(a, "-o") || !strcmp(a, "--output");
        if (!takes)
            return FLOE_ERR(FLOE_EINVAL, "sbatch: unknown option '%s' (see 'floe sbatch "
                            "--help'; the request goes after --)", a);
        if (!v || !strcmp(v, "--"))
            return FLOE_ERR(FLOE_EINVAL, "sbatch: %s needs a value", a);
        i++;
        if (!strcmp(a, "--ranks"))
            FLOE_CHECK(positive(a, v, &r.ranks));
        else if (!strcmp(a, "--nodes"))
            FLOE_CHECK(positive(a, v, &r.nodes));
        else if (!strcmp(a, "--array-by"))
            array_by = v;
        else if (!strcmp(a, "--partition"))
            r.partition = v;
        else if (!strcmp(a, "--account"))
            r.account = v;
        else if (!strcmp(a, "--job-name"))
            r.job_name = v;
        else if (!strcmp(a, "--time-factor")) {
            char *end = NULL;
            r.time_factor = strtod(v, &end);
            if (!*v || *end || !(r.time_factor > 0))
                return FLOE_ERR(FLOE_EINVAL, "sbatch: --time-factor %s: not a positive number", v);
        } else
            script = v;
    }
    if (i + 2 >= argc)
        return FLOE_ERR(FLOE_EINVAL, "sbatch: give the request after --: floe sbatch [OPTIONS] "
                        "-- floe COMMAND ARGS...");
    r.cmd = argv + i + 1;
    r.ncmd = argc - i - 1;
    const char *command = r.cmd[1];
    if (strcmp(command, "extract") && strcmp(command, "series") && strcmp(command, "stats") &&
        strcmp(command, "climatology"))
        return FLOE_ERR(FLOE_EINVAL, "sbatch: '%s' is not a data command (extract, series, "
                        "stats, climatology)", command);
    for (int k = 2; k < r.ncmd; k++) {
        const char *a = r.cmd[k];
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && k + 1 < r.ncmd)
            r.output = r.cmd[k + 1];
        else if (!strncmp(a, "--output=", 9))
            r.output = a + 9;
        else if (!strcmp(a, "--threads") || !strncmp(a, "--threads=", 10))
            r.threads = threads_of(a[9] ? a + 10 : k + 1 < r.ncmd ? r.cmd[k + 1] : "");
    }
    char name[64];
    snprintf(name, sizeof name, "floe-%s", command);
    if (!r.job_name)
        r.job_name = name;
    cJSON *plan = NULL;
    FLOE_CHECK(dry_run_of(r.cmd, r.ncmd, r.ranks, &plan));
    if (array_by) {
        if (!strcmp(array_by, "month") || !strcmp(array_by, "year"))
            r.pieces = periods(plan, array_by[0]);
        else if (!strcmp(array_by, "variable")) { /* one task a variable: --piece-by variable */
            r.pieces = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(plan, "variables"));
            r.by_variable = 1;
        } else {
            floe_err e = positive("--array-by", array_by, &r.pieces);
            if (e) {
                floe_err_free(&e);
                r.pieces = 0;
            }
        }
        if (r.pieces < 1) {
            cJSON_Delete(plan);
            return FLOE_ERR(FLOE_EINVAL, "sbatch: --array-by %s: give month, year, variable or "
                            "a number of tasks", array_by);
        }
        /* a task past the pieces with work would run an empty piece (a
         * split by time: max_pieces counts blocks or time-chunk rows) */
        double most = number(plan, "max_pieces");
        if (!r.by_variable && most >= 1 && r.pieces > most) {
            r.pieces_asked = r.pieces;
            r.array_by = array_by;
            r.pieces = (int)most;
        }
    }
    sbatch_estimate e = {.bytes = (uint64_t)number(plan, "bytes"),
                         .peak_memory_per_rank = (uint64_t)number(plan, "peak_memory_per_rank"),
                         .output_bytes = (uint64_t)number(plan, "output_bytes")};
    /* Pin the snapshot the dry run read, unless the request names its
     * version: a requeued job or a late array task must read the same one
     * (a checkpoint of another snapshot is refused), whatever the branch
     * does meanwhile. */
    const cJSON *snap = cJSON_GetObjectItemCaseSensitive(plan, "snapshot");
    char **words = NULL;
    floe_err err = NULL;
    if (cJSON_IsString(snap) && *snap->valuestring && !names_version(r.cmd, r.ncmd)) {
        words = calloc((size_t)r.ncmd + 3, sizeof *words);
        char *id = words ? strdup(snap->valuestring) : NULL;
        if (!id) {
            err = FLOE_ERR(FLOE_ENOMEM, "sbatch: the command");
        } else {
            memcpy(words, r.cmd, (size_t)r.ncmd * sizeof *words);
            static char snapshot_opt[] = "--snapshot";
            words[r.ncmd] = snapshot_opt;
            words[r.ncmd + 1] = id;
            r.cmd = words;
            r.ncmd += 2;
        }
    }
    cJSON_Delete(plan);
    floe_buf text;
    floe_buf_init(&text, (size_t)1 << 20);
    if (!err)
        err = sbatch_script_make(&r, &e, &text);
    if (!err)
        err = floe_buf_append(&text, "", 1);
    if (!err && script)
        err = floe_file_write_text(script, (const char *)text.data);
    else if (!err && (fputs((const char *)text.data, stdout) < 0 || fflush(stdout)))
        err = FLOE_ERR(FLOE_EIO, "sbatch: standard output");
    floe_buf_free(&text);
    if (words)
        free(words[r.ncmd - 1]); /* the snapshot id */
    free(words);
    return err;
}
