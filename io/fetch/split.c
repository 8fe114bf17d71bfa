/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/split.c - splitting one large object of known size into ranges of
 * about equal length, fetched in parallel and put together again (pure:
 * no I/O; prefetch.c fetches them). */
#include "io/fetch/internal.h"

size_t floe_split_object(uint64_t size, uint64_t piece_bytes, size_t max_pieces,
                         uint64_t *piece)
{
    *piece = 0;
    if (!size)
        return 0;
    if (!piece_bytes)
        piece_bytes = 1;
    if (!max_pieces)
        max_pieces = 1;
    uint64_t n = size / piece_bytes + (size % piece_bytes != 0);
    if (n > max_pieces)
        n = max_pieces;
    /* Equal pieces, the last one shorter: rounding the length up may leave
     * fewer pieces than n (never an empty one). */
    *piece = size / n + (size % n != 0);
    return (size_t)(size / *piece + (size % *piece != 0));
}
