/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/step_checkpoint.c - checkpoints, pieces and merge of extract
 * and series (see step_checkpoint.h) on top of the store's job side
 * (engine/job/checkpoint.h): which steps a run computes, which units it
 * finds, saves and may not fetch, and where it stops. */
#include "engine/job/step_checkpoint.h"

#include "common/floe_interrupt.h"
#include "common/floe_log.h"
#include "engine/plan/series_plan.h"
#include "out/checkpoint_store.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

floe_err job_step_ckpt_open(const floe_mpi *mpi, const floe_job_request *q, const char *kind,
                            const char *letter, const char *const *extra, const char *snapshot,
                            size_t t0, size_t nt, uint64_t ct, size_t nvars, job_step_ckpt *ck)
{
    memset(ck, 0, sizeof *ck);
    ck->p1 = nt;
    ck->v1 = nvars;
    ck->t0 = t0, ck->nt = nt, ck->ct = ct;
    ck->letter = letter;
    if (job_ckpt_mode_of(q) == JOB_CKPT_NONE)
        return NULL;
    char *text = job_ckpt_request_text(kind, q, extra);
    floe_err err = text ? NULL : FLOE_ERR(FLOE_ENOMEM, "the request's canonical form");
    /* every rank takes part, with or without the text (agreed inside) */
    floe_err oerr = job_ckpt_open(mpi, q, kind, text ? text : "", snapshot, &ck->c);
    free(text);
    if (!err)
        err = oerr;
    else
        floe_err_free(&oerr);
    ck->piece = ck->c.mode == JOB_CKPT_PIECE;
    ck->merge = ck->c.mode == JOB_CKPT_MERGE;
    ck->saving = !err && (ck->c.mode == JOB_CKPT_RUN || ck->piece);
    if (!err && ck->piece) /* by variable: every step of its variables */
        job_ckpt_piece_vars(&ck->c, nvars, &ck->v0, &ck->v1);
    if (!err && job_ckpt_piece_by_time(&ck->c)) { /* its steps: split as ranks split them */
        series_rank_steps(t0, nt, ct, ck->c.pieces, ck->c.piece - 1, &ck->p0, &ck->p1);
        if (ck->p1 <= ck->p0)
            ck->p0 = ck->p1 = 0; /* more pieces than time chunks: an empty piece */
    }
    /* what an earlier run, or the pieces, saved */
    if (!err && (ck->c.resumed || ck->merge || ck->piece)) {
        const char *dirs[1] = {ck->c.dir};
        err = job_units_index(&ck->units, letter, dirs, 1);
    }
    floe_mpi_agree(mpi->comm, &err); /* collective */
    return err;
}

int job_step_ckpt_has_var(const job_step_ckpt *ck, size_t v)
{
    return v >= ck->v0 && v < ck->v1;
}

/* The piece (1-based) that computes variable v's absolute step t: by
 * variable, the share holding v; by time, the steps split as ranks split
 * them (job_step_ckpt_open). */
static int piece_of(const job_step_ckpt *ck, uint64_t v, uint64_t t)
{
    if (ck->c.piece_by == JOB_PIECE_BY_VARIABLE)
        for (int p = 1; p <= ck->c.pieces; p++) {
            job_ckpt one = ck->c; /* as piece p of the split would be */
            one.mode = JOB_CKPT_PIECE;
            one.piece = p;
            size_t v0, v1;
            job_ckpt_piece_vars(&one, ck->v1, &v0, &v1);
            if (v >= v0 && v < v1)
                return p;
        }
    for (int p = 0; p < ck->c.pieces && ck->c.piece_by != JOB_PIECE_BY_VARIABLE; p++) {
        size_t s0, s1;
        series_rank_steps(ck->t0, ck->nt, ck->ct, ck->c.pieces, p, &s0, &s1);
        if (t >= ck->t0 + s0 && t < ck->t0 + s1)
            return p + 1;
    }
    return 0;
}

