/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec_parse.c - the "codecs" list of zarr.json: names, configurations,
 * order, and the decoded size each bytes->bytes codec must produce. */
#include "io/zarr/meta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    zarr_codec_kind kind;
} codec_names[] = {
    {"transpose", ZARR_CODEC_TRANSPOSE},
    {"bytes", ZARR_CODEC_BYTES},
    {"gzip", ZARR_CODEC_GZIP},
    {"numcodecs.gzip", ZARR_CODEC_GZIP},
    {"numcodecs.zlib", ZARR_CODEC_ZLIB},
    {"zstd", ZARR_CODEC_ZSTD},
    {"numcodecs.zstd", ZARR_CODEC_ZSTD},
    {"blosc", ZARR_CODEC_BLOSC},
    {"numcodecs.blosc", ZARR_CODEC_BLOSC},
    {"numcodecs.shuffle", ZARR_CODEC_SHUFFLE},
    {"crc32c", ZARR_CODEC_CRC32C},
    {"numcodecs.fletcher32", ZARR_CODEC_FLETCHER32},
};

static int is_compressor(zarr_codec_kind k)
{
    return k == ZARR_CODEC_GZIP || k == ZARR_CODEC_ZLIB || k == ZARR_CODEC_ZSTD || k == ZARR_CODEC_BLOSC;
}

static int is_checksum(zarr_codec_kind k)
{
    return k == ZARR_CODEC_CRC32C || k == ZARR_CODEC_FLETCHER32;
}

/* An optional integer member of a configuration; *present tells. */
static floe_err conf_int(const cJSON *conf, const char *key, int index, const char *codec, long lo, long hi,
                         long *out, int *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, key);
    *present = v != NULL && !cJSON_IsNull(v);
    if (!*present)
        return NULL;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration.%s\" of '%s' must be an "
                        "integer from %ld to %ld", index, key, codec, lo, hi);
    *out = (long)v->valuedouble;
    return NULL;
}

static floe_err parse_transpose(const cJSON *conf, int index, zarr_codec *c, const zarr_array_meta *m)
{
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(conf, "order");
    /* "C" and "F" are the string forms of early zarr-python 3 releases */
    if (cJSON_IsString(order) && (strcmp(order->valuestring, "C") == 0 || strcmp(order->valuestring, "F") == 0)) {
        int reverse = order->valuestring[0] == 'F';
        for (int i = 0; i < m->ndim; i++)
            c->order[i] = reverse ? m->ndim - 1 - i : i;
        return NULL;
    }
    if (!cJSON_IsArray(order))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration.order\" of 'transpose' "
                        "must be a list", index);
    if (cJSON_GetArraySize(order) != m->ndim)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration.order\" has %d entries, "
                        "\"shape\" has %d", index, cJSON_GetArraySize(order), m->ndim);
    int seen[ZARR_MAX_DIMS] = {0};
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, order) {
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (v != floor(v) || v < 0 || v >= m->ndim || seen[(int)v])
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration.order\" of 'transpose' "
                            "is not a permutation of 0..%d", index, m->ndim - 1);
        seen[(int)v] = 1;
        c->order[i++] = (int)v;
    }
    return NULL;
}

static floe_err parse_bytes(const cJSON *conf, int index, zarr_codec *c, const zarr_array_meta *m)
{
    const cJSON *endian = cJSON_GetObjectItemCaseSensitive(conf, "endian");
    if (!endian || cJSON_IsNull(endian)) {
        if (m->itemsize == 1)
            return NULL;
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration.endian\" of 'bytes' is "
                        "required for %s", index, zarr_dtype_name(m->dtype));
    }
    if (cJSON_IsString(endian) && strcmp(endian->valuestring, "little") == 0)
        c->big_endian = 0;
    else if (cJSON_IsString(endian) && strcmp(endian->valuestring, "big") == 0)
        c->big_endian = 1;
    else
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration.endian\" of 'bytes' must be "
                        "\"little\" or \"big\"", index);
    return NULL;
}

static floe_err parse_config(const cJSON *conf, int index, zarr_codec *c, const zarr_array_meta *m)
{
    long v;
    int present;
    switch (c->kind) {
    case ZARR_CODEC_TRANSPOSE:
        return parse_transpose(conf, index, c, m);
    case ZARR_CODEC_BYTES:
        return parse_bytes(conf, index, c, m);
    case ZARR_CODEC_GZIP:
    case ZARR_CODEC_ZLIB:
        FLOE_CHECK(conf_int(conf, "level", index, c->name, 0, 9, &v, &present));
        c->level = present ? (int)v : -1;
        return NULL;
    case ZARR_CODEC_ZSTD:
        FLOE_CHECK(conf_int(conf, "level", index, c->name, -131072, 22, &v, &present));
        c->level = present ? (int)v : 0;
        return NULL;
    case ZARR_CODEC_BLOSC:
        /* Blosc frames describe themselves (typesize, shuffle, compressor);
         * the configuration only matters for encoding. */
        FLOE_CHECK(conf_int(conf, "clevel", index, c->name, 0, 9, &v, &present));
        c->level = present ? (int)v : -1;
        FLOE_CHECK(conf_int(conf, "typesize", index, c->name, 0, 255, &v, &present));
        c->elementsize = present ? (size_t)v : m->itemsize;
        return NULL;
    case ZARR_CODEC_SHUFFLE:
        FLOE_CHECK(conf_int(conf, "elementsize", index, c->name, 1, 1 << 20, &v, &present));
        c->elementsize = present ? (size_t)v : 4; /* numcodecs' default */
        return NULL;
    case ZARR_CODEC_CRC32C:
    case ZARR_CODEC_FLETCHER32:
        return NULL;
    }
    return NULL;
}

