/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the per-cell temporal statistics (engine/reduce/accum.h).
 *
 * The reference is an independent two-pass computation in long double
 * over the same float data (mean = sum/n, then the population variance
 * sum((x - mean)^2)/n), and, for the block tree, a direct recursive
 * evaluation of the documented canonical tree. Determinism is checked
 * bit for bit: splitting the time axis among 1, 2, 3, 7 "ranks" (and
 * random splits) along block boundaries, shipped serialized and absorbed
 * in order, must give the same bytes. */
#include "engine/reduce/accum.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a small deterministic generator. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }

/* data[t * ncells + c]: random values with NaNs. Cell 0 is all missing,
 * cell 1 has exactly one value, cells 2.. have a missing fraction that
 * grows with the cell index; scales and offsets vary per cell. */
static float *make_data(size_t nsteps, size_t ncells, uint64_t seed)
{
    rng_state = seed;
    float *d = malloc(nsteps * ncells * sizeof *d);
    assert_non_null(d);
    for (size_t c = 0; c < ncells; c++) {
        double offset = (rng_unit() - 0.5) * 2000, scale = pow(10, 3 * rng_unit() - 1);
        double pmiss = (double)(c % 10) / 12;
        for (size_t t = 0; t < nsteps; t++) {
            float v = (float)(offset + scale * (rng_unit() - 0.5));
            if (c == 0 || (c == 1 && t != nsteps / 2) || (c > 1 && rng_unit() < pmiss))
                v = NAN;
            d[t * ncells + c] = v;
        }
    }
    return d;
}

typedef struct ref_stats {
    long double mean, std, sum;
    float min, max;
    unsigned count;
} ref_stats;

static ref_stats two_pass(const float *d, size_t nsteps, size_t ncells, size_t c)
{
    ref_stats r = {0, 0, 0, INFINITY, -INFINITY, 0};
    for (size_t t = 0; t < nsteps; t++) {
        float x = d[t * ncells + c];
        if (isnan(x))
            continue;
        r.count++;
        r.sum += x;
        r.min = x < r.min ? x : r.min;
        r.max = x > r.max ? x : r.max;
    }
    if (r.count == 0)
        return r;
    r.mean = r.sum / r.count;
    long double ss = 0;
    for (size_t t = 0; t < nsteps; t++) {
        float x = d[t * ncells + c];
        if (!isnan(x))
            ss += ((long double)x - r.mean) * ((long double)x - r.mean);
    }
    r.std = sqrtl(ss / r.count);
    return r;
}

static void assert_close(double got, long double want, double rel, double abs_tol, const char *what,
                         size_t cell)
{
    double diff = fabs(got - (double)want);
    if (!(diff <= rel * fabs((double)want) + abs_tol))
        fail_msg("%s of cell %zu: got %.9g, want %.12Lg (diff %.3g)", what, cell, got, want, diff);
}

/* Compare an accumulator's results with the two-pass reference. */
static void check_against_reference(const floe_accum *a, const float *d, size_t nsteps,
                                    size_t ncells, double std_rel)
{
    const float missing = -9999.0f;
    float *out[6];
    static const unsigned stats[6] = {FLOE_STAT_MEAN, FLOE_STAT_MIN, FLOE_STAT_MAX,
                                      FLOE_STAT_SUM,  FLOE_STAT_STD, FLOE_STAT_COUNT};
    for (int s = 0; s < 6; s++) {
        out[s] = malloc(ncells * sizeof(float));
        assert_non_null(out[s]);
        expect_ok(floe_accum_result(a, stats[s], out[s], missing));
    }
    for (size_t c = 0; c < ncells; c++) {
        ref_stats r = two_pass(d, nsteps, ncells, c);
        assert_true(out[5][c] == (float)r.count);
        if (r.count == 0) {
            for (int s = 0; s < 5; s++)
                assert_true(out[s][c] == missing);
            continue;
        }
        assert_close(out[0][c], r.mean, 2e-7, 1e-30, "mean", c);
        assert_true(out[1][c] == r.min);
        assert_true(out[2][c] == r.max);
        /* the sum's rounding is relative to the magnitudes added */
        long double mag = 0;
        for (size_t t = 0; t < nsteps; t++)
            if (!isnan(d[t * ncells + c]))
                mag += fabsl((long double)d[t * ncells + c]);
        assert_close(out[3][c], r.sum, 2e-7, 1e-12 * (double)mag, "sum", c);
        assert_close(out[4][c], r.std, std_rel, 1e-30, "std", c);
    }
    for (int s = 0; s < 6; s++)
        free(out[s]);
}

static void fill_single_pass(floe_accum *a, const float *d, size_t t0, size_t t1, size_t ncells)
{
    for (size_t t = t0; t < t1; t++)
        expect_ok(floe_accum_add_step(a, d + t * ncells, ncells));
}

static void test_single_pass_vs_two_pass(void **state)
{
    (void)state;
    size_t nsteps = 300, ncells = 97;
    float *d = make_data(nsteps, ncells, 1);
    floe_accum a;
    expect_ok(floe_accum_init(&a, ncells, FLOE_STAT_ALL));
    fill_single_pass(&a, d, 0, nsteps, ncells);
    check_against_reference(&a, d, nsteps, ncells, 1e-6);
    floe_accum_free(&a);
    floe_accum_free(&a); /* safe twice */
    free(d);
}

