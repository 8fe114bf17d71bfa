/* SPDX-License-Identifier: Apache-2.0 */
/* cli/sbatch_script.c - see sbatch_script.h. */
#include "cli/sbatch_script.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static floe_err put(floe_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static floe_err put(floe_buf *out, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return FLOE_ERR(FLOE_EINVAL, "sbatch script: a line longer than %zu bytes", sizeof line);
    return floe_buf_append(out, line, (size_t)n);
}

floe_err sbatch_shell_quote(const char *s, floe_buf *out)
{
    FLOE_CHECK(floe_buf_append(out, "'", 1));
    for (const char *p = s; *p; p++)
        FLOE_CHECK(*p == '\'' ? floe_buf_append(out, "'\\''", 4) : floe_buf_append(out, p, 1));
    return floe_buf_append(out, "'", 1);
}

static int ranks_per_node(const sbatch_request *r)
{
    return r->nodes > 0 ? (r->ranks + r->nodes - 1) / r->nodes : r->ranks;
}

uint64_t sbatch_mem_mib(const sbatch_request *r, const sbatch_estimate *e)
{
    double mib = (double)e->peak_memory_per_rank * SBATCH_MEM_MARGIN * ranks_per_node(r) /
                 (1024.0 * 1024.0);
    uint64_t m = (uint64_t)ceil(mib);
    return m < SBATCH_MEM_FLOOR_MIB ? SBATCH_MEM_FLOOR_MIB : m;
}

uint64_t sbatch_time_minutes(const sbatch_request *r, const sbatch_estimate *e)
{
    double bytes = (double)e->bytes / (r->pieces > 0 ? r->pieces : 1);
    double s = SBATCH_START_SECONDS + bytes / (r->ranks * SBATCH_BYTES_PER_SECOND_PER_RANK);
    s *= r->time_factor > 0 ? r->time_factor : 2;
    uint64_t m = (uint64_t)ceil(s / 60);
    return m < SBATCH_TIME_FLOOR_MINUTES ? SBATCH_TIME_FLOOR_MINUTES : m;
}

uint64_t sbatch_merge_mem_mib(const sbatch_request *r, const sbatch_estimate *e)
{
    sbatch_request one = *r; /* merge runs as one rank */
    one.ranks = 1;
    one.nodes = 0;
    return sbatch_mem_mib(&one, e);
}

uint64_t sbatch_merge_minutes(const sbatch_request *r, const sbatch_estimate *e)
{
    double s = SBATCH_START_SECONDS + (double)e->output_bytes / SBATCH_BYTES_PER_SECOND_PER_RANK;
    s *= r->time_factor > 0 ? r->time_factor : 2;
    uint64_t m = (uint64_t)ceil(s / 60);
    return m < SBATCH_TIME_FLOOR_MINUTES ? SBATCH_TIME_FLOOR_MINUTES : m;
}

/* The #SBATCH lines every job has. */
static floe_err directives(const sbatch_request *r, const sbatch_estimate *e, const char *name,
                           int ntasks, uint64_t minutes, floe_buf *out)
{
    FLOE_CHECK(put(out, "#SBATCH --job-name=%s\n", name));
    if (r->partition)
        FLOE_CHECK(put(out, "#SBATCH --partition=%s\n", r->partition));
    if (r->account)
        FLOE_CHECK(put(out, "#SBATCH --account=%s\n", r->account));
    if (r->nodes > 0)
        FLOE_CHECK(put(out, "#SBATCH --nodes=%d\n", r->nodes));
    FLOE_CHECK(put(out, "#SBATCH --ntasks=%d\n", ntasks));
    if (r->threads > 0)
        FLOE_CHECK(put(out, "#SBATCH --cpus-per-task=%d\n", r->threads));
    FLOE_CHECK(put(out, "#SBATCH --mem=%lluM\n", (unsigned long long)sbatch_mem_mib(r, e)));
    FLOE_CHECK(put(out, "#SBATCH --time=%llu:%02llu:00\n", (unsigned long long)(minutes / 60),
                   (unsigned long long)(minutes % 60)));
    return NULL;
}

/* srun ... floe ARGS EXTRA, then the requeue when floe kept its checkpoint. */
static floe_err run_lines(const sbatch_request *r, const char *extra, const char *requeue_id,
                          floe_buf *out)
{
    FLOE_CHECK(put(out, "srun --mpi=pmix -n %d", r->ranks));
    if (r->threads > 0)
        FLOE_CHECK(put(out, " --cpus-per-task=%d", r->threads));
    for (int i = 0; i < r->ncmd; i++) {
        FLOE_CHECK(floe_buf_append(out, " ", 1));
        FLOE_CHECK(sbatch_shell_quote(r->cmd[i], out));
    }
    FLOE_CHECK(put(out, " %s && rc=0 || rc=$?\n", extra));
    FLOE_CHECK(put(out, "if [ \"$rc\" -eq %d ]; then  # checkpoint kept: run again, --resume "
                   "continues\n    scontrol requeue %s\nfi\nexit \"$rc\"\n",
                   SBATCH_EXIT_CHECKPOINTED, requeue_id));
    return NULL;
}

