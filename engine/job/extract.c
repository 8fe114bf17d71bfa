/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/extract.c - the extract job (see extract.h): a bbox / time
 * subset of one or more variables, written as CF NetCDF-4 with the source
 * coordinates and attributes, under MPI: ranks read contiguous runs of
 * time chunks, rank 0 writes (write_values says how). The bytes do not
 * depend on the rank count.
 *
 * Memory per rank is one batch of time slices (capped) plus the fetcher's
 * window, whatever the length of the time range.
 *
 * Values keep their type (var_out): copied as stored, float16 widened,
 * packed data unpacked (or kept packed with --keep-packing); with
 * --anomaly-from, decoded and minus the climatology (engine/job/anomaly.h)
 * as float32 (float64 for sources whose values are double).
 */
#include "engine/job/extract.h"
#include "engine/job/extract_batches.h"
#include "engine/job/output_format.h"
#include "engine/job/selection_note.h"
#include "engine/job/step_checkpoint.h"

#include "cf/decode.h"
#include "common/floe_log.h"
#include "engine/job/anomaly.h"
#include "engine/job/outputs.h"
#include "engine/job/progress.h"
#include "engine/job/report.h"
#include "engine/job/stat_types.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/dataset_collective.h"
#include "engine/plan/grid_select.h"
#include "engine/plan/series_plan.h"
#include "out/grid_output.h"
#include "out/item/item.h"

#include <stdlib.h>
#include <string.h>


/* How one variable's values are written: as stored (a copy, bit for bit:
 * every type NetCDF-4 has, bool as ubyte, and packed data under
 * --keep-packing), float16 widened to float32 (exact), or packed data
 * unpacked into the unpacked type (cf/decode.h). */
typedef enum out_how { OUT_COPY, OUT_HALF, OUT_UNPACK, OUT_ANOMALY } out_how;

typedef struct var_out {
    out_how how;
    size_t osize;     /* bytes of one written value */
    cf_decoder cf;    /* OUT_UNPACK, OUT_ANOMALY */
    cf_var_type type; /* what the writer declares */
    /* OUT_ANOMALY: the climatology (borrowed), the variable's index in
     * it, and the value written where either side is missing: the
     * _FillValue the writer declares (the source's, in the written type) */
    job_anomaly *anom;
    size_t v;
    double missing;
} var_out;

static floe_err var_out_of(const floe_array *a, int keep_packing, job_anomaly *anom,
                           size_t v, var_out *o)
{
    memset(o, 0, sizeof *o);
    FLOE_CHECK(cf_decoder_init(&o->cf, a->attributes, (zarr_dtype)a->dtype, CF_MASK_ZARR_FILL,
                               a->fill_raw), "variable %s", a->name);
    if (anom->path) {
        /* packed data's scale_factor/add_offset and packed fill would
         * not describe the anomalies */
        if (o->cf.scaled || keep_packing)
            return FLOE_ERR(FLOE_EUNSUPPORTED, "--anomaly-from: variable %s is packed "
                            "(scale_factor/add_offset); anomalies of packed data are not "
                            "written", a->name);
        int in64, out64;
        job_stat_types(&o->cf, a, &in64, &out64);
        o->how = OUT_ANOMALY;
        o->type.dtype = in64 ? FLOE_DT_FLOAT64 : FLOE_DT_FLOAT32;
        o->osize = in64 ? sizeof(double) : sizeof(float);
        o->anom = anom;
        o->v = v;
        o->missing = in64 ? a->fill_value : (double)(float)a->fill_value;
        return NULL;
    }
    o->type.dtype = a->dtype == FLOE_DT_BOOL ? FLOE_DT_UINT8 : a->dtype;
    o->type.no_fill = a->dtype == FLOE_DT_BOOL;
    o->osize = a->itemsize;
    if (a->dtype == FLOE_DT_FLOAT16) {
        o->how = OUT_HALF;
        o->type.dtype = FLOE_DT_FLOAT32;
        o->osize = sizeof(float);
    } else if (o->cf.scaled && !keep_packing) {
        o->how = OUT_UNPACK;
        o->type.dtype = (floe_dtype)cf_unpacked_type(&o->cf);
        o->type.unpacked = 1;
        o->osize = o->type.dtype == FLOE_DT_FLOAT32 ? sizeof(float) : sizeof(double);
    } else if (o->cf.scaled) {
        o->type.packed_as = (floe_dtype)cf_unpacked_type(&o->cf);
    }
    return NULL;
}