/* Values around 1e6 with a spread of a few float ulps (0.0625): the
 * textbook case where var = (sum x^2 - (sum x)^2 / n) / n loses every
 * digit. The test first shows that the naive formula (in double) is far
 * off, so it could catch an implementation that used it. */
static void test_catastrophic_cancellation(void **state)
{
    (void)state;
    size_t nsteps = 2000, ncells = 8;
    float *d = malloc(nsteps * ncells * sizeof *d);
    rng_state = 7;
    for (size_t i = 0; i < nsteps * ncells; i++) {
        size_t c = i % ncells;
        d[i] = (float)(1e6 * (1 + (double)c) + 0.0625 * (double)(rng_next() % 4));
    }
    size_t naive_failed = 0;
    for (size_t c = 0; c < ncells; c++) {
        double s = 0, s2 = 0;
        for (size_t t = 0; t < nsteps; t++) {
            double x = d[t * ncells + c];
            s += x;
            s2 += x * x;
        }
        double var = (s2 - s * s / (double)nsteps) / (double)nsteps;
        ref_stats r = two_pass(d, nsteps, ncells, c);
        double naive = var > 0 ? sqrt(var) : 0;
        if (fabs(naive - (double)r.std) > 0.01 * (double)r.std)
            naive_failed++;
    }
    assert_true(naive_failed >= ncells / 2);

    floe_accum a;
    expect_ok(floe_accum_init(&a, ncells, FLOE_STAT_MEAN | FLOE_STAT_STD | FLOE_STAT_COUNT));
    fill_single_pass(&a, d, 0, nsteps, ncells);
    float std[8], mean[8];
    expect_ok(floe_accum_result(&a, FLOE_STAT_STD, std, NAN));
    expect_ok(floe_accum_result(&a, FLOE_STAT_MEAN, mean, NAN));
    for (size_t c = 0; c < ncells; c++) {
        ref_stats r = two_pass(d, nsteps, ncells, c);
        assert_close(std[c], r.std, 1e-6, 0, "std", c);
        assert_close(mean[c], r.mean, 1e-7, 0, "mean", c);
    }
    /* The same through the block tree. */
    floe_accum_tree t;
    expect_ok(floe_accum_tree_init(&t, ncells, a.stats, 32, 0));
    for (size_t s = 0; s < nsteps; s++) {
        floe_accum *b;
        expect_ok(floe_accum_tree_block(&t, &b));
        expect_ok(floe_accum_add_step(b, d + s * ncells, ncells));
        expect_ok(floe_accum_tree_end_step(&t));
    }
    const floe_accum *res;
    expect_ok(floe_accum_tree_result(&t, &res));
    expect_ok(floe_accum_result(res, FLOE_STAT_STD, std, NAN));
    for (size_t c = 0; c < ncells; c++)
        assert_close(std[c], two_pass(d, nsteps, ncells, c).std, 1e-6, 0, "tree std", c);
    floe_accum_tree_free(&t);
    floe_accum_free(&a);
    free(d);
}

static int accum_equal(const floe_accum *x, const floe_accum *y)
{
    size_t n = x->ncells;
    if (n != y->ncells || x->stats != y->stats)
        return 0;
    return memcmp(x->count, y->count, n * sizeof *x->count) == 0 &&
           (!x->mean || memcmp(x->mean, y->mean, n * sizeof *x->mean) == 0) &&
           (!x->m2 || memcmp(x->m2, y->m2, n * sizeof *x->m2) == 0) &&
           (!x->min || memcmp(x->min, y->min, n * sizeof *x->min) == 0) &&
           (!x->max || memcmp(x->max, y->max, n * sizeof *x->max) == 0) &&
           (!x->dmin || memcmp(x->dmin, y->dmin, n * sizeof *x->dmin) == 0) &&
           (!x->dmax || memcmp(x->dmax, y->dmax, n * sizeof *x->dmax) == 0) &&
           (!x->sum || memcmp(x->sum, y->sum, n * sizeof *x->sum) == 0);
}

static void test_merge(void **state)
{
    (void)state;
    size_t nsteps = 250, ncells = 60;
    float *d = make_data(nsteps, ncells, 2);
    floe_accum a, b, e;
    expect_ok(floe_accum_init(&a, ncells, FLOE_STAT_ALL));
    expect_ok(floe_accum_init(&b, ncells, FLOE_STAT_ALL));
    expect_ok(floe_accum_init(&e, ncells, FLOE_STAT_ALL));
    fill_single_pass(&a, d, 0, 97, ncells);
    fill_single_pass(&b, d, 97, nsteps, ncells);

    /* merging with an empty accumulator is an exact identity, both ways */
    floe_accum copy;
    expect_ok(floe_accum_init(&copy, ncells, FLOE_STAT_ALL));
    expect_ok(floe_accum_merge(&copy, &a));
    assert_true(accum_equal(&copy, &a));
    expect_ok(floe_accum_merge(&copy, &e));
    assert_true(accum_equal(&copy, &a));

    expect_ok(floe_accum_merge(&a, &b));
    check_against_reference(&a, d, nsteps, ncells, 1e-6);

    floe_accum other;
    expect_ok(floe_accum_init(&other, ncells, FLOE_STAT_MEAN));
    expect_code(floe_accum_merge(&a, &other), FLOE_EINTERNAL, "merging accumulators");
    expect_code(floe_accum_result(&other, FLOE_STAT_STD, d, 0), FLOE_EINTERNAL, "asked for");
    expect_code(floe_accum_add_step(&a, d, ncells - 1), FLOE_EINTERNAL, "step of");
    expect_code(floe_accum_add_cells(&a, ncells - 2, d, 3), FLOE_EINTERNAL, "outside");
    floe_accum_free(&other);
    floe_accum_free(&copy);
    floe_accum_free(&a);
    floe_accum_free(&b);
    floe_accum_free(&e);
    free(d);
}

