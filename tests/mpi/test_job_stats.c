/* SPDX-License-Identifier: Apache-2.0 */
/* test_job_stats NP (under mpirun -np NP): the stats job called directly,
 * without the CLI (engine/job/stats.h), on the served test bed.
 *
 * The job runs on 1 rank without MPI (comm MPI_COMM_NULL, as `floe stats`
 * runs without mpirun) and then on communicators of 2, ..., NP ranks (the
 * first ranks of the world); each run writes its own file. Rank 0 then
 * checks every file: Tair_count must equal, and Tair_mean be within float
 * rounding of, a per-cell count and mean computed here independently from
 * plain floe_dataset chunk reads (fill values skipped); and the data bytes
 * of every file must equal those of the one-rank run.
 *
 * Needs FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT (scripts/test sets them);
 * without them it exits 77 (skipped), like test_dataset_collective. */
#include "dataset/dataset.h"
#include "engine/job/stats.h"
#include "engine/mpi/comm.h"

#include <math.h>
#include <netcdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
            failures++;                                                         \
        }                                                                       \
    } while (0)

/* The request: two statistics of Tair over every step in a box that spans
 * several chunks (chunks are 50 x 90 cells of 0.1 degree). */
#define VAR "Tair"
#define BBOX "-75,38,-68,44"

/* One output file's lat, lon and the two statistics. */
typedef struct result {
    size_t ny, nx;
    double *lat, *lon;
    float *mean, *count;
} result;

static void result_free(result *r)
{
    free(r->lat);
    free(r->lon);
    free(r->mean);
    free(r->count);
    memset(r, 0, sizeof *r);
}

static int read_var(int nc, const char *name, size_t n, float *f, double *d)
{
    int id;
    if (nc_inq_varid(nc, name, &id) != NC_NOERR)
        return 0;
    (void)n;
    return (f ? nc_get_var_float(nc, id, f) : nc_get_var_double(nc, id, d)) == NC_NOERR;
}

static int read_result(const char *path, result *r)
{
    memset(r, 0, sizeof *r);
    int nc, dim;
    if (nc_open(path, NC_NOWRITE, &nc) != NC_NOERR)
        return 0;
    int ok = nc_inq_dimid(nc, "lat", &dim) == NC_NOERR && nc_inq_dimlen(nc, dim, &r->ny) == NC_NOERR &&
             nc_inq_dimid(nc, "lon", &dim) == NC_NOERR && nc_inq_dimlen(nc, dim, &r->nx) == NC_NOERR;
    size_t n = r->ny * r->nx;
    if (ok) {
        r->lat = malloc(r->ny * sizeof *r->lat);
        r->lon = malloc(r->nx * sizeof *r->lon);
        r->mean = malloc(n * sizeof *r->mean);
        r->count = malloc(n * sizeof *r->count);
        ok = r->lat && r->lon && r->mean && r->count && read_var(nc, "lat", r->ny, NULL, r->lat) &&
             read_var(nc, "lon", r->nx, NULL, r->lon) && read_var(nc, VAR "_mean", n, r->mean, NULL) &&
             read_var(nc, VAR "_count", n, r->count, NULL);
    }
    nc_close(nc);
    return ok;
}

/* Index of v in axis[0..n), or -1. */
static long find(const double *axis, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        if ((float)axis[i] == (float)v)
            return (long)i;
    return -1;
}

/* The independent reading: every step's chunks over the output's cells,
 * summed in double, fill values and NaN skipped. */
