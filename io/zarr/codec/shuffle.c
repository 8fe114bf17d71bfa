/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec/shuffle.c - undo the byte shuffle of HDF5's shuffle filter and
 * numcodecs.shuffle (the same layout: all first bytes, then all second
 * bytes, ...). The common element sizes get loops the compiler unrolls. */
#include "io/zarr/codec.h"

#include <string.h>

static void unshuffle_fixed(const uint8_t *in, uint8_t *out, size_t count, size_t es)
{
    for (size_t i = 0; i < count; i++)
        for (size_t b = 0; b < es; b++)
            out[i * es + b] = in[b * count + i];
}

static void unshuffle4(const uint8_t *in, uint8_t *out, size_t count)
{
    const uint8_t *s0 = in, *s1 = in + count, *s2 = in + 2 * count, *s3 = in + 3 * count;
    for (size_t i = 0; i < count; i++) {
        out[4 * i] = s0[i];
        out[4 * i + 1] = s1[i];
        out[4 * i + 2] = s2[i];
        out[4 * i + 3] = s3[i];
    }
}

static void unshuffle8(const uint8_t *in, uint8_t *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (size_t b = 0; b < 8; b++)
            out[8 * i + b] = in[b * count + i];
}

void zarr_unshuffle(const uint8_t *in, uint8_t *out, size_t n, size_t elementsize)
{
    if (n == 0) /* an empty chunk: its buffers may be NULL, which memcpy may not take */
        return;
    if (elementsize <= 1 || n < elementsize) {
        memcpy(out, in, n);
        return;
    }
    size_t count = n / elementsize;
    switch (elementsize) {
    case 2: unshuffle_fixed(in, out, count, 2); break;
    case 4: unshuffle4(in, out, count); break;
    case 8: unshuffle8(in, out, count); break;
    default: unshuffle_fixed(in, out, count, elementsize); break;
    }
    size_t done = count * elementsize;
    memcpy(out + done, in + done, n - done);
}
