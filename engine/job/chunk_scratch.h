/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/chunk_scratch.h - scratch buffers lent to chunk callbacks.
 *
 * A floe_chunk_fn may run on several of the dataset's workers at once
 * (dataset/dataset.h), so a callback that needs scratch (a decoded tile
 * before it is reduced) cannot share one buffer. This holds one buffer per
 * worker and lends a free one for the duration of a call: at most
 * `workers` calls run at once, so one is always free. Which buffer a call
 * gets does not matter for the result (it is scratch). */
#ifndef FLOE_JOB_CHUNK_SCRATCH_H
#define FLOE_JOB_CHUNK_SCRATCH_H

#include "common/floe_error.h"

#include <stdatomic.h>
#include <stddef.h>

typedef struct chunk_scratch {
    int n;
    void **buf;        /* [n], `size` bytes each */
    atomic_int *busy;  /* [n] */
} chunk_scratch;

/* n buffers (n: the pool's workers, >= 1) of `size` bytes each. */
floe_err chunk_scratch_init(chunk_scratch *s, int n, size_t size);
void chunk_scratch_free(chunk_scratch *s);

/* A buffer no other call holds (*slot: what to give back). */
void *chunk_scratch_take(chunk_scratch *s, int *slot);
void chunk_scratch_give(chunk_scratch *s, int slot);

#endif
