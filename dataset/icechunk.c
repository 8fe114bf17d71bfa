/* dataset/icechunk.c - floe_dataset (dataset/dataset.h) over an Icechunk
 * repository: STAC or URL -> repository -> snapshot -> Zarr arrays, and
 * chunk reads that follow inline, native and virtual references.
 *
 * This is where the layers meet: stac/ says where the repository is and
 * what the user authorised, io/icechunk says where a chunk's bytes are,
 * io/virtual_access decides whether a virtual location may be fetched and
 * from where, io/transport fetches, io/zarr_codec decodes. The engine sees
 * none of it.
 */
#include "dataset/dataset.h"

#include "common/floe_log.h"
#include "io/fetch/fetch.h"
#include "io/fetch/prefetch.h"
#include "io/icechunk/icechunk.h"
#include "io/transport/transport.h"
#include "io/icechunk/virtual_access.h"
#include "io/zarr/codec.h"
#include "io/zarr/meta.h"
#include "stac/doc.h"
#include "stac/open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Encoded chunks larger than this are refused (a corrupt length must not
 * make floe allocate gigabytes). */
#define MAX_ENCODED_CHUNK ((size_t)1 << 30)

typedef struct dataset_array {
    floe_array pub;
    zarr_array_meta *meta; /* NULL when unreadable */
    char *unreadable;      /* why (owned) */
    floe_code unreadable_code;
    const ic_node *node; /* borrowed from the snapshot */
    int manifests_loaded; /* ic_repo_load_manifests done for it */
    int needed;           /* named in floe_open_request.arrays, or a coordinate of one */
    double *coord;        /* a 1-D coordinate read at open (owned), or NULL */
} dataset_array;

struct floe_dataset {
    floe_transport *t;
    floe_fetcher *fetcher; /* created on the first batched read */
    floe_fetch_opts fetch_opts;
    struct ahead_slot *ahead; /* chunks read ahead (see floe_dataset_read_chunks_ahead) */
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
        *snapshot_time;
    char snapshot_id[IC_SNAPSHOT_ID_SIZE];
    floe_dataset_io io;    /* counters (io.fetch is filled on demand) */
    /* Whole objects (metadata) prefetched, preloaded or recorded while
     * opening (transport.h); emptied at the end of the open. */
    floe_object_cache *cache;
    int recorded_ok;
    floe_buf recorded;     /* the blob of an open with record = 1 */
    floe_transport_counts stac_counts; /* of the transport that read the STAC document */
};

static void ahead_clear(floe_dataset *ds);

