/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats.h - the stats and climatology job: per-cell temporal
 * statistics over a time range, or per group of steps (month, season, day
 * of year), as one CF NetCDF-4 file and its derived STAC Item, under MPI.
 * The result is the same, bit for bit, for any number of ranks. */
#ifndef FLOE_JOB_STATS_H
#define FLOE_JOB_STATS_H

#include "common/floe_error.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"

/* COLLECTIVE over mpi->comm: every rank calls it with the same request
 * (rank 0's tile_memory and no_raw_chunks are broadcast). The ranks
 * compute tiles (or shares of every tile's steps); rank 0 writes
 * req->job.output, then the Item, then (with req->job.report) the report.
 * On return every rank holds the same result: NULL, or the agreed error
 * (floe_mpi_agree). */
floe_err floe_stats_run(const floe_mpi *mpi, const floe_stats_request *req);

#endif
