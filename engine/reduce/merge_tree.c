/* SPDX-License-Identifier: Apache-2.0 */
/* engine/reduce/merge_tree.c - the canonical block tree (accum.h): steps
 * cut into fixed blocks, blocks merged pairwise in a fixed binary tree, so
 * that the bits of a result do not depend on the rank count. A rank builds
 * the nodes inside its range, ships them, and the root absorbs them in
 * time order. Accumulators are pooled and reused. */
#include "engine/reduce/accum.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void acc_destroy(floe_accum **a)
{
    if (*a) {
        floe_accum_free(*a);
        free(*a);
        *a = NULL;
    }
}

/* An empty accumulator, reused from the pool when possible. */
static floe_err acc_acquire(floe_accum_tree *t, floe_accum **out)
{
    if (t->npool > 0) {
        *out = t->pool[--t->npool];
        floe_accum_reset(*out);
        return NULL;
    }
    floe_accum *a = malloc(sizeof *a);
    if (!a)
        return FLOE_ERR(FLOE_ENOMEM, "accumulator: out of memory");
    floe_err err = floe_accum_init(a, t->ncells, t->stats);
    if (err) {
        free(a);
        return err;
    }
    *out = a;
    return NULL;
}

/* The accumulator of a new block: sums for the mean when there is no std
 * (see floe_accum.mean_as_sum). */
static floe_err block_acquire(floe_accum_tree *t, floe_accum **out)
{
    FLOE_CHECK(acc_acquire(t, out));
    (*out)->mean_as_sum = (t->stats & FLOE_STAT_MEAN) && !(t->stats & FLOE_STAT_STD);
    return NULL;
}

/* Keep a spare for the next block (at most a few: a block and a merge's
 * right-hand side are all that is ever needed at once). */
static void acc_release(floe_accum_tree *t, floe_accum *a)
{
    if (!a)
        return;
    if (t->npool < 2) {
        if (t->npool == t->pool_cap) {
            floe_accum **p = realloc(t->pool, 2 * sizeof *p);
            if (!p) {
                acc_destroy(&a);
                return;
            }
            t->pool = p;
            t->pool_cap = 2;
        }
        t->pool[t->npool++] = a;
        return;
    }
    acc_destroy(&a);
}

floe_err floe_accum_tree_init(floe_accum_tree *t, size_t ncells, unsigned stats,
                              size_t block_steps, size_t first_step)
{
    memset(t, 0, sizeof *t);
    if (block_steps == 0 || first_step % block_steps != 0)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: first step %zu is not on a boundary of %zu-step blocks",
                        first_step, block_steps);
    if ((stats & FLOE_STAT_ALL) == 0 || (stats & ~(unsigned)FLOE_ACCUM_MASK_ALL))
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator tree: bad stats mask 0x%x", stats);
    t->ncells = ncells;
    t->stats = stats;
    t->block_steps = block_steps;
    t->next_step = first_step;
    t->block_first = first_step;
    return NULL;
}

void floe_accum_tree_free(floe_accum_tree *t)
{
    acc_destroy(&t->block);
    for (size_t i = 0; i < t->nnodes; i++)
        acc_destroy(&t->nodes[i].acc);
    for (size_t i = 0; i < t->npool; i++)
        acc_destroy(&t->pool[i]);
    free(t->nodes);
    free(t->pool);
    memset(t, 0, sizeof *t);
}

/* a := a followed by b (either may be NULL = empty); b is consumed. */
static floe_err merge_owned(floe_accum_tree *t, floe_accum **a, floe_accum *b)
{
    if (!b)
        return NULL;
    if (!*a) {
        *a = b;
        return NULL;
    }
    floe_err err = floe_accum_merge(*a, b);
    acc_release(t, b);
    return err;
}

static int siblings(const floe_accum_node *x, const floe_accum_node *y)
{
    size_t span = (size_t)1 << x->level;
    return x->level == y->level && (x->block / span) % 2 == 0 && y->block == x->block + span;
}

/* Push a node that continues the tree's range (already validated), then
 * merge complete sibling pairs on top: only siblings ever merge, so every
 * node holds the canonical value of its subtree. On error node.acc is
 * freed. */
