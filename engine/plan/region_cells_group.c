/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_cells_group.c - the regions' cells as segments (runs
 * and explicit cells), and their grouping into tiles by counting
 * (region_cells_internal.h). */
#include "engine/plan/region_cells_internal.h"

#include <stdlib.h>
#include <string.h>

void rc_builder_free(rc_builder *b)
{
    free(b->seg);
    free(b->cell);
    b->seg = NULL, b->cell = NULL;
    b->nseg = b->segcap = b->ncell = b->cellcap = 0;
}

static rc_seg *new_seg(rc_builder *b, size_t region, size_t row, size_t col, size_t first)
{
    if (b->nseg == b->segcap) {
        size_t cap = b->segcap ? 2 * b->segcap : 1024;
        rc_seg *s = realloc(b->seg, cap * sizeof *s);
        if (!s)
            return NULL;
        b->seg = s, b->segcap = cap;
    }
    rc_seg *s = &b->seg[b->nseg++];
    *s = (rc_seg){region, row, col, 0, first};
    return s;
}

/* The segment a cell at (region, row, col) of this kind extends, or NULL. */
static rc_seg *open_seg(rc_builder *b, size_t region, size_t row, size_t col, int whole)
{
    if (!b->nseg)
        return NULL;
    rc_seg *s = &b->seg[b->nseg - 1];
    if (s->region != region || s->row != row || (s->first == RC_RUN) != whole ||
        s->col / b->chx != col / b->chx)
        return NULL;
    if (whole && s->col + s->n != col) /* a run is contiguous; explicit cells need not be */
        return NULL;
    return s;
}

int rc_add_cell(rc_builder *b, size_t region, size_t row, size_t col, double w, double f)
{
    int whole = f == 1;
    rc_seg *s = open_seg(b, region, row, col, whole);
    if (!s && !(s = new_seg(b, region, row, col, whole ? RC_RUN : b->ncell)))
        return 0;
    s->n++;
    if (whole)
        return 1;
    if (b->ncell == b->cellcap) {
        size_t cap = b->cellcap ? 2 * b->cellcap : 1024;
        rc_cell *c = realloc(b->cell, cap * sizeof *c);
        if (!c)
            return 0;
        b->cell = c, b->cellcap = cap;
    }
    b->cell[b->ncell++] = (rc_cell){col, w, f};
    return 1;
}

int rc_add_run(rc_builder *b, size_t region, size_t row, size_t c0, size_t c1)
{
    while (c0 < c1) {
        size_t end = (c0 / b->chx + 1) * b->chx; /* the chunk column's end */
        end = end < c1 ? end : c1;
        rc_seg *s = open_seg(b, region, row, c0, 1);
        if (!s && !(s = new_seg(b, region, row, c0, RC_RUN)))
            return 0;
        s->n += end - c0;
        c0 = end;
    }
    return 1;
}

/* Segment s's first and last column. */
static void seg_cols(const rc_builder *b, const rc_seg *s, size_t *lo, size_t *hi)
{
    if (s->first == RC_RUN)
        *lo = s->col, *hi = s->col + s->n - 1;
    else
        *lo = b->cell[s->first].col, *hi = b->cell[s->first + s->n - 1].col;
}

/* order[]: the segments stably sorted by (chunk row, chunk column), by a
 * counting sort on the rows, then one on the columns within each row. */
static floe_err sort_by_chunk(const rc_builder *b, size_t ncy, size_t ncx, uint64_t chy,
                              size_t *order)
{
    size_t n = b->nseg;
    size_t *count = calloc((ncy > ncx ? ncy : ncx) + 1, sizeof *count);
    size_t *byrow = malloc((n ? n : 1) * sizeof *byrow);
    if (!count || !byrow) {
        free(count);
        free(byrow);
        return FLOE_ERR(FLOE_ENOMEM, "region cells: %zu segments", n);
    }
    for (size_t k = 0; k < n; k++)
        count[b->seg[k].row / chy + 1]++;
    for (size_t y = 0; y < ncy; y++)
        count[y + 1] += count[y];
    for (size_t k = 0; k < n; k++) /* count[y]: the next place of chunk row y */
        byrow[count[b->seg[k].row / chy]++] = k;
    /* now count[y] is chunk row y's end; each chunk row [a, e) by columns */
    for (size_t a = 0; a < n;) {
        size_t y = b->seg[byrow[a]].row / chy, e = a, lo = SIZE_MAX, hi = 0;
        for (; e < n && b->seg[byrow[e]].row / chy == y; e++) {
            size_t x = b->seg[byrow[e]].col / b->chx;
            lo = x < lo ? x : lo, hi = x > hi ? x : hi;
        }
        memset(count, 0, (hi - lo + 2) * sizeof *count);
        for (size_t k = a; k < e; k++)
            count[b->seg[byrow[k]].col / b->chx - lo + 1]++;
        for (size_t x = 0; x < hi - lo; x++)
            count[x + 1] += count[x];
        for (size_t k = a; k < e; k++)
            order[a + count[b->seg[byrow[k]].col / b->chx - lo]++] = byrow[k];
        a = e;
    }
    free(count);
    free(byrow);
    return NULL;
}