static ic_ref_kind ic_kind(floe_ref_kind k)
{
    return k == FLOE_REF_TAG ? IC_REF_TAG : k == FLOE_REF_SNAPSHOT ? IC_REF_SNAPSHOT
                                                                    : IC_REF_BRANCH;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Where the repository is and which version, from a STAC document. */
static floe_err open_from_stac(floe_dataset *ds, const floe_open_request *req,
                               floe_transport_opts *topts, stac_open_params *p,
                               ic_ref_kind *kind, const char **ref)
{
    stac_request sreq = {.asset = req->asset};
    if (req->ref_kind != FLOE_REF_DEFAULT) {
        sreq.cli_ref_kind = req->ref_kind == FLOE_REF_TAG ? STAC_REF_TAG
                            : req->ref_kind == FLOE_REF_SNAPSHOT ? STAC_REF_SNAPSHOT
                                                                 : STAC_REF_BRANCH;
        sreq.cli_ref = req->ref;
    }
    FLOE_CHECK(stac_open_resolve(ds->t, req->source, &sreq, p));
    *kind = p->ref_kind == STAC_REF_TAG ? IC_REF_TAG
            : p->ref_kind == STAC_REF_SNAPSHOT ? IC_REF_SNAPSHOT
                                               : IC_REF_BRANCH;
    *ref = p->ref_name;
    topts->s3.region = p->repo.region;
    topts->s3.anonymous = p->repo.anonymous;
    if (!req->s3_endpoint && p->repo.endpoint)
        topts->s3.endpoint = p->repo.endpoint;
    for (size_t i = 0; i < p->n_containers; i++)
        FLOE_CHECK(virtual_policy_allow(ds->policy, p->containers[i].url, 0),
                   "virtual chunk container of asset %s", p->asset_key);
    char desc[512];
    snprintf(desc, sizeof desc, "%s %s (%s)", stac_ref_kind_name(p->ref_kind), p->ref_name,
             p->ref_origin ? p->ref_origin : "default");
    ds->ref_description = strdup(desc);
    ds->collection_id = dup_or_null(p->collection_id);
    ds->doc_kind = dup_or_null(p->doc_kind);
    ds->asset = dup_or_null(p->asset_key);
    ds->repository = strdup(p->repo.url);
    return NULL;
}

static floe_err load_arrays(floe_dataset *ds)
{
    size_t n = ic_snapshot_node_count(ds->snap);
    ds->arrays = calloc(n ? n : 1, sizeof *ds->arrays);
    if (!ds->arrays)
        return FLOE_ERR(FLOE_ENOMEM, "array table");
    for (size_t i = 0; i < n; i++) {
        const ic_node *node = ic_snapshot_node(ds->snap, i);
        if (!node->is_array)
            continue;
        dataset_array *a = &ds->arrays[ds->narrays++];
        a->node = node;
        floe_array *p = &a->pub;
        p->name = node->path[0] == '/' ? node->path + 1 : node->path;
        floe_err err = zarr_meta_parse(node->zarr_json, node->zarr_json_len, &a->meta);
        if (err) {
            /* One array floe cannot decode must not hide the others: keep
             * the reason, report it when this array is used. */
            char line[1024];
            a->unreadable_code = floe_err_code(err);
            a->unreadable = strdup(floe_err_line(err, line, sizeof line));
            floe_err_free(&err);
            if (!a->unreadable)
                return FLOE_ERR(FLOE_ENOMEM, "array table");
            p->unreadable = a->unreadable;
            p->ndim = node->ndim < FLOE_MAX_DIMS ? node->ndim : FLOE_MAX_DIMS;
            for (int d = 0; d < p->ndim; d++)
                p->shape[d] = node->shape[d];
            p->codecs = "?";
            continue;
        }
        const zarr_array_meta *m = a->meta;
        p->ndim = m->ndim;
        for (int d = 0; d < m->ndim; d++) {
            p->shape[d] = m->shape[d];
            p->chunk_shape[d] = m->chunk_shape[d];
            p->dim_names[d] = m->dim_names[d];
        }
        p->dtype = (floe_dtype)m->dtype;
        p->itemsize = m->itemsize;
        p->fill_value = m->fill_value;
        p->attributes = m->attributes;
        p->codecs = m->codecs_text;
        p->n_chunk_refs = FLOE_REFS_UNCOUNTED;
        FLOE_CHECK(ic_array_count_refs(ds->repo, node, NULL, &p->n_manifests), "array %s",
                   node->path);
    }
    return NULL;
}

static dataset_array *find_internal(floe_dataset *ds, const char *name, size_t len)
{
    for (size_t i = 0; i < ds->narrays; i++)
        if (strlen(ds->arrays[i].pub.name) == len && !strncmp(ds->arrays[i].pub.name, name, len))
            return &ds->arrays[i];
    return NULL;
}

static int is_coordinate(const dataset_array *a)
{
    const floe_array *p = &a->pub;
    return !a->unreadable && p->ndim == 1 && p->dim_names[0] && !strcmp(p->dim_names[0], p->name);
}

/* Which arrays the open reads: all (list NULL), or the named ones and the
 * coordinate arrays of their dimensions. */
static void mark_needed(floe_dataset *ds, const char *list)
{
    for (size_t i = 0; i < ds->narrays; i++)
        ds->arrays[i].needed = list == NULL;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        dataset_array *a = find_internal(ds, p, len);
        if (a) {
            a->needed = 1;
            for (int d = 0; d < a->pub.ndim; d++) {
                const char *dim = a->pub.dim_names[d];
                dataset_array *c = dim ? find_internal(ds, dim, strlen(dim)) : NULL;
                if (c)
                    c->needed = 1;
            }
        }
        p += len + (p[len] == ',');
    }
}

/* Every manifest of the needed arrays in one concurrent wave. */
static floe_err load_manifests(floe_dataset *ds)
{
    const ic_node **nodes = malloc((ds->narrays ? ds->narrays : 1) * sizeof *nodes);
    if (!nodes)
        return FLOE_ERR(FLOE_ENOMEM, "array table");
    size_t n = 0;
    for (size_t i = 0; i < ds->narrays; i++)
        if (ds->arrays[i].needed)
            nodes[n++] = ds->arrays[i].node;
    floe_err err = ic_repo_load_manifests(ds->repo, nodes, n);
    free(nodes);
    FLOE_CHECK(err);
    for (size_t i = 0; i < ds->narrays; i++)
        if (ds->arrays[i].needed)
            ds->arrays[i].manifests_loaded = 1;
    return NULL;
}

static floe_err ensure_manifests(floe_dataset *ds, dataset_array *a)
{
    if (a->manifests_loaded)
        return NULL;
    const ic_node *node = a->node;
    FLOE_CHECK(ic_repo_load_manifests(ds->repo, &node, 1), "array %s", a->pub.name);
    a->manifests_loaded = 1;
    return NULL;
}