/* Double values (FLOE_ACCUM_F64, float64 statistics): min and max keep
 * values float cannot hold (large integers, float64 digits), the mean and
 * sum are those of the double values, the wire form and the tree keep the
 * kind, and the two kinds are never mixed. */
static void test_f64_values(void **state)
{
    (void)state;
    enum { NC = 3, NS = 70 };
    unsigned mask = FLOE_STAT_ALL | FLOE_ACCUM_F64;
    double d[NS][NC];
    for (size_t s = 0; s < NS; s++) {
        d[s][0] = 9007199254740000.0 + (double)s; /* beyond float's 24 bits */
        d[s][1] = 0.1 * (double)(s % 7) + 1e-9 * (double)s;
        d[s][2] = s % 3 == 0 ? NAN : -123456789.125 - (double)s;
    }
    floe_accum a;
    expect_ok(floe_accum_init(&a, NC, mask));
    for (size_t s = 0; s < NS; s++)
        expect_ok(floe_accum_add_cells_f64(&a, 0, d[s], NC));
    double mn[NC], mx[NC], mean[NC], sum[NC], cnt[NC];
    expect_ok(floe_accum_result_f64(&a, FLOE_STAT_MIN, mn, NAN));
    expect_ok(floe_accum_result_f64(&a, FLOE_STAT_MAX, mx, NAN));
    expect_ok(floe_accum_result_f64(&a, FLOE_STAT_MEAN, mean, NAN));
    expect_ok(floe_accum_result_f64(&a, FLOE_STAT_SUM, sum, NAN));
    expect_ok(floe_accum_result_f64(&a, FLOE_STAT_COUNT, cnt, NAN));
    assert_true(mn[0] == 9007199254740000.0 && mx[0] == 9007199254740000.0 + (NS - 1));
    assert_true(mx[2] == -123456789.125 - 1.0 && cnt[2] == (double)(NS - (NS + 2) / 3));
    long double want = 0;
    for (size_t s = 0; s < NS; s++)
        want += d[s][1];
    assert_close(sum[1], want, 1e-15, 0, "f64 sum", 1);
    assert_close(mean[1], want / NS, 1e-14, 0, "f64 mean", 1);
    assert_true(mean[0] == 9007199254740000.0 + (NS - 1) / 2.0);

    /* the wire form keeps the kind; the tree gives the same bits split anywhere */
    size_t size = floe_accum_serial_size(&a);
    void *buf = malloc(size);
    floe_accum back;
    expect_ok(floe_accum_serialize(&a, buf, size));
    expect_ok(floe_accum_deserialize(&back, buf, size));
    assert_true(back.stats == mask && accum_equal(&a, &back));
    free(buf);
    floe_accum_free(&back);
    const floe_accum *whole_res = NULL, *split_res = NULL;
    floe_accum_tree whole, split, part;
    expect_ok(floe_accum_tree_init(&whole, NC, mask, 8, 0));
    expect_ok(floe_accum_tree_init(&split, NC, mask, 8, 0));
    expect_ok(floe_accum_tree_init(&part, NC, mask, 8, 24));
    for (size_t s = 0; s < NS; s++) {
        floe_accum *b;
        floe_accum_tree *t = s < 24 ? &split : &part;
        expect_ok(floe_accum_tree_block(&whole, &b));
        expect_ok(floe_accum_add_cells_f64(b, 0, d[s], NC));
        expect_ok(floe_accum_tree_end_step(&whole));
        expect_ok(floe_accum_tree_block(t, &b));
        expect_ok(floe_accum_add_cells_f64(b, 0, d[s], NC));
        expect_ok(floe_accum_tree_end_step(t));
    }
    expect_ok(floe_accum_tree_serial_size(&part, &size));
    buf = malloc(size);
    expect_ok(floe_accum_tree_serialize(&part, buf, size));
    expect_ok(floe_accum_tree_absorb(&split, buf, size));
    free(buf);
    expect_ok(floe_accum_tree_result(&whole, &whole_res));
    expect_ok(floe_accum_tree_result(&split, &split_res));
    assert_true(accum_equal(whole_res, split_res));
    floe_accum_tree_free(&whole);
    floe_accum_tree_free(&split);
    floe_accum_tree_free(&part);

    /* float and double kinds do not mix */
    float f[NC] = {1, 2, 3};
    floe_accum fa;
    expect_ok(floe_accum_init(&fa, NC, FLOE_STAT_ALL));
    expect_code(floe_accum_add_cells(&a, 0, f, NC), FLOE_EINTERNAL, "double values");
    expect_code(floe_accum_add_cells_f64(&fa, 0, d[0], NC), FLOE_EINTERNAL, "float values");
    /* results of either kind from either: rounded once, or widened exactly */
    expect_ok(floe_accum_result(&a, FLOE_STAT_MIN, f, 0));
    assert_true(f[0] == (float)9007199254740000.0 && f[2] == (float)(-123456789.125 - 68.0));
    expect_ok(floe_accum_result(&a, FLOE_STAT_MEAN, f, 0));
    assert_true(f[1] == (float)mean[1]);
    expect_ok(floe_accum_add_cells(&fa, 0, f, NC));
    expect_ok(floe_accum_result_f64(&fa, FLOE_STAT_MAX, mx, 0));
    assert_true(mx[0] == (double)f[0] && mx[1] == (double)f[1]);
    expect_code(floe_accum_merge(&a, &fa), FLOE_EINTERNAL, "merging accumulators");
    assert_int_equal(floe_accum_cell_bytes(mask), floe_accum_cell_bytes(FLOE_STAT_ALL) + 8);
    floe_accum_free(&fa);
    floe_accum_free(&a);
}

