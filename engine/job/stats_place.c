/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_place.c - see stats_place.h: the kept chunks and
 * offsets, the decision, the sizes that travel in the collection and the
 * placeholders rank 0 writes for them, and the placing itself. */
#include "engine/job/stats_place.h"
#include "engine/job/stats_internal.h"

#include "common/floe_file_place.h"
#include "common/floe_log.h"
#include "engine/mpi/place.h"
#include "engine/mpi/shared_fs.h"
#include "out/grid_output.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void stats_place_free(stats_place *p)
{
    free(p->addr);
    free(p->rank);
    free(p->lens);
    floe_buf_free(&p->held);
    p->addr = NULL;
    p->rank = NULL;
    p->lens = NULL;
    p->n = p->cap = p->nlens = p->lens_cap = 0;
}

floe_err stats_place_hold(stats_place *p, const floe_buf *enc, size_t n)
{
    if (p->nlens + n > p->lens_cap) {
        size_t cap = 2 * (p->nlens + n);
        size_t *lens = realloc(p->lens, cap * sizeof *lens);
        if (!lens)
            return FLOE_ERR(FLOE_ENOMEM, "the sizes of %zu output chunks", cap);
        p->lens = lens;
        p->lens_cap = cap;
    }
    for (size_t k = 0; k < n; k++) {
        FLOE_CHECK(floe_buf_append(&p->held, enc[k].data, enc[k].len),
                   " output chunks kept for placing (%zu bytes so far)", p->held.len);
        p->lens[p->nlens++] = enc[k].len;
    }
    return NULL;
}

floe_err stats_place_note(stats_place *p, int r, uint64_t addr)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        uint64_t *a = realloc(p->addr, cap * sizeof *a);
        if (a)
            p->addr = a;
        int *rk = a ? realloc(p->rank, cap * sizeof *rk) : NULL;
        if (!rk)
            return FLOE_ERR(FLOE_ENOMEM, "the offsets of %zu output chunks", cap);
        p->rank = rk;
        p->cap = cap;
    }
    p->addr[p->n] = addr;
    p->rank[p->n++] = r;
    return NULL;
}

/* Rank 0: the offsets grouped by rank (each rank's in order) and the
 * counts, owned by the caller. */
static floe_err by_rank(const stats_place *p, int nranks, uint64_t **out, size_t **counts)
{
    *out = malloc((p->n ? p->n : 1) * sizeof **out);
    *counts = calloc((size_t)nranks, sizeof **counts);
    size_t *at = calloc((size_t)nranks, sizeof *at);
    floe_err err = *out && *counts && at ? NULL
                                         : FLOE_ERR(FLOE_ENOMEM, "%zu chunk offsets", p->n);
    for (size_t k = 0; !err && k < p->n; k++)
        (*counts)[p->rank[k]]++;
    for (int r = 1; !err && r < nranks; r++)
        at[r] = at[r - 1] + (*counts)[r - 1];
    for (size_t k = 0; !err && k < p->n; k++)
        (*out)[at[p->rank[k]]++] = p->addr[k];
    free(at);
    return err;
}

floe_err stats_place_write(stats_place *p, const floe_mpi *mpi, const char *tmp,
                           const char *shown, floe_err err)
{
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        return err;
    /* rank 0's temporary, by name: the ranks share its file system (probed) */
    char path[PATH_MAX];
    int len = mpi->rank == 0 && tmp && strlen(tmp) < sizeof path ? (int)strlen(tmp) + 1 : 0;
    if (len)
        memcpy(path, tmp, (size_t)len);
    err = FLOE_CHECK_MPI(MPI_Bcast(&len, 1, MPI_INT, 0, mpi->comm), "the output's temporary");
    if (!err && len > 0)
        err = FLOE_CHECK_MPI(MPI_Bcast(path, len, MPI_CHAR, 0, mpi->comm),
                             "the output's temporary");
    if (!err && !len)
        err = FLOE_ERR(FLOE_EINTERNAL, "%s: no temporary to place the chunks in", shown);
    uint64_t *all = NULL;
    size_t *counts = NULL;
    if (!err && mpi->rank == 0)
        err = by_rank(p, mpi->size, &all, &counts);
    /* rank 0 places none of its own: it wrote them */
    size_t n = mpi->rank == 0 ? 0 : p->nlens;
    uint64_t *mine = malloc((n ? n : 1) * sizeof *mine);
    if (!err && !mine)
        err = FLOE_ERR(FLOE_ENOMEM, "the offsets of %zu output chunks", n);
    if (floe_mpi_agree(mpi->comm, &err)) { /* collective */
        free(all);
        free(counts);
        free(mine);
        return err;
    }
    err = floe_mpi_scatter_offsets(mpi, all, counts, n, mine); /* collective */
    if (!err && n)
        err = floe_file_place(path, shown, mine, p->lens, n, p->held.data);
    free(all);
    free(counts);
    free(mine);
    /* collective: when it returns, every rank's chunks are in the file (or
     * every rank holds the error), so rank 0 may read it whole (the Item's
     * checksum) */
    floe_mpi_agree(mpi->comm, &err);
    return err;
}

