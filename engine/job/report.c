/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/report.c - see report.h. */
#include "engine/job/report.h"

#include "common/floe_file.h"
#include "common/floe_redact.h"
#include "common/floe_version.h"
#include "engine/job/progress.h"
#include "engine/mpi/traffic.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The per-rank counters, in the order they travel (as doubles: exact for
 * counts below 2^53, plenty). */
enum {
    F_REQUESTS, F_BYTES, F_BYTES_DELIVERED, F_RETRIES, F_METADATA_REQUESTS, F_METADATA_RETRIES,
    F_CHUNK_RETRIES,
    F_COALESCED, F_FAILURES, F_NEW_CONNECTIONS, F_CHUNKS, F_ENCODED_BYTES, F_DECODED_BYTES,
    F_DECODE_SECONDS, F_WAIT_SECONDS, F_WALL, F_RSS, F_MANIFESTS_READ, F_MANIFEST_BYTES,
    F_REFS_RECEIVED, F_REFS_OUTSIDE_TABLE, F_BYTES_SENT, F_BYTES_RECEIVED, F_COMM_WAIT_SECONDS,
    F_THREADS, F_AHEAD_CHUNKS,
    NFIELD
};
static const char *const field[NFIELD] = {
    [F_REQUESTS] = "requests",
    [F_BYTES] = "bytes",
    [F_BYTES_DELIVERED] = "bytes_delivered",
    [F_RETRIES] = "retries",
    [F_METADATA_REQUESTS] = "metadata_requests",
    [F_METADATA_RETRIES] = "metadata_retries",
    [F_CHUNK_RETRIES] = "chunk_retries",
    [F_COALESCED] = "coalesced",
    [F_FAILURES] = "failures",
    [F_NEW_CONNECTIONS] = "new_connections",
    [F_CHUNKS] = "chunks",
    [F_ENCODED_BYTES] = "encoded_bytes",
    [F_DECODED_BYTES] = "decoded_bytes",
    [F_DECODE_SECONDS] = "decode_seconds",
    [F_WAIT_SECONDS] = "wait_seconds",
    [F_WALL] = "wall_seconds",
    [F_RSS] = "peak_rss_bytes",
    [F_MANIFESTS_READ] = "manifests_read",
    [F_MANIFEST_BYTES] = "manifest_bytes",
    [F_REFS_RECEIVED] = "refs_received",
    [F_REFS_OUTSIDE_TABLE] = "refs_outside_table",
    [F_BYTES_SENT] = "bytes_sent",
    [F_BYTES_RECEIVED] = "bytes_received",
    [F_COMM_WAIT_SECONDS] = "comm_wait_seconds",
    [F_THREADS] = "threads",
    [F_AHEAD_CHUNKS] = "ahead_chunks",
};

static void my_counters(const floe_dataset *ds, double t_start, double *v)
{
    floe_dataset_io io;
    memset(&io, 0, sizeof io);
    if (ds)
        floe_dataset_io_stats(ds, &io);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    floe_traffic mpi = floe_traffic_get();
    double c[NFIELD] = {
        [F_REQUESTS] = (double)io.fetch.requests,
        [F_BYTES] = (double)io.fetch.bytes,
        [F_BYTES_DELIVERED] = (double)io.fetch.bytes_delivered,
        /* Retries per request class: the transport's own requests (the
         * open's metadata, STAC documents, single chunk reads) and the
         * chunk fetcher's; "retries" stays their sum. */
        [F_RETRIES] = (double)(io.retries + io.fetch.retries),
        /* Every attempt of the transport's own requests, a large object's
         * parallel ranges each one (io/fetch/prefetch.h). */
        [F_METADATA_REQUESTS] = (double)io.requests,
        [F_METADATA_RETRIES] = (double)io.retries,
        [F_CHUNK_RETRIES] = (double)io.fetch.retries,
        [F_COALESCED] = (double)io.fetch.coalesced,
        [F_FAILURES] = (double)io.fetch.failures,
        [F_NEW_CONNECTIONS] = (double)io.fetch.new_connections,
        [F_CHUNKS] = (double)io.chunks,
        [F_ENCODED_BYTES] = (double)io.encoded_bytes,
        [F_DECODED_BYTES] = (double)io.decoded_bytes,
        [F_DECODE_SECONDS] = io.decode_seconds,
        [F_WAIT_SECONDS] = io.fetch.wait_seconds,
        [F_WALL] = job_now() - t_start,
        [F_RSS] = (double)ru.ru_maxrss * 1024.0, /* Linux: kilobytes */
        [F_MANIFESTS_READ] = (double)io.manifests_read,
        [F_MANIFEST_BYTES] = (double)io.manifest_bytes,
        /* the rank's ref table (engine/mpi/ref_share.h) */
        [F_REFS_RECEIVED] = (double)io.refs_received,
        [F_REFS_OUTSIDE_TABLE] = (double)io.refs_outside_table,
        /* the results' messages (engine/mpi/traffic.h) */
        [F_BYTES_SENT] = (double)mpi.bytes_sent,
        [F_BYTES_RECEIVED] = (double)mpi.bytes_received,
        [F_COMM_WAIT_SECONDS] = mpi.wait_seconds,
        /* its worker pool (--threads, else engine/mpi/threads.h's default) */
        [F_THREADS] = (double)io.threads,
        /* the read-ahead window reached (dataset.h) */
        [F_AHEAD_CHUNKS] = (double)io.ahead_chunks,
    };
    memcpy(v, c, sizeof c);
}

