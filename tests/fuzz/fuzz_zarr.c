/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_zarr.c - libFuzzer harness for Zarr metadata and the
 * codec chain: parse a zarr.json (io/zarr/meta.h), then decode one chunk's
 * bytes through the chain it declares (io/zarr/codec.h), as the reader does
 * for every chunk it fetches.
 *
 * Input: the zarr.json text, a NUL byte, the encoded chunk (make_corpus.sh
 * writes the seeds so). Without a NUL the whole input is the zarr.json.
 * A chunk larger than FUZZ_MAX_CHUNK_BYTES decoded is not decoded: the
 * caller allocates zarr_chunk_nbytes() bytes, and a hostile shape would
 * only measure malloc (floe's own cap is the dataset layer's).
 */
#include "io/zarr/codec.h"
#include "io/zarr/meta.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_CHUNK_BYTES ((size_t)4 << 20)

static zarr_decoder *D;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t json_len = nul ? (size_t)(nul - data) : size;
    const uint8_t *chunk = nul ? nul + 1 : data + size;
    size_t chunk_len = size - json_len - (nul ? 1 : 0);

    zarr_array_meta *m = NULL;
    floe_err err = zarr_meta_parse((const char *)data, json_len, &m);
    if (err) {
        floe_err_free(&err);
        return 0;
    }
    if (!D && (err = zarr_decoder_new(&D))) {
        floe_err_free(&err);
        zarr_meta_free(&m);
        return 0;
    }
    size_t nbytes = zarr_chunk_nbytes(m);
    if (nbytes > 0 && nbytes <= FUZZ_MAX_CHUNK_BYTES) {
        /* Exactly nbytes, so ASan sees a write past the end. */
        uint8_t *out = malloc(nbytes);
        if (out) {
            zarr_chunk_fill(m, out);
            err = zarr_chunk_decode(D, m, chunk, chunk_len, out);
            floe_err_free(&err);
            free(out);
        }
    }
    if (m->ndim > 0) {
        uint64_t grid[ZARR_MAX_DIMS], coord[ZARR_MAX_DIMS] = {0};
        char key[256];
        zarr_chunk_grid_shape(m, grid);
        for (int d = 0; d < m->ndim; d++)
            coord[d] = grid[d] ? grid[d] - 1 : 0;
        err = zarr_chunk_key(m, coord, key, sizeof key);
        floe_err_free(&err);
    }
    zarr_meta_free(&m);
    return 0;
}
