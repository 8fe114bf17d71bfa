/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/stats_internal.h - the stats job's state, shared by its
 * phases: stats.c (plan, run), stats_compute.c (accumulating tiles and
 * encoding their chunks) and stats_write.c (the collection on rank 0 and
 * the file). Not for use outside engine/job/. */
#ifndef FLOE_JOB_STATS_INTERNAL_H
#define FLOE_JOB_STATS_INTERNAL_H

#include "cf/decode.h"
#include "cf/time.h"
#include "common/floe_buf.h"
#include "dataset/dataset.h"
#include "engine/job/anomaly.h"
#include "engine/job/checkpoint.h"
#include "engine/job/outputs.h"
#include "engine/job/progress.h"
#include "engine/job/request.h"
#include "engine/job/stats_place.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/comm.h"
#include "engine/plan/climatology_groups.h"
#include "engine/plan/grid_select.h"
#include "engine/plan/resample_periods.h"
#include "engine/plan/stats_plan.h"
#include "engine/reduce/accum.h"
#include "engine/reduce/percentile.h"

#include <math.h>
#include <stdint.h>

/* MAX_STATS: the six statistics of accum.h and the percentiles. */
enum { MAX_VARS = 16, MAX_STATS = 6 + FLOE_PCTL_MAX, MAX_OUT = MAX_VARS * MAX_STATS };

/* In stat_list, percentile k of stats_job.pctl is STATS_PCTL_BIT + k: a
 * value no accumulator statistic has (stats_pctl_index). */
enum { STATS_PCTL_BIT = 1u << 16 };

/* A batch of steps [b0, b1) of one tile: its chunks are requested at once
 * (fetched concurrently, decoded as they arrive, the batches after it read
 * ahead: stats_read_ahead.c) and their values placed by step, then added
 * to the tree in step order. Memory: BATCH_STEPS x the tile's cells, plus
 * the fetcher's window and the chunks read ahead.
 * Why 8: the batch is read back from memory by the adds, so it should stay
 * in the last-level cache (8 x 450,000 cells x 4 bytes = 14 MB for a real
 * NLDAS-3 chunk); 32 (58 MB) cost 10-15% more CPU on a whole-domain
 * climatology, and 4 leaves the fetcher too little to overlap at 20 ms
 * (benchmark W5). */
enum { BATCH_STEPS = 8 };

/* Everything every rank knows identically after phase 1. */
typedef struct stats_job {
    floe_dataset *ds;
    floe_grid_select g;       /* variables, axes, the selected box */
    cf_decoder cf[MAX_VARS];
    /* Variable v's values are double (in64: FLOE_ACCUM_F64) and its
     * statistics written as float64 (out64): engine/job/stat_types.h. */
    int in64[MAX_VARS], out64[MAX_VARS];
    unsigned stats;           /* FLOE_STAT_* mask */
    unsigned stat_list[MAX_STATS]; /* the bits in output order, then the percentiles */
    size_t nstat;
    /* Percentiles (stats_percentile.c): every value of a unit's cells is
     * kept, group by group; pctl_first[g] steps come before group g's,
     * and step s is number pctl_rank[s] of its group. */
    floe_pctl_list pctl;
    size_t *pctl_first;       /* [ngroups + 1] */
    size_t *pctl_rank;        /* [count[0]] */
    stats_plan plan;
    /* Groups of the selected steps: one (every step) for stats. */
    size_t ngroups;
    uint32_t *group_of_step;  /* [count[0]], NULL: all in group 0 */
    floe_clim_groups groups;  /* climatology only */
    floe_resample_periods periods; /* resample only: a group per period */
    job_anomaly anom;         /* --anomaly-from: subtracted as values are read */
    cf_time_units tunits;
    /* time-split phase 2 results, per var x tile x group: serialized
     * partial trees */
    void **partials;          /* [stats_slot_of(v, i, g)] */
    size_t *partial_size;
    /* Space-major with every tile one chunk of the output's grid: ranks
     * encode their own tiles' chunks and rank 0 only stores them (before,
     * rank 0 compressed every output chunk with zlib while the others
     * waited: 12-15% of a whole-domain climatology). The environment
     * variable FLOE_NO_RAW_CHUNKS turns it off, to compare the two paths. */
    int raw_chunks;
    size_t cy, cx;            /* the output chunk shape (lat, lon) */
    /* Rank 0's request (floe_stats_run): the plan must be the same on
     * every rank. */
    size_t tile_memory;
    int raw_allowed;
    job_progress progress;    /* rank 0's chunks */
    floe_collector collector; /* rank 0: phase 3's receiving side */
    job_outputs outputs;      /* the files it writes, committed together */
    floe_buf partial_in;      /* rank 0: another rank's partial tree (time-split) */
    stats_place place;        /* space-major raw chunks each rank writes (stats_place.h) */
    /* --checkpoint, --resume, --piece, merge (stats_checkpoint.c) */
    job_ckpt ckpt;
    double ckpt_saved_at;     /* job_now() of this rank's last save */
    double ckpt_interval;     /* seconds between part-way saves */
} stats_job;

