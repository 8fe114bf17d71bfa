/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the concurrent range fetcher (io/fetch/fetch.h) against the real
 * loopback S3 stand-in (scripts/s3-standin, nginx) and local files: many
 * random ranges of several objects over s3://, http:// and file paths give
 * exactly the bytes the test wrote; coalescing (adjacent and near ranges
 * become fewer requests, far ones and ones under other conditions do not,
 * the size cap holds, a short coalesced read is split again); the bound on
 * requests in flight (lower bounds on wall time only) and on buffered
 * transfers; retries (503 twice then success, persistent 500 and 503, a
 * refused connection) and what is never retried (404, 403, 412, 416); the
 * stall timeout; bodies cut short or stalled half-way (a scripted server
 * forked by the test); keep-alive; cancel; bad arguments; and that credentials
 * never show in errors or logs; and every MiB of several objects fetched
 * once in random order at 20 ms latency (exact bytes, one request per object
 * when coalescing, the in-flight bound). */
#include "common/floe_log.h"
#include "io/fetch/fetch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NOBJ = 4, OBJ_SIZE = (1 << 20) + 12345 };
static const int64_t OBJ_MTIME = 1704164645; /* 2024-01-02 03:04:05 UTC */

static const char FAKE_KEY[] = "AKIDFLOEFETCHKEY0001";
static const char FAKE_SECRET[] = "floeFetchSecret/Never+Shown0123456789abc";
static const char FAKE_TOKEN[] = "floeFetchSessionTokenNeverShown";

typedef struct fixture {
    char tmp[256];
    char state_dir[300];
    char standin[600];
    char endpoint[128];
    uint8_t *obj[NOBJ];       /* the bytes written to root/bkt/objN.bin */
    char nginx_etag[64];      /* nginx's ETag of every object: "<mtime hex>-<size hex>" */
    char file_etag[NOBJ][80]; /* object_store's ETag of the local files */
} fixture;

static int tag_counter; /* fresh x-floe-fail tags, so counts never carry over */

