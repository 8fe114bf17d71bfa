/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/read.c - reading one chunk of a floe_dataset (inline, native or
 * virtual, then decoded), the 1-D coordinates, small arrays whole, the reference counts and the
 * I/O counters. Batched reads are readahead.c's. */
#include "dataset/internal.h"

#include "io/zarr/half.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The floe_array handed out is the first member of a dataset_array, which
 * the dataset owns (so the reading functions, given the dataset, may
 * update it). */
dataset_array *dataset_array_of(const floe_array *a)
{
    return (dataset_array *)(uintptr_t)a;
}

/* Grow the box [from, to) to hold chunks coords[0..n); *empty is cleared
 * by the first. Coordinates past the 32-bit chunk grid are outside every
 * extent and clamp. */
static void box_add(const uint64_t *coords, size_t n, int ndim, uint32_t *from, uint32_t *to,
                    int *empty)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = coords + i * (size_t)ndim;
        for (int d = 0; d < ndim; d++) {
            uint32_t v = c[d] < UINT32_MAX ? (uint32_t)c[d] : UINT32_MAX - 1;
            if (*empty || v < from[d])
                from[d] = v;
            if (*empty || v + 1 > to[d])
                to[d] = v + 1;
        }
        *empty = 0;
    }
}

floe_err dataset_load_manifests_for(floe_dataset *ds, const dataset_array *a,
                                    const uint64_t *coords, size_t n, const uint64_t *ahead,
                                    size_t nahead)
{
    int ndim = a->pub.ndim, empty = 1;
    if (a->node->ndim != ndim)
        return NULL; /* zarr.json and the snapshot disagree: the lookups say so */
    uint32_t from[FLOE_MAX_DIMS], to[FLOE_MAX_DIMS];
    box_add(coords, n, ndim, from, to, &empty);
    if (empty)
        return NULL;
    box_add(ahead, nahead, ndim, from, to, &empty);
    /* One wave for this batch and the next; if the next's manifests fail,
     * this batch's alone (the next meets its error when it reads). */
    floe_err err = ic_repo_load_manifests_box(ds->repo, a->node, from, to);
    if (err && nahead) {
        floe_err_free(&err);
        empty = 1;
        box_add(coords, n, ndim, from, to, &empty);
        err = ic_repo_load_manifests_box(ds->repo, a->node, from, to);
    }
    return err;
}


floe_err floe_dataset_count_refs(floe_dataset *ds, const floe_array *array, uint64_t *n)
{
    dataset_array *a = dataset_array_of(array);
    if (a->unreadable || a->pub.n_chunk_refs != FLOE_REFS_UNCOUNTED) {
        *n = a->pub.n_chunk_refs;
        return NULL;
    }
    FLOE_CHECK(ic_array_count_refs(ds->repo, a->node, &a->pub.n_chunk_refs, NULL), "array %s",
               array->name);
    *n = a->pub.n_chunk_refs;
    return NULL;
}

int dataset_uses_table(const floe_dataset *ds, const dataset_array *a)
{
    return ds->refs && floe_ref_table_covers(ds->refs, (uint32_t)(a - ds->arrays));
}

floe_err dataset_lookup(floe_dataset *ds, dataset_array *a, const uint64_t *coord,
                        ic_chunk_ref *ref)
{
    if (dataset_uses_table(ds, a)) {
        if (floe_ref_table_find(ds->refs, (uint32_t)(a - ds->arrays), a->pub.ndim, coord, ref))
            return NULL;
        ds->io.refs_outside_table++; /* correct still, at the manifests' cost */
    }
    /* reads the manifest that holds it, if need be */
    return ic_chunk_ref_lookup(ds->repo, a->node, coord, ref);
}

floe_err floe_dataset_use_refs(floe_dataset *ds, const void *blob, size_t len)
{
    floe_ref_table *t = NULL;
    FLOE_CHECK(floe_ref_table_parse(blob, len, &t));
    uint64_t n = floe_ref_table_count(t);
    for (size_t i = 0; i < floe_ref_table_array_count(t); i++) {
        uint32_t k = 0, ndim = 0; /* the arrays it names are this dataset's */
        floe_ref_table_array_at(t, i, &k, &ndim);
        if (k >= ds->narrays || ndim != (uint32_t)ds->arrays[k].pub.ndim) {
            floe_ref_table_free(&t);
            return FLOE_ERR(FLOE_EFORMAT, "ref table: array %u (%u dimensions) is not one of "
                            "the dataset's %zu", k, ndim, ds->narrays);
        }
    }
    floe_ref_table_free(&ds->refs);
    ds->refs = t;
    ds->io.refs_received = n;
    return NULL;
}

