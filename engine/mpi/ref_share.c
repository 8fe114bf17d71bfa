/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/ref_share.c - see ref_share.h: rank 0 makes each rank's
 * table in turn and sends it (its size, then, once the rank holds a
 * buffer, its bytes in pieces: an MPI count is an int); then the outcome
 * is broadcast and every rank installs its table, or none does. */
#include "engine/mpi/ref_share.h"

#include "common/floe_log.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* MPI counts are int: a table past INT_MAX bytes goes in pieces of this. */
#define SHARE_PIECE ((size_t)1 << 30)

/* The tags of the hand-out on floe's communicator: apart from the
 * collection protocol's (engine/mpi/collect.h), though no message of
 * theirs is in flight while the tables are handed out. */
enum {
    REF_SHARE_TAG_SIZE = 64,  /* rank 0 -> r: u64 table size, 0 = no table */
    REF_SHARE_TAG_READY = 65, /* r -> rank 0: u8, 1 = a buffer of that size is held */
    REF_SHARE_TAG_PIECE = 66, /* rank 0 -> r: the table's bytes */
};

static floe_err send_pieces(MPI_Comm comm, const uint8_t *p, size_t n, int to)
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

static floe_err recv_pieces(MPI_Comm comm, uint8_t *p, size_t n)
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

/* Rank 0: hand rank `to` its table t (NULL: none). Exactly one size
 * message, whatever t; the bytes only once the rank says it holds a
 * buffer for them. */
static floe_err send_table(MPI_Comm comm, int to, const floe_buf *t)
{
    uint64_t len = t ? t->len : 0;
    uint8_t ready = 0;
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Send(&len, 1, MPI_UINT64_T, to, REF_SHARE_TAG_SIZE, comm),
                              "rank %d's ref table's size", to));
    if (!len)
        return NULL;
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Recv(&ready, 1, MPI_UINT8_T, to, REF_SHARE_TAG_READY, comm,
                                       MPI_STATUS_IGNORE),
                              "rank %d's answer to its ref table's size", to));
    return ready ? send_pieces(comm, t->data, t->len, to) : NULL;
}

/* A rank other than 0: receive its table into *mine (*len 0: none). A
 * buffer that cannot be had is this rank's error, told to rank 0 so that
 * it sends nothing more. */
static floe_err recv_table(MPI_Comm comm, uint8_t **mine, uint64_t *len)
{
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Recv(len, 1, MPI_UINT64_T, 0, REF_SHARE_TAG_SIZE, comm,
                                       MPI_STATUS_IGNORE),
                              "this rank's ref table's size"));
    if (!*len)
        return NULL;
    floe_err err = NULL;
    if (*len > SIZE_MAX || !(*mine = malloc((size_t)*len)))
        err = FLOE_ERR(FLOE_ENOMEM, "the ref table of %llu bytes from rank 0",
                       (unsigned long long)*len);
    uint8_t ready = err == NULL;
    floe_err e = FLOE_CHECK_MPI(MPI_Send(&ready, 1, MPI_UINT8_T, 0, REF_SHARE_TAG_READY, comm),
                                "the answer to this rank's ref table's size");
    if (e) {
        floe_err_free(&err);
        return e;
    }
    return err ? err : recv_pieces(comm, *mine, (size_t)*len);
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

/* Rank 0: rank r's table into *t, or, when none can be made, a note of
 * why (the run goes on from the manifests) and *made cleared. */
static void make_table(floe_ref_share_make make, void *ctx, int r, floe_buf *t, int *made)
{
    floe_buf_init(t, SIZE_MAX);
    floe_err e = *made ? make(ctx, r, t) : NULL;
    if (!e)
        return;
    FLOE_INFO("no per-rank ref tables: every rank reads its chunk refs from the manifests "
              "(rank %d's table: %s)", r, floe_err_message(e));
    floe_err_free(&e);
    floe_buf_free(t);
    *made = 0;
}

floe_err floe_ref_share(const floe_mpi *mpi, floe_dataset *ds, floe_ref_share_make make,
                        void *ctx)
{
    floe_err err = NULL;
    floe_buf own;
    int made = make != NULL;
    if (mpi->rank == 0 && !made)
        FLOE_INFO("no per-rank ref tables: every rank reads its chunk refs from the manifests");
    if (mpi->size <= 1) {
        make_table(make, ctx, 0, &own, &made);
        err = made ? install(ds, own.data, own.len) : NULL;
        floe_buf_free(&own);
        return err;
    }
    /* Why this cannot hang: every rank r > 0 waits on rank 0 alone, for one
     * size message, which rank 0's loop sends each rank exactly once,
     * whatever went wrong before (a table that cannot be made is sent as
     * size 0, "none"; an MPI error on one rank's does not stop the next).
     * A rank told a size answers whether it holds a buffer for it, and
     * only then do the bytes follow, so no send waits on a receive that
     * will not be posted. Whether rank 0 made every table is known only
     * after the last, so the ranks keep what they got until the broadcast
     * below says whether to install it: every rank or none reads with a
     * table. Rank 0 holds one other rank's table at a time. */
    uint8_t *mine = NULL;
    uint64_t len = 0;
    if (mpi->rank == 0) {
        for (int r = 1; r < mpi->size; r++) {
            floe_buf t;
            make_table(make, ctx, r, &t, &made);
            floe_err e = send_table(mpi->comm, r, made ? &t : NULL);
            floe_buf_free(&t);
            if (!err)
                err = e;
            else
                floe_err_free(&e);
        }
        make_table(make, ctx, 0, &own, &made); /* its own last: one at a time */
    } else {
        err = recv_table(mpi->comm, &mine, &len);
    }
    int all = made;
    floe_err e = FLOE_CHECK_MPI(MPI_Bcast(&all, 1, MPI_INT, 0, mpi->comm),
                                "whether every rank has its ref table"); /* collective */
    if (!err)
        err = e;
    else
        floe_err_free(&e);
    if (!err && all)
        err = mpi->rank == 0 ? install(ds, own.data, own.len) : install(ds, mine, (size_t)len);
    if (mpi->rank == 0)
        floe_buf_free(&own);
    free(mine);
    return floe_mpi_agree(mpi->comm, &err); /* collective */
}