floe_err rc_group(const rc_builder *b, size_t nlat, size_t nlon, uint64_t chy, uint64_t chx,
                  region_cells *rc)
{
    size_t n = b->nseg;
    size_t ncy = (size_t)((nlat + chy - 1) / chy), ncx = (size_t)((nlon + chx - 1) / chx);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return FLOE_ERR(FLOE_ENOMEM, "region cells: %zu segments", n);
    floe_err err = sort_by_chunk(b, ncy, ncx, chy, order);
    /* count tiles and pairs */
    size_t nt = 0, np = 0;
    for (size_t q = 0; !err && q < n; q++) {
        const rc_seg *s = &b->seg[order[q]], *prev = q ? &b->seg[order[q - 1]] : NULL;
        int newtile = !prev || s->row / chy != prev->row / chy || s->col / chx != prev->col / chx;
        nt += newtile;
        np += newtile || s->region != prev->region;
    }
    if (!err) {
        rc->tiles = calloc(nt ? nt : 1, sizeof *rc->tiles);
        rc->pair_first = calloc(nt + 1, sizeof *rc->pair_first);
        rc->pair_region = malloc((np ? np : 1) * sizeof *rc->pair_region);
        rc->seg_first = malloc((np + 1) * sizeof *rc->seg_first);
        rc->cell_first = malloc((np + 1) * sizeof *rc->cell_first);
        rc->segs = malloc((n ? n : 1) * sizeof *rc->segs);
        rc->cells = malloc((b->ncell ? b->ncell : 1) * sizeof *rc->cells);
        if (!rc->tiles || !rc->pair_first || !rc->pair_region || !rc->seg_first ||
            !rc->cell_first || !rc->segs || !rc->cells)
            err = FLOE_ERR(FLOE_ENOMEM, "region cells: %zu tiles, %zu segments", nt, n);
    }
    /* the tiles' boxes: every cell of every region in the chunk */
    size_t t = 0;
    for (size_t q = 0; !err && q < n; q++) {
        const rc_seg *s = &b->seg[order[q]], *prev = q ? &b->seg[order[q - 1]] : NULL;
        if (!prev || s->row / chy != prev->row / chy || s->col / chx != prev->col / chx) {
            t = prev ? t + 1 : 0;
            rc->tiles[t] = (series_tile){s->row / chy, s->col / chx, SIZE_MAX, 0, SIZE_MAX, 0};
        }
        series_tile *tl = &rc->tiles[t];
        size_t lo, hi;
        seg_cols(b, s, &lo, &hi);
        tl->r0 = s->row < tl->r0 ? s->row : tl->r0;
        tl->r1 = s->row + 1 > tl->r1 ? s->row + 1 : tl->r1;
        tl->c0 = lo < tl->c0 ? lo : tl->c0;
        tl->c1 = hi + 1 > tl->c1 ? hi + 1 : tl->c1;
    }
    /* pairs, segments with offsets in their tile's box, explicit cells */
    size_t p = 0, nc = 0;
    t = 0;
    for (size_t q = 0; !err && q < n; q++) {
        const rc_seg *s = &b->seg[order[q]], *prev = q ? &b->seg[order[q - 1]] : NULL;
        int newtile = !prev || s->row / chy != prev->row / chy || s->col / chx != prev->col / chx;
        if (newtile && prev)
            t++;
        if (newtile || s->region != prev->region) {
            rc->pair_region[p] = s->region;
            rc->seg_first[p] = q;
            rc->cell_first[p] = nc;
            rc->pair_first[t + 1] = ++p;
        }
        const series_tile *tl = &rc->tiles[t];
        size_t width = tl->c1 - tl->c0, lo, hi;
        seg_cols(b, s, &lo, &hi);
        if ((uint64_t)(s->row - tl->r0) * width + (hi - tl->c0) > UINT32_MAX) {
            err = FLOE_ERR(FLOE_EUNSUPPORTED, "region cells: a chunk of more than %u cells",
                           (unsigned)UINT32_MAX);
            break;
        }
        size_t row_at = (s->row - tl->r0) * width; /* + (column - c0): a cell's offset */
        if (s->first == RC_RUN) {
            rc->segs[q] = (floe_wseg){(uint32_t)s->n, (uint32_t)(row_at + (s->col - tl->c0)),
                                      (uint32_t)s->row, (uint32_t)s->col};
            continue;
        }
        rc->segs[q] = (floe_wseg){(uint32_t)s->n, 0, FLOE_WSEG_CELLS, 0};
        for (size_t k = 0; k < s->n; k++) {
            const rc_cell *c = &b->cell[s->first + k];
            rc->cells[nc++] = (floe_wcell){(uint32_t)(row_at + (c->col - tl->c0)), c->w, c->f};
        }
    }
    if (!err) {
        rc->ntiles = nt;
        rc->npairs = np;
        rc->seg_first[np] = n;
        rc->cell_first[np] = nc;
        for (size_t k = 0; k < nt; k++) /* every tile has a pair; kept monotonic anyway */
            if (rc->pair_first[k + 1] < rc->pair_first[k])
                rc->pair_first[k + 1] = rc->pair_first[k];
    }
    free(order);
    return err;
}