void floe_dataset_drop_manifests(floe_dataset *ds)
{
    ic_repo_drop_manifests(ds->repo);
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
char *dataset_format_coord(const uint64_t *coord, int ndim, char *buf, size_t size)
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
    dataset_array *a = dataset_array_of(array);
    if (a->unreadable)
        return FLOE_ERR(a->unreadable_code, "array %s: %s", array->name, a->unreadable);
    ic_chunk_ref ref; /* from the table, or the manifest that holds it (read if need be) */
    char where[128];
    dataset_format_coord(coord, array->ndim, where, sizeof where);
    FLOE_CHECK(dataset_lookup(ds, a, coord, &ref), "array %s chunk %s", array->name, where);
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
    out->retries = ds->stac_counts.retries + (ds->t ? t.retries : 0);
    if (ds->repo)
        ic_repo_manifest_stats(ds->repo, &out->manifests_read, &out->manifest_bytes);
    out->threads = ds->pool ? floe_pool_workers(ds->pool) : 0;
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
        case FLOE_DT_FLOAT16: out[i] = zarr_half_to_float(((const uint16_t *)in)[i]); break;
        }
    }
}

floe_err floe_dataset_read_1d(floe_dataset *ds, const floe_array *array, double **values)
{
    const dataset_array *a = dataset_array_of(array);
    if (a->coord) {
        size_t n = array->shape[0] ? (size_t)array->shape[0] : 1;
        if (!(*values = malloc(n * sizeof **values)))
            return FLOE_ERR(FLOE_ENOMEM, "coordinate %s (%zu values)", array->name, n);
        memcpy(*values, a->coord, (size_t)array->shape[0] * sizeof **values);
        return NULL;
    }
    return dataset_read_1d_values(ds, array, values);
}

floe_err dataset_read_1d_values(floe_dataset *ds, const floe_array *array, double **values)
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

floe_err floe_dataset_read_all(floe_dataset *ds, const floe_array *array, double **values)
{
    *values = NULL;
    int nd = array->ndim;
    size_t n = 1, cn = 1;
    uint64_t nchunks[FLOE_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        if (!array->chunk_shape[d])
            return FLOE_ERR(FLOE_EFORMAT, "array %s: chunk dimension %d is 0", array->name, d);
        n *= (size_t)array->shape[d];
        cn *= (size_t)array->chunk_shape[d];
        nchunks[d] = (array->shape[d] + array->chunk_shape[d] - 1) / array->chunk_shape[d];
    }
    if (n > FLOE_READ_ALL_MAX)
        return FLOE_ERR(FLOE_EINVAL, "array %s: %zu values is more than the %d read whole",
                        array->name, n, FLOE_READ_ALL_MAX);
    double *v = malloc((n ? n : 1) * sizeof *v), *conv = malloc(cn * sizeof *conv);
    void *chunk = malloc(cn * array->itemsize);
    floe_err err = v && conv && chunk ? NULL
                   : FLOE_ERR(FLOE_ENOMEM, "array %s (%zu values)", array->name, n);
    uint64_t coord[FLOE_MAX_DIMS] = {0};
    for (int more = n > 0; more && !err;) {
        err = floe_dataset_read_chunk(ds, array, coord, chunk);
        if (err)
            break;
        to_double(array->dtype, chunk, cn, conv);
        /* each value of the chunk to its place, C order; edge chunks are cut */
        for (size_t k = 0; k < cn; k++) {
            size_t rest = k, at = 0;
            int inside = 1;
            for (int d = nd - 1; d >= 0; d--) {
                uint64_t i = coord[d] * array->chunk_shape[d] + rest % array->chunk_shape[d];
                rest /= array->chunk_shape[d];
                inside = inside && i < array->shape[d];
            }
            if (!inside)
                continue;
            rest = k;
            size_t stride = 1;
            for (int d = nd - 1; d >= 0; d--) {
                uint64_t i = coord[d] * array->chunk_shape[d] + rest % array->chunk_shape[d];
                rest /= array->chunk_shape[d];
                at += (size_t)i * stride;
                stride *= (size_t)array->shape[d];
            }
            v[at] = conv[k];
        }
        /* the next chunk, last dimension fastest */
        more = 0;
        for (int d = nd - 1; d >= 0 && !more; d--) {
            if (++coord[d] < nchunks[d])
                more = 1;
            else
                coord[d] = 0;
        }
    }
    free(conv);
    free(chunk);
    if (err) {
        free(v);
        return err;
    }
    *values = v;
    return NULL;
}
