/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_checkpoint.c - checkpoints, pieces and merge of the
 * stats job (engine/job/checkpoint.h says what the options do).
 *
 * With a store, a unit is steps [a, b) of one tile of one variable, and
 * what is saved is its partial trees (one per group, engine/reduce/accum.h
 * serialized), as blob "u-V-Y0-X0-Y1-X1-A-B": keyed by content (the tile's
 * rows and columns, the steps), not by rank. Because the block tree gives
 * the same bits for any split of the steps along block boundaries and any
 * grouping of the absorbs, rank 0 can absorb the units of a tile in time
 * order, whoever computed them and in how many parts, and get the bits an
 * uninterrupted run gets:
 *
 *   - phase 2: every rank computes its units (its tiles, or its time
 *     share of every tile; a piece: its share, by time or by variable,
 *     of every tile) without
 *     communication, first chaining the units already saved from the
 *     start of its range, and saving each range as it completes, and
 *     part-way (at a block boundary) every ckpt_interval seconds or when
 *     a stop is asked for;
 *   - phase 3 (not for a piece): rank 0 reads every tile's units back,
 *     absorbs them and writes the file as the time-split path does.
 *
 * So a resume with another rank count works: the new ranks' ranges chain
 * whatever units lie inside them and compute the rest. Percentiles keep
 * every value, not trees: refused with a store.
 */
#include "engine/job/stats_internal.h"

#include "common/floe_log.h"
#include "out/checkpoint_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds between a rank's part-way saves of a long unit (FLOE_CHECKPOINT_SECONDS
 * overrides): a kill -9 loses at most this much of each rank's work, and
 * a save costs about one tile's accumulators, so once a minute keeps it
 * far below the reading. */
#define CKPT_INTERVAL_S 60.0

/* A saved unit of one tile: steps [a, b). */
typedef struct unit_span {
    size_t a, b;
    char *name; /* borrowed from the listing */
} unit_span;

static void tile_prefix(const stats_job *j, size_t v, size_t i, char *buf, size_t size)
{
    const stats_tile *t = &j->plan.tiles[i];
    snprintf(buf, size, "u-%zu-%zu-%zu-%zu-%zu-", v, t->y0, t->x0, t->y1, t->x1);
}

/* The saved units of tile i of variable v, sorted by start: *spans (owned)
 * pointing into *names (owned, floe_ckpt_names_free). */
static floe_err tile_units(const stats_job *j, size_t v, size_t i, char ***names, size_t *nnames,
                           unit_span **spans, size_t *n)
{
    char prefix[128];
    tile_prefix(j, v, i, prefix, sizeof prefix);
    *spans = NULL;
    *n = 0;
    FLOE_CHECK(floe_ckpt_list(j->ckpt.dir, prefix, names, nnames));
    if (*nnames && !(*spans = malloc(*nnames * sizeof **spans))) {
        floe_ckpt_names_free(names, *nnames);
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint %s", j->ckpt.dir);
    }
    size_t np = strlen(prefix);
    for (size_t k = 0; k < *nnames; k++) {
        size_t a, b;
        char tail;
        if (sscanf((*names)[k] + np, "%zu-%zu%c", &a, &b, &tail) == 2 && a < b &&
            b <= j->g.count[0])
            (*spans)[(*n)++] = (unit_span){a, b, (*names)[k]};
    }
    for (size_t k = 1; k < *n; k++) /* insertion sort by (a, b): a few units */
        for (size_t m = k; m > 0 && ((*spans)[m].a < (*spans)[m - 1].a ||
                                     ((*spans)[m].a == (*spans)[m - 1].a &&
                                      (*spans)[m].b < (*spans)[m - 1].b));
             m--) {
            unit_span x = (*spans)[m];
            (*spans)[m] = (*spans)[m - 1];
            (*spans)[m - 1] = x;
        }
    return NULL;
}

/* The longest chain of units from `from` without passing `to`: pick[0..*npick)
 * indexes spans in time order; returns the step it reaches (from: none). */
