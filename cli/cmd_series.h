/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_series.h - `floe series`: time series at points or over a region. */
#ifndef FLOE_CMD_SERIES_H
#define FLOE_CMD_SERIES_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_series_run(int argc, char **argv);
void cmd_series_help(FILE *out);

#endif
