/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/accum.h - per-cell temporal statistics (mean, min, max, sum, population
 * std, count) that skip missing values (NaN), and the one canonical way of
 * combining them so that every rank count gives the same bits.
 *
 * floe_accum is the state of a set of cells over some time steps: Welford's
 * running mean and sum of squared deviations (m2), so the std of values
 * around 1e6 with a tiny spread survives (a naive sum of squares cancels),
 * min/max in the type of the values, a double sum and a uint32 count. Only
 * the arrays a stats mask needs are allocated: all six cost 36 bytes a cell
 * for float values (44 for double ones), mean alone 12, because a rank keeps
 * one per tile it owns.
 *
 * Values are float (float32 sources and 8/16-bit packed ones, whose
 * statistics are written as float32) or, with FLOE_ACCUM_F64 in the mask,
 * double (every other type: integers of any width, float64, data unpacked
 * to float64), whose statistics are written as float64. Either way the
 * arithmetic is in double; only the input and min/max differ.
 *
 * Two accumulators of consecutive time ranges combine with Chan et al.'s
 * pairwise formula (floe_accum_merge). Floating-point merging is not
 * associative, so WHICH merges happen, in which order, decides the bits.
 * floe_accum_tree fixes that order independently of the rank count:
 *
 *   - the selected time range (steps 0..nsteps-1, step 0 being its first
 *     step) is cut into blocks of `block_steps` steps; block b holds steps
 *     [b*B, (b+1)*B), the last one may be short;
 *   - each block is accumulated with Welford, step by step, from empty;
 *   - blocks are merged pairwise in the fixed binary tree over block
 *     indices: node (level L, k) covers blocks [k*2^L, (k+1)*2^L) and is
 *     merge(node(L-1, 2k), node(L-1, 2k+1)), the earlier one first; nodes
 *     past the last block are empty, and merging with an empty cell copies
 *     the other exactly.
 *
 * A rank that owns the steps of blocks [b0, b1) builds the nodes that lie
 * inside its range (at most about 2*log2(b1-b0) of them: the tree merges
 * as soon as two siblings are both complete, so memory stays bounded), and
 * ships them (floe_accum_tree_serialize). The root absorbs every rank's
 * nodes in time order (floe_accum_tree_absorb) and finishes the tree
 * (floe_accum_tree_result). The result depends only on the data and B, not
 * on where the ranks' ranges start: any split along block boundaries, and
 * any grouping of the absorbs, gives identical bits. (A left-to-right fold
 * over blocks would too, but only if every rank sent each block separately
 * or waited for its predecessor's total; the tree lets each rank reduce its
 * share locally, in parallel, in O(log) memory, and is pairwise summation,
 * which is also the more accurate order.)
 *
 * Steps added to a cell must arrive in time order within a block; cells are
 * independent, so a step may be added in pieces (floe_accum_add_cells over
 * rows or chunks), as long as each cell sees each step once.
 *
 * Implemented in stat_names.c (names and --stat lists), accum.c (one
 * accumulator: the per-value kernels, merge, results), accum_serial.c (its
 * wire form) and merge_tree.c (the block tree).
 */
#ifndef FLOE_ACCUM_H
#define FLOE_ACCUM_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

/* The statistics, as bits of a mask. */
enum {
    FLOE_STAT_MEAN = 1u << 0,
    FLOE_STAT_MIN = 1u << 1,
    FLOE_STAT_MAX = 1u << 2,
    FLOE_STAT_SUM = 1u << 3,
    FLOE_STAT_STD = 1u << 4,   /* population: sqrt(sum (x - mean)^2 / n), as CDO timstd */
    FLOE_STAT_COUNT = 1u << 5, /* number of valid (non-NaN) values */
    FLOE_STAT_ALL = (1u << 6) - 1,
};

/* Not a statistic: an option bit of an accumulator's mask (floe_accum_init,
 * floe_accum_tree_init) saying that its values are double, added with
 * floe_accum_add_cells_f64. It travels
 * with the mask, so trees and their wire form keep the two kinds apart. */
