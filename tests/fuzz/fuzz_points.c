/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_points.c - libFuzzer harness for the points CSV reader
 * (engine/plan/points.h): parse a --points file, then locate each point on
 * a small grid by nearest and bilinear interpolation, as `floe series
 * --points` does.
 *
 * Input: the CSV text.
 */
#include "engine/plan/points.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NLAT 18
#define FUZZ_NLON 36
/* Locating is per point; a long file only repeats it. */
#define FUZZ_MAX_LOCATED 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    floe_points pts = {0};
    floe_err err = floe_points_parse_csv((const char *)data, size, "fuzz.csv", &pts);
    if (err) {
        floe_err_free(&err);
        return 0;
    }
    double lat[FUZZ_NLAT], lon[FUZZ_NLON];
    for (int i = 0; i < FUZZ_NLAT; i++)
        lat[i] = -85.0 + 10.0 * i;
    for (int j = 0; j < FUZZ_NLON; j++)
        lon[j] = -175.0 + 10.0 * j;
    const float v[2][2] = {{1.0f, 2.0f}, {3.0f, 4.0f}};
    for (size_t k = 0; k < pts.n && k < FUZZ_MAX_LOCATED; k++) {
        const floe_interp how[] = {FLOE_INTERP_NEAREST, FLOE_INTERP_BILINEAR};
        for (size_t h = 0; h < sizeof how / sizeof *how; h++) {
            floe_point_weights w;
            err = floe_point_locate(&pts.p[k], how[h], lat, FUZZ_NLAT, lon, FUZZ_NLON, &w);
            if (err) {
                floe_err_free(&err);
                continue;
            }
            volatile float x = floe_point_interpolate(&w, v);
            (void)x;
        }
    }
    floe_points_free(&pts);
    return 0;
}
