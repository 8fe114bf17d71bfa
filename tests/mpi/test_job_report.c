/* SPDX-License-Identifier: Apache-2.0 */
/* tests/mpi/test_job_report.c - test_job_report NP (under mpirun -np NP):
 * the per-rank counters of --report gathered to rank 0
 * (engine/job/report.h), also when rank 0 cannot allocate the array that
 * holds them.
 *
 * This program is linked with -Wl,--wrap=malloc,--wrap=MPI_Gather: floe's
 * calls land in the __wrap_ functions below. The malloc wrapper fails the
 * first allocation of one job_report_write on rank 0 (the array of every
 * rank's counters: nothing is allocated before it); the MPI_Gather wrapper
 * checks what MPI requires of a gather, that the root receives from each
 * rank as many elements of the same type as each rank sends (every rank
 * sends the same count here), and counts the calls that break it.
 *   1. a normal report: written, with one entry per rank;
 *   2. rank 0 out of memory: FLOE_ENOMEM naming the file on rank 0, the
 *      failure agreed on every rank, no gather with mismatched counts, no
 *      message left unreceived, and no file. */
#include "common/floe_error.h"
#include "engine/job/report.h"
#include "engine/mpi/comm.h"
#include "mpi_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
int __real_MPI_Gather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
                      MPI_Datatype rtype, int root, MPI_Comm comm);
int __wrap_MPI_Gather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
                      MPI_Datatype rtype, int root, MPI_Comm comm);

static int fail_next_malloc, mismatched_gathers;

void *__wrap_malloc(size_t n)
{
    if (fail_next_malloc) {
        fail_next_malloc = 0;
        return NULL;
    }
    return __real_malloc(n);
}

int __wrap_MPI_Gather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
                      MPI_Datatype rtype, int root, MPI_Comm comm)
{
    int me = -1;
    MPI_Comm_rank(comm, &me);
    if (me == root && (rcount != scount || rtype != stype))
        mismatched_gathers++;
    return __real_MPI_Gather(sbuf, scount, stype, rbuf, rcount, rtype, root, comm);
}

static int file_has(const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    return strstr(text, what) != NULL;
}

int main(int argc, char **argv)
{
    floe_mpi mpi;
    if (mpi_test_start(&argc, &argv, &mpi))
        return 1;
    char dir[] = "/tmp/floe-test-report-XXXXXX", path[64], ranks[32], line[512];
    if (mpi.rank == 0 && !mkdtemp(dir)) {
        fprintf(stderr, "no temporary folder\n");
        MPI_Abort(mpi.comm, 1);
    }
    if (mpi.size > 1)
        MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, mpi.comm);
    snprintf(path, sizeof path, "%s/report.json", dir);
    snprintf(ranks, sizeof ranks, "\"ranks\":\t%d", mpi.size);

    /* 1. a normal report */
    floe_err err = job_report_write(&mpi, NULL, path, "test", "test_job_report", 0.0, NULL);
    EXPECT(!err, "report: %s", err ? floe_err_line(err, line, sizeof line) : "");
    floe_err_free(&err);
    if (mpi.rank == 0) {
        EXPECT(file_has(path, ranks), "%s does not say %s", path, ranks);
        unlink(path);
    }

    /* 2. rank 0 cannot allocate the counters of every rank */
    fail_next_malloc = mpi.rank == 0;
    err = job_report_write(&mpi, NULL, path, "test", "test_job_report", 0.0, NULL);
    fail_next_malloc = 0;
    if (mpi.rank == 0)
        EXPECT(err && floe_err_code(err) == FLOE_ENOMEM &&
                   strstr(floe_err_line(err, line, sizeof line), path),
               "rank 0 out of memory: %s", err ? line : "no error");
    if (mpi.size > 1)
        floe_mpi_agree(mpi.comm, &err); /* as the jobs do */
    EXPECT(err, "rank %d: the failure was not agreed", mpi.rank);
    floe_err_free(&err);
    EXPECT(!mismatched_gathers, "rank %d: %d gather(s) where rank 0 receives another count "
           "than the ranks send", mpi.rank, mismatched_gathers);
    if (mpi.rank == 0) {
        EXPECT(access(path, F_OK) != 0, "%s written without the counters", path);
        unlink(path);
        rmdir(dir);
    }

    return mpi_test_finish(&mpi, "test_job_report");
}