/* The value a statistic has where a cell has no data: the source's fill
 * for float32 and float16 sources (as written before other types were
 * read), NaN for the others, whose fill is an integer or a float64. */
static inline float stats_missing(const stats_job *j, size_t v)
{
    const floe_array *a = j->g.vars[v];
    return a->dtype == FLOE_DT_FLOAT32 || a->dtype == FLOE_DT_FLOAT16 ? (float)a->fill_value
                                                                       : (float)NAN;
}

/* The same as a double, for float64 statistics (grid_output's _FillValue
 * for them). */
static inline double stats_missing_f64(const stats_job *j, size_t v)
{
    const floe_array *a = j->g.vars[v];
    return a->dtype == FLOE_DT_FLOAT32 || a->dtype == FLOE_DT_FLOAT16 ? a->fill_value : NAN;
}

/* Bytes of one statistic of variable v: float or double (a count's
 * block starts with its int32 values: see stats_results_of). */
static inline size_t stats_esize(const stats_job *j, size_t v)
{
    return j->out64[v] ? sizeof(double) : sizeof(float);
}

/* The largest over the variables of one statistic (out = 1) or of one
 * decoded value (out = 0), for buffers shared by all variables. */
static inline size_t stats_esize_max(const stats_job *j, int out)
{
    for (size_t v = 0; v < j->g.nvars; v++)
        if (out ? j->out64[v] : j->in64[v])
            return sizeof(double);
    return sizeof(float);
}

/* The accumulators' mask for variable v: the statistics, and the kind of
 * its values. */
static inline unsigned stats_accum_mask(const stats_job *j, size_t v)
{
    /* percentiles alone: the cheapest accumulator (its results unused) */
    return (j->stats ? j->stats : (unsigned)FLOE_STAT_COUNT) |
           (j->in64[v] ? (unsigned)FLOE_ACCUM_F64 : 0u);
}

/* Index of (variable, tile, group) in the result tables. */
static inline size_t stats_slot_of(const stats_job *j, size_t v, size_t i, size_t g)
{
    return (v * j->plan.ntiles + i) * j->ngroups + g;
}

/* The k-th unit rank 0 writes: (variable, tile) in index order, for every
 * plan and rank count alike, since HDF5 places chunks in the order they
 * are written and the file must not depend on the ranks. */
static inline void stats_write_order(const stats_job *j, size_t k, size_t *v, size_t *i)
{
    *v = k / j->plan.ntiles;
    *i = k % j->plan.ntiles;
}

/* Whether group g becomes an output time step (groups without steps do
 * not: a climatology over a few months writes only those; a resampling
 * period always holds a step). */
static inline int stats_group_written(const stats_job *j, size_t g)
{
    return j->group_of_step == NULL || j->periods.nperiods > 0 || j->groups.nsteps_in[g] > 0;
}

