/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/chunk_scratch.c - scratch buffers lent to chunk callbacks
 * that may run concurrently (chunk_scratch.h). */
#include "engine/job/chunk_scratch.h"

#include <stdlib.h>
#include <string.h>

floe_err chunk_scratch_init(chunk_scratch *s, int n, size_t size)
{
    memset(s, 0, sizeof *s);
    s->buf = calloc((size_t)n, sizeof *s->buf);
    s->busy = calloc((size_t)n, sizeof *s->busy);
    if (!s->buf || !s->busy) {
        chunk_scratch_free(s);
        return FLOE_ERR(FLOE_ENOMEM, "the scratch of %d chunk callbacks", n);
    }
    s->n = n;
    for (int k = 0; k < n; k++) {
        atomic_init(&s->busy[k], 0);
        s->buf[k] = malloc(size ? size : 1);
        if (!s->buf[k]) {
            chunk_scratch_free(s);
            return FLOE_ERR(FLOE_ENOMEM, "a chunk callback's scratch (%zu bytes)", size);
        }
    }
    return NULL;
}

void chunk_scratch_free(chunk_scratch *s)
{
    for (int k = 0; s->buf && k < s->n; k++)
        free(s->buf[k]);
    free(s->buf);
    free((void *)s->busy);
    memset(s, 0, sizeof *s);
}

void *chunk_scratch_take(chunk_scratch *s, int *slot)
{
    for (;;) /* at most n holders at once: one of n is free */
        for (int k = 0; k < s->n; k++) {
            int idle = 0;
            if (atomic_compare_exchange_strong(&s->busy[k], &idle, 1)) {
                *slot = k;
                return s->buf[k];
            }
        }
}

void chunk_scratch_give(chunk_scratch *s, int slot)
{
    atomic_store(&s->busy[slot], 0);
}