static floe_err read_1d_values(floe_dataset *ds, const floe_array *array, double **values);

/* The needed 1-D coordinates, read now: their native chunks in one
 * concurrent wave (and recorded with the metadata), because every command
 * reads them first and one by one they would cost a round trip each. A
 * coordinate that cannot be read is left to floe_dataset_read_1d, whose
 * caller reports it. */
static floe_err read_coordinates(floe_dataset *ds)
{
    size_t nurls = 0, cap = 0;
    char **urls = NULL;
    floe_err err = NULL;
    for (size_t i = 0; i < ds->narrays && !err; i++) {
        dataset_array *a = &ds->arrays[i];
        if (!a->needed || !is_coordinate(a) || !a->pub.chunk_shape[0])
            continue;
        for (uint64_t c = 0; c * a->pub.chunk_shape[0] < a->pub.shape[0] && !err; c++) {
            ic_chunk_ref ref;
            err = ic_chunk_ref_lookup(ds->repo, a->node, &c, &ref);
            if (err || ref.kind != IC_CHUNK_NATIVE || ref.offset)
                continue;
            if (nurls == cap) {
                cap = cap ? 2 * cap : 16;
                char **grown = realloc(urls, cap * sizeof *grown);
                if (!grown) {
                    err = FLOE_ERR(FLOE_ENOMEM, "coordinate chunks");
                    break;
                }
                urls = grown;
            }
            err = ic_native_chunk_url(ds->repo, &ref, &urls[nurls]);
            nurls += !err;
        }
    }
    floe_err_free(&err); /* a lookup that fails fails again in read_1d */
    err = floe_prefetch(ds->t, (const char *const *)urls, nurls);
    for (size_t i = 0; i < nurls; i++)
        free(urls[i]);
    free(urls);
    FLOE_CHECK(err, "coordinates");
    for (size_t i = 0; i < ds->narrays; i++) {
        dataset_array *a = &ds->arrays[i];
        if (!a->needed || !is_coordinate(a))
            continue;
        floe_err e = read_1d_values(ds, &a->pub, &a->coord);
        if (e) {
            char line[512];
            FLOE_DEBUG("coordinate %s not read at open: %s", a->pub.name,
                       floe_err_line(e, line, sizeof line));
            floe_err_free(&e);
        }
    }
    return NULL;
}

static floe_err count_all_refs(floe_dataset *ds)
{
    for (size_t i = 0; i < ds->narrays; i++) {
        dataset_array *a = &ds->arrays[i];
        if (a->unreadable)
            continue;
        FLOE_CHECK(ic_array_count_refs(ds->repo, a->node, &a->pub.n_chunk_refs, NULL), "array %s",
                   a->node->path);
    }
    return NULL;
}

