/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/msgpack.h - MessagePack values as cJSON, for the commit
 * metadata of spec-v1 snapshots (v2 files use FlexBuffers, flexbuf.h).
 * Pure: bytes in, a cJSON tree out. */
#ifndef FLOE_ICECHUNK_MSGPACK_H
#define FLOE_ICECHUNK_MSGPACK_H

#include "common/floe_error.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* One MessagePack value, the whole of data, as JSON (*out owned by the
 * caller). Untrusted input: a truncated, malformed or too deeply nested
 * value, or bytes after it, is FLOE_EFORMAT, an extension type
 * FLOE_EUNSUPPORTED. */
floe_err ic_msgpack_to_json(const uint8_t *data, size_t len, cJSON **out);

#endif
