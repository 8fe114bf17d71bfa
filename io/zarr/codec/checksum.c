/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec/checksum.c - CRC-32C (zarr crc32c codec) and HDF5's Fletcher-32
 * (numcodecs.fletcher32, the HDF5 fletcher32 filter). */
#include "io/zarr/codec.h"

#include <pthread.h>

/* Slicing-by-8: eight 256-entry tables turn eight input bytes into eight
 * lookups, several times faster than the byte-at-a-time loop, with no
 * dependence on CPU instructions. Built once, on first use. */
static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
    const uint32_t poly = 0x82F63B78u; /* Castagnoli, bit-reflected */
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++) {
            uint32_t prev = crc32c_table[t - 1][i];
            crc32c_table[t][i] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
}

uint32_t zarr_crc32c(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc32c_once, crc32c_init);
    const uint8_t *p = data;
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
              crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
              crc32c_table[3][p[4]] ^ crc32c_table[2][p[5]] ^ crc32c_table[1][p[6]] ^ crc32c_table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

/* End-around carry: keeps the sum below 2^17 without a division. */
static uint32_t fold16(uint32_t x)
{
    return (x & 0xffff) + (x >> 16);
}

uint32_t zarr_fletcher32(const void *data, size_t n)
{
    /* HDF5's variant, bit for bit: the 360-word blocks and the partial
     * (end-around carry, not modulo 65535) reductions decide the result
     * for data whose sums reach 0xffff, so they are kept exactly. */
    const uint8_t *p = data;
    size_t words = n / 2;
    uint32_t a = 0, b = 0;
    while (words) {
        size_t block = words < 360 ? words : 360;
        words -= block;
        for (; block; block--, p += 2) {
            a += (uint32_t)p[0] << 8 | p[1];
            b += a;
        }
        a = fold16(a);
        b = fold16(b);
    }
    if (n & 1) {
        a += (uint32_t)p[0] << 8;
        b += a;
        a = fold16(a);
        b = fold16(b);
    }
    a = fold16(a);
    b = fold16(b);
    return b << 16 | a;
}
