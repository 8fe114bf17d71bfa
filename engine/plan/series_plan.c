/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/series_plan.c - see series_plan.h. */
#include "engine/plan/series_plan.h"

#include <stdlib.h>
#include <string.h>

void series_plan_free(series_plan *plan)
{
    free(plan->tiles);
    free(plan->cells);
    free(plan->by_tile);
    free(plan->tile_first);
    memset(plan, 0, sizeof *plan);
}

static int cmp_chunk(const void *pa, const void *pb)
{
    const uint64_t *a = pa, *b = pb;
    return a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] != b[1] ? (a[1] < b[1] ? -1 : 1) : 0;
}

floe_err series_plan_points(const floe_point_weights *w, size_t npoints, uint64_t chy,
                            uint64_t chx, series_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (!npoints || !chy || !chx)
        return FLOE_ERR(FLOE_EINVAL, "series: no points or empty chunk shape");
    size_t n = 4 * npoints;
    uint64_t *keys = malloc(n * 2 * sizeof *keys);
    plan->cells = calloc(n, sizeof *plan->cells);
    plan->tiles = calloc(n, sizeof *plan->tiles);
    if (!keys || !plan->cells || !plan->tiles) {
        free(keys);
        series_plan_free(plan);
        return FLOE_ERR(FLOE_ENOMEM, "series: %zu points", npoints);
    }
    for (size_t p = 0; p < npoints; p++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                size_t k = p * 4 + (size_t)(a * 2 + b);
                keys[2 * k] = w[p].ilat[a] / chy;
                keys[2 * k + 1] = w[p].ilon[b] / chx;
            }
    /* distinct chunks, sorted: the tiles */
    uint64_t *sorted = malloc(n * 2 * sizeof *sorted);
    if (!sorted) {
        free(keys);
        series_plan_free(plan);
        return FLOE_ERR(FLOE_ENOMEM, "series: %zu points", npoints);
    }
    memcpy(sorted, keys, n * 2 * sizeof *keys);
    qsort(sorted, n, 2 * sizeof *sorted, cmp_chunk);
    for (size_t k = 0; k < n; k++) {
        if (plan->ntiles && !cmp_chunk(sorted + 2 * k, &plan->tiles[plan->ntiles - 1]))
            continue;
        series_tile *t = &plan->tiles[plan->ntiles++];
        t->cy = sorted[2 * k], t->cx = sorted[2 * k + 1];
        t->r0 = (size_t)(t->cy * chy), t->r1 = (size_t)((t->cy + 1) * chy);
        t->c0 = (size_t)(t->cx * chx), t->c1 = (size_t)((t->cx + 1) * chx);
    }
    free(sorted);
    for (size_t p = 0; p < npoints; p++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                size_t k = p * 4 + (size_t)(a * 2 + b);
                /* binary search of the tile (tiles start with cy, cx: the
                 * comparison reads those two fields) */
                size_t lo = 0, hi = plan->ntiles;
                while (lo + 1 < hi) {
                    size_t mid = (lo + hi) / 2;
                    uint64_t key[2] = {plan->tiles[mid].cy, plan->tiles[mid].cx};
                    if (cmp_chunk(key, keys + 2 * k) <= 0)
                        lo = mid;
                    else
                        hi = mid;
                }
                plan->cells[k].tile = lo;
                plan->cells[k].offset = (size_t)((w[p].ilat[a] - keys[2 * k] * chy) * chx +
                                                 (w[p].ilon[b] - keys[2 * k + 1] * chx));
            }
    free(keys);
    /* cells grouped by tile (a counting sort, cell order kept per tile) */
    plan->by_tile = malloc(n * sizeof *plan->by_tile);
    plan->tile_first = calloc(plan->ntiles + 1, sizeof *plan->tile_first);
    if (!plan->by_tile || !plan->tile_first) {
        series_plan_free(plan);
        return FLOE_ERR(FLOE_ENOMEM, "series: %zu points", npoints);
    }
    for (size_t k = 0; k < n; k++)
        plan->tile_first[plan->cells[k].tile + 1]++;
    for (size_t i = 0; i < plan->ntiles; i++)
        plan->tile_first[i + 1] += plan->tile_first[i];
    size_t *fill = calloc(plan->ntiles, sizeof *fill);
    if (!fill) {
        series_plan_free(plan);
        return FLOE_ERR(FLOE_ENOMEM, "series: %zu points", npoints);
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = plan->cells[k].tile;
        plan->by_tile[plan->tile_first[i] + fill[i]++] = k;
    }
    free(fill);
    return NULL;
}

void series_rank_steps(size_t t0, size_t nt, uint64_t ct, int nranks, int rank, size_t *s0,
                       size_t *s1)
{
    *s0 = *s1 = 0;
    if (!nt || !ct || nranks < 1 || rank < 0 || rank >= nranks)
        return;
    /* time chunks touched by the selection */
    uint64_t c0 = t0 / ct, c1 = (t0 + nt - 1) / ct + 1, nc = c1 - c0;
    uint64_t per = nc / (uint64_t)nranks, extra = nc % (uint64_t)nranks;
    uint64_t r = (uint64_t)rank;
    uint64_t a = c0 + r * per + (r < extra ? r : extra);
    uint64_t b = a + per + (r < extra);
    uint64_t lo = a * ct > t0 ? a * ct : t0, hi = b * ct < t0 + nt ? b * ct : t0 + nt;
    if (hi > lo) {
        *s0 = (size_t)(lo - t0);
        *s1 = (size_t)(hi - t0);
    }
}
