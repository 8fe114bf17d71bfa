/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/dataset_collective.h - opening a dataset once per MPI job.
 *
 * Every rank needs the same metadata (STAC document, repository, snapshot,
 * manifests); fetched by every rank, N ranks make N times the requests
 * against one store at the same moment. Here rank 0 opens and records
 * what it fetched, broadcasts it as one blob, and the other ranks open
 * from that blob without a metadata request.
 */
#ifndef FLOE_DATASET_COLLECTIVE_H
#define FLOE_DATASET_COLLECTIVE_H

#include "common/floe_error.h"
#include "engine/mpi/comm.h"
#include "dataset/dataset.h"

/* COLLECTIVE over mpi->comm: floe_dataset_open(req) on every rank, the
 * store read by rank 0 only (req->record and req->preload are set here;
 * the caller's are ignored). On return every rank has a dataset, or every
 * rank has an error: rank 0's own, or on the others "rank 0: ..." (and any
 * other rank's failure is agreed the same way), so no rank is left waiting
 * in a later collective. With one rank it is floe_dataset_open, nothing
 * more. A request without threads (req->threads 0, --threads not given)
 * gets floe_mpi_default_threads's count first (engine/mpi/threads.h).
 *
 * Rank 0's requests retry by the transport's policy (--retries,
 * --retry-budget: io/transport/retry.h), backing off for up to the budget
 * per request; the other ranks wait for rank 0's retries in the first
 * agreement (a blocking MPI_Allreduce, which has no timeout, and nothing
 * else runs on them meanwhile), so no rank gives up while rank 0 backs
 * off: the job fails only when rank 0's open does. */
floe_err floe_dataset_open_collective(const floe_mpi *mpi, const floe_open_request *req,
                                      floe_dataset **out);

#endif
