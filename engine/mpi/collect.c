/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/collect.c - see collect.h. */
#include "engine/mpi/collect.h"

#include "common/floe_interrupt.h"
#include "common/floe_log.h"
#include "engine/mpi/traffic.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

_Static_assert(FLOE_COLLECT_PIECE <= (size_t)INT_MAX, "a piece's length is an MPI count (int)");

/* Where rank 0 drains the pieces of a payload it cannot keep. Static, so
 * that draining never allocates; only the thread that calls MPI (FUNNELED)
 * uses it. */
static uint8_t drain_scratch[FLOE_COLLECT_PIECE];

static size_t piece_len(uint64_t total, uint64_t done)
{
    uint64_t left = total - done;
    return left < FLOE_COLLECT_PIECE ? (size_t)left : FLOE_COLLECT_PIECE;
}

/* THE ONE PLACE FLOE ABORTS (see collect.h, "When a message fails"). err
 * is the failure of a message of the protocol, after which the two sides
 * are out of step: the peer waits for a message that will not come, or is
 * blocked sending one nobody will receive, and no collective can bring the
 * ranks back together (the peer never reaches it). So the job ends here:
 * the error line is printed (flushed, redacted, through the log) and
 * MPI_Abort, MPI's own way out, ends every rank with status 1, as Open
 * MPI's default error handler would have. NULL passes through. Should
 * MPI_Abort return (it must not), the error goes up as any other. */
static floe_err out_of_step(const floe_mpi *mpi, floe_err err)
{
    if (!err)
        return NULL;
    char line[1024];
    floe_log(FLOE_LOG_ERROR, "%s (the rank-0 collection is out of step: ending the job)",
             floe_err_line(err, line, sizeof line));
    /* The abort does not unwind: the files being written go now, and the
     * SIGTERM that mpirun sends the other ranks is not announced. */
    floe_interrupt_abandon();
    MPI_Abort(mpi->comm, 1);
    return err;
}

floe_err floe_collect_send_status(const floe_mpi *mpi, int failed)
{
    int status = failed ? 1 : 0;
    double t0 = floe_traffic_now();
    floe_err err = FLOE_CHECK_MPI(MPI_Send(&status, 1, MPI_INT, 0, FLOE_COLLECT_TAG_STATUS,
                                           mpi->comm),
                                  "status to rank 0");
    floe_traffic_sent(sizeof status, t0);
    return out_of_step(mpi, err);
}

floe_err floe_collect_send(const floe_mpi *mpi, const void *data, size_t n)
{
    uint64_t size = n;
    double t0 = floe_traffic_now();
    floe_err err = FLOE_CHECK_MPI(MPI_Send(&size, 1, MPI_UINT64_T, 0, FLOE_COLLECT_TAG_SIZE,
                                           mpi->comm),
                                  "size of a payload of %zu bytes to rank 0", n);
    floe_traffic_sent(sizeof size, t0);
    FLOE_CHECK(out_of_step(mpi, err));
    for (uint64_t done = 0; done < size;) {
        size_t k = piece_len(size, done);
        t0 = floe_traffic_now();
        err = FLOE_CHECK_MPI(MPI_Send((const uint8_t *)data + done, (int)k, MPI_BYTE, 0,
                                      FLOE_COLLECT_TAG_PIECE, mpi->comm),
                             "bytes %llu.. of a payload of %zu bytes to rank 0",
                             (unsigned long long)done, n);
        floe_traffic_sent(k, t0);
        FLOE_CHECK(out_of_step(mpi, err));
        done += k;
    }
    return NULL;
}

floe_err floe_collector_init(floe_collector *c, const floe_mpi *mpi)
{
    c->mpi = mpi;
    c->failed = calloc((size_t)mpi->size, sizeof *c->failed);
    if (!c->failed)
        return FLOE_ERR(FLOE_ENOMEM, "the list of failed ranks (%d ranks)", mpi->size);
    return NULL;
}

void floe_collector_free(floe_collector *c)
{
    free(c->failed);
    c->failed = NULL;
}

int floe_collector_failed(const floe_collector *c, int r)
{
    return c->failed[r];
}

static const char *tag_name(int tag)
{
    return tag == FLOE_COLLECT_TAG_STATUS ? "a status"
           : tag == FLOE_COLLECT_TAG_SIZE ? "a payload size"
           : tag == FLOE_COLLECT_TAG_PIECE ? "a payload piece" : "an unknown message";
}