/* --- set-up -------------------------------------------------------------- */

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void source_dir(char *buf, size_t size)
{
    const char *env = getenv("FLOE_SOURCE_DIR");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return;
    }
    snprintf(buf, size, "%s", __FILE__);
    char *p = strstr(buf, "/tests/unit/");
    if (p)
        *p = 0;
}

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    snprintf(f->tmp, sizeof f->tmp, "%s/floe-test-fetch-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->tmp));
    char path[600], cmd[1600], src[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/root/bkt'", f->tmp);
    assert_int_equal(system(cmd), 0);
    uint32_t x = 4242;
    for (int k = 0; k < NOBJ; k++) {
        f->obj[k] = malloc(OBJ_SIZE);
        assert_non_null(f->obj[k]);
        for (size_t i = 0; i < OBJ_SIZE; i++) {
            x = x * 1664525u + 1013904223u;
            f->obj[k][i] = (uint8_t)(x >> 24);
        }
        snprintf(path, sizeof path, "%s/root/bkt/obj%d.bin", f->tmp, k);
        write_file(path, f->obj[k], OBJ_SIZE);
        struct timespec ts[2] = {{.tv_sec = OBJ_MTIME}, {.tv_sec = OBJ_MTIME}};
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        snprintf(f->file_etag[k], sizeof f->file_etag[k], "%" PRIx64 "-%" PRIx64 "-%" PRIx64,
                 (uint64_t)st.st_ino, (uint64_t)OBJ_MTIME * 1000000u, (uint64_t)OBJ_SIZE);
    }
    snprintf(f->nginx_etag, sizeof f->nginx_etag, "\"%" PRIx64 "-%x\"", (uint64_t)OBJ_MTIME,
             (unsigned)OBJ_SIZE);

    source_dir(src, sizeof src);
    snprintf(f->standin, sizeof f->standin, "%s/scripts/s3-standin", src);
    snprintf(f->state_dir, sizeof f->state_dir, "%s/state", f->tmp);
    snprintf(cmd, sizeof cmd, "'%s' start '%s/root' --port 0 --state '%s' >/dev/null",
             f->standin, f->tmp, f->state_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot start the S3 stand-in: %s (run scripts/setup)\n", cmd);
        teardown(state);
        return -1;
    }
    snprintf(path, sizeof path, "%s/endpoint", f->state_dir);
    FILE *e = fopen(path, "r");
    if (!e || !fgets(f->endpoint, sizeof f->endpoint, e)) {
        fprintf(stderr, "no endpoint in %s\n", path);
        if (e)
            fclose(e);
        teardown(state);
        return -1;
    }
    fclose(e);
    f->endpoint[strcspn(f->endpoint, "\r\n")] = 0;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    char cmd[1200];
    if (f->standin[0]) {
        snprintf(cmd, sizeof cmd, "'%s' stop --state '%s' >/dev/null 2>&1", f->standin,
                 f->state_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not stop the stand-in (%s)\n", cmd);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->tmp);
    for (int k = 0; k < NOBJ; k++)
        free(f->obj[k]);
    free(f);
    return 0;
}

/* --- helpers --------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static floe_transport *transport_at(const char *endpoint, int anonymous,
                                    const char *const *extra_headers)
{
    floe_transport_opts o = {.s3 = {.endpoint = endpoint, .anonymous = anonymous},
                             .connect_timeout_ms = 2000,
                             .stall_timeout_ms = 5000,
                             .extra_headers = extra_headers};
    floe_transport *t = NULL;
    assert_null(floe_transport_new(&o, &t));
    return t;
}

static floe_transport *transport(const fixture *f, const char *const *extra_headers)
{
    return transport_at(f->endpoint, 1, extra_headers);
}

static floe_fetcher *fetcher(floe_transport *t, const floe_fetch_opts *o)
{
    floe_fetcher *fe = NULL;
    floe_err err = floe_fetcher_new(t, o, &fe);
    if (err) {
        char line[512];
        fail_msg("%s", floe_err_line(err, line, sizeof line));
    }
    return fe;
}

typedef enum { VIA_S3, VIA_HTTP, VIA_PATH, VIA_FILE_URL } via;

static void url_of(const fixture *f, int obj, via v, char *buf, size_t size)
{
    switch (v) {
    case VIA_S3: snprintf(buf, size, "s3://bkt/obj%d.bin", obj); break;
    case VIA_HTTP: snprintf(buf, size, "%s/bkt/obj%d.bin", f->endpoint, obj); break;
    case VIA_PATH: snprintf(buf, size, "%s/root/bkt/obj%d.bin", f->tmp, obj); break;
    case VIA_FILE_URL: snprintf(buf, size, "file://%s/root/bkt/obj%d.bin", f->tmp, obj); break;
    }
}

/* One range a test asks for and what it expects back. */
typedef struct req {
    char url[400];
    int obj;
    uint64_t off, len;
    const floe_condition *cond;
    floe_code want; /* FLOE_OK: the bytes of obj */
    int seen;
    char err[2048]; /* the error line, when there was one */
} req;

static void set_req(req *r, const fixture *f, int obj, via v, uint64_t off, uint64_t len)
{
    memset(r, 0, sizeof *r);
    url_of(f, obj, v, r->url, sizeof r->url);
    r->obj = obj;
    r->off = off;
    r->len = len;
}

/* Queue all of rs, take every result, check each against the objects:
 * exactly the bytes for successes, the code for failures, each request
 * once. max_held, when > 0, is checked after every result: transfers
 * started minus results taken (no coalescing) stays within it. Returns
 * the number of errors. */
static int fetch_all(const fixture *f, floe_fetcher *fe, req *rs, size_t n, int max_held)
{
    for (size_t i = 0; i < n; i++) {
        floe_err err = floe_fetch_add(fe, rs[i].url, rs[i].off, rs[i].len, rs[i].cond, &rs[i]);
        if (err) {
            char line[512];
            fail_msg("add %s: %s", rs[i].url, floe_err_line(err, line, sizeof line));
        }
    }
    size_t got = 0;
    int errors = 0;
    for (;;) {
        floe_fetch_result res;
        int more = -1;
        floe_err err = floe_fetch_next(fe, &res, &more);
        if (err) {
            char line[512];
            fail_msg("next: %s", floe_err_line(err, line, sizeof line));
        }
        if (!more) {
            assert_null(res.user);
            break;
        }
        req *r = res.user;
        assert_true(r >= rs && r < rs + n);
        assert_int_equal(r->seen, 0);
        r->seen = 1;
        got++;
        if (res.err) {
            floe_err_line(res.err, r->err, sizeof r->err);
            if (r->want == FLOE_OK)
                fail_msg("%s bytes %" PRIu64 "+%" PRIu64 ": %s", r->url, r->off, r->len, r->err);
            if (floe_err_code(res.err) != r->want)
                fail_msg("want %s, got [%s] %s", floe_code_name(r->want),
                         floe_code_name(floe_err_code(res.err)), r->err);
            assert_null(res.data);
            floe_err_free(&res.err);
            errors++;
        } else {
            if (r->want != FLOE_OK)
                fail_msg("%s bytes %" PRIu64 "+%" PRIu64 ": no error, want %s", r->url, r->off,
                         r->len, floe_code_name(r->want));
            uint64_t want_len = r->len ? r->len : OBJ_SIZE - r->off;
            assert_int_equal(res.len, want_len);
            if (want_len)
                assert_memory_equal(res.data, f->obj[r->obj] + r->off, want_len);
        }
        if (max_held > 0) {
            floe_fetch_stats s;
            floe_fetcher_stats(fe, &s);
            assert_true(s.requests - got <= (uint64_t)max_held);
        }
    }
    assert_int_equal(got, n);
    return errors;
}

static void assert_line_has(const char *line, const char *needle)
{
    if (!strstr(line, needle))
        fail_msg("\"%s\" not in: %s", needle, line);
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    return *x >> 33;
}

/* --- tests --------------------------------------------------------------------- */

/* Random ranges (overlapping, duplicated, from 1 byte to 300 KB, some to the
 * end) of four objects, all four ways of naming them, in one queue. */
static void many_ranges_every_way(void **state)
{
    fixture *f = *state;
    enum { N = 400 };
    static req rs[N];
    uint64_t x = 99;
    for (size_t i = 0; i < N; i++) {
        int obj = (int)(lcg(&x) % NOBJ);
        via v = (via)(lcg(&x) % 4);
        uint64_t off = lcg(&x) % OBJ_SIZE;
        uint64_t len = lcg(&x) % 4 == 0 ? 1 + lcg(&x) % 300000 : 1 + lcg(&x) % 5000;
        if (i % 50 == 7)
            len = 0; /* to the end */
        if (off + len > OBJ_SIZE)
            len = OBJ_SIZE - off;
        set_req(&rs[i], f, obj, v, off, len);
    }
    set_req(&rs[0], f, 0, VIA_S3, 0, OBJ_SIZE); /* whole objects, both ends */
    set_req(&rs[1], f, 1, VIA_HTTP, OBJ_SIZE - 1, 1);
    set_req(&rs[2], f, 2, VIA_PATH, 0, 1);
    floe_transport *t = transport(f, NULL);
    floe_fetch_opts o = {.concurrency = 8};
    floe_fetcher *fe = fetcher(t, &o);
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    floe_fetch_stats s;
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.ranges, N);
    assert_int_equal(s.failures, 0);
    assert_true(s.coalesced > 0);
    assert_true(s.requests < N);
    assert_true(s.max_in_flight <= 8);
    /* Twice the same queue on the same fetcher: still right. */
    for (size_t i = 0; i < N; i++)
        rs[i].seen = 0;
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    floe_fetcher_free(&fe);
    assert_null(fe);
    floe_fetcher_free(&fe); /* safe on NULL */
    floe_transport_free(&t);
}

static void coalescing(void **state)
{
    fixture *f = *state;
    enum { N = 100 };
    static req rs[N];
    floe_transport *t = transport(f, NULL);
    floe_fetch_stats s;
    /* 100 adjacent ranges (given backwards): one request, split exactly. */
    for (int i = 0; i < N; i++)
        set_req(&rs[i], f, 1, VIA_S3, (uint64_t)(N - 1 - i) * 1000 + 17, 1000);
    floe_fetcher *fe = fetcher(t, NULL);
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.coalesced, N - 1);
    assert_int_equal(s.bytes, N * 1000);
    floe_fetcher_free(&fe);

    /* Gaps of 200 bytes are merged with max_gap 200, gaps of 201 not. */
    for (int gap = 200; gap <= 201; gap++) {
        for (int i = 0; i < N; i++)
            set_req(&rs[i], f, 2, VIA_HTTP, (uint64_t)i * (1000 + (uint64_t)gap), 1000);
        floe_fetch_opts o = {.coalesce_max_gap = 200};
        fe = fetcher(t, &o);
        assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
        floe_fetcher_stats(fe, &s);
        assert_int_equal(s.requests, gap == 200 ? 1 : N);
        if (gap == 200)
            assert_int_equal(s.bytes, N * 1000 + (N - 1) * 200); /* the gaps were read */
        floe_fetcher_free(&fe);
    }

    /* The size cap: 100 x 1000 adjacent bytes in requests of <= 10000. */
    for (int i = 0; i < N; i++)
        set_req(&rs[i], f, 3, VIA_S3, (uint64_t)i * 1000, 1000);
    floe_fetch_opts o = {.coalesce_max_bytes = 10000};
    fe = fetcher(t, &o);
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 10);
    floe_fetcher_free(&fe);

    /* Only touching ranges with FLOE_FETCH_NO_GAP; none with no_coalesce. */
    for (int i = 0; i < N; i++)
        set_req(&rs[i], f, 0, VIA_S3, (uint64_t)i * 1000 + (i >= 50 ? 1 : 0), 1000);
    o = (floe_fetch_opts){.coalesce_max_gap = FLOE_FETCH_NO_GAP};
    fe = fetcher(t, &o);
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 2);
    floe_fetcher_free(&fe);
    for (int i = 0; i < N; i++)
        rs[i].seen = 0;
    o = (floe_fetch_opts){.no_coalesce = 1};
    fe = fetcher(t, &o);
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, N);
    assert_int_equal(s.coalesced, 0);
    floe_fetcher_free(&fe);

    /* Different objects, files and far ranges stay apart. */
    for (int i = 0; i < 8; i++)
        set_req(&rs[i], f, i % NOBJ, i < 4 ? VIA_S3 : VIA_PATH, 0, 100);
    set_req(&rs[8], f, 0, VIA_S3, 3 << 20 >> 2, 100); /* 768 KiB away: within the gap */
    set_req(&rs[9], f, 1, VIA_HTTP, 0, 100);          /* same object as s3 obj1, other URL */
    fe = fetcher(t, NULL);
    assert_int_equal(fetch_all(f, fe, rs, 10, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 9); /* only rs[0] and rs[8] share one */
    floe_fetcher_free(&fe);
    floe_transport_free(&t);
}

