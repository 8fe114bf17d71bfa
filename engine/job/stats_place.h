/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_place.h - placed output: the ranks write their own
 * output chunks into the file, so that rank 0 no longer receives them.
 *
 * Space-major with raw chunks (stats_internal.h), every rank compresses
 * its tiles' chunks. Gathered (--gather-output, small outputs, ranks that
 * do not share the output's file system), it sends them to rank 0, which
 * stores them with HDF5's direct chunk write. Placed, it sends only their
 * sizes and keeps the bytes; rank 0 stores a placeholder of each size in
 * the chunk's turn (out/netcdf_writer.h: HDF5 allocates by size alone, so
 * the file is laid out as if the chunk were there), notes the file offset
 * HDF5 gave it, and finishes the file; then every rank learns the offsets
 * of its chunks (engine/mpi/place.h) and writes them there, flushed,
 * before the agreement that lets rank 0 commit the output. The file is the
 * same byte for byte as the gathered one.
 *
 * Memory: a rank keeps its chunks' compressed bytes until the file is
 * finished, its share of the output (about a rank count-th of it);
 * gathered, it kept one tile's. */
#ifndef FLOE_JOB_STATS_PLACE_H
#define FLOE_JOB_STATS_PLACE_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "engine/mpi/comm.h"

#include <stddef.h>
#include <stdint.h>

/* Outputs smaller than this (the values' bytes before compression) are
 * gathered: the probe, the offsets' round trip and every rank's open and
 * flush of the file cost a few milliseconds, more than sending a
 * mebibyte to rank 0 takes. */
#define STATS_PLACE_MIN_BYTES ((uint64_t)1 << 20)
/* A rank keeps its compressed chunks until rank 0 has finished the file:
 * at most its share of the output's values (compression only shrinks
 * them, but for a few bytes a block). Where some rank's share exceeds
 * this fraction of the node's memory (1/STATS_PLACE_MEMORY_DIVISOR), the
 * output is gathered instead: rank 0 holds one tile at a time. */
#define STATS_PLACE_MEMORY_DIVISOR 4

typedef struct stats_place {
    int on; /* this run places its chunks (agreed on every rank) */
    /* rank 0: the placeholders, in the order written */
    uint64_t *addr;
    int *rank;
    size_t n, cap;
    /* the other ranks: their chunks' bytes one after another, and sizes */
    floe_buf held;
    size_t *lens;
    size_t nlens, lens_cap;
} stats_place;

void stats_place_free(stats_place *p);

/* Another rank: keep the n chunks enc[0..n) (their bytes and sizes). */
floe_err stats_place_hold(stats_place *p, const floe_buf *enc, size_t n);
/* Rank 0: a placeholder for a chunk of rank r is at addr. */
floe_err stats_place_note(stats_place *p, int r, uint64_t addr);

/* Collective over mpi->comm: after phase 3, with err this rank's result
 * so far (consumed; the result is returned): agreed first; then rank 0's
 * finished temporary (tmp, rank 0's; ignored elsewhere) is named to every
 * rank, each learns its chunks' offsets and writes them there (shown: the
 * output's name, for errors). Ends agreed: when it returns, every rank's
 * chunks are in the file, or every rank holds an error. Rank 0 calls it
 * from stats_write_output, before the Item (whose checksum reads the
 * whole file), the others after stats_send_share. */
floe_err stats_place_write(stats_place *p, const floe_mpi *mpi, const char *tmp,
                           const char *shown, floe_err err);

#endif
