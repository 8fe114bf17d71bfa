/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_stats.h - `floe stats` and `floe climatology`. */
#ifndef FLOE_CMD_STATS_H
#define FLOE_CMD_STATS_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_stats_run(int argc, char **argv);
void cmd_stats_help(FILE *out);
/* `floe climatology`: the same engine, steps grouped by month, season or
 * day of year. */
floe_err cmd_climatology_run(int argc, char **argv);
void cmd_climatology_help(FILE *out);

#endif
