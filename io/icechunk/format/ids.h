/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/ids.h - Icechunk object ids and their Crockford base32 names.
 *
 * Snapshot, manifest and chunk ids are 12 random bytes, written in keys and
 * ref files as 20 characters; node ids are 8 bytes, 13 characters. The
 * alphabet is Crockford's 0123456789ABCDEFGHJKMNPQRSTVWXYZ (no I L O U),
 * upper case, no padding: the bytes are one big-endian bit string cut into
 * 5-bit groups from the left, the last group padded with zero bits
 * (shared/docs/icechunk-format.md §3).
 */
#ifndef FLOE_ICECHUNK_IDS_H
#define FLOE_ICECHUNK_IDS_H

#include "common/floe_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IC_ID12_BYTES 12
#define IC_ID8_BYTES 8
#define IC_ID12_CHARS 20
#define IC_ID8_CHARS 13

/* Characters needed for n bytes: ceil(8n / 5). */
#define IC_ID_CHARS(nbytes) (((nbytes) * 8 + 4) / 5)

/* Write the name of the nbytes-byte id (nbytes <= 64) into out, which
 * must hold IC_ID_CHARS(nbytes) + 1 bytes (NUL-terminated). Returns out. */
char *ic_id_encode(const uint8_t *bytes, size_t nbytes, char *out);

/* Parse exactly slen characters into nbytes bytes. Accepts lower case.
 * False if the length is not IC_ID_CHARS(nbytes), a character is outside
 * the alphabet, or the padding bits are not zero (not a canonical name). */
bool ic_id_parse(const char *s, size_t slen, uint8_t *out, size_t nbytes);

/* The same for a NUL-terminated name given by a user or a caller:
 * FLOE_EINVAL naming the id and what is wrong with it. */
floe_err ic_id_decode(const char *s, uint8_t *out, size_t nbytes);

#endif
