/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/flexbuf.h - FlexBuffers (schema-less FlatBuffers) decoded to cJSON.
 *
 * Icechunk spec v2 stores its repository configuration (Repo.config) and
 * snapshot/repo metadata values as FlexBuffers, Rust serde style: structs
 * are maps by field name, None is null, an enum variant with data is a
 * one-entry map {variant: value}. Turning the whole buffer into a cJSON
 * tree keeps the decoding in one bounds-checked place; the documents are
 * small (the config of a repository is under 1 KB).
 *
 * Mapping: null -> null; int/uint/float (inline or indirect) -> number;
 * bool -> true/false; string and key -> string; map -> object (keys in
 * stored order, which is sorted); vectors (untyped, typed, fixed) ->
 * array; blob -> array of byte values.
 *
 * The input is untrusted: every offset is checked against the buffer,
 * nesting is capped (FLEXBUF_MAX_DEPTH) and so is the number of values
 * produced (shared sub-values could otherwise multiply), all as
 * FLOE_EFORMAT "flexbuffer: ...".
 */
#ifndef FLOE_FLEXBUF_H
#define FLOE_FLEXBUF_H

#include "common/floe_error.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define FLEXBUF_MAX_DEPTH 64

/* Decode the root value of buf. *out is owned by the caller (cJSON_Delete). */
floe_err flexbuf_to_json(const uint8_t *buf, size_t len, cJSON **out);

#endif
