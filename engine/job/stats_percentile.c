/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_percentile.c - percentiles in the stats job: every
 * value of a unit's cells is kept while the unit is read (the values the
 * accumulators see, fill values as NaN), laid out group by group and cell
 * by cell, and each cell's percentiles are computed from them once the
 * unit is read (engine/reduce/percentile.h: numpy's linear method).
 *
 * Why space-major only (stats.c makes the plan so): a percentile needs
 * every value of a cell's group at once, so a rank that owns whole tiles
 * over all steps needs nothing from the others, and the result cannot
 * depend on the number of ranks. The memory is bounded by the tile
 * memory: stats.c counts the kept values per cell when it cuts bands. */
#include "engine/job/stats_internal.h"

#include "common/floe_pool.h"

#include <stdlib.h>
#include <string.h>

floe_err stats_pctl_prepare(stats_job *j)
{
    if (!j->pctl.n)
        return NULL;
    size_t nsteps = j->g.count[0];
    j->pctl_first = calloc(j->ngroups + 1, sizeof *j->pctl_first);
    j->pctl_rank = calloc(nsteps ? nsteps : 1, sizeof *j->pctl_rank);
    if (!j->pctl_first || !j->pctl_rank)
        return FLOE_ERR(FLOE_ENOMEM, "percentile tables (%zu steps)", nsteps);
    /* steps of each group, then where each group's values start */
    for (size_t s = 0; s < nsteps; s++) {
        size_t g = j->group_of_step ? j->group_of_step[s] : 0;
        j->pctl_rank[s] = j->pctl_first[g + 1]++;
    }
    for (size_t g = 0; g < j->ngroups; g++)
        j->pctl_first[g + 1] += j->pctl_first[g];
    return NULL;
}

size_t stats_pctl_cell_bytes(const stats_job *j, size_t v)
{
    return j->pctl.n ? j->g.count[0] * (j->in64[v] ? sizeof(double) : sizeof(float)) : 0;
}

void stats_pctl_keep(const stats_job *j, size_t v, size_t cells, size_t b0, size_t b1,
                     const void *vals, void *keep)
{
    for (size_t s = b0; s < b1; s++) {
        size_t g = j->group_of_step ? j->group_of_step[s] : 0;
        size_t n = j->pctl_first[g + 1] - j->pctl_first[g];
        /* cell c of group g: n values from (first[g] * cells + c * n) */
        size_t at = j->pctl_first[g] * cells + j->pctl_rank[s];
        size_t from = (s - b0) * cells;
        if (j->in64[v]) {
            const double *src = (const double *)vals + from;
            double *dst = (double *)keep + at;
            for (size_t c = 0; c < cells; c++)
                dst[c * n] = src[c];
        } else {
            const float *src = (const float *)vals + from;
            float *dst = (float *)keep + at;
            for (size_t c = 0; c < cells; c++)
                dst[c * n] = src[c];
        }
    }
}

/* Cells per call of the pool: each sorts its cells' values on its own
 * scratch, so blocks of cells run concurrently with the same results. */
enum { PCTL_CELL_BLOCK = 1024 };

/* stats_pctl_results of one group, shared by the pool's calls. */
typedef struct pctl_cells {
    const stats_job *j;
    size_t v, g, cells;
    const void *keep;
    void *res;
} pctl_cells;

static floe_err pctl_cell_block(void *ctx, size_t blk, int worker)
{
    (void)worker;
    const pctl_cells *p = ctx;
    const stats_job *j = p->j;
    size_t v = p->v, g = p->g, cells = p->cells;
    const void *keep = p->keep;
    void *res = p->res;
    size_t n = j->pctl_first[g + 1] - j->pctl_first[g], e = stats_esize(j, v);
    double *x = malloc((n ? n : 1) * sizeof *x), out[FLOE_PCTL_MAX];
    if (!x)
        return FLOE_ERR(FLOE_ENOMEM, "percentiles of %zu steps", n);
    size_t base = j->pctl_first[g] * cells;
    double missing = stats_missing_f64(j, v);
    size_t c1 = (blk + 1) * PCTL_CELL_BLOCK < cells ? (blk + 1) * PCTL_CELL_BLOCK : cells;
    for (size_t c = blk * PCTL_CELL_BLOCK; c < c1; c++) {
        size_t m = j->in64[v] ? floe_pctl_valid_f64((const double *)keep + base + c * n, n, x)
                              : floe_pctl_valid_f32((const float *)keep + base + c * n, n, x);
        floe_pctl_compute(&j->pctl, x, m, out, missing);
        for (size_t k = 0; k < j->nstat; k++) {
            int q = stats_pctl_index(j->stat_list[k]);
            if (q < 0)
                continue;
            uint8_t *block = (uint8_t *)res + k * cells * e;
            /* float statistics: numpy's double rounded once */
            if (j->out64[v])
                ((double *)block)[c] = out[q];
            else
                ((float *)block)[c] = m ? (float)out[q] : stats_missing(j, v);
        }
    }
    free(x);
    return NULL;
}

floe_err stats_pctl_results(const stats_job *j, size_t v, const void *keep, size_t g,
                            size_t cells, void *res)
{
    pctl_cells p = {j, v, g, cells, keep, res};
    return floe_pool_for(floe_dataset_pool(j->ds), (cells + PCTL_CELL_BLOCK - 1) / PCTL_CELL_BLOCK,
                         pctl_cell_block, &p);
}
