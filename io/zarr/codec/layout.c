/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec/layout.c - the element-layout codecs: byte order (the "bytes"
 * codec) and dimension order ("transpose"). */
#include "io/zarr/codec.h"

#include <string.h>

void zarr_byteswap(uint8_t *buf, size_t n, size_t itemsize)
{
    size_t count = n / itemsize;
    switch (itemsize) {
    case 2:
        for (size_t i = 0; i < count; i++) {
            uint16_t v;
            memcpy(&v, buf + 2 * i, 2);
            v = __builtin_bswap16(v);
            memcpy(buf + 2 * i, &v, 2);
        }
        break;
    case 4:
        for (size_t i = 0; i < count; i++) {
            uint32_t v;
            memcpy(&v, buf + 4 * i, 4);
            v = __builtin_bswap32(v);
            memcpy(buf + 4 * i, &v, 4);
        }
        break;
    case 8:
        for (size_t i = 0; i < count; i++) {
            uint64_t v;
            memcpy(&v, buf + 8 * i, 8);
            v = __builtin_bswap64(v);
            memcpy(buf + 8 * i, &v, 8);
        }
        break;
    default:
        for (size_t i = 0; i < count; i++)
            for (size_t a = i * itemsize, b = a + itemsize - 1; a < b; a++, b--) {
                uint8_t t = buf[a];
                buf[a] = buf[b];
                buf[b] = t;
            }
        break;
    }
}

void zarr_untranspose(const uint8_t *in, uint8_t *out, int ndim, const uint64_t *shape, const int *order,
                      size_t itemsize)
{
    if (ndim == 0) {
        memcpy(out, in, itemsize);
        return;
    }
    /* Stride (in elements) of each decoded dimension d inside the encoded
     * array, whose dimension i is decoded dimension order[i]. */
    size_t enc_stride[ZARR_MAX_DIMS] = {0}, src_stride[ZARR_MAX_DIMS] = {0};
    size_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        enc_stride[i] = s;
        s *= (size_t)shape[order[i]];
    }
    size_t total = s;
    for (int i = 0; i < ndim; i++)
        src_stride[order[i]] = enc_stride[i];

    size_t idx[ZARR_MAX_DIMS] = {0};
    size_t inner = (size_t)shape[ndim - 1], step = src_stride[ndim - 1];
    size_t base = 0; /* source element of idx with idx[ndim-1] = 0 */
    for (size_t done = 0; done < total; done += inner) {
        uint8_t *dst = out + done * itemsize;
        const uint8_t *src = in + base * itemsize;
        switch (itemsize) {
        case 1: for (size_t k = 0; k < inner; k++) dst[k] = src[k * step]; break;
        case 2: for (size_t k = 0; k < inner; k++) memcpy(dst + 2 * k, src + 2 * k * step, 2); break;
        case 4: for (size_t k = 0; k < inner; k++) memcpy(dst + 4 * k, src + 4 * k * step, 4); break;
        case 8: for (size_t k = 0; k < inner; k++) memcpy(dst + 8 * k, src + 8 * k * step, 8); break;
        default:
            for (size_t k = 0; k < inner; k++)
                memcpy(dst + itemsize * k, src + itemsize * k * step, itemsize);
            break;
        }
        /* odometer over the outer dimensions */
        for (int d = ndim - 2; d >= 0; d--) {
            idx[d]++;
            base += src_stride[d];
            if (idx[d] < shape[d])
                break;
            base -= idx[d] * src_stride[d];
            idx[d] = 0;
        }
    }
}
