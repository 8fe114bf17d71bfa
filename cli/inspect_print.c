/* SPDX-License-Identifier: Apache-2.0 */
/* cli/inspect_print.c - the output of `floe inspect`, as readable text or
 * one JSON object: the STAC open parameters (--stac-only) and the summary
 * of an opened dataset. stac/ and dataset/ return data; this file is the
 * only place that formats it for the user. */
#include "cli/inspect_print.h"

#include "engine/plan/time_select.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the STAC open parameters (--stac-only) ------------------------------ */

static const char *storage_kind_name(stac_storage_kind k)
{
    switch (k) {
    case STAC_STORAGE_S3: return "s3";
    case STAC_STORAGE_HTTP: return "http";
    case STAC_STORAGE_FILE: return "file";
    }
    return "?";
}

static void print_storage_text(FILE *out, const stac_storage *s)
{
    if (!s->url) /* cleared parameters */
        return;
    if (s->kind == STAC_STORAGE_S3) {
        fprintf(out, "  S3 bucket %s, prefix %s, region %s%s%s%s%s\n", s->bucket,
                *s->prefix ? s->prefix : "(bucket root)", s->region ? s->region : "(default)",
                s->endpoint ? ", endpoint " : "", s->endpoint ? s->endpoint : "",
                s->anonymous ? ", anonymous" : ", signed if credentials exist",
                s->requester_pays ? ", requester pays" : "");
    } else {
        fprintf(out, "  %s\n", s->kind == STAC_STORAGE_HTTP ? "plain HTTP" : "local folder");
    }
    if (s->scheme_key)
        fprintf(out, "  storage scheme %s (%s%s%s)\n", s->scheme_key, s->scheme_type,
                s->platform ? ", platform " : "", s->platform ? s->platform : "");
    else
        fprintf(out, "  no storage scheme: access settings from the environment\n");
}

static cJSON *json_str(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* cJSON_Add* return NULL on allocation failure; the caller checks the
 * printed result, so failures here surface as one FLOE_ENOMEM. */
static cJSON *storage_json(const stac_storage *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "kind", cJSON_CreateString(storage_kind_name(s->kind)));
    cJSON_AddItemToObject(o, "url", json_str(s->url));
    cJSON_AddItemToObject(o, "bucket", json_str(s->bucket));
    cJSON_AddItemToObject(o, "prefix", json_str(s->prefix));
    cJSON_AddItemToObject(o, "region", json_str(s->region));
    cJSON_AddItemToObject(o, "endpoint", json_str(s->endpoint));
    cJSON_AddItemToObject(o, "platform", json_str(s->platform));
    cJSON_AddItemToObject(o, "anonymous", cJSON_CreateBool(s->anonymous));
    cJSON_AddItemToObject(o, "requester_pays", cJSON_CreateBool(s->requester_pays));
    cJSON_AddItemToObject(o, "scheme", json_str(s->scheme_key));
    cJSON_AddItemToObject(o, "scheme_type", json_str(s->scheme_type));
    cJSON_AddItemToObject(o, "asset", json_str(s->asset_key));
    return o;
}