static floe_err push_node(floe_accum_tree *t, floe_accum_node node)
{
    if (t->nnodes == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        floe_accum_node *p = realloc(t->nodes, cap * sizeof *p);
        if (!p) {
            acc_destroy(&node.acc);
            return FLOE_ERR(FLOE_ENOMEM, "accumulator tree: out of memory");
        }
        t->nodes = p;
        t->cap = cap;
    }
    t->nodes[t->nnodes++] = node;
    t->next_step = node.step_hi;
    if (node.step_hi - node.step_lo < ((size_t)1 << node.level) * t->block_steps)
        t->closed = 1; /* a short block: the end of the time range */
    while (t->nnodes >= 2) {
        floe_accum_node *x = &t->nodes[t->nnodes - 2], *y = &t->nodes[t->nnodes - 1];
        if (!siblings(x, y))
            break;
        floe_accum *yacc = y->acc;
        x->level++;
        x->step_hi = y->step_hi;
        t->nnodes--;
        FLOE_CHECK(merge_owned(t, &x->acc, yacc), "accumulator tree");
    }
    return NULL;
}

/* A block's sums become means (the block is complete). */
static void settle_sums(floe_accum *a)
{
    if (!a->mean_as_sum)
        return;
    for (size_t i = 0; i < a->ncells; i++)
        a->mean[i] = a->count[i] ? a->mean[i] / (double)a->count[i] : 0.0;
    a->mean_as_sum = 0;
}

/* Complete the current block as a level-0 node. */
static floe_err finish_block(floe_accum_tree *t)
{
    floe_accum_node node = {
        .block = t->block_first / t->block_steps,
        .level = 0,
        .step_lo = t->block_first,
        .step_hi = t->next_step,
        .acc = t->block,
    };
    if (node.acc)
        settle_sums(node.acc);
    t->block = NULL;
    t->block_first = t->next_step;
    return push_node(t, node);
}

floe_err floe_accum_tree_block(floe_accum_tree *t, floe_accum **block)
{
    if (t->closed)
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator tree: step %zu added after the range ended",
                        t->next_step);
    if (!t->block)
        FLOE_CHECK(block_acquire(t, &t->block), "accumulator tree");
    t->step_open = 1;
    *block = t->block;
    return NULL;
}

floe_err floe_accum_tree_end_step(floe_accum_tree *t)
{
    if (t->closed)
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator tree: step %zu added after the range ended",
                        t->next_step);
    t->step_open = 0;
    t->next_step++;
    if (t->next_step - t->block_first == t->block_steps)
        FLOE_CHECK(finish_block(t));
    return NULL;
}

/* The range ends here: a partly filled block becomes a (short) node. */
static floe_err close_range(floe_accum_tree *t)
{
    if (t->step_open)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: step %zu was added to but not ended", t->next_step);
    if (t->closed || t->next_step == t->block_first)
        return NULL;
    FLOE_CHECK(finish_block(t));
    return NULL;
}

static const char tree_magic[8] = {'F', 'L', 'O', 'E', 'T', 'R', 'E', '1'};
enum { TREE_HEADER = 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8, NODE_HEADER = 8 + 4 + 4 + 8 + 8 + 8 };

static size_t range_first_step(const floe_accum_tree *t)
{
    return t->nnodes ? t->nodes[0].step_lo : t->next_step;
}

floe_err floe_accum_tree_serial_size(floe_accum_tree *t, size_t *size)
{
    FLOE_CHECK(close_range(t));
    size_t total = TREE_HEADER;
    for (size_t i = 0; i < t->nnodes; i++)
        total += NODE_HEADER + (t->nodes[i].acc ? floe_accum_serial_size(t->nodes[i].acc) : 0);
    *size = total;
    return NULL;
}

static unsigned char *put(unsigned char *p, const void *v, size_t n)
{
    memcpy(p, v, n);
    return p + n;
}

floe_err floe_accum_tree_serialize(floe_accum_tree *t, void *buf, size_t size)
{
    size_t need;
    FLOE_CHECK(floe_accum_tree_serial_size(t, &need));
    if (size < need)
        return FLOE_ERR(FLOE_EINTERNAL, "accumulator tree: %zu-byte buffer for %zu bytes", size,
                        need);
    unsigned char *p = buf;
    uint64_t ncells = t->ncells, bsteps = t->block_steps, first = range_first_step(t),
             end = t->next_step, nnodes = t->nnodes;
    uint32_t stats = t->stats, zero = 0;
    p = put(p, tree_magic, 8);
    p = put(p, &ncells, 8);
    p = put(p, &stats, 4);
    p = put(p, &zero, 4);
    p = put(p, &bsteps, 8);
    p = put(p, &first, 8);
    p = put(p, &end, 8);
    p = put(p, &nnodes, 8);
    for (size_t i = 0; i < t->nnodes; i++) {
        const floe_accum_node *nd = &t->nodes[i];
        uint64_t block = nd->block, lo = nd->step_lo, hi = nd->step_hi;
        uint64_t asize = nd->acc ? floe_accum_serial_size(nd->acc) : 0;
        uint32_t level = nd->level, has = nd->acc != NULL;
        p = put(p, &block, 8);
        p = put(p, &level, 4);
        p = put(p, &has, 4);
        p = put(p, &lo, 8);
        p = put(p, &hi, 8);
        p = put(p, &asize, 8);
        if (nd->acc) {
            FLOE_CHECK(floe_accum_serialize(nd->acc, p, (size_t)asize));
            p += asize;
        }
    }
    return NULL;
}

