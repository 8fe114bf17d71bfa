/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec/deflate.c - zlib and gzip streams through libdeflate, which only
 * decompresses whole buffers: fine here, since every chunk's decoded size
 * is known and the output buffer is exactly that large. */
#include "io/zarr/codec_internal.h"

static const char *deflate_problem(enum libdeflate_result r)
{
    switch (r) {
    case LIBDEFLATE_BAD_DATA:
        return "corrupt or truncated deflate data";
    case LIBDEFLATE_INSUFFICIENT_SPACE:
        return "data decodes to more bytes than the chunk holds";
    default:
        return "deflate error";
    }
}

floe_err codec_inflate_zlib(struct libdeflate_decompressor *dd, const char *codec, const uint8_t *in,
                            size_t n, uint8_t *out, size_t expected)
{
    size_t used_in = 0, got = 0;
    /* Bytes after the end of the stream are ignored, as HDF5's deflate
     * filter and zlib.decompress ignore them. */
    enum libdeflate_result r = libdeflate_zlib_decompress_ex(dd, in, n, out, expected, &used_in, &got);
    if (r != LIBDEFLATE_SUCCESS)
        return FLOE_ERR(FLOE_EFORMAT, "%s: %s (%zu bytes in, %zu expected out)", codec, deflate_problem(r), n,
                        expected);
    if (got != expected)
        return FLOE_ERR(FLOE_EFORMAT, "%s: stream decodes to %zu bytes, the chunk holds %zu", codec, got,
                        expected);
    return NULL;
}

floe_err codec_inflate_gzip(struct libdeflate_decompressor *dd, const char *codec, const uint8_t *in,
                            size_t n, uint8_t *out, size_t expected)
{
    size_t pos = 0, got = 0;
    /* RFC 1952: a gzip file is a series of members; their data concatenate. */
    do {
        size_t used_in = 0, used_out = 0;
        enum libdeflate_result r = libdeflate_gzip_decompress_ex(dd, in + pos, n - pos, out + got,
                                                                 expected - got, &used_in, &used_out);
        if (r != LIBDEFLATE_SUCCESS)
            return FLOE_ERR(FLOE_EFORMAT, "%s: %s in the gzip member at byte %zu (%zu bytes in, %zu "
                            "expected out)", codec, deflate_problem(r), pos, n, expected);
        pos += used_in;
        got += used_out;
    } while (n - pos >= 18 && in[pos] == 0x1f && in[pos + 1] == 0x8b);
    if (got != expected)
        return FLOE_ERR(FLOE_EFORMAT, "%s: stream decodes to %zu bytes, the chunk holds %zu", codec, got,
                        expected);
    return NULL;
}