/* n stored values at src (selected step s, absolute row `row`, columns
 * from col0) to n written values at dst. */
static void convert_row(const var_out *o, const uint8_t *src, size_t n, size_t itemsize,
                        uint8_t *dst, size_t s, size_t row, size_t col0)
{
    if (o->how == OUT_ANOMALY && o->osize == sizeof(double)) {
        double *x = (double *)dst;
        cf_decode_to_double(&o->cf, src, n, x);
        job_anomaly_sub_f64(o->anom, s, row, col0, x, n);
        for (size_t i = 0; i < n; i++)
            x[i] = isnan(x[i]) ? o->missing : x[i];
    } else if (o->how == OUT_ANOMALY) {
        float *x = (float *)dst;
        cf_decode_to_float(&o->cf, src, n, x);
        job_anomaly_sub_f32(o->anom, s, row, col0, x, n);
        for (size_t i = 0; i < n; i++)
            x[i] = isnan(x[i]) ? (float)o->missing : x[i];
    } else if (o->how == OUT_COPY) {
        memcpy(dst, src, n * itemsize);
    } else if (o->how == OUT_HALF) {
        cf_widen_float16(src, n, dst);
    } else {
        cf_unpack(&o->cf, src, n, dst);
    }
}

/* Copy the part of time slab `k` of decoded chunk `chunk` (of `a`, chunk
 * coordinates cy, cx) that lies in the selected rows and columns into the
 * time slice `slice` (count[1] x count[2] written values) of the selection. */
static void copy_chunk_part(const floe_array *a, const var_out *o, const uint8_t *chunk,
                            uint64_t k, uint64_t cy, uint64_t cx, const selection *sel,
                            size_t s, uint8_t *slice)
{
    uint64_t ch = a->chunk_shape[1], cw = a->chunk_shape[2];
    uint64_t r0 = cy * ch, c0 = cx * cw;
    uint64_t y0 = r0 > sel->start[1] ? r0 : sel->start[1];
    uint64_t y1 = r0 + ch < sel->start[1] + sel->count[1] ? r0 + ch : sel->start[1] + sel->count[1];
    uint64_t x0 = c0 > sel->start[2] ? c0 : sel->start[2];
    uint64_t x1 = c0 + cw < sel->start[2] + sel->count[2] ? c0 + cw : sel->start[2] + sel->count[2];
    const uint8_t *slab = chunk + k * ch * cw * a->itemsize;
    for (uint64_t y = y0; y < y1; y++)
        convert_row(o,
                    slab + ((y - r0) * cw + (x0 - c0)) * a->itemsize, (size_t)(x1 - x0),
                    a->itemsize,
                    slice + ((y - sel->start[1]) * sel->count[2] + (x0 - sel->start[2])) * o->osize,
                    s, (size_t)y, (size_t)x0);
}

/* Where the chunks of one batch go: rows of time chunks [tc0, tc1). */
typedef struct batch_ctx {
    const floe_array *a;
    const var_out *o;
    const selection *sel;
    const uint64_t *coords; /* n x 3 */
    uint64_t tc0;
    size_t slice_n;
    uint8_t *slices;        /* selected steps of the batch, in order (written values) */
    uint64_t step0;         /* the whole selection's first step (sel is the batch's) */
} batch_ctx;

/* First selected step of the batch, as an index into slices. */
static uint64_t batch_first_step(const batch_ctx *b)
{
    uint64_t ct = b->a->chunk_shape[0], t0 = b->tc0 * ct;
    return t0 > b->sel->start[0] ? t0 : b->sel->start[0];
}

