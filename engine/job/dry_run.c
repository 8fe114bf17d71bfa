/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/dry_run.c - see dry_run.h: the plan's totals, the ranks'
 * resident memory gathered, and the plan printed (text or JSON); a run's
 * replay made into each rank's ref table and handed out. */
#include "engine/job/dry_run.h"

#include "cf/time.h"
#include "common/floe_log.h"
#include "engine/mpi/check.h"
#include "engine/mpi/ref_share.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

floe_err job_dry_run_init(job_dry_run *d, const char *command, const floe_grid_select *g,
                          int nranks)
{
    memset(d, 0, sizeof *d);
    d->command = command;
    d->g = g;
    d->nranks = nranks;
    d->ranks = calloc((size_t)nranks, sizeof *d->ranks);
    return d->ranks ? NULL : FLOE_ERR(FLOE_ENOMEM, "a dry run's plan of %d ranks", nranks);
}

void job_dry_run_free(job_dry_run *d)
{
    for (int r = 0; d->ranks && r < d->nranks; r++) {
        floe_err err = floe_read_plan_finish(NULL, &d->ranks[r].reads);
        floe_err_free(&err);
    }
    free(d->ranks);
    d->ranks = NULL;
}

/* The context of make_table: the job's replay of one rank. */
typedef struct share_ctx {
    job_dry_replay replay;
    void *ctx;
} share_ctx;

/* floe_ref_share_make: replay rank `rank`'s reads on a plan that collects
 * its refs, write them as its table, and free the collector. */
static floe_err make_table(void *ctx, int rank, floe_buf *out)
{
    const share_ctx *s = ctx;
    job_dry_rank k;
    memset(&k, 0, sizeof k);
    floe_err err = floe_ref_collector_new(&k.refs);
    k.reads.collect = k.refs;
    if (!err)
        err = s->replay(s->ctx, rank, &k);
    if (!err)
        err = floe_ref_collector_blob(k.refs, out);
    floe_err e = floe_read_plan_finish(NULL, &k.reads); /* its bookkeeping freed */
    floe_err_free(&e);
    floe_ref_collector_free(&k.refs);
    return err;
}

floe_err job_dry_share_refs(const floe_mpi *mpi, floe_dataset *ds, job_dry_replay replay,
                            void *ctx)
{
    share_ctx s = {replay, ctx};
    /* collective */
    return floe_ref_share(mpi, ds, mpi->rank == 0 && replay ? make_table : NULL, &s);
}

uint64_t job_dry_time_chunk_rows(const floe_grid_select *g)
{
    uint64_t ct = g->nvars ? g->vars[0]->chunk_shape[0] : 0;
    if (!ct || !g->count[0])
        return 0;
    return (g->start[0] + g->count[0] - 1) / ct - g->start[0] / ct + 1;
}

uint64_t job_dry_fetch_memory(const job_dry_rank *r)
{
    return r->reads.largest_wave + r->reads.largest_chunk;
}

int job_dry_summary_wanted(const floe_mpi *mpi, const floe_job_request *q)
{
    return mpi->rank == 0 && !q->quiet && !q->dry_run && isatty(STDERR_FILENO);
}

/* This process's resident memory now (/proc/self/statm), 0 if unknown. */
static double resident_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    int ok = f && fscanf(f, "%llu %llu", &size, &resident) == 2;
    if (f)
        fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return ok && page > 0 ? (double)resident * (double)page : 0;
}

/* What the plan adds up to. */
typedef struct totals {
    uint64_t chunks, bytes, requests, manifests, peak;
} totals;

/* rss: the resident memory of nrss real ranks; simulated ranks beyond
 * them (a plan for more ranks than it runs on) take the last one's. */
static totals sum(const job_dry_run *d, const double *rss, int nrss)
{
    totals t = {0};
    for (int r = 0; r < d->nranks; r++) {
        const job_dry_rank *k = &d->ranks[r];
        t.chunks += k->reads.chunks;
        t.bytes += k->reads.fetch.bytes;
        t.requests += k->reads.fetch.requests;
        uint64_t peak = (uint64_t)rss[r < nrss ? r : nrss - 1] + k->work_memory + job_dry_fetch_memory(k);
        t.peak = peak > t.peak ? peak : t.peak;
    }
    for (size_t v = 0; v < d->g->nvars; v++)
        t.manifests += d->g->vars[v]->n_manifests;
    return t;
}