/* Ranges under different conditions never share a request: a wrong ETag
 * fails its own ranges only; a coalesced request that reads short is split
 * so the ranges inside the object still succeed. */
static void conditions_and_short_reads(void **state)
{
    fixture *f = *state;
    enum { N = 30 };
    static req rs[N];
    floe_transport *t = transport(f, NULL);
    floe_condition good = {.etag = f->nginx_etag};
    floe_condition old = {.unmodified_since = OBJ_MTIME - 1};
    floe_condition bad = {.etag = "\"0-0\""};
    floe_condition since = {.unmodified_since = OBJ_MTIME};
    const floe_condition *conds[] = {NULL, &good, &bad, &since, &old};
    for (int i = 0; i < N; i++) {
        set_req(&rs[i], f, 2, VIA_S3, (uint64_t)i * 100, 100);
        rs[i].cond = conds[i % 5];
        rs[i].want = rs[i].cond == &bad || rs[i].cond == &old ? FLOE_ECHECKSUM : FLOE_OK;
    }
    floe_fetcher *fe = fetcher(t, NULL);
    assert_int_equal(fetch_all(f, fe, rs, N, 0), 12);
    floe_fetch_stats s;
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 5);
    assert_int_equal(s.retries, 0); /* 412 is never retried */
    assert_int_equal(s.failures, 12);
    /* Each failed range's error names its own range and the condition. */
    assert_line_has(rs[2].err, "s3://bkt/obj2.bin bytes=200-299");
    assert_line_has(rs[2].err, "If-Match \"0-0\"");
    assert_line_has(rs[2].err, "(after 1 attempt in ");
    assert_line_has(rs[2].err, "not retryable)");
    assert_line_has(rs[4].err, "bytes=400-499");
    assert_line_has(rs[4].err, "412");

    /* Local files: the same conditions, object_store's ETag. */
    floe_condition file_good = {.etag = f->file_etag[3]};
    for (int i = 0; i < 4; i++) {
        set_req(&rs[i], f, 3, i % 2 ? VIA_PATH : VIA_FILE_URL, (uint64_t)i * 10, 10);
        rs[i].cond = i < 2 ? &file_good : &bad;
        rs[i].want = i < 2 ? FLOE_OK : FLOE_ECHECKSUM;
    }
    assert_int_equal(fetch_all(f, fe, rs, 4, 0), 2);
    floe_fetcher_free(&fe);

    /* Ten ranges, the last two past the end of the object. */
    for (int i = 0; i < 10; i++)
        set_req(&rs[i], f, 0, VIA_S3, OBJ_SIZE - 8000 + (uint64_t)i * 1000,
                1000);
    rs[8].want = FLOE_EFORMAT; /* [OBJ+0, OBJ+1000): beyond the end, 416 */
    rs[9].want = FLOE_EFORMAT;
    set_req(&rs[10], f, 0, VIA_S3, OBJ_SIZE - 10, 20); /* straddles the end: short */
    rs[10].want = FLOE_EFORMAT;
    fe = fetcher(t, NULL);
    assert_int_equal(fetch_all(f, fe, rs, 11, 0), 3);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.splits, 1);
    assert_int_equal(s.retries, 0);
    assert_int_equal(s.requests, 1 + 11);
    assert_line_has(rs[10].err, "short read");
    assert_line_has(rs[10].err, "bytes=1060911-1060930");
    floe_fetcher_free(&fe);
    floe_transport_free(&t);
}

