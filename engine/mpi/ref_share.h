/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/ref_share.h - handing each rank the table of exactly its
 * chunk refs (dataset/ref_table.h) instead of whole manifests.
 *
 * After the plan is known, rank 0 replays every rank's reads on read
 * plans that collect the refs they look up (engine/job/dry_run.h) and
 * writes one table per rank; here each rank gets its own, installs it
 * (floe_dataset_use_refs) and drops the manifests it holds, so that its
 * memory is its own refs, not the archive's, and no rank parses a
 * manifest the open did not already give it.
 */
#ifndef FLOE_REF_SHARE_H
#define FLOE_REF_SHARE_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "engine/mpi/comm.h"

/* COLLECTIVE over mpi->comm. tables: on rank 0, mpi->size blobs, rank r's
 * in tables[r] (floe_ref_collector_blob), or NULL when rank 0 has none to
 * give (then no rank installs a table and every rank reads from the
 * manifests, as without this step); ignored on the other ranks. Every
 * rank, rank 0 included, installs its table and drops its manifests. With
 * one rank no MPI is called. On return every rank holds the same outcome:
 * rank 0's failure is agreed before anyone waits for bytes; a table that
 * does not parse is an error. */
floe_err floe_ref_share(const floe_mpi *mpi, floe_dataset *ds, const floe_buf *tables);

#endif
