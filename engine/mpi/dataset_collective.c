/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/dataset_collective.c - see dataset_collective.h. */
#include "engine/mpi/dataset_collective.h"

#include "common/floe_log.h"
#include "engine/mpi/threads.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* MPI counts are int: a blob past INT_MAX bytes goes in pieces of this. */
#define BCAST_PIECE ((size_t)1 << 30)

/* COLLECTIVE: broadcast n bytes at p from rank 0. */
static floe_err bcast_bytes(MPI_Comm comm, void *p, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < BCAST_PIECE ? n - done : BCAST_PIECE;
        _Static_assert(BCAST_PIECE <= (size_t)INT_MAX, "an MPI count is an int");
        FLOE_CHECK(FLOE_CHECK_MPI(MPI_Bcast((uint8_t *)p + done, (int)k, MPI_BYTE, 0, comm),
                                  "the metadata blob at byte %zu of %zu", done, n));
        done += k;
    }
    return NULL;
}

floe_err floe_dataset_open_collective(const floe_mpi *mpi, const floe_open_request *req,
                                      floe_dataset **out)
{
    *out = NULL;
    floe_open_request r = *req;
    r.record = 0;
    r.preload = NULL;
    r.preload_len = 0;
    /* --threads unset: the rank's share of its cores (collective; every
     * rank has the same request, so all or none of them call it). */
    floe_err err = r.threads == 0 ? floe_mpi_default_threads(mpi, &r.threads) : NULL;
    if (!err && mpi->no_threads && r.threads > 1) {
        if (mpi->rank == 0)
            FLOE_WARN("the MPI library allows no threads besides the one calling it "
                      "(MPI_THREAD_FUNNELED): 1 thread per rank instead of %d", r.threads);
        r.threads = 1;
    }
    if (mpi->size <= 1)
        return err ? err : floe_dataset_open(&r, out);
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        return err;

    const void *blob = NULL;
    uint64_t len = 0;
    if (mpi->rank == 0) {
        /* Retries and their waits happen in here (the transport's policy);
         * the other ranks block in the agreement below meanwhile, without
         * a timeout. */
        r.record = 1;
        err = floe_dataset_open(&r, out);
        size_t n = 0;
        if (!err)
            err = floe_dataset_recorded(*out, &blob, &n);
        len = n;
    }
    /* Rank 0's failure becomes every rank's before anyone waits for bytes. */
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        goto fail;
    err = FLOE_CHECK_MPI(MPI_Bcast(&len, 1, MPI_UINT64_T, 0, mpi->comm),
                         "the metadata blob's size");
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        goto fail;
    uint8_t *mine = NULL;
    if (mpi->rank != 0) {
        if (len > SIZE_MAX || !(mine = malloc(len ? (size_t)len : 1)))
            err = FLOE_ERR(FLOE_ENOMEM, "the metadata blob of %llu bytes from rank 0",
                           (unsigned long long)len);
    }
    /* Every rank must hold its buffer before the bytes are broadcast. */
    if (!floe_mpi_agree(mpi->comm, &err)) /* collective */
        err = bcast_bytes(mpi->comm, mpi->rank == 0 ? (void *)blob : mine, (size_t)len);
    if (!err && mpi->rank != 0) {
        r.preload = mine;
        r.preload_len = (size_t)len;
        err = floe_dataset_open(&r, out);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__,
                                " opening from the metadata rank 0 read (%llu bytes)",
                                (unsigned long long)len);
        else
            FLOE_DEBUG("opened %s from rank 0's metadata (%llu bytes)", req->source,
                       (unsigned long long)len);
    }
    free(mine);
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        goto fail;
    return NULL;
fail:
    floe_dataset_free(out);
    return err;
}
