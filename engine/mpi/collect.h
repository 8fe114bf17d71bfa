/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/collect.h - THE rank-0 collection protocol: how the other
 * ranks hand their results to rank 0, which writes the output (extract's
 * batches, series' steps, stats' tiles and partial trees).
 *
 * Both sides derive the order of the exchange from the same plan, so no
 * message says what it is about. Each sender sends UNITS, in the order
 * rank 0 receives them; a unit is
 *   1. a status (FLOE_COLLECT_TAG_STATUS, one int: 0 ok, 1 failed);
 *   2. when ok, the unit's payloads, each a size (FLOE_COLLECT_TAG_SIZE, one
 *      uint64: bytes) followed by the bytes in pieces (FLOE_COLLECT_TAG_PIECE)
 *      of FLOE_COLLECT_PIECE bytes, the last one shorter.
 * A rank that reports a failure sends nothing more in this collection:
 * rank 0 records it in the collector's list of failed ranks and waits for
 * it no more (floe_collect_recv_status then answers "failed" without a
 * receive). The failure itself reaches every rank in the floe_mpi_agree
 * that closes the phase.
 *
 * Why a size message and bounded pieces: every message is MPI_Probe'd and
 * its tag and element count (MPI_Get_count) checked before it is
 * received, so a payload is never received into a buffer too small for it
 * (an MPI truncation error); an MPI count is an int, and a piece's length
 * (never above FLOE_COLLECT_PIECE) always fits one, so no size is cast
 * unchecked, however large the payload. And when rank 0 cannot hold a
 * payload (its allocation failed, or the payload exceeds the cap of the
 * floe_buf it goes to) it must still receive it: the sender may be
 * blocked in MPI_Send, and the next message from that rank must be read
 * in step. Bounded pieces let rank 0 drain such a payload through one
 * fixed scratch buffer of FLOE_COLLECT_PIECE bytes (static: draining
 * allocates nothing), then report the failure.
 *
 * Every send, probe and receive counts its bytes and the time it blocked
 * (engine/mpi/traffic.h, for --report).
 *
 * Nothing here is collective: these are point-to-point messages between
 * one sender and rank 0. The caller's phase is collective, and closes with
 * floe_mpi_agree. MPI is only called when the job has more than one rank.
 *
 * When a message fails: floe's communicator returns MPI errors instead of
 * aborting (engine/mpi/check.h), and every other failure travels up as a
 * floe_err. Not here. When a send, probe or receive of the protocol fails
 * (or rank 0 finds a message of another kind or length than the plan
 * says), the two sides are out of step: rank 0 would wait for pieces that
 * never come, or the sender stay blocked on one nobody receives, and the
 * agreement that closes the phase would never complete, a hang where Open
 * MPI's default handler would have ended the job. A desynchronised
 * protocol cannot be recovered collectively, so these functions print the
 * error line and call MPI_Abort(comm, 1): the one place floe ends the job
 * below main, by the MPI-defined way out. The failures the protocol is
 * built to survive (a payload rank 0 cannot hold, one of the wrong size, a
 * rank that reports failure) stay in step and are returned as errors.
 */
#ifndef FLOE_MPI_COLLECT_H
#define FLOE_MPI_COLLECT_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "engine/mpi/comm.h"

#include <stddef.h>

/* The tags of the protocol, on floe's own communicator. */
typedef enum floe_collect_tag {
    FLOE_COLLECT_TAG_STATUS = 1, /* one int: 0, the unit's payloads follow; 1, failed */
    FLOE_COLLECT_TAG_SIZE,       /* one uint64: the bytes of the next payload */
    FLOE_COLLECT_TAG_PIECE,      /* up to FLOE_COLLECT_PIECE bytes of that payload */
} floe_collect_tag;

/* Payloads travel in pieces of this many bytes (4 MiB): small enough for
 * the drain buffer to sit in static memory, large enough that the
 * per-message cost stays far below the cost of copying the bytes. */
#define FLOE_COLLECT_PIECE ((size_t)4 << 20)

/* ---- on a sending rank (rank != 0) ---- */

/* Start a unit: tell rank 0 whether its payloads follow (failed == 0) or
 * not; after failed != 0 send nothing more in this collection. */
floe_err floe_collect_send_status(const floe_mpi *mpi, int failed);
/* One payload of n bytes (any n): its size, then its pieces. */
floe_err floe_collect_send(const floe_mpi *mpi, const void *data, size_t n);

/* ---- on rank 0 ---- */

typedef struct floe_collector {
    const floe_mpi *mpi; /* borrowed */
    int *failed;         /* [mpi->size]: reported a failure; nothing more expected */
} floe_collector;

floe_err floe_collector_init(floe_collector *c, const floe_mpi *mpi);
/* Frees the list and NULLs it. */
void floe_collector_free(floe_collector *c);
/* Has rank r reported a failure in this collection? */
int floe_collector_failed(const floe_collector *c, int r);

/* The status of rank r's next unit: *ok = 1 when its payloads follow;
 * *ok = 0 when it reports a failure now, or did before (then nothing is
 * received). */
floe_err floe_collect_recv_status(floe_collector *c, int r, int *ok);
/* Rank r's next payload into b (reset first; b's cap bounds the size). A
 * payload b cannot hold is received and dropped (FLOE_ENOMEM naming the
 * rank and the size): the exchange stays in step. */
floe_err floe_collect_recv_buf(floe_collector *c, int r, floe_buf *b);
/* Rank r's next payload, which must be exactly n bytes, into dst. With
 * dst NULL (the caller could not allocate it, and holds that error) the
 * payload is received and dropped, and NULL returned. A payload of
 * another size is dropped too, and is FLOE_EINTERNAL (the two sides
 * planned differently). */
floe_err floe_collect_recv_exact(floe_collector *c, int r, void *dst, size_t n);

#endif
