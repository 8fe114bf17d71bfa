/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/ref_share.c - see ref_share.h: each rank's table size
 * scattered, then its bytes sent point to point, in pieces (an MPI count
 * is an int). */
#include "engine/mpi/ref_share.h"

#include "common/floe_log.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* MPI counts are int: a table past INT_MAX bytes goes in pieces of this. */
#define SHARE_PIECE ((size_t)1 << 30)

/* The tag of a table's pieces on floe's communicator: apart from the
 * collection protocol's (engine/mpi/collect.h), though no message of
 * theirs is in flight while the tables are handed out. */
enum { REF_SHARE_TAG_PIECE = 64 };

static floe_err send_table(MPI_Comm comm, const uint8_t *p, size_t n, int to)
{
    _Static_assert(SHARE_PIECE <= (size_t)INT_MAX, "an MPI count is an int");
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SHARE_PIECE ? n - done : SHARE_PIECE;
        FLOE_CHECK(FLOE_CHECK_MPI(MPI_Send(p + done, (int)k, MPI_BYTE, to, REF_SHARE_TAG_PIECE,
                                           comm),
                                  "rank %d's ref table at byte %zu of %zu", to, done, n));
        done += k;
    }
    return NULL;
}

static floe_err recv_table(MPI_Comm comm, uint8_t *p, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SHARE_PIECE ? n - done : SHARE_PIECE;
        FLOE_CHECK(FLOE_CHECK_MPI(MPI_Recv(p + done, (int)k, MPI_BYTE, 0, REF_SHARE_TAG_PIECE,
                                           comm, MPI_STATUS_IGNORE),
                                  "this rank's ref table at byte %zu of %zu", done, n));
        done += k;
    }
    return NULL;
}

/* Install this rank's table (len 0: none) and drop the manifests. */
static floe_err install(floe_dataset *ds, const void *blob, size_t len)
{
    if (!len)
        return NULL;
    FLOE_CHECK(floe_dataset_use_refs(ds, blob, len), "the ref table from rank 0 (%zu bytes)",
               len);
    floe_dataset_drop_manifests(ds);
    floe_dataset_io io;
    floe_dataset_io_stats(ds, &io);
    FLOE_DEBUG("ref table installed: %llu chunk refs in %zu bytes",
               (unsigned long long)io.refs_received, len);
    return NULL;
}

floe_err floe_ref_share(const floe_mpi *mpi, floe_dataset *ds, const floe_buf *tables)
{
    if (mpi->size <= 1)
        return tables ? install(ds, tables[0].data, tables[0].len) : NULL;
    floe_err err = NULL;
    uint64_t *lens = NULL, len = 0;
    uint8_t *mine = NULL;
    if (mpi->rank == 0) {
        if (!(lens = calloc((size_t)mpi->size, sizeof *lens)))
            err = FLOE_ERR(FLOE_ENOMEM, "the sizes of %d ref tables", mpi->size);
        for (int r = 0; lens && tables && r < mpi->size; r++)
            lens[r] = tables[r].len;
    }
    /* Rank 0's failure becomes every rank's before anyone waits for bytes. */
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        goto done;
    err = FLOE_CHECK_MPI(MPI_Scatter(lens, 1, MPI_UINT64_T, &len, 1, MPI_UINT64_T, 0, mpi->comm),
                         "the ref tables' sizes"); /* collective */
    if (!err && mpi->rank != 0 && len &&
        (len > SIZE_MAX || !(mine = malloc((size_t)len))))
        err = FLOE_ERR(FLOE_ENOMEM, "the ref table of %llu bytes from rank 0",
                       (unsigned long long)len);
    /* Every rank must hold its buffer before rank 0 sends. */
    if (!floe_mpi_agree(mpi->comm, &err)) { /* collective */
        if (mpi->rank == 0) {
            /* every rank waits for its table: each is sent, whatever
             * happened to another's */
            for (int r = 1; r < mpi->size; r++) {
                floe_err e = send_table(mpi->comm, tables ? tables[r].data : NULL,
                                        (size_t)lens[r], r);
                if (!err)
                    err = e;
                else
                    floe_err_free(&e);
            }
            if (!err)
                err = install(ds, tables ? tables[0].data : NULL, (size_t)lens[0]);
        } else if (len) {
            err = recv_table(mpi->comm, mine, (size_t)len);
            if (!err)
                err = install(ds, mine, (size_t)len);
        }
    }
    floe_mpi_agree(mpi->comm, &err); /* collective */
done:
    free(mine);
    free(lens);
    return err;
}