static floe_err place_chunk(void *ctx, size_t index, const void *decoded)
{
    batch_ctx *b = ctx;
    const uint64_t *c = b->coords + 3 * index;
    uint64_t ct = b->a->chunk_shape[0], first = batch_first_step(b);
    uint64_t t_end = b->sel->start[0] + b->sel->count[0];
    if (b->o->how == OUT_ANOMALY) { /* the climatology of this chunk's part, the batch's steps */
        uint64_t ch = b->a->chunk_shape[1], cw = b->a->chunk_shape[2];
        const selection *s = b->sel;
        uint64_t y0 = c[1] * ch, x0 = c[2] * cw;
        y0 = y0 > s->start[1] ? y0 : s->start[1];
        x0 = x0 > s->start[2] ? x0 : s->start[2];
        uint64_t y1 = (c[1] + 1) * ch, x1 = (c[2] + 1) * cw;
        y1 = y1 < s->start[1] + s->count[1] ? y1 : s->start[1] + s->count[1];
        x1 = x1 < s->start[2] + s->count[2] ? x1 : s->start[2] + s->count[2];
        /* held to the last subtraction: other chunks' calls may run beside (dataset.h) */
        job_anomaly_lock(b->o->anom);
        floe_err err = job_anomaly_load(b->o->anom, b->o->v, (size_t)(s->start[0] - b->step0),
                                        (size_t)(t_end - b->step0), (size_t)y0, (size_t)y1,
                                        (size_t)x0, (size_t)x1);
        if (err) {
            job_anomaly_unlock(b->o->anom);
            return err;
        }
    }
    for (uint64_t k = 0; k < ct; k++) {
        uint64_t step = c[0] * ct + k;
        if (step < b->sel->start[0] || step >= t_end)
            continue;
        copy_chunk_part(b->a, b->o, decoded, k, c[1], c[2], b->sel,
                        (size_t)(step - b->step0), b->slices + (size_t)(step - first) * b->slice_n * b->o->osize);
    }
    if (b->o->how == OUT_ANOMALY)
        job_anomaly_unlock(b->o->anom);
    return NULL;
}

/* The selection's steps are read in batches of whole time-chunk rows:
 * every chunk of a batch is requested at once (fetched concurrently,
 * decoded as they arrive) and placed into the batch's time slices. Memory
 * per rank: one batch of slices (capped at BATCH_BYTES, at least one
 * time-chunk row; rank 0 holds a second one to receive into) plus the
 * fetcher's window. */
#define BATCH_BYTES ((size_t)128 << 20)
#define BATCH_CHUNKS 512

void extract_batches_of(size_t v, const var_out *o, const selection *sel,
                        const job_step_ckpt *ck, var_batches *vb)
{
    const floe_array *a = sel->vars[v];
    size_t slice_n = sel->count[1] * sel->count[2];
    vb->first = sel->start[0] + ck->p0;
    vb->n = job_step_ckpt_has_var(ck, v) ? ck->p1 - ck->p0 : 0;
    vb->a = a;
    vb->o = o;
    vb->osize = o->osize;
    vb->ct = a->chunk_shape[0];
    vb->cy0 = sel->start[1] / a->chunk_shape[1];
    vb->cy1 = (sel->start[1] + sel->count[1] - 1) / a->chunk_shape[1] + 1;
    vb->cx0 = sel->start[2] / a->chunk_shape[2];
    vb->cx1 = (sel->start[2] + sel->count[2] - 1) / a->chunk_shape[2] + 1;
    vb->per_row = (size_t)((vb->cy1 - vb->cy0) * (vb->cx1 - vb->cx0));
    size_t rows = BATCH_BYTES / ((size_t)vb->ct * slice_n * o->osize + 1);
    if (rows * vb->per_row > BATCH_CHUNKS)
        rows = BATCH_CHUNKS / vb->per_row;
    vb->rows = rows < 1 ? 1 : rows;
}

/* Batch b of `rank`: its steps [*t0, *t1) (absolute); 0 if it has none. */
int extract_batch_steps(const var_batches *vb, int nranks, int rank, size_t b, uint64_t *t0,
                        uint64_t *t1)
{
    size_t s0, s1;
    series_rank_steps(vb->first, vb->n, vb->ct, nranks, rank, &s0, &s1);
    if (s1 <= s0)
        return 0;
    uint64_t a0 = vb->first + s0, a1 = vb->first + s1;
    uint64_t tc = a0 / vb->ct + b * vb->rows;
    if (tc * vb->ct >= a1)
        return 0;
    uint64_t lo = tc * vb->ct, hi = (tc + vb->rows) * vb->ct;
    *t0 = lo > a0 ? lo : a0;
    *t1 = hi < a1 ? hi : a1;
    return 1;
}