/* A step added in pieces (rows of a tile) is the same as added at once. */
static void test_add_cells_pieces(void **state)
{
    (void)state;
    size_t nsteps = 40, ncells = 30;
    float *d = make_data(nsteps, ncells, 3);
    floe_accum a, b;
    expect_ok(floe_accum_init(&a, ncells, FLOE_STAT_ALL));
    expect_ok(floe_accum_init(&b, ncells, FLOE_STAT_ALL));
    fill_single_pass(&a, d, 0, nsteps, ncells);
    for (size_t t = 0; t < nsteps; t++)
        for (size_t c0 = 0; c0 < ncells; c0 += 7) {
            size_t n = ncells - c0 < 7 ? ncells - c0 : 7;
            expect_ok(floe_accum_add_cells(&b, c0, d + t * ncells + c0, n));
        }
    assert_true(accum_equal(&a, &b));
    floe_accum_free(&a);
    floe_accum_free(&b);
    free(d);
}

static void test_masks_and_missing(void **state)
{
    (void)state;
    /* Only the arrays a mask needs exist. */
    floe_accum a;
    expect_ok(floe_accum_init(&a, 4, FLOE_STAT_MIN));
    assert_non_null(a.count);
    assert_non_null(a.min);
    assert_null(a.mean);
    assert_null(a.m2);
    assert_null(a.max);
    assert_null(a.sum);
    float v1[4] = {1, NAN, 3, NAN}, v2[4] = {-2, NAN, NAN, NAN}, out[4];
    expect_ok(floe_accum_add_step(&a, v1, 4));
    expect_ok(floe_accum_add_step(&a, v2, 4));
    expect_ok(floe_accum_result(&a, FLOE_STAT_MIN, out, -1e30f));
    assert_true(out[0] == -2 && out[1] == -1e30f && out[2] == 3 && out[3] == -1e30f);
    floe_accum_free(&a);

    /* std of one value is 0; count of an all-missing cell is 0 */
    expect_ok(floe_accum_init(&a, 2, FLOE_STAT_STD | FLOE_STAT_COUNT));
    float w[2] = {5, NAN};
    expect_ok(floe_accum_add_step(&a, w, 2));
    expect_ok(floe_accum_result(&a, FLOE_STAT_STD, out, NAN));
    assert_true(out[0] == 0 && isnan(out[1]));
    expect_ok(floe_accum_result(&a, FLOE_STAT_COUNT, out, NAN));
    assert_true(out[0] == 1 && out[1] == 0);
    /* population std: {1, 3} has std 1 (the sample std would be 1.414) */
    float w2[2] = {3, NAN};
    floe_accum_reset(&a);
    float w1[2] = {1, NAN};
    expect_ok(floe_accum_add_step(&a, w1, 2));
    expect_ok(floe_accum_add_step(&a, w2, 2));
    expect_ok(floe_accum_result(&a, FLOE_STAT_STD, out, NAN));
    assert_true(out[0] == 1.0f);
    floe_accum_free(&a);

    assert_int_equal(floe_accum_cell_bytes(FLOE_STAT_ALL), 36);
    assert_int_equal(floe_accum_cell_bytes(FLOE_STAT_MEAN), 12);
    assert_int_equal(floe_accum_cell_bytes(FLOE_STAT_COUNT), 4);
    expect_code(floe_accum_init(&a, 2, 0), FLOE_EINTERNAL, "stats mask");
    expect_code(floe_accum_init(&a, 2, 1u << 9), FLOE_EINTERNAL, "stats mask");
    expect_code(floe_accum_init(&a, 2, FLOE_ACCUM_F64), FLOE_EINTERNAL, "stats mask");
}

