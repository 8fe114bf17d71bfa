/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec.c - the decoding pipeline: run a chunk's codecs backwards,
 * ping-ponging between two reusable scratch buffers and writing the last
 * transformation straight into the caller's buffer where sizes allow. */
#include "io/zarr/codec.h"

#include "io/zarr/codec_internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
enum { HOST_BIG_ENDIAN = 1 };
#else
enum { HOST_BIG_ENDIAN = 0 };
#endif

struct zarr_decoder {
    struct libdeflate_decompressor *dd;
    ZSTD_DCtx *zd;
    uint8_t *scratch[2];
    size_t cap[2];
};

floe_err zarr_decoder_new(zarr_decoder **out)
{
    *out = NULL;
    zarr_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory creating a chunk decoder");
    d->dd = libdeflate_alloc_decompressor();
    d->zd = ZSTD_createDCtx();
    if (!d->dd || !d->zd) {
        zarr_decoder_free(&d);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory creating a chunk decoder");
    }
    *out = d;
    return NULL;
}

void zarr_decoder_free(zarr_decoder **dp)
{
    if (!dp || !*dp)
        return;
    zarr_decoder *d = *dp;
    *dp = NULL;
    if (d->dd)
        libdeflate_free_decompressor(d->dd);
    ZSTD_freeDCtx(d->zd);
    free(d->scratch[0]);
    free(d->scratch[1]);
    free(d);
}

/* A scratch buffer of at least `size` bytes that is not `busy`. */
static floe_err scratch_for(zarr_decoder *d, const uint8_t *busy, size_t size, uint8_t **buf)
{
    int i = (busy == d->scratch[0] && busy) ? 1 : 0;
    if (d->cap[i] < size) {
        /* grow geometrically: chunk sizes of one array are all alike */
        size_t want = d->cap[i] * 2 > size ? d->cap[i] * 2 : size;
        uint8_t *p = realloc(d->scratch[i], want);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "out of memory for a %zu-byte decoding buffer", size);
        d->scratch[i] = p;
        d->cap[i] = want;
    }
    *buf = d->scratch[i];
    return NULL;
}

static int is_identity(const zarr_codec *c, int ndim)
{
    for (int i = 0; i < ndim; i++)
        if (c->order[i] != i)
            return 0;
    return 1;
}

