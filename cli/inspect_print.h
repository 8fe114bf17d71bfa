/* SPDX-License-Identifier: Apache-2.0 */
/* cli/inspect_print.h - the output of `floe inspect`: readable text
 * (json = 0) or one JSON object (json = 1), newline-terminated. */
#ifndef FLOE_INSPECT_PRINT_H
#define FLOE_INSPECT_PRINT_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "stac/open.h"

#include <stdio.h>

/* The parameters a STAC document resolves to (`floe inspect --stac-only`):
 * asset, repository and its storage, version and where it came from,
 * Zarr flags, virtual chunk containers, notes. FLOE_EIO when out fails. */
floe_err inspect_print_stac(const stac_open_params *p, int json, FILE *out);

/* The opened dataset: provenance, containers, dimensions, coordinates
 * (coords[i]: the values of array i when it is a coordinate, read by the
 * caller), data variables and chunk references. */
floe_err inspect_print_dataset(floe_dataset *ds, double **coords, int json, FILE *out);

/* A 1-D array named after its own dimension, which inspect summarises as
 * a coordinate. */
int inspect_is_coordinate(const floe_array *a);

#endif
