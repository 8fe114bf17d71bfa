/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/checksum.h - SHA-256 (FIPS 180-4) and the file:checksum of a
 * derived STAC Item: a multihash, "1220" (sha2-256, 32 bytes) followed by
 * the hex digest, as the STAC file extension asks.
 *
 * Self-contained on purpose: libcrypto is only an indirect dependency of
 * netCDF here, and floe does not declare it.
 *
 *     stac_sha256 h;
 *     stac_sha256_init(&h);
 *     stac_sha256_update(&h, data, n);      // any number of times
 *     uint8_t digest[STAC_SHA256_BYTES];
 *     stac_sha256_final(&h, digest);
 */
#ifndef FLOE_STAC_ITEM_CHECKSUM_H
#define FLOE_STAC_ITEM_CHECKSUM_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

enum {
    STAC_SHA256_BYTES = 32,
    /* "1220" + 64 hex digits + NUL */
    STAC_MULTIHASH_SIZE = 4 + 2 * STAC_SHA256_BYTES + 1,
};

typedef struct stac_sha256 {
    uint32_t state[8];
    uint64_t length;   /* bytes hashed so far */
    uint8_t block[64]; /* the unfinished block */
    size_t used;       /* bytes in block */
} stac_sha256;

void stac_sha256_init(stac_sha256 *h);
void stac_sha256_update(stac_sha256 *h, const void *data, size_t n);
/* Pads, writes the digest and leaves h re-initialised. */
void stac_sha256_final(stac_sha256 *h, uint8_t digest[STAC_SHA256_BYTES]);
/* Lower-case hex of n bytes into out (2n + 1 bytes). Returns out. */
char *stac_hex(const uint8_t *bytes, size_t n, char *out);

/* Read the whole file at path: its size in bytes and its sha2-256
 * multihash ("1220" + hex digest). FLOE_EIO names the file. */
floe_err stac_file_multihash(const char *path, uint64_t *size, char multihash[STAC_MULTIHASH_SIZE]);

#endif