static floe_err print_stac_json(const stac_open_params *p, FILE *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "source", json_str(p->source));
    cJSON_AddItemToObject(o, "document", json_str(p->doc_kind));
    cJSON_AddItemToObject(o, "collection", json_str(p->collection_id));
    cJSON_AddItemToObject(o, "item", json_str(p->item_id));
    cJSON *asset = cJSON_CreateObject();
    cJSON_AddItemToObject(asset, "key", json_str(p->asset_key));
    cJSON_AddItemToObject(asset, "type", json_str(p->asset_type));
    cJSON_AddItemToObject(asset, "chosen_by", json_str(p->asset_origin));
    cJSON_AddItemToObject(o, "asset", asset);
    cJSON_AddItemToObject(o, "repository", storage_json(&p->repo));
    cJSON_AddItemToObject(o, "group", json_str(p->group));
    cJSON *ver = cJSON_CreateObject();
    cJSON_AddItemToObject(ver, "kind", cJSON_CreateString(stac_ref_kind_name(p->ref_kind)));
    cJSON_AddItemToObject(ver, "name", json_str(p->ref_name));
    cJSON_AddItemToObject(ver, "from", json_str(p->ref_origin));
    cJSON_AddItemToObject(o, "version", ver);
    cJSON_AddItemToObject(o, "zarr_format",
                          p->zarr_format ? cJSON_CreateNumber(p->zarr_format) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "consolidated", p->consolidated < 0 ? cJSON_CreateNull()
                                                                 : cJSON_CreateBool(p->consolidated));
    cJSON *cs = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_containers; i++)
        cJSON_AddItemToArray(cs, storage_json(&p->containers[i]));
    cJSON_AddItemToObject(o, "containers", cs);
    cJSON *notes = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_notes; i++)
        cJSON_AddItemToArray(notes, cJSON_CreateString(p->notes[i]));
    cJSON_AddItemToObject(o, "notes", notes);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "printing the STAC open parameters as JSON");
    fprintf(out, "%s\n", text);
    free(text);
    return NULL;
}

floe_err inspect_print_stac(const stac_open_params *p, int json, FILE *out)
{
    if (json) {
        FLOE_CHECK(print_stac_json(p, out));
    } else {
        fprintf(out, "STAC %s: %s", p->doc_kind ? p->doc_kind : "document",
                p->source ? p->source : "?");
        if (p->collection_id)
            fprintf(out, " (collection %s)", p->collection_id);
        if (p->item_id)
            fprintf(out, " (item %s)", p->item_id);
        fprintf(out, "\nasset: %s (%s), chosen by %s\n", p->asset_key ? p->asset_key : "?",
                p->asset_type ? p->asset_type : "no type",
                p->asset_origin ? p->asset_origin : "?");
        fprintf(out, "repository: %s\n", p->repo.url ? p->repo.url : "?");
        print_storage_text(out, &p->repo);
        if (p->group)
            fprintf(out, "group: %s\n", p->group);
        fprintf(out, "version: %s %s (from %s)\n", stac_ref_kind_name(p->ref_kind),
                p->ref_name ? p->ref_name : "?", p->ref_origin ? p->ref_origin : "?");
        fprintf(out, "zarr: format %s, consolidated %s\n",
                p->zarr_format == 3 ? "3" : "not stated",
                p->consolidated < 0 ? "not stated" : p->consolidated ? "true" : "false");
        for (size_t i = 0; i < p->n_containers; i++) {
            const stac_storage *c = &p->containers[i];
            fprintf(out, "virtual chunk container %zu: %s (asset %s)\n", i + 1, c->url,
                    c->asset_key ? c->asset_key : "?");
            print_storage_text(out, c);
        }
        if (p->n_containers == 0)
            fprintf(out, "virtual chunk containers: none\n");
        for (size_t i = 0; i < p->n_notes; i++)
            fprintf(out, "note: %s\n", p->notes[i]);
    }
    if (fflush(out) != 0 || ferror(out))
        return FLOE_ERR(FLOE_EIO, "writing the STAC open parameters");
    return NULL;
}

/* ---- the dataset ----------------------------------------------------------- */

/* Summary of a 1-D coordinate: first, last, and the step if regular. */
typedef struct axis_summary {
    char first[64], last[64], step[64];
} axis_summary;

static void summarise(floe_dataset *ds, const floe_array *a, const double *v, axis_summary *s)
{
    size_t n = (size_t)a->shape[0];
    memset(s, 0, sizeof *s);
    if (!n)
        return;
    int is_time = floe_time_is_time_axis(a);
    if (is_time) {
        floe_time_format(a, v[0], s->first, sizeof s->first);
        floe_time_format(a, v[n - 1], s->last, sizeof s->last);
    } else {
        /* float32 values widened to double: print the digits they hold */
        int digits = a->dtype == FLOE_DT_FLOAT32 ? 7 : 10;
        snprintf(s->first, sizeof s->first, "%.*g", digits, v[0]);
        snprintf(s->last, sizeof s->last, "%.*g", digits, v[n - 1]);
    }
    if (n > 1) {
        double step = (v[n - 1] - v[0]) / (double)(n - 1);
        int regular = 1;
        for (size_t i = 1; i < n && regular; i++)
            regular = fabs((v[i] - v[i - 1]) - step) <= 1e-4 * fabs(step) + 1e-9;
        if (regular && is_time)
            floe_time_format_step(a, step, s->step, sizeof s->step);
        else if (regular)
            snprintf(s->step, sizeof s->step, "%.6g", step);
        else
            snprintf(s->step, sizeof s->step, "irregular");
    }
    (void)ds;
}