/* Does decoding codec k move or rewrite bytes (rather than trimming)? */
static int transforms(const zarr_array_meta *m, int k)
{
    const zarr_codec *c = &m->codecs[k];
    switch (c->kind) {
    case ZARR_CODEC_CRC32C:
    case ZARR_CODEC_FLETCHER32:
        return 0;
    case ZARR_CODEC_BYTES:
        return m->itemsize > 1 && c->big_endian != HOST_BIG_ENDIAN;
    case ZARR_CODEC_TRANSPOSE:
        return !is_identity(c, m->ndim);
    case ZARR_CODEC_SHUFFLE:
        return c->elementsize > 1;
    default:
        return 1;
    }
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static floe_err verify_trailer(const zarr_codec *c, const uint8_t *p, size_t n)
{
    if (n < 4)
        return FLOE_ERR(FLOE_EFORMAT, "%s: %zu bytes, too short for the 4-byte checksum", c->name, n);
    uint32_t stored = load_le32(p + n - 4);
    if (c->kind == ZARR_CODEC_CRC32C) {
        uint32_t crc = zarr_crc32c(0, p, n - 4);
        if (crc != stored)
            return FLOE_ERR(FLOE_ECHECKSUM, "%s: stored checksum 0x%08x, data gives 0x%08x", c->name, stored,
                            crc);
        return NULL;
    }
    uint32_t f = zarr_fletcher32(p, n - 4);
    /* HDF5 before 1.6.3 stored the checksum with the bytes of each 16-bit
     * half swapped on little-endian machines; HDF5 still accepts both. */
    uint32_t legacy = ((f & 0x00ff00ffu) << 8) | ((f & 0xff00ff00u) >> 8);
    if (stored != f && stored != legacy)
        return FLOE_ERR(FLOE_ECHECKSUM, "%s: stored checksum 0x%08x, data gives 0x%08x", c->name, stored, f);
    return NULL;
}

/* The shape the array has before codec k when encoding (transposes before
 * it have permuted chunk_shape). */
static void shape_before(const zarr_array_meta *m, int k, uint64_t *shape)
{
    uint64_t tmp[ZARR_MAX_DIMS];
    memcpy(shape, m->chunk_shape, sizeof(uint64_t) * (size_t)m->ndim);
    for (int j = 0; j < k; j++) {
        if (m->codecs[j].kind != ZARR_CODEC_TRANSPOSE)
            continue;
        for (int i = 0; i < m->ndim; i++)
            tmp[i] = shape[m->codecs[j].order[i]];
        memcpy(shape, tmp, sizeof(uint64_t) * (size_t)m->ndim);
    }
}

static floe_err check_array_size(const zarr_codec *c, size_t got, size_t nbytes)
{
    if (got != nbytes)
        return FLOE_ERR(FLOE_EFORMAT, "%s: chunk decodes to %zu bytes, expected %zu", c->name, got, nbytes);
    return NULL;
}

floe_err zarr_chunk_decode(zarr_decoder *d, const zarr_array_meta *m, const uint8_t *in, size_t n,
                           uint8_t *out)
{
    const size_t nbytes = m->chunk_nbytes;
    int last = -1; /* the last codec (in decoding order) that writes bytes */
    for (int k = 0; k < m->ncodecs && last < 0; k++)
        if (transforms(m, k))
            last = k;

    const uint8_t *cur = in;
    size_t curn = n;
    for (int k = m->ncodecs - 1; k >= 0; k--) {
        const zarr_codec *c = &m->codecs[k];
        if (!transforms(m, k)) {
            if (c->kind == ZARR_CODEC_CRC32C || c->kind == ZARR_CODEC_FLETCHER32) {
                FLOE_CHECK(verify_trailer(c, cur, curn));
                curn -= 4;
            } else if (c->kind == ZARR_CODEC_BYTES) {
                FLOE_CHECK(check_array_size(c, curn, nbytes));
            }
            continue;
        }
        size_t outn = curn;
        if (c->kind == ZARR_CODEC_GZIP || c->kind == ZARR_CODEC_ZLIB || c->kind == ZARR_CODEC_ZSTD ||
            c->kind == ZARR_CODEC_BLOSC)
            outn = c->decoded_nbytes;
        if (c->kind == ZARR_CODEC_BYTES || c->kind == ZARR_CODEC_TRANSPOSE)
            FLOE_CHECK(check_array_size(c, curn, nbytes));

        /* Byte swapping works in place on a buffer floe owns. */
        if (c->kind == ZARR_CODEC_BYTES && cur != in) {
            zarr_byteswap((uint8_t *)cur, curn, m->itemsize);
            continue;
        }
        uint8_t *dst = NULL;
        if (k == last && outn == nbytes)
            dst = out;
        else
            FLOE_CHECK(scratch_for(d, cur, outn, &dst));

        switch (c->kind) {
        case ZARR_CODEC_ZLIB:
            FLOE_CHECK(codec_inflate_zlib(d->dd, c->name, cur, curn, dst, outn));
            break;
        case ZARR_CODEC_GZIP:
            FLOE_CHECK(codec_inflate_gzip(d->dd, c->name, cur, curn, dst, outn));
            break;
        case ZARR_CODEC_ZSTD:
            FLOE_CHECK(codec_zstd_decode(d->zd, c->name, cur, curn, dst, outn));
            break;
        case ZARR_CODEC_BLOSC:
            FLOE_CHECK(codec_blosc_decode(c->name, cur, curn, dst, outn));
            break;
        case ZARR_CODEC_SHUFFLE:
            zarr_unshuffle(cur, dst, curn, c->elementsize);
            break;
        case ZARR_CODEC_BYTES:
            memcpy(dst, cur, curn);
            zarr_byteswap(dst, curn, m->itemsize);
            break;
        case ZARR_CODEC_TRANSPOSE: {
            uint64_t shape[ZARR_MAX_DIMS];
            shape_before(m, k, shape);
            zarr_untranspose(cur, dst, m->ndim, shape, c->order, m->itemsize);
            break;
        }
        case ZARR_CODEC_CRC32C:
        case ZARR_CODEC_FLETCHER32:
            break;
        }
        cur = dst;
        curn = outn;
    }
    if (cur != out) {
        if (curn != nbytes)
            return FLOE_ERR(FLOE_EFORMAT, "chunk decodes to %zu bytes, expected %zu", curn, nbytes);
        memcpy(out, cur, nbytes);
    }
    return NULL;
}

void zarr_chunk_fill(const zarr_array_meta *m, uint8_t *out)
{
    size_t n = m->chunk_nbytes, is = m->itemsize;
    int zero = 1;
    for (size_t i = 0; i < is; i++)
        zero &= m->fill_raw[i] == 0;
    if (zero || is == 1) {
        memset(out, m->fill_raw[0], n);
        return;
    }
    /* one element, then double the filled prefix */
    memcpy(out, m->fill_raw, is);
    size_t done = is;
    while (done < n) {
        size_t k = done < n - done ? done : n - done;
        memcpy(out + done, out, k);
        done += k;
    }
}
