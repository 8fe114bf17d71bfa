/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/report.h - `--report FILE.json`: what each rank did and what the
 * job cost, for benchmarks and for sizing batch jobs.
 *
 *   {"floe_version": ..., "command": ..., "operation": "stats", "ranks": N,
 *    "wall_seconds": W,
 *    "total": {requests, bytes, bytes_delivered, retries, metadata_requests,
 *              metadata_retries, chunk_retries, coalesced,
 *              failures, new_connections, chunks, encoded_bytes,
 *              decoded_bytes, decode_seconds, wait_seconds,
 *              peak_rss_bytes (largest rank), manifests_read,
 *              manifest_bytes, refs_received, refs_outside_table,
 *              bytes_sent, bytes_received, comm_wait_seconds, threads,
 *              peak_rss_bytes_sum},
 *    "per_rank": [{"rank": 0, the same counters, "wall_seconds",
 *                  "peak_rss_bytes"}, ...]}
 *
 * retries = metadata_retries + chunk_retries: attempts after the first of
 * the transport's own requests (the open's metadata, STAC documents, single
 * chunk reads; rank 0's alone under MPI, which reads the metadata for all)
 * and of the chunk fetcher's. requests, failures and the byte counts are
 * the chunk fetcher's; metadata_requests the transport's own requests, as
 * floe_dataset_io.requests counts them (a large metadata object fetched in
 * parallel ranges: one per range; local file reads count here too, the
 * chunk fetcher's included, as they go through the transport's file back
 * end). manifests_read, manifest_bytes: the manifest objects the rank
 * parsed and their stored bytes. refs_received: the chunk refs in the table the rank
 * got from rank 0 (engine/mpi/ref_share.h); refs_outside_table: its lookups
 * the table did not answer, which went to the manifests (0 when the plan
 * replayed its reads exactly). bytes_sent, bytes_received: the MPI payload
 * bytes of the rank's result messages (engine/mpi/traffic.h: the rank-0
 * collection and the placement of output chunks), comm_wait_seconds the
 * time it was blocked in those calls. threads: the rank's worker threads
 * (--threads, or its default: engine/mpi/threads.h); the total is their
 * sum over the ranks.
 * wall_seconds is from the job's start (after MPI start-up) to the report;
 * peak_rss_bytes is the process's high-water resident set (getrusage). The
 * file is written by rank 0, atomically (temporary name, then rename). */
#ifndef FLOE_JOB_REPORT_H
#define FLOE_JOB_REPORT_H

#include "common/floe_error.h"
#include "engine/mpi/comm.h"
#include "dataset/dataset.h"

/* COLLECTIVE over mpi->comm: every rank contributes its dataset's
 * counters (ds may be NULL on a rank that opened none) and its wall time
 * since t_start (job_now()); rank 0 writes `path`: committed at once
 * when tmp is NULL, else left in a finished temporary whose name (owned)
 * goes to *tmp, for the job's commit of all its outputs
 * (engine/job/outputs.h). Errors name the file; they are rank 0's, except
 * that rank 0 failing to allocate the counters is agreed before the
 * gather, so every rank returns it. Call
 * floe_mpi_agree afterwards. */
floe_err job_report_write(const floe_mpi *mpi, const floe_dataset *ds, const char *path,
                          const char *operation, const char *command, double t_start,
                          char **tmp);

#endif