floe_err floe_dataset_open(const floe_open_request *req, floe_dataset **out)
{
    *out = NULL;
    floe_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return FLOE_ERR(FLOE_ENOMEM, "dataset");
    floe_err err = NULL;
    stac_open_params params;
    memset(&params, 0, sizeof params);
    floe_buf_init(&ds->encoded, MAX_ENCODED_CHUNK);
    FLOE_CHECK_GOTO(err, fail, floe_object_cache_new(0, &ds->cache));
    if (req->preload)
        FLOE_CHECK_GOTO(err, fail,
                        floe_object_cache_preload(ds->cache, req->preload, req->preload_len),
                        "the preloaded metadata");
    floe_object_cache_record(ds->cache, req->record);
    FLOE_CHECK_GOTO(err, fail, virtual_policy_new(&ds->policy));
    FLOE_CHECK_GOTO(err, fail, zarr_decoder_new(&ds->decoder));
    ds->source = strdup(req->source);
    ds->fetch_opts = req->fetch;

    floe_transport_opts topts;
    memset(&topts, 0, sizeof topts);
    topts.s3.endpoint = req->s3_endpoint;
    ic_ref_kind kind = ic_kind(req->ref_kind);
    const char *ref = req->ref_kind == FLOE_REF_DEFAULT ? "main" : req->ref;
    int stac = stac_source_is_document(req->source);
    if (stac) {
        /* The document itself may be remote: a plain transport reads it. */
        FLOE_CHECK_GOTO(err, fail, floe_transport_new(&topts, &ds->t));
        floe_transport_set_cache(ds->t, ds->cache);
        err = open_from_stac(ds, req, &topts, &params, &kind, &ref);
        floe_transport_stats(ds->t, &ds->stac_counts);
        floe_transport_free(&ds->t);
        if (err)
            goto fail;
    } else {
        if (req->asset) {
            err = FLOE_ERR(FLOE_EINVAL, "--asset needs a STAC document as SOURCE, not %s",
                           req->source);
            goto fail;
        }
        char desc[512];
        snprintf(desc, sizeof desc, "%s %s (%s)",
                 kind == IC_REF_TAG ? "tag" : kind == IC_REF_SNAPSHOT ? "snapshot" : "branch",
                 ref, req->ref_kind == FLOE_REF_DEFAULT ? "default" : "command line");
        ds->ref_description = strdup(desc);
        ds->repository = strdup(req->source);
    }
    FLOE_CHECK_GOTO(err, fail, floe_transport_new(&topts, &ds->t));
    floe_transport_set_cache(ds->t, ds->cache);
    for (size_t i = 0; i < req->nallow; i++)
        FLOE_CHECK_GOTO(err, fail, virtual_policy_allow(ds->policy, req->allow[i], 1));
    for (size_t i = 0; i < req->nremap; i++)
        FLOE_CHECK_GOTO(err, fail, virtual_policy_remap(ds->policy, req->remap[i]));

    /* Each step below needs what the one before read, except the repo file
     * and a snapshot named by id: those come in one round trip. */
    FLOE_CHECK_GOTO(err, fail, ic_repo_prefetch(ds->t, ds->repository, kind, ref));
    FLOE_CHECK_GOTO(err, fail, ic_repo_open(ds->t, ds->repository, &ds->repo));
    for (size_t i = 0; i < ic_repo_container_count(ds->repo); i++)
        FLOE_CHECK_GOTO(err, fail,
                        virtual_policy_declare(ds->policy, ic_repo_container(ds->repo, i)->url_prefix));
    FLOE_CHECK_GOTO(err, fail, ic_repo_resolve(ds->repo, kind, ref, ds->snapshot_id));
    FLOE_CHECK_GOTO(err, fail, ic_snapshot_load(ds->repo, ds->snapshot_id, &ds->snap));
    FLOE_CHECK_GOTO(err, fail, load_arrays(ds), "repository %s snapshot %s", ds->repository,
                    ds->snapshot_id);
    mark_needed(ds, req->arrays);
    FLOE_CHECK_GOTO(err, fail, load_manifests(ds), "repository %s snapshot %s", ds->repository,
                    ds->snapshot_id);
    if (!req->arrays)
        FLOE_CHECK_GOTO(err, fail, count_all_refs(ds), "repository %s snapshot %s",
                        ds->repository, ds->snapshot_id);
    FLOE_CHECK_GOTO(err, fail, read_coordinates(ds), "repository %s snapshot %s",
                    ds->repository, ds->snapshot_id);
    if (req->record) {
        FLOE_CHECK_GOTO(err, fail, floe_object_cache_serialize(ds->cache, &ds->recorded),
                        "recording the metadata of %s", ds->repository);
        ds->recorded_ok = 1;
    }
    /* What the open needed is parsed: later reads go to the store. */
    floe_object_cache_record(ds->cache, 0);
    floe_object_cache_clear(ds->cache);

    char when[40];
    ds->snapshot_time = strdup(ic_format_time(ic_snapshot_flushed_at(ds->snap), when, sizeof when));
    ds->prov = (floe_provenance){
        .source = ds->source,
        .doc_kind = ds->doc_kind,
        .collection_id = ds->collection_id,
        .asset = ds->asset,
        .repository = ds->repository,
        .spec_version = ic_repo_spec_version(ds->repo),
        .snapshot_id = ds->snapshot_id,
        .ref_description = ds->ref_description,
        .snapshot_message = ic_snapshot_message(ds->snap),
        .snapshot_time = ds->snapshot_time,
    };
    stac_open_params_clear(&params);
    *out = ds;
    return NULL;
fail:
    stac_open_params_clear(&params);
    floe_dataset_free(&ds);
    return err;
}

void floe_dataset_free(floe_dataset **dsp)
{
    floe_dataset *ds = dsp ? *dsp : NULL;
    if (!ds)
        return;
    for (size_t i = 0; i < ds->narrays; i++) {
        zarr_meta_free(&ds->arrays[i].meta);
        free(ds->arrays[i].unreadable);
        free(ds->arrays[i].coord);
    }
    free(ds->arrays);
    ic_snapshot_free(&ds->snap);
    ic_repo_free(&ds->repo);
    floe_fetcher_free(&ds->fetcher);
    ahead_clear(ds);
    free(ds->ahead);
    free(ds->decoded);
    floe_transport_free(&ds->t);
    floe_object_cache_free(&ds->cache);
    floe_buf_free(&ds->recorded);
    virtual_policy_free(&ds->policy);
    zarr_decoder_free(&ds->decoder);
    floe_buf_free(&ds->encoded);
    free(ds->source);
    free(ds->collection_id);
    free(ds->doc_kind);
    free(ds->asset);
    free(ds->repository);
    free(ds->ref_description);
    free(ds->snapshot_time);
    free(ds);
    *dsp = NULL;
}

