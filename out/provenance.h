/* SPDX-License-Identifier: Apache-2.0 */
/* out/provenance.h - the global attributes every floe output file carries:
 * the source's own global attributes (institution, source, references,
 * comment, ...: those of the root group), then CF Conventions, the
 * command's own title, history with floe's line (when it ran, in UTC, and
 * the exact command) before the source's history, the floe version, and
 * where the data came from (floe_source: the STAC document or repository
 * given; collection, asset, Icechunk repository, snapshot, ref, spec
 * version; floe_anomaly_from: the climatology subtracted, when one was).
 * `source` is the source's own attribute (CF: how the original
 * data were produced) when it has one, else floe_source. */
#ifndef FLOE_CF_PROVENANCE_H
#define FLOE_CF_PROVENANCE_H

#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "out/netcdf_writer.h"

/* Write them (in define mode). p's NULL fields are left out. */
floe_err cf_provenance_put(nc_writer *w, const floe_provenance *p, const char *command,
                           const char *title);

#endif
