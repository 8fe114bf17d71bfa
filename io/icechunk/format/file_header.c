/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/file_header.c - the 39-byte header of Icechunk's binary metadata files
 * (snapshot, manifest, transaction log, repo info) and their zstd payload.
 *
 * The payload is a single zstd frame without a content-size field (every
 * file Icechunk writes), so it is decompressed with the streaming API into
 * a floe_buf that grows as the output comes, up to the caller's memory
 * budget, rather than trusting a size from the frame header.
 * Bytes in, bytes out: fetching the file is the reader's (repo.c).
 */
#include "io/icechunk/format/file_header.h"

#include <string.h>
#include <zstd.h>

static const uint8_t MAGIC[12] = {0x49, 0x43, 0x45, 0xF0, 0x9F, 0xA7,
                                  0x8A, 0x43, 0x48, 0x55, 0x4E, 0x4B}; /* ICE🧊CHUNK */

const char *ic_file_type_name(int type)
{
    switch (type) {
    case IC_FILE_SNAPSHOT: return "snapshot";
    case IC_FILE_MANIFEST: return "manifest";
    case IC_FILE_TRANSACTION_LOG: return "transaction log";
    case IC_FILE_REPO_INFO: return "repo info";
    default: return "unknown";
    }
}

static floe_err zstd_inflate(const uint8_t *src, size_t len, ZSTD_DStream *reuse, floe_buf *out)
{
    ZSTD_DStream *ds = reuse ? reuse : ZSTD_createDStream();
    if (!ds)
        return FLOE_ERR(FLOE_ENOMEM, "zstd: cannot create a decompression stream");
    /* A stream left mid-frame by an earlier corrupt file starts afresh. */
    ZSTD_DCtx_reset(ds, ZSTD_reset_session_only);
    floe_err err = NULL;
    ZSTD_inBuffer in = {src, len, 0};
    size_t ret = 1;
    while (in.pos < in.size || ret != 0) {
        uint8_t *space;
        size_t want = ZSTD_DStreamOutSize();
        if (out->max - out->len < want)
            want = out->max - out->len;
        if (want == 0) {
            /* At the budget with output still to come. */
            err = FLOE_ERR(FLOE_ENOMEM, "unpacks to more than the memory budget of %zu bytes "
                           "(%zu bytes so far, from %zu stored bytes): raise --memory-budget",
                           out->max, out->len, len);
            break;
        }
        err = floe_buf_reserve(out, want, &space);
        if (err) {
            err = floe_err_push(err, __FILE__, __LINE__, " decompressing the payload");
            break;
        }
        ZSTD_outBuffer ob = {space, want, 0};
        size_t in_before = in.pos;
        ret = ZSTD_decompressStream(ds, &ob, &in);
        if (ZSTD_isError(ret)) {
            err = FLOE_ERR(FLOE_EFORMAT, "zstd payload is corrupt: %s", ZSTD_getErrorName(ret));
            break;
        }
        floe_buf_commit(out, ob.pos);
        if (ob.pos == 0 && in.pos == in_before && in.pos == in.size && ret != 0) {
            err = FLOE_ERR(FLOE_EFORMAT, "zstd payload is truncated (%zu compressed bytes)", len);
            break;
        }
    }
    if (!reuse)
        ZSTD_freeDStream(ds);
    return err;
}

floe_err ic_file_decode(const uint8_t *raw, size_t len, int expect_type, size_t max_payload,
                        ZSTD_DStream *ds, ic_file *f)
{
    memset(f, 0, sizeof *f);
    floe_buf_init(&f->payload, max_payload);
    if (len < IC_HEADER_SIZE)
        return FLOE_ERR(FLOE_EFORMAT, "%zu bytes is shorter than the 39-byte Icechunk header", len);
    if (memcmp(raw, MAGIC, sizeof MAGIC) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "not an Icechunk file: bad magic (expected ICE\xF0\x9F\xA7\x8A" "CHUNK)");
    size_t n = 24;
    memcpy(f->impl, raw + 12, n);
    while (n > 0 && (f->impl[n - 1] == ' ' || f->impl[n - 1] == '\0'))
        n--;
    f->impl[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)f->impl[i] < 0x20 || (unsigned char)f->impl[i] > 0x7e)
            f->impl[i] = '?'; /* keep error messages and logs printable */
    f->spec = raw[36];
    f->type = raw[37];
    int compression = raw[38];
    if (f->spec > 2)
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "written with Icechunk spec version %d by %s; this reader knows versions 1 and 2",
                        f->spec, f->impl);
    if (f->spec < 1)
        return FLOE_ERR(FLOE_EFORMAT, "bad spec version byte %d", f->spec);
    if (f->type != expect_type)
        return FLOE_ERR(FLOE_EFORMAT, "file type %d (%s), expected %d (%s)", f->type,
                        ic_file_type_name(f->type), expect_type, ic_file_type_name(expect_type));
    const uint8_t *payload = raw + IC_HEADER_SIZE;
    size_t plen = len - IC_HEADER_SIZE;
    if (compression == 0) {
        if (plen > max_payload)
            return FLOE_ERR(FLOE_ENOMEM, "holds %zu bytes, more than the memory budget of %zu "
                            "bytes: raise --memory-budget", plen, max_payload);
        FLOE_CHECK(floe_buf_append(&f->payload, payload, plen), "uncompressed payload");
    } else if (compression == 1) {
        FLOE_CHECK(zstd_inflate(payload, plen, ds, &f->payload));
    } else {
        return FLOE_ERR(FLOE_EFORMAT, "unknown compression byte %d", compression);
    }
    FLOE_CHECK(fb_root(f->payload.data, f->payload.len, "Ichk", &f->root), "%s flatbuffer",
               ic_file_type_name(f->type));
    return NULL;
}

void ic_file_free(ic_file *f)
{
    floe_buf_free(&f->payload);
    memset(&f->root, 0, sizeof f->root);
}
