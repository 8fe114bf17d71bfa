/* SPDX-License-Identifier: Apache-2.0 */
/* out/cf_attrs.h - a source variable's attributes written so that a CF
 * reader may trust them: a standard_name is copied only when it is a CF
 * standard name, and the free text some archives put there (NLDAS-3:
 * "Near surface air temperature") becomes the long_name when the source
 * has none.
 *
 * Offline, without the CF standard name table, "is a CF name" is decided
 * by the table's spelling: lower-case letters, digits and '_', starting
 * with a letter, optionally followed by one space and a CF Appendix C
 * modifier ("air_temperature standard_error"). Free text (spaces,
 * capitals) never passes; a well-spelled name missing from the table
 * would, which a checker with the table reports. */
#ifndef FLOE_CF_ATTRS_H
#define FLOE_CF_ATTRS_H

#include "common/floe_error.h"
#include "out/netcdf_writer.h"

#include <cjson/cJSON.h>

/* 1 if name is spelled as a CF standard name (see above), else 0. */
int cf_standard_name_valid(const char *name);

/* nc_writer_put_atts_json(w, varid, attrs, numeric_type, skip), except
 * that a standard_name that is not a CF name is left out, its text going
 * to long_name when the source's long_name is missing or empty. skip
 * holds at most CF_ATTRS_MAX_SKIP names. */
enum { CF_ATTRS_MAX_SKIP = 24 };
floe_err cf_put_var_atts(nc_writer *w, int varid, const cJSON *attrs, int numeric_type,
                         const char *const *skip);

#endif
