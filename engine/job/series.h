/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series.h - the series job: time series at points (nearest
 * cell or bilinear) or of a region's area-weighted statistics, as one
 * CF-1.8 NetCDF-4 file (featureType timeSeries) and its derived STAC Item;
 * ranks split the steps. */
#ifndef FLOE_JOB_SERIES_H
#define FLOE_JOB_SERIES_H

#include "common/floe_error.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"

/* COLLECTIVE over mpi->comm: every rank calls it with the same request.
 * Every rank computes its share of the steps; rank 0 writes
 * req->job.output, then the Item, then (with req->job.report) the report.
 * The file is the same for any number of ranks. On return every rank
 * holds the same result: NULL, or the agreed error (floe_mpi_agree). */
floe_err floe_series_run(const floe_mpi *mpi, const floe_series_request *req);

#endif