/* Is `node` (from another tree) a well-formed continuation of t? */
static floe_err check_node(const floe_accum_tree *t, const floe_accum_node *nd)
{
    size_t b = t->block_steps;
    if (nd->level >= 64 || nd->block % ((size_t)1 << nd->level) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "accumulator tree: node at block %zu, level %u, not aligned",
                        nd->block, nd->level);
    if (t->closed)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: steps %zu.. after the range ended at step %zu",
                        nd->step_lo, t->next_step);
    if (nd->step_lo != t->next_step)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: steps %zu..%zu do not continue the range ending at "
                        "step %zu (absorb ranks in time order)",
                        nd->step_lo, nd->step_hi, t->next_step);
    size_t span = ((size_t)1 << nd->level) * b;
    if (nd->block > SIZE_MAX / b || nd->block * b != nd->step_lo || nd->step_hi <= nd->step_lo ||
        nd->step_hi - nd->step_lo > span)
        return FLOE_ERR(FLOE_EFORMAT, "accumulator tree: node steps %zu..%zu do not match block "
                        "%zu at level %u", nd->step_lo, nd->step_hi, nd->block, nd->level);
    return NULL;
}

/* Before absorbing, t must not be in the middle of a block. */
static floe_err check_absorbable(const floe_accum_tree *t, size_t ncells, unsigned stats,
                                 size_t block_steps, size_t first)
{
    if (ncells != t->ncells || stats != t->stats || block_steps != t->block_steps)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: absorbing %zu cells, stats 0x%x, %zu-step blocks into "
                        "%zu cells, stats 0x%x, %zu-step blocks",
                        ncells, stats, block_steps, t->ncells, t->stats, t->block_steps);
    if (t->next_step != t->block_first || t->step_open)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: absorbing while block at step %zu is still open",
                        t->block_first);
    if (first != t->next_step)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: a range from step %zu does not continue the range "
                        "ending at step %zu (absorb ranks in time order)",
                        first, t->next_step);
    return NULL;
}

static floe_err absorb_node(floe_accum_tree *t, floe_accum_node nd)
{
    floe_err err = check_node(t, &nd);
    if (err) {
        acc_destroy(&nd.acc);
        return err;
    }
    FLOE_CHECK(push_node(t, nd));
    t->block_first = t->next_step;
    return NULL;
}

static int get(const unsigned char **p, size_t *left, void *v, size_t n)
{
    if (*left < n)
        return 0;
    memcpy(v, *p, n);
    *p += n;
    *left -= n;
    return 1;
}

