/* SPDX-License-Identifier: Apache-2.0 */
/* cli/inspect_stac_cube.c - see inspect_stac_cube.h. */
#include "cli/inspect_stac_cube.h"

#include <string.h>

static const cJSON *field(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A JSON scalar as text: strings bare, numbers %g, null as "open". */
static void print_scalar(FILE *out, const cJSON *v)
{
    if (cJSON_IsString(v))
        fputs(v->valuestring, out);
    else if (cJSON_IsNumber(v))
        fprintf(out, "%.10g", v->valuedouble);
    else if (cJSON_IsNull(v))
        fputs("open", out);
    else
        fputs("?", out);
}

/* [a, b, ...] as "a, b, ..." */
static void print_list(FILE *out, const cJSON *a, const char *sep)
{
    int first = 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        if (!first)
            fputs(sep, out);
        print_scalar(out, v);
        first = 0;
    }
}

static void print_extents(const cJSON *root, const cJSON *props, FILE *out)
{
    const cJSON *ext = field(root, "extent");
    const cJSON *bbox = field(field(ext, "spatial"), "bbox");
    const cJSON *interval = field(field(ext, "temporal"), "interval");
    if (cJSON_IsArray(bbox) && cJSON_GetArraySize(bbox) > 0) {
        fputs("extent: spatial [", out);
        print_list(out, cJSON_IsArray(cJSON_GetArrayItem(bbox, 0)) ? cJSON_GetArrayItem(bbox, 0)
                                                                   : bbox, ", ");
        fputs("] (W, S, E, N)\n", out);
    } else if (cJSON_IsArray(field(root, "bbox"))) {
        fputs("extent: spatial [", out);
        print_list(out, field(root, "bbox"), ", ");
        fputs("] (W, S, E, N)\n", out);
    } else {
        fputs("extent: spatial: not stated\n", out);
    }
    if (cJSON_IsArray(interval) && cJSON_IsArray(cJSON_GetArrayItem(interval, 0))) {
        fputs("extent: temporal ", out);
        print_list(out, cJSON_GetArrayItem(interval, 0), " .. ");
        fputs("\n", out);
    } else if (props && (cJSON_IsString(field(props, "start_datetime")) ||
                         cJSON_IsString(field(props, "datetime")))) {
        fputs("extent: temporal ", out);
        if (cJSON_IsString(field(props, "start_datetime"))) {
            print_scalar(out, field(props, "start_datetime"));
            fputs(" .. ", out);
            print_scalar(out, field(props, "end_datetime"));
        } else {
            print_scalar(out, field(props, "datetime"));
        }
        fputs("\n", out);
    } else {
        fputs("extent: temporal: not stated\n", out);
    }
}

static void print_dimensions(const cJSON *dims, FILE *out)
{
    if (!cJSON_IsObject(dims)) {
        fputs("cube:dimensions: not stated\n", out);
        return;
    }
    fputs("cube:dimensions:\n", out);
    const cJSON *d;
    cJSON_ArrayForEach(d, dims) {
        fprintf(out, "  %-10s ", d->string);
        print_scalar(out, field(d, "type"));
        if (field(d, "axis")) {
            fputs(" ", out);
            print_scalar(out, field(d, "axis"));
        }
        if (cJSON_IsArray(field(d, "extent"))) {
            fputs("  ", out);
            print_list(out, field(d, "extent"), " .. ");
        }
        if (field(d, "step")) {
            fputs("  step ", out);
            print_scalar(out, field(d, "step"));
        }
        if (cJSON_IsArray(field(d, "values")))
            fprintf(out, "  %d values", cJSON_GetArraySize(field(d, "values")));
        fputs("\n", out);
    }
}

static void print_variables(const cJSON *vars, FILE *out)
{
    if (!cJSON_IsObject(vars)) {
        fputs("cube:variables: not stated\n", out);
        return;
    }
    fputs("cube:variables:\n", out);
    const cJSON *v;
    cJSON_ArrayForEach(v, vars) {
        fprintf(out, "  %-10s (", v->string);
        print_list(out, field(v, "dimensions"), ", ");
        fputs(")", out);
        if (cJSON_IsString(field(v, "unit")))
            fprintf(out, "  %s", field(v, "unit")->valuestring);
        if (cJSON_IsString(field(v, "description")))
            fprintf(out, "  %s", field(v, "description")->valuestring);
        fputs("\n", out);
    }
}

void inspect_print_stac_cube(const cJSON *root, FILE *out)
{
    /* an Item keeps the datacube fields in its properties */
    const cJSON *props = field(root, "properties");
    const cJSON *home = cJSON_IsObject(props) && field(props, "cube:variables") ? props : root;
    print_extents(root, cJSON_IsObject(props) ? props : NULL, out);
    print_dimensions(field(home, "cube:dimensions"), out);
    print_variables(field(home, "cube:variables"), out);
}
