/* SPDX-License-Identifier: Apache-2.0 */
/* test_collect NP (under mpirun -np NP): the rank-0 collection protocol
 * (engine/mpi/collect.h). Every rank but 0 sends the same script of units;
 * rank 0 receives them and checks what arrives, including the paths that
 * must not break the exchange: a payload over the cap of rank 0's buffer,
 * one rank 0 could not allocate, one of the wrong size (each spanning
 * several pieces, drained), and a rank that reports failure. After each,
 * the next message must still be read in step, and nothing may be left
 * unreceived at the end. At one rank there is nobody to collect from: the
 * collector must still work and report no failed rank. */
#include "common/floe_buf.h"
#include "engine/mpi/collect.h"
#include "engine/mpi/comm.h"
#include "mpi_test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Several pieces and a bit: the paths that loop over pieces. */
#define BIG (2 * FLOE_COLLECT_PIECE + 123)
/* Rank 0's cap for the oversized payload. */
enum { SMALL_CAP = 1000 };

static uint8_t pattern(int r, size_t i)
{
    return (uint8_t)(i * 31u + (unsigned)r * 7u + (i >> 20));
}

static void fill(uint8_t *p, size_t n, int r)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(r, i);
}

static int same(const uint8_t *p, size_t n, int r)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(r, i))
            return 0;
    return 1;
}

/* The script every sender runs. The last rank fails at the fifth unit. */
static void send_script(const floe_mpi *mpi, uint8_t *big)
{
    int r = mpi->rank;
    size_t small = 100 * (size_t)r + 7;
    fill(big, BIG, r);
    /* 1: two payloads, a small one and a multi-piece one */
    ok(floe_collect_send_status(mpi, 0), "status 1");
    ok(floe_collect_send(mpi, big, small), "payload 1a");
    ok(floe_collect_send(mpi, big, BIG), "payload 1b");
    /* 2: over rank 0's cap; 3: rank 0 has no room; 4: the wrong size */
    for (int u = 2; u <= 4; u++) {
        ok(floe_collect_send_status(mpi, 0), "status 2-4");
        ok(floe_collect_send(mpi, big, u == 4 ? 10 : BIG), "payload 2-4");
    }
    /* 5: the last rank fails and sends nothing more */
    int fail = r == mpi->size - 1;
    ok(floe_collect_send_status(mpi, fail), "status 5");
    if (fail)
        return;
    ok(floe_collect_send(mpi, big, 0), "payload 5 (empty)");
    /* 6: one more unit from the others */
    ok(floe_collect_send_status(mpi, 0), "status 6");
    ok(floe_collect_send(mpi, big, small), "payload 6");
}

static void receive_script(const floe_mpi *mpi, uint8_t *big)
{
    floe_collector c;
    ok(floe_collector_init(&c, mpi), "collector");
    floe_buf b;
    floe_buf_init(&b, 2 * BIG);
    char line[512];
    for (int r = 1; r < mpi->size; r++) {
        size_t small = 100 * (size_t)r + 7;
        int st = 0;
        ok(floe_collect_recv_status(&c, r, &st), "status 1");
        EXPECT(st == 1, "rank %d: unit 1 not ok", r);
        ok(floe_collect_recv_buf(&c, r, &b), "payload 1a");
        EXPECT(b.len == small && same(b.data, small, r), "rank %d: payload 1a: %zu bytes", r,
               b.len);
        memset(big, 0, BIG);
        ok(floe_collect_recv_exact(&c, r, big, BIG), "payload 1b");
        EXPECT(same(big, BIG, r), "rank %d: payload 1b differs", r);

        floe_buf capped;
        floe_buf_init(&capped, SMALL_CAP);
        ok(floe_collect_recv_status(&c, r, &st), "status 2");
        floe_err err = floe_collect_recv_buf(&c, r, &capped);
        EXPECT(err && floe_err_code(err) == FLOE_ENOMEM &&
                   strstr(floe_err_line(err, line, sizeof line), "from rank"),
               "rank %d: a payload over the cap: %s", r, err ? line : "no error");
        floe_err_free(&err);
        floe_buf_free(&capped);

        ok(floe_collect_recv_status(&c, r, &st), "status 3");
        ok(floe_collect_recv_exact(&c, r, NULL, BIG), "payload 3 drained");

        ok(floe_collect_recv_status(&c, r, &st), "status 4");
        err = floe_collect_recv_exact(&c, r, big, 12);
        EXPECT(err && floe_err_code(err) == FLOE_EINTERNAL, "rank %d: a payload of the wrong "
               "size: %s", r, err ? floe_err_line(err, line, sizeof line) : "no error");
        floe_err_free(&err);
    }
    /* 5 and 6: the last rank fails; afterwards it is not waited for */
    for (int unit = 5; unit <= 6; unit++)
        for (int r = 1; r < mpi->size; r++) {
            int st = -1;
            ok(floe_collect_recv_status(&c, r, &st), "status 5-6");
            int last = r == mpi->size - 1;
            EXPECT(st == !last, "rank %d unit %d: status %d", r, unit, st);
            EXPECT(floe_collector_failed(&c, r) == last, "rank %d: failed list", r);
            if (!st)
                continue;
            ok(floe_collect_recv_buf(&c, r, &b), "payload 5-6");
            size_t want = unit == 5 ? 0 : 100 * (size_t)r + 7;
            EXPECT(b.len == want && same(b.data, want, r), "rank %d unit %d: %zu bytes", r,
                   unit, b.len);
        }
    EXPECT(!floe_collector_failed(&c, 0), "rank 0 listed as failed");
    floe_buf_free(&b);
    floe_collector_free(&c);
    EXPECT(c.failed == NULL, "the list was not NULLed");
}

int main(int argc, char **argv)
{
    floe_mpi mpi;
    if (mpi_test_start(&argc, &argv, &mpi))
        return 1;
    uint8_t *big = malloc(BIG);
    if (!big) {
        fprintf(stderr, "no memory for the test\n");
        MPI_Abort(mpi.comm, 1);
    }
    if (mpi.rank == 0)
        receive_script(&mpi, big);
    else
        send_script(&mpi, big);
    free(big);
    /* Nothing may be left in flight: every message was received. */
    return mpi_test_finish(&mpi, "test_collect");
}
