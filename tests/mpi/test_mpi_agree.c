/* SPDX-License-Identifier: Apache-2.0 */
/* MPI test (run at 1, 2 and 4 ranks): the collective error agreement.
 * Every rank must learn of a failure on any rank, with the message of the
 * lowest failing rank, and ranks that failed keep their own error. And
 * FLOE_CHECK_MPI: floe's communicator returns errors (MPI_ERRORS_RETURN)
 * instead of aborting, and the macro turns them into floe errors. */
#include "common/floe_log.h"
#include "engine/mpi/comm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define EXPECT(cond, ...)                                                       \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "rank %d: FAILED %s: ", mpi.rank, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            failures++;                                                         \
        }                                                                       \
    } while (0)

int main(int argc, char **argv)
{
    floe_mpi mpi;
    floe_err err = floe_mpi_init(&argc, &argv, &mpi);
    if (err) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    int expected_size = argc > 1 ? atoi(argv[1]) : mpi.size;
    EXPECT(mpi.size == expected_size, "size %d, expected %d", mpi.size, expected_size);

    /* 1. Nobody fails: everybody gets NULL. */
    err = NULL;
    EXPECT(floe_mpi_agree(mpi.comm, &err) == NULL, "spurious error");

    /* 2. Only the last rank fails. */
    err = mpi.rank == mpi.size - 1 ? FLOE_ERR(FLOE_ECHECKSUM, "file %s changed", "A.nc") : NULL;
    floe_mpi_agree(mpi.comm, &err);
    EXPECT(err != NULL, "error not propagated");
    char line[512];
    floe_err_line(err, line, sizeof line);
    EXPECT(floe_err_code(err) == FLOE_ECHECKSUM, "code %d", floe_err_code(err));
    if (mpi.rank == mpi.size - 1) {
        EXPECT(strcmp(line, "file A.nc changed") == 0, "own error replaced: '%s'", line);
    } else {
        char want[128];
        snprintf(want, sizeof want, "rank %d: file A.nc changed", mpi.size - 1);
        EXPECT(strcmp(line, want) == 0, "got '%s', want '%s'", line, want);
    }
    floe_err_free(&err);

    /* 3. Every odd rank fails: the lowest one speaks for the job. */
    err = (mpi.rank % 2) ? FLOE_ERR(FLOE_ENET, "rank %d timed out", mpi.rank) : NULL;
    floe_mpi_agree(mpi.comm, &err);
    if (mpi.size == 1) {
        EXPECT(err == NULL, "rank 0 did not fail");
    } else {
        floe_err_line(err, line, sizeof line);
        if (mpi.rank % 2) {
            char want[64];
            snprintf(want, sizeof want, "rank %d timed out", mpi.rank);
            EXPECT(strcmp(line, want) == 0, "got '%s'", line);
        } else {
            EXPECT(strcmp(line, "rank 1: rank 1 timed out") == 0, "got '%s'", line);
        }
    }
    floe_err_free(&err);

    /* 4. A failing MPI call on floe's communicator comes back as an error
     * (a send to a rank that does not exist), named with its context. */
    int x = 0;
    err = FLOE_CHECK_MPI(MPI_Send(&x, 1, MPI_INT, mpi.size, 0, mpi.comm), "to rank %d", mpi.size);
    EXPECT(err != NULL, "a send to rank %d succeeded", mpi.size);
    if (err) {
        floe_err_line(err, line, sizeof line);
        char want[64];
        snprintf(want, sizeof want, "to rank %d: MPI_Send failed: ", mpi.size);
        EXPECT(floe_err_code(err) == FLOE_EMPI, "code %d", floe_err_code(err));
        EXPECT(strncmp(line, want, strlen(want)) == 0 && strlen(line) > strlen(want),
               "got '%s', want '%s' and MPI's description", line, want);
    }
    floe_err_free(&err);
    EXPECT(FLOE_CHECK_MPI(MPI_Barrier(mpi.comm)) == NULL, "a barrier failed");

    int all_failures = 0;
    MPI_Allreduce(&failures, &all_failures, 1, MPI_INT, MPI_SUM, mpi.comm);
    if (mpi.rank == 0)
        printf("test_mpi_agree: %d ranks, %s\n", mpi.size, all_failures ? "FAILED" : "ok");
    floe_mpi_finalize(&mpi);
    return all_failures ? 1 : 0;
}
