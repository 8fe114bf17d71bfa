/* SPDX-License-Identifier: Apache-2.0 */
/* out/provenance.h - the global attributes every floe output file carries:
 * CF Conventions, a title, history with the exact command and when it
 * ran, the floe version, and where the data came from (STAC document,
 * collection, asset, Icechunk repository, snapshot, ref, spec version). */
#ifndef FLOE_CF_PROVENANCE_H
#define FLOE_CF_PROVENANCE_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "out/netcdf_writer.h"

/* Write them (in define mode). p's NULL fields are left out. */
floe_err cf_provenance_put(nc_writer *w, const floe_provenance *p, const char *command,
                           const char *title);

#endif