/* The chunks of a unit that are written: its written groups' statistics. */
static size_t unit_chunks(const stats_job *j)
{
    size_t n = 0;
    for (size_t g = 0; g < j->ngroups; g++)
        n += stats_group_written(j, g) ? j->nstat : 0;
    return n;
}

floe_err stats_place_send_sizes(stats_job *j, const floe_mpi *mpi, const floe_buf *enc)
{
    size_t n = unit_chunks(j), k = 0;
    uint64_t *sizes = malloc((n ? n : 1) * sizeof *sizes);
    if (!sizes)
        return FLOE_ERR(FLOE_ENOMEM, "the sizes of %zu chunks", n);
    for (size_t g = 0; g < j->ngroups; g++)
        for (size_t s = 0; stats_group_written(j, g) && s < j->nstat; s++)
            sizes[k++] = enc[g * j->nstat + s].len;
    floe_err err = floe_collect_send(mpi, sizes, n * sizeof *sizes);
    free(sizes);
    return err;
}

floe_err stats_place_recv_unit(stats_job *j, int r, cf_grid_output *out, const size_t *tindex,
                               size_t v, size_t i, int write)
{
    size_t n = unit_chunks(j), k = 0;
    uint64_t *sizes = malloc((n ? n : 1) * sizeof *sizes);
    floe_err err = sizes ? NULL : FLOE_ERR(FLOE_ENOMEM, "the sizes of %zu chunks", n);
    floe_err e = floe_collect_recv_exact(&j->collector, r, sizes, n * sizeof *sizes);
    if (e)
        e = floe_err_push(e, __FILE__, __LINE__, " chunk sizes of a tile from rank %d", r);
    if (!err)
        err = e;
    else
        floe_err_free(&e);
    const stats_tile *t = &j->plan.tiles[i];
    for (size_t g = 0; !err && write && g < j->ngroups; g++)
        for (size_t s = 0; !err && tindex[g] != SIZE_MAX && s < j->nstat; s++) {
            uint64_t addr = 0;
            err = cf_grid_output_put_raw_placeholder(out, v * j->nstat + s, tindex[g], t->y0,
                                                     t->x0, (size_t)sizes[k++], &addr);
            if (!err)
                err = stats_place_note(&j->place, r, addr);
        }
    free(sizes);
    return err;
}

/* The bytes of the output's values before compression. */
static uint64_t output_bytes(const stats_job *j)
{
    uint64_t groups = 0, per_cell = 0;
    for (size_t g = 0; g < j->ngroups; g++)
        groups += stats_group_written(j, g);
    for (size_t v = 0; v < j->g.nvars; v++)
        per_cell += j->nstat * stats_esize(j, v);
    return groups * per_cell * j->g.count[1] * j->g.count[2];
}

/* The bytes of `rank`'s tiles' output values before compression: what it
 * keeps when placing, bar a few bytes a chunk. */
static uint64_t rank_share(const stats_job *j, int rank)
{
    uint64_t groups = 0, per_cell = 0, cells = 0;
    for (size_t g = 0; g < j->ngroups; g++)
        groups += stats_group_written(j, g);
    for (size_t v = 0; v < j->g.nvars; v++)
        per_cell += j->nstat * stats_esize(j, v);
    for (size_t i = 0; i < j->plan.ntiles; i++) {
        const stats_tile *t = &j->plan.tiles[i];
        if (t->owner == rank)
            cells += (uint64_t)(t->y1 - t->y0) * (t->x1 - t->x0);
    }
    return groups * per_cell * cells;
}

static uint64_t node_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
}

floe_err stats_place_decide(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req)
{
    j->place.on = 0;
    if (mpi->size == 1 || !j->raw_chunks || j->plan.time_split || j->ckpt.mode != JOB_CKPT_NONE)
        return NULL;
    int want = !req->job.gather_output && output_bytes(j) >= STATS_PLACE_MIN_BYTES;
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Bcast(&want, 1, MPI_INT, 0, mpi->comm),
                              "whether the ranks write their output chunks"));
    if (!want)
        return NULL;
    /* every rank's share must fit in its memory (the largest decides) */
    uint64_t share = rank_share(j, mpi->rank), largest = 0;
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Allreduce(&share, &largest, 1, MPI_UINT64_T, MPI_MAX,
                                            mpi->comm), "the ranks' shares of the output"));
    if (largest > node_memory() / STATS_PLACE_MEMORY_DIVISOR) {
        FLOE_INFO0("stats: a rank's share of the output (%llu bytes) is over a %dth of the "
                   "memory: rank 0 writes every chunk", (unsigned long long)largest,
                   STATS_PLACE_MEMORY_DIVISOR);
        return NULL;
    }
    int shared = 0;
    FLOE_CHECK(floe_mpi_shared_fs(mpi, req->job.output, &shared)); /* collective */
    if (!shared)
        FLOE_INFO0("stats: the ranks do not all see %s's folder: rank 0 writes every chunk",
                   req->job.output);
    /* the rank's share of the output, compressed: its values' bytes, plus
     * what deflate adds to an incompressible block (5 bytes a 64 KiB) and a
     * chunk's header, with room to spare */
    floe_buf_init(&j->place.held, (size_t)(share + share / 64 + ((uint64_t)1 << 20)));
    j->place.on = shared;
    return NULL;
}

