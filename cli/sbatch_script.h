/* SPDX-License-Identifier: Apache-2.0 */
/* cli/sbatch_script.h - the text of a Slurm batch script for one floe
 * request (`floe sbatch`, cmd_sbatch.c), from its dry run's estimates.
 * Pure: no I/O, so the tests read the exact text.
 *
 * One job (pieces 0): an sbatch script running
 *     srun --mpi=pmix -n RANKS floe COMMAND ARGS --checkpoint --resume
 * submitted with `sbatch SCRIPT`. A job array (pieces N): a bash script
 * that submits the array (task I runs `... --piece I/N --resume`, with
 * `--piece-by variable` when by_variable) and a merge job depending on it
 * (`floe merge OUT`), run with `bash SCRIPT`.
 *
 * Sizes: --mem (per node) = the dry run's peak memory per rank x
 * SBATCH_MEM_MARGIN x the ranks on a node, at least SBATCH_MEM_FLOOR_MIB;
 * --time = (SBATCH_START_SECONDS + bytes / (ranks x
 * SBATCH_BYTES_PER_SECOND_PER_RANK)) x time_factor, at least
 * SBATCH_TIME_FLOOR_MINUTES (per task for an array: its share of bytes).
 * The merge job: one rank's --mem, and --time from the output's bytes
 * (SBATCH_START_SECONDS + output_bytes / SBATCH_BYTES_PER_SECOND_PER_RANK,
 * x time_factor, at least the floor): it reads the parts and writes the
 * output, fetching nothing.
 * Checkpointing: `--signal=USR1@60` (no `B:`), so Slurm signals the job
 * steps, that is floe under srun, 60 s before the limit (with `B:` only
 * the batch shell would get it, and srun does not pass it on); floe keeps
 * its checkpoint and exits 3, and the script requeues itself
 * (`scontrol requeue`, hence `--requeue`), to run the same command again,
 * which --resume continues. Logs append (`--open-mode=append`) across
 * requeues. A request with --threads N asks N CPUs a task
 * (`--cpus-per-task=N`, on srun's line too: srun does not take it from
 * the batch job in every Slurm version); without it Slurm's default
 * applies and floe's default threads follow the CPUs each task got. */
#ifndef FLOE_CLI_SBATCH_SCRIPT_H
#define FLOE_CLI_SBATCH_SCRIPT_H

#include "common/floe_buf.h"
#include "common/floe_error.h"

#include <stdint.h>

/* The sizing assumptions (documented in floe(1), SBATCH). */
#define SBATCH_MEM_MARGIN 1.5
#define SBATCH_MEM_FLOOR_MIB 1024
#define SBATCH_BYTES_PER_SECOND_PER_RANK 50e6 /* a rank reading from S3, conservatively */
#define SBATCH_START_SECONDS 120              /* MPI start-up, opening the repository */
#define SBATCH_TIME_FLOOR_MINUTES 10
#define SBATCH_SIGNAL_SECONDS 60
/* floe's exit status when interrupted with its checkpoint kept (cli/cli.h) */
#define SBATCH_EXIT_CHECKPOINTED 3

typedef struct sbatch_request {
    int ranks;            /* MPI ranks (per array task) */
    int nodes;            /* 0: let Slurm choose */
    int pieces;           /* 0: one MPI job; N: an array of N tasks and a merge job */
    int by_variable;      /* the array's pieces are split by variable (--piece-by) */
    int pieces_asked;     /* > pieces: --array-by asked for more tasks than the request
                             has pieces with work (the dry run's max_pieces): a comment says so */
    const char *array_by; /* --array-by's value, for that comment */
    const char *partition, *account, *job_name; /* NULL: none */
    double time_factor;   /* 0: 2 */
    char *const *cmd;     /* floe COMMAND ARGS (cmd[0] is the floe to run) */
    int ncmd;
    const char *output;   /* the request's -o (for the merge job) */
    int threads;          /* the request's --threads N, else 0: each task gets N CPUs
                             (#SBATCH --cpus-per-task and srun's), so its N
                             threads do not share Slurm's default one CPU */
} sbatch_request;

typedef struct sbatch_estimate {
    uint64_t bytes;                /* to fetch, the whole request */
    uint64_t peak_memory_per_rank; /* bytes */
    uint64_t output_bytes;         /* the output's values, uncompressed */
} sbatch_estimate;

/* --mem (MiB) and --time (minutes) of the merge job. */
uint64_t sbatch_merge_mem_mib(const sbatch_request *r, const sbatch_estimate *e);
uint64_t sbatch_merge_minutes(const sbatch_request *r, const sbatch_estimate *e);

/* The script into out (initialised by the caller). FLOE_EINVAL for an
 * argument no shell quoting keeps on one line (a newline) or bad counts. */
floe_err sbatch_script_make(const sbatch_request *r, const sbatch_estimate *e, floe_buf *out);

/* --mem in MiB and --time in minutes, as the script states them. */
uint64_t sbatch_mem_mib(const sbatch_request *r, const sbatch_estimate *e);
uint64_t sbatch_time_minutes(const sbatch_request *r, const sbatch_estimate *e);

/* s quoted for a POSIX shell ('...' with ' as '\'') appended to out. */
floe_err sbatch_shell_quote(const char *s, floe_buf *out);

#endif