floe_err job_step_ckpt_load(job_step_ckpt *ck, uint64_t v, uint64_t t0, uint64_t t1,
                            size_t planes, size_t step_bytes, size_t plane_stride, void *dst,
                            int *loaded)
{
    *loaded = 0;
    /* each failed try drops a unit from the index: this ends */
    while (job_units_covered(&ck->units, v, t0, t1)) {
        job_unit_ref bad = {.dir = (size_t)-1};
        floe_err err = job_units_load(&ck->units, v, t0, t1, planes, step_bytes, plane_stride,
                                      dst, &bad);
        if (!err) {
            *loaded = 1;
            return NULL;
        }
        floe_code code = floe_err_code(err);
        if (bad.dir == (size_t)-1 || (code != FLOE_ECHECKSUM && code != FLOE_ENOTFOUND))
            return err;
        char name[FLOE_CKPT_NAME_MAX], line[512];
        job_units_name(&ck->units, &bad, name, sizeof name);
        floe_err_line(err, line, sizeof line);
        floe_err_free(&err);
        if (ck->merge) {
            int p = piece_of(ck, v, bad.t0);
            return FLOE_ERR(FLOE_ECHECKSUM, "merge: unit %s of piece %d of %d does not read "
                            "(%s): rerun that piece with --piece %d/%d%s --resume (it "
                            "computes the unit again), then merge", name, p, ck->c.pieces, line,
                            p, ck->c.pieces,
                            ck->c.piece_by == JOB_PIECE_BY_VARIABLE ? " --piece-by variable"
                                                                    : "");
        }
        if (code == FLOE_ECHECKSUM) /* gone: another rank found it so and warned */
            FLOE_WARN("%s: unit %s is computed again", line, name);
        FLOE_CHECK(job_units_drop(&ck->units, &bad));
    }
    return NULL;
}

floe_err job_step_ckpt_may_fetch(const job_step_ckpt *ck, uint64_t v, uint64_t t0, uint64_t t1)
{
    if (!ck->merge)
        return NULL;
    uint64_t t = job_units_first_missing(&ck->units, v, t0, t1);
    return FLOE_ERR(FLOE_ENOTFOUND, "%s: no piece holds step %" PRIu64 " of variable %" PRIu64
                    " (a piece that did not finish: rerun it with --resume)", ck->c.dir, t, v);
}

floe_err job_step_ckpt_save(const job_step_ckpt *ck, uint64_t v, uint64_t t0, uint64_t t1,
                            size_t planes, size_t step_bytes, size_t plane_stride,
                            const void *src)
{
    if (!ck->saving)
        return NULL;
    return job_units_save(ck->c.dir, ck->letter, v, t0, t1,
                          planes, step_bytes, plane_stride, src);
}

floe_err job_step_ckpt_poll(const job_step_ckpt *ck)
{
    if (!ck->saving || !job_ckpt_stop(&ck->c))
        return NULL;
    return job_ckpt_interrupted(&ck->c);
}

int job_step_ckpt_stop(const floe_mpi *mpi, const job_step_ckpt *ck, floe_err *err)
{
    if (!ck->saving)
        return 0;
    int mine = job_ckpt_stop(&ck->c) != 0, any = mine;
    if (mpi->size > 1) {
        floe_err e = FLOE_CHECK_MPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, mpi->comm),
                                    "agreeing on a stop");
        if (e) { /* the next agreement fails the job on every rank */
            if (!*err)
                *err = e;
            else
                floe_err_free(&e);
            return 0;
        }
    }
    if (any && !*err)
        *err = job_ckpt_interrupted(&ck->c);
    return any;
}

floe_err job_step_ckpt_finish(const floe_mpi *mpi, job_step_ckpt *ck, floe_err err)
{
    if (ck->c.mode == JOB_CKPT_NONE)
        return err;
    return job_ckpt_finish(mpi, &ck->c, err); /* collective */
}

void job_step_ckpt_free(job_step_ckpt *ck)
{
    job_units_free(&ck->units);
    job_ckpt_free(&ck->c);
}
