/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sbatch.h - `floe sbatch`: a Slurm batch script for a request. */
#ifndef FLOE_CMD_SBATCH_H
#define FLOE_CMD_SBATCH_H

#include "common/floe_error.h"

#include <stdio.h>

floe_err cmd_sbatch_run(int argc, char **argv);
void cmd_sbatch_help(FILE *out);

#endif