static floe_err parse_one(const cJSON *item, int index, zarr_codec *c, const zarr_array_meta *m)
{
    const char *name;
    const cJSON *conf = NULL;
    /* A bare string is the shorthand for {"name": ...}. */
    if (cJSON_IsString(item)) {
        name = item->valuestring;
    } else {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "name");
        if (!cJSON_IsString(n))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].name\" is missing", index);
        name = n->valuestring;
        conf = cJSON_GetObjectItemCaseSensitive(item, "configuration");
        if (conf && !cJSON_IsObject(conf) && !cJSON_IsNull(conf))
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d].configuration\" must be an object", index);
    }
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (strcmp(name, codec_names[i].name) == 0) {
            memset(c, 0, sizeof *c);
            c->kind = codec_names[i].kind;
            c->name = codec_names[i].name;
            return parse_config(conf, index, c, m);
        }
    }
    if (strcmp(name, "sharding_indexed") == 0)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "codec 'sharding_indexed' (sharded arrays) in zarr.json is "
                        "not supported");
    return FLOE_ERR(FLOE_EUNSUPPORTED, "unknown codec '%s' in zarr.json", name);
}

static floe_err make_codecs_text(zarr_array_meta *m)
{
    size_t len = 1;
    for (int i = 0; i < m->ncodecs; i++)
        len += strlen(m->codecs[i].name) + 2;
    free(m->codecs_text);
    m->codecs_text = malloc(len);
    if (!m->codecs_text)
        return FLOE_ERR(FLOE_ENOMEM, "zarr.json: out of memory");
    m->codecs_text[0] = '\0';
    for (int i = 0; i < m->ncodecs; i++) {
        if (i)
            strcat(m->codecs_text, ", ");
        strcat(m->codecs_text, m->codecs[i].name);
    }
    return NULL;
}

floe_err zarr_codecs_parse(const cJSON *codecs, zarr_array_meta *m)
{
    if (!codecs)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs\" is missing");
    if (!cJSON_IsArray(codecs))
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs\" must be a list");
    int n = cJSON_GetArraySize(codecs);
    if (n > ZARR_MAX_CODECS)
        return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"codecs\" has %d entries, floe handles at most %d",
                        n, ZARR_MAX_CODECS);
    m->ncodecs = 0;
    int i = 0;
    int n_array_to_bytes = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, codecs) {
        zarr_codec *c = &m->codecs[i];
        FLOE_CHECK(parse_one(e, i, c, m));
        if (c->kind == ZARR_CODEC_TRANSPOSE && n_array_to_bytes)
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d]\" 'transpose' (array->array) comes "
                            "after the array->bytes codec", i);
        if (c->kind == ZARR_CODEC_BYTES && n_array_to_bytes++)
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d]\" is a second array->bytes codec", i);
        if (c->kind != ZARR_CODEC_TRANSPOSE && c->kind != ZARR_CODEC_BYTES && !n_array_to_bytes)
            return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs[%d]\" '%s' (bytes->bytes) comes before the "
                            "array->bytes codec", i, c->name);
        i++;
    }
    m->ncodecs = n;
    if (!n_array_to_bytes)
        return FLOE_ERR(FLOE_EFORMAT, "zarr.json: \"codecs\" has no array->bytes codec (\"bytes\")");

    /* What each bytes->bytes codec receives when encoding, which is what
     * decoding it must give back. Known until the first compressor. */
    size_t size = m->chunk_nbytes;
    const char *compressor = NULL;
    for (int k = 0; k < n; k++) {
        zarr_codec *c = &m->codecs[k];
        if (c->kind == ZARR_CODEC_TRANSPOSE || c->kind == ZARR_CODEC_BYTES)
            continue;
        if (is_compressor(c->kind) && compressor)
            return FLOE_ERR(FLOE_EUNSUPPORTED, "zarr.json: \"codecs[%d]\" '%s' compresses the output of "
                            "'%s'; floe does not support two compressors in one chain", k, c->name, compressor);
        c->decoded_nbytes = compressor ? 0 : size;
        if (is_checksum(c->kind))
            size += 4;
        if (is_compressor(c->kind))
            compressor = c->name;
    }
    return make_codecs_text(m);
}