/* 16 requests that each take >= 200 ms, at most 4 at a time: at least four
 * rounds. Only lower bounds on time. */
static void concurrency_bound(void **state)
{
    fixture *f = *state;
    enum { N = 16 };
    static req rs[N];
    const char *slow[] = {"x-floe-latency-ms: 200", NULL};
    floe_transport *t = transport(f, slow);
    const int conc[] = {4, 16};
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < N; i++)
            set_req(&rs[i], f, i % NOBJ, VIA_S3, (uint64_t)i * 4000, 100);
        floe_fetch_opts o = {.concurrency = conc[c], .no_coalesce = 1};
        floe_fetcher *fe = fetcher(t, &o);
        double t0 = now_s();
        assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
        double wall = now_s() - t0;
        floe_fetch_stats s;
        floe_fetcher_stats(fe, &s);
        assert_int_equal(s.max_in_flight, conc[c]);
        assert_int_equal(s.requests, N);
        double rounds = (double)N / conc[c];
        if (wall < rounds * 0.2 * 0.95)
            fail_msg("%d requests of >= 200 ms at concurrency %d took %.3f s", N, conc[c], wall);
        assert_true(s.wait_seconds > 0.1);
        assert_true(s.new_connections <= (uint64_t)conc[c]);
        floe_fetcher_free(&fe);
    }
    floe_transport_free(&t);
}

/* The caller decodes one result at a time: transfers started but not yet
 * taken never exceed twice the concurrency. */
static void buffered_transfers_bounded(void **state)
{
    fixture *f = *state;
    enum { N = 60 };
    static req rs[N];
    floe_transport *t = transport(f, NULL);
    for (int i = 0; i < N; i++)
        set_req(&rs[i], f, i % NOBJ, VIA_S3, (uint64_t)i * 7000, 5000);
    floe_fetch_opts o = {.concurrency = 3, .no_coalesce = 1};
    floe_fetcher *fe = fetcher(t, &o);
    assert_int_equal(fetch_all(f, fe, rs, N, 6), 0);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);
}

static void retries(void **state)
{
    fixture *f = *state;
    req rs[1];
    floe_fetch_stats s;
    floe_fetch_opts o = {.retry = {.max_attempts = 3, .base_ms = 10, .max_ms = 50}};

    /* 503 twice, then the data. */
    char h[64];
    snprintf(h, sizeof h, "x-floe-fail: 503:2:fetch-%d", ++tag_counter);
    const char *twice[] = {h, NULL};
    floe_transport *t = transport(f, twice);
    floe_fetcher *fe = fetcher(t, &o);
    set_req(&rs[0], f, 0, VIA_S3, 1000, 5000);
    assert_int_equal(fetch_all(f, fe, rs, 1, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.retries, 2);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.failures, 0);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);

    /* A coalesced request is retried as one. */
    snprintf(h, sizeof h, "x-floe-fail: 500:1:fetch-%d", ++tag_counter);
    t = transport(f, twice);
    fe = fetcher(t, &o);
    req many[5];
    for (int i = 0; i < 5; i++)
        set_req(&many[i], f, 1, VIA_HTTP, (uint64_t)i * 300, 200);
    assert_int_equal(fetch_all(f, fe, many, 5, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.retries, 1);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);

    /* Persistent 500: the error names the URL, range, attempts, status. */
    const char *always500[] = {"x-floe-fail: 500", NULL};
    t = transport(f, always500);
    fe = fetcher(t, &o);
    set_req(&rs[0], f, 0, VIA_S3, 10, 10);
    rs[0].want = FLOE_ENET;
    assert_int_equal(fetch_all(f, fe, rs, 1, 0), 1);
    assert_line_has(rs[0].err, "s3://bkt/obj0.bin bytes=10-19");
    assert_line_has(rs[0].err, "gave up after 3 attempts");
    assert_line_has(rs[0].err, "HTTP 500");
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.retries, 2);
    assert_int_equal(s.failures, 1);
    /* Several ranges in one failed request: each gets its own error. */
    for (int i = 0; i < 5; i++) {
        set_req(&many[i], f, 1, VIA_S3, (uint64_t)i * 300, 200);
        many[i].want = FLOE_ENET;
    }
    assert_int_equal(fetch_all(f, fe, many, 5, 0), 5);
    assert_line_has(many[3].err, "s3://bkt/obj1.bin bytes=900-1099 (coalesced into bytes=0-1399");
    assert_line_has(many[3].err, "gave up after 3 attempts");
    floe_fetcher_free(&fe);
    floe_transport_free(&t);

    /* Persistent SlowDown: retried, then named. */
    const char *slowdown[] = {"x-floe-fail: 503", NULL};
    t = transport(f, slowdown);
    fe = fetcher(t, &o);
    set_req(&rs[0], f, 2, VIA_S3, 0, 10);
    rs[0].want = FLOE_ENET;
    assert_int_equal(fetch_all(f, fe, rs, 1, 0), 1);
    assert_line_has(rs[0].err, "HTTP 503 SlowDown");
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.retries, 2);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);

    /* Never retried: 404, 403, 416. */
    const char *deny[] = {"x-floe-fail: 403", NULL};
    struct {
        const char *const *headers;
        const char *url;
        uint64_t off;
        floe_code code;
        const char *needle;
    } never[] = {
        {NULL, "s3://bkt/missing.bin", 0, FLOE_ENOTFOUND, "404 NoSuchKey"},
        {deny, "s3://bkt/obj0.bin", 0, FLOE_EAUTH, "HTTP 403"},
        {NULL, "s3://bkt/obj0.bin", OBJ_SIZE + 5, FLOE_EFORMAT, "416"},
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        t = transport(f, never[i].headers);
        fe = fetcher(t, &o);
        memset(rs, 0, sizeof rs);
        snprintf(rs[0].url, sizeof rs[0].url, "%s", never[i].url);
        rs[0].off = never[i].off;
        rs[0].len = 10;
        rs[0].want = never[i].code;
        assert_int_equal(fetch_all(f, fe, rs, 1, 0), 1);
        assert_line_has(rs[0].err, never[i].needle);
        assert_line_has(rs[0].err, never[i].url);
        assert_line_has(rs[0].err, "(after 1 attempt in ");
        assert_line_has(rs[0].err, "not retryable)");
        floe_fetcher_stats(fe, &s);
        assert_int_equal(s.requests, 1);
        assert_int_equal(s.retries, 0);
        floe_fetcher_free(&fe);
        floe_transport_free(&t);
    }
}

