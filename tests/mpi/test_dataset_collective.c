/* SPDX-License-Identifier: Apache-2.0 */
/* test_dataset_collective NP (under mpirun -np NP): a collective open of
 * the test bed collection over the S3 stand-in reads the store on rank 0
 * only. Each rank reports the requests its dataset made; every rank must
 * see the same snapshot, arrays, coordinates and chunk bytes as a plain
 * floe_dataset_open on rank 0; a source that does not exist fails on
 * every rank (the others naming rank 0) instead of leaving them waiting.
 *
 * Needs FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT (scripts/test sets them);
 * without them it exits 77 (skipped), like tests/testbed/with_testbed. */
#include "engine/mpi/dataset_collective.h"
#include "engine/mpi/comm.h"
#include "dataset/dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(rank, cond, ...)                                                         \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "rank %d: FAIL %s:%d: ", (rank), __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                                              \
            fprintf(stderr, "\n");                                                     \
            failures++;                                                                \
        }                                                                              \
    } while (0)

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* What a dataset says, as one number: snapshot, arrays, their shapes and
 * manifests, the lat coordinate and one Rainf chunk over Cape Cod. */
static uint64_t digest(floe_dataset *ds, int rank)
{
    uint64_t h = 1469598103934665603ull;
    const floe_provenance *p = floe_dataset_provenance(ds);
    h = fnv(p->snapshot_id, strlen(p->snapshot_id), h);
    size_t n = floe_dataset_array_count(ds);
    for (size_t i = 0; i < n; i++) {
        const floe_array *a = floe_dataset_array(ds, i);
        h = fnv(a->name, strlen(a->name), h);
        h = fnv(a->shape, sizeof a->shape, h);
        h = fnv(&a->n_manifests, sizeof a->n_manifests, h);
    }
    const floe_array *lat = floe_dataset_find(ds, "lat");
    double *v = NULL;
    floe_err err = lat ? floe_dataset_read_1d(ds, lat, &v) : NULL;
    CHECK(rank, lat && !err, "reading lat");
    floe_err_free(&err);
    if (v)
        h = fnv(v, (size_t)lat->shape[0] * sizeof *v, h);
    free(v);
    const floe_array *rain = floe_dataset_find(ds, "Rainf");
    CHECK(rank, rain != NULL, "no Rainf");
    if (rain) {
        size_t bytes = rain->itemsize;
        for (int d = 0; d < rain->ndim; d++)
            bytes *= (size_t)rain->chunk_shape[d];
        void *chunk = malloc(bytes);
        uint64_t coord[3] = {15, 8, 14}; /* 2001-01-16, the Cape Cod tile */
        err = floe_dataset_read_chunk(ds, rain, coord, chunk);
        CHECK(rank, !err, "reading a Rainf chunk");
        floe_err_free(&err);
        h = fnv(chunk, bytes, h);
        free(chunk);
    }
    return h;
}

/* Requests of the collective open on each rank, checked on rank 0. */
static void check_requests(const floe_mpi *mpi, floe_dataset *ds, const char *what)
{
    floe_dataset_io io;
    floe_dataset_io_stats(ds, &io);
    uint64_t mine[2] = {io.requests, io.cache_hits};
    uint64_t *all = malloc(2 * (size_t)mpi->size * sizeof *all);
    MPI_Gather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, 0, mpi->comm);
    if (mpi->rank == 0) {
        for (int r = 0; r < mpi->size; r++) {
            printf("%s: rank %d: %llu requests, %llu reads answered from memory\n", what, r,
                   (unsigned long long)all[2 * r], (unsigned long long)all[2 * r + 1]);
            if (r == 0)
                CHECK(0, all[0] > 0, "%s: rank 0 made no request", what);
            else
                CHECK(0, all[2 * r] == 0 && all[2 * r + 1] > 0,
                      "%s: rank %d made %llu requests (%llu from the blob)", what, r,
                      (unsigned long long)all[2 * r], (unsigned long long)all[2 * r + 1]);
        }
    }
    free(all);
}

/* Manifest objects in a recorded blob: its "/manifests/" URLs. */
static uint64_t blob_manifests(const void *blob, size_t len)
{
    static const char key[] = "/manifests/";
    uint64_t n = 0;
    const uint8_t *b = blob;
    for (size_t i = 0; i + sizeof key - 1 <= len; i++)
        n += !memcmp(b + i, key, sizeof key - 1);
    return n;
}

/* An open naming one data array parses from rank 0's blob (ranks other
 * than 0) its coordinates' manifests and not the array's own: the blob
 * every rank receives carries no data array's manifests (issue 13). A
 * process that reads data manifests itself (alone, or rank 0) reads an
 * array held in one manifest in the same wave as its coordinates' (issue
 * 15: the one-day query in four round trips); rank 0 keeps it out of its
 * blob. */
