/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/coalesce.c - merging nearby byte ranges of one object into fewer,
 * larger requests (pure: no I/O). */
#include "io/fetch/internal.h"

#include <stdlib.h>

static int cmp_range(const void *pa, const void *pb)
{
    const floe_coalesce_range *a = pa, *b = pb;
    if (a->object != b->object)
        return a->object < b->object ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    if (a->length != b->length)
        return a->length < b->length ? -1 : 1;
    /* Ties by id make the result independent of qsort's instability. */
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return 0;
}

size_t floe_coalesce(floe_coalesce_range *r, size_t n, uint64_t max_gap, uint64_t max_bytes,
                     floe_coalesce_span *spans)
{
    if (!n)
        return 0;
    qsort(r, n, sizeof *r, cmp_range);
    size_t count = 0;
    floe_coalesce_span *cur = NULL;
    uint64_t end = 0; /* exclusive end of cur */
    for (size_t i = 0; i < n; i++) {
        const floe_coalesce_range *x = &r[i];
        if (cur && x->length && cur->length && r[cur->first].object == x->object) {
            uint64_t x_end = x->offset + x->length;
            uint64_t gap = x->offset > end ? x->offset - end : 0;
            uint64_t new_end = x_end > end ? x_end : end;
            if (gap <= max_gap && new_end - cur->offset <= max_bytes) {
                cur->count++;
                cur->length = new_end - cur->offset;
                end = new_end;
                continue;
            }
        }
        cur = &spans[count++];
        *cur = (floe_coalesce_span){.first = i, .count = 1, .offset = x->offset,
                                    .length = x->length};
        end = x->offset + x->length;
    }
    return count;
}

uint64_t floe_coalesce_cap(uint64_t max_bytes, uint64_t total_bytes, int concurrency)
{
    uint64_t spread = concurrency > 1 ? total_bytes / (uint64_t)concurrency : total_bytes;
    if (spread < FLOE_COALESCE_FLOOR)
        spread = FLOE_COALESCE_FLOOR;
    return spread < max_bytes ? spread : max_bytes;
}