/* A loopback port nothing listens on (bound, then released). */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &n), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void refused_connection(void **state)
{
    (void)state;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", free_port());
    floe_transport *t = transport_at(endpoint, 1, NULL);
    floe_fetch_opts o = {.retry = {.max_attempts = 3, .base_ms = 20}};
    floe_fetcher *fe = fetcher(t, &o);
    assert_null(floe_fetch_add(fe, "s3://bkt/x", 5, 10, NULL, NULL));
    floe_fetch_result res;
    int more;
    double t0 = now_s();
    assert_null(floe_fetch_next(fe, &res, &more));
    double wall = now_s() - t0;
    assert_int_equal(more, 1);
    assert_non_null(res.err);
    char line[1024];
    floe_err_line(res.err, line, sizeof line);
    assert_int_equal(floe_err_code(res.err), FLOE_ENET);
    assert_line_has(line, "s3://bkt/x bytes=5-14");
    assert_line_has(line, "gave up after 3 attempts");
    assert_line_has(line, endpoint);
    floe_err_free(&res.err);
    /* Two full-jitter backoffs (retry.h): at most 20 and 40 ms, maybe 0;
     * three refused connects on loopback take far less than a second. */
    assert_true(wall < 1.0);
    assert_null(floe_fetch_next(fe, &res, &more));
    assert_int_equal(more, 0);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);
}

/* A server that sends nothing for longer than the stall timeout: the
 * attempt is abandoned and retried, then the range fails as a stall. A
 * delay shorter than the timeout is no stall. */
static void stall_timeout(void **state)
{
    fixture *f = *state;
    req rs[2];
    const char *slow[] = {"x-floe-latency-ms: 1500", NULL};
    floe_transport *t = transport(f, slow);
    floe_fetch_opts o = {.retry = {.max_attempts = 2, .base_ms = 10}, .stall_timeout_ms = 300};
    floe_fetcher *fe = fetcher(t, &o);
    set_req(&rs[0], f, 0, VIA_S3, 0, 10);
    rs[0].want = FLOE_ENET;
    double t0 = now_s();
    assert_int_equal(fetch_all(f, fe, rs, 1, 0), 1);
    double wall = now_s() - t0;
    assert_line_has(rs[0].err, "stalled: no data for");
    assert_line_has(rs[0].err, "stall timeout 300 ms");
    assert_line_has(rs[0].err, "gave up after 2 attempts");
    assert_line_has(rs[0].err, "s3://bkt/obj0.bin bytes=0-9");
    assert_true(wall >= 0.6 * 0.95);
    floe_fetch_stats s;
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.retries, 1);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);

    const char *bit_slow[] = {"x-floe-latency-ms: 200", NULL};
    t = transport(f, bit_slow);
    o.stall_timeout_ms = 2000;
    fe = fetcher(t, &o);
    set_req(&rs[0], f, 1, VIA_S3, 0, 10);
    set_req(&rs[1], f, 1, VIA_HTTP, 0, 10);
    assert_int_equal(fetch_all(f, fe, rs, 2, 0), 0);
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.retries, 0);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);
}

/* --- a scripted server for what the stand-in cannot do: bodies cut short
 * or stalled half-way ------------------------------------------------------ */

typedef struct fake_server {
    pid_t pid;
    int port;
} fake_server;

/* Answer one request on c from obj: 206 with the asked range, then all of
 * the body ('O'), half of it and a closed connection ('T'), or half of it
 * and silence ('S'). */
