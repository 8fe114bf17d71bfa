/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/half.h - IEEE 754 binary16 (Zarr "float16") to and from float.
 *
 * C17 has no half type, so float16 elements are carried as their 16 bits
 * and widened to float, which holds every float16 value exactly (NaN
 * payloads and signed zeros included). Narrowing rounds to nearest, ties
 * to even, as numpy's astype(float16) does.
 */
#ifndef FLOE_ZARR_HALF_H
#define FLOE_ZARR_HALF_H

#include <stdint.h>

float zarr_half_to_float(uint16_t h);
uint16_t zarr_float_to_half(float f);

#endif
