/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec_internal.h - the decompressors behind zarr_chunk_decode, one
 * file per library (codec/deflate.c, codec/zstd.c, codec/blosc.c).
 *
 * Each decodes `in` (n bytes) into exactly `expected` bytes at out and
 * fails with FLOE_EFORMAT, naming `codec` (the name in zarr.json), when the
 * data is corrupt, truncated, or decodes to any other size. */
#ifndef FLOE_ZARR_CODEC_INTERNAL_H
#define FLOE_ZARR_CODEC_INTERNAL_H

#include "common/floe_error.h"

#include <libdeflate.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

/* zlib stream (RFC 1950), as numcodecs.zlib and HDF5's deflate filter write. */
floe_err codec_inflate_zlib(struct libdeflate_decompressor *dd, const char *codec, const uint8_t *in,
                            size_t n, uint8_t *out, size_t expected);
/* One or more gzip members (RFC 1952), as gzip and numcodecs.gzip write. */
floe_err codec_inflate_gzip(struct libdeflate_decompressor *dd, const char *codec, const uint8_t *in,
                            size_t n, uint8_t *out, size_t expected);
/* One or more zstd frames. */
floe_err codec_zstd_decode(ZSTD_DCtx *dctx, const char *codec, const uint8_t *in, size_t n, uint8_t *out,
                           size_t expected);
/* One blosc (1.x) frame. */
floe_err codec_blosc_decode(const char *codec, const uint8_t *in, size_t n, uint8_t *out, size_t expected);

#endif