/* Receive rank r's next message, which must carry `tag` and exactly `count`
 * elements of `type`: probed and checked first, so that a message of
 * another kind or length is reported instead of being received into a
 * buffer that does not fit it (MPI's truncation error). Any failure here
 * leaves the exchange with rank r out of step (the message is not
 * received; rank r may be blocked sending it): out_of_step ends the job. */
static floe_err recv_checked(floe_collector *c, int r, int tag, MPI_Datatype type, void *buf,
                             int count)
{
    MPI_Status st;
    double t0 = floe_traffic_now();
    floe_err err = FLOE_CHECK_MPI(MPI_Probe(r, MPI_ANY_TAG, c->mpi->comm, &st),
                                  "waiting for %s from rank %d", tag_name(tag), r);
    floe_traffic_received(0, t0);
    FLOE_CHECK(out_of_step(c->mpi, err));
    int got = 0;
    FLOE_CHECK(out_of_step(c->mpi, FLOE_CHECK_MPI(MPI_Get_count(&st, type, &got),
                                                  "%s from rank %d", tag_name(tag), r)));
    if (st.MPI_TAG != tag || got != count)
        return out_of_step(c->mpi, FLOE_ERR(FLOE_EINTERNAL, "rank %d sent %s of %d element(s) "
                                            "where the collection protocol expects %s of %d", r,
                                            tag_name(st.MPI_TAG), got, tag_name(tag), count));
    int esize = 0;
    MPI_Type_size(type, &esize);
    t0 = floe_traffic_now();
    err = FLOE_CHECK_MPI(MPI_Recv(buf, count, type, r, tag, c->mpi->comm, MPI_STATUS_IGNORE),
                         "%s from rank %d", tag_name(tag), r);
    floe_traffic_received((uint64_t)count * (uint64_t)esize, t0);
    return out_of_step(c->mpi, err);
}

floe_err floe_collect_recv_status(floe_collector *c, int r, int *ok)
{
    *ok = 0;
    if (c->failed[r])
        return NULL;
    int status = 1;
    FLOE_CHECK(recv_checked(c, r, FLOE_COLLECT_TAG_STATUS, MPI_INT, &status, 1));
    if (status != 0)
        c->failed[r] = 1; /* its error comes in the agreement */
    *ok = status == 0;
    return NULL;
}

static floe_err recv_size(floe_collector *c, int r, uint64_t *size)
{
    return recv_checked(c, r, FLOE_COLLECT_TAG_SIZE, MPI_UINT64_T, size, 1);
}

/* The pieces of a payload of `size` bytes, into dst, or drained when dst
 * is NULL. */
static floe_err recv_pieces(floe_collector *c, int r, uint8_t *dst, uint64_t size)
{
    for (uint64_t done = 0; done < size;) {
        size_t k = piece_len(size, done);
        FLOE_CHECK(recv_checked(c, r, FLOE_COLLECT_TAG_PIECE, MPI_BYTE,
                                dst ? dst + done : drain_scratch, (int)k),
                   "bytes %llu.. of a payload of %llu", (unsigned long long)done,
                   (unsigned long long)size);
        done += k;
    }
    return NULL;
}

floe_err floe_collect_recv_buf(floe_collector *c, int r, floe_buf *b)
{
    uint64_t size = 0;
    FLOE_CHECK(recv_size(c, r, &size));
    floe_buf_reset(b);
    uint8_t *space = NULL;
    floe_err room = size <= SIZE_MAX ? floe_buf_reserve(b, (size_t)size, &space)
                                     : FLOE_ERR(FLOE_ENOMEM, "more than SIZE_MAX bytes");
    floe_err err = recv_pieces(c, r, room ? NULL : space, size);
    if (err) {
        floe_err_free(&room);
        return err;
    }
    if (room)
        return floe_err_push(room, __FILE__, __LINE__, " a payload of %llu bytes from rank %d",
                             (unsigned long long)size, r);
    floe_buf_commit(b, (size_t)size);
    return NULL;
}

floe_err floe_collect_recv_exact(floe_collector *c, int r, void *dst, size_t n)
{
    uint64_t size = 0;
    FLOE_CHECK(recv_size(c, r, &size));
    FLOE_CHECK(recv_pieces(c, r, size == n ? dst : NULL, size));
    if (size != n)
        return FLOE_ERR(FLOE_EINTERNAL, "rank %d sent a payload of %llu bytes where rank 0 "
                        "expects %zu", r, (unsigned long long)size, n);
    return NULL;
}
