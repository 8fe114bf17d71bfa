/* SPDX-License-Identifier: Apache-2.0 */
/* tests/testbed/test_dataset_threads.c - batched chunk reads
 * (floe_dataset_read_chunks_ahead) of the test bed collection over the S3
 * stand-in with a pool of 1 worker and of 4: the same decoded bytes for
 * every index, the same counters (chunks, encoded and decoded bytes), the
 * decoding done on the workers (not in the calling thread) at 4, and a
 * chunk that fails gives the same error line at 1 and at 4 workers, after
 * which the dataset still reads.
 *
 * Needs FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT (scripts/test sets them);
 * without them it exits 77 (skipped), like tests/testbed/with_testbed. */
#include "dataset/dataset.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
            fprintf(stderr, __VA_ARGS__);                                              \
            fprintf(stderr, "\n");                                                     \
            failures++;                                                                \
        }                                                                              \
    } while (0)

/* Two batches of 5 days x 4 tiles of Rainf around Cape Cod (chunk row 6,
 * column 11 and their neighbours). */
enum { DAYS = 5, TILES = 4, BATCH = DAYS * TILES, BATCHES = 2, CHUNKS = BATCH * BATCHES };
/* The chunk whose fn fails in the error case (an index of the first batch). */
enum { FAILING_INDEX = 7 };

typedef struct run {
    size_t chunk_bytes;
    uint64_t hash[CHUNKS];      /* per index: FNV-1a of the decoded chunk */
    atomic_int calls;
    atomic_int off_caller;      /* calls made on a thread other than the caller's */
    pthread_t caller;
    size_t base;                /* the batch's first index in hash[] */
    int fail;                   /* fail at FAILING_INDEX */
} run;

static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static floe_err take(void *ctx, size_t index, const void *decoded)
{
    run *r = ctx;
    atomic_fetch_add(&r->calls, 1);
    if (!pthread_equal(pthread_self(), r->caller))
        atomic_fetch_add(&r->off_caller, 1);
    if (r->fail && index == FAILING_INDEX)
        return FLOE_ERR(FLOE_EFORMAT, "injected failure at index %zu", index);
    r->hash[r->base + index] = fnv(decoded, r->chunk_bytes);
    return NULL;
}

static void coords_of(size_t batch, uint64_t *c)
{
    static const uint64_t tiles[TILES][2] = {{6, 11}, {6, 10}, {5, 11}, {5, 10}};
    for (size_t d = 0; d < DAYS; d++)
        for (size_t t = 0; t < TILES; t++) {
            uint64_t *p = c + 3 * (d * TILES + t);
            p[0] = batch * DAYS + d, p[1] = tiles[t][0], p[2] = tiles[t][1];
        }
}

/* Read both batches (the second read ahead with the first), then, with
 * fail, the first again with fn failing at FAILING_INDEX (*line: the
 * error), then the second again (the dataset still reads). */
