/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/place.h - rank 0 tells every rank where in the output file
 * its chunks go: the second half of placed output (engine/job/stats_place.h),
 * after the sizes travelled the other way in the collection protocol
 * (engine/mpi/collect.h). */
#ifndef FLOE_MPI_PLACE_H
#define FLOE_MPI_PLACE_H

#include "common/floe_error.h"
#include "engine/mpi/comm.h"

#include <stddef.h>
#include <stdint.h>

/* Collective over mpi->comm. Every rank holds n chunks to place; rank 0
 * holds, in by_rank (rank 0 only; grouped by rank, rank 0's own first,
 * each rank's in its order), the file offsets of every rank's chunks,
 * counts[r] of them for rank r. On return mine[0..n) (room for n given by
 * the caller) holds this rank's. A rank whose n differs from what rank 0
 * holds for it (the two sides planned differently) is FLOE_EINTERNAL on
 * every rank, found before any offset travels. Counted in
 * engine/mpi/traffic.h. */
floe_err floe_mpi_scatter_offsets(const floe_mpi *mpi, const uint64_t *by_rank,
                                  const size_t *counts, size_t n, uint64_t *mine);

#endif