static void check_manifests_at_open(const floe_mpi *mpi, floe_dataset *ds, const char *name,
                                    const char *what)
{
    const floe_array *a = floe_dataset_find(ds, name);
    CHECK(mpi->rank, a != NULL, "%s: no array %s", what, name);
    if (!a)
        return;
    uint64_t coords = 0;
    for (int d = 0; d < a->ndim; d++) {
        const floe_array *c = a->dim_names[d] ? floe_dataset_find(ds, a->dim_names[d]) : NULL;
        coords += c ? c->n_manifests : 0;
    }
    if (mpi->size > 1 && mpi->rank == 0) {
        const void *blob = NULL;
        size_t len = 0;
        floe_err err = floe_dataset_recorded(ds, &blob, &len);
        CHECK(0, !err && blob_manifests(blob, len) == coords,
              "%s: rank 0's blob holds %llu manifests, want %llu (the coordinates' of %s)", what,
              (unsigned long long)blob_manifests(blob, len), (unsigned long long)coords, name);
        floe_err_free(&err);
    }
    uint64_t want = coords + ((mpi->size == 1 || mpi->rank == 0) && a->n_manifests == 1);
    floe_dataset_io io;
    floe_dataset_io_stats(ds, &io);
    CHECK(mpi->rank, coords > 0 && io.manifests_read == want,
          "%s: %llu manifests read at open, want %llu (the coordinates' of %s%s)", what,
          (unsigned long long)io.manifests_read, (unsigned long long)want, name,
          want > coords ? " and its own" : "");
}

static void open_and_compare(const floe_mpi *mpi, floe_open_request req, const char *what)
{
    floe_dataset *ds = NULL;
    floe_err err = floe_dataset_open_collective(mpi, &req, &ds);
    char line[1024];
    CHECK(mpi->rank, !err, "%s: %s", what, err ? floe_err_line(err, line, sizeof line) : "");
    floe_err_free(&err);
    if (!ds) {
        MPI_Abort(mpi->comm, 1); /* the agreement failed: nothing to compare */
        return;
    }
    check_requests(mpi, ds, what);
    if (req.arrays)
        check_manifests_at_open(mpi, ds, req.arrays, what);
    uint64_t h = digest(ds, mpi->rank), h0 = 0;
    if (mpi->rank == 0) {
        /* The independent reading: a plain open on rank 0 alone. */
        floe_open_request plain = req;
        floe_dataset *ref = NULL;
        err = floe_dataset_open(&plain, &ref);
        CHECK(0, !err, "%s: plain open: %s", what, err ? floe_err_line(err, line, sizeof line) : "");
        floe_err_free(&err);
        h0 = ref ? digest(ref, 0) : 0;
        floe_dataset_free(&ref);
    }
    MPI_Bcast(&h0, 1, MPI_UINT64_T, 0, mpi->comm);
    CHECK(mpi->rank, h == h0, "%s: this rank's dataset differs from a plain open on rank 0",
          what);
    floe_dataset_free(&ds);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("FLOE_TESTBED_DIR"), *endpoint = getenv("FLOE_S3_ENDPOINT");
    if (!dir || !*dir || !endpoint || !*endpoint) {
        printf("skipped: FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT are not set (run scripts/test)\n");
        return 77;
    }
    floe_mpi mpi;
    floe_err err = floe_mpi_init(&argc, &argv, &mpi);
    if (err) {
        fprintf(stderr, "MPI start-up failed\n");
        return 1;
    }
    int want = argc > 1 ? atoi(argv[argc - 1]) : mpi.size;
    CHECK(mpi.rank, want == mpi.size, "started with %d ranks, expected %d", mpi.size, want);

    char source[1024];
    snprintf(source, sizeof source, "%s/collection.json", dir);
    floe_open_request req = {.source = source, .s3_endpoint = endpoint};
    req.arrays = "Rainf";
    open_and_compare(&mpi, req, "Rainf only");
    req.arrays = NULL;
    open_and_compare(&mpi, req, "every array");

    /* Rank 0 fails: every rank returns an error, none waits. */
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/no-such-collection.json", dir);
    floe_open_request bad = {.source = missing, .s3_endpoint = endpoint};
    floe_dataset *ds = NULL;
    err = floe_dataset_open_collective(&mpi, &bad, &ds);
    CHECK(mpi.rank, err && !ds, "opening %s succeeded", missing);
    if (err && mpi.rank > 0) {
        char line[1024];
        floe_err_line(err, line, sizeof line);
        CHECK(mpi.rank, strstr(line, "rank 0") && strstr(line, "no-such-collection"),
              "the error does not name rank 0 and the source: %s", line);
    }
    floe_err_free(&err);
    floe_dataset_free(&ds);

    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, mpi.comm);
    if (mpi.rank == 0)
        printf("%s\n", total ? "FAILED" : "ok");
    floe_mpi_finalize(&mpi);
    return total ? 1 : 0;
}
