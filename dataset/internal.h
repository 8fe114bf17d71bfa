/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/internal.h - what the files of dataset/ share: the dataset object
 * and its arrays, and the few functions one file uses from another
 * (open.c opens and frees, read.c reads one chunk or a coordinate,
 * readahead.c reads batches on the fetcher and reads ahead). Not for other
 * folders: they use dataset.h. */
#ifndef FLOE_DATASET_INTERNAL_H
#define FLOE_DATASET_INTERNAL_H

#include "dataset/dataset.h"
#include "dataset/ref_table.h"

#include "io/fetch/fetch.h"
#include "io/icechunk/icechunk.h"
#include "io/icechunk/virtual_access.h"
#include "io/transport/transport.h"
#include "io/zarr/codec.h"
#include "io/zarr/meta.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Encoded chunks larger than this are refused (a corrupt length must not
 * make floe allocate gigabytes). */
#define MAX_ENCODED_CHUNK ((size_t)1 << 30)

typedef struct dataset_array {
    floe_array pub;
    zarr_array_meta *meta; /* NULL when unreadable */
    char *unreadable;      /* why (owned) */
    floe_code unreadable_code;
    const ic_node *node; /* borrowed from the snapshot */
    int needed;           /* named in floe_open_request.arrays, or a coordinate of one */
    double *coord;        /* a 1-D coordinate read at open (owned), or NULL */
} dataset_array;

struct floe_dataset {
    floe_transport *t;
    floe_fetcher *fetcher; /* created on the first batched read */
    floe_fetch_opts fetch_opts;
    struct ahead_slot *ahead; /* chunks read ahead (readahead.c) */
    size_t nahead, ahead_cap;
    uint8_t *decoded;      /* one decoded chunk, for batched reads */
    size_t decoded_size;
    ic_repo *repo;
    ic_snapshot *snap;
    virtual_policy *policy;
    zarr_decoder *decoder;
    dataset_array *arrays;
    size_t narrays;
    floe_buf encoded; /* reused for every chunk read */
    floe_provenance prov;
    char *source, *doc_kind, *collection_id, *asset, *repository, *ref_description,
        *snapshot_time, *time_label;
    char snapshot_id[IC_SNAPSHOT_ID_SIZE];
    cJSON *root_json; /* the root group's zarr.json, parsed (NULL: none) */
    floe_dataset_io io;    /* counters (io.fetch is filled on demand) */
    /* Whole objects (metadata) prefetched, preloaded or recorded while
     * opening (transport.h); emptied at the end of the open. */
    floe_object_cache *cache;
    int recorded_ok;
    floe_buf recorded;     /* the blob of an open with record = 1 */
    floe_transport_counts stac_counts; /* of the transport that read the STAC document */
    struct floe_ref_table *refs; /* this rank's ref table (ref_table.h), or NULL */
    floe_pool *pool; /* workers (floe_open_request.threads), owned */
    struct dataset_worker *workers; /* per worker scratch (decode_tasks.c), or NULL */
    int nworkers;
};

/* The floe_array handed out is the first member of a dataset_array, which
 * the dataset owns (so the reading functions, given the dataset, may
 * update it). (read.c) */
dataset_array *dataset_array_of(const floe_array *a);

/* Read, in one concurrent wave, the manifests of a that overlap the
 * bounding box of the chunks coords[0..n) (and, best effort, of
 * ahead[0..nahead)) and are not cached yet, before a batch looks them up
 * (read.c). */
floe_err dataset_load_manifests_for(floe_dataset *ds, const dataset_array *a,
                                    const uint64_t *coords, size_t n, const uint64_t *ahead,
                                    size_t nahead);

/* Whether the chunks of a are looked up in the ref table (read.c). */
int dataset_uses_table(const floe_dataset *ds, const dataset_array *a);

/* The ref of chunk `coord` of a: from the ref table if it answers for a
 * (a coordinate it lacks is counted, io.refs_outside_table), else from
 * the manifests (loaded if need be; read.c). Pointers in *ref are
 * borrowed from the table or the manifest cache. */
floe_err dataset_lookup(floe_dataset *ds, dataset_array *a, const uint64_t *coord,
                        ic_chunk_ref *ref);

/* "[3,1,0]" into buf; returns buf (read.c). */
char *dataset_format_coord(const uint64_t *coord, int ndim, char *buf, size_t size);

/* The values of a 1-D array read chunk by chunk, as doubles (*values owned
 * by the caller; read.c). */
floe_err dataset_read_1d_values(floe_dataset *ds, const floe_array *array, double **values);

/* Drop every chunk read ahead (readahead.c). */
void dataset_ahead_clear(floe_dataset *ds);

/* ---- decoding on the pool (decode_tasks.c; pools of > 1 worker) -------- */
typedef struct dataset_worker dataset_worker;
typedef struct dataset_decode_task dataset_decode_task;

/* Every worker's decoder and a decoded buffer of at least `need` bytes
 * (made on the first use). Call between batches: no task may run. */
floe_err dataset_workers_ready(floe_dataset *ds, size_t need);
/* Add the workers' counters to ds->io (after floe_pool_wait). */
void dataset_workers_merge_io(floe_dataset *ds);
void dataset_workers_free(floe_dataset *ds);

/* err with " array NAME chunk [c,...]" added (NULL stays NULL). */
floe_err dataset_name_chunk(floe_err err, const dataset_array *a, const uint64_t *coord);

/* Queue chunk `index` (coord borrowed until the wait) of a batch: decoded
 * on a worker and handed to fn there. The encoded bytes are copied, or
 * taken from *owned (set to NULL) when owned is given; fill: no bytes, the
 * fill value; err (owned): the task fails with it (a failed fetch), in
 * submission order with the others. A task that fails sets *failed. An
 * error here is the copy's allocation (err is freed). */
floe_err dataset_decode_submit(floe_dataset *ds, const dataset_array *a, size_t index,
                               const uint64_t *coord, const uint8_t *bytes, size_t len,
                               uint8_t **owned, int fill, floe_err err, floe_chunk_fn fn,
                               void *ctx, atomic_int *failed);

#endif