floe_err floe_dataset_recorded(const floe_dataset *ds, const void **blob, size_t *len)
{
    *blob = NULL;
    *len = 0;
    if (!ds->recorded_ok)
        return FLOE_ERR(FLOE_EINVAL, "dataset %s was not opened with record = 1", ds->source);
    *blob = ds->recorded.data;
    *len = ds->recorded.len;
    return NULL;
}

const floe_provenance *floe_dataset_provenance(const floe_dataset *ds)
{
    return &ds->prov;
}

size_t floe_dataset_array_count(const floe_dataset *ds)
{
    return ds->narrays;
}

const floe_array *floe_dataset_array(const floe_dataset *ds, size_t i)
{
    return i < ds->narrays ? &ds->arrays[i].pub : NULL;
}

const floe_array *floe_dataset_find(const floe_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->narrays; i++)
        if (!strcmp(ds->arrays[i].pub.name, name))
            return &ds->arrays[i].pub;
    return NULL;
}

size_t floe_dataset_container_count(const floe_dataset *ds)
{
    return ic_repo_container_count(ds->repo);
}

const char *floe_dataset_container(const floe_dataset *ds, size_t i)
{
    const ic_container *c = ic_repo_container(ds->repo, i);
    return c ? c->url_prefix : NULL;
}

/* The floe_array handed out is the first member of a dataset_array, which
 * the dataset owns (so the reading functions, given the dataset, may
 * update it). */
static dataset_array *internal(const floe_array *a)
{
    return (dataset_array *)(uintptr_t)a;
}

floe_err floe_dataset_count_refs(floe_dataset *ds, const floe_array *array, uint64_t *n)
{
    dataset_array *a = internal(array);
    if (a->unreadable || a->pub.n_chunk_refs != FLOE_REFS_UNCOUNTED) {
        *n = a->pub.n_chunk_refs;
        return NULL;
    }
    FLOE_CHECK(ensure_manifests(ds, a));
    FLOE_CHECK(ic_array_count_refs(ds->repo, a->node, &a->pub.n_chunk_refs, NULL), "array %s",
               array->name);
    *n = a->pub.n_chunk_refs;
    return NULL;
}

/* Fetch the encoded bytes of a virtual chunk: authorised, remapped, and
 * conditional on the checksum the snapshot recorded. */
static floe_err fetch_virtual(floe_dataset *ds, const ic_chunk_ref *ref)
{
    char *url = NULL;
    FLOE_CHECK(virtual_policy_resolve(ds->policy, ref->location, &url));
    floe_condition cond = {.etag = ref->etag, .unmodified_since = ref->last_modified};
    /* The transport's message names the URL, the range and, for a changed
     * source, the condition that failed. */
    floe_err err = floe_transport_get(ds->t, url, ref->offset, ref->length, &cond, &ds->encoded);
    free(url);
    return err;
}

/* "[3,1,0]" */
static char *format_coord(const uint64_t *coord, int ndim, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim && pos + 1 < size; d++)
        pos += (size_t)snprintf(buf + pos, size - pos, "%s%llu", d ? "," : "[",
                                (unsigned long long)coord[d]);
    if (pos + 1 < size)
        snprintf(buf + pos, size - pos, "]");
    return buf;
}

floe_err floe_dataset_read_chunk(floe_dataset *ds, const floe_array *array,
                                 const uint64_t *coord, void *out)
{
    dataset_array *a = internal(array);
    if (a->unreadable)
        return FLOE_ERR(a->unreadable_code, "array %s: %s", array->name, a->unreadable);
    FLOE_CHECK(ensure_manifests(ds, a));
    ic_chunk_ref ref;
    char where[128];
    format_coord(coord, array->ndim, where, sizeof where);
    FLOE_CHECK(ic_chunk_ref_lookup(ds->repo, a->node, coord, &ref), "array %s chunk %s",
               array->name, where);
    if (ref.kind == IC_CHUNK_MISSING) {
        zarr_chunk_fill(a->meta, out);
        return NULL;
    }
    floe_buf_reset(&ds->encoded);
    const uint8_t *bytes;
    size_t n;
    if (ref.kind == IC_CHUNK_INLINE) {
        bytes = ref.inline_data;
        n = ref.inline_len;
    } else {
        if (ref.kind == IC_CHUNK_VIRTUAL)
            FLOE_CHECK(fetch_virtual(ds, &ref), "array %s chunk %s", array->name, where);
        else
            FLOE_CHECK(ic_read_stored_chunk(ds->repo, &ref, &ds->encoded),
                       "array %s chunk %s (native %s)", array->name, where, ref.chunk_id);
        bytes = ds->encoded.data;
        n = ds->encoded.len;
    }
    FLOE_CHECK(zarr_chunk_decode(ds->decoder, a->meta, bytes, n, out),
               "array %s chunk %s%s%s", array->name, where,
               ref.kind == IC_CHUNK_VIRTUAL ? " from " : "",
               ref.kind == IC_CHUNK_VIRTUAL ? ref.location : "");
    return NULL;
}

