/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/s3.c - s3:// URLs: settings from the options and the AWS
 * environment, the mapping to path-style or virtual-hosted HTTP URLs,
 * credentials (sent only to AWS or to an endpoint the user named), and the
 * hand-over to the HTTP back end (which signs with libcurl's SigV4). */
#include "io/transport/internal.h"
#include "io/transport/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void floe_s3_config_resolve(const floe_s3_config *in, floe_s3_config *out)
{
    floe_s3_config none = {0};
    if (!in)
        in = &none;
    *out = *in;
    if (!in->endpoint || !*in->endpoint) {
        /* AWS_ENDPOINT_URL_S3 is the service-specific override of the AWS
         * SDKs and wins over the global one. */
        out->endpoint = env("AWS_ENDPOINT_URL_S3");
        if (!out->endpoint)
            out->endpoint = env("AWS_ENDPOINT_URL");
    }
    if (!in->region || !*in->region) {
        out->region = env("AWS_REGION");
        if (!out->region)
            out->region = env("AWS_DEFAULT_REGION");
        if (!out->region)
            out->region = "us-east-1";
    }
    if (out->endpoint)
        out->path_style = 1;
}

floe_err floe_s3_split(const char *url, const char **bucket, size_t *bucket_len,
                       const char **key)
{
    if (strncasecmp(url, "s3://", 5) != 0)
        return FLOE_ERR(FLOE_EINVAL, "%s: not an s3:// URL", url);
    const char *b = url + 5;
    const char *slash = strchr(b, '/');
    size_t n = slash ? (size_t)(slash - b) : strlen(b);
    if (n == 0)
        return FLOE_ERR(FLOE_EINVAL, "%s: no bucket in the S3 URL", url);
    if (!slash || !slash[1])
        return FLOE_ERR(FLOE_EINVAL, "%s: no key in the S3 URL (s3://bucket/key)", url);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)b[i]) && !strchr("-._", b[i]))
            return FLOE_ERR(FLOE_EINVAL, "%s: invalid bucket name \"%.*s\"", url, (int)n, b);
    *bucket = b;
    *bucket_len = n;
    *key = slash + 1;
    return NULL;
}

/* Can the bucket be a DNS label under TLS? Dots would break the
 * certificate's wildcard, capitals and '_' are not valid host names. */
static int dns_safe_bucket(const char *b, size_t n)
{
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
            return 0;
    return 1;
}

static floe_err append_str(floe_buf *out, const char *s)
{
    return floe_buf_append(out, s, strlen(s));
}

floe_err floe_s3_http_url(const char *url, const floe_s3_config *cfg, floe_buf *out)
{
    const char *bucket, *key;
    size_t blen;
    FLOE_CHECK(floe_s3_split(url, &bucket, &blen, &key));
    char b[64];
    if (blen >= sizeof b)
        return FLOE_ERR(FLOE_EINVAL, "%s: bucket name longer than 63 characters", url);
    memcpy(b, bucket, blen);
    b[blen] = 0;
    const char *region = cfg->region ? cfg->region : "us-east-1";
    if (cfg->endpoint) {
        const char *e = cfg->endpoint;
        size_t en = strlen(e);
        while (en && e[en - 1] == '/')
            en--;
        FLOE_CHECK(floe_buf_append(out, e, en));
        FLOE_CHECK(floe_buf_append(out, "/", 1));
        FLOE_CHECK(floe_url_encode_path(b, out));
    } else if (cfg->path_style || !dns_safe_bucket(b, blen)) {
        FLOE_CHECK(append_str(out, "https://s3."));
        FLOE_CHECK(append_str(out, region));
        FLOE_CHECK(append_str(out, ".amazonaws.com/"));
        FLOE_CHECK(floe_url_encode_path(b, out));
    } else {
        FLOE_CHECK(append_str(out, "https://"));
        FLOE_CHECK(append_str(out, b));
        FLOE_CHECK(append_str(out, ".s3."));
        FLOE_CHECK(append_str(out, region));
        FLOE_CHECK(append_str(out, ".amazonaws.com"));
    }
    FLOE_CHECK(floe_buf_append(out, "/", 1));
    FLOE_CHECK(floe_url_encode_path(key, out));
    return NULL;
}

static int ends_with(const char *s, size_t n, const char *tail)
{
    size_t k = strlen(tail);
    return n >= k && strncmp(s + n - k, tail, k) == 0;
}

/* Is part of the parsed URL u present? */
static int has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    int has = curl_url_get(u, part, &v, 0) == CURLUE_OK;
    curl_free(v);
    return has;
}

/* endpoint parsed by libcurl, as it will connect: NULL when libcurl refuses
 * it or it holds more than scheme://host[:port][/path] (a user name or
 * password, a query, a fragment: with the bucket and key appended, a '?'
 * or '#' would swallow them, and an "@" or a '?' is how a URL that names
 * one host looks like another). */
static CURLU *endpoint_url(const char *endpoint)
{
    CURLU *u = endpoint ? curl_url() : NULL;
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK || has_part(u, CURLUPART_USER) ||
        has_part(u, CURLUPART_PASSWORD) || has_part(u, CURLUPART_OPTIONS) ||
        has_part(u, CURLUPART_QUERY) || has_part(u, CURLUPART_FRAGMENT)) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

