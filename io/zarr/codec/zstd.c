/* SPDX-License-Identifier: Apache-2.0 */
/* io/zarr/codec/zstd.c - zstd frames (zarr "zstd", numcodecs.zstd). */
#include "io/zarr/codec_internal.h"

#include <zstd_errors.h>

floe_err codec_zstd_decode(ZSTD_DCtx *dctx, const char *codec, const uint8_t *in, size_t n, uint8_t *out,
                           size_t expected)
{
    /* A frame that states its size is checked before any work. */
    unsigned long long declared = ZSTD_getFrameContentSize(in, n);
    if (declared == ZSTD_CONTENTSIZE_ERROR)
        return FLOE_ERR(FLOE_EFORMAT, "%s: not a zstd frame (%zu bytes)", codec, n);
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && ZSTD_findFrameCompressedSize(in, n) == n &&
        declared != expected)
        return FLOE_ERR(FLOE_EFORMAT, "%s: frame declares %llu bytes, the chunk holds %zu", codec, declared,
                        expected);
    size_t got = ZSTD_decompressDCtx(dctx, out, expected, in, n);
    if (ZSTD_isError(got)) {
        if (ZSTD_getErrorCode(got) == ZSTD_error_dstSize_tooSmall)
            return FLOE_ERR(FLOE_EFORMAT, "%s: data decodes to more than the %zu bytes the chunk holds",
                            codec, expected);
        return FLOE_ERR(FLOE_EFORMAT, "%s: %s (%zu bytes in)", codec, ZSTD_getErrorName(got), n);
    }
    if (got != expected)
        return FLOE_ERR(FLOE_EFORMAT, "%s: stream decodes to %zu bytes, the chunk holds %zu", codec, got,
                        expected);
    return NULL;
}
