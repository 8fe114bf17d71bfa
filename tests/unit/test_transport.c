/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the HTTP and S3 transport against the real loopback S3
 * stand-in (scripts/s3-standin, nginx): the bytes of range and whole GETs
 * equal the files the test wrote, 404, 416 and short reads, conditions
 * (If-Unmodified-Since, If-Match with nginx's ETag computed here from
 * stat(2)), injected 403/429/503 (the last two retried, and a 503 once
 * retried into success, GET and HEAD), a refused connection, exists(), keys
 * with spaces, keep-alive (one connection for many requests), and that
 * credentials never show in errors or logs. The group setup starts the
 * stand-in on a free port and the group teardown always stops it. */
#include "common/floe_log.h"
#include "io/transport/transport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BLOB_SIZE = 100000 };
static const int64_t BLOB_MTIME = 1704164645; /* 2024-01-02 03:04:05 UTC */
static const char *const SPACED_KEY = "dir/with space/a+b&c.bin";

static const char FAKE_KEY[] = "AKIDFLOETESTKEY00001";
static const char FAKE_SECRET[] = "floeTestSecret/Never+Shown0123456789abcd";
static const char FAKE_TOKEN[] = "floeTestSessionTokenNeverShown";

typedef struct fixture {
    char tmp[256];
    char state_dir[300];
    char standin[600]; /* scripts/s3-standin */
    char endpoint[128];
    uint8_t blob[BLOB_SIZE];
    char blob_etag[64]; /* nginx's: "<mtime hex>-<size hex>" */
    floe_transport *t;  /* anonymous, endpoint = the stand-in */
} fixture;

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void source_dir(char *buf, size_t size)
{
    const char *env = getenv("FLOE_SOURCE_DIR");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return;
    }
    /* Not run by ctest: this file is SOURCE/tests/unit/test_transport.c. */
    snprintf(buf, size, "%s", __FILE__);
    char *p = strstr(buf, "/tests/unit/");
    if (p)
        *p = 0;
}

/* Retries as the transport makes them, with short waits: 3 attempts,
 * at most 1, 2 ms apart. */
static const floe_retry_policy FAST_RETRIES = {.max_attempts = 3, .base_ms = 1, .max_ms = 10};