static cJSON *counters_json(const double *v)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < NFIELD; i++)
        cJSON_AddNumberToObject(o, field[i], v[i]);
    return o;
}

floe_err job_report_write(const floe_mpi *mpi, const floe_dataset *ds, const char *path,
                          const char *operation, const char *command, double t_start,
                          char **tmp)
{
    double mine[NFIELD];
    my_counters(ds, t_start, mine);
    /* Rank 0 allocates the counters of every rank BEFORE the gather, and
     * every rank learns whether it could (floe_mpi_agree): a gather whose
     * root has nowhere to receive would have to run with counts that
     * differ between the root and the senders, which MPI does not allow. */
    double *all = NULL;
    floe_err err = NULL;
    if (mpi->rank == 0 && !(all = malloc((size_t)mpi->size * sizeof mine)))
        err = FLOE_ERR(FLOE_ENOMEM, "%s", path);
    if (mpi->size == 1) {
        if (err)
            return err;
        memcpy(all, mine, sizeof mine);
    } else {
        if (!floe_mpi_agree(mpi->comm, &err)) /* collective */
            err = FLOE_CHECK_MPI(MPI_Gather(mine, NFIELD, MPI_DOUBLE, all, NFIELD, MPI_DOUBLE, 0,
                                            mpi->comm),
                                 "the per-rank counters for %s", path);
        if (err) {
            free(all);
            return err;
        }
    }
    if (mpi->rank != 0)
        return NULL;

    double total[NFIELD] = {0}, rss_sum = 0;
    for (int r = 0; r < mpi->size; r++)
        for (size_t i = 0; i < NFIELD; i++) {
            double x = all[(size_t)r * NFIELD + i];
            if (i == F_WALL || i == F_RSS || i == F_AHEAD_CHUNKS)
                total[i] = x > total[i] ? x : total[i]; /* the slowest / largest rank */
            else
                total[i] += x;
            if (i == F_RSS)
                rss_sum += x;
        }
    cJSON *root = cJSON_CreateObject();
    cJSON *tot = counters_json(total);
    cJSON *per = cJSON_CreateArray();
    if (!root || !tot || !per) {
        cJSON_Delete(tot);
        cJSON_Delete(per);
        err = FLOE_ERR(FLOE_ENOMEM, "%s", path);
        goto done;
    }
    cJSON_AddStringToObject(root, "floe_version", floe_version());
    char *shown = floe_redact_dup(command ? command : ""); /* no passwords or signatures */
    if (shown)
        cJSON_AddStringToObject(root, "command", shown);
    free(shown);
    cJSON_AddStringToObject(root, "operation", operation);
    cJSON_AddNumberToObject(root, "ranks", mpi->size);
    cJSON_AddNumberToObject(root, "wall_seconds", total[F_WALL]);
    cJSON_DeleteItemFromObject(tot, "wall_seconds");
    cJSON_AddNumberToObject(tot, "peak_rss_bytes_sum", rss_sum);
    cJSON_AddItemToObject(root, "total", tot);
    for (int r = 0; r < mpi->size; r++) {
        cJSON *o = counters_json(all + (size_t)r * NFIELD);
        if (o) {
            cJSON_AddItemToObject(o, "rank", cJSON_CreateNumber(r));
            cJSON_AddItemToArray(per, o);
        }
    }
    cJSON_AddItemToObject(root, "per_rank", per);
    char *text = cJSON_Print(root);
    err = !text ? FLOE_ERR(FLOE_ENOMEM, "%s", path)
          : tmp ? floe_file_write_text_temp(path, text, tmp) : floe_file_write_text(path, text);
    free(text);
done:
    cJSON_Delete(root);
    free(all);
    return err;
}
