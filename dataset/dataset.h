/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/dataset.h - the one narrow interface between the engine and the stores.
 *
 * A floe_dataset is a store opened at one snapshot: a set of named N-D
 * arrays with Zarr metadata (shape, chunks, dtype, fill, attributes) whose
 * chunks can be read decoded. The engine plans and reduces against this
 * interface only; how the store is found (a STAC document or a repository
 * URL), which snapshot, where virtual chunks live and whether they may be
 * fetched is decided here, below it.
 *
 * The folder's role: dataset/ is the one interface the engine uses to
 * reach storage (engine/ sees io/ and stac/ only through it). It joins stac/,
 * io/icechunk/, io/zarr/, io/fetch/ and io/transport/. Files: open.c
 * (open, free), accessors.c (what the open knows), read.c (one chunk, 1-D coordinates,
 * counters), readahead.c (batched reads on the fetcher, read-ahead),
 * decode_tasks.c (their chunks decoded on the worker pool),
 * read_plan.c (reads planned for a dry run, refs collected),
 * ref_collector.c and ref_table.c (a rank's compact table of chunk refs,
 * written and read back, ref_table.h), versions.c (the
 * repository's refs and history, versions.h), and internal.h, which they
 * share.
 */
#ifndef FLOE_DATASET_H
#define FLOE_DATASET_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "common/floe_pool.h"
#include "io/fetch/fetch.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

enum { FLOE_MAX_DIMS = 8 };

typedef enum floe_ref_kind {
    FLOE_REF_DEFAULT = 0, /* what the document says, else branch main */
    FLOE_REF_BRANCH,
    FLOE_REF_TAG,
    FLOE_REF_SNAPSHOT,
} floe_ref_kind;

/* What the user asked to open (the command line's source options). All
 * strings are borrowed for the duration of floe_dataset_open. */
typedef struct floe_open_request {
    const char *source;      /* STAC document (path/URL) or repository URL/folder */
    const char *asset;       /* --asset, or NULL */
    floe_ref_kind ref_kind;  /* --branch/--tag/--snapshot, or DEFAULT */
    const char *ref;
    const char *const *allow; /* --allow prefixes */
    size_t nallow;
    const char *const *remap; /* --remap FROM=TO rules */
    size_t nremap;
    const char *s3_endpoint; /* --s3-endpoint, or NULL (then AWS_ENDPOINT_URL) */
    /* How chunks are fetched: --concurrency, --max-gap, --max-request,
     * --retries, --retry-budget, --stall-timeout (zeros: the defaults).
     * The retry policy and the stall timeout apply to every request, the
     * metadata's (the open's transport) as the chunks'. */
    floe_fetch_opts fetch;
    /* The arrays the caller will read, comma-separated ("Tair,Rainf"), or
     * NULL. NULL: every array's n_chunk_refs is counted at open (what
     * `inspect` shows; each manifest read, counted and dropped). Set: the
     * coordinate arrays of these arrays' dimensions are read at open (their
     * manifests and native chunks, concurrently), and n_chunk_refs is
     * FLOE_REFS_UNCOUNTED (floe_dataset_count_refs counts). A data array's
     * manifests are never read at open: a batched read reads those that
     * overlap its chunks (ic_repo_load_manifests_box), a single chunk read
     * the one that holds it. Unknown names are not an error here: the
     * caller's own lookup reports them. */
    const char *arrays;
    /* Reading the metadata once per MPI job (engine/mpi/dataset_collective.h):
     * record = 1 keeps every whole object the open fetched (STAC document,
     * repository, refs, config, snapshot, the coordinates' manifests and
     * native chunks; never a data array's manifests) for
     * floe_dataset_recorded; preload (preload_len bytes, from
     * floe_dataset_recorded of an open of the same request in another
     * process) answers those reads from memory instead of the store. The
     * blob is borrowed for the duration of floe_dataset_open. */
    int record;
    const void *preload;
    size_t preload_len;
    /* --memory-budget: the most bytes one metadata object (a manifest,
     * stored or unpacked) may take; 0: the machine's physical memory. */
    uint64_t memory_budget;
    /* --threads: the worker threads this process decodes and reduces with
     * (common/floe_pool.h); 0 or 1: none (every call in the caller's
     * thread). The engine resolves the default (engine/mpi/threads.h). */
    int threads;
} floe_open_request;

typedef enum floe_dtype {
    FLOE_DT_BOOL, FLOE_DT_INT8, FLOE_DT_INT16, FLOE_DT_INT32, FLOE_DT_INT64,
    FLOE_DT_UINT8, FLOE_DT_UINT16, FLOE_DT_UINT32, FLOE_DT_UINT64,
    FLOE_DT_FLOAT32, FLOE_DT_FLOAT64,
    FLOE_DT_FLOAT16,
} floe_dtype;

typedef struct floe_array {
    const char *name;        /* path without the leading '/', e.g. "Tair" */
    int ndim;
    uint64_t shape[FLOE_MAX_DIMS];
    uint64_t chunk_shape[FLOE_MAX_DIMS];
    const char *dim_names[FLOE_MAX_DIMS]; /* NULL where the array has none */
    floe_dtype dtype;
    size_t itemsize;
    double fill_value;       /* as a double (NaN for float NaN fills) */
    uint8_t fill_raw[8];     /* exactly: one element's bytes, native order */
    const cJSON *attributes; /* Zarr attributes (borrowed) */
    const char *codecs;      /* "bytes, numcodecs.shuffle, numcodecs.zlib" (borrowed) */
    uint64_t n_chunk_refs;   /* chunk references in its manifests, or FLOE_REFS_UNCOUNTED
                                (see floe_open_request.arrays) */
    size_t n_manifests;
    /* Non-NULL when floe cannot read this array (e.g. an unknown codec): the
     * reason, one line. The rest of the dataset stays usable; reading this
     * array fails with this reason. */
    const char *unreadable;
} floe_array;

typedef struct floe_provenance {
    const char *source;       /* the STAC document or repository given */
    const char *doc_kind;     /* "Collection", "Item", "ItemCollection"; NULL: no STAC */
    const char *collection_id; /* NULL without a STAC document */
    const char *asset;        /* NULL without a STAC document */
    const char *repository;   /* repository URL */
    int spec_version;
    const char *snapshot_id;
    const char *ref_description; /* e.g. "tag v2001-01 (--tag)" */
    const char *snapshot_message;
    const char *snapshot_time; /* ISO 8601 */
    /* The STAC document's time-label hint ("point", "start", "end"): the
     * "floe:time_label" of the time dimension in its cube:dimensions
     * (engine/plan/time_intervals.h); NULL: none. */
    const char *time_label;
    /* The root group's attributes (the source's global attributes:
     * institution, history, ...), borrowed; NULL when it has none. */
    const cJSON *global_attributes;
    /* Not the dataset's: set by a job whose values are anomalies from a
     * climatology file (`--anomaly-from`), written as the global attribute
     * floe_anomaly_from; NULL: none. */
    const char *anomaly_from;
} floe_provenance;

typedef struct floe_dataset floe_dataset;

floe_err floe_dataset_open(const floe_open_request *req, floe_dataset **out);
void floe_dataset_free(floe_dataset **ds);

/* The dataset's worker pool (floe_open_request.threads workers), borrowed,
 * never NULL after a successful open: batched reads decode on it, and the
 * engine reduces and compresses on it (only the thread that opened the
 * dataset calls MPI). */
floe_pool *floe_dataset_pool(floe_dataset *ds);
/* The chunk requests the dataset's fetcher keeps in flight at most
 * (--concurrency or its default): how far a reader should read ahead. */
int floe_dataset_fetch_concurrency(const floe_dataset *ds);

/* The metadata an open with req->record = 1 fetched, as one blob for
 * floe_open_request.preload (borrowed: valid until floe_dataset_free).
 * FLOE_EINVAL if the dataset was not opened with record = 1. */
floe_err floe_dataset_recorded(const floe_dataset *ds, const void **blob, size_t *len);

#define FLOE_REFS_UNCOUNTED UINT64_MAX
/* The chunk references of `array` across its manifests (reads them):
 * floe_array.n_chunk_refs, counted now if the open did not. */
floe_err floe_dataset_count_refs(floe_dataset *ds, const floe_array *array, uint64_t *n);

const floe_provenance *floe_dataset_provenance(const floe_dataset *ds);
size_t floe_dataset_array_count(const floe_dataset *ds);
const floe_array *floe_dataset_array(const floe_dataset *ds, size_t i);
/* NULL if there is no such array. */
const floe_array *floe_dataset_find(const floe_dataset *ds, const char *name);
/* The virtual chunk containers the repository declares (borrowed). */
size_t floe_dataset_container_count(const floe_dataset *ds);
const char *floe_dataset_container(const floe_dataset *ds, size_t i);

/* The local files and folders a dataset reads, for the checks that a
 * run's outputs never replace one of its inputs (out/output_paths.h). */
typedef enum floe_input_kind {
    FLOE_INPUT_FILE,       /* one file (a STAC document) */
    FLOE_INPUT_REPOSITORY, /* a folder read as a whole (an Icechunk repository) */
    FLOE_INPUT_SOURCES,    /* a folder whose files chunks may come from (file://
                              containers, --allow, --remap targets) */
} floe_input_kind;

typedef struct floe_local_input {
    char *path;            /* a local path as named (owned) */
    floe_input_kind kind;
    const char *what;      /* "the STAC document", ... (static) */
} floe_local_input;

/* The local inputs of ds opened by req: its source document and
 * repository when they are local, and every file:// prefix chunks may be
 * read from (the repository's containers, req->allow, the targets of
 * req->remap). ds NULL (before the open): what req names itself (a local
 * SOURCE, --allow, --remap). *inputs (n of them) is freed with
 * floe_local_inputs_free. */
floe_err floe_dataset_local_inputs(const floe_dataset *ds, const floe_open_request *req,
                                   floe_local_input **inputs, size_t *n);
void floe_local_inputs_free(floe_local_input **inputs, size_t n);

/* Read chunk `coord` (chunk-grid coordinates) of `array`, decoded into out:
 * prod(chunk_shape) * itemsize bytes, native byte order, C order. A chunk
 * with no reference reads as the fill value. Errors name the array, the
 * chunk and the object it came from. */
floe_err floe_dataset_read_chunk(floe_dataset *ds, const floe_array *array,
                                 const uint64_t *coord, void *out);
/* Read chunks coords[0..n) (n x ndim chunk-grid coordinates) of `array`
 * concurrently: virtual chunks are fetched by one concurrent fetcher
 * (bounded requests in flight, nearby ranges coalesced, retries), and each
 * chunk is decoded as it arrives, while the others are still in flight.
 * fn receives the index into coords and the decoded chunk (borrowed for the
 * call), in any order. An error from fn or any chunk stops the batch (the
 * rest is cancelled) and is returned with the chunk named.
 *
 * Threads: with a pool of more than one worker (floe_open_request.threads,
 * floe_dataset_pool) the chunks are decoded on the workers while the
 * calling thread drives the network, and fn is called on a worker thread,
 * possibly CONCURRENTLY for different indices of the batch (each call has
 * its own decoded buffer). So fn must write only that index's part of its
 * output (reduce across indices after the call, in index order), must not
 * call MPI, and must not touch shared counters or scratch without atomics
 * or a lock. Every call has returned when the read returns. The error
 * returned is that of the first chunk handed to the workers that failed,
 * the same for any number of workers when one chunk fails. With one
 * worker every call is made in the calling thread, as chunks arrive. */
typedef floe_err (*floe_chunk_fn)(void *ctx, size_t index, const void *decoded);
floe_err floe_dataset_read_chunks(floe_dataset *ds, const floe_array *array,
                                  const uint64_t *coords, size_t n, floe_chunk_fn fn, void *ctx);

/* The same, and: `ahead` (nahead coordinates, of the caller's next
 * batches) are requested right after this batch's chunks, so that the
 * network works on them while this batch is decoded; they are handed out
 * when a later call asks for them (until then the encoded bytes wait:
 * the caller bounds them by what it announces). A chunk announced before
 * and not yet asked for is not requested again. Chunks asked for that were never
 * announced are read as usual; announced ones never asked for are dropped
 * when the dataset is freed or a read fails. */
floe_err floe_dataset_read_chunks_ahead(floe_dataset *ds, const floe_array *array,
                                        const uint64_t *coords, size_t n, const uint64_t *ahead,
                                        size_t nahead, floe_chunk_fn fn, void *ctx);

/* What this dataset has read so far (for --report and progress lines):
 * chunks delivered, their encoded and decoded bytes, seconds spent
 * decoding, and the concurrent fetcher's counters (zero before the first
 * batched read). */
typedef struct floe_dataset_io {
    uint64_t chunks;          /* chunks delivered to callers (fill chunks too) */
    uint64_t encoded_bytes;   /* bytes of encoded chunks decoded */
    uint64_t decoded_bytes;
    double decode_seconds;
    floe_fetch_stats fetch;
    /* Requests outside the batched reads: the open's (STAC document,
     * repository metadata, coordinates) and single chunk reads; and the
     * whole-object reads answered from a preloaded or prefetched blob. */
    uint64_t requests;
    uint64_t cache_hits;
    uint64_t retries; /* attempts after the first among those requests */
    /* Manifest objects this process fetched (or took from the preloaded
     * blob) and parsed, and their stored bytes. */
    uint64_t manifests_read;
    uint64_t manifest_bytes;
    /* The per-rank ref table (floe_dataset_use_refs): the chunk refs this
     * rank got in its table, and the lookups of an array the table answers
     * for that it did not hold (they went to the manifests). */
    uint64_t refs_received;
    uint64_t refs_outside_table;
    int threads; /* the dataset's pool's workers (floe_dataset_pool) */
    /* The most chunks announced ahead of the reader (read-ahead: in
     * flight or arrived, not yet asked for) at once. */
    uint64_t ahead_chunks;
} floe_dataset_io;
void floe_dataset_io_stats(const floe_dataset *ds, floe_dataset_io *out);

/* The chunk refs one rank looks up, collected by its read plans
 * (floe_read_plan.collect) into a ref table (dataset/ref_table.h). */
typedef struct floe_ref_collector floe_ref_collector;

/* ---- dry runs: batched reads planned, never fetched (read_plan.c) ----
 * A job's dry run calls floe_dataset_plan_chunks where its run calls
 * floe_dataset_read_chunks_ahead, with the same batches, one plan per
 * rank it simulates: the plan queues what that call would queue on the
 * rank's fetcher (the batch's chunks not read ahead before, then the
 * chunks announced for later) and counts what the fetcher's planning
 * sends for them (floe_fetch_plan_count: the same coalescing). Every
 * call plans what it queued, as the reads do whatever the timing: a call
 * that waits for a chunk plans its queue then, one that does not (its
 * chunks read ahead and arrived, or fill chunks) plans it without
 * waiting (floe_fetch_poll). Chunks are looked up as the reads look
 * them up: in the rank's ref table where it has one (floe_dataset_use_refs)
 * and the table answers for the array, else in the manifests (loaded if
 * need be); no chunk is fetched. */
typedef struct floe_read_plan {
    floe_fetch_plan_totals fetch; /* requests and bytes, as floe_dataset_io.fetch counts them */
    uint64_t chunks;         /* chunks delivered, fill chunks too (floe_dataset_io.chunks) */
    uint64_t virtual_chunks; /* of them, fetched */
    uint64_t encoded_bytes;  /* their ranges' bytes (bytes_delivered) */
    uint64_t decoded_bytes;  /* decoded, every chunk */
    uint64_t largest_wave;   /* the most bytes one planning requests: the fetcher's window */
    size_t largest_chunk;    /* the largest decoded chunk */
    /* owned bookkeeping: the ranges queued and not yet planned, and the
     * chunks announced (read ahead) and not yet asked for */
    floe_fetch_range *queued;
    size_t nqueued, cap_queued;
    struct read_plan_ahead *ahead;
    size_t nahead, cap_ahead;
    /* Set by the caller (borrowed), or NULL: every chunk the plan looks
     * up, and every array it plans, is added to it (the rank's ref table,
     * below). */
    floe_ref_collector *collect;
} floe_read_plan;

/* Plan one floe_dataset_read_chunks_ahead(ds, array, coords, n, ahead,
 * nahead, ...) into *p (zeroed before its first call). The fetch options
 * are the dataset's. */
floe_err floe_dataset_plan_chunks(floe_dataset *ds, floe_read_plan *p, const floe_array *array,
                                  const uint64_t *coords, size_t n, const uint64_t *ahead,
                                  size_t nahead);
/* Plan what is still queued (as a last read would) and free the
 * bookkeeping; the counts stay. Safe on a zeroed plan. */
floe_err floe_read_plan_finish(floe_dataset *ds, floe_read_plan *p);

/* ---- per-rank ref tables (ref_collector.c, ref_table.c) ----
 * A job's rank 0 replays each rank's reads on read plans that collect the
 * refs they look up, and hands each rank the table of exactly its refs
 * (engine/mpi/ref_share.h); the rank then reads without its manifests. */
floe_err floe_ref_collector_new(floe_ref_collector **out);
/* Safe on NULL; NULLs *c. */
void floe_ref_collector_free(floe_ref_collector **c);
/* The collected refs as a table's blob, appended to out (sorted, each
 * chunk once; dataset/ref_table.h has its layout). */
floe_err floe_ref_collector_blob(floe_ref_collector *c, floe_buf *out);
/* Install the table in blob[0..len) (parsed and checked: it is input;
 * copied): chunk lookups of the arrays it answers for (reads, read-ahead,
 * read plans) consult it first; one it lacks goes to the manifests and is
 * counted (floe_dataset_io.refs_outside_table). Replaces a table
 * installed before. */
floe_err floe_dataset_use_refs(floe_dataset *ds, const void *blob, size_t len);
/* Forget every manifest read so far (their memory): after a table is
 * installed, nothing is looked up in them (a lookup the table does not
 * answer reads its manifest again). */
void floe_dataset_drop_manifests(floe_dataset *ds);

/* A whole 1-D array as doubles (coordinates), caller frees *values. */
floe_err floe_dataset_read_1d(floe_dataset *ds, const floe_array *array, double **values);
/* A whole small array of any rank as doubles in C order (e.g. time bounds,
 * (time, 2)), caller frees *values; more than FLOE_READ_ALL_MAX values is
 * FLOE_EINVAL. */
enum { FLOE_READ_ALL_MAX = 1 << 24 };
floe_err floe_dataset_read_all(floe_dataset *ds, const floe_array *array, double **values);

#endif