enum { FLOE_ACCUM_F64 = 1u << 8, FLOE_ACCUM_MASK_ALL = FLOE_STAT_ALL | FLOE_ACCUM_F64 };

/* "mean", "min", ...; NULL for a mask that is not exactly one stat. */
const char *floe_stat_name(unsigned stat);
/* One name ("mean") to its bit; FLOE_EINVAL naming it otherwise. */
floe_err floe_stat_parse(const char *name, unsigned *stat);
/* A comma-separated list ("mean,std") to a mask, restricted to `allowed`
 * (e.g. FLOE_STAT_MEAN | FLOE_STAT_STD | FLOE_STAT_COUNT for climatology).
 * Errors name the list and the bad or repeated item. */
floe_err floe_stat_parse_list(const char *text, unsigned allowed, unsigned *mask);

typedef struct floe_accum {
    size_t ncells;
    unsigned stats;   /* the mask it was created for (FLOE_ACCUM_F64 included) */
    uint32_t *count;  /* always: valid values per cell */
    double *mean;     /* MEAN or STD */
    double *m2;       /* STD: sum of squared deviations from the mean */
    float *min, *max; /* MIN, MAX of float values */
    double *dmin, *dmax; /* MIN, MAX of double values (FLOE_ACCUM_F64) */
    double *sum;      /* SUM */
    /* Set by the tree on its block accumulators when the mask has MEAN but
     * not STD: `mean` then holds each cell's sum of valid values while the
     * block fills (no division per value: the mean-only add is about twice
     * as fast), and becomes the mean when the block completes. Within a
     * block of at most a few dozen float32 values the double sum is exact
     * or nearly so, and blocks are fixed by the step grid, so the bits
     * still do not depend on the rank count. */
    int mean_as_sum;
} floe_accum;

/* An empty accumulator (every cell without data). stats must hold at least
 * one statistic and nothing outside FLOE_ACCUM_MASK_ALL. ncells may be 0. */
floe_err floe_accum_init(floe_accum *a, size_t ncells, unsigned stats);
/* Bytes per cell of one accumulator with this mask (4 to 44), for sizing
 * tiles: a tree holds its block plus about log2(blocks) nodes. */
size_t floe_accum_cell_bytes(unsigned stats);
/* Frees the arrays; a zeroed or freed accumulator may be freed again. */
void floe_accum_free(floe_accum *a);
/* Back to empty, keeping the memory. */
void floe_accum_reset(floe_accum *a);

/* Welford: add one time step's values for cells [first, first + n); NaN is
 * missing and skipped. FLOE_EINTERNAL if the range is outside the cells,
 * or if the values are not of the accumulator's kind (FLOE_ACCUM_F64). */
floe_err floe_accum_add_cells(floe_accum *a, size_t first, const float *values, size_t n);
floe_err floe_accum_add_cells_f64(floe_accum *a, size_t first, const double *values, size_t n);
/* The same for all cells: values holds ncells values (must equal a->ncells). */
floe_err floe_accum_add_step(floe_accum *a, const float *values, size_t ncells);

/* Chan: into := the statistics of into's steps followed by from's. `into`
 * must be the EARLIER range (the formula is not symmetric in rounding).
 * A cell empty on one side becomes an exact copy of the other side.
 * FLOE_EINTERNAL if the cell counts or stats masks differ. */
floe_err floe_accum_merge(floe_accum *into, const floe_accum *from);

/* One statistic (a single FLOE_STAT_* bit the accumulator holds) for every
 * cell, as float. Cells with no valid value get `missing`, except COUNT,
 * which is 0 there (a count of zero is data). STD uses the divisor n, so a
 * cell with one value has std 0. */
floe_err floe_accum_result(const floe_accum *a, unsigned stat, float *out, float missing);
/* The same as double. Either function reads either kind of accumulator:
 * float results of double values are rounded once, at the end (8/16-bit
 * packed data are written as float32 but summed from their float64
 * unpacked values). */