static void fake_serve(int c, char mode, const uint8_t *obj, size_t size)
{
    char head[8192];
    size_t n = 0;
    while (n + 1 < sizeof head) {
        ssize_t k = read(c, head + n, sizeof head - 1 - n);
        if (k <= 0)
            return;
        n += (size_t)k;
        head[n] = 0;
        if (strstr(head, "\r\n\r\n"))
            break;
    }
    unsigned long long a = 0, b = size - 1;
    const char *r = strstr(head, "Range: bytes=");
    if (r)
        sscanf(r, "Range: bytes=%llu-%llu", &a, &b);
    size_t len = (size_t)(b - a + 1);
    char hdr[256];
    int hn = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %llu-%llu/%zu\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      a, b, size, len);
    if (write(c, hdr, (size_t)hn) != hn)
        return;
    size_t send = mode == 'O' ? len : len / 2;
    const uint8_t *p = obj + a;
    while (send) {
        ssize_t k = write(c, p, send);
        if (k <= 0)
            return;
        p += k;
        send -= (size_t)k;
    }
    if (mode == 'S')
        sleep(3);
}

/* Connection i gets script[i]; each is served by its own process so a
 * stalled one does not hold up the next. */
static void fake_start(fake_server *fs, const char *script, const uint8_t *obj, size_t size)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 16), 0);
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &n), 0);
    fs->port = ntohs(a.sin_port);
    fflush(NULL);
    fs->pid = fork();
    assert_true(fs->pid >= 0);
    if (fs->pid == 0) {
        setpgid(0, 0);
        signal(SIGCHLD, SIG_IGN); /* handlers are reaped by the kernel */
        for (size_t i = 0; script[i]; i++) {
            int c = accept(ls, NULL, NULL);
            if (c < 0)
                _exit(1);
            if (fork() == 0) {
                fake_serve(c, script[i], obj, size);
                close(c);
                _exit(0);
            }
            close(c);
        }
        sleep(30);
        _exit(0);
    }
    setpgid(fs->pid, fs->pid); /* also here, so stop never races the child's own call */
    close(ls);
}

static void fake_stop(fake_server *fs)
{
    kill(-fs->pid, SIGKILL);
    waitpid(fs->pid, NULL, 0);
}

/* Bodies cut short and stalled half-way are retried; a body cut short
 * every time fails naming the URL, range and attempts. */
static void broken_bodies(void **state)
{
    fixture *f = *state;
    struct {
        const char *script;
        int ok;
        long stall_ms;
        const char *needle;
    } cases[] = {
        {"TO", 1, 0, NULL},
        {"SO", 1, 300, NULL},
        {"TTT", 0, 0, "gave up after 3 attempts"},
        {"SSS", 0, 300, "stalled: no data for"},
    };
    floe_transport *t = transport(f, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_server fs;
        fake_start(&fs, cases[i].script, f->obj[0], OBJ_SIZE);
        floe_fetch_opts o = {.retry = {.max_attempts = 3, .base_ms = 10},
                             .stall_timeout_ms = cases[i].stall_ms};
        floe_fetcher *fe = fetcher(t, &o);
        req rs[1];
        memset(rs, 0, sizeof rs);
        snprintf(rs[0].url, sizeof rs[0].url, "http://127.0.0.1:%d/obj0.bin", fs.port);
        rs[0].off = 1000;
        rs[0].len = 400000; /* more than the socket buffers, so a stall is mid-body */
        rs[0].want = cases[i].ok ? FLOE_OK : FLOE_ENET;
        double t0 = now_s();
        assert_int_equal(fetch_all(f, fe, rs, 1, 0), !cases[i].ok);
        double wall = now_s() - t0;
        floe_fetch_stats s;
        floe_fetcher_stats(fe, &s);
        assert_int_equal(s.retries, strlen(cases[i].script) - 1);
        if (cases[i].stall_ms)
            assert_true(wall >= 0.95 * (double)(strlen(cases[i].script) - cases[i].ok) *
                                    (double)cases[i].stall_ms / 1e3);
        if (!cases[i].ok) {
            char where[128];
            snprintf(where, sizeof where, "http://127.0.0.1:%d/obj0.bin bytes=1000-400999",
                     fs.port);
            assert_line_has(rs[0].err, where);
            assert_line_has(rs[0].err, cases[i].needle);
            assert_line_has(rs[0].err, "3 attempts");
        }
        floe_fetcher_free(&fe);
        fake_stop(&fs);
    }
    floe_transport_free(&t);
}

/* 100 requests at concurrency 8 reuse at most 8 connections. */
static void keep_alive(void **state)
{
    fixture *f = *state;
    enum { N = 100 };
    static req rs[N];
    floe_transport *t = transport(f, NULL);
    floe_fetch_opts o = {.concurrency = 8, .no_coalesce = 1};
    floe_fetcher *fe = fetcher(t, &o);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++)
            set_req(&rs[i], f, i % NOBJ, i % 2 ? VIA_S3 : VIA_HTTP, (uint64_t)i * 1000, 3000);
        assert_int_equal(fetch_all(f, fe, rs, N, 0), 0);
    }
    floe_fetch_stats s;
    floe_fetcher_stats(fe, &s);
    assert_int_equal(s.requests, 2 * N);
    assert_true(s.new_connections >= 1);
    if (s.new_connections > 8)
        fail_msg("%" PRIu64 " connections for %d requests at concurrency 8", s.new_connections,
                 2 * N);
    floe_fetcher_free(&fe);
    floe_transport_free(&t);
}

