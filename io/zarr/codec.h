/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec.h - decode Zarr v3 chunks through their codec chain.
 *
 * A chunk is encoded by applying the codecs of zarr.json in order
 * (array->array, then the one array->bytes, then bytes->bytes); decoding
 * runs them backwards. Every decoded size is known in advance (the chunk's
 * nbytes plus 4 per checksum trailer), so decompressors write into buffers
 * of exactly that size and a stream that decodes to any other size is
 * FLOE_EFORMAT. Chains with two compressors are refused when zarr.json is
 * parsed (the inner size would be unknown).
 *
 * The hot path does not allocate: a zarr_decoder owns the libdeflate
 * decompressor, the ZSTD_DCtx and two scratch buffers that grow to the
 * largest chunk seen. One decoder per thread; decoders are independent.
 *
 *     zarr_decoder *d;
 *     FLOE_CHECK(zarr_decoder_new(&d));
 *     for each chunk:
 *         FLOE_CHECK(zarr_chunk_decode(d, meta, bytes, n, out), "chunk %s", key);
 *     zarr_decoder_free(&d);
 *
 * Errors: FLOE_EFORMAT for corrupt, truncated or wrongly sized data,
 * FLOE_ECHECKSUM when a crc32c or fletcher32 trailer does not match.
 * Messages name the codec ("numcodecs.zlib: ...").
 */
#ifndef FLOE_ZARR_CODEC_H
#define FLOE_ZARR_CODEC_H

#include "common/floe_error.h"
#include "io/zarr/meta.h"

#include <stddef.h>
#include <stdint.h>

typedef struct zarr_decoder zarr_decoder;

floe_err zarr_decoder_new(zarr_decoder **out);
void zarr_decoder_free(zarr_decoder **d);

/* Decode one encoded chunk (in, n bytes) into out: zarr_chunk_nbytes(m)
 * bytes, native byte order, C order of the chunk's own shape. `out` must
 * not overlap `in`. On error the contents of out are unspecified. */
floe_err zarr_chunk_decode(zarr_decoder *d, const zarr_array_meta *m, const uint8_t *in, size_t n,
                           uint8_t *out);

/* Fill out (zarr_chunk_nbytes(m) bytes) with the fill value: a chunk that
 * has no stored object. */
void zarr_chunk_fill(const zarr_array_meta *m, uint8_t *out);

/* ---- codec primitives (exposed for the tests and other readers) ---------- */

/* CRC-32C (Castagnoli, reflected 0x82F63B78), as in RFC 3720 and Zarr's
 * crc32c codec: zarr_crc32c(0, "123456789", 9) == 0xE3069283. `crc` is a
 * previous result to continue from (0 to start). */
uint32_t zarr_crc32c(uint32_t crc, const void *data, size_t n);

/* HDF5's Fletcher-32 (H5_checksum_fletcher32): 16-bit words read
 * big-endian, a trailing odd byte as the high byte of a word, sums folded
 * with end-around carry every 360 words. */
uint32_t zarr_fletcher32(const void *data, size_t n);

/* Undo the HDF5/numcodecs byte shuffle: `in` holds byte 0 of every element,
 * then byte 1 of every element, ...; a tail of n % elementsize bytes is
 * stored unshuffled (as HDF5 does). */
void zarr_unshuffle(const uint8_t *in, uint8_t *out, size_t n, size_t elementsize);

/* Reverse the byte order of each of the n / itemsize items, in place. */
void zarr_byteswap(uint8_t *buf, size_t n, size_t itemsize);

/* Undo a transpose codec: `in` is in C order of the encoded shape
 * (encoded[i] = shape[order[i]]); write C order of `shape` to out. */
void zarr_untranspose(const uint8_t *in, uint8_t *out, int ndim, const uint64_t *shape,
                      const int *order, size_t itemsize);

#endif