/* Percentile k for an entry of stat_list, or -1 for a statistic. */
static inline int stats_pctl_index(unsigned stat)
{
    return stat >= STATS_PCTL_BIT ? (int)(stat - STATS_PCTL_BIT) : -1;
}

/* stats_compute.c */

/* The statistics of variable v's accumulator tree `tree`: nstat blocks of
 * cells values of stats_esize(j, v) bytes (float or double), owned by the
 * caller; the count's block starts with its cells' int32 values, the type
 * of its output variable. */
floe_err stats_results_of(stats_job *j, size_t v, floe_accum_tree *tree, size_t cells,
                          void **out);
/* The statistics of every group of tile i of variable v over all selected
 * steps (space-major): res[g] as stats_results_of gives them (owned by the
 * caller). vals: room for BATCH_STEPS x a tile's cells of decoded values
 * (stats_esize_max(j, 0) bytes each). */
floe_err stats_compute_unit(stats_job *j, size_t v, size_t i, void *vals, void **res);
/* Space-major work units of `rank`: its tiles of every variable, variable
 * major. stats_unit_at gives the k-th as (v, i). */
size_t stats_unit_count(const stats_job *j, int rank);
void stats_unit_at(const stats_job *j, int rank, size_t k, size_t *v, size_t *i);
/* Phase 2, time-split only: this rank's share of every tile, no
 * communication. */
floe_err stats_compute_shares(stats_job *j, int rank);
/* Raw-chunk output: encode unit (v, i)'s statistics into enc. */
floe_err stats_encode_unit(const stats_job *j, size_t v, size_t i, void **res, floe_buf *enc);
/* Buffers for one unit's encoded chunks (NULL on no memory); freed and
 * NULLed by stats_encode_bufs_free. */
floe_buf *stats_encode_bufs(const stats_job *j);
void stats_encode_bufs_free(const stats_job *j, floe_buf **b);

/* The chunks of steps [b0, b1) of tile t (a chunk spanning several steps
 * once): one batch of accumulate's reads. */
size_t stats_batch_coords(const stats_job *j, const stats_tile *t, size_t b0, size_t b1,
                          uint64_t *coords);

/* stats_read_ahead.c */

/* Which tiles a rank reads after the one it accumulates (steps [s0, s1)
 * of each, same variable), so that accumulate reads them ahead: the
 * tiles of `owner` (space-major units), every tile (STATS_NEXT_ALL: a
 * time-split share) or none (STATS_NEXT_NONE: checkpoint pieces, whose
 * tiles come in another order). */
enum { STATS_NEXT_ALL = -1, STATS_NEXT_NONE = -2 };
typedef struct stats_next {
    int owner;
    size_t s0, s1;
} stats_next;
/* The most chunks of variable v announced ahead of the batch being read. */
size_t stats_ahead_window(const stats_job *j, size_t v);
/* The chunks to announce with the batch of tile i that ends at step b1
 * of [.., s1): the following batches of the tile, then of the next tiles
 * `next` names, at most max, into out (3 per chunk; the chunk grid is
 * every variable's). */
size_t stats_ahead_coords(const stats_job *j, size_t i, size_t b1, size_t s1,
                          const stats_next *next, size_t max, uint64_t *out);

/* dry_run_stats.c */

/* After phase 1: with req->job.dry_run, COLLECTIVE: print the plan
 * (engine/job/dry_run.h) and return the agreed result; otherwise, on
 * rank 0 on a terminal, print its short summary (not collective, never
 * fails). */
floe_err stats_dry_run(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req);
/* COLLECTIVE, a run after stats_ckpt_open and before its reads: every
 * rank gets the table of the refs its units read (dry_run.h
 * job_dry_share_refs), as stats_ckpt_compute or the plan shares them out.
 * The result is agreed. */
floe_err stats_share_refs(stats_job *j, const floe_mpi *mpi);
/* Steps [s0, s1) of tile i of variable v into trees (one per group,
 * initialised here at s0, as phase 2 does), stopping early at a block
 * boundary where stats_ckpt_due says so: *end = where it stopped. */
