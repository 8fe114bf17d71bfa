/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of what the HTTP transport puts on the wire and how it takes
 * answers that the S3 stand-in never gives, against a scripted loopback
 * server forked by the test (scripted_server.h): SigV4 headers (and the signature, recomputed
 * by an independent implementation in Python's hmac/hashlib), anonymous
 * requests without them, no credentials to an endpoint a document named
 * (nor to one that only looks like AWS's), a server that ignores Range, a wrong or missing
 * Content-Range, a truncated body, a stalled server, S3 and HTTP
 * redirects (another origin only when the redirect check authorises it, a
 * hop limit), the whole-object cap checked before the download, and a
 * changed source served by a server that ignores the conditions. */
#include "io/transport/transport.h"
#include "io/transport/url.h"
#include "io/transport/xfer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include "scripted_server.h"
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char FAKE_KEY[] = "AKIDWIRETEST0000001";
static const char FAKE_SECRET[] = "wireTestSecret/Key+0123456789abcdefghijk";
static const char FAKE_TOKEN[] = "wireTestSessionToken/xyz=";

static floe_transport *transport_for(const scripted_server *f, int anonymous, long stall_ms,
                                     size_t max_object)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", f->port);
    /* One attempt: these tests are about how one answer is taken (the
     * server has one reply); retries are test_transport_retries.c's. */
    floe_transport_opts o = {.s3 = {.endpoint = endpoint, .region = "us-west-2",
                                    .anonymous = anonymous},
                             .stall_timeout_ms = stall_ms,
                             .max_object_bytes = max_object,
                             .retry = {.max_attempts = 1}};
    floe_transport *t;
    assert_null(floe_transport_new(&o, &t));
    return t;
}

static const char HELLO_206[] = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
                                "Content-Length: 5\r\nConnection: close\r\n\r\n";

static void set_credentials(int with_token)
{
    setenv("AWS_ACCESS_KEY_ID", FAKE_KEY, 1);
    setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET, 1);
    if (with_token)
        setenv("AWS_SESSION_TOKEN", FAKE_TOKEN, 1);
    else
        unsetenv("AWS_SESSION_TOKEN");
}

static void clear_credentials(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
}

/* Recompute the request's SigV4 signature with Python's hmac and hashlib
 * (an implementation independent of libcurl's) using secret. Returns 1 if
 * it matches, 0 if not, -1 when Python is not there. */
static int python_verifies(const char *request, const char *secret)
{
    static const char script[] =
        "import hashlib, hmac, os, re, sys\n"
        "head = open(sys.argv[1], 'rb').read().decode('latin1').split('\\r\\n\\r\\n')[0]\n"
        "lines = head.split('\\r\\n')\n"
        "method, target, _ = lines[0].split(' ')\n"
        "h = {}\n"
        "for l in lines[1:]:\n"
        "    k, v = l.split(':', 1)\n"
        "    h[k.strip().lower()] = ' '.join(v.split())\n"
        "m = re.fullmatch(r'AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/s3/aws4_request,"
        " ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})', h['authorization'])\n"
        "key, day, region, signed, sig = m.groups()\n"
        "path, _, query = target.partition('?')\n"
        "canon = '\\n'.join([method, path, query] + [n + ':' + h[n] for n in signed.split(';')]"
        " + ['', signed, h['x-amz-content-sha256']])\n"
        "scope = day + '/' + region + '/s3/aws4_request'\n"
        "sts = '\\n'.join(['AWS4-HMAC-SHA256', h['x-amz-date'], scope,"
        " hashlib.sha256(canon.encode()).hexdigest()])\n"
        "k = ('AWS4' + os.environ['FLOE_TEST_SECRET']).encode()\n"
        "for part in (day, region, 's3', 'aws4_request'):\n"
        "    k = hmac.new(k, part.encode(), hashlib.sha256).digest()\n"
        "sys.exit(0 if hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() == sig else 3)\n";
    if (access("/usr/bin/python3", X_OK) != 0)
        return -1;
    char dir[] = "/tmp/floe-test-sigv4-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char py[128], req[128], cmd[400];
    snprintf(py, sizeof py, "%s/check.py", dir);
    snprintf(req, sizeof req, "%s/request.txt", dir);
    FILE *f = fopen(py, "w");
    assert_non_null(f);
    fputs(script, f);
    fclose(f);
    f = fopen(req, "wb");
    assert_non_null(f);
    fputs(request, f);
    fclose(f);
    setenv("FLOE_TEST_SECRET", secret, 1);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", py, req);
    int rc = system(cmd);
    unsetenv("FLOE_TEST_SECRET");
    unlink(py);
    unlink(req);
    rmdir(dir);
    assert_true(WIFEXITED(rc));
    if (WEXITSTATUS(rc) != 0 && WEXITSTATUS(rc) != 3)
        fail_msg("the SigV4 checker failed (exit %d) on:\n%s", WEXITSTATUS(rc), request);
    return WEXITSTATUS(rc) == 0;
}

