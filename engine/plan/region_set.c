/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_set.c - see region_set.h. */
#include "engine/plan/region_set.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ID_MAX_LEN = 256 };

void floe_region_set_free(floe_region_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        floe_region_free(&s->r[i]);
        free(s->ids[i]);
    }
    free(s->r);
    free(s->ids);
    memset(s, 0, sizeof *s);
}

/* A string or number as id text; 0 when v is neither (or an empty string). */
static int id_text(const cJSON *v, char *out, size_t size)
{
    if (cJSON_IsString(v) && *v->valuestring) {
        snprintf(out, size, "%s", v->valuestring);
        return 1;
    }
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15)
            snprintf(out, size, "%.0f", d);
        else
            snprintf(out, size, "%.17g", d);
        return 1;
    }
    return 0;
}

/* Feature i's id (see region_set.h). */
static floe_err feature_id(const cJSON *f, size_t i, const char *id_prop, char *out, size_t size)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(f, "properties");
    if (id_prop) {
        if (!id_text(cJSON_GetObjectItemCaseSensitive(props, id_prop), out, size))
            return FLOE_ERR(FLOE_EINVAL, "features[%zu]: no property '%s' (a string or a number) "
                            "to name its series (--region-id %s)", i, id_prop, id_prop);
        return NULL;
    }
    if (id_text(cJSON_GetObjectItemCaseSensitive(props, "id"), out, size) ||
        id_text(cJSON_GetObjectItemCaseSensitive(props, "name"), out, size) ||
        id_text(cJSON_GetObjectItemCaseSensitive(f, "id"), out, size))
        return NULL;
    snprintf(out, size, "%zu", i + 1);
    return NULL;
}

static floe_err parse_features(const cJSON *doc, const char *source, const char *id_prop,
                               floe_region_set *s)
{
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(doc, "features");
    if (!cJSON_IsArray(fs))
        return FLOE_ERR(FLOE_EFORMAT, "features: missing or not an array");
    size_t n = (size_t)cJSON_GetArraySize(fs);
    if (n == 0)
        return FLOE_ERR(FLOE_EINVAL, "features: empty (no region)");
    s->r = calloc(n, sizeof *s->r);
    s->ids = calloc(n, sizeof *s->ids);
    if (!s->r || !s->ids)
        return FLOE_ERR(FLOE_ENOMEM, "%zu features", n);
    const cJSON *f;
    cJSON_ArrayForEach(f, fs) {
        size_t i = s->n;
        char path[64], id[ID_MAX_LEN];
        snprintf(path, sizeof path, "features[%zu]", i);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "Feature"))
            return FLOE_ERR(FLOE_EFORMAT, "%s: expected a Feature", path);
        FLOE_CHECK(feature_id(f, i, id_prop, id, sizeof id));
        s->ids[i] = strdup(id);
        if (!s->ids[i])
            return FLOE_ERR(FLOE_ENOMEM, "%s", path);
        s->n++; /* owns ids[i] now; r[i] may stay NULL on error */
        FLOE_CHECK(floe_region_parse_object(f, path, source, &s->r[i]));
    }
    /* duplicates: sorted indices by id, neighbours compared */
    size_t *order = malloc(n * sizeof *order);
    if (!order)
        return FLOE_ERR(FLOE_ENOMEM, "%zu features", n);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* insertion sort is quadratic; a shell sort keeps 10^5 features quick */
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++)
            for (size_t k = i; k >= gap && strcmp(s->ids[order[k - gap]], s->ids[order[k]]) > 0;
                 k -= gap) {
                size_t t = order[k];
                order[k] = order[k - gap];
                order[k - gap] = t;
            }
    floe_err err = NULL;
    for (size_t i = 1; i < n && !err; i++)
        if (!strcmp(s->ids[order[i - 1]], s->ids[order[i]])) {
            size_t a = order[i - 1] < order[i] ? order[i - 1] : order[i];
            size_t b = order[i - 1] < order[i] ? order[i] : order[i - 1];
            err = FLOE_ERR(FLOE_EINVAL, "features[%zu] and features[%zu] have the same id '%s' "
                           "(series ids must be unique; name them with --region-id PROP)",
                           a, b, s->ids[a]);
        }
    free(order);
    return err;
}

floe_err floe_region_set_parse(const char *json, size_t len, const char *source,
                               const char *id_prop, floe_region_set *out)
{
    memset(out, 0, sizeof *out);
    cJSON *doc = cJSON_ParseWithLength(json, len);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
        return FLOE_ERR(FLOE_EFORMAT, "region %s: not valid JSON (near byte %zu)", source, off);
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    floe_err err = NULL;
    if (cJSON_IsString(type) && !strcmp(type->valuestring, "FeatureCollection")) {
        out->per_feature = 1;
        err = parse_features(doc, source, id_prop, out);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " region %s", source);
    } else if (id_prop) {
        err = FLOE_ERR(FLOE_EINVAL, "region %s: --region-id names the features of a "
                       "FeatureCollection; this document is one region", source);
    } else {
        out->r = calloc(1, sizeof *out->r);
        out->ids = calloc(1, sizeof *out->ids);
        if (!out->r || !out->ids)
            err = FLOE_ERR(FLOE_ENOMEM, "region %s", source);
        if (!err)
            err = floe_region_parse_object(doc, "", source, &out->r[0]);
        if (!err) {
            out->n = 1;
            out->ids[0] = strdup(floe_region_name(out->r[0]));
            if (!out->ids[0])
                err = FLOE_ERR(FLOE_ENOMEM, "region %s", source);
        }
    }
    cJSON_Delete(doc);
    if (err)
        floe_region_set_free(out);
    return err;
}
