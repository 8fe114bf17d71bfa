/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_write.c - phase 3 of the stats job: the other ranks
 * send their results (space-major: unit by unit as they compute them;
 * time-split: their partial trees), rank 0 receives them through the
 * collection protocol (engine/mpi/collect.h) and writes the file, then
 * the derived STAC Item. Space-major output may instead be placed: the
 * ranks send only their chunks' sizes and write the chunks into the file
 * themselves (engine/job/stats_place.h). */
#include "engine/job/stats_internal.h"

#include "out/grid_output.h"
#include "out/item/item.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Phase 3 on rank 0: the statistics of group g of tile i of variable v
 * (as stats_results_of gives them, owned by the caller). */
static floe_err gather_tile(stats_job *j, const floe_mpi *mpi, size_t v, size_t i, size_t g,
                           void **out)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
    size_t slot = stats_slot_of(j, v, i, g);
    floe_accum_tree root;
    memset(&root, 0, sizeof root);
    floe_err err = floe_accum_tree_init(&root, cells, stats_accum_mask(j, v), j->plan.block_steps, 0);
    if (!err)
        err = floe_accum_tree_absorb(&root, j->partials[slot], j->partial_size[slot]);
    for (int r = 1; r < mpi->size; r++) {
        /* receive even after an error: the sender must not be left waiting */
        int ok = 0;
        floe_err e = floe_collect_recv_status(&j->collector, r, &ok);
        if (!e && ok)
            e = floe_collect_recv_buf(&j->collector, r, &j->partial_in);
        if (!e && !ok)
            e = FLOE_ERR(FLOE_EINTERNAL, "rank %d failed after the agreement", r);
        if (e)
            e = floe_err_push(e, __FILE__, __LINE__, " partial statistics from rank %d", r);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
        if (!err)
            err = floe_accum_tree_absorb(&root, j->partial_in.data, j->partial_in.len);
    }
    if (!err)
        err = stats_results_of(j, v, &root, cells, out);
    floe_accum_tree_free(&root);
    return err;
}

/* Phase 3 on the other ranks: send, in the order rank 0 receives.
 * Space-major: unit by unit as computed, each after a status message (a
 * rank that fails says so and sends nothing more), so a rank holds one
 * unit's results at a time. Time-split: the partial trees of phase 2. */
floe_err stats_send_share(stats_job *j, const floe_mpi *mpi)
{
    if (j->plan.time_split) {
        for (size_t v = 0; v < j->g.nvars; v++)
            for (size_t i = 0; i < j->plan.ntiles; i++)
                for (size_t g = 0; g < j->ngroups; g++) {
                    size_t slot = stats_slot_of(j, v, i, g);
                    FLOE_CHECK(floe_collect_send_status(mpi, 0));
                    FLOE_CHECK(floe_collect_send(mpi, j->partials[slot], j->partial_size[slot]));
                }
        return NULL;
    }
    const floe_array *v0 = j->g.vars[0];
    size_t tcells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    void *vals = malloc(BATCH_STEPS * tcells * stats_esize_max(j, 0));
    void **res = calloc(j->ngroups, sizeof *res);
    floe_buf *enc = j->raw_chunks ? stats_encode_bufs(j) : NULL;
    floe_err err = vals && res && (enc || !j->raw_chunks)
                       ? NULL : FLOE_ERR(FLOE_ENOMEM, "a tile of %s", v0->name);
    size_t n = stats_unit_count(j, mpi->rank);
    for (size_t k = 0; k < n; k++) {
        size_t v = 0, i = 0;
        stats_unit_at(j, mpi->rank, k, &v, &i);
        if (!err)
            err = stats_compute_unit(j, v, i, vals, res);
        if (!err && enc)
            err = stats_encode_unit(j, v, i, res, enc);
        for (size_t g = 0; !err && j->place.on && g < j->ngroups; g++)
            if (stats_group_written(j, g)) /* kept until the file is finished */
                err = stats_place_hold(&j->place, &enc[g * j->nstat], j->nstat);
        floe_err e = floe_collect_send_status(mpi, err != NULL);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
        int status = err != NULL;
        const stats_tile *t = &j->plan.tiles[i];
        size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
        if (!err && !status && j->place.on)
            err = stats_place_send_sizes(j, mpi, enc);
        for (size_t g = 0; g < j->ngroups && res; g++) {
            for (size_t s = 0; !err && enc && !j->place.on && stats_group_written(j, g) &&
                               s < j->nstat; s++) {
                const floe_buf *b = &enc[g * j->nstat + s];
                err = floe_collect_send(mpi, b->data, b->len);
            }
            if (!err && !status && !enc)
                err = floe_collect_send(mpi, res[g], j->nstat * cells * stats_esize(j, v));
            free(res[g]);
            res[g] = NULL;
        }
        if (status)
            break; /* rank 0 expects nothing more from this rank */
    }
    free(vals);
    free(res);
    stats_encode_bufs_free(j, &enc);
    return err;
}