/* Decode encoded bytes of chunk `index` of a batch and hand them to fn. */
static floe_err deliver(floe_dataset *ds, const dataset_array *a, const uint8_t *bytes, size_t n,
                        size_t index, floe_chunk_fn fn, void *ctx)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FLOE_CHECK(zarr_chunk_decode(ds->decoder, a->meta, bytes, n, ds->decoded));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ds->io.decode_seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ds->io.chunks++;
    ds->io.encoded_bytes += n;
    ds->io.decoded_bytes += zarr_chunk_nbytes(a->meta);
    return fn(ctx, index, ds->decoded);
}

/* ---- read-ahead ----------------------------------------------------------
 * A caller that reads in batches names its next batch with the current one
 * (floe_dataset_read_chunks_ahead): those chunks are requested right after
 * the current ones, so the network works on batch k+1 while batch k is
 * decoded and reduced, and a batch no longer starts with an idle round
 * trip. What arrives before it is asked for waits here, encoded. */
enum { AHEAD_FREE = 0, AHEAD_FLIGHT, AHEAD_READY };

typedef struct ahead_slot {
    const dataset_array *a;
    uint64_t coord[FLOE_MAX_DIMS];
    int state;
    size_t want;       /* FLIGHT: index in the current batch, or SIZE_MAX */
    uint8_t *bytes;    /* READY: the encoded chunk (owned) */
    size_t len;
    floe_err err;      /* READY: its error instead (owned) */
} ahead_slot;

/* fetch user values: batch index i as (i << 1), ahead slot k as (k << 1 | 1) */
#define USER_OF(i, slot) ((void *)(uintptr_t)(((uintptr_t)(i) << 1) | (uintptr_t)(slot)))

static void ahead_release(ahead_slot *s)
{
    free(s->bytes);
    floe_err_free(&s->err);
    memset(s, 0, sizeof *s);
}

static void ahead_clear(floe_dataset *ds)
{
    for (size_t k = 0; k < ds->nahead; k++)
        ahead_release(&ds->ahead[k]);
    ds->nahead = 0;
}

static ahead_slot *ahead_find(floe_dataset *ds, const dataset_array *a, const uint64_t *c)
{
    for (size_t k = 0; k < ds->nahead; k++) {
        ahead_slot *s = &ds->ahead[k];
        if (s->state != AHEAD_FREE && s->a == a &&
            !memcmp(s->coord, c, (size_t)a->pub.ndim * sizeof *c))
            return s;
    }
    return NULL;
}

