/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure parts of the transport (io/transport/url.h): URL
 * kinds, percent-encoding (checked against libcurl's curl_easy_escape),
 * redaction, HTTP dates (checked against libcurl's curl_getdate),
 * Content-Range parsing, the s3:// -> HTTP mapping with its settings
 * from options and the AWS environment, and canonical URLs (what access
 * checks compare). */
#include "io/transport/url.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void url_kinds(void **state)
{
    (void)state;
    floe_url_kind k;
    assert_null(floe_url_kind_of("/abs/path.nc", &k));
    assert_int_equal(k, FLOE_URL_FILE);
    assert_null(floe_url_kind_of("relative/dir/x.nc", &k));
    assert_int_equal(k, FLOE_URL_FILE);
    assert_null(floe_url_kind_of("a file with: colon", &k));
    assert_int_equal(k, FLOE_URL_FILE);
    assert_null(floe_url_kind_of("file:///abs", &k));
    assert_int_equal(k, FLOE_URL_FILE);
    assert_null(floe_url_kind_of("http://h/x", &k));
    assert_int_equal(k, FLOE_URL_HTTP);
    assert_null(floe_url_kind_of("HTTPS://h/x", &k));
    assert_int_equal(k, FLOE_URL_HTTP);
    assert_null(floe_url_kind_of("s3://bucket/key", &k));
    assert_int_equal(k, FLOE_URL_S3);
    expect_code(floe_url_kind_of("gs://bucket/key", &k), FLOE_EUNSUPPORTED, "gs://bucket/key");
    expect_code(floe_url_kind_of("", &k), FLOE_EINVAL, "empty URL");
    expect_code(floe_url_kind_of(NULL, &k), FLOE_EINVAL, NULL);
    /* The message of an unsupported URL does not show its password. */
    floe_err err = floe_url_kind_of("ftp://user:hunter2@host/x", &k);
    char line[512];
    floe_err_line(err, line, sizeof line);
    assert_null(strstr(line, "hunter2"));
    assert_non_null(strstr(line, "ftp://host/x"));
    floe_err_free(&err);
}

static void file_paths(void **state)
{
    (void)state;
    const char *p;
    assert_null(floe_url_file_path("file:///a/b c.nc", &p));
    assert_string_equal(p, "/a/b c.nc");
    assert_null(floe_url_file_path("FILE://localhost/a", &p));
    assert_string_equal(p, "/a");
    assert_null(floe_url_file_path("rel/x", &p));
    assert_string_equal(p, "rel/x");
    expect_code(floe_url_file_path("file://otherhost/a", &p), FLOE_EUNSUPPORTED,
                "file://otherhost/a");
}

static char *encode(const char *path)
{
    floe_buf b;
    floe_buf_init(&b, 1 << 16);
    assert_null(floe_url_encode_path(path, &b));
    assert_null(floe_buf_append(&b, "", 0)); /* a C string also when empty */
    return (char *)floe_buf_take(&b, NULL);
}

static void path_encoding(void **state)
{
    (void)state;
    char *e = encode("NLDAS3/a b/c+d%e~f.g_h-i/\xc3\xbc&=?#");
    assert_string_equal(e, "NLDAS3/a%20b/c%2Bd%25e~f.g_h-i/%C3%BC%26%3D%3F%23");
    free(e);
    e = encode("//x//");
    assert_string_equal(e, "//x//");
    free(e);

    /* Every byte, segment by segment, as libcurl escapes it (it keeps the
     * same unreserved set). */
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char seg[256];
    for (int i = 1; i < 256; i++)
        seg[i - 1] = (char)(i == '/' ? 'x' : i);
    seg[255] = 0;
    char *mine = encode(seg);
    char *theirs = curl_easy_escape(c, seg, 0);
    assert_string_equal(mine, theirs);
    free(mine);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", seg, seg);
    mine = encode(path);
    char want[4096];
    snprintf(want, sizeof want, "%s/%s", theirs, theirs);
    assert_string_equal(mine, want);
    free(mine);
    curl_free(theirs);
    curl_easy_cleanup(c);
}

static void http_normalize(void **state)
{
    (void)state;
    floe_buf b;
    floe_buf_init(&b, 4096);
    assert_null(floe_url_http_normalize("http://h:1/a b/%41?x=1%202&y=<\">", &b));
    assert_string_equal((char *)b.data, "http://h:1/a%20b/%41?x=1%202&y=%3C%22%3E");
    floe_buf_free(&b);
}

static void redaction(void **state)
{
    (void)state;
    char buf[256];
    assert_string_equal(floe_url_redact("https://AKID:s3cr3t@host:9/b/k?X-Amz-Signature=abc#f",
                                        buf, sizeof buf),
                        "https://host:9/b/k?X-Amz-Signature=REDACTED#f");
    assert_string_equal(floe_url_redact("http://host/p", buf, sizeof buf), "http://host/p");
    /* '?' is part of an S3 key or a file name, not a query. */
    assert_string_equal(floe_url_redact("s3://b/what?.nc", buf, sizeof buf), "s3://b/what?.nc");
    assert_string_equal(floe_url_redact("/tmp/a?b", buf, sizeof buf), "/tmp/a?b");
    char tiny[8];
    assert_string_equal(floe_url_redact("https://example.org/x", tiny, sizeof tiny), "https:/");
}

static void http_dates(void **state)
{
    (void)state;
    char buf[30];
    assert_string_equal(floe_http_date(0, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_string_equal(floe_http_date(1704164645, buf), "Tue, 02 Jan 2024 03:04:05 GMT");
    /* Round trip through libcurl's own date parser. */
    const int64_t samples[] = {1, 951782400 /* 2000-02-29 */, 978307200, 1234567890,
                               1709251199, 2147483647, 4102444800};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        floe_http_date(samples[i], buf);
        assert_int_equal(strlen(buf), 29);
        assert_int_equal((int64_t)curl_getdate(buf, NULL), samples[i]);
    }
}

static void content_range(void **state)
{
    (void)state;
    uint64_t s, e, t;
    const char *v = "bytes 100-199/4096";
    assert_int_equal(floe_http_parse_content_range(v, strlen(v), &s, &e, &t), 1);
    assert_int_equal(s, 100);
    assert_int_equal(e, 199);
    assert_int_equal(t, 4096);
    v = " bytes 0-0/* \r\n";
    assert_int_equal(floe_http_parse_content_range(v, strlen(v), &s, &e, &t), 1);
    assert_true(t == UINT64_MAX);
    v = "bytes */4096";
    assert_int_equal(floe_http_parse_content_range(v, strlen(v), &s, &e, &t), 2);
    assert_int_equal(t, 4096);
    const char *bad[] = {"bytes 5-4/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1/2x",
                         "bytes -1/2", "bytes 0-99999999999999999999/1", "", "bytes"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(floe_http_parse_content_range(bad[i], strlen(bad[i]), &s, &e, &t), 0);
    /* The length bounds the parse: the value need not end in NUL. */
    v = "bytes 1-2/3999";
    assert_int_equal(floe_http_parse_content_range(v, strlen(v) - 3, &s, &e, &t), 1);
    assert_int_equal(t, 3);
}

static char *s3_url(const char *url, const floe_s3_config *cfg)
{
    floe_buf b;
    floe_buf_init(&b, 4096);
    floe_err err = floe_s3_http_url(url, cfg, &b);
    if (err) {
        char line[512];
        fail_msg("%s", floe_err_line(err, line, sizeof line));
    }
    return (char *)floe_buf_take(&b, NULL);
}

static void s3_mapping(void **state)
{
    (void)state;
    floe_s3_config c = {.region = "us-west-2"};
    char *u = s3_url("s3://nasa-waterinsight/NLDAS3/forcing/a b+c.nc", &c);
    assert_string_equal(u, "https://nasa-waterinsight.s3.us-west-2.amazonaws.com/NLDAS3/forcing/"
                           "a%20b%2Bc.nc");
    free(u);
    c.path_style = 1;
    u = s3_url("s3://nasa-waterinsight/k", &c);
    assert_string_equal(u, "https://s3.us-west-2.amazonaws.com/nasa-waterinsight/k");
    free(u);
    /* Buckets that cannot be TLS host names go path style. */
    c.path_style = 0;
    u = s3_url("s3://my.dotted.bucket/k", &c);
    assert_string_equal(u, "https://s3.us-west-2.amazonaws.com/my.dotted.bucket/k");
    free(u);
    u = s3_url("s3://Upper_Case/k", &c);
    assert_string_equal(u, "https://s3.us-west-2.amazonaws.com/Upper_Case/k");
    free(u);
    c = (floe_s3_config){.endpoint = "http://127.0.0.1:9000/", .region = "x"};
    u = s3_url("s3://bkt/dir/with space/\xc3\xa9.nc", &c);
    assert_string_equal(u, "http://127.0.0.1:9000/bkt/dir/with%20space/%C3%A9.nc");
    free(u);

    const char *b, *k;
    size_t n;
    assert_null(floe_s3_split("s3://bkt/a/b", &b, &n, &k));
    assert_int_equal(n, 3);
    assert_memory_equal(b, "bkt", 3);
    assert_string_equal(k, "a/b");
    floe_buf tmp;
    floe_buf_init(&tmp, 100);
    expect_code(floe_s3_split("s3://bkt", &b, &n, &k), FLOE_EINVAL, "no key");
    expect_code(floe_s3_split("s3://bkt/", &b, &n, &k), FLOE_EINVAL, "no key");
    expect_code(floe_s3_split("s3:///k", &b, &n, &k), FLOE_EINVAL, "no bucket");
    expect_code(floe_s3_split("s3://b?x/k", &b, &n, &k), FLOE_EINVAL, "invalid bucket");
    expect_code(floe_s3_http_url("s3://bkt", &c, &tmp), FLOE_EINVAL, "s3://bkt");
    floe_buf_free(&tmp);
}

static void s3_settings_from_env(void **state)
{
    (void)state;
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    floe_s3_config r;
    floe_s3_config_resolve(NULL, &r);
    assert_null(r.endpoint);
    assert_string_equal(r.region, "us-east-1");
    assert_int_equal(r.path_style, 0);

    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    floe_s3_config_resolve(NULL, &r);
    assert_string_equal(r.region, "eu-west-1");
    setenv("AWS_REGION", "us-west-2", 1);
    floe_s3_config_resolve(NULL, &r);
    assert_string_equal(r.region, "us-west-2");
    floe_s3_config in = {.region = "ap-south-1"};
    floe_s3_config_resolve(&in, &r);
    assert_string_equal(r.region, "ap-south-1");

    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1234", 1);
    floe_s3_config_resolve(NULL, &r);
    assert_string_equal(r.endpoint, "http://127.0.0.1:1234");
    assert_int_equal(r.path_style, 1); /* an endpoint override implies path style */
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5678", 1);
    floe_s3_config_resolve(NULL, &r);
    assert_string_equal(r.endpoint, "http://127.0.0.1:5678");
    in = (floe_s3_config){.endpoint = "https://minio.example:9000", .anonymous = 1};
    floe_s3_config_resolve(&in, &r);
    assert_string_equal(r.endpoint, "https://minio.example:9000");
    assert_int_equal(r.anonymous, 1);
    char *u = s3_url("s3://b/k", &r);
    assert_string_equal(u, "https://minio.example:9000/b/k");
    free(u);

    /* An empty variable counts as unset. */
    setenv("AWS_ENDPOINT_URL_S3", "", 1);
    setenv("AWS_REGION", "", 1);
    floe_s3_config_resolve(NULL, &r);
    assert_string_equal(r.endpoint, "http://127.0.0.1:1234");
    assert_string_equal(r.region, "eu-west-1");

    /* A bad endpoint is refused when the transport is made. */
    setenv("AWS_ENDPOINT_URL", "127.0.0.1:9000", 1);
    unsetenv("AWS_ENDPOINT_URL_S3");
    floe_transport *t = NULL;
    expect_code(floe_transport_new(NULL, &t), FLOE_EINVAL, "127.0.0.1:9000");
    assert_null(t);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    assert_null(floe_transport_new(NULL, &t));
    floe_transport_free(&t);
    assert_null(t);
    floe_transport_free(&t); /* safe on NULL */
}

/* canonical(url) or the reason it is refused. */
static void expect_canonical(const char *url, int prefix, const char *want)
{
    floe_buf b;
    floe_buf_init(&b, 4096);
    floe_err err = floe_url_canonical(url, prefix, &b);
    if (err)
        fail_msg("%s: refused: %s", url, floe_err_message(err));
    assert_string_equal((const char *)b.data, want);
    floe_buf_free(&b);
}

static void expect_not_canonical(const char *url, const char *reason)
{
    floe_buf b;
    floe_buf_init(&b, 4096);
    expect_code(floe_url_canonical(url, 0, &b), FLOE_EINVAL, reason);
    floe_buf_free(&b);
}

static void canonical_urls(void **state)
{
    (void)state;
    expect_canonical("s3://bkt/data/x.nc", 0, "s3://bkt/data/x.nc");
    expect_canonical("S3://bkt/a b/%41#?x", 0, "s3://bkt/a b/%41#?x"); /* literal key */
    expect_canonical("HTTPS://Data.Example:443/a/%7e%2a/x?q=1", 0,
                     "https://data.example/a/~%2A/x?q=1");
    expect_canonical("http://h:8080/x/", 0, "http://h:8080/x/");
    expect_canonical("/data/x.nc", 0, "file:///data/x.nc");
    expect_canonical("file://localhost/data/x.nc", 0, "file:///data/x.nc");
    expect_canonical("s3://", 1, "s3://");
    expect_canonical("http://h", 1, "http://h");
    expect_not_canonical("s3://bkt/data/../x", "'..' segment");
    expect_not_canonical("s3://bkt/data/%2E%2e", "'..' segment");
    expect_not_canonical("file:///m/./x", "'.' segment");
    expect_not_canonical("http://h/a/.%2e/x", "'..' segment");
    expect_not_canonical("http://h/a/%2F..%2Fx", "encoded '/'");
    expect_not_canonical("http://h/a/..%5cx", "encoded '/'");
    expect_not_canonical("http://h/a//x", "empty path segment");
    /* servlet containers drop ";params" before resolving dot segments */
    expect_not_canonical("https://h/thredds/fileServer/nldas/..;/private/x", "'..' segment");
    expect_not_canonical("http://h/a/.%2e;jsessionid=1/x", "'..' segment");
    expect_not_canonical("http://h/a/.%00/x", "encoded NUL");
    expect_canonical("http://h/a/x;v=1/y", 0, "http://h/a/x;v=1/y");
    expect_canonical("s3://bkt/a/..;/x", 0, "s3://bkt/a/..;/x"); /* a literal S3 key */
    expect_not_canonical("http://h/a/x#y", "fragment");
    expect_not_canonical("http://u:p@h/a/x", "user name or password");
    expect_not_canonical("s3://u@bkt/a/x", "user name or password");
    expect_not_canonical("s3://bkt/", "no key");
    expect_not_canonical("s3:///k", "no bucket");
    expect_not_canonical("file://host/x", "with a host");
    expect_not_canonical("rel/x", "relative path");
    expect_not_canonical("ftp://h/x", "unsupported scheme");
}

/* The kind of address a URL's host names, in every spelling libcurl
 * connects to. Where libcurl's own URL parser (curl_url) rewrites the host
 * (shortened, decimal, octal, hex IPv4; percent escapes), the rewritten
 * host must be of the same kind: the check sees what curl will dial. */
static void host_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        floe_host_kind kind;
    } cases[] = {
        {"http://127.0.0.1:9000/b/k", FLOE_HOST_LOOPBACK},
        {"http://127.255.1.2/", FLOE_HOST_LOOPBACK},
        {"http://127.1/", FLOE_HOST_LOOPBACK},
        {"http://2130706433/", FLOE_HOST_LOOPBACK},
        {"http://0x7f.1/", FLOE_HOST_LOOPBACK},
        {"http://0x7F000001/", FLOE_HOST_LOOPBACK},
        {"http://0177.0.0.1/", FLOE_HOST_LOOPBACK},
        {"http://127.0.0.1./", FLOE_HOST_LOOPBACK},
        {"http://%31%32%37.0.0.1/", FLOE_HOST_LOOPBACK},
        {"https://localhost/", FLOE_HOST_LOOPBACK},
        {"https://LOCALHOST.:8443/", FLOE_HOST_LOOPBACK},
        {"http://x.y.localhost/", FLOE_HOST_LOOPBACK},
        {"http://user@127.0.0.1/", FLOE_HOST_LOOPBACK},
        {"http://[::1]:9000/", FLOE_HOST_LOOPBACK},
        {"http://[0:0:0:0:0:0:0:1]/", FLOE_HOST_LOOPBACK},
        {"http://[::ffff:127.0.0.1]/", FLOE_HOST_LOOPBACK},
        {"http://[::ffff:7f00:1]/", FLOE_HOST_LOOPBACK},
        {"http://169.254.169.254/latest/meta-data/", FLOE_HOST_LINK_LOCAL},
        {"http://[fe80::1%25eth0]/", FLOE_HOST_LINK_LOCAL},
        {"http://[febf::1]/", FLOE_HOST_LINK_LOCAL},
        {"http://[::ffff:a9fe:a9fe]/", FLOE_HOST_LINK_LOCAL},
        {"http://10.0.0.1/", FLOE_HOST_PRIVATE},
        {"http://172.16.0.1/", FLOE_HOST_PRIVATE},
        {"http://172.31.255.255/", FLOE_HOST_PRIVATE},
        {"http://192.168.0.1/", FLOE_HOST_PRIVATE},
        {"http://100.100.100.200/", FLOE_HOST_PRIVATE},
        {"http://[fd00:ec2::254]/", FLOE_HOST_PRIVATE},
        {"http://[fc00::1]/", FLOE_HOST_PRIVATE},
        {"http://[fec0::1]/", FLOE_HOST_PRIVATE},
        /* names a standard /etc/hosts maps to loopback (Debian, RHEL) */
        {"http://ip6-localhost/", FLOE_HOST_LOOPBACK},
        {"http://IP6-LOOPBACK.:8080/", FLOE_HOST_LOOPBACK},
        {"http://localhost.localdomain/", FLOE_HOST_LOOPBACK},
        {"http://localhost6/", FLOE_HOST_LOOPBACK},
        {"http://localhost6.localdomain6/", FLOE_HOST_LOOPBACK},
        /* multicast, broadcast and the reserved 240/4: never a data server */
        {"http://224.0.0.1/", FLOE_HOST_MULTICAST},
        {"http://239.255.255.250:1900/", FLOE_HOST_MULTICAST},
        {"http://255.255.255.255/", FLOE_HOST_MULTICAST},
        {"http://4294967295/", FLOE_HOST_MULTICAST},
        {"http://240.0.0.1/", FLOE_HOST_MULTICAST},
        {"http://[ff02::1]/", FLOE_HOST_MULTICAST},
        {"http://[::ffff:224.0.0.251]/", FLOE_HOST_MULTICAST},
        {"http://0.0.0.0/", FLOE_HOST_UNSPECIFIED},
        {"http://0/", FLOE_HOST_UNSPECIFIED},
        {"http://[::]/", FLOE_HOST_UNSPECIFIED},
        {"http://08/", FLOE_HOST_UNCLEAR},
        {"http://1.2.3.4.5/", FLOE_HOST_UNCLEAR},
        {"http://256.1.1.1/", FLOE_HOST_UNCLEAR},
        {"http://ex%zzample.com/", FLOE_HOST_UNCLEAR},
        {"http://ex%C3%A4mple.com/", FLOE_HOST_UNCLEAR},
        {"http://[::1/", FLOE_HOST_UNCLEAR},
        {"http:///", FLOE_HOST_UNCLEAR},
        {"https://s3.us-west-2.amazonaws.com/", FLOE_HOST_PUBLIC},
        {"https://data.example:8443/x", FLOE_HOST_PUBLIC},
        {"http://8.8.8.8/", FLOE_HOST_PUBLIC},
        {"http://11.0.0.1/", FLOE_HOST_PUBLIC},
        {"http://172.15.0.1/", FLOE_HOST_PUBLIC},
        {"http://172.32.0.1/", FLOE_HOST_PUBLIC},
        {"http://192.169.0.1/", FLOE_HOST_PUBLIC},
        {"http://100.128.0.1/", FLOE_HOST_PUBLIC},
        {"http://[2001:db8::1]/", FLOE_HOST_PUBLIC},
        {"http://localhost.example/", FLOE_HOST_PUBLIC},
        {"http://mylocalhost/", FLOE_HOST_PUBLIC},
        {"http://223.255.255.255/", FLOE_HOST_PUBLIC},
        {"http://ip6-localhost.example/", FLOE_HOST_PUBLIC},
        {"s3://127.0.0.1/key", FLOE_HOST_PUBLIC}, /* a bucket, not a host */
        {"file:///etc/passwd", FLOE_HOST_PUBLIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        floe_host_kind k = floe_url_host_kind(cases[i].url);
        if (k != cases[i].kind)
            fail_msg("%s: %s, want %s", cases[i].url, floe_host_kind_name(k),
                     floe_host_kind_name(cases[i].kind));
        if (k == FLOE_HOST_UNCLEAR || strncmp(cases[i].url, "http", 4) != 0)
            continue;
        CURLU *u = curl_url();
        char *host = NULL;
        assert_non_null(u);
        if (curl_url_set(u, CURLUPART_URL, cases[i].url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
            char again[300];
            snprintf(again, sizeof again, "http://%s/", host);
            if (floe_url_host_kind(again) != k)
                fail_msg("%s: libcurl connects to %s, which is %s, not %s", cases[i].url, host,
                         floe_host_kind_name(floe_url_host_kind(again)), floe_host_kind_name(k));
        }
        curl_free(host);
        curl_url_cleanup(u);
    }
    assert_int_equal(floe_url_host_kind(NULL), FLOE_HOST_UNCLEAR);
}

/* This machine's own name resolves to itself (Debian's /etc/hosts maps it
 * to 127.0.1.1): loopback, in any case, with a trailing dot, and its
 * first label alone. */
static void own_hostname_is_loopback(void **state)
{
    (void)state;
    char name[256] = "", url[300];
    assert_int_equal(gethostname(name, sizeof name - 1), 0);
    assert_true(name[0] != 0);
    snprintf(url, sizeof url, "http://%s:8080/x", name);
    assert_int_equal(floe_url_host_kind(url), FLOE_HOST_LOOPBACK);
    for (char *c = name; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    snprintf(url, sizeof url, "https://%s./", name);
    assert_int_equal(floe_url_host_kind(url), FLOE_HOST_LOOPBACK);
    name[strcspn(name, ".")] = 0;
    snprintf(url, sizeof url, "http://%s/", name);
    assert_int_equal(floe_url_host_kind(url), FLOE_HOST_LOOPBACK);
    snprintf(url, sizeof url, "http://%s-not/", name);
    assert_int_equal(floe_url_host_kind(url), FLOE_HOST_PUBLIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_kinds),       cmocka_unit_test(file_paths),
        cmocka_unit_test(path_encoding),   cmocka_unit_test(http_normalize),
        cmocka_unit_test(redaction),       cmocka_unit_test(http_dates),
        cmocka_unit_test(content_range),   cmocka_unit_test(s3_mapping),
        cmocka_unit_test(s3_settings_from_env), cmocka_unit_test(canonical_urls),
        cmocka_unit_test(host_kinds),      cmocka_unit_test(own_hostname_is_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
