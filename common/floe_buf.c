/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_buf.c - see floe_buf.h. Doubling growth, capped at max + 1 bytes
 * (the +1 is the NUL terminator kept after the data; max SIZE_MAX
 * holds SIZE_MAX - 1 bytes). */
#include "common/floe_buf.h"

#include <stdlib.h>
#include <string.h>

void floe_buf_init(floe_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

floe_err floe_buf_reserve(floe_buf *b, size_t n, uint8_t **space)
{
    /* The NUL after the data needs a byte too: a buffer initialised with
     * max SIZE_MAX ("no cap of its own") holds at most SIZE_MAX - 1, so
     * that need and the allocation (limit + 1) never wrap to 0. */
    size_t limit = b->max < SIZE_MAX ? b->max : SIZE_MAX - 1;
    if (n > limit || b->len > limit - n) {
        b->over_max = 1;
        return FLOE_ERR(FLOE_ENOMEM, "buffer limit of %zu bytes exceeded (%zu + %zu)", limit,
                        b->len, n);
    }
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap > limit + 1)
            cap = limit + 1;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "cannot grow a buffer to %zu bytes", cap);
        b->data = p;
        b->cap = cap;
    }
    if (space)
        *space = b->data + b->len;
    return NULL;
}

void floe_buf_commit(floe_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = 0;
}

floe_err floe_buf_append(floe_buf *b, const void *p, size_t n)
{
    uint8_t *space;
    FLOE_CHECK(floe_buf_reserve(b, n, &space));
    if (n)
        memcpy(space, p, n);
    floe_buf_commit(b, n);
    return NULL;
}

void floe_buf_reset(floe_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

uint8_t *floe_buf_take(floe_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void floe_buf_free(floe_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
