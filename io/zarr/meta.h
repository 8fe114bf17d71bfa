/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/meta.h - the metadata document (zarr.json) of one Zarr v3 array.
 *
 * zarr_meta_parse reads the JSON text of an array's zarr.json into a plain
 * struct: shape, regular chunk grid, data type, fill value, chunk key
 * encoding, dimension names, attributes and the codec chain (decoded by
 * io/zarr/codec.h). Everything floe cannot honour exactly is refused at
 * parse time, so a chunk is never decoded with a half-understood chain:
 *   - data types other than bool, (u)int8..64, float16, float32, float64
 *     (complex, strings, extension types) -> FLOE_EUNSUPPORTED;
 *   - chunk grids other than "regular", non-empty storage_transformers,
 *     unknown codecs (including sharding_indexed) -> FLOE_EUNSUPPORTED;
 *   - an unknown top-level key whose value says "must_understand": true ->
 *     FLOE_EUNSUPPORTED (other unknown keys are ignored, as the spec allows
 *     for must_understand: false and as zarr-python tolerates);
 *   - malformed documents -> FLOE_EFORMAT.
 * Messages start with "zarr.json: " and name the field, e.g.
 *   zarr.json: "chunk_grid.configuration.chunk_shape" has 2 entries, "shape" has 3
 * The caller adds which array (FLOE_CHECK(..., "array %s", name)).
 *
 * The folder's role: io/zarr/ is Zarr v3 arrays, pure (JSON and bytes in,
 * values out; it includes only common/ and knows nothing of Icechunk or of
 * where bytes come from): the metadata (this header; meta.c, codec_parse.c)
 * and the codec chain (codec.h; codec.c, and codec/ with one file per
 * codec or library).
 */
#ifndef FLOE_ZARR_META_H
#define FLOE_ZARR_META_H

#include "common/floe_error.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

enum {
    ZARR_MAX_DIMS = 8,
    ZARR_MAX_CODECS = 16,
};

/* Largest decoded chunk floe accepts (blosc's own limit is also 2 GiB). */
#define ZARR_MAX_CHUNK_BYTES ((size_t)1 << 31)

/* Same order as floe_dtype in dataset/dataset.h, so a cast maps one to the other. */
typedef enum zarr_dtype {
    ZARR_BOOL, ZARR_INT8, ZARR_INT16, ZARR_INT32, ZARR_INT64,
    ZARR_UINT8, ZARR_UINT16, ZARR_UINT32, ZARR_UINT64,
    ZARR_FLOAT32, ZARR_FLOAT64,
    ZARR_FLOAT16, /* last: the others keep their numbers */
} zarr_dtype;

/* "float32" etc. (static string). */
const char *zarr_dtype_name(zarr_dtype t);
size_t zarr_dtype_size(zarr_dtype t);

typedef enum zarr_codec_kind {
    /* array -> array */
    ZARR_CODEC_TRANSPOSE,
    /* array -> bytes */
    ZARR_CODEC_BYTES,
    /* bytes -> bytes */
    ZARR_CODEC_GZIP,       /* "gzip", "numcodecs.gzip": gzip member(s) (RFC 1952) */
    ZARR_CODEC_ZLIB,       /* "numcodecs.zlib": zlib stream (RFC 1950), HDF5 deflate */
    ZARR_CODEC_ZSTD,       /* "zstd", "numcodecs.zstd" */
    ZARR_CODEC_BLOSC,      /* "blosc", "numcodecs.blosc" */
    ZARR_CODEC_SHUFFLE,    /* "numcodecs.shuffle": HDF5/numcodecs byte shuffle */
    ZARR_CODEC_CRC32C,     /* "crc32c": 4-byte little-endian CRC-32C trailer */
    ZARR_CODEC_FLETCHER32, /* "numcodecs.fletcher32": HDF5 Fletcher-32 trailer */
} zarr_codec_kind;

typedef struct zarr_codec {
    zarr_codec_kind kind;
    const char *name;        /* as written in zarr.json (static copy of a known name) */
    int level;               /* gzip/zlib/zstd level, blosc clevel (informative) */
    int big_endian;          /* bytes: 1 = "big" */
    size_t elementsize;      /* numcodecs.shuffle; blosc typesize (informative) */
    int order[ZARR_MAX_DIMS]; /* transpose: permutation of the dimensions */
    /* Decoded size of this bytes->bytes codec's input, i.e. what decoding it
     * must yield: chunk bytes + 4 per checksum codec applied before it. */
    size_t decoded_nbytes;
} zarr_codec;

typedef enum zarr_key_encoding {
    ZARR_KEYS_DEFAULT, /* "c/0/1/2" (or "c.0.1.2") */
    ZARR_KEYS_V2,      /* "0.1.2" (or "0/1/2") */
} zarr_key_encoding;

typedef struct zarr_array_meta {
    int ndim;                          /* 0 .. ZARR_MAX_DIMS */
    uint64_t shape[ZARR_MAX_DIMS];
    uint64_t chunk_shape[ZARR_MAX_DIMS];
    zarr_dtype dtype;
    size_t itemsize;
    /* The fill value: raw bytes of one element in native byte order (the
     * first itemsize bytes are used), and as a double (NaN for NaN fills;
     * int64/uint64 beyond 2^53 are rounded here but exact in fill_raw). */
    uint8_t fill_raw[8];
    double fill_value;
    zarr_key_encoding key_encoding;
    char key_separator;                /* '/' or '.' */
    char *dim_names[ZARR_MAX_DIMS];    /* owned; NULL where absent or null */
    cJSON *attributes;                 /* owned; an empty object when absent */
    int ncodecs;
    zarr_codec codecs[ZARR_MAX_CODECS]; /* in zarr.json order (encoding order) */
    char *codecs_text;                 /* owned: "bytes, numcodecs.shuffle, numcodecs.zlib" */
    size_t chunk_nbytes;               /* prod(chunk_shape) * itemsize */
} zarr_array_meta;

/* Parse a zarr.json array document (json need not be NUL-terminated).
 * On success *out is owned by the caller (zarr_meta_free). */
floe_err zarr_meta_parse(const char *json, size_t len, zarr_array_meta **out);
void zarr_meta_free(zarr_array_meta **m);

/* Parse the "codecs" list into m->codecs (used by zarr_meta_parse; needs
 * m->ndim, m->itemsize and m->chunk_nbytes set). Validates the order
 * (array->array*, exactly one array->bytes, bytes->bytes*). */
floe_err zarr_codecs_parse(const cJSON *codecs, zarr_array_meta *m);

/* Decoded size of one chunk in bytes. Edge chunks are stored full size. */
size_t zarr_chunk_nbytes(const zarr_array_meta *m);
/* Number of chunks along each dimension: ceil(shape / chunk_shape). */
void zarr_chunk_grid_shape(const zarr_array_meta *m, uint64_t *grid);

/* The store key of chunk `coord` (chunk-grid coordinates, ndim entries)
 * relative to the array: "c/0/1/2" (default encoding), "0.1.2" (v2); a
 * 0-d array's only chunk is "c" (default) or "0" (v2). FLOE_EINVAL if a
 * coordinate lies outside the grid, FLOE_ENOMEM if buf is too small. */
floe_err zarr_chunk_key(const zarr_array_meta *m, const uint64_t *coord, char *buf, size_t size);

#endif
