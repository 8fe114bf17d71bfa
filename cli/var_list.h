/* SPDX-License-Identifier: Apache-2.0 */
/* cli/var_list.h - the variables of every -v/--vars of a command line as
 * one list: `-v Rainf -v Tair` keeps both (as CDO's and NCO's habit of
 * repeating an option would suggest), `-v 'Tair, Rainf'` trims the spaces
 * around each name, and a name given twice is kept once, at its first
 * place (a second would be a second output variable of the same name).
 * The list is what the jobs take: names joined by ',' (request.h). */
#ifndef FLOE_CLI_VAR_LIST_H
#define FLOE_CLI_VAR_LIST_H

#include "common/floe_error.h"

#include <stddef.h>

/* Room for the joined names of one command line. */
enum { CMD_VAR_LIST_SIZE = 4096 };

/* Add the names of one -v value ("A,B, C") to list (a C string of at most
 * CMD_VAR_LIST_SIZE - 1 characters, "" at first). Empty names between
 * commas are skipped; FLOE_EINVAL when the list would not fit. */
floe_err cmd_var_list_add(char list[CMD_VAR_LIST_SIZE], const char *value);

#endif