static void read_all(const char *source, const char *endpoint, int threads, run *r,
                     floe_dataset_io *io, char *line, size_t size)
{
    floe_open_request req = {.source = source, .s3_endpoint = endpoint, .arrays = "Rainf",
                             .threads = threads};
    floe_dataset *ds = NULL;
    floe_err err = floe_dataset_open(&req, &ds);
    CHECK(!err, "open with %d threads: %s", threads, err ? floe_err_line(err, line, size) : "");
    floe_err_free(&err);
    if (!ds)
        return;
    const floe_array *a = floe_dataset_find(ds, "Rainf");
    CHECK(a && a->ndim == 3, "no 3-D Rainf");
    if (!a || a->ndim != 3) {
        floe_dataset_free(&ds);
        return;
    }
    CHECK(floe_pool_workers(floe_dataset_pool(ds)) == (threads > 1 ? threads : 1),
          "the dataset's pool has %d workers, asked for %d",
          floe_pool_workers(floe_dataset_pool(ds)), threads);
    r->chunk_bytes = a->itemsize * (size_t)(a->chunk_shape[0] * a->chunk_shape[1] *
                                            a->chunk_shape[2]);
    r->caller = pthread_self();
    uint64_t c[BATCHES][3 * BATCH];
    coords_of(0, c[0]);
    coords_of(1, c[1]);
    for (size_t b = 0; b < BATCHES; b++) {
        r->base = b * BATCH;
        err = floe_dataset_read_chunks_ahead(ds, a, c[b], BATCH, b + 1 < BATCHES ? c[b + 1] : NULL,
                                             b + 1 < BATCHES ? BATCH : 0, take, r);
        CHECK(!err, "batch %zu with %d threads: %s", b, threads,
              err ? floe_err_line(err, line, size) : "");
        floe_err_free(&err);
    }
    floe_dataset_io_stats(ds, io);
    /* a failing chunk, read ahead with the next batch (both dropped) */
    r->fail = 1;
    r->base = 0;
    err = floe_dataset_read_chunks_ahead(ds, a, c[0], BATCH, c[1], BATCH, take, r);
    CHECK(err != NULL, "the injected failure was not reported with %d threads", threads);
    line[0] = '\0';
    if (err)
        floe_err_line(err, line, size);
    floe_err_free(&err);
    r->fail = 0;
    uint64_t again[BATCH];
    memcpy(again, r->hash + BATCH, sizeof again);
    r->base = BATCH;
    err = floe_dataset_read_chunks(ds, a, c[1], BATCH, take, r);
    CHECK(!err, "reading after a failure with %d threads", threads);
    floe_err_free(&err);
    CHECK(!memcmp(again, r->hash + BATCH, sizeof again),
          "the second batch read again differs (%d threads)", threads);
    floe_dataset_free(&ds);
}

int main(void)
{
    const char *dir = getenv("FLOE_TESTBED_DIR"), *endpoint = getenv("FLOE_S3_ENDPOINT");
    if (!dir || !*dir || !endpoint || !*endpoint) {
        printf("skipped: FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT are not set (run scripts/test)\n");
        return 77;
    }
    char source[1024];
    snprintf(source, sizeof source, "%s/collection.json", dir);
    static run one, four;
    floe_dataset_io io1 = {0}, io4 = {0};
    char line1[1024] = "", line4[1024] = "";
    read_all(source, endpoint, 1, &one, &io1, line1, sizeof line1);
    read_all(source, endpoint, 4, &four, &io4, line4, sizeof line4);

    for (size_t i = 0; i < CHUNKS; i++)
        CHECK(one.hash[i] != 0 && one.hash[i] == four.hash[i],
              "chunk %zu: decoded bytes differ between 1 and 4 threads", i);
    CHECK(io1.chunks == CHUNKS && io4.chunks == CHUNKS,
          "chunks counted: %llu (1 thread), %llu (4), want %d",
          (unsigned long long)io1.chunks, (unsigned long long)io4.chunks, CHUNKS);
    CHECK(io1.encoded_bytes == io4.encoded_bytes && io1.encoded_bytes > 0,
          "encoded bytes: %llu (1 thread), %llu (4)", (unsigned long long)io1.encoded_bytes,
          (unsigned long long)io4.encoded_bytes);
    CHECK(io1.decoded_bytes == io4.decoded_bytes && io1.decoded_bytes == CHUNKS * one.chunk_bytes,
          "decoded bytes: %llu (1 thread), %llu (4), want %zu",
          (unsigned long long)io1.decoded_bytes, (unsigned long long)io4.decoded_bytes,
          CHUNKS * one.chunk_bytes);
    CHECK(io4.decode_seconds > 0, "no decode time counted with 4 threads");
    CHECK(atomic_load(&one.off_caller) == 0, "1 thread: %d calls off the calling thread",
          atomic_load(&one.off_caller));
    CHECK(atomic_load(&four.off_caller) > 0 &&
              atomic_load(&four.off_caller) == atomic_load(&four.calls),
          "4 threads: %d of %d calls on the workers, want all", atomic_load(&four.off_caller),
          atomic_load(&four.calls));
    printf("error at 1 thread:  %s\nerror at 4 threads: %s\n", line1, line4);
    CHECK(line1[0] && !strcmp(line1, line4), "the errors differ");
    CHECK(strstr(line1, "injected failure at index 7") && strstr(line1, "Rainf") &&
              strstr(line1, "chunk [1,5,10]"),
          "the error does not name the failure, the array and the chunk: %s", line1);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("ok: %d chunks, identical at 1 and 4 threads\n", CHUNKS);
    return failures ? 1 : 0;
}