/* CF cell_methods of one statistic (CF 7.3, Appendix E), over the range
 * or as a climatology (7.4, whose "within years ... over years" form a
 * climatological time axis requires): NULL for a count, which is no CF
 * method (the variable's long_name says what it counts). Over years,
 * minimum, maximum and sum of every value of the cell are those of the
 * per-year ones; the mean is the mean of the per-year means where the
 * years hold equally many values; the standard deviation is pooled: one
 * over every value of the cell, no per-year one taken, so its values are
 * points within years. */
static const char *cell_method(const char *stat, int climatology, char *buf, size_t size)
{
    if (!strcmp(stat, "count"))
        return NULL;
    const char *m = !strcmp(stat, "std") ? "standard_deviation"
                    : !strcmp(stat, "min") ? "minimum"
                    : !strcmp(stat, "max") ? "maximum" : stat;
    if (!climatology)
        snprintf(buf, size, "time: %s", m);
    else if (!strcmp(stat, "std"))
        snprintf(buf, size, "time: point within years time: %s over years (pooled: one standard "
                 "deviation of every value of the cell)", m);
    else
        snprintf(buf, size, "time: %s within years time: %s over years", m, m);
    return buf;
}

/* A percentile's long_name (CF has no cell method for percentiles, and
 * CDO's timpctl writes none: the name says it, and the source's
 * standard_name is not carried over, so that no reader takes the values
 * for instantaneous ones). */
static void pctl_long_name(const stats_job *j, size_t q, size_t v, const floe_stats_request *req,
                           char *buf, size_t size)
{
    char ord[FLOE_PCTL_NAME_SIZE + 4];
    floe_pctl_ordinal(&j->pctl, q, ord, sizeof ord);
    const char *by = req->by ? req->by : "";
    snprintf(buf, size, "%s percentile of %s%s over %s (linear interpolation, as numpy.percentile)",
             ord, j->g.vars[v]->name, j->anom.path ? " anomaly" : "",
             req->resample ? (!strcmp(req->resample, "month")    ? "the steps of each month"
                              : !strcmp(req->resample, "season") ? "the steps of each season"
                                                                 : "the steps of each year")
             : !req->climatology        ? "time"
             : !strcmp(by, "month")     ? "the steps of each month of the year"
             : !strcmp(by, "season")    ? "the steps of each season of the year"
             : !strcmp(by, "dayofyear") ? "the steps of each day of the year"
                                        : "the steps of each group");
}

/* The title's words for --resample month|season|year. */
static const char *resample_title(const char *by)
{
    return !strcmp(by, "month") ? "Monthly statistics" : !strcmp(by, "season")
                                                             ? "Seasonal statistics"
                                                             : "Yearly statistics";
}

