/* SPDX-License-Identifier: Apache-2.0 */
/* tests/mpi/test_default_threads.c - test_default_threads NP (under mpirun
 * -np NP): the default worker count of a rank (engine/mpi/threads.h).
 *
 * The test sets each rank's CPU affinity itself, so the answers do not
 * depend on how the launcher bound the ranks:
 * - every rank on all the online CPUs (C of them; what mpirun
 *   --oversubscribe or --bind-to none gives): each gets C / NP, at least 1
 *   (2 cores, -np 2: 1 each; -np 1: 2);
 * - rank 0 on all of them, the others on the last CPU only: rank 0's mask
 *   is its own, so it gets C; the others share theirs: 1;
 * - SLURM_CPUS_PER_TASK=3: 3 on every rank, whatever the masks; a value
 *   that is not a CPU count in 1..FLOE_POOL_MAX_WORKERS ("abc", "0", "-2",
 *   "", "3x", "5000") is ignored: the affinity's answer;
 * - one rank without MPI (comm MPI_COMM_NULL): no MPI call, its mask's
 *   count (every rank tries it alone).
 * A rank whose affinity cannot be set (a cpuset narrower than the online
 * CPUs) says "skipped" for those cases. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include "common/floe_pool.h"
#include "engine/mpi/threads.h"
#include "mpi_test.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The worker count floe_mpi_default_threads gives this rank (collective). */
static int default_threads(const floe_mpi *mpi)
{
    int t = -1;
    ok(floe_mpi_default_threads(mpi, &t), "floe_mpi_default_threads");
    return t;
}

/* Collective: set this rank's affinity to set; whether every rank could. */
static int set_all(const floe_mpi *mpi, const cpu_set_t *set)
{
    int mine = sched_setaffinity(0, sizeof *set, set) == 0, all = mine;
    ok(FLOE_CHECK_MPI(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, mpi->comm)), "allreduce");
    return all;
}

int main(int argc, char **argv)
{
    floe_mpi mpi;
    if (mpi_test_start(&argc, &argv, &mpi))
        return 1;
    unsetenv("SLURM_CPUS_PER_TASK"); /* the test may run inside a Slurm job */
    cpu_set_t launched;
    CPU_ZERO(&launched);
    EXPECT(sched_getaffinity(0, sizeof launched, &launched) == 0, "sched_getaffinity");
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int ncpu = online > 0 && online <= CPU_SETSIZE ? (int)online : 1;
    cpu_set_t every, last;
    CPU_ZERO(&every);
    CPU_ZERO(&last);
    for (int c = 0; c < ncpu; c++)
        CPU_SET(c, &every);
    CPU_SET(ncpu - 1, &last);

    if (set_all(&mpi, &every)) {
        int want = ncpu / mpi.size > 1 ? ncpu / mpi.size : 1;
        int got = default_threads(&mpi);
        EXPECT(got == want, "rank %d: one mask of %d CPUs on %d ranks: %d threads, want %d",
               mpi.rank, ncpu, mpi.size, got, want);

        /* the same answer without an MPI call, where this rank is alone */
        floe_mpi alone = {.comm = MPI_COMM_NULL, .rank = 0, .size = 1};
        got = default_threads(&alone);
        EXPECT(got == ncpu, "rank %d alone without MPI: %d threads, want %d", mpi.rank, got,
               ncpu);

        /* a bad SLURM_CPUS_PER_TASK is ignored */
        static const char *const bad[] = {"abc", "0", "-2", "", "3x", "5000"};
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            setenv("SLURM_CPUS_PER_TASK", bad[k], 1);
            got = default_threads(&mpi);
            EXPECT(got == want, "rank %d: SLURM_CPUS_PER_TASK='%s': %d threads, want %d",
                   mpi.rank, bad[k], got, want);
        }
        unsetenv("SLURM_CPUS_PER_TASK");

        if (set_all(&mpi, mpi.rank == 0 ? &every : &last)) {
            want = mpi.rank == 0 ? ncpu : 1;
            got = default_threads(&mpi);
            EXPECT(got == want, "rank %d: masks differ from rank 0's: %d threads, want %d",
                   mpi.rank, got, want);
        }
    } else if (mpi.rank == 0) {
        printf("skipped: the affinity cases (a rank cannot run on all %d online CPUs)\n", ncpu);
    }

    setenv("SLURM_CPUS_PER_TASK", "3", 1);
    int got = default_threads(&mpi);
    EXPECT(got == 3, "rank %d: SLURM_CPUS_PER_TASK=3: %d threads", mpi.rank, got);
    unsetenv("SLURM_CPUS_PER_TASK");

    EXPECT(sched_setaffinity(0, sizeof launched, &launched) == 0, "the launcher's affinity back");
    return mpi_test_finish(&mpi, "default_threads");
}
