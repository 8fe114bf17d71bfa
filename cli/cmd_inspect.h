/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_inspect.h - `floe inspect`. */
#ifndef FLOE_CMD_INSPECT_H
#define FLOE_CMD_INSPECT_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_inspect_run(int argc, char **argv);
void cmd_inspect_help(FILE *out);

#endif