static floe_transport *new_transport(const fixture *f, const char *const *extra_headers)
{
    floe_transport_opts o = {.s3 = {.endpoint = f->endpoint, .anonymous = 1},
                             .connect_timeout_ms = 2000,
                             .stall_timeout_ms = 5000,
                             .extra_headers = extra_headers,
                             .retry = FAST_RETRIES};
    floe_transport *t = NULL;
    assert_null(floe_transport_new(&o, &t));
    return t;
}

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    snprintf(f->tmp, sizeof f->tmp, "%s/floe-test-transport-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->tmp));
    char path[600], src[400];
    snprintf(path, sizeof path, "%s/root/bkt/dir/with space", f->tmp);
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);

    uint32_t x = 777;
    for (size_t i = 0; i < BLOB_SIZE; i++) {
        x = x * 1664525u + 1013904223u;
        f->blob[i] = (uint8_t)(x >> 24);
    }
    snprintf(path, sizeof path, "%s/root/bkt/blob.bin", f->tmp);
    write_file(path, f->blob, BLOB_SIZE);
    struct timespec ts[2] = {{.tv_sec = BLOB_MTIME}, {.tv_sec = BLOB_MTIME}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    snprintf(f->blob_etag, sizeof f->blob_etag, "\"%" PRIx64 "-%x\"", (uint64_t)BLOB_MTIME,
             (unsigned)BLOB_SIZE);
    snprintf(path, sizeof path, "%s/root/bkt/%s", f->tmp, SPACED_KEY);
    write_file(path, f->blob, 1000);

    source_dir(src, sizeof src);
    snprintf(f->standin, sizeof f->standin, "%s/scripts/s3-standin", src);
    snprintf(f->state_dir, sizeof f->state_dir, "%s/state", f->tmp);
    snprintf(cmd, sizeof cmd, "'%s' start '%s/root' --port 0 --state '%s' >/dev/null",
             f->standin, f->tmp, f->state_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot start the S3 stand-in: %s (run scripts/setup)\n", cmd);
        teardown(state); /* cmocka skips the group teardown when setup fails */
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
    f->t = new_transport(f, NULL);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    floe_transport_free(&f->t);
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
    free(f);
    return 0;
}

static void url_of(const fixture *f, const char *key, int s3, char *buf, size_t size)
{
    if (s3)
        snprintf(buf, size, "s3://bkt/%s", key);
    else
        snprintf(buf, size, "%s/bkt/%s", f->endpoint, key);
}

static void range_and_whole_gets(void **state)
{
    fixture *f = *state;
    const uint64_t cases[][2] = {{0, 1}, {0, BLOB_SIZE}, {1, 99}, {65535, 2}, {BLOB_SIZE - 1, 1},
                                 {12345, 54321}};
    for (int s3 = 0; s3 < 2; s3++) {
        char url[300];
        url_of(f, "blob.bin", s3, url, sizeof url);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            floe_buf b;
            floe_buf_init(&b, 1 << 20);
            assert_null(floe_buf_append(&b, "ab", 2));
            floe_err err = floe_transport_get(f->t, url, cases[i][0], cases[i][1], NULL, &b);
            if (err) {
                char line[512];
                fail_msg("%s", floe_err_line(err, line, sizeof line));
            }
            assert_int_equal(b.len, 2 + cases[i][1]);
            assert_memory_equal(b.data + 2, f->blob + cases[i][0], cases[i][1]);
            floe_buf_free(&b);
        }
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        assert_null(floe_transport_get(f->t, url, 0, 0, NULL, &b));
        assert_int_equal(b.len, BLOB_SIZE);
        assert_memory_equal(b.data, f->blob, BLOB_SIZE);
        floe_buf_reset(&b);
        assert_null(floe_transport_get(f->t, url, 99000, 0, NULL, &b));
        assert_int_equal(b.len, 1000);
        assert_memory_equal(b.data, f->blob + 99000, 1000);
        floe_buf_free(&b);
    }
}

static void keys_with_spaces(void **state)
{
    fixture *f = *state;
    char s3[300], http[300];
    url_of(f, SPACED_KEY, 1, s3, sizeof s3);
    url_of(f, SPACED_KEY, 0, http, sizeof http); /* raw spaces: normalised */
    const char *urls[] = {s3, http};
    for (int i = 0; i < 2; i++) {
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        assert_null(floe_transport_get(f->t, urls[i], 10, 90, NULL, &b));
        assert_memory_equal(b.data, f->blob + 10, 90);
        floe_buf_free(&b);
        int e = 0;
        assert_null(floe_transport_exists(f->t, urls[i], &e));
        assert_int_equal(e, 1);
    }
}

static void not_found_and_exists(void **state)
{
    fixture *f = *state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_err(floe_transport_get(f->t, "s3://bkt/no/such.nc", 0, 10, NULL, &b), FLOE_ENOTFOUND,
               "s3://bkt/no/such.nc bytes=0-9", "404 NoSuchKey");
    expect_err(floe_transport_get(f->t, "s3://nobucket/x", 0, 0, NULL, &b), FLOE_ENOTFOUND,
               "s3://nobucket/x", "404");
    char url[300];
    url_of(f, "missing", 0, url, sizeof url);
    expect_err(floe_transport_get(f->t, url, 0, 10, NULL, &b), FLOE_ENOTFOUND, url, NULL);
    assert_int_equal(b.len, 0);
    floe_buf_free(&b);
    int e = -1;
    assert_null(floe_transport_exists(f->t, "s3://bkt/blob.bin", &e));
    assert_int_equal(e, 1);
    assert_null(floe_transport_exists(f->t, "s3://bkt/nope", &e));
    assert_int_equal(e, 0);
    assert_null(floe_transport_exists(f->t, url, &e));
    assert_int_equal(e, 0);
}

