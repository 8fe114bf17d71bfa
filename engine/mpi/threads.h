/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/threads.h - how many worker threads a rank runs when the
 * request does not say (--threads unset: floe_open_request.threads 0).
 *
 * A rank uses the cores it may run on, no more: Slurm's
 * SLURM_CPUS_PER_TASK when set (the CPUs the job step gave each task),
 * else the rank's CPU affinity (common/floe_pool.h,
 * floe_pool_affinity_cores). Ranks started on one node without binding
 * (mpirun --oversubscribe, or mpirun -np 2 on a laptop) all have the same
 * affinity, the whole node: each then takes its share, the affinity's
 * cores divided by the ranks of the node with that very mask (at least 1),
 * so that N ranks on C cores run about C threads in all rather than N x C.
 * Ranks bound to different cores (srun, mpirun --bind-to core) keep their
 * own masks' counts.
 */
#ifndef FLOE_MPI_THREADS_H
#define FLOE_MPI_THREADS_H

#include "common/floe_error.h"
#include "engine/mpi/comm.h"

/* COLLECTIVE over mpi->comm (it splits off the ranks sharing this node's
 * memory and gathers their affinity masks; with one rank, comm
 * MPI_COMM_NULL included, no MPI call is made). *threads: the default
 * worker count of this rank, in 1..FLOE_POOL_MAX_WORKERS.
 * SLURM_CPUS_PER_TASK counts when it is a whole number in
 * 1..FLOE_POOL_MAX_WORKERS; any other value is ignored (a debug line says
 * so) and the affinity decides: it is Slurm's, not the user's, and a run
 * should not fail on it. Errors: an MPI call that failed (this rank's;
 * call floe_mpi_agree afterwards). */
floe_err floe_mpi_default_threads(const floe_mpi *mpi, int *threads);

#endif