floe_err stats_accumulate_part(stats_job *j, size_t v, size_t i, size_t s0, size_t s1,
                               const stats_next *next, floe_accum_tree *trees, void *vals,
                               size_t *end);

/* stats_checkpoint.c */

/* COLLECTIVE: after phase 1, the store for the request (nothing without
 * --checkpoint, --resume, --piece or merge; percentiles are refused with
 * them). */
floe_err stats_ckpt_open(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req);
/* Whether a checkpointing rank should save its trees now: a stop was
 * asked for, or ckpt_interval passed since its last save. */
int stats_ckpt_due(const stats_job *j);
/* Phase 2 with a store, no communication: this rank's units (its tiles,
 * or its time share of every tile; a piece's share), continuing from the
 * ones saved, saving each as it completes and part-way when due;
 * FLOE_EINTERRUPTED when a stop was asked for (what is done is saved). */
floe_err stats_ckpt_compute(stats_job *j, const floe_mpi *mpi);
/* A piece's share (--piece I/N): steps [*s0, *s1) of variables [*v0, *v1)
 * of every tile. By time: as rank I-1 of an N-way time split, every
 * variable; by variable: every step of its variables. */
void stats_ckpt_piece_share(const stats_job *j, size_t *s0, size_t *s1, size_t *v0, size_t *v1);
/* Phase 3 with a store, rank 0: the statistics of every group of tile i
 * of variable v from the saved units, absorbed in time order
 * (res[g] as stats_results_of gives them, owned by the caller). */
floe_err stats_ckpt_results(stats_job *j, size_t v, size_t i, void **res);

/* stats_percentile.c */

/* Phase 1, after the groups: the step tables (nothing without
 * percentiles). */
floe_err stats_pctl_prepare(stats_job *j);
/* Bytes per cell of variable v's kept values (0 without percentiles). */
size_t stats_pctl_cell_bytes(const stats_job *j, size_t v);
/* Keep steps [b0, b1) of a tile's batch (vals as place_tile wrote them:
 * (b1 - b0) x cells) in keep, a unit's values (stats_pctl_cell_bytes x
 * cells bytes). */
void stats_pctl_keep(const stats_job *j, size_t v, size_t cells, size_t b0, size_t b1,
                     const void *vals, void *keep);
/* Fill the percentile blocks of res (stats_results_of's form) of group g
 * from the kept values. */
floe_err stats_pctl_results(const stats_job *j, size_t v, const void *keep, size_t g,
                            size_t cells, void *res);

/* stats_write.c */

/* Phase 3 on the other ranks: send, in the order rank 0 receives. */
floe_err stats_send_share(stats_job *j, const floe_mpi *mpi);
/* Phase 3 on rank 0: write the file (and then the Item). Collective over
 * mpi->comm when j->place.on (the placement: stats_place_write). */
floe_err stats_write_output(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req);

/* Placed output (stats_place.h, stats_place.c). Collective over mpi->comm:
 * does phase 3 place the output's chunks? Only space-major with raw
 * chunks and no store, which every rank knows alike; there rank 0's wish
 * (no --gather-output, an output of at least STATS_PLACE_MIN_BYTES)
 * holds, and then the ranks must share the output's file system (probed).
 * Sets j->place.on. */
floe_err stats_place_decide(stats_job *j, const floe_mpi *mpi, const floe_stats_request *req);
/* Another rank: the sizes of a unit's chunks (enc, as stats_encode_unit
 * gives them), one payload of uint64s in the order rank 0 writes them. */
floe_err stats_place_send_sizes(stats_job *j, const floe_mpi *mpi, const floe_buf *enc);
/* Rank 0: rank r's unit (v, i) as the sizes of its chunks, for which
 * placeholders go into out in their turn (noted in j->place) unless
 * `write` is 0 (a failure here: the sizes are received and dropped). */
floe_err stats_place_recv_unit(stats_job *j, int r, struct cf_grid_output *out,
                               const size_t *tindex, size_t v, size_t i, int write);

#endif
