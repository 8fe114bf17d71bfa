/* SPDX-License-Identifier: Apache-2.0 */
/* tests/mpi/test_collect_abort.c - test_collect_abort send|recv (under
 * mpirun -np 2, driven by check_collect_abort.py): an MPI call that fails
 * in the middle of a payload of the rank-0 collection protocol
 * (engine/mpi/collect.h) must end the job, not hang it.
 *
 * The failure is injected at link time: this program is linked with
 * -Wl,--wrap=MPI_Send,--wrap=MPI_Recv, so collect.c's calls land in the
 * __wrap_ functions below, which fail one call (MPI_ERR_OTHER, nothing
 * sent or received) and pass every other one to the real MPI. floe's own
 * code carries no test hook.
 *   send: rank 1's MPI_Send of the second piece of a payload fails; rank 0
 *         is left waiting for that piece.
 *   recv: rank 0's MPI_Recv of the second piece fails; rank 1 is left
 *         blocked sending it.
 * Either way the protocol is out of step and no collective can bring the
 * ranks back together: the job must end (MPI_Abort) with one error line.
 * Without that, both ranks go on to the agreement that closes the phase,
 * as a job does, and wait there for ever. Exit status 0 would mean the
 * failure went unnoticed (the driver fails on it too). */
#include "common/floe_buf.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/comm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two pieces and a bit: the second piece is the one that fails. */
#define PAYLOAD (2 * FLOE_COLLECT_PIECE + 1)

int __real_MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                    MPI_Comm comm);
int __real_MPI_Recv(void *buf, int count, MPI_Datatype type, int src, int tag, MPI_Comm comm,
                    MPI_Status *st);
int __wrap_MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                    MPI_Comm comm);
int __wrap_MPI_Recv(void *buf, int count, MPI_Datatype type, int src, int tag, MPI_Comm comm,
                    MPI_Status *st);

/* Which call fails: the second piece sent (send) or received (recv). */
static int fail_send, fail_recv, pieces_sent, pieces_received;

int __wrap_MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
                    MPI_Comm comm)
{
    if (tag == FLOE_COLLECT_TAG_PIECE && ++pieces_sent == 2 && fail_send)
        return MPI_ERR_OTHER;
    return __real_MPI_Send(buf, count, type, dest, tag, comm);
}

int __wrap_MPI_Recv(void *buf, int count, MPI_Datatype type, int src, int tag, MPI_Comm comm,
                    MPI_Status *st)
{
    if (tag == FLOE_COLLECT_TAG_PIECE && ++pieces_received == 2 && fail_recv)
        return MPI_ERR_OTHER;
    return __real_MPI_Recv(buf, count, type, src, tag, comm, st);
}

int main(int argc, char **argv)
{
    floe_mpi mpi;
    if (floe_mpi_init(&argc, &argv, &mpi)) {
        fprintf(stderr, "MPI start-up failed\n");
        return 2;
    }
    const char *mode = argc > 1 ? argv[1] : "";
    if (mpi.size != 2 || (strcmp(mode, "send") && strcmp(mode, "recv"))) {
        fprintf(stderr, "usage: mpirun -np 2 test_collect_abort send|recv\n");
        return 2;
    }
    fail_send = mpi.rank == 1 && !strcmp(mode, "send");
    fail_recv = mpi.rank == 0 && !strcmp(mode, "recv");

    floe_err err = NULL;
    floe_buf b;
    floe_buf_init(&b, PAYLOAD);
    if (mpi.rank == 0) {
        floe_collector c;
        err = floe_collector_init(&c, &mpi);
        int ok = 0;
        if (!err)
            err = floe_collect_recv_status(&c, 1, &ok);
        if (!err && ok)
            err = floe_collect_recv_buf(&c, 1, &b);
        floe_collector_free(&c);
    } else {
        uint8_t *data = calloc(1, PAYLOAD);
        err = data ? floe_collect_send_status(&mpi, 0) : FLOE_ERR(FLOE_ENOMEM, "test payload");
        if (!err)
            err = floe_collect_send(&mpi, data, PAYLOAD);
        free(data);
    }
    floe_buf_free(&b);
    /* What a job does next: agree on the phase's result. */
    floe_mpi_agree(mpi.comm, &err);
    if (mpi.rank == 0)
        printf("test_collect_abort %s: the job went on (%s)\n", mode,
               err ? "with an error" : "as if nothing failed");
    floe_err_free(&err);
    floe_mpi_finalize(&mpi);
    return 0;
}
