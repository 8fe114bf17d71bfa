/* cli/cmd_inspect.c - `floe inspect`: what a user needs to know before a big
 * run. Like xarray's repr, plus what xarray does not show: the snapshot,
 * where the version choice came from, manifests and chunk references, the
 * codecs and the virtual chunk containers. */
#include "cli/cmd_inspect.h"

#include "engine/plan/time_select.h"
#include "dataset/dataset.h"
#include "cli/options.h"
#include "stac/open.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct inspect_args {
    cmd_source src;
    int json;
    int stac_only;
} inspect_args;

void cmd_inspect_help(FILE *out)
{
    fprintf(out,
            "usage: floe inspect SOURCE [--json] [--stac-only] [source options]\n"
            "\n"
            "Prints the dataset a STAC document or repository leads to: the snapshot\n"
            "and why it was chosen, dimensions, coordinates with ranges and steps,\n"
            "variables with dtype, shape, chunks, codecs, attributes and chunk\n"
            "references, and the virtual chunk containers.\n"
            "\n"
            "Options:\n"
            "  --json        machine-readable output\n"
            "  --stac-only   only resolve the STAC document into open parameters\n"
            "                (repository, version, containers); no network access\n"
            "\n");
    cmd_source_help(out);
}

static floe_err parse_args(int argc, char **argv, inspect_args *a)
{
    memset(a, 0, sizeof *a);
    cmd_scan s;
    cmd_scan_init(&s, argc, argv);
    int more;
    for (;;) {
        FLOE_CHECK(cmd_scan_next(&s, &more));
        if (!more)
            break;
        int taken;
        FLOE_CHECK(cmd_source_option(&s, &a->src, &taken));
        if (taken)
            continue;
        if (cmd_is(&s, "--json", NULL))
            a->json = 1;
        else if (cmd_is(&s, "--stac-only", NULL))
            a->stac_only = 1;
        else
            return FLOE_ERR(FLOE_EINVAL, "inspect: unknown option '%s' (see 'floe inspect --help')",
                            s.name);
    }
    return cmd_source_finish(&s, &a->src);
}

static floe_err stac_only(const inspect_args *a)
{
    stac_request req = {.asset = a->src.req.asset};
    if (a->src.req.ref_kind != FLOE_REF_DEFAULT) {
        req.cli_ref_kind = a->src.req.ref_kind == FLOE_REF_TAG ? STAC_REF_TAG
                           : a->src.req.ref_kind == FLOE_REF_SNAPSHOT ? STAC_REF_SNAPSHOT
                                                                      : STAC_REF_BRANCH;
        req.cli_ref = a->src.req.ref;
    }
    stac_open_params p;
    /* No transport: a local document only, and nothing else is touched. */
    FLOE_CHECK(stac_open_resolve(NULL, a->src.req.source, &req, &p));
    floe_err err = stac_open_params_print(&p, a->json, stdout);
    stac_open_params_clear(&p);
    return err;
}

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

static int is_coordinate(const floe_array *a)
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

static void print_text(floe_dataset *ds, double **coords)
{
    const floe_provenance *p = floe_dataset_provenance(ds);
    printf("Source:      %s\n", p->source);
    if (p->collection_id || p->asset)
        printf("STAC:        collection %s, asset %s\n", p->collection_id ? p->collection_id : "-",
               p->asset ? p->asset : "-");
    printf("Repository:  %s (Icechunk spec %d)\n", p->repository, p->spec_version);
    printf("Version:     %s\n", p->ref_description);
    printf("Snapshot:    %s \"%s\", written %s\n", p->snapshot_id,
           p->snapshot_message ? p->snapshot_message : "", p->snapshot_time);
    printf("Virtual chunk containers:\n");
    for (size_t i = 0; i < floe_dataset_container_count(ds); i++)
        printf("  %s\n", floe_dataset_container(ds, i));
    if (!floe_dataset_container_count(ds))
        printf("  (none)\n");

    size_t n = floe_dataset_array_count(ds);
    printf("Dimensions:  ");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        if (is_coordinate(a)) {
            printf("%s%s: %llu", first ? "" : ", ", a->name, (unsigned long long)a->shape[0]);
            first = 0;
        }
    }
    printf("\nCoordinates:\n");
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        if (!is_coordinate(a))
            continue;
        axis_summary s;
        summarise(ds, a, coords[i], &s);
        printf("  %-10s (%s) %-8s %s .. %s%s%s\n", a->name, a->name, dtype_name(a->dtype),
               s.first, s.last, s.step[0] ? ", step " : "", s.step);
    }
    printf("Data variables:\n");
    uint64_t total_refs = 0;
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        total_refs += a->n_chunk_refs;
        if (is_coordinate(a))
            continue;
        if (a->unreadable) {
            printf("  %-10s unreadable: %s\n", a->name, a->unreadable);
            continue;
        }
        printf("  %-10s (", a->name);
        for (int d = 0; d < a->ndim; d++)
            printf("%s%s", d ? ", " : "", a->dim_names[d] ? a->dim_names[d] : "?");
        printf(") %s, shape ", dtype_name(a->dtype));
        for (int d = 0; d < a->ndim; d++)
            printf("%s%llu", d ? "x" : "", (unsigned long long)a->shape[d]);
        printf(", chunks ");
        for (int d = 0; d < a->ndim; d++)
            printf("%s%llu", d ? "x" : "", (unsigned long long)a->chunk_shape[d]);
        printf("\n             %llu chunk refs in %zu manifest(s); codecs %s; fill %g\n",
               (unsigned long long)a->n_chunk_refs, a->n_manifests, a->codecs, a->fill_value);
        const cJSON *att;
        cJSON_ArrayForEach(att, a->attributes)
        {
            if (cJSON_IsString(att))
                printf("             %s: %s\n", att->string, att->valuestring);
            else if (cJSON_IsNumber(att))
                printf("             %s: %.9g\n", att->string, att->valuedouble);
        }
    }
    printf("Chunk references: %llu in total\n", (unsigned long long)total_refs);
}

static floe_err print_json(floe_dataset *ds, double **coords)
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
        if (is_coordinate(a)) {
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
    printf("%s\n", text);
    free(text);
    return NULL;
}

floe_err cmd_inspect_run(int argc, char **argv)
{
    inspect_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    a.src.req.allow = a.src.allow;
    a.src.req.remap = a.src.remap;
    if (a.stac_only)
        return stac_only(&a);

    floe_dataset *ds = NULL;
    FLOE_CHECK(floe_dataset_open(&a.src.req, &ds), "%s", a.src.req.source);
    size_t n = floe_dataset_array_count(ds);
    double **coords = calloc(n ? n : 1, sizeof *coords);
    floe_err err = NULL;
    if (!coords) {
        err = FLOE_ERR(FLOE_ENOMEM, "inspect");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const floe_array *c = floe_dataset_array(ds, i);
        if (is_coordinate(c) && !c->unreadable)
            FLOE_CHECK_GOTO(err, done, floe_dataset_read_1d(ds, c, &coords[i]),
                            "coordinate %s", c->name);
    }
    if (a.json)
        err = print_json(ds, coords);
    else
        print_text(ds, coords);
done:
    for (size_t i = 0; coords && i < n; i++)
        free(coords[i]);
    free(coords);
    floe_dataset_free(&ds);
    return err;
}
