/* SPDX-License-Identifier: Apache-2.0 */
/* out/chunk_encode.c - see chunk_encode.h. */
#include "out/chunk_encode.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* HDF5's shuffle with 4-byte elements: byte k of every element, for k =
 * 0..3 in turn. Padding comes first so the chunk is complete. */
static void shuffle4_padded(const float *values, size_t h, size_t w, size_t ch, size_t cw,
                            float fill, uint8_t *out)
{
    size_t n = ch * cw;
    uint8_t fb[4];
    memcpy(fb, &fill, 4);
    for (size_t y = 0; y < ch; y++)
        for (size_t x = 0; x < cw; x++) {
            size_t i = y * cw + x;
            const uint8_t *b = (y < h && x < w) ? (const uint8_t *)&values[y * w + x] : fb;
            out[i] = b[0];
            out[n + i] = b[1];
            out[2 * n + i] = b[2];
            out[3 * n + i] = b[3];
        }
}

floe_err nc_chunk_encode_f32(const float *values, size_t h, size_t w, size_t ch, size_t cw,
                             float fill, int deflate_level, floe_buf *out)
{
    if (h > ch || w > cw || ch == 0 || cw == 0 || deflate_level < 1 || deflate_level > 9)
        return FLOE_ERR(FLOE_EINTERNAL, "chunk encode: %zux%zu values in a %zux%zu chunk, level %d",
                        h, w, ch, cw, deflate_level);
    size_t raw = ch * cw * sizeof(float);
    uint8_t *shuffled = malloc(raw);
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(deflate_level);
    floe_err err = shuffled && c ? NULL : FLOE_ERR(FLOE_ENOMEM, "chunk encode: %zu bytes", raw);
    uint8_t *space = NULL;
    size_t bound = c ? libdeflate_zlib_compress_bound(c, raw) : 0;
    floe_buf_reset(out);
    if (!err)
        err = floe_buf_reserve(out, bound, &space);
    if (!err) {
        shuffle4_padded(values, h, w, ch, cw, fill, shuffled);
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