floe_err floe_accum_tree_absorb(floe_accum_tree *t, const void *buf, size_t size)
{
    const unsigned char *p = buf;
    size_t left = size;
    char magic[8];
    uint64_t ncells, bsteps, first, end, nnodes;
    uint32_t stats, reserved;
    if (!get(&p, &left, magic, 8) || !get(&p, &left, &ncells, 8) || !get(&p, &left, &stats, 4) ||
        !get(&p, &left, &reserved, 4) || !get(&p, &left, &bsteps, 8) ||
        !get(&p, &left, &first, 8) || !get(&p, &left, &end, 8) || !get(&p, &left, &nnodes, 8))
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: truncated header (%zu bytes)",
                        size);
    if (memcmp(magic, tree_magic, 8) != 0)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: bad magic");
    if (first == end && nnodes == 0 && left == 0)
        return NULL; /* a rank with no steps (past the end of the range) */
    FLOE_CHECK(check_absorbable(t, (size_t)ncells, stats, (size_t)bsteps, (size_t)first),
               "serialized accumulator tree");
    if (nnodes > left / NODE_HEADER)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: %llu nodes in %zu bytes",
                        (unsigned long long)nnodes, size);
    for (uint64_t i = 0; i < nnodes; i++) {
        uint64_t block, lo, hi, asize;
        uint32_t level, has;
        if (!get(&p, &left, &block, 8) || !get(&p, &left, &level, 4) ||
            !get(&p, &left, &has, 4) || !get(&p, &left, &lo, 8) || !get(&p, &left, &hi, 8) ||
            !get(&p, &left, &asize, 8) || asize > left)
            return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: node %llu truncated",
                            (unsigned long long)i);
        floe_accum_node nd = {.block = (size_t)block, .level = level, .step_lo = (size_t)lo,
                              .step_hi = (size_t)hi, .acc = NULL};
        if (has) {
            nd.acc = malloc(sizeof *nd.acc);
            if (!nd.acc)
                return FLOE_ERR(FLOE_ENOMEM, "serialized accumulator tree: out of memory");
            floe_err err = floe_accum_deserialize(nd.acc, p, (size_t)asize);
            if (!err && (nd.acc->ncells != t->ncells || nd.acc->stats != t->stats))
                err = FLOE_ERR(FLOE_EFORMAT, "accumulator does not match the tree's cells/stats");
            if (err) {
                floe_accum_free(nd.acc);
                free(nd.acc);
                return floe_err_push(err, __FILE__, __LINE__,
                                     " serialized accumulator tree node %llu",
                                     (unsigned long long)i);
            }
        } else if (asize != 0) {
            return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: empty node %llu has %llu "
                            "bytes", (unsigned long long)i, (unsigned long long)asize);
        }
        p += asize;
        left -= asize;
        FLOE_CHECK(absorb_node(t, nd), "serialized accumulator tree node %llu",
                   (unsigned long long)i);
    }
    if (left != 0)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: %zu bytes after the last node",
                        left);
    if (t->next_step != end)
        return FLOE_ERR(FLOE_EFORMAT, "serialized accumulator tree: nodes end at step %zu, header "
                        "says %llu", t->next_step, (unsigned long long)end);
    return NULL;
}

floe_err floe_accum_tree_absorb_tree(floe_accum_tree *t, floe_accum_tree *from)
{
    FLOE_CHECK(close_range(from));
    if (from->nnodes == 0 && range_first_step(from) == from->next_step)
        return NULL; /* a rank with no steps (past the end of the range) */
    FLOE_CHECK(check_absorbable(t, from->ncells, from->stats, from->block_steps,
                                range_first_step(from)));
    size_t n = from->nnodes;
    from->nnodes = 0;
    floe_err err = NULL;
    size_t i = 0;
    for (; i < n && !err; i++)
        err = absorb_node(t, from->nodes[i]);
    for (; i < n; i++) /* nodes not absorbed after an error */
        acc_destroy(&from->nodes[i].acc);
    if (!err && t->next_step != from->next_step) /* an empty range */
        err = FLOE_ERR(FLOE_EINTERNAL, "accumulator tree: absorbed range ends at %zu, not %zu",
                       t->next_step, from->next_step);
    return err;
}

floe_err floe_accum_tree_result(floe_accum_tree *t, const floe_accum **out)
{
    FLOE_CHECK(close_range(t));
    if (range_first_step(t) != 0)
        return FLOE_ERR(FLOE_EINTERNAL,
                        "accumulator tree: the result needs the whole range, this one starts at "
                        "step %zu", range_first_step(t));
    /* The stack is now the binary decomposition of the block count
     * (levels falling); nodes past the end are empty, so the padded
     * tree's value is the right-to-left fold, earlier node first. */
    while (t->nnodes >= 2) {
        floe_accum_node *x = &t->nodes[t->nnodes - 2], *y = &t->nodes[t->nnodes - 1];
        floe_accum *yacc = y->acc;
        x->step_hi = y->step_hi;
        x->level++;
        t->nnodes--;
        FLOE_CHECK(merge_owned(t, &x->acc, yacc), "accumulator tree");
    }
    t->closed = 1;
    if (t->nnodes == 0) {
        floe_accum_node node = {0, 0, 0, 0, NULL};
        t->nodes = t->nodes ? t->nodes : malloc(sizeof *t->nodes);
        if (!t->nodes)
            return FLOE_ERR(FLOE_ENOMEM, "accumulator tree: out of memory");
        if (t->cap == 0)
            t->cap = 1;
        t->nodes[t->nnodes++] = node;
    }
    if (!t->nodes[0].acc)
        FLOE_CHECK(acc_acquire(t, &t->nodes[0].acc), "accumulator tree");
    *out = t->nodes[0].acc;
    return NULL;
}
