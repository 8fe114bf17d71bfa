/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/outputs.c - see outputs.h. */
#include "engine/job/outputs.h"

#include "common/floe_file.h"
#include "common/floe_log.h"
#include "out/output_paths.h"

#include <stdlib.h>
#include <string.h>

/* How each output is named in messages, and the option that names it. */
static const floe_output_path kinds[JOB_OUT_COUNT] = {
    [JOB_OUT_DATA] = {NULL, "the output", "-o"},
    [JOB_OUT_ITEM] = {NULL, "the STAC Item", "--item"},
    [JOB_OUT_REPORT] = {NULL, "the report", "--report"},
};

/* Rank 0's checks (see outputs.h); ds NULL: the request's own inputs only,
 * and no stale temporaries removed yet. */
static floe_err check_paths(const floe_job_request *q, const floe_dataset *ds,
                            const char *const *extra, size_t nextra, const job_outputs *o)
{
    floe_output_path outs[JOB_OUT_COUNT];
    size_t nouts = 0;
    for (int k = 0; k < JOB_OUT_COUNT; k++)
        if (o->path[k]) {
            outs[nouts] = kinds[k];
            outs[nouts++].path = o->path[k];
        }
    floe_local_input *ins = NULL;
    size_t nins = 0;
    FLOE_CHECK(floe_dataset_local_inputs(ds, &q->open, &ins, &nins));
    floe_local_input *all = realloc(ins, (nins + nextra + 2) * sizeof *all);
    if (!all) {
        floe_local_inputs_free(&ins, nins);
        return FLOE_ERR(FLOE_ENOMEM, "checking the output paths");
    }
    ins = all;
    floe_err err = NULL;
    for (size_t i = 0; i < nextra && !err; i++) {
        char *copy = strdup(extra[i]);
        if (!copy)
            err = FLOE_ERR(FLOE_ENOMEM, "checking the output paths");
        else
            ins[nins++] = (floe_local_input){copy, FLOE_INPUT_FILE, "the input"};
    }
    if (!err && q->anomaly_from) { /* read, never written: an input of every job */
        char *copy = strdup(q->anomaly_from);
        if (!copy)
            err = FLOE_ERR(FLOE_ENOMEM, "checking the output paths");
        else
            ins[nins++] = (floe_local_input){copy, FLOE_INPUT_FILE,
                                             "the climatology (--anomaly-from)"};
    }
    if (!err)
        err = floe_output_paths_check(outs, nouts, ins, nins, q->overwrite);
    floe_local_inputs_free(&ins, nins);
    /* A temporary of an earlier run of these outputs that was killed
     * (SIGKILL, a node crash) is in the way of this one's: removed. */
    for (size_t i = 0; ds && i < nouts && !err; i++) {
        int removed = 0;
        err = floe_file_remove_stale(outs[i].path, &removed);
        if (removed)
            FLOE_INFO("%s %s: removed %d temporary file(s) left by a run that died", outs[i].what,
                      outs[i].path, removed);
    }
    return err;
}

floe_err job_outputs_plan(const floe_mpi *mpi, const floe_job_request *q,
                          const char *const *extra, size_t nextra, job_outputs *o)
{
    memset(o, 0, sizeof *o);
    o->path[JOB_OUT_DATA] = q->output;
    o->path[JOB_OUT_REPORT] = q->report;
    o->collection = q->collection;
    floe_err err = NULL;
    if (q->item)
        o->path[JOB_OUT_ITEM] = q->item;
    else if (!(err = stac_item_default_path(q->output, &o->item_default)))
        o->path[JOB_OUT_ITEM] = o->item_default;
    if (!err && mpi->rank == 0)
        err = check_paths(q, NULL, extra, nextra, o);
    return floe_mpi_agree(mpi->comm, &err); /* collective */
}

floe_err job_outputs_check_sources(const floe_mpi *mpi, const floe_job_request *q,
                                   const floe_dataset *ds, const char *const *extra,
                                   size_t nextra, const job_outputs *o)
{
    floe_err err = NULL;
    if (mpi->rank == 0 && ds)
        err = check_paths(q, ds, extra, nextra, o);
    return floe_mpi_agree(mpi->comm, &err); /* collective */
}

stac_item_dest job_outputs_item_dest(job_outputs *o)
{
    stac_item_dest d = {.item_path = o->path[JOB_OUT_ITEM],
                        .data_file = o->tmp[JOB_OUT_DATA],
                        .item_tmp = &o->tmp[JOB_OUT_ITEM],
                        .collection = o->collection};
    return d;
}

floe_err job_outputs_commit(const floe_mpi *mpi, job_outputs *o, floe_err err)
{
    if (floe_mpi_agree(mpi->comm, &err)) /* collective */
        return err;
    if (mpi->rank == 0) {
        char *tmps[JOB_OUT_COUNT];
        const char *paths[JOB_OUT_COUNT];
        size_t n = 0;
        for (int k = 0; k < JOB_OUT_COUNT && !err; k++) {
            if (!o->path[k])
                continue;
            if (!o->tmp[k])
                err = FLOE_ERR(FLOE_EINTERNAL, "%s %s was not written", kinds[k].what,
                               o->path[k]);
            tmps[n] = o->tmp[k];
            paths[n++] = o->path[k];
        }
        if (!err) {
            err = floe_file_commit_all(n, tmps, paths);
            for (int k = 0; k < JOB_OUT_COUNT; k++) { /* consumed either way */
                free(o->tmp[k]);
                o->tmp[k] = NULL;
            }
        }
    }
    return floe_mpi_agree(mpi->comm, &err); /* collective */
}

void job_outputs_free(job_outputs *o)
{
    for (int k = 0; k < JOB_OUT_COUNT; k++)
        floe_file_discard_temp(&o->tmp[k]);
    free(o->item_default);
    o->item_default = NULL;
}