static void test_stat_names(void **state)
{
    (void)state;
    unsigned m;
    expect_ok(floe_stat_parse_list("mean,min,max,sum,std,count", FLOE_STAT_ALL, &m));
    assert_int_equal(m, FLOE_STAT_ALL);
    expect_ok(floe_stat_parse_list(" std , mean", FLOE_STAT_ALL, &m));
    assert_int_equal(m, FLOE_STAT_STD | FLOE_STAT_MEAN);
    expect_code(floe_stat_parse_list("mean,median", FLOE_STAT_ALL, &m), FLOE_EINVAL, "'median'");
    expect_code(floe_stat_parse_list("mean,mean", FLOE_STAT_ALL, &m), FLOE_EINVAL, "twice");
    expect_code(floe_stat_parse_list("mean,", FLOE_STAT_ALL, &m), FLOE_EINVAL, "empty item");
    expect_code(floe_stat_parse_list("", FLOE_STAT_ALL, &m), FLOE_EINVAL, "empty item");
    expect_code(floe_stat_parse_list("min", FLOE_STAT_MEAN | FLOE_STAT_STD | FLOE_STAT_COUNT, &m),
                FLOE_EINVAL, "expected mean, std, count");
    assert_string_equal(floe_stat_name(FLOE_STAT_STD), "std");
    assert_null(floe_stat_name(FLOE_STAT_STD | FLOE_STAT_MEAN));
}

static void test_serialize(void **state)
{
    (void)state;
    size_t nsteps = 20, ncells = 13;
    float *d = make_data(nsteps, ncells, 4);
    unsigned masks[] = {FLOE_STAT_ALL, FLOE_STAT_MEAN, FLOE_STAT_MAX | FLOE_STAT_SUM};
    for (size_t k = 0; k < 3; k++) {
        floe_accum a, b;
        expect_ok(floe_accum_init(&a, ncells, masks[k]));
        fill_single_pass(&a, d, 0, nsteps, ncells);
        size_t n = floe_accum_serial_size(&a);
        unsigned char *buf = malloc(n);
        expect_ok(floe_accum_serialize(&a, buf, n));
        expect_ok(floe_accum_deserialize(&b, buf, n));
        assert_true(accum_equal(&a, &b));
        floe_accum_free(&b);
        expect_code(floe_accum_deserialize(&b, buf, n - 1), FLOE_EFORMAT, "bytes, expected");
        expect_code(floe_accum_deserialize(&b, buf, 10), FLOE_EFORMAT, "truncated");
        expect_code(floe_accum_serialize(&a, buf, n - 1), FLOE_EINTERNAL, "buffer");
        buf[0] ^= 1;
        expect_code(floe_accum_deserialize(&b, buf, n), FLOE_EFORMAT, "magic");
        free(buf);
        floe_accum_free(&a);
    }
    free(d);
}

/* ---- the block tree ---------------------------------------------------- */

/* The documented canonical value, evaluated directly: node (level, k)
 * over blocks [k*2^level, (k+1)*2^level), empty past the last step. */
static void canonical(floe_accum *out, const float *d, size_t nsteps, size_t ncells, size_t bs,
                      size_t k, unsigned level, const int *step_used)
{
    size_t nblocks = (nsteps + bs - 1) / bs;
    size_t first = k << level;
    if (first >= nblocks)
        return; /* empty */
    if (level == 0 && (out->stats & FLOE_STAT_MEAN) && !(out->stats & FLOE_STAT_STD)) {
        /* without std a block's mean is its double sum over its count */
        for (size_t c = 0; c < ncells; c++) {
            double sum = 0;
            uint32_t n = 0;
            for (size_t t = first * bs; t < nsteps && t < (first + 1) * bs; t++) {
                float x = d[t * ncells + c];
                if ((!step_used || step_used[t]) && !isnan(x)) {
                    sum += (double)x;
                    n++;
                    if (out->min && x < out->min[c])
                        out->min[c] = x;
                    if (out->max && x > out->max[c])
                        out->max[c] = x;
                    if (out->sum)
                        out->sum[c] += (double)x;
                }
            }
            out->count[c] = n;
            out->mean[c] = n ? sum / (double)n : 0.0;
        }
        return;
    }
    if (level == 0) {
        for (size_t t = first * bs; t < nsteps && t < (first + 1) * bs; t++)
            if (!step_used || step_used[t])
                expect_ok(floe_accum_add_step(out, d + t * ncells, ncells));
        return;
    }
    floe_accum right;
    expect_ok(floe_accum_init(&right, ncells, out->stats));
    canonical(out, d, nsteps, ncells, bs, 2 * k, level - 1, step_used);
    canonical(&right, d, nsteps, ncells, bs, 2 * k + 1, level - 1, step_used);
    expect_ok(floe_accum_merge(out, &right));
    floe_accum_free(&right);
}

/* Feed steps [t0, t1) to a tree; only steps with step_used[t] (or all,
 * when NULL) add values, as a climatology group would. */
static void feed(floe_accum_tree *t, const float *d, size_t t0, size_t t1, size_t ncells,
                 const int *step_used)
{
    for (size_t s = t0; s < t1; s++) {
        if (!step_used || step_used[s]) {
            floe_accum *b;
            expect_ok(floe_accum_tree_block(t, &b));
            expect_ok(floe_accum_add_step(b, d + s * ncells, ncells));
        }
        expect_ok(floe_accum_tree_end_step(t));
    }
}