static ahead_slot *ahead_new(floe_dataset *ds)
{
    for (size_t k = 0; k < ds->nahead; k++)
        if (ds->ahead[k].state == AHEAD_FREE)
            return &ds->ahead[k];
    if (ds->nahead == ds->ahead_cap) {
        size_t cap = ds->ahead_cap ? 2 * ds->ahead_cap : 64;
        ahead_slot *p = realloc(ds->ahead, cap * sizeof *p);
        if (!p)
            return NULL;
        ds->ahead = p;
        ds->ahead_cap = cap;
    }
    ahead_slot *s = &ds->ahead[ds->nahead++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Queue the virtual chunks among coords[0..n) for later (best effort: a
 * chunk that cannot be looked up or resolved is simply read when asked
 * for, and fails then with its own error). */
static void ahead_queue(floe_dataset *ds, const dataset_array *a, const uint64_t *coords,
                        size_t n)
{
    int ndim = a->pub.ndim;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = coords + i * (size_t)ndim;
        if (ahead_find(ds, a, c))
            continue;
        ic_chunk_ref ref;
        floe_err err = ic_chunk_ref_lookup(ds->repo, a->node, c, &ref);
        char *url = NULL;
        if (!err && ref.kind == IC_CHUNK_VIRTUAL)
            err = virtual_policy_resolve(ds->policy, ref.location, &url);
        ahead_slot *s = !err && url ? ahead_new(ds) : NULL;
        if (s) {
            floe_condition cond = {.etag = ref.etag, .unmodified_since = ref.last_modified};
            s->a = a;
            memcpy(s->coord, c, (size_t)ndim * sizeof *c);
            s->state = AHEAD_FLIGHT;
            s->want = SIZE_MAX;
            err = floe_fetch_add(ds->fetcher, url, ref.offset, ref.length, &cond,
                                 USER_OF(s - ds->ahead, 1));
            if (err)
                ahead_release(s);
        }
        floe_err_free(&err);
        free(url);
    }
}

floe_err floe_dataset_read_chunks(floe_dataset *ds, const floe_array *array,
                                  const uint64_t *coords, size_t n, floe_chunk_fn fn, void *ctx)
{
    return floe_dataset_read_chunks_ahead(ds, array, coords, n, NULL, 0, fn, ctx);
}

floe_err floe_dataset_read_chunks_ahead(floe_dataset *ds, const floe_array *array,
                                        const uint64_t *coords, size_t n, const uint64_t *ahead,
                                        size_t nahead, floe_chunk_fn fn, void *ctx)
{
    dataset_array *a = internal(array);
    if (a->unreadable)
        return FLOE_ERR(a->unreadable_code, "array %s: %s", array->name, a->unreadable);
    FLOE_CHECK(ensure_manifests(ds, a));
    size_t need = zarr_chunk_nbytes(a->meta);
    if (need > ds->decoded_size) {
        uint8_t *p = realloc(ds->decoded, need);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "a decoded chunk of %s (%zu bytes)", array->name, need);
        ds->decoded = p;
        ds->decoded_size = need;
    }
    if (!ds->fetcher) {
        floe_fetch_opts o = ds->fetch_opts;
        FLOE_CHECK(floe_fetcher_new(ds->t, &o, &ds->fetcher));
    }
    floe_err err = NULL;
    char where[128];
    int ndim = array->ndim;
    size_t waiting = 0; /* chunks of this batch still to arrive */
    /* Queue every virtual chunk first (so the fetcher can coalesce and keep
     * its connections busy); the others need no network and go at once.
     * Chunks read ahead by the previous call are taken as they are. */
    for (size_t i = 0; i < n && !err; i++) {
        const uint64_t *c = coords + i * (size_t)ndim;
        ahead_slot *slot = ahead_find(ds, a, c);
        if (slot && slot->state == AHEAD_FLIGHT) {
            slot->want = i;
            waiting++;
            continue;
        }
        if (slot) { /* READY */
            err = slot->err;
            slot->err = NULL;
            if (!err)
                err = deliver(ds, a, slot->bytes, slot->len, i, fn, ctx);
            ahead_release(slot);
        } else {
            ic_chunk_ref ref;
            err = ic_chunk_ref_lookup(ds->repo, a->node, c, &ref);
            if (!err && ref.kind == IC_CHUNK_VIRTUAL) {
                char *url = NULL;
                err = virtual_policy_resolve(ds->policy, ref.location, &url);
                floe_condition cond = {.etag = ref.etag, .unmodified_since = ref.last_modified};
                if (!err)
                    err = floe_fetch_add(ds->fetcher, url, ref.offset, ref.length, &cond,
                                         USER_OF(i, 0));
                free(url);
                waiting += !err;
            } else if (!err && ref.kind == IC_CHUNK_MISSING) {
                zarr_chunk_fill(a->meta, ds->decoded);
                ds->io.chunks++;
                err = fn(ctx, i, ds->decoded);
            } else if (!err) {
                floe_buf_reset(&ds->encoded);
                const uint8_t *bytes = ref.inline_data;
                size_t len = ref.inline_len;
                if (ref.kind == IC_CHUNK_NATIVE) {
                    err = ic_read_stored_chunk(ds->repo, &ref, &ds->encoded);
                    bytes = ds->encoded.data;
                    len = ds->encoded.len;
                }
                if (!err)
                    err = deliver(ds, a, bytes, len, i, fn, ctx);
            }
        }
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " array %s chunk %s", array->name,
                                format_coord(c, ndim, where, sizeof where));
    }
    if (!err && nahead)
        ahead_queue(ds, a, ahead, nahead);
    while (!err && waiting) {
        floe_fetch_result r;
        int more = 0;
        err = floe_fetch_next(ds->fetcher, &r, &more);
        if (err || !more)
            break;
        uintptr_t u = (uintptr_t)r.user;
        size_t i = (size_t)(u >> 1);
        if (u & 1) {
            ahead_slot *slot = &ds->ahead[i];
            if (slot->want == SIZE_MAX) { /* for a later batch: keep it */
                slot->state = AHEAD_READY;
                slot->err = r.err;
                if (!r.err && r.len) {
                    slot->bytes = malloc(r.len);
                    if (!slot->bytes)
                        slot->err = FLOE_ERR(FLOE_ENOMEM, "a chunk read ahead (%zu bytes)",
                                             r.len);
                    else
                        memcpy(slot->bytes, r.data, r.len);
                }
                slot->len = r.len;
                continue;
            }
            i = slot->want;
            ahead_release(slot);
        }
        waiting--;
        err = r.err ? r.err : deliver(ds, a, r.data, r.len, i, fn, ctx);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " array %s chunk %s", array->name,
                                format_coord(coords + i * (size_t)ndim, ndim, where, sizeof where));
    }
    if (err) {
        floe_fetcher_cancel(ds->fetcher);
        ahead_clear(ds);
    }
    return err;
}