static int matches_flags(const char *text, const char *pattern, int flags)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | flags), 0);
    int ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int matches(const char *text, const char *pattern)
{
    return matches_flags(text, pattern, 0);
}

/* Header names are case-insensitive (libcurl sends "X-Amz-Date"). */
static int has_header(const char *text, const char *pattern)
{
    return matches_flags(text, pattern, REG_ICASE);
}

static void signed_request_headers(void **state)
{
    (void)state;
    for (int with_token = 0; with_token < 2; with_token++) {
        set_credentials(with_token);
        scripted_reply r = {HELLO_206, (const uint8_t *)"hello", 5};
        scripted_server f;
        scripted_start(&f, &r, 1, 0);
        floe_transport *t = transport_for(&f, 0, 0, 0);
        floe_buf b;
        floe_buf_init(&b, 100);
        floe_err err = floe_transport_get(t, "s3://bkt/dir/a b+c.nc", 0, 5, NULL, &b);
        char *req = scripted_stop(&f);
        floe_transport_free(&t);
        clear_credentials();
        assert_null(err);
        assert_memory_equal(b.data, "hello", 5);
        floe_buf_free(&b);

        char day[9];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(day, sizeof day, "%Y%m%d", &tm);
        char pattern[512];
        snprintf(pattern, sizeof pattern,
                 "^Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-west-2/s3/aws4_request, "
                 "SignedHeaders=host;x-amz-content-sha256;x-amz-date%s, "
                 "Signature=[0-9a-f]{64}\r$",
                 FAKE_KEY, day, with_token ? ";x-amz-security-token" : "");
        if (!matches(req, pattern))
            fail_msg("no SigV4 Authorization header like /%s/ in:\n%s", pattern, req);
        assert_true(matches(req, "^GET /bkt/dir/a%20b%2Bc\\.nc HTTP/1\\.1\r$"));
        assert_true(matches(req, "^Range: bytes=0-4\r$"));
        assert_true(matches(req, "^x-amz-content-sha256: UNSIGNED-PAYLOAD\r$"));
        assert_true(has_header(req, "^x-amz-date: [0-9]{8}T[0-9]{6}Z\r$"));
        assert_int_equal(matches(req, "^x-amz-security-token: wireTestSessionToken/xyz=\r$"),
                         with_token);
        /* The signature itself, recomputed independently; a wrong secret
         * must not verify (the checker can fail). */
        int ok = python_verifies(req, FAKE_SECRET);
        if (ok >= 0) {
            assert_int_equal(ok, 1);
            assert_int_equal(python_verifies(req, "not-the-secret"), 0);
        } else {
            fprintf(stderr, "note: /usr/bin/python3 missing, signature value not verified\n");
        }
        free(req);
    }
}

static void anonymous_requests_are_unsigned(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        /* mode 0: credentials set but anonymous asked; 1: no credentials. */
        if (mode == 0)
            set_credentials(1);
        scripted_reply r = {HELLO_206, (const uint8_t *)"hello", 5};
        scripted_server f;
        scripted_start(&f, &r, 1, 0);
        floe_transport *t = transport_for(&f, mode == 0, 0, 0);
        floe_buf b;
        floe_buf_init(&b, 100);
        floe_err err = floe_transport_get(t, "s3://bkt/k", 0, 5, NULL, &b);
        char *req = scripted_stop(&f);
        floe_transport_free(&t);
        clear_credentials();
        assert_null(err);
        floe_buf_free(&b);
        assert_true(matches(req, "^GET /bkt/k HTTP/1\\.1\r$"));
        assert_false(has_header(req, "^authorization:"));
        assert_false(has_header(req, "^x-amz-"));
        assert_null(strstr(req, FAKE_SECRET));
        assert_null(strstr(req, FAKE_KEY));
        free(req);
    }
}