static void beyond_the_end(void **state)
{
    fixture *f = *state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    assert_null(floe_buf_append(&b, "keep", 4));
    /* Starts past the end: the server says 416. */
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 200000, 10, NULL, &b), FLOE_EFORMAT,
               "short read", "bytes=200000-200009");
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 200000, 0, NULL, &b), FLOE_EFORMAT,
               "100000 bytes", "416");
    /* Ends past the end: the server clips the range to the object. */
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 99990, 20, NULL, &b), FLOE_EFORMAT,
               "short read: 10 of 20 bytes", "bytes=99990-100009");
    assert_int_equal(b.len, 4);
    assert_string_equal((char *)b.data, "keep");
    /* From the very end to the end: empty, as for files. */
    assert_null(floe_transport_get(f->t, "s3://bkt/blob.bin", BLOB_SIZE, 0, NULL, &b));
    assert_int_equal(b.len, 4);
    floe_buf_free(&b);
}

static void conditions(void **state)
{
    fixture *f = *state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    floe_condition c = {.unmodified_since = BLOB_MTIME};
    assert_null(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 10, &c, &b));
    c.unmodified_since = BLOB_MTIME - 1;
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 10, &c, &b), FLOE_ECHECKSUM,
               "changed since the snapshot (If-Unmodified-Since Tue, 02 Jan 2024 03:04:04 GMT)",
               "s3://bkt/blob.bin bytes=0-9");
    c = (floe_condition){.etag = f->blob_etag};
    assert_null(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 10, &c, &b));
    char bare[64];
    snprintf(bare, sizeof bare, "%.*s", (int)strlen(f->blob_etag) - 2, f->blob_etag + 1);
    c.etag = bare; /* quotes are added */
    assert_null(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 10, &c, &b));
    c.etag = "\"0-0\"";
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 10, &c, &b), FLOE_ECHECKSUM,
               "If-Match \"0-0\"", "412");
    /* An ETag from a corrupt manifest cannot add request headers. */
    c.etag = "\"x\"\r\nx-floe-fail: 500";
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 10, &c, &b), FLOE_EFORMAT,
               "control character", "s3://bkt/blob.bin");
    assert_int_equal(b.len, 30);
    assert_memory_equal(b.data + 20, f->blob, 10);
    floe_buf_free(&b);
}