static size_t chain(const unit_span *s, size_t n, size_t from, size_t to, size_t *pick,
                    size_t *npick)
{
    /* prev[k]: the unit before k in a chain from `from` (n: k starts it;
     * n + 1: k is not reachable). Sorted by start, so every unit ending
     * where k starts is decided before k. */
    size_t *prev = malloc((n ? n : 1) * sizeof *prev);
    *npick = 0;
    if (!prev)
        return from; /* recomputing is always right */
    size_t best = n;
    for (size_t k = 0; k < n; k++) {
        prev[k] = n + 1;
        if (s[k].a < from || s[k].b > to)
            continue;
        if (s[k].a == from)
            prev[k] = n;
        for (size_t m = 0; m < k && prev[k] == n + 1; m++)
            if (prev[m] != n + 1 && s[m].b == s[k].a)
                prev[k] = m;
        if (prev[k] != n + 1 && (best == n || s[k].b > s[best].b))
            best = k;
    }
    if (best == n) {
        free(prev);
        return from;
    }
    size_t len = 0;
    for (size_t k = best; k != n; k = prev[k])
        len++;
    *npick = len;
    for (size_t k = best; k != n; k = prev[k])
        pick[--len] = k;
    size_t reached = s[best].b;
    free(prev);
    return reached;
}

/* Blob layout: uint64 ngroups, then per group uint64 size and its tree. */
static floe_err save_unit(stats_job *j, size_t v, size_t i, size_t a, size_t b,
                          floe_accum_tree *trees)
{
    size_t total = 8, *sizes = calloc(j->ngroups, sizeof *sizes);
    if (!sizes)
        return FLOE_ERR(FLOE_ENOMEM, "a checkpoint unit");
    floe_err err = NULL;
    for (size_t g = 0; g < j->ngroups && !err; g++) {
        err = floe_accum_tree_serial_size(&trees[g], &sizes[g]);
        total += 8 + sizes[g];
    }
    uint8_t *buf = err ? NULL : malloc(total);
    if (!err && !buf)
        err = FLOE_ERR(FLOE_ENOMEM, "a checkpoint unit (%zu bytes)", total);
    size_t at = 0;
    if (!err) {
        uint64_t ng = j->ngroups;
        memcpy(buf, &ng, 8);
        at = 8;
    }
    for (size_t g = 0; g < j->ngroups && !err; g++) {
        uint64_t sz = sizes[g];
        memcpy(buf + at, &sz, 8);
        err = floe_accum_tree_serialize(&trees[g], buf + at + 8, sizes[g]);
        at += 8 + sizes[g];
    }
    if (!err) {
        char name[FLOE_CKPT_NAME_MAX];
        tile_prefix(j, v, i, name, sizeof name);
        size_t len = strlen(name);
        snprintf(name + len, sizeof name - len, "%zu-%zu", a, b);
        err = floe_ckpt_put(j->ckpt.dir, name, buf, total);
    }
    free(buf);
    free(sizes);
    return err;
}

/* Absorb unit `name` into trees (one per group). */
static floe_err absorb_unit(stats_job *j, const char *name, floe_accum_tree *trees)
{
    void *data;
    size_t n;
    FLOE_CHECK(floe_ckpt_get(j->ckpt.dir, name, &data, &n));
    const uint8_t *p = data;
    uint64_t ng = 0;
    floe_err err = NULL;
    if (n >= 8)
        memcpy(&ng, p, 8);
    if (n < 8 || ng != j->ngroups)
        err = FLOE_ERR(FLOE_EFORMAT, "checkpoint unit %s/%s: %llu groups, not %zu", j->ckpt.dir,
                       name, (unsigned long long)ng, j->ngroups);
    size_t at = 8;
    for (size_t g = 0; g < j->ngroups && !err; g++) {
        uint64_t sz = 0;
        if (at + 8 <= n)
            memcpy(&sz, p + at, 8);
        if (at + 8 > n || sz > n - at - 8) {
            err = FLOE_ERR(FLOE_EFORMAT, "checkpoint unit %s/%s is short", j->ckpt.dir, name);
            break;
        }
        err = floe_accum_tree_absorb(&trees[g], p + at + 8, (size_t)sz);
        at += 8 + (size_t)sz;
    }
    free(data);
    if (err)
        err = floe_err_push(err, __FILE__, __LINE__, " checkpoint unit %s/%s", j->ckpt.dir, name);
    return err;
}

static floe_accum_tree *trees_new(stats_job *j, size_t v, size_t i, size_t first, floe_err *err)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    floe_accum_tree *trees = calloc(j->ngroups, sizeof *trees);
    *err = trees ? NULL : FLOE_ERR(FLOE_ENOMEM, "%zu accumulator trees", j->ngroups);
    for (size_t g = 0; g < j->ngroups && !*err; g++)
        *err = floe_accum_tree_init(&trees[g], cells, stats_accum_mask(j, v),
                                    j->plan.block_steps, first);
    return trees;
}

