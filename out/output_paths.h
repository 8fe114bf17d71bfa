/* SPDX-License-Identifier: Apache-2.0 */
/* out/output_paths.h - where a run may write, checked before it fetches
 * anything.
 *
 * A run writes up to three files (the data, its STAC Item, the report).
 * Before the first chunk is fetched every one of them is resolved to its
 * canonical location (the real path of its folder plus its name) and
 * refused, with one line naming it, when
 *   - its folder does not exist, or it names a folder;
 *   - two of them are the same file (`-o X.nc --report X.json` where the
 *     Item defaults to X.json);
 *   - it is one of the run's local inputs (the STAC document, the points
 *     or regions file; also when named through a link), lies inside a
 *     local repository the run reads, or is an existing file in a folder
 *     chunks may be read from that floe did not write (a previous run's
 *     NetCDF output, Item or report may be replaced with --overwrite):
 *     inputs are never replaced, not even with --overwrite;
 *   - it exists and overwrite is off (CDO's and NCO's -O habit).
 * Comparing canonical names is enough: outputs are renamed into place, and
 * a rename replaces a name, never the file another name or a link leads
 * to.
 */
#ifndef FLOE_OUTPUT_PATHS_H
#define FLOE_OUTPUT_PATHS_H

#include "common/floe_error.h"
#include "dataset/dataset.h"

#include <stddef.h>

typedef struct floe_output_path {
    const char *path;  /* as the user named it */
    const char *what;  /* "the output", "the STAC Item", "the report" */
    const char *hint;  /* the option that names it, for the message ("--item") */
} floe_output_path;

/* Check the outputs against each other, the inputs and the file system
 * (see the top of this file). Errors are FLOE_EINVAL, one line naming the
 * output, the conflict and the way out. */
floe_err floe_output_paths_check(const floe_output_path *outs, size_t nouts,
                                 const floe_local_input *ins, size_t nins, int overwrite);

#endif
