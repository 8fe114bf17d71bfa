/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/extract.h - the extract job: the cells of a bbox and the steps
 * of a time range of some variables, as one CF NetCDF-4 file (and its
 * derived STAC Item), read in parallel under MPI and written by rank 0. */
#ifndef FLOE_JOB_EXTRACT_H
#define FLOE_JOB_EXTRACT_H

#include "common/floe_error.h"
#include "engine/job/request.h"
#include "engine/mpi/comm.h"

/* COLLECTIVE over mpi->comm: every rank calls it with the same request.
 * Every rank reads its share of the steps (contiguous runs of whole time
 * chunks, in rank order); rank 0 writes req->job.output, then the Item,
 * then (with req->job.report) the report. The file is the same for any
 * number of ranks. On return every rank holds the same result: NULL, or
 * the agreed error (floe_mpi_agree). */
floe_err floe_extract_run(const floe_mpi *mpi, const floe_extract_request *req);

#endif
