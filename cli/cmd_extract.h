/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_extract.h - `floe extract`. */
#ifndef FLOE_CMD_EXTRACT_H
#define FLOE_CMD_EXTRACT_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_extract_run(int argc, char **argv);
void cmd_extract_help(FILE *out);

#endif
