/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_region.c - libFuzzer harness for the GeoJSON region
 * reader (engine/plan/region_mask.h): parse a --region document, then
 * mask a small global grid with it and test a few points, as
 * `floe stats --region` does.
 *
 * Input: the GeoJSON text.
 */
#include "engine/plan/region_mask.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A 1-degree global grid of cell centres, cut to a few rows and columns
 * (the mask's cost grows with the grid, not with what is found). */
#define FUZZ_NLAT 18
#define FUZZ_NLON 36

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    floe_region *r = NULL;
    floe_err err = floe_region_parse((const char *)data, size, "fuzz.geojson", &r);
    if (err) {
        floe_err_free(&err);
        return 0;
    }
    double lat[FUZZ_NLAT], lon[FUZZ_NLON];
    for (int i = 0; i < FUZZ_NLAT; i++)
        lat[i] = -85.0 + 10.0 * i;
    for (int j = 0; j < FUZZ_NLON; j++)
        lon[j] = -175.0 + 10.0 * j;
    uint8_t mask[FUZZ_NLAT * FUZZ_NLON];
    size_t inside = 0;
    err = floe_region_mask(r, lat, FUZZ_NLAT, lon, FUZZ_NLON, mask, &inside);
    floe_err_free(&err);
    floe_bbox box = floe_region_bbox(r);
    volatile int hits = floe_region_contains(r, box.west, box.south) +
                        floe_region_contains(r, 0.5 * (box.west + box.east),
                                             0.5 * (box.south + box.north)) +
                        (int)floe_region_polygon_count(r);
    (void)hits;
    floe_region_free(&r);
    return 0;
}
