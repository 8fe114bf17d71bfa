/* SPDX-License-Identifier: Apache-2.0 */
/* tests/testbed/test_job_threads.c - the jobs called directly (without
 * the CLI, one rank without MPI, as `floe CMD` runs without mpirun) with
 * the dataset's pool at 1 worker and at 4: every variable of every output
 * must hold the same bytes. Their chunk callbacks then run on several
 * workers at once (dataset.h floe_chunk_fn), so a callback that shares
 * scratch, a counter or the anomaly's loaded box between chunks gives
 * other values here (the 4-worker runs are made twice: a race need not
 * show every time).
 *
 * Covered: series of a box's statistics and at points, extract, stats, a
 * monthly climatology, and extract and a box's series as anomalies from
 * that climatology (--anomaly-from).
 *
 * Needs FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT (scripts/test sets them);
 * without them it exits 77 (skipped). Writes into a fresh directory under
 * the system's temporary directory. */
#include "engine/job/extract.h"
#include "engine/job/series.h"
#include "engine/job/stats.h"
#include "engine/mpi/comm.h"

#include <netcdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

enum { RUNS_AT_FOUR = 2 };

typedef enum job_kind { SERIES, EXTRACT, STATS } job_kind;

typedef struct job_case {
    const char *name;
    job_kind kind;
    const char *vars, *bbox, *time, *stat;
    int points;   /* series at the points file */
    int anomaly;  /* --anomaly-from the climatology written first */
    int clim;     /* a monthly climatology (this case's output is the anomaly's input) */
} job_case;

static const job_case CASES[] = {
    {"clim", STATS, "Tair", "-80,35,-70,45", NULL, "mean,std,count", 0, 0, 1},
    {"series_box", SERIES, "Rainf", "-100,30,-90,40", NULL, "mean,max,count", 0, 0, 0},
    {"series_pts", SERIES, "Tair", NULL, NULL, NULL, 1, 0, 0},
    {"extract", EXTRACT, "Tair,Rainf", "-75,38,-68,44", "2001-01-03/2001-01-20", NULL, 0, 0, 0},
    {"stats", STATS, "Tair,Rainf", "-90,30,-70,45", NULL, "mean,min,max,std,count", 0, 0, 0},
    {"extract_anom", EXTRACT, "Tair", "-78,36,-71,44", "2001-01-03/2001-02-20", NULL, 0, 1, 0},
    {"series_anom", SERIES, "Tair", "-78,36,-71,44", NULL, "mean,max", 0, 1, 0},
};

static char dir[512], source[1024], points[600], clim_path[700];
static const char *endpoint;

static floe_err run_case(const job_case *c, int threads, const char *out)
{
    floe_mpi one = {.comm = MPI_COMM_NULL, .rank = 0, .size = 1};
    floe_job_request job = {
        .open = {.source = source, .s3_endpoint = endpoint, .threads = threads},
        .vars = c->vars, .bbox = c->points ? NULL : c->bbox, .time = c->time, .output = out,
        .command = "test_job_threads", .quiet = 1, .overwrite = 1,
        .anomaly_from = c->anomaly ? clim_path : NULL,
    };
    if (c->kind == SERIES) {
        floe_series_request r = {.job = job, .points = c->points ? points : NULL,
                                 .stat = c->points ? NULL : c->stat};
        return floe_series_run(&one, &r);
    }
    if (c->kind == EXTRACT) {
        floe_extract_request r = {.job = job};
        return floe_extract_run(&one, &r);
    }
    floe_stats_request r = {.job = job, .stat = c->stat, .climatology = c->clim,
                            .by = c->clim ? "month" : NULL};
    return floe_stats_run(&one, &r);
}