static void trees_free(const stats_job *j, floe_accum_tree **trees)
{
    for (size_t g = 0; *trees && g < j->ngroups; g++)
        floe_accum_tree_free(&(*trees)[g]);
    free(*trees);
    *trees = NULL;
}

floe_err stats_ckpt_open(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req)
{
    floe_err err = NULL;
    if (job_ckpt_mode_of(&req->job) != JOB_CKPT_NONE && j->pctl.n)
        err = FLOE_ERR(FLOE_EUNSUPPORTED, "percentiles keep every value of a tile, not partial "
                       "statistics: --checkpoint, --resume and --piece do not take them");
    char *text = NULL;
    if (!err && job_ckpt_mode_of(&req->job) != JOB_CKPT_NONE) {
        const char *extra[] = {"stat", req->stat, "by", req->climatology ? req->by : NULL,
                               "resample", req->resample, NULL};
        text = job_ckpt_request_text(req->climatology ? "climatology" : "stats", &req->job,
                                     extra);
    }
    /* the same outcome on every rank: no collective is skipped */
    if (!err)
        err = job_ckpt_open(mpi, &req->job, req->climatology ? "climatology" : "stats", text,
                            floe_dataset_provenance(j->ds)->snapshot_id, &j->ckpt);
    free(text);
    const char *e = getenv("FLOE_CHECKPOINT_SECONDS");
    char *end = NULL;
    double s = e ? strtod(e, &end) : 0;
    j->ckpt_interval = e && end != e && s >= 0 ? s : CKPT_INTERVAL_S;
    j->ckpt_saved_at = job_now();
    return err;
}

int stats_ckpt_due(const stats_job *j)
{
    return job_ckpt_stop(&j->ckpt) || job_now() - j->ckpt_saved_at >= j->ckpt_interval;
}

/* Steps [s0, s1) of tile i of variable v: chain what is saved, compute
 * and save the rest. */
static floe_err compute_range(stats_job *j, size_t v, size_t i, size_t s0, size_t s1, void *vals)
{
    char **names = NULL;
    size_t nnames = 0, n = 0, npick = 0, cur = s0;
    unit_span *spans = NULL;
    /* read ahead into the tiles this rank reads next, as the dry run
     * plans it (dry_run_stats.c): a piece's tiles are dealt in turn */
    stats_next next = {j->ckpt.mode == JOB_CKPT_PIECE ? STATS_NEXT_NONE
                       : j->plan.time_split           ? STATS_NEXT_ALL
                                                      : j->plan.tiles[i].owner,
                       s0, s1};
    floe_err err = tile_units(j, v, i, &names, &nnames, &spans, &n);
    size_t *pick = err ? NULL : malloc((n ? n : 1) * sizeof *pick);
    if (!err && !pick)
        err = FLOE_ERR(FLOE_ENOMEM, "checkpoint units");
    if (!err)
        cur = chain(spans, n, s0, s1, pick, &npick);
    /* the chain must read: a damaged unit is computed again */
    for (size_t k = 0; !err && k < npick; k++) {
        void *data;
        size_t len;
        floe_err e = floe_ckpt_get(j->ckpt.dir, spans[pick[k]].name, &data, &len);
        free(data);
        if (!e)
            continue;
        char line[512];
        FLOE_WARN("%s: computing it again", floe_err_line(e, line, sizeof line));
        floe_err_free(&e);
        err = floe_ckpt_drop(j->ckpt.dir, spans[pick[k]].name);
        cur = k ? spans[pick[k - 1]].b : s0;
        break;
    }
    if (!err && cur > s0) { /* not read again: off the progress' total */
        uint64_t ct = j->g.vars[v]->chunk_shape[0], t0 = j->g.start[0];
        job_progress_skip(&j->progress, (t0 + cur - 1) / ct - (t0 + s0) / ct + 1);
    }
    if (!err && cur > s0)
        FLOE_DEBUG("tile %zu of %s: steps %zu..%zu from the checkpoint", i, j->g.vars[v]->name,
                   s0, cur);
    while (!err && cur < s1) {
        if (job_ckpt_stop(&j->ckpt))
            break;
        floe_accum_tree *trees = trees_new(j, v, i, cur, &err);
        size_t end = cur;
        if (!err)
            err = stats_accumulate_part(j, v, i, cur, s1, &next, trees, vals, &end);
        if (!err)
            err = save_unit(j, v, i, cur, end, trees);
        trees_free(j, &trees);
        j->ckpt_saved_at = job_now();
        cur = end;
    }
    free(pick);
    free(spans);
    floe_ckpt_names_free(&names, nnames);
    return err;
}

