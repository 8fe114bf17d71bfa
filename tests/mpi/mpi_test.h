/* SPDX-License-Identifier: Apache-2.0 */
/* tests/mpi/mpi_test.h - what the MPI test programs under mpirun share:
 * EXPECT (count a failure, say where, go on: a rank that stopped at the
 * first failure would leave the others blocked), the start (the rank
 * count the test was registered for is the last argument: see
 * floe_mpi_test in tests/CMakeLists.txt) and the end (nothing left in
 * flight, every rank's failures summed, one line from rank 0).
 * Header-only, for one-file programs. */
#ifndef FLOE_MPI_TEST_H
#define FLOE_MPI_TEST_H

#include "engine/mpi/comm.h"

#include <stdio.h>
#include <stdlib.h>

static int failures;

#define EXPECT(cond, ...)                                                       \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            failures++;                                                         \
        }                                                                       \
    } while (0)

/* EXPECT that err is NULL (and free it); what says which call it was. */
static inline void ok(floe_err err, const char *what)
{
    char line[512];
    EXPECT(err == NULL, "%s: %s", what, err ? floe_err_line(err, line, sizeof line) : "");
    floe_err_free(&err);
}

/* Start MPI; 0 on success, and a failure counted unless the job has the
 * rank count of the last argument. */
static inline int mpi_test_start(int *argc, char ***argv, floe_mpi *mpi)
{
    floe_err err = floe_mpi_init(argc, argv, mpi);
    if (err) {
        floe_err_free(&err);
        fprintf(stderr, "MPI start-up failed\n");
        return 1;
    }
    int want = *argc > 1 ? atoi((*argv)[*argc - 1]) : mpi->size;
    EXPECT(want == mpi->size, "started with %d ranks, expected %d", mpi->size, want);
    return 0;
}

/* Collective. Check that no message is left unreceived, sum the failures
 * of every rank, print "NAME: N ranks, ok|FAILED" on rank 0 and end MPI.
 * Returns the exit status of the program. */
static inline int mpi_test_finish(floe_mpi *mpi, const char *name)
{
    int total = failures;
    if (mpi->size > 1) {
        ok(FLOE_CHECK_MPI(MPI_Barrier(mpi->comm)), "barrier");
        int pending = 0;
        ok(FLOE_CHECK_MPI(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, mpi->comm, &pending,
                                     MPI_STATUS_IGNORE)), "probe");
        EXPECT(!pending, "rank %d: a message was left unreceived", mpi->rank);
        total = failures;
        ok(FLOE_CHECK_MPI(MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, mpi->comm)),
           "allreduce");
    }
    if (mpi->rank == 0)
        printf("%s: %d ranks, %s\n", name, mpi->size, total ? "FAILED" : "ok");
    floe_mpi_finalize(mpi);
    return total ? 1 : 0;
}

#endif