/* Every variable of b holds a's bytes (what `same` means here). */
static void compare_files(const char *what, const char *a, const char *b)
{
    int fa, fb;
    if (nc_open(a, NC_NOWRITE, &fa) != NC_NOERR || nc_open(b, NC_NOWRITE, &fb) != NC_NOERR) {
        CHECK(0, "%s: cannot open %s or %s", what, a, b);
        return;
    }
    int nva = 0, nvb = 0;
    nc_inq_nvars(fa, &nva);
    nc_inq_nvars(fb, &nvb);
    CHECK(nva == nvb && nva > 0, "%s: %d variables against %d", what, nva, nvb);
    for (int v = 0; v < nva && nva == nvb; v++) {
        char name[NC_MAX_NAME + 1];
        nc_type type;
        int ndims, dims[NC_MAX_VAR_DIMS], vb;
        nc_inq_var(fa, v, name, &type, &ndims, dims, NULL);
        size_t n = 1, size = 0;
        for (int d = 0; d < ndims; d++) {
            size_t len;
            nc_inq_dimlen(fa, dims[d], &len);
            n *= len;
        }
        nc_inq_type(fa, type, NULL, &size);
        if (nc_inq_varid(fb, name, &vb) != NC_NOERR) {
            CHECK(0, "%s: no %s in the 4-worker output", what, name);
            continue;
        }
        void *x = malloc(n * size + 1), *y = malloc(n * size + 1);
        int ok = x && y && nc_get_var(fa, v, x) == NC_NOERR && nc_get_var(fb, vb, y) == NC_NOERR;
        int same = ok && type != NC_STRING && !memcmp(x, y, n * size);
        for (size_t i = 0; ok && type == NC_STRING && i < n; i++) /* the strings, not pointers */
            same = (i == 0 || same) && !strcmp(((char **)x)[i], ((char **)y)[i]);
        CHECK(same, "%s: %s differs between 1 and 4 workers", what, name);
        if (ok && type == NC_STRING) {
            nc_free_string(n, x);
            nc_free_string(n, y);
        }
        free(x);
        free(y);
    }
    nc_close(fa);
    nc_close(fb);
}

int main(void)
{
    const char *bed = getenv("FLOE_TESTBED_DIR");
    endpoint = getenv("FLOE_S3_ENDPOINT");
    if (!bed || !*bed || !endpoint || !*endpoint) {
        printf("skipped: FLOE_TESTBED_DIR and FLOE_S3_ENDPOINT are not set (run scripts/test)\n");
        return 77;
    }
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/floe-job-threads-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot make a directory under %s\n", tmp);
        return 1;
    }
    snprintf(source, sizeof source, "%s/collection.json", bed);
    snprintf(points, sizeof points, "%s/pts.csv", dir);
    snprintf(clim_path, sizeof clim_path, "%s/clim.t1.nc", dir);
    FILE *f = fopen(points, "w");
    if (!f || fputs("lon,lat,id\n-70.3,41.7,a\n-100.2,40.1,b\n-120.5,45.5,c\n", f) < 0) {
        fprintf(stderr, "cannot write %s\n", points);
        return 1;
    }
    fclose(f);
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        const job_case *c = &CASES[k];
        char one[700], four[700], line[1024];
        snprintf(one, sizeof one, "%s/%s.t1.nc", dir, c->name);
        floe_err err = run_case(c, 1, one);
        CHECK(!err, "%s at 1 worker: %s", c->name, err ? floe_err_line(err, line, sizeof line) : "");
        floe_err_free(&err);
        for (int r = 0; r < RUNS_AT_FOUR; r++) {
            snprintf(four, sizeof four, "%s/%s.t4.%d.nc", dir, c->name, r);
            err = run_case(c, 4, four);
            CHECK(!err, "%s at 4 workers: %s", c->name,
                  err ? floe_err_line(err, line, sizeof line) : "");
            floe_err_free(&err);
            compare_files(c->name, one, four);
        }
        printf("%s: compared\n", c->name);
    }
    if (failures) {
        fprintf(stderr, "%d failure(s); outputs kept in %s\n", failures, dir);
        return 1;
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    printf("ok: every output identical at 1 and 4 workers\n");
    return 0;
}
