/* SPDX-License-Identifier: Apache-2.0 */
/* cli/inspect_stac_cube.h - what a STAC document itself says about its
 * data, for `floe inspect --stac-only` (no network): the extents (a
 * Collection's spatial bbox and temporal interval, an Item's bbox and
 * datetimes), the datacube extension's cube:dimensions (type, axis,
 * extent, step) and cube:variables (dimensions, unit, description), so
 * a user learns what is inside before anything is fetched. */
#ifndef FLOE_CLI_INSPECT_STAC_CUBE_H
#define FLOE_CLI_INSPECT_STAC_CUBE_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Print the contents of a STAC Collection or Item (root: the whole
 * document) as text; fields the document lacks are said to be absent. */
void inspect_print_stac_cube(const cJSON *root, FILE *out);

#endif
