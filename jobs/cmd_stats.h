/* cmd_stats.h - `floe stats`. */
#ifndef FLOE_CMD_STATS_H
#define FLOE_CMD_STATS_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_stats_run(int argc, char **argv);
void cmd_stats_help(FILE *out);

#endif