/* The chunks of steps [t0, t1) of vb->a. */
size_t extract_batch_coords(const var_batches *vb, uint64_t t0, uint64_t t1, uint64_t *coords)
{
    uint64_t tc0 = t0 / vb->ct, tc1 = (t1 - 1) / vb->ct + 1;
    size_t n = 0;
    for (uint64_t tc = tc0; tc < tc1; tc++)
        for (uint64_t cy = vb->cy0; cy < vb->cy1; cy++)
            for (uint64_t cx = vb->cx0; cx < vb->cx1; cx++, n++) {
                coords[3 * n] = tc;
                coords[3 * n + 1] = cy;
                coords[3 * n + 2] = cx;
            }
    return n;
}

/* Read steps [t0, t1) of vb->a into slices (one count[1] x count[2] slice a
 * step, in order), and read ahead the chunks next[0..nnext). */
static floe_err read_batch(floe_dataset *ds, const var_batches *vb, const selection *sel,
                           uint64_t t0, uint64_t t1, uint64_t *coords, const uint64_t *next,
                           size_t nnext, uint8_t *slices, size_t *nchunks)
{
    uint64_t tc0 = t0 / vb->ct;
    size_t n = extract_batch_coords(vb, t0, t1, coords);
    /* place_chunk indexes slices from the batch's first selected step */
    selection part = *sel;
    part.start[0] = (size_t)t0;
    part.count[0] = (size_t)(t1 - t0);
    batch_ctx b = {vb->a, vb->o, &part, coords, tc0, sel->count[1] * sel->count[2], slices,
                   sel->start[0]};
    *nchunks = n;
    return floe_dataset_read_chunks_ahead(ds, vb->a, coords, n, next, nnext, place_chunk, &b);
}

/* Steps [t0, t1) of variable v into slices: from the saved units that
 * hold them (--resume, floe merge), else read and, with --checkpoint or
 * --piece, saved as a unit (engine/job/step_units.h). *nchunks: the
 * chunks read. */
static floe_err unit_values(floe_dataset *ds, const var_batches *vb, const selection *sel,
                            job_step_ckpt *ck, size_t v, uint64_t t0, uint64_t t1,
                            uint64_t *coords, const uint64_t *next, size_t nnext, uint8_t *slices,
                            size_t *nchunks)
{
    size_t step_bytes = sel->count[1] * sel->count[2] * vb->o->osize;
    *nchunks = 0;
    int loaded = 0; /* a unit that does not read is computed again */
    FLOE_CHECK(job_step_ckpt_load(ck, v, t0, t1, 1, step_bytes, 0, slices, &loaded));
    if (loaded)
        return NULL;
    FLOE_CHECK(job_step_ckpt_may_fetch(ck, v, t0, t1));
    FLOE_CHECK(read_batch(ds, vb, sel, t0, t1, coords, next, nnext, slices, nchunks));
    return job_step_ckpt_save(ck, v, t0, t1, 1, step_bytes, 0, slices);
}

static floe_err put_steps(cf_grid_output *out, size_t v, const selection *sel, uint64_t t0,
                          uint64_t t1, const uint8_t *slices, size_t osize)
{
    size_t slice_n = sel->count[1] * sel->count[2];
    for (uint64_t step = t0; step < t1; step++)
        FLOE_CHECK(cf_grid_output_put_step(out, v, (size_t)(step - sel->start[0]),
                                           slices + (size_t)(step - t0) * slice_n * osize));
    return NULL;
}

/* Keep the first error of a phase; later ones are dropped. */
static void keep_first(floe_err *err, floe_err e)
{
    if (!*err)
        *err = e;
    else
        floe_err_free(&e);
}

/* COLLECTIVE over mpi->comm. Every rank reads its share of the steps
 * (contiguous runs of whole time chunks, in rank order: series_plan.h);
 * rank 0 writes. They go in rounds: in round b every rank reads its batch
 * b, then rank 0 writes its own and receives and writes the others' in
 * rank order, so reading is parallel and only the writing is serial.
 * Each batch is a unit of the collection protocol (engine/mpi/collect.h):
 * a rank that fails says so and sends nothing more; rank 0, once failed,
 * still receives (and drops) what the others send, so that nobody is left
 * blocked. `c` is rank 0's collector (NULL on the others). The bytes
 * written do not depend on the rank count: every value is a copy. */
