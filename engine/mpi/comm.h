/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/comm.h - MPI start-up and the collective error agreement.
 *
 * floe runs the same way on one rank without mpirun (MPI singleton) and on
 * many ranks under mpirun or srun. Every collective function says so in its
 * comment: all ranks of the communicator must call it, in the same order.
 */
#ifndef FLOE_MPI_H
#define FLOE_MPI_H

#include "common/floe_error.h"
#include "engine/mpi/check.h"

#include <mpi.h>

typedef struct floe_mpi {
    MPI_Comm comm; /* floe's own duplicate of MPI_COMM_WORLD */
    int rank;
    int size;
    int initialized_here; /* floe called MPI_Init, so it calls MPI_Finalize */
    /* The MPI library gives less than MPI_THREAD_FUNNELED: the process
     * must not start worker threads (floe_pool), whatever --threads says. */
    int no_threads;
} floe_mpi;

/* Collective over MPI_COMM_WORLD. Initialises MPI if nobody has, duplicates
 * the world communicator, sets MPI_ERRORS_RETURN on the duplicate (so that
 * FLOE_CHECK_MPI sees failures instead of MPI aborting the job inside the
 * call) and tells the logger the rank. A process that no
 * MPI launcher started (no mpirun/srun environment; FLOE_MPI_INIT=1 forces
 * MPI) runs as one rank WITHOUT initialising MPI: comm is MPI_COMM_NULL,
 * size 1, and callers must not call MPI themselves when size is 1. */
floe_err floe_mpi_init(int *argc, char ***argv, floe_mpi *mpi);
/* Collective. Frees the communicator; finalises MPI if floe_mpi_init
 * initialised it. Nothing is left to fail to at that point: an MPI error
 * here is logged as a warning. */
void floe_mpi_finalize(floe_mpi *mpi);
/* Collective over mpi->comm (a no-op on one rank without MPI): no rank
 * returns before every rank has called it. */
floe_err floe_mpi_barrier(const floe_mpi *mpi);

/* Collective over comm: agree on whether a step failed anywhere.
 * On entry *errp is this rank's result (NULL = ok). On return every rank
 * holds an error if any rank did: its own if it failed, otherwise one that
 * carries the code and message of the lowest failing rank ("rank 2: ...").
 * Without this a failure on one rank leaves the others blocked in the next
 * collective. Returns the agreed result (the same pointer as *errp). */
floe_err floe_mpi_agree(MPI_Comm comm, floe_err *errp);

#endif
