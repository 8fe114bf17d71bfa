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
 *
 * Rank 0 makes, sends and frees the tables one rank at a time (its own
 * last), so that it holds at most one other rank's table at once, not
 * the whole job's.
 */
#ifndef FLOE_REF_SHARE_H
#define FLOE_REF_SHARE_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "dataset/dataset.h"
#include "engine/mpi/comm.h"

/* Rank 0: append rank `rank`'s table (floe_ref_collector_blob) to out. A
 * failure means no rank gets a table (not the run's failure). */
typedef floe_err (*floe_ref_share_make)(void *ctx, int rank, floe_buf *out);

/* COLLECTIVE over mpi->comm. make: on rank 0, what writes each rank's
 * table, or NULL when rank 0 has none to give; ignored on the other
 * ranks. Either every rank installs its table and drops its manifests, or
 * (make NULL or failing for any rank: logged on rank 0) none does and
 * every rank reads from the manifests, as without this step. With one
 * rank no MPI is called. Returns the agreed result (a table that does
 * not parse, a receive buffer that cannot be had, an MPI error). */
floe_err floe_ref_share(const floe_mpi *mpi, floe_dataset *ds, floe_ref_share_make make,
                        void *ctx);

#endif