/* The file's title: what was computed, from what. */
static void stats_title(const stats_job *j, const floe_stats_request *req, char *buf,
                        size_t size)
{
    const floe_provenance *p = floe_dataset_provenance(j->ds);
    const char *by = req->by ? req->by : "";
    size_t n = (size_t)snprintf(buf, size, "%s (", req->resample ? resample_title(req->resample)
                                                   : !req->climatology ? "Statistics"
                                                   : !strcmp(by, "month")  ? "Monthly climatology"
                                                   : !strcmp(by, "season") ? "Seasonal climatology"
                                                   : !strcmp(by, "dayofyear")
                                                       ? "Day-of-year climatology"
                                                       : "Climatology");
    for (size_t k = 0; k < j->nstat && n < size; k++) {
        int q = stats_pctl_index(j->stat_list[k]);
        n += (size_t)snprintf(buf + n, size - n, "%s%s", k ? ", " : "",
                              q >= 0 ? j->pctl.name[q] : floe_stat_name(j->stat_list[k]));
    }
    if (n < size)
        n += (size_t)snprintf(buf + n, size - n, ")%s of ",
                              req->climatology || req->resample ? "" : " over time");
    for (size_t v = 0; v < j->g.nvars && n < size; v++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", v ? ", " : "", j->g.vars[v]->name);
    if (n < size)
        snprintf(buf + n, size - n, " from %s, computed by floe",
                 p->collection_id ? p->collection_id : p->repository);
}

/* Write group g of tile i of variable v (as stats_results_of gives them). */
static floe_err put_unit(stats_job *j, cf_grid_output *out, const size_t *tindex, size_t v, size_t i,
                         size_t g, const void *r)
{
    const stats_tile *t = &j->plan.tiles[i];
    size_t h = t->y1 - t->y0, w = t->x1 - t->x0;
    for (size_t k = 0; tindex[g] != SIZE_MAX && k < j->nstat; k++)
        FLOE_CHECK(cf_grid_output_put_region(out, v * j->nstat + k, tindex[g], t->y0, h, t->x0,
                                             w, (const uint8_t *)r + k * h * w * stats_esize(j, v)));
    return NULL;
}

/* The same from encoded chunks (raw-chunk output). */
static floe_err put_unit_chunks(stats_job *j, cf_grid_output *out, const size_t *tindex, size_t v,
                                size_t i, size_t g, const floe_buf *enc)
{
    const stats_tile *t = &j->plan.tiles[i];
    for (size_t k = 0; tindex[g] != SIZE_MAX && k < j->nstat; k++) {
        const floe_buf *b = &enc[g * j->nstat + k];
        FLOE_CHECK(cf_grid_output_put_raw_chunk(out, v * j->nstat + k, tindex[g], t->y0, t->x0,
                                                b->data, b->len));
    }
    return NULL;
}

/* Rank 0: receive the rest of a unit from rank r (its status was 0),
 * all of it even after a failure here, so the sender is never left
 * waiting; the first failure is returned. As encoded chunks: */
static floe_err recv_unit_chunks(stats_job *j, int r, floe_buf *enc)
{
    floe_err err = NULL;
    /* enc NULL: rank 0 could not allocate its buffers, and holds that
     * error; the sender still sends its chunks, which a buffer that holds
     * nothing receives and drops, so both sides stay in step. */
    floe_buf none;
    floe_buf_init(&none, 0);
    for (size_t g = 0; g < j->ngroups; g++)
        for (size_t s = 0; stats_group_written(j, g) && s < j->nstat; s++) {
            /* a chunk over the buffer's cap is received and dropped */
            floe_buf *b = enc ? &enc[g * j->nstat + s] : &none;
            floe_err e = floe_collect_recv_buf(&j->collector, r, b);
            if (e && !err)
                err = floe_err_push(e, __FILE__, __LINE__, " chunks of a tile from rank %d", r);
            else
                floe_err_free(&e);
        }
    floe_buf_free(&none);
    return err;
}

/* ... or as statistics of variable v (stats_results_of's form) into res. */
static floe_err recv_unit_values(stats_job *j, int r, size_t v, size_t cells, void **res)
{
    floe_err err = NULL;
    size_t n = j->nstat * cells * stats_esize(j, v);
    for (size_t g = 0; g < j->ngroups; g++) {
        void *p = malloc(n);
        if (!p && !err)
            err = FLOE_ERR(FLOE_ENOMEM, "statistics of a tile from rank %d", r);
        /* without room for them: received and dropped */
        floe_err e = floe_collect_recv_exact(&j->collector, r, p, n);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
        if (res) {
            free(res[g]);
            res[g] = p;
        } else {
            free(p);
        }
    }
    return err;
}

/* Space-major phase 3 on rank 0: the units (a tile of a variable, all
 * groups) in the fixed order (stats_write_order), rank 0 computing its
 * own and receiving the others' from their owners, who compute theirs in
 * the same order meanwhile (tiles are dealt in turn: stats_plan.h). Memory per rank: one
 * unit's accumulators and results, whatever the number of tiles it owns.
 * A rank that failed is not waited for again; after its own failure (or
 * with `failed`: before it started) rank 0 still receives, and drops, what
 * the others send. */
static floe_err write_space_major(stats_job *j, cf_grid_output *out, const size_t *tindex,
                                  int failed)
{
    const floe_array *v0 = j->g.vars[0];
    size_t tcells = (size_t)(v0->chunk_shape[1] * v0->chunk_shape[2]);
    void *vals = malloc(BATCH_STEPS * tcells * stats_esize_max(j, 0));
    void **res = calloc(j->ngroups, sizeof *res);
    floe_buf *enc = j->raw_chunks ? stats_encode_bufs(j) : NULL;
    floe_err err = vals && res && (enc || !j->raw_chunks)
                       ? NULL : FLOE_ERR(FLOE_ENOMEM, "a tile of %s", v0->name);
    if (!err && !failed && j->raw_chunks)
        err = cf_grid_output_begin_raw_chunks(out);
    for (size_t k = 0; k < j->g.nvars * j->plan.ntiles; k++) {
        size_t v = 0, i = 0;
        stats_write_order(j, k, &v, &i);
        const stats_tile *t = &j->plan.tiles[i];
        int r = t->owner, placed = 0;
        if (floe_collector_failed(&j->collector, r))
            continue;
        size_t cells = (t->y1 - t->y0) * (t->x1 - t->x0);
        if (r == 0) {
            if (!err && !failed)
                err = stats_compute_unit(j, v, i, vals, res);
            if (!err && !failed && enc)
                err = stats_encode_unit(j, v, i, res, enc);
        } else {
            int ok = 0;
            floe_err e = floe_collect_recv_status(&j->collector, r, &ok);
            if (!e && !ok)
                continue; /* it sends nothing more; its error comes in the agreement */
            if (!e && j->place.on) {
                e = stats_place_recv_unit(j, r, out, tindex, v, i, !err && !failed);
                placed = 1;
            } else if (!e) {
                e = j->raw_chunks ? recv_unit_chunks(j, r, enc)
                                  : recv_unit_values(j, r, v, cells, res);
            }
            if (!err)
                err = e;
            else
                floe_err_free(&e);
        }
        for (size_t g = 0; g < j->ngroups && res; g++) {
            if (placed)
                ; /* its owner writes the chunks (stats_place.h) */
            else if (!err && !failed && enc)
                err = put_unit_chunks(j, out, tindex, v, i, g, enc);
            else if (!err && !failed && res[g])
                err = put_unit(j, out, tindex, v, i, g, res[g]);
            free(res[g]);
            res[g] = NULL;
        }
    }
    free(vals);
    free(res);
    stats_encode_bufs_free(j, &enc);
    return err;
}

/* Write unit (v, i)'s groups (res[g] as stats_results_of gives them;
 * as raw chunks encoded here when enc is given, else as regions) unless
 * err is set, and free them; the first failure is returned. */
static floe_err put_unit_groups(stats_job *j, cf_grid_output *out, const size_t *tindex,
                                size_t v, size_t i, void **res, floe_buf *enc, floe_err err)
{
    if (!err && enc)
        err = stats_encode_unit(j, v, i, res, enc);
    for (size_t g = 0; g < j->ngroups; g++) {
        if (!err)
            err = enc ? put_unit_chunks(j, out, tindex, v, i, g, enc)
                      : put_unit(j, out, tindex, v, i, g, res[g]);
        free(res[g]);
        res[g] = NULL;
    }
    return err;
}

/* Phase 3 with a store (stats_checkpoint.c), rank 0 alone: every unit's
 * statistics from the saved partial trees, written in the order and the
 * way (raw chunks or regions) the run without a store writes them, so
 * that the file is the same byte for byte (HDF5 places chunks in the order
 * they are written). */
static floe_err write_from_store(stats_job *j, cf_grid_output *out, const size_t *tindex,
                                 int failed)
{
    if (failed)
        return NULL;
    void **res = calloc(j->ngroups, sizeof *res);
    floe_buf *enc = j->raw_chunks ? stats_encode_bufs(j) : NULL;
    floe_err err = res && (enc || !j->raw_chunks) ? NULL
                                                  : FLOE_ERR(FLOE_ENOMEM, "a tile's statistics");
    if (!err && j->raw_chunks)
        err = cf_grid_output_begin_raw_chunks(out);
    for (size_t k = 0; k < j->g.nvars * j->plan.ntiles && !err; k++) {
        size_t v = 0, i = 0;
        stats_write_order(j, k, &v, &i);
        err = job_ckpt_stop(&j->ckpt) ? job_ckpt_interrupted(&j->ckpt)
                                      : stats_ckpt_results(j, v, i, res);
        err = put_unit_groups(j, out, tindex, v, i, res, enc, err);
    }
    free(res);
    stats_encode_bufs_free(j, &enc);
    return err;
}

/* Time-split phase 3 on rank 0: every unit's groups gathered from the
 * ranks' partial trees, then written in the fixed order and the same way
 * (raw chunks it encodes itself, or regions) as space-major writes them,
 * so the file does not depend on which plan the rank count chose. After a
 * failure it still gathers, so no sender is left waiting. */
static floe_err write_time_split(stats_job *j, const floe_mpi *mpi, cf_grid_output *out,
                                 const size_t *tindex)
{
    void **res = calloc(j->ngroups, sizeof *res);
    floe_buf *enc = j->raw_chunks ? stats_encode_bufs(j) : NULL;
    floe_err err = res && (enc || !j->raw_chunks) ? NULL
                                                  : FLOE_ERR(FLOE_ENOMEM, "a tile's statistics");
    if (!err && j->raw_chunks)
        err = cf_grid_output_begin_raw_chunks(out);
    for (size_t k = 0; k < j->g.nvars * j->plan.ntiles; k++) {
        size_t v = 0, i = 0;
        stats_write_order(j, k, &v, &i);
        for (size_t g = 0; g < j->ngroups; g++) {
            void *r = NULL;
            /* gather even after an error: every sender must be received */
            floe_err e = gather_tile(j, mpi, v, i, g, &r);
            if (!err)
                err = e;
            else
                floe_err_free(&e);
            if (res && !err)
                res[g] = r;
            else
                free(r);
        }
        if (res)
            err = put_unit_groups(j, out, tindex, v, i, res, enc, err);
    }
    free(res);
    stats_encode_bufs_free(j, &enc);
    return err;
}

/* Phase 3 on rank 0: write the file (and then the Item). Output steps are
 * the groups with at least one step; tiles are written as they arrive, so
 * rank 0 never holds more than one tile's statistics. */
floe_err stats_write_output(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req)
{
    const char *names[MAX_OUT], *methods[MAX_OUT], *long_names[MAX_OUT];
    char name_buf[MAX_OUT][128], method_buf[MAX_OUT][160], long_buf[MAX_OUT][256], title[1024];
    const floe_array *vars[MAX_OUT];
    cf_var_type types[MAX_OUT];
    size_t nout = 0;
    for (size_t v = 0; v < j->g.nvars; v++)
        for (size_t k = 0; k < j->nstat; k++, nout++) {
            int q = stats_pctl_index(j->stat_list[k]);
            char sfx[FLOE_PCTL_NAME_SIZE];
            if (q >= 0)
                floe_pctl_var_suffix(&j->pctl, (size_t)q, sfx, sizeof sfx);
            const char *st = q >= 0 ? sfx : floe_stat_name(j->stat_list[k]);
            snprintf(name_buf[nout], sizeof name_buf[nout], "%s_%s", j->g.vars[v]->name, st);
            methods[nout] = q >= 0 ? NULL
                                   : cell_method(st, req->climatology, method_buf[nout],
                                                 sizeof method_buf[nout]);
            long_names[nout] = NULL;
            if (q >= 0) {
                pctl_long_name(j, (size_t)q, v, req, long_buf[nout], sizeof long_buf[nout]);
                long_names[nout] = long_buf[nout];
            } else if (j->anom.path) { /* statistics of the anomalies */
                job_anomaly_long_name(j->g.vars[v], long_buf[nout], sizeof long_buf[nout]);
                long_names[nout] = long_buf[nout];
            }
            if (j->stat_list[k] == FLOE_STAT_COUNT) {
                snprintf(long_buf[nout], sizeof long_buf[nout], "number of valid values of %s",
                         j->g.vars[v]->name);
                long_names[nout] = long_buf[nout];
            }
            names[nout] = name_buf[nout];
            vars[nout] = j->g.vars[v];
            /* statistics are float32 or float64 (stats_job.out64); a
             * count is an integer variable */
            cf_var_type t = {.dtype = j->out64[v] ? FLOE_DT_FLOAT64 : FLOE_DT_FLOAT32};
            if (j->stat_list[k] == FLOE_STAT_COUNT)
                t = (cf_var_type){.dtype = FLOE_DT_INT32, .no_fill = 1, .count = 1};
            types[nout] = t;
        }
    stats_title(j, req, title, sizeof title);
    /* output time axis: one step per non-empty group */
    size_t nt = 0;
    size_t *tindex = malloc(j->ngroups * sizeof *tindex);
    double *tval = malloc(j->ngroups * sizeof *tval), *tb = malloc(2 * j->ngroups * sizeof *tb);
    floe_err err = (!tindex || !tval || !tb) ? FLOE_ERR(FLOE_ENOMEM, "time axis") : NULL;
    for (size_t g = 0; g < j->ngroups && !err; g++) {
        tindex[g] = SIZE_MAX;
        if (j->periods.nperiods) { /* --resample: the period's time and bounds */
            tval[nt] = cf_time_instant_to_value(&j->tunits, j->periods.time[g]);
            tb[2 * nt] = cf_time_instant_to_value(&j->tunits, j->periods.bounds[g].lo);
            tb[2 * nt + 1] = cf_time_instant_to_value(&j->tunits, j->periods.bounds[g].hi);
            tindex[g] = nt++;
        } else if (!req->climatology) {
            /* the span of the steps: from the first stamp to the last, or
             * with intervals from the first one's start to the last one's end */
            size_t s0 = j->g.start[0], s1 = j->g.start[0] + j->g.count[0] - 1;
            if (floe_grid_select_has_intervals(&j->g)) {
                tb[0] = cf_time_instant_to_value(&j->tunits, j->g.ti[s0].lo);
                tb[1] = cf_time_instant_to_value(&j->tunits, j->g.ti[s1].hi);
            } else {
                tb[0] = j->g.tv[s0];
                tb[1] = j->g.tv[s1];
            }
            tval[0] = (tb[0] + tb[1]) / 2;
            tindex[g] = nt++;
        } else if (stats_group_written(j, g)) {
            cf_instant when, bounds[2];
            err = floe_clim_groups_time(&j->groups, g, &when, bounds);
            tval[nt] = cf_time_instant_to_value(&j->tunits, when);
            tb[2 * nt] = cf_time_instant_to_value(&j->tunits, bounds[0]);
            tb[2 * nt + 1] = cf_time_instant_to_value(&j->tunits, bounds[1]);
            tindex[g] = nt++;
        }
    }
    floe_provenance prov = *floe_dataset_provenance(j->ds);
    prov.anomaly_from = req->job.anomaly_from;
    cf_grid_spec spec = {
        .path = req->job.output, .command = req->job.command, .provenance = &prov,
        .time = j->g.time, .lat = j->g.lat, .lon = j->g.lon,
        .time_values = tval, .lat_values = j->g.yv + j->g.start[1], .lon_values = j->g.xv + j->g.start[2],
        .nt = nt, .ny = j->g.count[1], .nx = j->g.count[2],
        .lat_step = j->g.count[1] > 1 ? 0 : (j->g.lat->shape[0] > 1 ? j->g.yv[1] - j->g.yv[0] : 0),
        .lon_step = j->g.count[2] > 1 ? 0 : (j->g.lon->shape[0] > 1 ? j->g.xv[1] - j->g.xv[0] : 0),
        .vars = vars, .nvars = nout, .out_names = names, .cell_methods = methods,
        .types = types, .time_bounds = tb, .climatology = req->climatology,
        .long_names = long_names, .title = title,
    };
    cf_grid_output *out = NULL;
    if (!err)
        err = cf_grid_output_create(&spec, &out);
    if (j->ckpt.mode != JOB_CKPT_NONE) { /* every unit is in the store: no rank sends */
        floe_err e = write_from_store(j, out, tindex, err != NULL);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
    } else if (j->plan.time_split) {
        floe_err e = write_time_split(j, mpi, out, tindex);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
    } else {
        /* after a failure here it only receives, so no sender is left waiting */
        floe_err e = write_space_major(j, out, tindex, err != NULL);
        if (!err)
            err = e;
        else
            floe_err_free(&e);
    }
    /* into temporaries: committed once every rank agreed (outputs.h) */
    if (!err)
        err = cf_grid_output_finish(&out, &j->outputs.tmp[JOB_OUT_DATA]);
    cf_grid_output_abort(&out);
    if (j->place.on) /* collective: the other ranks write their chunks into it
                      * (stats_place.h), before the Item's checksum reads it */
        err = stats_place_write(&j->place, mpi, j->outputs.tmp[JOB_OUT_DATA],
                                req->job.output, err);
    if (!err) {
        stac_item_dest dest = job_outputs_item_dest(&j->outputs);
        err = stac_item_write_grid_to(&spec, &dest, req->climatology ? "climatology" : "stats",
                                      stac_item_source_kind_of(spec.provenance->doc_kind));
    }
    free(tindex);
    free(tval);
    free(tb);
    return err;
}

