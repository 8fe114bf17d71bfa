/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/dry_run_extract.c - `extract --dry-run`: the extract job's
 * batches (extract_batches.h) replayed per rank as write_values reads
 * them, on one simulated fetcher per rank; memory: a batch of slices
 * (rank 0: and one to receive into). The same replay makes a run's ref
 * tables (extract_share_refs). */
#include "engine/job/dry_run.h"
#include "engine/job/extract_batches.h"

#include <stdlib.h>

static floe_err plan_rank(floe_dataset *ds, const selection *sel, const var_batches *vbs,
                          int nranks, int rank, job_dry_rank *r)
{
    size_t slice_n = sel->count[1] * sel->count[2];
    floe_err err = NULL;
    for (size_t v = 0; v < sel->nvars && !err; v++) {
        const var_batches *vb = &vbs[v];
        size_t cap = vb->rows * vb->per_row * 3;
        uint64_t *coords = malloc(cap * sizeof *coords), *next = malloc(cap * sizeof *next);
        if (!coords || !next)
            err = FLOE_ERR(FLOE_ENOMEM, "planning a batch of %s", vb->a->name);
        uint64_t t0, t1, u0, u1;
        for (size_t b = 0; !err && extract_batch_steps(vb, nranks, rank, b, &t0, &t1); b++) {
            size_t n = extract_batch_coords(vb, t0, t1, coords);
            size_t nnext = extract_batch_steps(vb, nranks, rank, b + 1, &u0, &u1)
                               ? extract_batch_coords(vb, u0, u1, next) : 0;
            err = floe_dataset_plan_chunks(ds, &r->reads, vb->a, coords, n, next, nnext);
        }
        free(coords);
        free(next);
        uint64_t slices = (uint64_t)vb->rows * vb->ct * slice_n * vb->osize;
        slices *= rank == 0 && nranks > 1 ? 2 : 1;
        r->work_memory = slices > r->work_memory ? slices : r->work_memory;
    }
    return err;
}

/* job_dry_replay's context: the extract job's selection and batches. */
typedef struct extract_replay {
    floe_dataset *ds;
    const selection *sel;
    const var_batches *vbs;
    int nranks;
} extract_replay;

static floe_err replay_rank(void *ctx, int rank, job_dry_rank *r)
{
    const extract_replay *x = ctx;
    return plan_rank(x->ds, x->sel, x->vbs, x->nranks, rank, r);
}

floe_err extract_share_refs(const floe_mpi *mpi, floe_dataset *ds, const selection *sel,
                            const var_batches *vbs)
{
    extract_replay x = {ds, sel, vbs, mpi->size};
    return job_dry_share_refs(mpi, ds, replay_rank, &x); /* collective */
}

floe_err extract_dry_run(const floe_mpi *mpi, const floe_job_request *q, floe_dataset *ds,
                         const selection *sel, const var_batches *vbs)
{
    int nranks = q->dry_run && q->dry_run_ranks ? q->dry_run_ranks : mpi->size;
    job_dry_run d;
    floe_err err = job_dry_run_init(&d, "extract", sel, nranks);
    if (!err && (q->dry_run ? mpi->rank == 0 : job_dry_summary_wanted(mpi, q))) {
        for (int r = 0; r < nranks && !err; r++)
            err = plan_rank(ds, sel, vbs, nranks, r, &d.ranks[r]);
        d.max_pieces = job_dry_time_chunk_rows(sel);
        for (size_t v = 0; v < sel->nvars; v++)
            d.output_bytes += (uint64_t)sel->count[0] * sel->count[1] * sel->count[2] *
                              vbs[v].osize;
    }
    if (!q->dry_run) {
        if (!err && job_dry_summary_wanted(mpi, q))
            job_dry_summary_print(ds, &d);
        job_dry_run_free(&d);
        floe_err_free(&err); /* a summary that cannot be made is not the run's failure */
        return NULL;
    }
    err = job_dry_run_end(mpi, q, ds, &d, err); /* collective */
    job_dry_run_free(&d);
    return err;
}