static void conditions_on_the_wire(void **state)
{
    (void)state;
    scripted_reply r = {"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
               NULL, 0};
    scripted_server f;
    scripted_start(&f, &r, 1, 0);
    floe_transport *t = transport_for(&f, 1, 0, 0);
    floe_buf b;
    floe_buf_init(&b, 100);
    floe_condition c = {.etag = "abc", .unmodified_since = 1704164645};
    expect_err(floe_transport_get(t, "s3://bkt/k", 7, 3, &c, &b), FLOE_ECHECKSUM,
               "changed since the snapshot", "s3://bkt/k bytes=7-9");
    char *req = scripted_stop(&f);
    floe_transport_free(&t);
    floe_buf_free(&b);
    assert_true(matches(req, "^If-Match: \"abc\"\r$"));
    assert_true(matches(req, "^If-Unmodified-Since: Tue, 02 Jan 2024 03:04:05 GMT\r$"));
    assert_true(matches(req, "^Range: bytes=7-9\r$"));
    free(req);
}

/* A 5000-byte object whose bytes are i * 7 mod 251. */
static uint8_t OBJECT[5000];
static const char OBJECT_200[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n";

static void fill_object(void)
{
    for (size_t i = 0; i < sizeof OBJECT; i++)
        OBJECT[i] = (uint8_t)(i * 7 % 251);
}

static floe_err get_from(const scripted_reply *r, uint64_t off, uint64_t len, floe_buf *b,
                         size_t max_object, char **request)
{
    scripted_server f;
    scripted_start(&f, r, 1, 0);
    floe_transport *t = transport_for(&f, 1, 0, max_object);
    floe_err err = floe_transport_get(t, "s3://bkt/obj", off, len, NULL, b);
    char *req = scripted_stop(&f);
    floe_transport_free(&t);
    if (request)
        *request = req;
    else
        free(req);
    return err;
}

static void server_ignores_range(void **state)
{
    (void)state;
    fill_object();
    scripted_reply r = {OBJECT_200, OBJECT, sizeof OBJECT};
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    char *req;
    assert_null(get_from(&r, 1000, 100, &b, 0, &req));
    assert_true(matches(req, "^Range: bytes=1000-1099\r$")); /* asked for, ignored */
    free(req);
    assert_int_equal(b.len, 100);
    assert_memory_equal(b.data, OBJECT + 1000, 100);
    floe_buf_reset(&b);
    assert_null(get_from(&r, 4000, 0, &b, 0, NULL)); /* to the end */
    assert_int_equal(b.len, 1000);
    assert_memory_equal(b.data, OBJECT + 4000, 1000);
    floe_buf_reset(&b);
    assert_null(get_from(&r, 0, 5000, &b, 0, NULL));
    assert_memory_equal(b.data, OBJECT, 5000);
    floe_buf_reset(&b);
    expect_err(get_from(&r, 4990, 20, &b, 0, NULL), FLOE_EFORMAT, "short read: 10 of 20",
               "bytes=4990-5009");
    expect_err(get_from(&r, 6000, 10, &b, 0, NULL), FLOE_EFORMAT, "short read",
               "beyond the end of the object (5000 bytes");
    assert_int_equal(b.len, 0);
    floe_buf_free(&b);
}

static void bad_partial_answers(void **state)
{
    (void)state;
    fill_object();
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    scripted_reply wrong = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/5000\r\n"
                   "Content-Length: 5\r\nConnection: close\r\n\r\n",
                   OBJECT + 5, 5};
    expect_err(get_from(&wrong, 0, 5, &b, 0, NULL), FLOE_EFORMAT,
               "answered bytes=5-9 instead of the requested range", "s3://bkt/obj bytes=0-4");
    scripted_reply none = {"HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
                  OBJECT, 5};
    expect_err(get_from(&none, 0, 5, &b, 0, NULL), FLOE_EFORMAT, "without a valid Content-Range",
               NULL);
    scripted_reply longer = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/5000\r\n"
                    "Content-Length: 10\r\nConnection: close\r\n\r\n",
                    OBJECT, 10};
    expect_err(get_from(&longer, 0, 5, &b, 0, NULL), FLOE_EFORMAT, "more than the range", NULL);
    /* The connection drops half-way through the body. */
    scripted_reply cut = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/5000\r\n"
                 "Content-Length: 100\r\nConnection: close\r\n\r\n",
                 OBJECT, 50};
    expect_err(get_from(&cut, 0, 100, &b, 0, NULL), FLOE_ENET, "s3://bkt/obj bytes=0-99",
               "127.0.0.1");
    assert_int_equal(b.len, 0);
    floe_buf_free(&b);
}

