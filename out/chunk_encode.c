/* SPDX-License-Identifier: Apache-2.0 */
/* out/chunk_encode.c - see chunk_encode.h. */
#include "out/chunk_encode.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* HDF5's shuffle with E-byte elements: byte k of every element, for k =
 * 0..E-1 in turn. Padding comes first so the chunk is complete. E is a
 * constant in each instantiation, so the byte loop unrolls. */
static inline __attribute__((always_inline)) void
shuffle_padded(const uint8_t *values, size_t e, size_t h, size_t w, size_t ch, size_t cw,
               const uint8_t *fill, uint8_t *out)
{
    size_t n = ch * cw;
    for (size_t y = 0; y < ch; y++)
        for (size_t x = 0; x < cw; x++) {
            size_t i = y * cw + x;
            const uint8_t *b = (y < h && x < w) ? values + (y * w + x) * e : fill;
            for (size_t k = 0; k < e; k++)
                out[k * n + i] = b[k];
        }
}

floe_err nc_chunk_encode(const void *values, size_t esize, size_t h, size_t w, size_t ch,
                         size_t cw, const void *fill, int deflate_level, floe_buf *out)
{
    if (h > ch || w > cw || ch == 0 || cw == 0 || deflate_level < 1 || deflate_level > 9 ||
        (esize != 4 && esize != 8))
        return FLOE_ERR(FLOE_EINTERNAL,
                        "chunk encode: %zux%zu values of %zu bytes in a %zux%zu chunk, level %d",
                        h, w, esize, ch, cw, deflate_level);
    size_t raw = ch * cw * esize;
    uint8_t *shuffled = malloc(raw);
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(deflate_level);
    floe_err err = shuffled && c ? NULL : FLOE_ERR(FLOE_ENOMEM, "chunk encode: %zu bytes", raw);
    uint8_t *space = NULL;
    size_t bound = c ? libdeflate_zlib_compress_bound(c, raw) : 0;
    floe_buf_reset(out);
    if (!err)
        err = floe_buf_reserve(out, bound, &space);
    if (!err) {
        if (esize == 4)
            shuffle_padded(values, 4, h, w, ch, cw, fill, shuffled);
        else
            shuffle_padded(values, 8, h, w, ch, cw, fill, shuffled);
        size_t n = libdeflate_zlib_compress(c, shuffled, raw, space, bound);
        if (n == 0)
            err = FLOE_ERR(FLOE_EINTERNAL, "chunk encode: libdeflate found no room in %zu bytes",
                           bound);
        else
            floe_buf_commit(out, n);
    }
    if (c)
        libdeflate_free_compressor(c);
    free(shuffled);
    return err;
}