floe_err sbatch_script_make(const sbatch_request *r, const sbatch_estimate *e, floe_buf *out)
{
    if (r->ranks < 1 || r->nodes < 0 || r->pieces < 0 || r->ncmd < 2 || r->threads < 0)
        return FLOE_ERR(FLOE_EINVAL, "sbatch script: %d ranks, %d nodes, %d pieces, %d words",
                        r->ranks, r->nodes, r->pieces, r->ncmd);
    for (int i = 0; i < r->ncmd; i++)
        if (strchr(r->cmd[i], '\n'))
            return FLOE_ERR(FLOE_EINVAL, "sbatch: argument %d of the floe command holds a "
                            "newline, which a batch script cannot keep on one line", i + 1);
    const char *name = r->job_name ? r->job_name : "floe";
    uint64_t minutes = sbatch_time_minutes(r, e);
    char common[256];
    snprintf(common, sizeof common,
             "#SBATCH --signal=USR1@%d\n#SBATCH --requeue\n#SBATCH --open-mode=append\n",
             SBATCH_SIGNAL_SECONDS);
    if (!r->pieces) {
        FLOE_CHECK(put(out, "#!/bin/bash\n# floe batch job: submit with `sbatch THIS_FILE`.\n"
                       "# Sizes from floe's dry run: %llu bytes to fetch, %llu bytes peak "
                       "memory per rank.\n", (unsigned long long)e->bytes,
                       (unsigned long long)e->peak_memory_per_rank));
        FLOE_CHECK(directives(r, e, name, r->ranks, minutes, out));
        FLOE_CHECK(put(out, "%s#SBATCH --output=%s-%%j.log\n", common, name));
        return run_lines(r, "--checkpoint --resume", "\"$SLURM_JOB_ID\"", out);
    }
    FLOE_CHECK(put(out, "#!/bin/bash\n# floe job array: run `bash THIS_FILE`; it submits %d "
                   "tasks and the merge job after them.\n# Sizes from floe's dry run: %llu "
                   "bytes to fetch, %llu bytes peak memory per rank.\nset -euo pipefail\n"
                   "array_id=$(sbatch --parsable <<'FLOE_ARRAY_TASK'\n#!/bin/bash\n",
                   r->pieces, (unsigned long long)e->bytes,
                   (unsigned long long)e->peak_memory_per_rank));
    if (r->pieces_asked > r->pieces)
        FLOE_CHECK(put(out, "# --array-by %s asks for %d tasks, but the request splits into at "
                       "most %d pieces with work (the dry run's max_pieces): %d tasks.\n",
                       r->array_by ? r->array_by : "?", r->pieces_asked, r->pieces, r->pieces));
    FLOE_CHECK(directives(r, e, name, r->ranks, minutes, out));
    FLOE_CHECK(put(out, "#SBATCH --array=1-%d\n%s#SBATCH --output=%s-%%A_%%a.log\n", r->pieces,
                   common, name));
    char piece[96];
    snprintf(piece, sizeof piece, "--piece \"$SLURM_ARRAY_TASK_ID/%d\"%s --resume", r->pieces,
             r->by_variable ? " --piece-by variable" : "");
    FLOE_CHECK(run_lines(r, piece, "\"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"", out));
    FLOE_CHECK(put(out, "FLOE_ARRAY_TASK\n)\necho \"submitted array job $array_id\"\n"
                   "sbatch --dependency=afterok:\"$array_id\" <<'FLOE_MERGE_JOB'\n#!/bin/bash\n"
                   "#SBATCH --job-name=%s-merge\n", name));
    if (r->partition)
        FLOE_CHECK(put(out, "#SBATCH --partition=%s\n", r->partition));
    if (r->account)
        FLOE_CHECK(put(out, "#SBATCH --account=%s\n", r->account));
    uint64_t mm = sbatch_merge_minutes(r, e);
    FLOE_CHECK(put(out, "#SBATCH --ntasks=1\n#SBATCH --mem=%lluM\n#SBATCH --time=%llu:%02llu:00\n"
                   "#SBATCH --open-mode=append\n#SBATCH --output=%s-merge-%%j.log\n",
                   (unsigned long long)sbatch_merge_mem_mib(r, e), (unsigned long long)(mm / 60),
                   (unsigned long long)(mm % 60), name));
    FLOE_CHECK(sbatch_shell_quote(r->cmd[0], out));
    FLOE_CHECK(put(out, " merge "));
    FLOE_CHECK(sbatch_shell_quote(r->output, out));
    return put(out, "\nFLOE_MERGE_JOB\n");
}