static void whole_object_cap_before_download(void **state)
{
    (void)state;
    fill_object();
    scripted_reply r = {OBJECT_200, OBJECT, sizeof OBJECT};
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    expect_err(get_from(&r, 0, 0, &b, 1000, NULL), FLOE_ENOMEM, "5000 bytes, over the cap of 1000",
               NULL);
    /* The buffer's own cap, from Content-Length before any byte arrives. */
    floe_buf small;
    floe_buf_init(&small, 4999);
    expect_err(get_from(&r, 0, 0, &small, 0, NULL), FLOE_ENOMEM, "limit of 4999 bytes",
               "s3://bkt/obj");
    assert_null(small.data);
    floe_buf_free(&b);
}

static void stalled_server(void **state)
{
    (void)state;
    scripted_reply r = {HELLO_206, NULL, 0};
    scripted_server f;
    scripted_start(&f, &r, 1, SCRIPTED_STALL);
    floe_transport *t = transport_for(&f, 1, 1000, 0);
    floe_buf b;
    floe_buf_init(&b, 100);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    floe_err err = floe_transport_get(t, "s3://bkt/k", 0, 5, NULL, &b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(scripted_stop(&f));
    floe_transport_free(&t);
    expect_err(err, FLOE_ENET, "s3://bkt/k bytes=0-4", "slow");
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s >= 0.9 && s < 5.0);
    floe_buf_free(&b);
}

