/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/file_header.h - the 39-byte header of Icechunk's binary
 * metadata files (snapshot, manifest, transaction log, repo info) and the
 * decoding of their payload into a flatbuffer root.
 *
 * The folder's role: io/icechunk/format/ is Icechunk's on-disk format and
 * nothing else: bytes in, values out. It does no I/O (no transport, file
 * or socket; tests/check_layout.py checks it) and includes only common/.
 * Files: file_header (this), flatbuf (FlatBuffers tables), flexbuf
 * (FlexBuffers values as cJSON), msgpack (MessagePack values as cJSON),
 * ids (object ids and their base32 names). The reader in io/icechunk/
 * fetches the bytes and hands them here.
 */
#ifndef FLOE_ICECHUNK_FILE_HEADER_H
#define FLOE_ICECHUNK_FILE_HEADER_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "io/icechunk/format/flatbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

/* The file types of byte 37 of the header. */
enum {
    IC_FILE_SNAPSHOT = 1,
    IC_FILE_MANIFEST = 2,
    IC_FILE_TRANSACTION_LOG = 4,
    IC_FILE_REPO_INFO = 6,
};
#define IC_HEADER_SIZE 39

typedef struct ic_file {
    int spec;            /* 1 or 2 */
    int type;            /* IC_FILE_* */
    char impl[25];       /* implementation name, trailing spaces stripped */
    floe_buf payload;    /* the decompressed flatbuffer (owned) */
    fb_table root;       /* its root table (points into payload) */
} ic_file;

/* Check the 39-byte header of raw (magic, spec 1 or 2, the expected file
 * type, compression 0 or 1) and decompress the payload (at most max_payload
 * bytes, the reader's memory budget: past it FLOE_ENOMEM saying how far it
 * got and to raise --memory-budget) into f->payload; find the flatbuffer
 * root ("Ichk" identifier).
 * ds: a decompression stream to reuse (its window is megabytes), or NULL.
 * Errors are FLOE_EFORMAT (FLOE_ENOMEM past the budget, FLOE_EUNSUPPORTED for a
 * newer spec); callers add the key. */
floe_err ic_file_decode(const uint8_t *raw, size_t len, int expect_type, size_t max_payload,
                        ZSTD_DStream *ds, ic_file *f);
/* Frees f's payload (f itself is the caller's). */
void ic_file_free(ic_file *f);
/* "snapshot", "manifest", ... for messages; "unknown" for other values. */
const char *ic_file_type_name(int type);

#endif