/* Split the blocks among nranks at the given block boundaries: rank 0
 * is the root; every other rank serializes its nodes, and the root
 * absorbs them in rank order. */
static void run_split(floe_accum *result, const float *d, size_t nsteps, size_t ncells, size_t bs,
                      unsigned stats, const size_t *bounds /* nranks + 1 block indices */,
                      size_t nranks, const int *step_used, int in_memory)
{
    floe_accum_tree root;
    expect_ok(floe_accum_tree_init(&root, ncells, stats, bs, 0));
    for (size_t r = 0; r < nranks; r++) {
        size_t s0 = bounds[r] * bs, s1 = bounds[r + 1] * bs;
        s1 = s1 < nsteps ? s1 : nsteps;
        s0 = s0 < nsteps ? s0 : nsteps;
        if (r == 0) {
            feed(&root, d, s0, s1, ncells, step_used);
            continue;
        }
        floe_accum_tree rank;
        expect_ok(floe_accum_tree_init(&rank, ncells, stats, bs, bounds[r] * bs));
        feed(&rank, d, s0, s1, ncells, step_used);
        if (in_memory) {
            expect_ok(floe_accum_tree_absorb_tree(&root, &rank));
        } else {
            size_t n;
            expect_ok(floe_accum_tree_serial_size(&rank, &n));
            unsigned char *buf = malloc(n);
            assert_non_null(buf);
            expect_ok(floe_accum_tree_serialize(&rank, buf, n));
            expect_ok(floe_accum_tree_absorb(&root, buf, n));
            free(buf);
        }
        floe_accum_tree_free(&rank);
    }
    const floe_accum *res;
    expect_ok(floe_accum_tree_result(&root, &res));
    expect_ok(floe_accum_init(result, ncells, stats));
    expect_ok(floe_accum_merge(result, res)); /* an exact copy */
    floe_accum_tree_free(&root);
}

/* Even split of nblocks among nranks. */
static void even_bounds(size_t *bounds, size_t nblocks, size_t nranks)
{
    for (size_t r = 0; r <= nranks; r++)
        bounds[r] = nblocks * r / nranks;
}

static void check_tree_determinism_of(unsigned stats, size_t nsteps, size_t ncells, size_t bs,
                                      const int *step_used, uint64_t seed)
{
    float *d = make_data(nsteps, ncells, seed);
    size_t nblocks = (nsteps + bs - 1) / bs;

    floe_accum one, canon;
    size_t bounds[32];
    even_bounds(bounds, nblocks, 1);
    run_split(&one, d, nsteps, ncells, bs, stats, bounds, 1, step_used, 0);

    /* it is the documented tree */
    unsigned levels = 0;
    while (((size_t)1 << levels) < nblocks)
        levels++;
    expect_ok(floe_accum_init(&canon, ncells, stats));
    canonical(&canon, d, nsteps, ncells, bs, 0, levels, step_used);
    assert_true(accum_equal(&one, &canon));
    floe_accum_free(&canon);

    /* and it is right */
    if (!step_used && stats == FLOE_STAT_ALL) {
        check_against_reference(&one, d, nsteps, ncells, 1e-6);
    } else if (!step_used) {
        float *mean = malloc(ncells * sizeof *mean);
        assert_non_null(mean);
        expect_ok(floe_accum_result(&one, FLOE_STAT_MEAN, mean, -9999.0f));
        for (size_t c = 0; c < ncells; c++) {
            ref_stats r = two_pass(d, nsteps, ncells, c);
            if (r.count)
                assert_close(mean[c], r.mean, 2e-7, 1e-30, "mean", c);
            else
                assert_true(mean[c] == -9999.0f);
        }
        free(mean);
    }

    /* 2, 3 and 7 ranks, serialized and in memory */
    static const size_t ranks[] = {2, 3, 7};
    for (size_t k = 0; k < 3; k++)
        for (int in_memory = 0; in_memory < 2; in_memory++) {
            floe_accum split;
            even_bounds(bounds, nblocks, ranks[k]);
            run_split(&split, d, nsteps, ncells, bs, stats, bounds, ranks[k], step_used,
                      in_memory);
            if (!accum_equal(&one, &split))
                fail_msg("%zu steps, %zu-step blocks, %zu ranks (%s): bits differ from 1 rank",
                         nsteps, bs, ranks[k], in_memory ? "in memory" : "serialized");
            floe_accum_free(&split);
        }
    /* random splits, empty ranks included */
    rng_state = seed * 31 + 5;
    for (int trial = 0; trial < 20; trial++) {
        size_t nranks = 1 + rng_next() % 9;
        bounds[0] = 0;
        bounds[nranks] = nblocks;
        for (size_t r = 1; r < nranks; r++)
            bounds[r] = rng_next() % (nblocks + 1);
        for (size_t r = 1; r < nranks; r++) /* sort */
            for (size_t q = r; q > 1 && bounds[q] < bounds[q - 1]; q--) {
                size_t tmp = bounds[q];
                bounds[q] = bounds[q - 1];
                bounds[q - 1] = tmp;
            }
        floe_accum split;
        run_split(&split, d, nsteps, ncells, bs, stats, bounds, nranks, step_used, trial % 2);
        if (!accum_equal(&one, &split))
            fail_msg("random split %d into %zu ranks: bits differ", trial, nranks);
        floe_accum_free(&split);
    }
    floe_accum_free(&one);
    free(d);
}

