/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_merge.h - `floe merge OUT`: the output of a request run in
 * pieces (--piece I/N), from the parts in OUT.floe-parts/. */
#ifndef FLOE_CMD_MERGE_H
#define FLOE_CMD_MERGE_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_merge_run(int argc, char **argv);
void cmd_merge_help(FILE *out);

#endif
