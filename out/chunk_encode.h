/* SPDX-License-Identifier: Apache-2.0 */
/* out/chunk_encode.h - one chunk of a NetCDF-4 variable of 4- or 8-byte
 * elements (float, int32, double), through
 * the filters out/netcdf_writer.c gives every compressed variable (HDF5
 * shuffle, then deflate), ready for nc_writer_put_raw_chunk.
 *
 * Why: so that the ranks that computed a tile also compress it, in
 * parallel, and the rank that writes the file only stores bytes. libdeflate
 * makes the zlib stream (RFC 1950, what HDF5's deflate filter reads) about
 * three times as fast as zlib itself at the same level.
 */
#ifndef FLOE_NETCDF_CHUNK_ENCODE_H
#define FLOE_NETCDF_CHUNK_ENCODE_H

#include "common/floe_buf.h"
#include "common/floe_error.h"

#include <stddef.h>

/* values: h x w elements of esize bytes (4 or 8, native order, row-major),
 * the part of a ch x cw chunk that lies inside the variable (h <= ch,
 * w <= cw: an edge chunk); HDF5 stores edge chunks whole, so the rest is
 * padded with `fill` (one element's bytes). The encoded chunk replaces the
 * contents of *out (whose cap must allow it). */
floe_err nc_chunk_encode(const void *values, size_t esize, size_t h, size_t w, size_t ch,
                         size_t cw, const void *fill, int deflate_level, floe_buf *out);

#endif
