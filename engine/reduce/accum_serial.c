/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/accum_serial.c - the flat, native-endian wire form of one
 * accumulator for MPI (accum.h): a header (magic, cell count, stats mask)
 * followed by the arrays the mask allocates, in a fixed order. A buffer
 * from another rank is checked before anything is allocated from it. */
#include "engine/reduce/accum.h"

#include <stdint.h>
#include <string.h>

static const char accum_magic[8] = {'F', 'L', 'O', 'E', 'A', 'C', 'C', '1'};
enum { ACCUM_HEADER = 8 + 8 + 4 + 4 };
/* count, mean, m2, min, max, dmin, dmax, sum: the per-cell arrays of
 * floe_accum (the mask, FLOE_ACCUM_F64 included, says which exist). */
enum { ACCUM_NARRAYS = 8 };

/* The arrays a has, in serialization order, with their element sizes. */
static size_t accum_arrays(const floe_accum *a, void *ptrs[ACCUM_NARRAYS],
                           size_t sizes[ACCUM_NARRAYS])
{
    const struct {
        void *p;
        size_t size;
    } all[ACCUM_NARRAYS] = {
        {a->count, sizeof *a->count}, {a->mean, sizeof *a->mean}, {a->m2, sizeof *a->m2},
        {a->min, sizeof *a->min},     {a->max, sizeof *a->max},   {a->dmin, sizeof *a->dmin},
        {a->dmax, sizeof *a->dmax},   {a->sum, sizeof *a->sum},
    };
    size_t k = 0;
    for (size_t i = 0; i < ACCUM_NARRAYS; i++)
        if (all[i].p) {
            ptrs[k] = all[i].p;
            sizes[k++] = all[i].size;
        }
    return k;
}

size_t floe_accum_serial_size(const floe_accum *a)
{
    void *ptrs[ACCUM_NARRAYS];
    size_t sizes[ACCUM_NARRAYS], total = ACCUM_HEADER;
    size_t k = accum_arrays(a, ptrs, sizes);
    for (size_t i = 0; i < k; i++)
        total += a->ncells * sizes[i];
    return total;
}

floe_err floe_accum_serialize(const floe_accum *a, void *buf, size_t size)
{
    if (a->mean_as_sum)
        return FLOE_ERR(FLOE_EINTERNAL, "serializing a block accumulator that is still filling");
    if (size < floe_accum_serial_size(a))
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator: %zu-byte buffer for %zu bytes", size,
                        floe_accum_serial_size(a));
    unsigned char *p = buf;
    uint64_t ncells = a->ncells;
    uint32_t stats = a->stats, zero = 0;
    memcpy(p, accum_magic, 8);
    memcpy(p + 8, &ncells, 8);
    memcpy(p + 16, &stats, 4);
    memcpy(p + 20, &zero, 4);
    p += ACCUM_HEADER;
    void *ptrs[ACCUM_NARRAYS];
    size_t sizes[ACCUM_NARRAYS];
    size_t k = accum_arrays(a, ptrs, sizes);
    for (size_t i = 0; i < k; i++) {
        memcpy(p, ptrs[i], a->ncells * sizes[i]);
        p += a->ncells * sizes[i];
    }
    return NULL;
}

floe_err floe_accum_deserialize(floe_accum *a, const void *buf, size_t size)
{
    memset(a, 0, sizeof *a);
    const unsigned char *p = buf;
    if (size < ACCUM_HEADER)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator: truncated header (%zu bytes)", size);
    if (memcmp(p, accum_magic, 8) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator: bad magic");
    uint64_t ncells;
    uint32_t stats;
    memcpy(&ncells, p + 8, 8);
    memcpy(&stats, p + 16, 4);
    if ((stats & FLOE_STAT_ALL) == 0 || (stats & ~(unsigned)FLOE_ACCUM_MASK_ALL))
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator: bad stats mask 0x%x", stats);
    /* Each cell takes at least 4 bytes, so a hostile count cannot make us
     * allocate more than the buffer justifies. */
    if (ncells > (size - ACCUM_HEADER) / 4)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator: %llu cells in %zu bytes",
                        (unsigned long long)ncells, size);
    floe_accum tmp;
    FLOE_CHECK(floe_accum_init(&tmp, (size_t)ncells, stats), "serialized accumulator");
    if (floe_accum_serial_size(&tmp) != size) {
        size_t want = floe_accum_serial_size(&tmp);
        floe_accum_free(&tmp);
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator: %zu bytes, expected %zu", size,
                        want);
    }
    p += ACCUM_HEADER;
    void *ptrs[ACCUM_NARRAYS];
    size_t sizes[ACCUM_NARRAYS];
    size_t k = accum_arrays(&tmp, ptrs, sizes);
    for (size_t i = 0; i < k; i++) {
        memcpy(ptrs[i], p, tmp.ncells * sizes[i]);
        p += tmp.ncells * sizes[i];
    }
    *a = tmp;
    return NULL;
}