floe_err floe_accum_result_f64(const floe_accum *a, unsigned stat, double *out, double missing);

/* Flat, native-endian serialization for MPI (ranks of one job share the
 * architecture): a header (magic, ncells, stats) followed by the arrays. */
size_t floe_accum_serial_size(const floe_accum *a);
/* Writes floe_accum_serial_size(a) bytes; FLOE_EINTERNAL if size is short. */
floe_err floe_accum_serialize(const floe_accum *a, void *buf, size_t size);
/* Initialises *a from a buffer written by floe_accum_serialize; on error *a
 * is left zeroed. FLOE_EFORMAT names what is wrong (truncated, bad magic). */
floe_err floe_accum_deserialize(floe_accum *a, const void *buf, size_t size);

/* ---- the canonical block tree ------------------------------------------ */

/* The default block length: independent of the rank count, so results
 * are too. (Any value works; it only has to be the same everywhere.) */
enum { FLOE_ACCUM_BLOCK_STEPS = 32 };

/* The tree's fields are its own; use the functions below. */
typedef struct floe_accum_node {
    size_t block;      /* first block it covers */
    unsigned level;    /* covers 2^level blocks */
    size_t step_lo, step_hi; /* the steps it covers (hi exclusive) */
    floe_accum *acc;   /* NULL: no step of the range added any cell */
} floe_accum_node;

typedef struct floe_accum_tree {
    size_t ncells;
    unsigned stats;
    size_t block_steps;
    size_t next_step;      /* the first step not yet covered */
    int closed;            /* a short block ended the range: no more steps */
    int step_open;         /* floe_accum_tree_block since the last end_step */
    floe_accum *block;     /* the block being accumulated, NULL until used */
    size_t block_first;    /* its first step */
    floe_accum_node *nodes; /* the stack, earliest first */
    size_t nnodes, cap;
    floe_accum **pool;     /* spare accumulators to reuse */
    size_t npool, pool_cap;
} floe_accum_tree;

/* A tree for the steps starting at first_step (0 on the root, the first
 * step of its range on a rank), which must be a multiple of block_steps. */
floe_err floe_accum_tree_init(floe_accum_tree *t, size_t ncells, unsigned stats,
                              size_t block_steps, size_t first_step);
void floe_accum_tree_free(floe_accum_tree *t);

/* The accumulator of the current block (borrowed; valid until the next
 * floe_accum_tree_end_step): add this step's values to it with
 * floe_accum_add_cells/add_step. It is created on first use, so steps
 * that add nothing (a climatology group that does not occur in a block)
 * cost no memory. */
floe_err floe_accum_tree_block(floe_accum_tree *t, floe_accum **block);
/* The current step is done (call it for every step of the range, whether
 * or not anything was added); completes the block at its boundary. */
floe_err floe_accum_tree_end_step(floe_accum_tree *t);

/* The nodes built so far (closing a short last block), for MPI: */
floe_err floe_accum_tree_serial_size(floe_accum_tree *t, size_t *size);
floe_err floe_accum_tree_serialize(floe_accum_tree *t, void *buf, size_t size);
/* Absorb another tree's nodes, given as its serialization: they must
 * continue this tree's range exactly (the next rank in time order). A
 * tree that saw no step at all (a rank with nothing to do) is skipped
 * wherever it starts.
 * FLOE_EFORMAT for a corrupt buffer, FLOE_EINTERNAL naming the steps for
 * a gap, an overlap or a mismatched block length / cell count / mask. */
floe_err floe_accum_tree_absorb(floe_accum_tree *t, const void *buf, size_t size);
/* The same without serializing; `from` is left empty (its nodes move). */
floe_err floe_accum_tree_absorb_tree(floe_accum_tree *t, floe_accum_tree *from);

/* Finish the tree (root only: it must start at step 0) and return the
 * canonical accumulator of every step seen (borrowed, owned by t; valid
 * until floe_accum_tree_free). With no steps at all it is an empty one. */
floe_err floe_accum_tree_result(floe_accum_tree *t, const floe_accum **out);

#endif