/* A selected step's time, ISO 8601 in the source calendar, else its value. */
static void step_text(const floe_grid_select *g, size_t k, char *buf, size_t size)
{
    floe_err err = g->ti ? cf_time_value_format(&g->tunits, g->tv[k], buf, size)
                         : FLOE_ERR(FLOE_EINVAL, "no calendar");
    if (err)
        snprintf(buf, size, "%g", g->tv[k]);
    floe_err_free(&err);
}

/* The selected cells' centres: west, south, east, north. */
static void box_of(const floe_grid_select *g, double b[4])
{
    double y0 = g->yv[g->start[1]], y1 = g->yv[g->start[1] + g->count[1] - 1];
    double x0 = g->xv[g->start[2]], x1 = g->xv[g->start[2] + g->count[2] - 1];
    b[0] = x0 < x1 ? x0 : x1, b[2] = x0 < x1 ? x1 : x0;
    b[1] = y0 < y1 ? y0 : y1, b[3] = y0 < y1 ? y1 : y0;
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static floe_err print_json(const job_dry_run *d, const totals *t, const char *snapshot)
{
    const floe_grid_select *g = d->g;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return FLOE_ERR(FLOE_ENOMEM, "the dry run's JSON");
    cJSON_AddStringToObject(o, "command", d->command);
    cJSON_AddStringToObject(o, "snapshot", snapshot ? snapshot : "");
    cJSON *vars = cJSON_AddArrayToObject(o, "variables");
    for (size_t v = 0; vars && v < g->nvars; v++)
        cJSON_AddItemToArray(vars, cJSON_CreateString(g->vars[v]->name));
    double b[4];
    box_of(g, b);
    cJSON *box = cJSON_AddObjectToObject(o, "box");
    cJSON_AddNumberToObject(box, "west", b[0]);
    cJSON_AddNumberToObject(box, "south", b[1]);
    cJSON_AddNumberToObject(box, "east", b[2]);
    cJSON_AddNumberToObject(box, "north", b[3]);
    cJSON *cells = cJSON_AddObjectToObject(o, "cells");
    cJSON_AddNumberToObject(cells, "lat", (double)g->count[1]);
    cJSON_AddNumberToObject(cells, "lon", (double)g->count[2]);
    char t0[64], t1[64];
    step_text(g, g->start[0], t0, sizeof t0);
    step_text(g, g->start[0] + g->count[0] - 1, t1, sizeof t1);
    cJSON *time = cJSON_AddObjectToObject(o, "time");
    cJSON_AddStringToObject(time, "first", t0);
    cJSON_AddStringToObject(time, "last", t1);
    cJSON_AddNumberToObject(time, "steps", (double)g->count[0]);
    cJSON_AddNumberToObject(o, "chunks", (double)t->chunks);
    cJSON_AddNumberToObject(o, "manifests", (double)t->manifests);
    cJSON_AddNumberToObject(o, "bytes", (double)t->bytes);
    cJSON_AddNumberToObject(o, "requests", (double)t->requests);
    cJSON_AddNumberToObject(o, "ranks", d->nranks);
    cJSON *per = cJSON_AddArrayToObject(o, "per_rank");
    for (int r = 0; per && r < d->nranks; r++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "rank", r);
        cJSON_AddNumberToObject(x, "chunks", (double)d->ranks[r].reads.chunks);
        cJSON_AddNumberToObject(x, "bytes", (double)d->ranks[r].reads.fetch.bytes);
        cJSON_AddItemToArray(per, x);
    }
    cJSON_AddNumberToObject(o, "peak_memory_per_rank", (double)t->peak);
    cJSON_AddNumberToObject(o, "output_bytes", (double)d->output_bytes);
    cJSON_AddNumberToObject(o, "max_pieces", (double)d->max_pieces);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "the dry run's JSON");
    printf("%s\n", text);
    free(text);
    return fflush(stdout) ? FLOE_ERR(FLOE_EIO, "standard output") : NULL;
}

