/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/half.c - binary16 conversions (see half.h). */
#include "io/zarr/half.h"

#include <math.h>
#include <string.h>

float zarr_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) { /* infinity or NaN, payload kept */
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) { /* normal */
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else { /* zero or subnormal: man * 2^-24, exact in float */
        float f = ldexpf((float)man, -24);
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t zarr_float_to_half(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t exp = (bits >> 23) & 0xffu, man = bits & 0x7fffffu;
    if (exp == 0xff) /* infinity; NaN keeps a quiet payload */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    float a = fabsf(f);
    if (a >= 65520.0f) /* rounds past the largest half (65504) */
        return (uint16_t)(sign | 0x7c00u);
    if (a < 6.103515625e-05f) { /* subnormal half: a multiple of 2^-24, rounded to even */
        float q = nearbyintf(ldexpf(a, 24)); /* default rounding: to nearest, ties to even */
        return (uint16_t)(sign | (uint16_t)q);
    }
    /* normal: drop 13 mantissa bits, round to nearest even (may carry into the exponent) */
    uint32_t h = ((exp - 112u) << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        h++;
    return (uint16_t)(sign | h);
}