void stats_ckpt_piece_share(const stats_job *j, size_t *s0, size_t *s1, size_t *v0, size_t *v1)
{
    *s0 = 0;
    *s1 = j->g.count[0];
    job_ckpt_piece_vars(&j->ckpt, j->g.nvars, v0, v1);
    if (!job_ckpt_piece_by_time(&j->ckpt))
        return;
    size_t nb = j->plan.nblocks, p = (size_t)j->ckpt.piece - 1, np = (size_t)j->ckpt.pieces;
    size_t a = nb * p / np * j->plan.block_steps, b = nb * (p + 1) / np * j->plan.block_steps;
    *s1 = b < *s1 ? b : *s1;
    *s0 = a < *s1 ? a : *s1;
}

floe_err stats_ckpt_compute(stats_job *j, const floe_mpi *mpi)
{
    if (j->ckpt.mode == JOB_CKPT_MERGE)
        return NULL; /* every unit is in the pieces */
    const floe_array *a0 = j->g.vars[0];
    size_t tcells = (size_t)(a0->chunk_shape[1] * a0->chunk_shape[2]);
    void *vals = malloc(BATCH_STEPS * tcells * stats_esize_max(j, 0));
    if (!vals)
        return FLOE_ERR(FLOE_ENOMEM, "a chunk of %s", a0->name);
    floe_err err = NULL;
    size_t s0 = 0, s1 = j->g.count[0], v0 = 0, v1 = j->g.nvars, k = 0;
    if (j->ckpt.mode == JOB_CKPT_PIECE) /* its ranks take its units in turn */
        stats_ckpt_piece_share(j, &s0, &s1, &v0, &v1);
    else if (j->plan.time_split)
        stats_plan_rank_steps(&j->plan, mpi->rank, &s0, &s1);
    for (size_t v = v0; v < v1 && !err; v++)
        for (size_t i = 0; i < j->plan.ntiles && !err; i++, k++) {
            int mine = j->ckpt.mode == JOB_CKPT_PIECE ? (int)(k % (size_t)mpi->size) == mpi->rank
                       : j->plan.time_split           ? 1
                                                      : j->plan.tiles[i].owner == mpi->rank;
            if (!mine || s0 >= s1)
                continue;
            err = compute_range(j, v, i, s0, s1, vals);
            if (!err && job_ckpt_stop(&j->ckpt))
                err = job_ckpt_interrupted(&j->ckpt);
        }
    free(vals);
    return err;
}

floe_err stats_ckpt_results(stats_job *j, size_t v, size_t i, void **res)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0), nsteps = j->g.count[0];
    char **names = NULL;
    size_t nnames = 0, n = 0, npick = 0;
    unit_span *spans = NULL;
    floe_err err = tile_units(j, v, i, &names, &nnames, &spans, &n);
    size_t *pick = err ? NULL : malloc((n ? n : 1) * sizeof *pick);
    if (!err && !pick)
        err = FLOE_ERR(FLOE_ENOMEM, "checkpoint units");
    if (!err && nsteps && chain(spans, n, 0, nsteps, pick, &npick) != nsteps)
        err = FLOE_ERR(FLOE_EINTERNAL, "checkpoint %s: the units of tile %zu of %s do not "
                       "cover its %zu steps", j->ckpt.dir, i, j->g.vars[v]->name, nsteps);
    floe_accum_tree *trees = err ? NULL : trees_new(j, v, i, 0, &err);
    for (size_t k = 0; !err && k < npick; k++)
        err = absorb_unit(j, spans[pick[k]].name, trees);
    for (size_t g = 0; g < j->ngroups && !err; g++)
        err = stats_results_of(j, v, &trees[g], cells, &res[g]);
    trees_free(j, &trees);
    free(pick);
    free(spans);
    floe_ckpt_names_free(&names, nnames);
    return err;
}
