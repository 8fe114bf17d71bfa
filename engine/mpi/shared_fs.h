/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/shared_fs.h - do all ranks see the output's folder as one
 * file system? The condition for each rank writing its own output chunks
 * into the file rank 0 creates (engine/job/stats_place.h): on a cluster
 * whose nodes write to node-local disks, the others would write into a
 * file of the same name that is not the output.
 *
 * Asked, not assumed: rank 0 creates a probe file next to the output
 * holding a random nonce, every other rank opens the same path and reads
 * it back, and the answer is agreed (all of them read the nonce, or the
 * output is gathered). The probe is removed before the answer returns. */
#ifndef FLOE_MPI_SHARED_FS_H
#define FLOE_MPI_SHARED_FS_H

#include "common/floe_error.h"
#include "engine/mpi/comm.h"

/* Collective over mpi->comm: *shared = 1 when every rank read rank 0's
 * nonce from a probe beside `output` (rank 0's path; the others' is
 * ignored), else 0 (also when rank 0 cannot create the probe: the output
 * itself will then say why). On one rank, 1 without a probe. An MPI
 * failure is returned (and *shared = 0); agree on it afterwards. */
floe_err floe_mpi_shared_fs(const floe_mpi *mpi, const char *output, int *shared);

#endif