static floe_err print_text(const job_dry_run *d, const totals *t, const char *snapshot)
{
    const floe_grid_select *g = d->g;
    double b[4];
    box_of(g, b);
    char t0[64], t1[64];
    step_text(g, g->start[0], t0, sizeof t0);
    step_text(g, g->start[0] + g->count[0] - 1, t1, sizeof t1);
    printf("floe %s: dry run: nothing fetched, nothing written\n", d->command);
    printf("  snapshot     %s\n", snapshot && *snapshot ? snapshot : "(none)");
    printf("  variables    ");
    for (size_t v = 0; v < g->nvars; v++)
        printf("%s%s", v ? "," : "", g->vars[v]->name);
    printf("\n  cells        %zu x %zu (lat x lon), centres lon %g..%g, lat %g..%g\n",
           g->count[1], g->count[2], b[0], b[2], b[1], b[3]);
    printf("  time         %zu steps, %s .. %s\n", g->count[0], t0, t1);
    printf("  reads        %llu chunks from %llu manifest(s): %llu bytes (%.1f MiB) in %llu "
           "requests after coalescing\n", (unsigned long long)t->chunks,
           (unsigned long long)t->manifests, (unsigned long long)t->bytes, mib(t->bytes),
           (unsigned long long)t->requests);
    printf("  ranks        %d\n", d->nranks);
    for (int r = 0; r < d->nranks; r++)
        printf("    rank %-5d %llu chunks, %llu bytes (%.1f MiB)\n", r,
               (unsigned long long)d->ranks[r].reads.chunks,
               (unsigned long long)d->ranks[r].reads.fetch.bytes,
               mib(d->ranks[r].reads.fetch.bytes));
    printf("  peak memory  %.0f MiB per rank (the largest, estimated)\n", mib(t->peak));
    printf("  output       about %.1f MiB (the values, uncompressed)\n", mib(d->output_bytes));
    printf("  pieces       at most %llu pieces with work each (--piece I/N)\n",
           (unsigned long long)d->max_pieces);
    return fflush(stdout) ? FLOE_ERR(FLOE_EIO, "standard output") : NULL;
}

void job_dry_summary_print(floe_dataset *ds, job_dry_run *d)
{
    for (int r = 0; r < d->nranks; r++) {
        floe_err e = floe_read_plan_finish(ds, &d->ranks[r].reads);
        floe_err_free(&e);
    }
    double rss = resident_now();
    {
        totals t = sum(d, &rss, 1);
        fprintf(stderr, "floe: plan: %llu chunks, %.1f MiB in %llu requests on %d rank(s), "
                "about %.0f MiB memory per rank, output about %.1f MiB\n",
                (unsigned long long)t.chunks, mib(t.bytes), (unsigned long long)t.requests,
                d->nranks, mib(t.peak), mib(d->output_bytes));
        fflush(stderr);
    }
    job_dry_run_free(d);
}

floe_err job_dry_run_end(const floe_mpi *mpi, const floe_job_request *q, floe_dataset *ds,
                         job_dry_run *d, floe_err err)
{
    for (int r = 0; !err && mpi->rank == 0 && r < d->nranks; r++)
        err = floe_read_plan_finish(ds, &d->ranks[r].reads);
    double mine = resident_now();
    double *rss = calloc((size_t)mpi->size, sizeof *rss);
    if (!rss && !err)
        err = FLOE_ERR(FLOE_ENOMEM, "the dry run's memory figures");
    if (floe_mpi_agree(mpi->comm, &err)) { /* collective */
        free(rss);
        return err;
    }
    if (mpi->size == 1)
        rss[0] = mine;
    else
        err = FLOE_CHECK_MPI(MPI_Gather(&mine, 1, MPI_DOUBLE, rss, 1, MPI_DOUBLE, 0, mpi->comm),
                             "the ranks' resident memory"); /* collective */
    if (!err && mpi->rank == 0) {
        totals t = sum(d, rss, mpi->size);
        /* the version it read: a batch job pins it (floe sbatch) */
        const char *snap = floe_dataset_provenance(ds)->snapshot_id;
        err = q->dry_run_json ? print_json(d, &t, snap) : print_text(d, &t, snap);
    }
    free(rss);
    return floe_mpi_agree(mpi->comm, &err); /* collective */
}
