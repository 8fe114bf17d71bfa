/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec/blosc.c - blosc 1.x frames (zarr "blosc", numcodecs.blosc). The
 * frame header says how it was shuffled and compressed, so the zarr.json
 * configuration is not needed to decode. */
#include "io/zarr/codec_internal.h"

#include <blosc.h>

floe_err codec_blosc_decode(const char *codec, const uint8_t *in, size_t n, uint8_t *out, size_t expected)
{
    size_t nbytes = 0;
    /* blosc_cbuffer_validate checks the header against n, which makes the
     * decompression below safe on hostile input (blosc_decompress_ctx is
     * not told the input size). */
    if (n < BLOSC_MIN_HEADER_LENGTH || blosc_cbuffer_validate(in, n, &nbytes) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "%s: not a valid blosc frame (%zu bytes)", codec, n);
    if (nbytes != expected)
        return FLOE_ERR(FLOE_EFORMAT, "%s: frame holds %zu bytes, the chunk holds %zu", codec, nbytes,
                        expected);
    /* _ctx: no global lock and no global state; one internal thread since
     * floe parallelises over chunks itself. */
    int got = blosc_decompress_ctx(in, out, expected, 1);
    if (got < 0 || (size_t)got != expected)
        return FLOE_ERR(FLOE_EFORMAT, "%s: corrupt blosc data (%zu bytes in)", codec, n);
    return NULL;
}