static const char *dtype_name(floe_dtype t)
{
    static const char *const names[] = {"bool", "int8", "int16", "int32", "int64", "uint8",
                                        "uint16", "uint32", "uint64", "float32", "float64"};
    return names[t];
}

int inspect_is_coordinate(const floe_array *a)
{
    return !a->unreadable && a->ndim == 1 && a->dim_names[0] && !strcmp(a->dim_names[0], a->name);
}

static cJSON *dims_json(const floe_array *a)
{
    cJSON *d = cJSON_CreateArray();
    for (int i = 0; i < a->ndim; i++)
        cJSON_AddItemToArray(d, cJSON_CreateString(a->dim_names[i] ? a->dim_names[i] : ""));
    return d;
}

static cJSON *u64_array(const uint64_t *v, int n)
{
    cJSON *d = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(d, cJSON_CreateNumber((double)v[i]));
    return d;
}

static void print_dataset_text(FILE *out, floe_dataset *ds, double **coords)
{
    const floe_provenance *p = floe_dataset_provenance(ds);
    fprintf(out, "Source:      %s\n", p->source);
    if (p->collection_id || p->asset)
        fprintf(out, "STAC:        collection %s, asset %s\n",
                p->collection_id ? p->collection_id : "-", p->asset ? p->asset : "-");
    fprintf(out, "Repository:  %s (Icechunk spec %d)\n", p->repository, p->spec_version);
    fprintf(out, "Version:     %s\n", p->ref_description);
    fprintf(out, "Snapshot:    %s \"%s\", written %s\n", p->snapshot_id,
           p->snapshot_message ? p->snapshot_message : "", p->snapshot_time);
    fprintf(out, "Virtual chunk containers:\n");
    for (size_t i = 0; i < floe_dataset_container_count(ds); i++)
        fprintf(out, "  %s\n", floe_dataset_container(ds, i));
    if (!floe_dataset_container_count(ds))
        fprintf(out, "  (none)\n");

    size_t n = floe_dataset_array_count(ds);
    fprintf(out, "Dimensions:  ");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        if (inspect_is_coordinate(a)) {
            fprintf(out, "%s%s: %llu", first ? "" : ", ", a->name, (unsigned long long)a->shape[0]);
            first = 0;
        }
    }
    fprintf(out, "\nCoordinates:\n");
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        if (!inspect_is_coordinate(a))
            continue;
        axis_summary s;
        summarise(ds, a, coords[i], &s);
        fprintf(out, "  %-10s (%s) %-8s %s .. %s%s%s\n", a->name, a->name, dtype_name(a->dtype),
               s.first, s.last, s.step[0] ? ", step " : "", s.step);
    }
    fprintf(out, "Data variables:\n");
    uint64_t total_refs = 0;
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        total_refs += a->n_chunk_refs;
        if (inspect_is_coordinate(a))
            continue;
        if (a->unreadable) {
            fprintf(out, "  %-10s unreadable: %s\n", a->name, a->unreadable);
            continue;
        }
        fprintf(out, "  %-10s (", a->name);
        for (int d = 0; d < a->ndim; d++)
            fprintf(out, "%s%s", d ? ", " : "", a->dim_names[d] ? a->dim_names[d] : "?");
        fprintf(out, ") %s, shape ", dtype_name(a->dtype));
        for (int d = 0; d < a->ndim; d++)
            fprintf(out, "%s%llu", d ? "x" : "", (unsigned long long)a->shape[d]);
        fprintf(out, ", chunks ");
        for (int d = 0; d < a->ndim; d++)
            fprintf(out, "%s%llu", d ? "x" : "", (unsigned long long)a->chunk_shape[d]);
        fprintf(out, "\n             %llu chunk refs in %zu manifest(s); codecs %s; fill %g\n",
               (unsigned long long)a->n_chunk_refs, a->n_manifests, a->codecs, a->fill_value);
        const cJSON *att;
        cJSON_ArrayForEach(att, a->attributes)
        {
            if (cJSON_IsString(att))
                fprintf(out, "             %s: %s\n", att->string, att->valuestring);
            else if (cJSON_IsNumber(att))
                fprintf(out, "             %s: %.9g\n", att->string, att->valuedouble);
        }
    }
    fprintf(out, "Chunk references: %llu in total\n", (unsigned long long)total_refs);
}