static void redirects(void **state)
{
    (void)state;
    /* S3: not followed; the bucket's region is named. */
    scripted_reply moved = {"HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-central-1\r\n"
                   "Location: http://127.0.0.1:1/elsewhere\r\nContent-Type: application/xml\r\n"
                   "Content-Length: 48\r\nConnection: close\r\n\r\n",
                   (const uint8_t *)"<Error><Code>PermanentRedirect</Code></Error>\n\n\n", 48};
    floe_buf b;
    floe_buf_init(&b, 100);
    expect_err(get_from(&moved, 0, 5, &b, 0, NULL), FLOE_EINVAL,
               "HTTP 301 PermanentRedirect", "region eu-central-1");

    /* Plain HTTP: followed (here to the same server's next connection). */
    scripted_server f;
    scripted_listen(&f);
    char location[200];
    snprintf(location, sizeof location,
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/mirror/k\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n", f.port);
    scripted_reply two[2] = {{location, NULL, 0}, {HELLO_206, (const uint8_t *)"hello", 5}};
    scripted_serve(&f, two, 2, 0);
    floe_transport *t = transport_for(&f, 1, 0, 0);
    char url[100];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/orig/k", f.port);
    floe_err err = floe_transport_get(t, url, 0, 5, NULL, &b);
    char *req = scripted_stop(&f);
    floe_transport_free(&t);
    assert_null(err);
    assert_memory_equal(b.data, "hello", 5);
    assert_true(matches(req, "^GET /orig/k HTTP/1\\.1\r$"));
    assert_true(matches(req, "^GET /mirror/k HTTP/1\\.1\r$"));
    free(req);
    floe_buf_free(&b);
}

/* A GET of s3://bkt/obj bytes 0-4 with cond, answered by r. */
static floe_err get_cond(const scripted_reply *r, const floe_condition *cond, floe_buf *b)
{
    scripted_server f;
    scripted_start(&f, r, 1, 0);
    floe_transport *t = transport_for(&f, 1, 0, 0);
    floe_err err = floe_transport_get(t, "s3://bkt/obj", 0, 5, cond, b);
    free(scripted_stop(&f));
    floe_transport_free(&t);
    return err;
}

/* A server that ignores If-Match / If-Unmodified-Since and serves a
 * changed object: its own ETag / Last-Modified give it away, and that is
 * the same error as a 412. */
static void changed_source_despite_ignored_conditions(void **state)
{
    (void)state;
    floe_buf b;
    floe_buf_init(&b, 100);
    floe_condition c = {.etag = "abc", .unmodified_since = 1704164645};
    scripted_reply other = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
                   "ETag: \"def\"\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
                   (const uint8_t *)"hello", 5};
    expect_err(get_cond(&other, &c, &b), FLOE_ECHECKSUM, "changed since the snapshot",
               "ETag \"def\"");
    scripted_reply newer = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
                   "ETag: \"abc\"\r\nLast-Modified: Wed, 03 Jan 2024 03:04:05 GMT\r\n"
                   "Content-Length: 5\r\nConnection: close\r\n\r\n",
                   (const uint8_t *)"hello", 5};
    expect_err(get_cond(&newer, &c, &b), FLOE_ECHECKSUM, "changed since the snapshot",
               "Last-Modified Wed, 03 Jan 2024 03:04:05 GMT");
    /* An ETag too long to hold is not the ref's (whose is far shorter). */
    char huge[1200];
    char etag[700];
    memset(etag, 'x', sizeof etag - 1);
    etag[sizeof etag - 1] = 0;
    snprintf(huge, sizeof huge, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
             "ETag: \"%s\"\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", etag);
    scripted_reply longer = {huge, (const uint8_t *)"hello", 5};
    expect_err(get_cond(&longer, &c, &b), FLOE_ECHECKSUM, "changed since the snapshot", "ETag");
    assert_int_equal(b.len, 0);
    /* The same ETag (weak or not), an older Last-Modified, or none: fine. */
    scripted_reply same = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
                  "ETag: W/\"abc\"\r\nLast-Modified: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
                  "Content-Length: 5\r\nConnection: close\r\n\r\n",
                  (const uint8_t *)"hello", 5};
    assert_null(get_cond(&same, &c, &b));
    scripted_reply bare = {HELLO_206, (const uint8_t *)"hello", 5};
    assert_null(get_cond(&bare, &c, &b));
    assert_memory_equal(b.data, "hellohello", 10);
    floe_buf_free(&b);
}

/* The redirect check of the cross-origin test: follow only to the port in
 * ctx. */
static floe_err only_port(void *ctx, const char *from, const char *to)
{
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/", *(const int *)ctx);
    if (strncmp(to, want, strlen(want)) == 0)
        return NULL;
    return floe_err_new(FLOE_EAUTH, __FILE__, __LINE__, "redirect from %s to %s refused", from,
                        to);
}

/* Without a check, another origin is refused whatever the 3xx status
 * (libcurl follows a Location on any of them) and however the status line
 * is spaced: the other server never sees a request. */
static void redirects_any_3xx(void **state)
{
    (void)state;
    const char *const lines[] = {"HTTP/1.1 300 Multiple Choices", "HTTP/1.1 305 Use Proxy",
                                 "HTTP/1.1 399 Whatever", "HTTP/1.1  302 Found"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        scripted_server a, other;
        scripted_listen(&other);
        scripted_reply never = {HELLO_206, (const uint8_t *)"HACKED", 5};
        scripted_serve(&other, &never, 1, 0);
        scripted_listen(&a);
        char location[256];
        snprintf(location, sizeof location,
                 "%s\r\nLocation: http://127.0.0.1:%d/secret\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n", lines[i], other.port);
        scripted_reply one = {location, NULL, 0};
        scripted_serve(&a, &one, 1, 0);
        floe_transport *t = transport_for(&a, 1, 0, 0);
        char url[100];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/data/k", a.port);
        floe_buf b;
        floe_buf_init(&b, 100);
        floe_err err = floe_transport_get(t, url, 0, 5, NULL, &b);
        assert_non_null(err);
        floe_err_free(&err);
        assert_true(b.len == 0 || memcmp(b.data, "HACKED", 5) != 0);
        free(scripted_stop(&a));
        floe_transport_free(&t);
        char *req = scripted_stop(&other);
        if (req[0])
            fail_msg("%s: the other origin was asked: %.80s", lines[i], req);
        free(req);
        floe_buf_free(&b);
    }
}