static void cancel_and_bad_arguments(void **state)
{
    fixture *f = *state;
    floe_transport *t = transport(f, NULL);
    floe_fetch_opts o = {.concurrency = 2, .no_coalesce = 1};
    floe_fetcher *fe = fetcher(t, &o);
    char url[400];
    url_of(f, 0, VIA_S3, url, sizeof url);
    for (int i = 0; i < 50; i++)
        assert_null(floe_fetch_add(fe, url, (uint64_t)i * 10, 10, NULL, NULL));
    floe_fetch_result res;
    int more;
    for (int i = 0; i < 3; i++) {
        assert_null(floe_fetch_next(fe, &res, &more));
        assert_int_equal(more, 1);
        assert_null(res.err);
    }
    floe_fetcher_cancel(fe);
    assert_null(floe_fetch_next(fe, &res, &more));
    assert_int_equal(more, 0);
    /* Still usable afterwards. */
    assert_null(floe_fetch_add(fe, url, 5, 5, NULL, (void *)url));
    assert_null(floe_fetch_next(fe, &res, &more));
    assert_int_equal(more, 1);
    assert_ptr_equal(res.user, url);
    assert_int_equal(res.len, 5);
    assert_memory_equal(res.data, f->obj[0] + 5, 5);
    /* Queued and never taken: freed by free (ASan checks). */
    assert_null(floe_fetch_add(fe, url, 5, 5, NULL, NULL));
    assert_null(floe_fetch_add(fe, url, 50, 5, NULL, NULL));
    assert_null(floe_fetch_next(fe, &res, &more));

    floe_err err = floe_fetch_add(fe, "ftp://x/y", 0, 1, NULL, NULL);
    assert_int_equal(floe_err_code(err), FLOE_EUNSUPPORTED);
    floe_err_free(&err);
    err = floe_fetch_add(fe, NULL, 0, 1, NULL, NULL);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    err = floe_fetch_add(fe, url, UINT64_MAX - 5, 10, NULL, NULL);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    floe_fetcher_free(&fe);

    /* A bad bucket fails its range, not the fetcher. */
    fe = fetcher(t, NULL);
    assert_null(floe_fetch_add(fe, "s3://bad!bucket/k", 0, 1, NULL, NULL));
    assert_null(floe_fetch_next(fe, &res, &more));
    assert_int_equal(more, 1);
    assert_int_equal(floe_err_code(res.err), FLOE_EINVAL);
    floe_err_free(&res.err);
    floe_fetcher_free(&fe);

    floe_fetch_opts bad = {.concurrency = -1};
    fe = NULL;
    err = floe_fetcher_new(t, &bad, &fe);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    assert_null(fe);
    floe_err_free(&err);
    bad = (floe_fetch_opts){.stall_timeout_ms = -5};
    err = floe_fetcher_new(t, &bad, &fe);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    floe_transport_free(&t);
}

static void assert_no_secret(const char *text, const char *where)
{
    const char *secrets[] = {FAKE_KEY, FAKE_SECRET, FAKE_TOKEN};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(text, secrets[i]))
            fail_msg("%s shows a secret (%s): %s", where, secrets[i], text);
    /* A signature (header or query) may be named, never shown: its value
     * is redacted (common/floe_redact.h). */
    static const char sig[] = "Signature=", shown[] = "REDACTED";
    for (const char *p = strstr(text, sig); p; p = strstr(p + 1, sig))
        if (strncmp(p + sizeof sig - 1, shown, sizeof shown - 1))
            fail_msg("%s shows a signature: %s", where, text);
}

/* Signed requests with fake credentials: the good one works; no error line,
 * trace or debug log line shows the key, secret, token or a signature. */
static void credentials_never_shown(void **state)
{
    fixture *f = *state;
    setenv("AWS_ACCESS_KEY_ID", FAKE_KEY, 1);
    setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET, 1);
    setenv("AWS_SESSION_TOKEN", FAKE_TOKEN, 1);
    char *log_text = NULL;
    size_t log_len = 0;
    FILE *log = open_memstream(&log_text, &log_len);
    assert_non_null(log);
    floe_log_level old_level = floe_log_get_level();
    floe_log_set_stream(log);
    floe_log_set_level(FLOE_LOG_DEBUG);

    char refused[64];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d", free_port());
    const char *fail503[] = {"x-floe-fail: 503", NULL};
    const char *stall[] = {"x-floe-latency-ms: 1000", NULL};
    struct {
        const char *endpoint;
        const char *const *headers;
    } setups[] = {{f->endpoint, NULL}, {f->endpoint, fail503}, {f->endpoint, stall},
                  {refused, NULL}};
    int errors = 0;
    for (size_t k = 0; k < sizeof setups / sizeof setups[0]; k++) {
        floe_transport *t = transport_at(setups[k].endpoint, 0, setups[k].headers);
        floe_fetch_opts o = {.retry = {.max_attempts = 2, .base_ms = 5}, .stall_timeout_ms = 200};
        floe_fetcher *fe = fetcher(t, &o);
        floe_condition old = {.unmodified_since = OBJ_MTIME - 10};
        floe_condition tag = {.etag = "\"nope\""};
        assert_null(floe_fetch_add(fe, "s3://bkt/obj0.bin", 0, 100, NULL, (void *)1));
        assert_null(floe_fetch_add(fe, "s3://bkt/missing", 0, 10, NULL, (void *)2));
        assert_null(floe_fetch_add(fe, "s3://bkt/obj1.bin", OBJ_SIZE + 1, 10, NULL, (void *)3));
        assert_null(floe_fetch_add(fe, "s3://bkt/obj1.bin", 0, 10, &old, (void *)4));
        assert_null(floe_fetch_add(fe, "s3://bkt/obj1.bin", 0, 10, &tag, (void *)5));
        char with_query[300];
        snprintf(with_query, sizeof with_query, "%s/bkt/nope?X-Amz-Signature=abc&Signature=x",
                 setups[k].endpoint);
        assert_null(floe_fetch_add(fe, with_query, 0, 10, NULL, (void *)6));
        floe_fetch_result res;
        int more;
        for (;;) {
            assert_null(floe_fetch_next(fe, &res, &more));
            if (!more)
                break;
            if (k == 0 && res.user == (void *)1) {
                /* The signed request itself works (the stand-in does not
                 * check signatures). */
                assert_null(res.err);
                assert_memory_equal(res.data, f->obj[0], 100);
            }
            if (res.err) {
                char line[2048], trace[4096];
                assert_no_secret(floe_err_line(res.err, line, sizeof line), "error");
                assert_no_secret(floe_err_trace(res.err, trace, sizeof trace), "trace");
                errors++;
                floe_err_free(&res.err);
            }
        }
        floe_fetcher_free(&fe);
        floe_transport_free(&t);
    }
    floe_log_set_level(old_level);
    floe_log_set_stream(stderr);
    fclose(log);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(errors, 5 + 3 * 6);
    assert_non_null(strstr(log_text, "s3://bkt/obj0.bin")); /* the log did record requests */
    assert_non_null(strstr(log_text, "retry 1 of 1"));
    assert_no_secret(log_text, "log");
    free(log_text);
}