static floe_err print_dataset_json(FILE *out, floe_dataset *ds, double **coords)
{
    const floe_provenance *p = floe_dataset_provenance(ds);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "source", p->source);
    if (p->collection_id)
        cJSON_AddStringToObject(root, "collection", p->collection_id);
    if (p->asset)
        cJSON_AddStringToObject(root, "asset", p->asset);
    cJSON_AddStringToObject(root, "repository", p->repository);
    cJSON_AddNumberToObject(root, "spec_version", p->spec_version);
    cJSON *snap = cJSON_AddObjectToObject(root, "snapshot");
    cJSON_AddStringToObject(snap, "id", p->snapshot_id);
    cJSON_AddStringToObject(snap, "chosen_by", p->ref_description);
    cJSON_AddStringToObject(snap, "message", p->snapshot_message ? p->snapshot_message : "");
    cJSON_AddStringToObject(snap, "written", p->snapshot_time);
    cJSON *cont = cJSON_AddArrayToObject(root, "virtual_chunk_containers");
    for (size_t i = 0; i < floe_dataset_container_count(ds); i++)
        cJSON_AddItemToArray(cont, cJSON_CreateString(floe_dataset_container(ds, i)));
    cJSON *dims = cJSON_AddObjectToObject(root, "dimensions");
    cJSON *cvars = cJSON_AddObjectToObject(root, "coordinates");
    cJSON *dvars = cJSON_AddObjectToObject(root, "variables");
    for (size_t i = 0; i < floe_dataset_array_count(ds); i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        cJSON *v = cJSON_CreateObject();
        if (a->unreadable) {
            cJSON_AddStringToObject(v, "unreadable", a->unreadable);
            cJSON_AddItemToObject(dvars, a->name, v);
            continue;
        }
        cJSON_AddItemToObject(v, "dimensions", dims_json(a));
        cJSON_AddStringToObject(v, "dtype", dtype_name(a->dtype));
        cJSON_AddItemToObject(v, "shape", u64_array(a->shape, a->ndim));
        cJSON_AddItemToObject(v, "chunks", u64_array(a->chunk_shape, a->ndim));
        cJSON_AddStringToObject(v, "codecs", a->codecs);
        cJSON_AddNumberToObject(v, "chunk_refs", (double)a->n_chunk_refs);
        cJSON_AddNumberToObject(v, "manifests", (double)a->n_manifests);
        cJSON_AddItemToObject(v, "attributes", cJSON_Duplicate(a->attributes, 1));
        if (inspect_is_coordinate(a)) {
            cJSON_AddNumberToObject(dims, a->name, (double)a->shape[0]);
            axis_summary s;
            summarise(ds, a, coords[i], &s);
            cJSON_AddStringToObject(v, "first", s.first);
            cJSON_AddStringToObject(v, "last", s.last);
            if (s.step[0])
                cJSON_AddStringToObject(v, "step", s.step);
            cJSON_AddItemToObject(cvars, a->name, v);
        } else {
            cJSON_AddItemToObject(dvars, a->name, v);
        }
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "inspect output");
    fprintf(out, "%s\n", text);
    free(text);
    return NULL;
}

floe_err inspect_print_dataset(floe_dataset *ds, double **coords, int json, FILE *out)
{
    if (json)
        return print_dataset_json(out, ds, coords);
    print_dataset_text(out, ds, coords);
    return NULL;
}