static void check_against_chunks(const char *source, const char *endpoint, const result *r)
{
    floe_open_request req = {.source = source, .s3_endpoint = endpoint};
    floe_dataset *ds = NULL;
    floe_err err = floe_dataset_open(&req, &ds);
    char line[1024];
    CHECK(!err, "plain open: %s", err ? floe_err_line(err, line, sizeof line) : "");
    floe_err_free(&err);
    const floe_array *a = ds ? floe_dataset_find(ds, VAR) : NULL;
    const floe_array *la = ds ? floe_dataset_find(ds, "lat") : NULL;
    const floe_array *lo = ds ? floe_dataset_find(ds, "lon") : NULL;
    double *lat = NULL, *lon = NULL;
    if (a && la && lo && !floe_dataset_read_1d(ds, la, &lat) && !floe_dataset_read_1d(ds, lo, &lon)) {
        long i0 = find(lat, la->shape[0], r->lat[0]), j0 = find(lon, lo->shape[0], r->lon[0]);
        CHECK(i0 >= 0 && j0 >= 0, "the output's first cell is not on the grid");
        size_t n = r->ny * r->nx, ch = a->chunk_shape[1], cw = a->chunk_shape[2];
        double *sum = calloc(n, sizeof *sum);
        float *chunk = malloc(a->chunk_shape[0] * ch * cw * sizeof *chunk);
        uint32_t *cnt = calloc(n, sizeof *cnt);
        for (uint64_t tc = 0; i0 >= 0 && j0 >= 0 && tc * a->chunk_shape[0] < a->shape[0]; tc++)
            for (uint64_t cy = (uint64_t)i0 / ch; cy <= ((uint64_t)i0 + r->ny - 1) / ch; cy++)
                for (uint64_t cx = (uint64_t)j0 / cw; cx <= ((uint64_t)j0 + r->nx - 1) / cw; cx++) {
                    uint64_t coord[3] = {tc, cy, cx};
                    err = floe_dataset_read_chunk(ds, a, coord, chunk);
                    CHECK(!err, "chunk %llu,%llu,%llu", (unsigned long long)tc,
                          (unsigned long long)cy, (unsigned long long)cx);
                    floe_err_free(&err);
                    for (uint64_t k = 0; k < a->chunk_shape[0]; k++) {
                        if (tc * a->chunk_shape[0] + k >= a->shape[0])
                            break;
                        for (size_t y = 0; y < r->ny; y++)
                            for (size_t x = 0; x < r->nx; x++) {
                                uint64_t gy = (uint64_t)i0 + y, gx = (uint64_t)j0 + x;
                                if (gy / ch != cy || gx / cw != cx)
                                    continue;
                                float v = chunk[(k * ch + gy % ch) * cw + gx % cw];
                                if (isnan(v) || v == (float)a->fill_value)
                                    continue;
                                sum[y * r->nx + x] += v;
                                cnt[y * r->nx + x]++;
                            }
                    }
                }
        size_t bad = 0, valid = 0;
        for (size_t c = 0; c < n; c++) {
            valid += cnt[c] > 0;
            float want = cnt[c] ? (float)(sum[c] / cnt[c]) : (float)a->fill_value;
            int ok = r->count[c] == (float)cnt[c] &&
                     fabsf(r->mean[c] - want) <= 1e-5f * (fabsf(want) > 1 ? fabsf(want) : 1);
            if (!ok && bad++ < 5)
                fprintf(stderr, "cell %zu: mean %.9g count %g, independently %.9g from %u\n", c,
                        r->mean[c], r->count[c], want, cnt[c]);
        }
        CHECK(bad == 0, "%zu of %zu cells differ from the independent computation", bad, n);
        CHECK(valid > 0, "no cell with a valid value: the box tests nothing");
        printf("checked %zu cells (%zu with values) over %llu steps\n", n, valid,
               (unsigned long long)a->shape[0]);
        free(sum);
        free(cnt);
        free(chunk);
    } else {
        CHECK(0, "the dataset has no %s, lat or lon", VAR);
    }
    free(lat);
    free(lon);
    floe_dataset_free(&ds);
}

