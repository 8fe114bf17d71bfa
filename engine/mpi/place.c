/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/place.c - see place.h. */
#include "engine/mpi/place.h"

#include "engine/mpi/traffic.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

floe_err floe_mpi_scatter_offsets(const floe_mpi *mpi, const uint64_t *by_rank,
                                  const size_t *counts, size_t n, uint64_t *mine)
{
    if (mpi->size == 1) {
        if (n != counts[0])
            return FLOE_ERR(FLOE_EINTERNAL, "%zu chunks to place, %zu offsets", n, counts[0]);
        memcpy(mine, by_rank, n * sizeof *mine);
        return NULL;
    }
    /* MPI's counts and displacements are ints: every rank's number and the
     * sum must fit, and every rank's must be the one rank 0 holds */
    uint64_t have = n, *told = NULL;
    int *cnt = NULL, *displ = NULL, ok = 1;
    if (mpi->rank == 0) {
        told = calloc((size_t)mpi->size, sizeof *told);
        cnt = calloc((size_t)mpi->size, sizeof *cnt);
        displ = calloc((size_t)mpi->size, sizeof *displ);
        ok = told && cnt && displ;
    }
    double t0 = floe_traffic_now();
    /* rank 0's room, known to all before the gather that needs it */
    floe_err err = FLOE_CHECK_MPI(MPI_Bcast(&ok, 1, MPI_INT, 0, mpi->comm),
                                  "rank 0's room for the chunks to place");
    if (!err && !ok)
        err = FLOE_ERR(FLOE_ENOMEM, "rank 0: the offsets of %d ranks' chunks", mpi->size);
    if (!err)
        err = FLOE_CHECK_MPI(MPI_Gather(&have, 1, MPI_UINT64_T, told, 1, MPI_UINT64_T, 0,
                                        mpi->comm),
                             "the number of chunks each rank places");
    if (mpi->rank == 0 && ok && !err) {
        uint64_t sum = 0;
        for (int r = 0; r < mpi->size && ok; r++) {
            ok = told[r] == counts[r] && sum + counts[r] <= INT_MAX;
            cnt[r] = (int)counts[r];
            displ[r] = (int)sum;
            sum += counts[r];
        }
    }
    if (!err)
        err = FLOE_CHECK_MPI(MPI_Bcast(&ok, 1, MPI_INT, 0, mpi->comm),
                             "whether the chunks to place agree");
    if (!err && !ok)
        err = FLOE_ERR(FLOE_EINTERNAL, "the ranks' chunks to place are not the ones rank 0 "
                       "placed (or more than %d of them)", INT_MAX);
    if (!err)
        err = FLOE_CHECK_MPI(MPI_Scatterv(by_rank, cnt, displ, MPI_UINT64_T, mine, (int)n,
                                          MPI_UINT64_T, 0, mpi->comm),
                             "the offsets of the chunks to place");
    uint64_t others = 0;
    for (int r = 1; mpi->rank == 0 && cnt && r < mpi->size; r++)
        others += (uint64_t)cnt[r];
    if (mpi->rank == 0)
        floe_traffic_sent(others * sizeof *mine, t0);
    else
        floe_traffic_received(n * sizeof *mine, t0);
    free(told);
    free(cnt);
    free(displ);
    return err;
}
