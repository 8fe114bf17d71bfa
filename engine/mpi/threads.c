/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/threads.c - see threads.h. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_EQUAL */
#include "engine/mpi/threads.h"

#include "common/floe_log.h"
#include "common/floe_pool.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>

/* SLURM_CPUS_PER_TASK as a worker count, or 0 when unset or not a whole
 * number in 1..FLOE_POOL_MAX_WORKERS. */
static int slurm_cpus_per_task(void)
{
    const char *v = getenv("SLURM_CPUS_PER_TASK");
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 1 || n > FLOE_POOL_MAX_WORKERS) {
        FLOE_DEBUG("SLURM_CPUS_PER_TASK '%s' is not a number of CPUs in 1..%d: ignored", v,
                   FLOE_POOL_MAX_WORKERS);
        return 0;
    }
    return (int)n;
}

/* COLLECTIVE over mpi->comm (size > 1): how many ranks of this node,
 * this one included, have exactly this rank's CPU affinity mask. */
static floe_err ranks_sharing_mask(const floe_mpi *mpi, int *count)
{
    *count = 1;
    cpu_set_t mine;
    CPU_ZERO(&mine); /* unknown: compares equal to the other unknown ones */
    if (sched_getaffinity(0, sizeof mine, &mine) != 0)
        CPU_ZERO(&mine);
    MPI_Comm node = MPI_COMM_NULL;
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Comm_split_type(mpi->comm, MPI_COMM_TYPE_SHARED, mpi->rank,
                                                  MPI_INFO_NULL, &node),
                              "the ranks of this node"));
    int n = 0;
    floe_err err = FLOE_CHECK_MPI(MPI_Comm_size(node, &n), "the ranks of this node");
    cpu_set_t *all = NULL;
    if (!err && n > 1) {
        _Static_assert(sizeof(cpu_set_t) <= INT_MAX, "an MPI count is an int");
        if (!(all = malloc((size_t)n * sizeof *all)))
            err = FLOE_ERR(FLOE_ENOMEM, "the affinity masks of %d ranks", n);
        /* every rank of the node gets here alike (n is theirs too): a
         * failed allocation is this rank's error, agreed by the caller,
         * so the others must not wait in the gather for it */
        int ok = !err, all_ok = 0;
        floe_err e2 = FLOE_CHECK_MPI(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, node),
                                     "the affinity masks");
        if (!err)
            err = e2;
        else
            floe_err_free(&e2);
        if (!err && all_ok)
            err = FLOE_CHECK_MPI(MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all,
                                               (int)sizeof mine, MPI_BYTE, node),
                                 "the affinity masks of %d ranks", n);
        if (!err && all_ok) {
            int same = 0;
            for (int r = 0; r < n; r++)
                same += CPU_EQUAL(&all[r], &mine) != 0;
            *count = same > 0 ? same : 1;
        }
    }
    free(all);
    floe_err ferr = FLOE_CHECK_MPI(MPI_Comm_free(&node), "the ranks of this node");
    if (!err)
        err = ferr;
    else
        floe_err_free(&ferr);
    return err;
}

floe_err floe_mpi_default_threads(const floe_mpi *mpi, int *threads)
{
    *threads = 1;
    int slurm = slurm_cpus_per_task();
    int cores = slurm ? slurm : floe_pool_affinity_cores();
    int sharing = 1;
    /* Always collective, so every rank makes the same calls whatever its
     * environment says; one rank (or MPI not started) makes none. */
    if (mpi->size > 1 && mpi->comm != MPI_COMM_NULL)
        FLOE_CHECK(ranks_sharing_mask(mpi, &sharing));
    if (!slurm)
        cores /= sharing;
    *threads = cores < 1 ? 1 : cores > FLOE_POOL_MAX_WORKERS ? FLOE_POOL_MAX_WORKERS : cores;
    FLOE_DEBUG("threads: %d (%s%s)", *threads, slurm ? "SLURM_CPUS_PER_TASK" : "CPU affinity",
               !slurm && sharing > 1 ? ", shared with the node's ranks of the same mask" : "");
    return NULL;
}