int floe_s3_endpoint_is_aws(const char *endpoint)
{
    CURLU *u = endpoint_url(endpoint);
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int aws = 0;
    if (u && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        CURLUcode pc = curl_url_get(u, CURLUPART_PORT, &port, 0);
        size_t n = strlen(host);
        for (char *c = host; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        /* the host exactly as libcurl connects to it: letters, digits, '-', '.' */
        aws = strcasecmp(scheme, "https") == 0 && strspn(host, "abcdefghijklmnopqrstuvwxyz"
                                                               "0123456789-.") == n &&
              (pc == CURLUE_NO_PORT || (pc == CURLUE_OK && strcmp(port, "443") == 0)) &&
              (!*path || strcmp(path, "/") == 0) &&
              (strcmp(host, "amazonaws.com") == 0 || ends_with(host, n, ".amazonaws.com") ||
               ends_with(host, n, ".amazonaws.com.cn"));
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return aws;
}

/* Do a and b name the same endpoint (canonical forms equal, a trailing '/'
 * aside)? */
static int same_endpoint(const char *a, const char *b)
{
    floe_buf ca, cb;
    floe_buf_init(&ca, 1024);
    floe_buf_init(&cb, 1024);
    floe_err ea = floe_url_canonical(a, 1, &ca), eb = floe_url_canonical(b, 1, &cb);
    size_t na = ca.len, nb = cb.len;
    while (na && ca.data[na - 1] == '/')
        na--;
    while (nb && cb.data[nb - 1] == '/')
        nb--;
    int same = !ea && !eb && na && na == nb && memcmp(ca.data, cb.data, na) == 0;
    floe_err_free(&ea);
    floe_err_free(&eb);
    floe_buf_free(&ca);
    floe_buf_free(&cb);
    return same;
}

/* May the credentials of the environment go to the resolved endpoint? AWS
 * itself (no endpoint), an endpoint the user named, AWS's own hosts, or
 * the endpoint AWS_ENDPOINT_URL(_S3) names: yes; any other endpoint a
 * document named: no (it would receive the access key id and session
 * token, and a signature it could replay). */
static int may_sign_for(const floe_s3_config *in, const floe_s3_config *r)
{
    if (!r->endpoint || !in->endpoint_from_document || floe_s3_endpoint_is_aws(r->endpoint))
        return 1;
    const char *user = env("AWS_ENDPOINT_URL_S3");
    if (!user)
        user = env("AWS_ENDPOINT_URL");
    return user && same_endpoint(user, r->endpoint);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char **s)
{
    if (!*s)
        return;
    volatile char *p = *s; /* volatile: the wipe must not be optimised away */
    while (*p)
        *p++ = 0;
    free(*s);
    *s = NULL;
}

floe_err floe_s3_setup(floe_transport *t, const floe_s3_config *cfg)
{
    floe_s3_config r;
    floe_s3_config_resolve(cfg, &r);
    if (r.endpoint && strncasecmp(r.endpoint, "http://", 7) != 0 &&
        strncasecmp(r.endpoint, "https://", 8) != 0)
        return FLOE_ERR(FLOE_EINVAL, "S3 endpoint %s: not an http:// or https:// URL",
                        r.endpoint);
    if (r.endpoint) {
        CURLU *u = endpoint_url(r.endpoint);
        char shown[1024];
        if (!u)
            return FLOE_ERR(FLOE_EINVAL, "S3 endpoint %s: not an endpoint URL "
                            "(scheme://host[:port][/path], no user name, query or fragment)",
                            floe_url_redact(r.endpoint, shown, sizeof shown));
        curl_url_cleanup(u);
    }
    for (const char *p = r.region; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-')
            return FLOE_ERR(FLOE_EINVAL, "S3 region \"%s\": not a region name", r.region);
    t->s3_endpoint = dup_or_null(r.endpoint);
    t->s3_region = strdup(r.region);
    t->s3_path_style = r.path_style;
    if ((r.endpoint && !t->s3_endpoint) || !t->s3_region)
        return FLOE_ERR(FLOE_ENOMEM, "cannot copy the S3 settings");

    const char *key = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    if (!r.anonymous && key && secret && !may_sign_for(cfg ? cfg : &r, &r)) {
        t->aws_withheld = 1;
        return NULL;
    }
    if (!r.anonymous && key && secret) {
        t->aws_access_key = strdup(key);
        t->aws_secret_key = strdup(secret);
        t->aws_session_token = dup_or_null(env("AWS_SESSION_TOKEN"));
        if (!t->aws_access_key || !t->aws_secret_key ||
            (env("AWS_SESSION_TOKEN") && !t->aws_session_token))
            return FLOE_ERR(FLOE_ENOMEM, "cannot copy the S3 credentials");
    }
    return NULL;
}

void floe_s3_clear(floe_transport *t)
{
    free(t->s3_endpoint);
    t->s3_endpoint = NULL;
    free(t->s3_region);
    t->s3_region = NULL;
    wipe_free(&t->aws_access_key);
    wipe_free(&t->aws_secret_key);
    wipe_free(&t->aws_session_token);
}

floe_err floe_s3_request_for(const floe_transport *t, const char *url, floe_buf *u, char *shown,
                             size_t shown_size, floe_sigv4 *sig, floe_http_request *req)
{
    floe_s3_config cfg = {.endpoint = t->s3_endpoint, .region = t->s3_region,
                          .path_style = t->s3_path_style};
    FLOE_CHECK(floe_s3_http_url(url, &cfg, u));
    floe_url_redact(url, shown, shown_size);
    memset(req, 0, sizeof *req);
    req->url = (const char *)u->data;
    req->shown = shown;
    req->is_s3 = 1;
    if (t->aws_withheld)
        req->withheld_from = t->s3_endpoint;
    if (t->aws_access_key) {
        *sig = (floe_sigv4){.region = t->s3_region, .access_key = t->aws_access_key,
                            .secret_key = t->aws_secret_key,
                            .session_token = t->aws_session_token};
        req->sign = sig;
    }
    return NULL;
}
