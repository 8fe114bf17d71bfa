/* SPDX-License-Identifier: Apache-2.0 */
/* cli/inspect_versions.h - the output of `floe inspect --versions`: the
 * repository's branches and tags and the history of the snapshot opened,
 * as readable text (json = 0) or one JSON object (json = 1). */
#ifndef FLOE_INSPECT_VERSIONS_H
#define FLOE_INSPECT_VERSIONS_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "dataset/versions.h"

#include <stdio.h>

floe_err inspect_print_versions(const floe_provenance *p, const floe_versions *v, int json,
                                FILE *out);

#endif
