/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/open.c - floe_dataset_open over an Icechunk repository: STAC or
 * URL -> repository -> snapshot -> Zarr arrays, with the metadata read in
 * as few round trips as possible (prefetch, manifests in one wave, native
 * coordinate chunks at open; a data array's manifests only when a read
 * needs them, or beside the coordinates' when it is held in one) and
 * recorded or preloaded for MPI jobs; and
 * what the open knows (arrays, provenance, containers).
 *
 * This is where the layers meet: stac/ says where the repository is and
 * what the user authorised, io/icechunk/ says where a chunk's bytes are,
 * io/icechunk/virtual_access.h decides whether a virtual location may be
 * fetched and from where, io/transport/ and io/fetch/ fetch, io/zarr/
 * decodes; how far a STAC document is trusted (trust_document: README
 * "Security") is decided here too. The engine sees none of it.
 */
#include "dataset/internal.h"

#include "common/floe_log.h"
#include "io/fetch/prefetch.h"
#include "io/transport/url.h"
#include "stac/doc.h"
#include "stac/open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* The redirect check of the dataset's transport (transport.h): a redirect
 * may lead to a location the user authorised for virtual chunks (checked
 * like a chunk's own, canonical form included); a request for one of the
 * repository's own objects may also be redirected within its origin.
 * ctx: the dataset's virtual_policy. */
static floe_err redirect_ok(void *ctx, const char *from, const char *to)
{
    const virtual_policy *p = ctx;
    floe_err why = virtual_policy_check_target(p, to);
    if (!why)
        return NULL;
    floe_err from_chunk = virtual_policy_check_target(p, from);
    if (from_chunk && floe_url_same_origin(from, to)) /* not a chunk: the repository's */
        floe_err_free(&why);
    floe_err_free(&from_chunk);
    return why;
}

/* A local location (a path or file://) that a document read over the
 * network names: refused unless --allow covers it. what: "repository" or
 * "virtual chunk container". */
static floe_err remote_names_local(const virtual_policy *policy, const char *source,
                                   const stac_storage *st, const char *what)
{
    if (st->kind != STAC_STORAGE_FILE || virtual_policy_user_allows(policy, st->url))
        return NULL;
    char doc[1024];
    const char *path = strncmp(st->url, "file://", 7) == 0 ? st->url + 7 : st->url;
    return FLOE_ERR(FLOE_EAUTH, "STAC document %s was read over the network and names a local "
                    "%s, %s (asset %s): a remote document may not point at local files; pass "
                    "--allow file://%s yourself if you trust it",
                    floe_url_redact(source, doc, sizeof doc), what, st->url,
                    st->asset_key ? st->asset_key : "?", path);
}

/* Was the STAC document source read over the network (http(s), s3://)?
 * One on the local disk is the user's own. */
static int read_over_network(const char *source)
{
    floe_url_kind kind;
    return !floe_url_kind_of(source, &kind) && kind != FLOE_URL_FILE;
}

/* The repository a document read over the network names may not make
 * floe contact this machine or its network (README "Security"): its
 * address (its http(s) host, or the S3 endpoint an s3:// repository is
 * read from) must be public, an endpoint the user named, covered by
 * --allow, or the origin the user named the document at. Checked before
 * the first request to it. */
static floe_err remote_repository_address(const virtual_policy *policy, const char *source,
                                          const stac_storage *repo)
{
    const char *via;
    floe_host_kind k = virtual_policy_address_kind(policy, repo->url, &via);
    if (k == FLOE_HOST_PUBLIC || floe_url_same_origin(source, via ? via : repo->url))
        return NULL;
    char doc[1024], href[1024], end[1024];
    floe_url_redact(source, doc, sizeof doc);
    floe_url_redact(repo->url, href, sizeof href);
    if (via)
        floe_url_redact(via, end, sizeof end);
    return FLOE_ERR(FLOE_EAUTH, "STAC document %s was read over the network and names the "
                    "repository %s (asset %s)%s%s, on %s: a remote document may not point "
                    "floe at this machine or its network; pass --allow %s yourself if you "
                    "trust it", doc, href, repo->asset_key ? repo->asset_key : "?",
                    via ? " read from the S3 endpoint " : "", via ? end : "",
                    floe_host_kind_name(k), via ? end : href);
}

/* Trust in what a STAC document names (README "Security"): a document
 * read over the network may not point at local files (its repository and
 * containers) unless --allow covers them, nor (remote_repository_address)
 * read its repository from a non-public address; its containers authorise what
 * they cover, except local files and non-public addresses (virtual_access.h);
 * the S3 endpoint of a custom-s3 scheme gets the environment's credentials
 * only when the user named it (transport.h, endpoint_from_document).
 * ds->policy already holds the --allow prefixes. */
static floe_err trust_document(floe_dataset *ds, const floe_open_request *req,
                               floe_transport_opts *topts, const stac_open_params *p)
{
    int remote = read_over_network(req->source);
    if (remote)
        FLOE_CHECK(remote_names_local(ds->policy, req->source, &p->repo, "repository"));
    for (size_t i = 0; i < p->n_containers; i++) {
        const stac_storage *c = &p->containers[i];
        if (remote)
            FLOE_CHECK(remote_names_local(ds->policy, req->source, c,
                                          "virtual chunk container"));
        char *url = NULL;
        if (c->kind == STAC_STORAGE_FILE && c->url[0] == '/') { /* as the file:// URL it is */
            size_t n = strlen(c->url) + sizeof "file://";
            if (!(url = malloc(n)))
                return FLOE_ERR(FLOE_ENOMEM, "container URL");
            snprintf(url, n, "file://%s", c->url);
        }
        floe_err err = virtual_policy_allow(ds->policy, url ? url : c->url, 0);
        free(url);
        FLOE_CHECK(err, "virtual chunk container of asset %s", p->asset_key);
    }
    if (!req->s3_endpoint && p->repo.endpoint) {
        topts->s3.endpoint = p->repo.endpoint;
        topts->s3.endpoint_from_document =
            !virtual_policy_user_allows(ds->policy, p->repo.endpoint);
        if (!topts->s3.endpoint_from_document)
            FLOE_CHECK(virtual_policy_trust_endpoint(ds->policy, p->repo.endpoint));
    }
    return NULL;
}

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
    FLOE_CHECK(trust_document(ds, req, topts, p));
    char desc[512];
    snprintf(desc, sizeof desc, "%s %s (%s)", stac_ref_kind_name(p->ref_kind), p->ref_name,
             p->ref_origin ? p->ref_origin : "default");
    ds->ref_description = strdup(desc);
    ds->collection_id = dup_or_null(p->collection_id);
    ds->doc_kind = dup_or_null(p->doc_kind);
    ds->time_label = dup_or_null(p->time_label);
    ds->asset = dup_or_null(p->asset_key);
    ds->repository = strdup(p->repo.url);
    return NULL;
}

/* The S3 endpoint the user named (--s3-endpoint, else AWS_ENDPOINT_URL_S3
 * or AWS_ENDPOINT_URL) is trusted: locations there are not refused for
 * their address. */
static floe_err trust_user_endpoint(virtual_policy *policy, const char *s3_endpoint)
{
    floe_s3_config user = {.endpoint = s3_endpoint}, r;
    floe_s3_config_resolve(&user, &r);
    return r.endpoint ? virtual_policy_trust_endpoint(policy, r.endpoint) : NULL;
}

/* The root group's attributes, the source's global attributes. A root
 * that is not a group, or whose zarr.json does not parse, has none: they
 * describe the data but are never needed to read it. */
static const cJSON *root_attributes(floe_dataset *ds)
{
    const ic_node *root = ic_snapshot_find(ds->snap, "/");
    if (!root || root->is_array || !root->zarr_json)
        return NULL;
    ds->root_json = cJSON_Parse(root->zarr_json);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ds->root_json, "attributes");
    return cJSON_IsObject(a) ? a : NULL;
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
        memcpy(p->fill_raw, m->fill_raw, sizeof p->fill_raw);
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

/* Every manifest of the needed coordinate arrays in one concurrent wave
 * (read whole at open, read_coordinates). A data array's manifests are
 * read when a read needs them (dataset_load_manifests_for), so the open
 * costs what the query needs, and the blob an MPI job broadcasts carries
 * no data array's manifests. Except (a round trip saved: the one-day query
 * in four, issue 15) a named array held in one manifest, which any read of
 * it needs: it joins the wave where data manifests are read (alone, rank
 * 0), kept out of the blob, not where the open reads rank 0's blob. */
static floe_err load_manifests(floe_dataset *ds, const floe_open_request *req)
{
    size_t cap = ds->narrays ? ds->narrays : 1, n = 0, nbeside = 0;
    const ic_node **nodes = malloc(cap * sizeof *nodes), **beside = malloc(cap * sizeof *beside);
    floe_err err = nodes && beside ? NULL : FLOE_ERR(FLOE_ENOMEM, "array table");
    int reads_data = req->arrays && !req->preload;
    for (size_t i = 0; i < ds->narrays && !err; i++) {
        const dataset_array *a = &ds->arrays[i];
        if (a->needed && is_coordinate(a))
            nodes[n++] = a->node;
        else if (a->needed && reads_data && !a->unreadable && a->node->n_manifests == 1)
            beside[nbeside++] = a->node;
    }
    if (!err)
        err = ic_repo_load_manifests_beside(ds->repo, nodes, n, beside, nbeside);
    free(nodes);
    free(beside);
    return err;
}

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
        floe_err e = dataset_read_1d_values(ds, &a->pub, &a->coord);
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
    FLOE_CHECK_GOTO(err, fail, floe_pool_new(req->threads > 1 ? req->threads : 1, &ds->pool),
                    "--threads %d", req->threads);
    ds->source = strdup(req->source);
    ds->fetch_opts = req->fetch;

    floe_transport_opts topts;
    memset(&topts, 0, sizeof topts);
    topts.s3.endpoint = req->s3_endpoint;
    /* Every request of the open (and the fetcher's, which inherits them
     * from the transport) by the same --retries, --retry-budget and
     * --stall-timeout. */
    topts.retry = req->fetch.retry;
    topts.stall_timeout_ms = req->fetch.stall_timeout_ms;
    ic_ref_kind kind = ic_kind(req->ref_kind);
    const char *ref = req->ref_kind == FLOE_REF_DEFAULT ? "main" : req->ref;
    /* The user's authorisations first: what a document names is judged
     * against them. */
    for (size_t i = 0; i < req->nallow; i++)
        FLOE_CHECK_GOTO(err, fail, virtual_policy_allow(ds->policy, req->allow[i], 1));
    for (size_t i = 0; i < req->nremap; i++)
        FLOE_CHECK_GOTO(err, fail, virtual_policy_remap(ds->policy, req->remap[i]));
    FLOE_CHECK_GOTO(err, fail, trust_user_endpoint(ds->policy, req->s3_endpoint));
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
    floe_transport_set_redirect_check(ds->t, redirect_ok, ds->policy); /* freed after ds->t */
    floe_s3_config s3;
    floe_s3_config_resolve(&topts.s3, &s3);
    FLOE_CHECK_GOTO(err, fail, virtual_policy_s3_endpoint(ds->policy, s3.endpoint));
    if (stac && read_over_network(req->source))
        FLOE_CHECK_GOTO(err, fail,
                        remote_repository_address(ds->policy, req->source, &params.repo));

    /* Each step below needs what the one before read, except the repo file
     * and a snapshot named by id: those come in one round trip. */
    FLOE_CHECK_GOTO(err, fail, ic_repo_prefetch(ds->t, ds->repository, kind, ref));
    FLOE_CHECK_GOTO(err, fail,
                    ic_repo_open_budget(ds->t, ds->repository, req->memory_budget, &ds->repo));
    for (size_t i = 0; i < ic_repo_container_count(ds->repo); i++)
        FLOE_CHECK_GOTO(err, fail,
                        virtual_policy_declare(ds->policy, ic_repo_container(ds->repo, i)->url_prefix));
    FLOE_CHECK_GOTO(err, fail, ic_repo_resolve(ds->repo, kind, ref, ds->snapshot_id));
    FLOE_CHECK_GOTO(err, fail, ic_snapshot_load(ds->repo, ds->snapshot_id, &ds->snap));
    FLOE_CHECK_GOTO(err, fail, load_arrays(ds), "repository %s snapshot %s", ds->repository,
                    ds->snapshot_id);
    mark_needed(ds, req->arrays);
    FLOE_CHECK_GOTO(err, fail, load_manifests(ds, req), "repository %s snapshot %s", ds->repository,
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
        .time_label = ds->time_label,
        .global_attributes = root_attributes(ds),
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
    floe_pool_free(&ds->pool); /* first: its tasks may use what follows */
    for (size_t i = 0; i < ds->narrays; i++) {
        zarr_meta_free(&ds->arrays[i].meta);
        free(ds->arrays[i].unreadable);
        free(ds->arrays[i].coord);
    }
    free(ds->arrays);
    cJSON_Delete(ds->root_json);
    ic_snapshot_free(&ds->snap);
    ic_repo_free(&ds->repo);
    floe_fetcher_free(&ds->fetcher);
    dataset_ahead_clear(ds);
    free(ds->ahead);
    free(ds->decoded);
    dataset_workers_free(ds);
    floe_transport_free(&ds->t);
    floe_object_cache_free(&ds->cache);
    floe_buf_free(&ds->recorded);
    virtual_policy_free(&ds->policy);
    zarr_decoder_free(&ds->decoder);
    floe_buf_free(&ds->encoded);
    floe_ref_table_free(&ds->refs);
    free(ds->source);
    free(ds->collection_id);
    free(ds->doc_kind);
    free(ds->time_label);
    free(ds->asset);
    free(ds->repository);
    free(ds->ref_description);
    free(ds->snapshot_time);
    free(ds);
    *dsp = NULL;
}