static void check_tree_determinism(size_t nsteps, size_t ncells, size_t bs, const int *step_used,
                                   uint64_t seed)
{
    check_tree_determinism_of(FLOE_STAT_ALL, nsteps, ncells, bs, step_used, seed);
}

/* Without std the blocks hold sums while they fill (floe_accum.mean_as_sum):
 * the same guarantees, and the documented value with sum/count blocks. */
static void test_tree_mean_without_std(void **state)
{
    (void)state;
    static const unsigned masks[] = {FLOE_STAT_MEAN, FLOE_STAT_MEAN | FLOE_STAT_MIN | FLOE_STAT_MAX,
                                     FLOE_STAT_MEAN | FLOE_STAT_SUM | FLOE_STAT_COUNT};
    for (size_t m = 0; m < 3; m++) {
        check_tree_determinism_of(masks[m], 365, 41, 32, NULL, 21 + m);
        check_tree_determinism_of(masks[m], 100, 9, 7, NULL, 24 + m);
        check_tree_determinism_of(masks[m], 5, 9, 32, NULL, 27 + m);
    }
}

static void test_tree_determinism(void **state)
{
    (void)state;
    check_tree_determinism(365, 41, 32, NULL, 11); /* 12 blocks, the last short */
    check_tree_determinism(256, 17, 8, NULL, 12);  /* 32 blocks: a power of two */
    check_tree_determinism(100, 9, 7, NULL, 13);   /* 15 blocks */
    check_tree_determinism(5, 9, 32, NULL, 14);    /* one short block */
    check_tree_determinism(64, 9, 1, NULL, 15);    /* one step a block */
}

/* The bits do depend on the split when blocks are simply folded per rank
 * and the rank totals merged, which is what the tree prevents: this
 * shows the determinism test has teeth. */
static void test_naive_rank_merge_differs(void **state)
{
    (void)state;
    size_t nsteps = 365, ncells = 41;
    float *d = make_data(nsteps, ncells, 11);
    floe_accum whole, r0, r1;
    expect_ok(floe_accum_init(&whole, ncells, FLOE_STAT_ALL));
    expect_ok(floe_accum_init(&r0, ncells, FLOE_STAT_ALL));
    expect_ok(floe_accum_init(&r1, ncells, FLOE_STAT_ALL));
    fill_single_pass(&whole, d, 0, nsteps, ncells);
    fill_single_pass(&r0, d, 0, 160, ncells);
    fill_single_pass(&r1, d, 160, nsteps, ncells);
    expect_ok(floe_accum_merge(&r0, &r1));
    assert_false(accum_equal(&whole, &r0));
    floe_accum_free(&whole);
    floe_accum_free(&r0);
    floe_accum_free(&r1);
    free(d);
}

/* Climatology groups: a tree per group sees every step but only its own
 * steps add values; blocks without any stay unallocated, and the split
 * invariance holds as well. */
static void test_tree_sparse_groups(void **state)
{
    (void)state;
    size_t nsteps = 400;
    int *used = calloc(nsteps, sizeof *used);
    for (size_t t = 0; t < nsteps; t++)
        used[t] = (t % 73) < 9; /* short runs, many blocks without a step */
    check_tree_determinism(nsteps, 23, 16, used, 21);

    /* unused blocks cost nothing: a group with no step at all */
    floe_accum_tree t;
    expect_ok(floe_accum_tree_init(&t, 5, FLOE_STAT_MEAN, 4, 0));
    for (int s = 0; s < 50; s++)
        expect_ok(floe_accum_tree_end_step(&t));
    for (size_t i = 0; i < t.nnodes; i++)
        assert_null(t.nodes[i].acc);
    const floe_accum *res;
    expect_ok(floe_accum_tree_result(&t, &res));
    float out[5];
    expect_ok(floe_accum_result(res, FLOE_STAT_MEAN, out, -1));
    for (int i = 0; i < 5; i++)
        assert_true(out[i] == -1);
    floe_accum_tree_free(&t);
    free(used);
}

/* The stack stays small: about log2 of the block count. */
static void test_tree_memory_bounded(void **state)
{
    (void)state;
    floe_accum_tree t;
    float v[3] = {1, 2, 3};
    expect_ok(floe_accum_tree_init(&t, 3, FLOE_STAT_ALL, 1, 0));
    size_t most = 0;
    for (int s = 0; s < 1000; s++) {
        floe_accum *b;
        expect_ok(floe_accum_tree_block(&t, &b));
        expect_ok(floe_accum_add_step(b, v, 3));
        expect_ok(floe_accum_tree_end_step(&t));
        most = t.nnodes > most ? t.nnodes : most;
    }
    assert_true(most <= 10); /* 1000 < 2^10 */
    floe_accum_tree_free(&t);
}