/* An http(s) redirect to another host or port is followed only when the
 * transport's redirect check authorises the target; never more than a
 * few hops. */
static void redirects_checked(void **state)
{
    (void)state;
    scripted_server a, other;
    scripted_listen(&other);
    scripted_reply never = {HELLO_206, (const uint8_t *)"HACKED", 5};
    scripted_serve(&other, &never, 1, 0);
    scripted_listen(&a);
    char location[200];
    snprintf(location, sizeof location,
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/secret\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n", other.port);
    scripted_reply one = {location, NULL, 0};
    scripted_serve(&a, &one, 1, 0);
    floe_transport *t = transport_for(&a, 1, 0, 0);
    char url[100], target[100];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/k", a.port);
    snprintf(target, sizeof target, "http://127.0.0.1:%d/secret", other.port);
    floe_buf b;
    floe_buf_init(&b, 100);
    /* No check installed: another origin is refused. */
    expect_err(floe_transport_get(t, url, 0, 5, NULL, &b), FLOE_EAUTH, url, target);
    free(scripted_stop(&a));
    floe_transport_free(&t);
    char *req = scripted_stop(&other);
    assert_string_equal(req, ""); /* the other server never saw a request */
    free(req);

    /* A check that authorises the target: followed. */
    scripted_listen(&other);
    scripted_reply hello = {HELLO_206, (const uint8_t *)"hello", 5};
    scripted_serve(&other, &hello, 1, 0);
    scripted_listen(&a);
    snprintf(location, sizeof location,
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/mirror/k\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n", other.port);
    scripted_serve(&a, &one, 1, 0);
    t = transport_for(&a, 1, 0, 0);
    floe_transport_set_redirect_check(t, only_port, &other.port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/k", a.port);
    assert_null(floe_transport_get(t, url, 0, 5, NULL, &b));
    assert_memory_equal(b.data, "hello", 5);
    free(scripted_stop(&a));
    free(scripted_stop(&other));
    floe_transport_free(&t);

    /* A check that refuses: the error names both URLs. */
    scripted_listen(&a);
    snprintf(location, sizeof location,
             "HTTP/1.1 302 Found\r\nLocation: /elsewhere/k\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n");
    scripted_serve(&a, &one, 1, 0);
    t = transport_for(&a, 1, 0, 0);
    int nowhere = 1;
    floe_transport_set_redirect_check(t, only_port, &nowhere);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/k", a.port);
    snprintf(target, sizeof target, "http://127.0.0.1:%d/elsewhere/k", a.port);
    expect_err(floe_transport_get(t, url, 0, 5, NULL, &b), FLOE_EAUTH, url, target);
    free(scripted_stop(&a));
    floe_transport_free(&t);

    /* Same origin, but one hop too many. */
    scripted_listen(&a);
    snprintf(location, sizeof location,
             "HTTP/1.1 302 Found\r\nLocation: /again\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n");
    scripted_reply loop[5] = {one, one, one, one, hello};
    scripted_serve(&a, loop, 5, 0);
    t = transport_for(&a, 1, 0, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data/k", a.port);
    expect_err(floe_transport_get(t, url, 0, 5, NULL, &b), FLOE_EINVAL, url, "redirects");
    free(scripted_stop(&a));
    floe_transport_free(&t);
    floe_buf_free(&b);
}

/* Credentials from the environment go only to AWS or to the endpoint the
 * user named. The same loopback endpoint, named by a document: unsigned,
 * no key id, no token, and a 403 says why; named by the user through
 * AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3), or not from a document at all
 * (--s3-endpoint): signed, with the token. */
static void document_endpoint_gets_no_credentials(void **state)
{
    (void)state;
    static const char DENIED[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n";
    /* mode 0: a document's endpoint; 1: AWS_ENDPOINT_URL names it too;
     * 2: AWS_ENDPOINT_URL_S3 does; 3: the user's (--s3-endpoint);
     * 4: a document's, AWS_ENDPOINT_URL names another port. */
    for (int mode = 0; mode < 5; mode++) {
        set_credentials(1);
        scripted_reply r[] = {{HELLO_206, (const uint8_t *)"hello", 5}, {DENIED, NULL, 0}};
        scripted_server f;
        scripted_start(&f, r, 2, 0);
        char endpoint[64], other[64];
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", f.port);
        snprintf(other, sizeof other, "http://127.0.0.1:%d", f.port == 1 ? 2 : f.port - 1);
        if (mode == 1)
            setenv("AWS_ENDPOINT_URL", endpoint, 1);
        if (mode == 2)
            setenv("AWS_ENDPOINT_URL_S3", endpoint, 1);
        if (mode == 4)
            setenv("AWS_ENDPOINT_URL", other, 1);
        floe_transport_opts o = {.s3 = {.endpoint = endpoint, .region = "us-west-2",
                                        .endpoint_from_document = mode != 3},
                                 .retry = {.max_attempts = 1}};
        floe_transport *t;
        assert_null(floe_transport_new(&o, &t));
        floe_buf b;
        floe_buf_init(&b, 100);
        floe_err err = floe_transport_get(t, "s3://bkt/k", 0, 5, NULL, &b);
        expect_ok(err);
        err = floe_transport_get(t, "s3://bkt/private", 0, 5, NULL, &b);
        char *req = scripted_stop(&f);
        floe_transport_free(&t);
        clear_credentials();
        unsetenv("AWS_ENDPOINT_URL");
        unsetenv("AWS_ENDPOINT_URL_S3");
        floe_buf_free(&b);
        int sign = mode == 1 || mode == 2 || mode == 3;
        assert_int_equal(has_header(req, "^authorization: AWS4-HMAC-SHA256 Credential=" 
                                         "AKIDWIRETEST0000001/"), sign);
        assert_int_equal(has_header(req, "^x-amz-security-token: wireTestSessionToken/xyz=\r$"),
                         sign);
        if (!sign) {
            assert_false(has_header(req, "^authorization:"));
            assert_false(has_header(req, "^x-amz-"));
            assert_null(strstr(req, FAKE_KEY));
            assert_null(strstr(req, FAKE_TOKEN));
            expect_err(err, FLOE_EAUTH, "credentials in the environment are not sent to",
                       endpoint);
        } else {
            expect_err(err, FLOE_EAUTH, "signed request", NULL);
        }
        free(req);
    }
}

/* AWS's own endpoints, by host and scheme only: the host as libcurl
 * connects to it, and nothing after it but an optional '/'. */
static void aws_endpoints(void **state)
{
    (void)state;
    const char *aws[] = {"https://s3.us-west-2.amazonaws.com", "https://S3.AMAZONAWS.COM/",
                         "https://bkt.s3.eu-central-1.amazonaws.com:443",
                         "https://s3.cn-north-1.amazonaws.com.cn", "https://amazonaws.com"};
    const char *not_aws[] = {"http://s3.us-west-2.amazonaws.com",
                             "https://s3.amazonaws.com.evil.example",
                             "https://evilamazonaws.com", "https://s3.amazonaws.com:8443",
                             "https://user@s3.amazonaws.com", "https://127.0.0.1",
                             "https://s3.amazonaws.com%2eevil.example", "s3://amazonaws.com/x",
                             /* the host ends at '?' and '#' too: these go to attacker.example */
                             "https://attacker.example?x=.amazonaws.com",
                             "https://attacker.example?@s3.amazonaws.com",
                             "https://attacker.example#.amazonaws.com",
                             "https://attacker.example#@s3.amazonaws.com",
                             "https://attacker.example\\.amazonaws.com",
                             "https://attacker.example%2f.amazonaws.com",
                             "https://attacker.example%3f.amazonaws.com",
                             "https://user:pw@s3.amazonaws.com",
                             "https://attacker.example@s3.amazonaws.com",
                             "https://s3.amazonaws.com@attacker.example",
                             /* an endpoint is scheme://host: no path, query or fragment */
                             "https://s3.amazonaws.com/prefix", "https://s3.amazonaws.com?x",
                             "https://s3.amazonaws.com/?x", "https://s3.amazonaws.com#x",
                             "https://s3.amazonaws.com:443@attacker.example",
                             "https://s3.amazonaws.com:8443",
                             ""};
    for (size_t i = 0; i < sizeof aws / sizeof *aws; i++)
        if (!floe_s3_endpoint_is_aws(aws[i]))
            fail_msg("%s is AWS", aws[i]);
    for (size_t i = 0; i < sizeof not_aws / sizeof *not_aws; i++)
        if (floe_s3_endpoint_is_aws(not_aws[i]))
            fail_msg("%s is not AWS", not_aws[i]);
    assert_false(floe_s3_endpoint_is_aws(NULL));
}

/* An endpoint a document names that only looks like AWS's (its host is
 * attacker.example, the rest a query, a fragment or a user name): the
 * transport refuses it, or the request made for it carries no credential.
 * The request floe would send there is put on the wire to a scripted
 * server (same headers, the server's URL) and read back. */
static void lookalike_endpoint_gets_no_credentials(void **state)
{
    (void)state;
    static const char *lookalike[] = {"https://attacker.example?x=.amazonaws.com",
                                      "https://attacker.example?@s3.amazonaws.com",
                                      "https://attacker.example/?.amazonaws.com",
                                      "https://attacker.example#.amazonaws.com",
                                      "https://s3.amazonaws.com@attacker.example",
                                      "https://attacker.example\\.amazonaws.com",
                                      "https://attacker.example/.amazonaws.com",
                                      "https://s3.amazonaws.com/attacker-prefix"};
    for (size_t i = 0; i < sizeof lookalike / sizeof *lookalike; i++) {
        set_credentials(1);
        floe_transport_opts o = {.s3 = {.endpoint = lookalike[i], .region = "us-west-2",
                                        .endpoint_from_document = 1},
                                 .retry = {.max_attempts = 1}};
        floe_transport *t = NULL;
        floe_err err = floe_transport_new(&o, &t);
        clear_credentials();
        if (err) { /* refused outright: nothing is sent anywhere */
            expect_err(err, FLOE_EINVAL, "S3 endpoint", NULL);
            continue;
        }
        floe_buf u;
        floe_buf_init(&u, 4096);
        char shown[512];
        floe_sigv4 sig;
        floe_http_request req;
        expect_ok(floe_http_request_for(t, "s3://bkt/k", &u, shown, sizeof shown, &sig, &req));
        if (req.sign)
            fail_msg("%s: the request is signed with the environment's credentials",
                     lookalike[i]);
        scripted_reply r[] = {{HELLO_206, (const uint8_t *)"hello", 5}};
        scripted_server f;
        scripted_start(&f, r, 1, 0);
        char to[64];
        snprintf(to, sizeof to, "http://127.0.0.1:%d/bkt/k", f.port);
        req.url = to;
        req.length = 5;
        floe_buf b;
        floe_buf_init(&b, 100);
        CURL *c = curl_easy_init();
        assert_non_null(c);
        floe_http_xfer *x = NULL;
        expect_ok(floe_http_xfer_begin(t, &req, &b, c, &x));
        CURLcode rc = curl_easy_perform(c);
        expect_ok(floe_http_xfer_end(x, rc, NULL));
        floe_http_xfer_free(&x);
        curl_easy_cleanup(c);
        char *seen = scripted_stop(&f);
        assert_false(has_header(seen, "^authorization:"));
        assert_false(has_header(seen, "^x-amz-"));
        assert_null(strstr(seen, FAKE_KEY));
        assert_null(strstr(seen, FAKE_TOKEN));
        free(seen);
        floe_buf_free(&b);
        floe_buf_free(&u);
        floe_transport_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_request_headers),
        cmocka_unit_test(anonymous_requests_are_unsigned),
        cmocka_unit_test(document_endpoint_gets_no_credentials),
        cmocka_unit_test(aws_endpoints),
        cmocka_unit_test(lookalike_endpoint_gets_no_credentials),
        cmocka_unit_test(conditions_on_the_wire),
        cmocka_unit_test(server_ignores_range),
        cmocka_unit_test(bad_partial_answers),
        cmocka_unit_test(whole_object_cap_before_download),
        cmocka_unit_test(stalled_server),
        cmocka_unit_test(redirects),
        cmocka_unit_test(changed_source_despite_ignored_conditions),
        cmocka_unit_test(redirects_checked),
        cmocka_unit_test(redirects_any_3xx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