/* Run the job on the first k ranks of the world (k = 1: without MPI). */
static void run_on(const floe_mpi *world, int k, const char *source, const char *endpoint,
                   const char *path)
{
    floe_mpi sub = {.comm = MPI_COMM_NULL, .rank = 0, .size = 1};
    if (k > 1) {
        MPI_Comm comm = MPI_COMM_NULL;
        int color = world->rank < k ? 0 : MPI_UNDEFINED;
        CHECK(MPI_Comm_split(world->comm, color, world->rank, &comm) == MPI_SUCCESS, "split");
        if (comm == MPI_COMM_NULL)
            return;
        sub.comm = comm;
        MPI_Comm_rank(comm, &sub.rank);
        MPI_Comm_size(comm, &sub.size);
    } else if (world->rank != 0) {
        return;
    }
    char item[1100];
    snprintf(item, sizeof item, "%s.json", path);
    floe_stats_request req = {
        .job = {.open = {.source = source, .s3_endpoint = endpoint}, .vars = VAR, .bbox = BBOX,
                .output = path, .item = item, .command = "test_job_stats", .quiet = 1},
        .stat = "mean,count",
    };
    floe_err err = floe_stats_run(&sub, &req); /* collective over sub */
    char line[1024];
    CHECK(!err, "%d rank(s): %s", k, err ? floe_err_line(err, line, sizeof line) : "");
    floe_err_free(&err);
    if (sub.comm != MPI_COMM_NULL)
        MPI_Comm_free(&sub.comm);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("FLOE_TESTBED_DIR"), *endpoint = getenv("FLOE_S3_ENDPOINT");
    if (!dir || !*dir || !endpoint || !*endpoint) {
        printf("skipped: FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT are not set (run scripts/test)\n");
        return 77;
    }
    floe_mpi mpi;
    if (floe_mpi_init(&argc, &argv, &mpi)) {
        fprintf(stderr, "MPI start-up failed\n");
        return 1;
    }
    int want = argc > 1 ? atoi(argv[argc - 1]) : mpi.size;
    CHECK(want == mpi.size, "started with %d ranks, expected %d", mpi.size, want);
    char source[1024];
    snprintf(source, sizeof source, "%s/collection.json", dir);

    /* One folder for the job, named by rank 0. */
    char tmp[512] = "";
    if (mpi.rank == 0) {
        const char *t = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/floe_test_job_stats.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmp))
            tmp[0] = '\0';
    }
    MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, mpi.comm);
    if (!tmp[0]) {
        fprintf(stderr, "no temporary folder\n");
        floe_mpi_finalize(&mpi);
        return 1;
    }
    for (int k = 1; k <= mpi.size; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/stats.np%d.nc", tmp, k);
        run_on(&mpi, k, source, endpoint, path);
        MPI_Barrier(mpi.comm);
    }
    if (mpi.rank == 0) {
        result first;
        char path[1024];
        snprintf(path, sizeof path, "%s/stats.np1.nc", tmp);
        CHECK(read_result(path, &first), "reading %s", path);
        if (first.mean)
            check_against_chunks(source, endpoint, &first);
        for (int k = 2; k <= mpi.size && first.mean; k++) {
            result r;
            snprintf(path, sizeof path, "%s/stats.np%d.nc", tmp, k);
            CHECK(read_result(path, &r), "reading %s", path);
            size_t n = first.ny * first.nx;
            CHECK(r.mean && r.ny == first.ny && r.nx == first.nx &&
                      !memcmp(r.mean, first.mean, n * sizeof *r.mean) &&
                      !memcmp(r.count, first.count, n * sizeof *r.count) &&
                      !memcmp(r.lat, first.lat, r.ny * sizeof *r.lat) &&
                      !memcmp(r.lon, first.lon, r.nx * sizeof *r.lon),
                  "%d ranks: the data differ from one rank's", k);
            result_free(&r);
            remove(path);
            snprintf(path, sizeof path, "%s/stats.np%d.nc.json", tmp, k);
            remove(path);
        }
        result_free(&first);
        snprintf(path, sizeof path, "%s/stats.np1.nc", tmp);
        remove(path);
        snprintf(path, sizeof path, "%s/stats.np1.nc.json", tmp);
        remove(path);
        rmdir(tmp);
    }
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, mpi.comm);
    if (mpi.rank == 0)
        printf("test_job_stats: %d ranks, %s\n", mpi.size, total ? "FAILED" : "ok");
    floe_mpi_finalize(&mpi);
    return total ? 1 : 0;
}