static void injected_failures(void **state)
{
    fixture *f = *state;
    struct {
        const char *header;
        floe_code code;
        const char *needle;
    } cases[] = {
        {"x-floe-fail: 503", FLOE_ENET, "HTTP 503"},
        {"x-floe-fail: 500", FLOE_ENET, "HTTP 500"},
        {"x-floe-fail: 429", FLOE_ENET, "HTTP 429"},
        {"x-floe-fail: 403", FLOE_EAUTH, "HTTP 403 AccessDenied, anonymous request"},
        {"x-floe-fail: 401", FLOE_EAUTH, "HTTP 401"},
        {"x-floe-fail: 400", FLOE_EINVAL, "HTTP 400"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *headers[] = {cases[i].header, NULL};
        floe_transport *t = new_transport(f, headers);
        floe_buf b;
        floe_buf_init(&b, 1 << 20);
        expect_err(floe_transport_get(t, "s3://bkt/blob.bin", 5, 10, NULL, &b), cases[i].code,
                   cases[i].needle, "s3://bkt/blob.bin bytes=5-14");
        /* Throttling and server errors are retried (3 attempts), the
         * other 4xx are not. */
        floe_transport_counts s;
        floe_transport_stats(t, &s);
        assert_int_equal(s.requests, cases[i].code == FLOE_ENET ? 3 : 1);
        int e = -1;
        floe_err err = floe_transport_exists(t, "s3://bkt/blob.bin", &e);
        assert_non_null(err);
        assert_int_equal(floe_err_code(err), cases[i].code);
        floe_err_free(&err);
        floe_buf_free(&b);
        floe_transport_free(&t);
    }
    /* A failure that passes: the retry (the second request of the same
     * tag) gets through, for a GET and for a HEAD. */
    const char *once[] = {"x-floe-fail: 503:1:transport-test", NULL};
    floe_transport *t = new_transport(f, once);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_ok(floe_transport_get(t, "s3://bkt/blob.bin", 0, 10, NULL, &b));
    assert_memory_equal(b.data, f->blob, 10);
    floe_transport_counts s;
    floe_transport_stats(t, &s);
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.retries, 1);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.bytes, 10);
    floe_buf_free(&b);
    floe_transport_free(&t);
    const char *head_once[] = {"x-floe-fail: 503:1:transport-test-head", NULL};
    t = new_transport(f, head_once);
    int e = 0;
    expect_ok(floe_transport_exists(t, "s3://bkt/blob.bin", &e));
    assert_int_equal(e, 1);
    floe_transport_stats(t, &s);
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.retries, 1);
    floe_transport_free(&t);
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void refused_connection(void **state)
{
    (void)state;
    int port = free_port();
    char endpoint[64], url[128];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    snprintf(url, sizeof url, "%s/bkt/x", endpoint);
    floe_transport_opts o = {.s3 = {.endpoint = endpoint, .anonymous = 1},
                             .retry = FAST_RETRIES};
    floe_transport *t;
    assert_null(floe_transport_new(&o, &t));
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    double t0 = now_s();
    expect_err(floe_transport_get(t, url, 0, 10, NULL, &b), FLOE_ENET, url, "onnect");
    /* Refused is a bad moment too: retried, then named. */
    expect_err(floe_transport_get(t, url, 0, 10, NULL, &b), FLOE_ENET,
               "bytes=0-9: gave up after 3 attempts in ", "onnect");
    expect_err(floe_transport_get(t, "s3://bkt/x", 0, 10, NULL, &b), FLOE_ENET, "s3://bkt/x",
               url);
    int e = -1;
    expect_err(floe_transport_exists(t, "s3://bkt/x", &e), FLOE_ENET, "s3://bkt/x", NULL);
    assert_true(now_s() - t0 < 3.0);
    floe_buf_free(&b);
    floe_transport_free(&t);
}

static void keep_alive(void **state)
{
    fixture *f = *state;
    floe_transport *t = new_transport(f, NULL);
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    for (int i = 0; i < 20; i++) {
        assert_null(floe_transport_get(t, "s3://bkt/blob.bin", (uint64_t)i * 1000, 1000, NULL,
                                       &b));
        int e;
        assert_null(floe_transport_exists(t, "s3://bkt/blob.bin", &e));
    }
    /* An error answer keeps the connection too. */
    floe_err err = floe_transport_get(t, "s3://bkt/none", 0, 10, NULL, &b);
    assert_non_null(err);
    floe_err_free(&err);
    assert_null(floe_transport_get(t, "s3://bkt/blob.bin", 0, 0, NULL, &b));
    assert_int_equal(b.len, 20000 + BLOB_SIZE);
    assert_memory_equal(b.data, f->blob, 20000);
    floe_transport_counts s;
    floe_transport_stats(t, &s);
    assert_int_equal(s.requests, 42);
    assert_int_equal(s.new_connections, 1);
    assert_int_equal(s.bytes, 20000 + BLOB_SIZE);
    assert_int_equal(s.failures, 1);
    floe_buf_free(&b);
    floe_transport_free(&t);
}

static void size_caps(void **state)
{
    fixture *f = *state;
    floe_buf small;
    floe_buf_init(&small, 1000);
    assert_null(floe_buf_append(&small, "x", 1));
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 1000, NULL, &small), FLOE_ENOMEM,
               "limit of 1000 bytes", "s3://bkt/blob.bin");
    expect_err(floe_transport_get(f->t, "s3://bkt/blob.bin", 0, 0, NULL, &small), FLOE_ENOMEM,
               "limit of 1000 bytes", NULL);
    assert_int_equal(small.len, 1);
    floe_buf_free(&small);
    floe_transport_opts o = {.s3 = {.endpoint = f->endpoint, .anonymous = 1},
                             .max_object_bytes = 50000};
    floe_transport *t;
    assert_null(floe_transport_new(&o, &t));
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_err(floe_transport_get(t, "s3://bkt/blob.bin", 0, 0, NULL, &b), FLOE_ENOMEM,
               "cap of 50000 bytes", NULL);
    assert_null(floe_transport_get(t, "s3://bkt/blob.bin", 50000, 0, NULL, &b));
    assert_int_equal(b.len, 50000);
    floe_buf_free(&b);
    floe_transport_free(&t);
}

