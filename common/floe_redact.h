/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_redact.h - the one redaction of secrets in URLs, applied to
 * everything floe writes or prints (output attributes, STAC Items,
 * --report, error and log lines, transport messages). Users pass
 * pre-signed URLs ("?X-Amz-Signature=...&X-Amz-Credential=...", Azure
 * "sig=", "token=") and URLs with "user:password@"; none of that may end
 * up in a file that is shared or a log that is kept.
 *
 * In every "scheme://..." URL found in the text (a URL ends at white space,
 * a quote, '<' or '>'):
 *   - "userinfo@" in the authority is removed; a password holding '/',
 *     '?' or '#' too (after a ':' in the authority, everything up to a
 *     later '@' of the URL goes: an odd URL may lose more than its
 *     userinfo, a password never survives);
 *   - the value of each query parameter whose name contains, ignoring
 *     case, "sig", "token", "credential", "secret", "pass", "pwd", "jwt",
 *     "auth", "key" or "session" becomes "REDACTED" (the value ends at
 *     '&', ';', '#', white space or the text's end, less the punctuation
 *     and quotes that close it in prose or JSON).
 * Everything else, local paths included, is copied unchanged; redacting
 * redacted text changes nothing.
 */
#ifndef FLOE_REDACT_H
#define FLOE_REDACT_H

#include <stddef.h>

/* The redacted text, snprintf-style: writes at most size bytes (always
 * NUL-terminated when size > 0, truncating) and returns the length of the
 * whole redacted text. */
size_t floe_redact(const char *text, char *buf, size_t size);

/* The redacted text in a new allocation (free()), NULL when out of
 * memory. NULL text gives NULL. */
char *floe_redact_dup(const char *text);

#endif
