/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_buf.h - a growable byte buffer with a hard size cap (after libcurl's
 * dynbuf). Every buffer that holds data from the network or a file has a
 * cap, so a corrupt length or a hostile server cannot make floe allocate
 * without bound: going past it is FLOE_ENOMEM naming the cap.
 *
 *     floe_buf b;
 *     floe_buf_init(&b, 64 << 20);          // at most 64 MiB
 *     FLOE_CHECK(floe_buf_append(&b, p, n));
 *     ... b.data, b.len ...
 *     floe_buf_free(&b);                    // data = NULL, len = 0
 */
#ifndef FLOE_BUF_H
#define FLOE_BUF_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct floe_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
    size_t max;    /* hard limit on len */
    int over_max;  /* an append or reserve was refused for going past max
                    * (not for a failed allocation): callers tell a cap hit
                    * from running out of memory by this, not by the text */
} floe_buf;

/* max SIZE_MAX: no cap of its own (it then holds at most SIZE_MAX - 1
 * bytes, one being kept for the NUL). */
void floe_buf_init(floe_buf *b, size_t max);
/* Append n bytes (n may be 0). Keeps one spare byte after the data set to
 * NUL, so text read into a buffer is a C string. */
floe_err floe_buf_append(floe_buf *b, const void *p, size_t n);
/* Make room for at least n more bytes; returns a pointer to the free space
 * (write there, then floe_buf_commit). */
floe_err floe_buf_reserve(floe_buf *b, size_t n, uint8_t **space);
void floe_buf_commit(floe_buf *b, size_t n);
/* Forget the contents, keep the allocation. */
void floe_buf_reset(floe_buf *b);
/* Hand the data to the caller (who frees it with free()); b is left empty. */
uint8_t *floe_buf_take(floe_buf *b, size_t *len);
void floe_buf_free(floe_buf *b);

#endif