void floe_dataset_io_stats(const floe_dataset *ds, floe_dataset_io *out)
{
    *out = ds->io;
    memset(&out->fetch, 0, sizeof out->fetch);
    if (ds->fetcher)
        floe_fetcher_stats(ds->fetcher, &out->fetch);
    floe_transport_counts t = ds->stac_counts;
    if (ds->t)
        floe_transport_stats(ds->t, &t);
    out->requests = ds->stac_counts.requests + (ds->t ? t.requests : 0);
    out->cache_hits = ds->stac_counts.cache_hits + (ds->t ? t.cache_hits : 0);
}

/* Convert n elements of type dt (native order) to doubles. */
static void to_double(floe_dtype dt, const void *in, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case FLOE_DT_BOOL:
        case FLOE_DT_UINT8: out[i] = ((const uint8_t *)in)[i]; break;
        case FLOE_DT_INT8: out[i] = ((const int8_t *)in)[i]; break;
        case FLOE_DT_INT16: out[i] = ((const int16_t *)in)[i]; break;
        case FLOE_DT_UINT16: out[i] = ((const uint16_t *)in)[i]; break;
        case FLOE_DT_INT32: out[i] = ((const int32_t *)in)[i]; break;
        case FLOE_DT_UINT32: out[i] = ((const uint32_t *)in)[i]; break;
        case FLOE_DT_INT64: out[i] = (double)((const int64_t *)in)[i]; break;
        case FLOE_DT_UINT64: out[i] = (double)((const uint64_t *)in)[i]; break;
        case FLOE_DT_FLOAT32: out[i] = ((const float *)in)[i]; break;
        case FLOE_DT_FLOAT64: out[i] = ((const double *)in)[i]; break;
        }
    }
}

floe_err floe_dataset_read_1d(floe_dataset *ds, const floe_array *array, double **values)
{
    const dataset_array *a = internal(array);
    if (a->coord) {
        size_t n = array->shape[0] ? (size_t)array->shape[0] : 1;
        if (!(*values = malloc(n * sizeof **values)))
            return FLOE_ERR(FLOE_ENOMEM, "coordinate %s (%zu values)", array->name, n);
        memcpy(*values, a->coord, (size_t)array->shape[0] * sizeof **values);
        return NULL;
    }
    return read_1d_values(ds, array, values);
}

static floe_err read_1d_values(floe_dataset *ds, const floe_array *array, double **values)
{
    *values = NULL;
    if (array->ndim != 1)
        return FLOE_ERR(FLOE_EINVAL, "array %s has %d dimensions, not 1", array->name,
                        array->ndim);
    size_t n = (size_t)array->shape[0], cn = (size_t)array->chunk_shape[0];
    double *v = malloc((n ? n : 1) * sizeof *v);
    void *chunk = malloc((cn ? cn : 1) * array->itemsize);
    double *conv = malloc((cn ? cn : 1) * sizeof *conv);
    floe_err err = NULL;
    if (!v || !chunk || !conv) {
        err = FLOE_ERR(FLOE_ENOMEM, "coordinate %s (%zu values)", array->name, n);
        goto done;
    }
    for (size_t c = 0; cn && c * cn < n; c++) {
        uint64_t coord = c;
        FLOE_CHECK_GOTO(err, done, floe_dataset_read_chunk(ds, array, &coord, chunk));
        size_t k = n - c * cn < cn ? n - c * cn : cn;
        to_double(array->dtype, chunk, k, conv);
        memcpy(v + c * cn, conv, k * sizeof *v);
    }
    *values = v;
    v = NULL;
done:
    free(v);
    free(chunk);
    free(conv);
    return err;
}