static floe_err write_values(floe_dataset *ds, const floe_mpi *mpi, const selection *sel,
                             const var_out *outs, cf_grid_output *out, floe_collector *c,
                             job_step_ckpt *ck, job_progress *progress)
{
    floe_err err = NULL;
    uint8_t *slices = NULL, *recv = NULL;
    size_t recv_n = 0; /* bytes recv holds */
    uint64_t *coords = NULL, *next = NULL;
    size_t slice_n = sel->count[1] * sel->count[2];
    int told_failure = 0; /* a sender: it said so, and sends nothing more */
    int stopped = 0;      /* asked to stop (--checkpoint): every rank agreed */
    for (size_t v = 0; v < sel->nvars; v++) {
        var_batches vb;
        extract_batches_of(v, &outs[v], sel, ck, &vb);
        size_t steps_cap = vb.rows * (size_t)vb.ct, osize = outs[v].osize;
        if (!err) {
            uint8_t *s2 = realloc(slices, steps_cap * slice_n * osize);
            uint64_t *c2 = s2 ? realloc(coords, vb.rows * vb.per_row * 3 * sizeof *coords) : NULL;
            uint64_t *n2 = c2 ? realloc(next, vb.rows * vb.per_row * 3 * sizeof *next) : NULL;
            next = n2 ? n2 : next;
            uint8_t *r2 = c2 && mpi->rank == 0 && mpi->size > 1
                              ? realloc(recv, steps_cap * slice_n * osize) : recv;
            slices = s2 ? s2 : slices;
            coords = c2 ? c2 : coords;
            if (c2 && r2 && mpi->rank == 0 && mpi->size > 1)
                recv_n = steps_cap * slice_n * osize; /* grown in place or moved: the new size */
            recv = r2 ? r2 : recv;
            if (!s2 || !c2 || !n2 || (mpi->rank == 0 && mpi->size > 1 && !r2))
                err = FLOE_ERR(FLOE_ENOMEM, "a batch of %zu steps of %s", steps_cap,
                               vb.a->name);
        }
        for (size_t b = 0; !stopped; b++) {
            int any = 0;
            for (int r = 0; r < mpi->size; r++) {
                uint64_t t0, t1;
                if (!extract_batch_steps(&vb, mpi->size, r, b, &t0, &t1))
                    continue;
                any = 1;
                size_t count = (size_t)(t1 - t0) * slice_n * osize, nchunks = 0; /* bytes */
                if (r == mpi->rank) {
                    /* this rank's next batch is read ahead */
                    uint64_t u0, u1;
                    size_t nnext = extract_batch_steps(&vb, mpi->size, r, b + 1, &u0, &u1) &&
                                           !job_units_covered(&ck->units, v, u0, u1)
                                       ? extract_batch_coords(&vb, u0, u1, next) : 0;
                    floe_err e = err ? NULL
                                 : unit_values(ds, &vb, sel, ck, v, t0, t1, coords, next, nnext,
                                               slices, &nchunks);
                    if (e)
                        e = floe_err_push(e, __FILE__, __LINE__, " variable %s steps %llu..%llu",
                                          vb.a->name, (unsigned long long)t0,
                                          (unsigned long long)t1 - 1);
                    keep_first(&err, e);
                    job_progress_add(progress, nchunks);
                    if (ck->piece) {
                        /* its units are its result: nothing is sent */
                    } else if (r == 0) {
                        if (!err)
                            err = put_steps(out, v, sel, t0, t1, slices, osize);
                    } else if (!told_failure) {
                        e = floe_collect_send_status(mpi, err != NULL);
                        if (!e && !err)
                            e = floe_collect_send(mpi, slices, count);
                        keep_first(&err, e);
                        told_failure = err != NULL;
                    }
                } else if (mpi->rank == 0 && !ck->piece && !floe_collector_failed(c, r)) {
                    int ok = 0;
                    floe_err e = floe_collect_recv_status(c, r, &ok);
                    if (!e && ok) { /* without room for it: received, dropped, an error */
                        int room = count <= recv_n;
                        e = floe_collect_recv_exact(c, r, room ? recv : NULL, count);
                        if (!e && !room && !err)
                            e = FLOE_ERR(FLOE_EINTERNAL, "a batch of %zu bytes of %s from "
                                         "rank %d exceeds the %zu planned", count, vb.a->name,
                                         r, recv_n);
                    }
                    keep_first(&err, e);
                    if (!ok)
                        continue; /* it sends nothing more; its error comes in the agreement */
                    if (!err)
                        err = put_steps(out, v, sel, t0, t1, recv, osize);
                }
            }
            if (!any)
                break;
            /* a unit boundary: every rank's batch of this round is in */
            if (job_step_ckpt_stop(mpi, ck, &err)) /* collective */
                stopped = 1;
        }
        if (stopped)
            break;
    }
    free(coords);
    free(next);
    free(slices);
    free(recv);
    return err;
}