static void assert_no_secret(const char *text, const char *where)
{
    const char *secrets[] = {FAKE_KEY, FAKE_SECRET, FAKE_TOKEN, "Signature="};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(text, secrets[i]))
            fail_msg("%s shows a secret (%s): %s", where, secrets[i], text);
}

/* With credentials set, make every kind of error and a debug log; none of
 * them may show the key, the secret, the token or a signature. */
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
    const char *endpoints[] = {f->endpoint, refused};
    const char *fail403[] = {"x-floe-fail: 403", NULL};
    const char *fail503[] = {"x-floe-fail: 503", NULL};
    const char *const *extras[] = {NULL, fail403, fail503};
    int errors = 0;
    for (int ep = 0; ep < 2; ep++) {
        for (int x = 0; x < 3; x++) {
            floe_transport_opts o = {.s3 = {.endpoint = endpoints[ep], .region = "us-west-2"},
                                     .extra_headers = extras[x], .retry = FAST_RETRIES};
            floe_transport *t;
            assert_null(floe_transport_new(&o, &t));
            floe_condition old = {.unmodified_since = BLOB_MTIME - 10};
            floe_condition tag = {.etag = "\"nope\""};
            struct {
                const char *url;
                uint64_t off, len;
                const floe_condition *cond;
            } reqs[] = {
                {"s3://bkt/blob.bin", 0, 100, NULL},     {"s3://bkt/missing", 0, 10, NULL},
                {"s3://bkt/blob.bin", 200000, 10, NULL}, {"s3://bkt/blob.bin", 99999, 10, NULL},
                {"s3://bkt/blob.bin", 0, 10, &old},      {"s3://bkt/blob.bin", 0, 10, &tag},
            };
            for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
                floe_buf b;
                floe_buf_init(&b, 1 << 20);
                floe_err err =
                    floe_transport_get(t, reqs[i].url, reqs[i].off, reqs[i].len, reqs[i].cond, &b);
                if (ep == 0 && x == 0 && i == 0) {
                    /* The signed request itself works (the stand-in does
                     * not check signatures). */
                    assert_null(err);
                    assert_memory_equal(b.data, f->blob, 100);
                }
                if (err) {
                    char line[2048], trace[2048];
                    assert_no_secret(floe_err_line(err, line, sizeof line), "error");
                    assert_no_secret(floe_err_trace(err, trace, sizeof trace), "trace");
                    errors++;
                    floe_err_free(&err);
                }
                floe_buf_free(&b);
            }
            int e;
            floe_err err = floe_transport_exists(t, "s3://bkt/blob.bin", &e);
            if (err) {
                char line[2048];
                assert_no_secret(floe_err_line(err, line, sizeof line), "error");
                errors++;
                floe_err_free(&err);
            }
            floe_transport_free(&t);
        }
    }
    floe_log_set_level(old_level);
    floe_log_set_stream(stderr);
    fclose(log);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(errors, 5 + 2 * 7 + 3 * 7);
    assert_non_null(strstr(log_text, "s3://bkt/blob.bin")); /* the log did record requests */
    assert_no_secret(log_text, "log");
    free(log_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(range_and_whole_gets), cmocka_unit_test(keys_with_spaces),
        cmocka_unit_test(not_found_and_exists), cmocka_unit_test(beyond_the_end),
        cmocka_unit_test(conditions),           cmocka_unit_test(injected_failures),
        cmocka_unit_test(refused_connection),   cmocka_unit_test(keep_alive),
        cmocka_unit_test(size_caps),            cmocka_unit_test(credentials_never_shown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