/* The byte at offset i of every bigN.bin object. */
static uint8_t big_byte(uint64_t i)
{
    return (uint8_t)(i * 2654435761u >> 13);
}

/* Every MiB of four 4 MiB objects requested once, in random order, at 20 ms
 * latency, at two concurrencies, with and without coalescing: every range
 * comes back once with exactly its bytes; coalescing sorts what is queued,
 * so each object's MiBs merge whatever the order, into spans of the bytes
 * spread over the connections allowed (total / concurrency, at least 1 MiB:
 * floe_coalesce_cap); without it every range is its own request; never more
 * requests in flight than allowed. (Throughput is measured by benchmarks/,
 * not asserted here.) */
static void random_order_at_latency(void **state)
{
    fixture *f = *state;
    enum { MIB = 1 << 20, PER_OBJ = 4, N = NOBJ * PER_OBJ, LATENCY_MS = 20 };
    char path[600];
    uint8_t *buf = malloc((size_t)PER_OBJ * MIB);
    assert_non_null(buf);
    for (size_t i = 0; i < (size_t)PER_OBJ * MIB; i++)
        buf[i] = big_byte(i);
    for (int k = 0; k < NOBJ; k++) {
        snprintf(path, sizeof path, "%s/root/bkt/big%d.bin", f->tmp, k);
        write_file(path, buf, (size_t)PER_OBJ * MIB);
    }
    free(buf);
    int slot[N];
    for (int i = 0; i < N; i++)
        slot[i] = i;
    uint64_t x = 7;
    for (int i = N - 1; i > 0; i--) { /* Fisher-Yates: each MiB once, in random order */
        int j = (int)(lcg(&x) % (uint64_t)(i + 1)), tmp = slot[i];
        slot[i] = slot[j];
        slot[j] = tmp;
    }
    static char urls[N][64];
    for (int i = 0; i < N; i++)
        snprintf(urls[i], sizeof urls[i], "s3://bkt/big%d.bin", slot[i] / PER_OBJ);
    char h[64];
    snprintf(h, sizeof h, "x-floe-latency-ms: %d", LATENCY_MS);
    const char *hs[] = {h, NULL};
    floe_transport *t = transport(f, hs);
    const int conc[] = {2, 8}; /* span caps 8 MiB (one per object) and 2 MiB */
    for (int c = 0; c < 2; c++) {
        for (int coal = 0; coal < 2; coal++) {
            floe_fetch_opts o = {.concurrency = conc[c], .no_coalesce = !coal};
            floe_fetcher *fe = fetcher(t, &o);
            int seen[N] = {0};
            for (int i = 0; i < N; i++)
                assert_null(floe_fetch_add(fe, urls[i], (uint64_t)(slot[i] % PER_OBJ) * MIB, MIB,
                                           NULL, &slot[i]));
            floe_fetch_result res;
            int more, got = 0;
            for (;;) {
                assert_null(floe_fetch_next(fe, &res, &more));
                if (!more)
                    break;
                assert_null(res.err);
                assert_int_equal(res.len, MIB);
                int id = *(const int *)res.user;
                assert_int_equal(seen[id]++, 0);
                uint64_t off = (uint64_t)(id % PER_OBJ) * MIB;
                for (size_t i = 0; i < MIB; i++)
                    if (res.data[i] != big_byte(off + i))
                        fail_msg("object %d byte %" PRIu64 ": %u, want %u", id / PER_OBJ,
                                 off + i, res.data[i], big_byte(off + i));
                got++;
            }
            assert_int_equal(got, N);
            floe_fetch_stats s;
            floe_fetcher_stats(fe, &s);
            assert_int_equal(s.ranges, N);
            uint64_t cap = (uint64_t)(N / conc[c]) * MIB;
            if (cap < MIB)
                cap = MIB;
            uint64_t spans = NOBJ * (((uint64_t)PER_OBJ * MIB + cap - 1) / cap);
            assert_int_equal(s.requests, coal ? spans : (uint64_t)N);
            assert_int_equal(s.bytes_delivered, (uint64_t)N * MIB);
            assert_true(s.max_in_flight >= 1 && s.max_in_flight <= conc[c]);
            floe_fetcher_free(&fe);
        }
    }
    floe_transport_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_ranges_every_way),
        cmocka_unit_test(coalescing),
        cmocka_unit_test(conditions_and_short_reads),
        cmocka_unit_test(concurrency_bound),
        cmocka_unit_test(buffered_transfers_bounded),
        cmocka_unit_test(retries),
        cmocka_unit_test(refused_connection),
        cmocka_unit_test(stall_timeout),
        cmocka_unit_test(broken_bodies),
        cmocka_unit_test(keep_alive),
        cmocka_unit_test(cancel_and_bad_arguments),
        cmocka_unit_test(credentials_never_shown),
        cmocka_unit_test(random_order_at_latency),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