static void test_tree_misuse(void **state)
{
    (void)state;
    floe_accum_tree t, r;
    expect_code(floe_accum_tree_init(&t, 3, FLOE_STAT_MEAN, 32, 16), FLOE_EINTERNAL,
                "not on a boundary");
    expect_code(floe_accum_tree_init(&t, 3, FLOE_STAT_MEAN, 0, 0), FLOE_EINTERNAL, "boundary");

    float v[3] = {1, 2, 3};
    floe_accum *b;
    /* a rank's tree is not a whole range */
    expect_ok(floe_accum_tree_init(&r, 3, FLOE_STAT_MEAN, 4, 8));
    expect_ok(floe_accum_tree_block(&r, &b));
    expect_ok(floe_accum_add_step(b, v, 3));
    expect_ok(floe_accum_tree_end_step(&r));
    const floe_accum *res;
    expect_code(floe_accum_tree_result(&r, &res), FLOE_EINTERNAL, "starts at step 8");

    /* absorbing out of order: root covers [0, 4), r starts at 8 */
    expect_ok(floe_accum_tree_init(&t, 3, FLOE_STAT_MEAN, 4, 0));
    for (int s = 0; s < 4; s++)
        expect_ok(floe_accum_tree_end_step(&t));
    size_t n;
    expect_ok(floe_accum_tree_serial_size(&r, &n));
    unsigned char *buf = malloc(n);
    expect_ok(floe_accum_tree_serialize(&r, buf, n));
    expect_code(floe_accum_tree_absorb(&t, buf, n), FLOE_EINTERNAL, "time order");
    /* r ended with a short block: nothing may follow it */
    expect_code(floe_accum_tree_end_step(&r), FLOE_EINTERNAL, "after the range ended");
    /* corrupt buffers */
    expect_code(floe_accum_tree_absorb(&t, buf, 7), FLOE_EFORMAT, "truncated");
    buf[1] ^= 1;
    expect_code(floe_accum_tree_absorb(&t, buf, n), FLOE_EFORMAT, "magic");
    free(buf);
    floe_accum_tree_free(&r);

    /* a step added to but not ended */
    expect_ok(floe_accum_tree_block(&t, &b));
    expect_code(floe_accum_tree_serial_size(&t, &n), FLOE_EINTERNAL, "not ended");
    floe_accum_tree_free(&t);

    /* mismatched block lengths */
    expect_ok(floe_accum_tree_init(&t, 3, FLOE_STAT_MEAN, 4, 0));
    expect_ok(floe_accum_tree_init(&r, 3, FLOE_STAT_MEAN, 8, 0));
    expect_ok(floe_accum_tree_end_step(&r));
    expect_code(floe_accum_tree_absorb_tree(&t, &r), FLOE_EINTERNAL, "8-step blocks");
    floe_accum_tree_free(&t);
    floe_accum_tree_free(&r);

    /* a truncated node in an otherwise valid buffer */
    expect_ok(floe_accum_tree_init(&r, 3, FLOE_STAT_MEAN, 4, 4));
    for (int s = 0; s < 4; s++) {
        expect_ok(floe_accum_tree_block(&r, &b));
        expect_ok(floe_accum_add_step(b, v, 3));
        expect_ok(floe_accum_tree_end_step(&r));
    }
    expect_ok(floe_accum_tree_serial_size(&r, &n));
    buf = malloc(n);
    expect_ok(floe_accum_tree_serialize(&r, buf, n));
    expect_ok(floe_accum_tree_init(&t, 3, FLOE_STAT_MEAN, 4, 0));
    for (int s = 0; s < 4; s++)
        expect_ok(floe_accum_tree_end_step(&t));
    expect_code(floe_accum_tree_absorb(&t, buf, n - 5), FLOE_EFORMAT, "node 0");
    floe_accum_tree_free(&t);
    free(buf);
    floe_accum_tree_free(&r);
}

static void test_tree_empty(void **state)
{
    (void)state;
    floe_accum_tree t;
    expect_ok(floe_accum_tree_init(&t, 4, FLOE_STAT_COUNT | FLOE_STAT_MAX, 32, 0));
    const floe_accum *res;
    expect_ok(floe_accum_tree_result(&t, &res));
    float out[4];
    expect_ok(floe_accum_result(res, FLOE_STAT_MAX, out, -7));
    assert_true(out[0] == -7 && out[3] == -7);
    expect_ok(floe_accum_result(res, FLOE_STAT_COUNT, out, -7));
    assert_true(out[0] == 0);
    floe_accum_tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_pass_vs_two_pass),
        cmocka_unit_test(test_catastrophic_cancellation),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_add_cells_pieces),
        cmocka_unit_test(test_f64_values),
        cmocka_unit_test(test_masks_and_missing),
        cmocka_unit_test(test_stat_names),
        cmocka_unit_test(test_serialize),
        cmocka_unit_test(test_tree_determinism),
        cmocka_unit_test(test_tree_mean_without_std),
        cmocka_unit_test(test_naive_rank_merge_differs),
        cmocka_unit_test(test_tree_sparse_groups),
        cmocka_unit_test(test_tree_memory_bounded),
        cmocka_unit_test(test_tree_misuse),
        cmocka_unit_test(test_tree_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