floe_err floe_extract_run(const floe_mpi *mpi, const floe_extract_request *req)
{
    const floe_job_request *q = &req->job;
    double t_start = job_now();
    floe_dataset *ds = NULL;
    cf_grid_output *out = NULL;
    job_outputs outputs;
    selection sel;
    memset(&sel, 0, sizeof sel);
    floe_open_request open = q->open;
    open.arrays = q->vars; /* only their manifests (and their coordinates') */
    /* The outputs' paths are checked before anything is fetched (agreed,
     * so every rank skips the rest alike). */
    floe_err err = job_outputs_plan(mpi, q, NULL, 0, &outputs); /* collective */
    job_output_format fmt;
    if (!err) /* the same answer on every rank */
        err = job_output_format_of("extract", q->output, &fmt);
    if (!err) {
        err = floe_dataset_open_collective(mpi, &open, &ds); /* collective */
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " %s", q->open.source);
        floe_time_label label = FLOE_TIME_LABEL_AUTO;
        if (!err)
            err = floe_time_label_parse(q->time_label, "--time-label", &label);
        if (!err)
            err = floe_grid_select_make(ds, q->vars, q->bbox, q->time, label, &sel);
        if (!err)
            job_selection_note(mpi, q, &sel);
        /* every rank takes part, whatever happened above */
        floe_err perr = job_outputs_check_sources(mpi, q, err ? NULL : ds, NULL, 0, /* collective */
                                                  &outputs);
        if (!err)
            err = perr;
        else
            floe_err_free(&perr);
    }
    cf_grid_spec spec;
    memset(&spec, 0, sizeof spec);
    double *tb = NULL;
    if (!err && floe_grid_select_has_intervals(&sel))
        err = floe_grid_time_bounds(&sel, &tb);
    var_out outs[FLOE_GRID_MAX_VARS];
    cf_var_type types[FLOE_GRID_MAX_VARS];
    job_anomaly anom; /* --anomaly-from: the climatology, every rank */
    memset(&anom, 0, sizeof anom);
    char long_buf[FLOE_GRID_MAX_VARS][160];
    const char *long_names[FLOE_GRID_MAX_VARS];
    if (!err)
        err = job_anomaly_prepare(&anom, q->anomaly_from, &sel, 1);
    anom.cache_bytes = JOB_ANOMALY_CACHE_BYTES; /* a batch's chunks come in any order */
    for (size_t v = 0; v < sel.nvars && !err; v++) {
        err = var_out_of(sel.vars[v], req->keep_packing, &anom, v, &outs[v]);
        types[v] = outs[v].type;
        long_names[v] = NULL;
        if (anom.path) {
            job_anomaly_long_name(sel.vars[v], long_buf[v], sizeof long_buf[v]);
            long_names[v] = long_buf[v];
        }
    }
    floe_provenance prov;
    if (!err) {
        prov = *floe_dataset_provenance(ds);
        prov.anomaly_from = q->anomaly_from;
    }
    /* --checkpoint, --resume, --piece, merge: the saved units, this run's
     * steps (engine/job/step_checkpoint.h) */
    job_step_ckpt ck;
    memset(&ck, 0, sizeof ck);
    if (!floe_mpi_agree(mpi->comm, &err)) { /* collective */
        const char *extra[] = {"keep_packing", req->keep_packing ? "1" : "0", NULL};
        err = job_step_ckpt_open(mpi, q, "extract", "x", extra, prov.snapshot_id, /* collective */
                                 sel.start[0], sel.count[0], sel.vars[0]->chunk_shape[0],
                                 sel.nvars, &ck);
    }
    if (!err) {
        size_t ny = (size_t)sel.lat->shape[0], nx = (size_t)sel.lon->shape[0];
        cf_grid_spec s = {
            .path = q->output,
            .command = q->command,
            .provenance = &prov,
            .time = sel.time, .lat = sel.lat, .lon = sel.lon,
            .time_values = sel.tv + sel.start[0], .lat_values = sel.yv + sel.start[1],
            .lon_values = sel.xv + sel.start[2],
            .nt = sel.count[0], .ny = sel.count[1], .nx = sel.count[2],
            .lat_step = ny > 1 ? sel.yv[1] - sel.yv[0] : 0,
            .lon_step = nx > 1 ? sel.xv[1] - sel.xv[0] : 0,
            .vars = sel.vars, .nvars = sel.nvars, .types = types,
            .long_names = anom.path ? long_names : NULL,
            .time_bounds = tb, /* the steps' intervals, when known */
            .unlimited_time = 1, /* extracts of successive ranges concatenate */
        };
        spec = s;
        FLOE_INFO0("extract: %zu variable(s), %zu steps x %zu x %zu cells from %s on %d "
                   "rank(s) x %d thread(s)", sel.nvars, sel.count[0], sel.count[1],
                   sel.count[2], spec.provenance->snapshot_id, mpi->size,
                   floe_pool_workers(floe_dataset_pool(ds)));
        if (mpi->rank == 0 && !q->dry_run && !ck.piece) /* a piece's result is its units */
            err = cf_grid_output_create(&spec, &out);
    }
    /* Rank 0's list of failed ranks, before the agreement: once the others
     * send, rank 0 must be able to receive. */
    floe_collector collector = {0};
    if (!err && mpi->rank == 0)
        err = floe_collector_init(&collector, mpi);
    int failed = floe_mpi_agree(mpi->comm, &err) != NULL; /* collective */
    if (!failed) { /* --dry-run: the plan, collective; else the short summary, rank 0 */
        var_batches vbs[FLOE_GRID_MAX_VARS];
        for (size_t v = 0; v < sel.nvars; v++)
            extract_batches_of(v, &outs[v], &sel, &ck, &vbs[v]);
        err = extract_dry_run(mpi, q, ds, &sel, vbs);
        if (!err && !q->dry_run && !ck.merge) /* each rank's refs, before anyone reads */
            err = extract_share_refs(mpi, ds, &sel, vbs); /* collective, agreed */
        failed = err != NULL;
    }
    if (!failed && !q->dry_run) {
        uint64_t mine = 0; /* the chunks of this rank's batches */
        for (size_t v = 0; v < sel.nvars; v++) {
            var_batches vb;
            extract_batches_of(v, &outs[v], &sel, &ck, &vb);
            uint64_t t0, t1; /* a resumed run reads no batch its checkpoint holds */
            for (size_t b = 0; extract_batch_steps(&vb, mpi->size, mpi->rank, b, &t0, &t1); b++)
                if (!job_units_covered(&ck.units, v, t0, t1))
                    mine += ((t1 - 1) / vb.ct - t0 / vb.ct + 1) * vb.per_row;
        }
        job_progress progress;
        job_progress_start(&progress, "floe extract", ds, mpi, mine, /* collective */
                           !q->quiet && !ck.merge, q->progress_interval); /* merge reads none */
        err = write_values(ds, mpi, &sel, outs, out, &collector, &ck, /* collective */
                           &progress);
        job_progress_end(&progress, err != NULL); /* collective */
        /* The data and its Item go to temporaries; nothing is committed
         * before every rank agrees (job_outputs_commit). */
        if (mpi->rank == 0 && !err && !ck.piece)
            err = cf_grid_output_finish(&out, &outputs.tmp[JOB_OUT_DATA]);
        if (mpi->rank == 0 && !err && !ck.piece) {
            stac_item_dest dest = job_outputs_item_dest(&outputs);
            err = stac_item_write_grid_to(&spec, &dest, "extract",
                                          stac_item_source_kind_of(spec.provenance->doc_kind));
            if (err)
                err = floe_err_push(err, __FILE__, __LINE__, " derived STAC Item for %s",
                                    q->output);
        }
        if (!floe_mpi_agree(mpi->comm, &err) && q->report && !ck.piece) /* collective */
            err = job_report_write(mpi, ds, q->report, "extract", q->command, t_start,
                                   &outputs.tmp[JOB_OUT_REPORT]); /* collective */
        if (!ck.piece) /* a piece commits its units only (job_step_ckpt_finish) */
            err = job_outputs_commit(mpi, &outputs, err); /* collective */
        err = job_step_ckpt_finish(mpi, &ck, err); /* collective */
    }
    job_step_ckpt_free(&ck);
    floe_collector_free(&collector);
    cf_grid_output_abort(&out);
    job_outputs_free(&outputs);
    free(tb);
    job_anomaly_free(&anom);
    floe_grid_select_free(&sel);
    floe_dataset_free(&ds);
    return err;
}
