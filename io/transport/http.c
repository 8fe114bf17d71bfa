/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/http.c - the HTTP(S) back end: one libcurl easy handle per
 * transport, reset and reused for every request so that its connection
 * cache keeps the connection alive; range checks on the answer; the
 * answer's ETag and Last-Modified checked against the conditions; HTTP
 * statuses mapped to floe codes (redirects are checked by redirect.c). S3 requests come here from
 * s3.c with a URL already mapped and, when signed, the SigV4
 * material (libcurl does the signing: CURLOPT_AWS_SIGV4). One attempt per
 * call: the retries are transport.c's, decided on the outcome each
 * attempt reports (status, S3 code, Retry-After, a truncated body).
 *
 * A request is a floe_http_xfer: begun on an easy handle (options, headers,
 * callbacks), run by someone (curl_easy_perform here, or a caller's multi
 * loop through xfer.h), then ended (the answer checked and mapped to an
 * error) and freed. Both paths share every check that way.
 *
 * Why one file: everything here works on the private state of one
 * floe_http_xfer (its callbacks fill it, its checks read it, the blocking
 * path is the last 70 lines); a split would put that struct in a header
 * for two files to share. What needs none of it (the redirect check) is in
 * redirect.c. */
#include "common/floe_log.h"
#include "common/floe_version.h"
#include "io/transport/internal.h"
#include "io/transport/url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { ERROR_BODY_MAX = 2048 };

/* One transfer: what was asked, what the response headers said, where the
 * body went. */
struct floe_http_xfer {
    const floe_transport *t;
    const floe_http_request *req;
    floe_buf *out;
    CURL *curl;          /* borrowed: the handle the request was set up on */
    struct curl_slist *headers;
    char range[64];      /* text for messages */
    int ranged;          /* a Range header was sent */
    uint64_t received;   /* header and body bytes so far (progress) */
    /* Headers of the last response (a redirect or 1xx resets them). */
    long status;
    int cr_kind; /* Content-Range: 0 none, 1 "bytes A-B/N", 2 "bytes * /N" */
    uint64_t cr_start, cr_end, cr_total;
    int64_t content_length; /* -1: not sent */
    char bucket_region[64];
    char retry_after[64];   /* Retry-After, for the retry policy */
    char etag[520];         /* ETag, "" when not sent or too long */
    int etag_too_long;      /* sent, but longer than etag holds: never the ref's */
    char last_modified[64]; /* Last-Modified, "" when not sent */
    /* Body. */
    int body_mode;   /* 0 undecided, 1 payload into out, 2 error body */
    uint64_t skip;   /* payload bytes to drop first (a 200 to a ranged request) */
    uint64_t want;   /* payload bytes still wanted; UINT64_MAX: to the end */
    uint64_t got;    /* payload bytes appended to out */
    int done_early;  /* we aborted on purpose: every wanted byte is here */
    char error_body[ERROR_BODY_MAX];
    size_t error_body_len;
    floe_err err;    /* why a callback aborted the transfer */
    char curl_error[CURL_ERROR_SIZE];
};
typedef struct floe_http_xfer xfer;

/* Blank out the transport's secrets wherever they occur in s (libcurl's
 * messages should never hold them; this makes sure). */
static void scrub(const floe_transport *t, char *s)
{
    const char *secrets[] = {t->aws_secret_key, t->aws_session_token, t->aws_access_key};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        const char *k = secrets[i];
        if (!k || !*k)
            continue;
        size_t n = strlen(k);
        for (char *p = strstr(s, k); p; p = strstr(p + n, k))
            memset(p, '*', n);
    }
}

static int header_is(const char *line, size_t n, const char *name, const char **value,
                     size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return 0;
    const char *v = line + k + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && isspace((unsigned char)e[-1]))
        e--;
    *value = v;
    *vlen = (size_t)(e - v);
    return 1;
}

/* value (n bytes) into buf as a string; too long for buf: "" (unknown). */
static void copy_value(char *buf, size_t size, const char *value, size_t n)
{
    if (n >= size)
        n = 0;
    memcpy(buf, value, n);
    buf[n] = 0;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t n = size * nitems;
    const char *v;
    size_t vn;
    x->received += n;
    if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or 100 Continue): forget the
         * headers of the previous one. */
        const char *sp = memchr(line, ' ', n);
        x->status = 0;
        if (sp && (size_t)(sp - line) + 4 <= n && isdigit((unsigned char)sp[1]) &&
            isdigit((unsigned char)sp[2]) && isdigit((unsigned char)sp[3]))
            x->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
        x->cr_kind = 0;
        x->content_length = -1;
        x->bucket_region[0] = 0;
        x->retry_after[0] = 0;
        x->etag[0] = 0;
        x->etag_too_long = 0;
        x->last_modified[0] = 0;
    } else if (header_is(line, n, "location", &v, &vn) && !x->req->is_s3) {
        /* s3:// requests never follow a redirect (set_options) */
        x->err = floe_http_redirect_check(x->t, x->curl, x->status, v, vn, x->req->url,
                                          x->req->shown, x->range);
        if (x->err)
            return 0; /* abort: x->err says why */
    } else if (header_is(line, n, "etag", &v, &vn)) {
        copy_value(x->etag, sizeof x->etag, v, vn);
        x->etag_too_long = vn >= sizeof x->etag;
    } else if (header_is(line, n, "last-modified", &v, &vn)) {
        copy_value(x->last_modified, sizeof x->last_modified, v, vn);
    } else if (header_is(line, n, "retry-after", &v, &vn)) {
        size_t k = vn < sizeof x->retry_after - 1 ? vn : sizeof x->retry_after - 1;
        memcpy(x->retry_after, v, k);
        x->retry_after[k] = 0;
    } else if (header_is(line, n, "content-range", &v, &vn)) {
        x->cr_kind = floe_http_parse_content_range(v, vn, &x->cr_start, &x->cr_end, &x->cr_total);
    } else if (header_is(line, n, "content-length", &v, &vn)) {
        char num[24];
        if (vn < sizeof num) {
            memcpy(num, v, vn);
            num[vn] = 0;
            char *end;
            long long cl = strtoll(num, &end, 10);
            x->content_length = (*num && !*end && cl >= 0) ? cl : -1;
        }
    } else if (header_is(line, n, "x-amz-bucket-region", &v, &vn)) {
        size_t k = 0;
        for (; k < vn && k + 1 < sizeof x->bucket_region; k++)
            x->bucket_region[k] = isalnum((unsigned char)v[k]) || v[k] == '-' ? v[k] : '?';
        x->bucket_region[k] = 0;
    }
    return n;
}

/* The first body bytes of a response: decide where they go and check the
 * range the server answered with. */
static floe_err start_body(xfer *x)
{
    const floe_http_request *r = x->req;
    if (x->status / 100 != 2) {
        x->body_mode = 2;
        return NULL;
    }
    x->body_mode = 1;
    x->want = r->length ? r->length : UINT64_MAX;
    if (x->status == 206) {
        if (x->cr_kind != 1)
            return FLOE_ERR(FLOE_EFORMAT, "%s%s: HTTP 206 without a valid Content-Range",
                            r->shown, x->range);
        if (x->cr_start != r->offset)
            return FLOE_ERR(FLOE_EFORMAT,
                            "%s%s: the server answered bytes=%" PRIu64 "-%" PRIu64
                            " instead of the requested range",
                            r->shown, x->range, x->cr_start, x->cr_end);
    } else if (x->ranged) {
        /* The server ignored Range and sends the whole object: keep only
         * our slice of it, and stop once we have it. */
        FLOE_DEBUG("%s%s: HTTP %ld, the server ignored Range", r->shown, x->range, x->status);
        x->skip = r->offset;
    }
    uint64_t expect = UINT64_MAX;
    if (x->content_length >= 0)
        expect = (uint64_t)x->content_length > x->skip ? (uint64_t)x->content_length - x->skip : 0;
    if (expect > x->want)
        expect = x->want;
    if (!r->length && expect != UINT64_MAX && expect > x->t->max_object_bytes)
        return FLOE_ERR(FLOE_ENOMEM,
                        "%s%s: %" PRIu64 " bytes, over the cap of %zu bytes for a "
                        "whole-object GET",
                        r->shown, x->range, expect, x->t->max_object_bytes);
    if (expect != UINT64_MAX && expect > 0 && expect <= SIZE_MAX) {
        /* One allocation up front; over out's own cap this fails now,
         * before the download. */
        floe_err err = floe_buf_reserve(x->out, (size_t)expect, NULL);
        if (err)
            return floe_err_push(err, __FILE__, __LINE__, " %s%s", r->shown, x->range);
    }
    return NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    const char *p = data;
    x->received += n;
    if (x->body_mode == 0 && (x->err = start_body(x)))
        return 0;
    if (x->body_mode == 2) {
        size_t room = sizeof x->error_body - 1 - x->error_body_len;
        size_t k = n < room ? n : room;
        memcpy(x->error_body + x->error_body_len, p, k);
        x->error_body_len += k;
        x->error_body[x->error_body_len] = 0;
        return n;
    }
    size_t left = n;
    if (x->skip) {
        size_t d = x->skip < left ? (size_t)x->skip : left;
        x->skip -= d;
        p += d;
        left -= d;
    }
    size_t take = x->want < left ? (size_t)x->want : left;
    if (take) {
        const floe_http_request *r = x->req;
        if (!r->length && x->got + take > x->t->max_object_bytes) {
            x->err = FLOE_ERR(FLOE_ENOMEM,
                              "%s%s: more than the cap of %zu bytes for a whole-object GET",
                              r->shown, x->range, x->t->max_object_bytes);
            return 0;
        }
        floe_err err = floe_buf_append(x->out, p, take);
        if (err) {
            x->err = floe_err_push(err, __FILE__, __LINE__, " %s%s", r->shown, x->range);
            return 0;
        }
        x->got += take;
        if (x->want != UINT64_MAX)
            x->want -= take;
    }
    if (left > take) {
        if (x->status == 206) {
            x->err = FLOE_ERR(FLOE_EFORMAT, "%s%s: the server sent more than the range",
                              x->req->shown, x->range);
            return 0;
        }
        x->done_early = 1; /* the rest of an object whose Range was ignored */
        return 0;
    }
    return n;
}

/* The S3 error code in an XML error body ("NoSuchKey"), or "". */
static void s3_error_code(const xfer *x, char *buf, size_t size)
{
    buf[0] = 0;
    const char *c = strstr(x->error_body, "<Code>");
    if (!c)
        return;
    c += strlen("<Code>");
    size_t k = 0;
    while (isalnum((unsigned char)c[k]) && k + 1 < size) {
        buf[k] = c[k];
        k++;
    }
    buf[k] = 0;
}

/* The conditions of the request, for messages. */
static char *condition_text(const floe_condition *cond, char *buf, size_t size)
{
    buf[0] = 0;
    if (!cond)
        return buf;
    char date[30];
    if (cond->etag && cond->unmodified_since)
        snprintf(buf, size, "If-Match %s, If-Unmodified-Since %s", cond->etag,
                 floe_http_date(cond->unmodified_since, date));
    else if (cond->etag)
        snprintf(buf, size, "If-Match %s", cond->etag);
    else if (cond->unmodified_since)
        snprintf(buf, size, "If-Unmodified-Since %s",
                 floe_http_date(cond->unmodified_since, date));
    return buf;
}

/* Turn a non-2xx answer into an error. */
static floe_err status_error(const xfer *x)
{
    const floe_http_request *r = x->req;
    long s = x->status;
    char code[64], what[80];
    s3_error_code(x, code, sizeof code);
    snprintf(what, sizeof what, "HTTP %ld%s%s", s, code[0] ? " " : "", code);
    const char *name = r->shown, *range = x->range;
    if (s == 404)
        return FLOE_ERR(FLOE_ENOTFOUND, "%s%s: no such object (%s)", name, range, what);
    if ((s == 401 || s == 403) && r->withheld_from) {
        char ep[512];
        return FLOE_ERR(FLOE_EAUTH, "%s%s: access denied (%s, anonymous request: the "
                        "credentials in the environment are not sent to %s, an S3 endpoint a "
                        "document named; to send them, name it yourself with --s3-endpoint or "
                        "--allow)", name, range, what,
                        floe_url_redact(r->withheld_from, ep, sizeof ep));
    }
    if (s == 401 || s == 403)
        return FLOE_ERR(FLOE_EAUTH, "%s%s: access denied (%s, %s request)", name, range, what,
                        r->sign ? "signed" : "anonymous");
    if (s == 412) {
        char c[160];
        return FLOE_ERR(FLOE_ECHECKSUM, "%s%s: changed since the snapshot (%s): %s", name, range,
                        condition_text(r->cond, c, sizeof c), what);
    }
    if (s == 416) {
        if (x->cr_kind == 2)
            return FLOE_ERR(FLOE_EFORMAT,
                            "%s%s: short read: the range starts beyond the end of the object "
                            "(%" PRIu64 " bytes; %s)",
                            name, range, x->cr_total, what);
        return FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: the range is beyond the end of the "
                        "object (%s)", name, range, what);
    }
    if (s == 408 || s == 429 || s >= 500)
        return FLOE_ERR(FLOE_ENET, "%s%s: server error (%s)", name, range, what);
    if (s / 100 == 3 && r->is_s3) {
        if (x->bucket_region[0])
            return FLOE_ERR(FLOE_EINVAL, "%s%s: redirected (%s): the bucket is in region %s "
                            "(set AWS_REGION or the S3 region option)", name, range, what,
                            x->bucket_region);
        return FLOE_ERR(FLOE_EINVAL, "%s%s: redirected (%s): wrong region or endpoint for "
                        "the bucket?", name, range, what);
    }
    if (s == 0)
        return FLOE_ERR(FLOE_ENET, "%s%s: no HTTP status in the answer", name, range);
    return FLOE_ERR(FLOE_EINVAL, "%s%s: request refused (%s)", name, range, what);
}

/* After a 2xx to a conditional GET: a server that ignores If-Match and
 * If-Unmodified-Since still says what it sent. An ETag or Last-Modified
 * that contradicts the condition is the 412 it should have answered (as
 * Icechunk checks them). Headers it did not send prove nothing. */
static floe_err check_unchanged(const xfer *x)
{
    const floe_http_request *r = x->req;
    if (!r->cond)
        return NULL;
    char c[160];
    if (r->cond->etag && x->etag_too_long) /* the condition's ETag is far shorter */
        return FLOE_ERR(FLOE_ECHECKSUM, "%s%s: changed since the snapshot (%s): the server "
                        "ignored the condition and answered an ETag of %zu+ bytes", r->shown,
                        x->range, condition_text(r->cond, c, sizeof c), sizeof x->etag);
    if (r->cond->etag && x->etag[0]) {
        size_t nw, ng;
        const char *want = floe_etag_bare(r->cond->etag, &nw), *got = floe_etag_bare(x->etag, &ng);
        if (nw != ng || memcmp(want, got, nw) != 0)
            return FLOE_ERR(FLOE_ECHECKSUM, "%s%s: changed since the snapshot (%s): the server "
                            "ignored the condition and answered ETag %s", r->shown, x->range,
                            condition_text(r->cond, c, sizeof c), x->etag);
    }
    if (r->cond->unmodified_since && x->last_modified[0]) {
        time_t lm = curl_getdate(x->last_modified, NULL);
        if (lm != (time_t)-1 && (int64_t)lm > r->cond->unmodified_since)
            return FLOE_ERR(FLOE_ECHECKSUM, "%s%s: changed since the snapshot (%s): the server "
                            "ignored the condition and answered Last-Modified %s", r->shown,
                            x->range, condition_text(r->cond, c, sizeof c), x->last_modified);
    }
    return NULL;
}

/* After a 2xx: did we get exactly the bytes asked for? */
static floe_err check_payload(const xfer *x)
{
    const floe_http_request *r = x->req;
    if (x->skip)
        return FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: the range starts beyond the end of "
                        "the object (%" PRIu64 " bytes; HTTP %ld)", r->shown, x->range,
                        r->offset - x->skip, x->status);
    if (r->length && x->got < r->length) {
        if (x->status == 206 && x->cr_total != UINT64_MAX)
            return FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: %" PRIu64 " of %" PRIu64
                            " bytes (the object has %" PRIu64 ")", r->shown, x->range, x->got,
                            r->length, x->cr_total);
        return FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: %" PRIu64 " of %" PRIu64 " bytes",
                        r->shown, x->range, x->got, r->length);
    }
    if (x->status == 206 && !r->length && x->got != x->cr_end - x->cr_start + 1)
        return FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: %" PRIu64 " of %" PRIu64 " bytes",
                        r->shown, x->range, x->got, x->cr_end - x->cr_start + 1);
    return NULL;
}

static floe_err add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        return FLOE_ERR(FLOE_ENOMEM, "cannot build HTTP headers");
    *list = l;
    return NULL;
}

/* The request headers: conditions, SigV4 extras, the caller's extras. */
static floe_err build_headers(const floe_transport *t, const floe_http_request *r,
                              struct curl_slist **list)
{
    char line[1024];
    if (r->cond && r->cond->etag) {
        const char *e = r->cond->etag;
        /* The ETag comes from a manifest: it must not smuggle in headers. */
        for (const char *p = e; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return FLOE_ERR(FLOE_EFORMAT, "ETag condition with a control character");
        if (strlen(e) > 512)
            return FLOE_ERR(FLOE_EFORMAT, "ETag condition longer than 512 bytes");
        int quoted = e[0] == '"' || strncmp(e, "W/\"", 3) == 0;
        snprintf(line, sizeof line, quoted ? "If-Match: %s" : "If-Match: \"%s\"", e);
        FLOE_CHECK(add_header(list, line));
    }
    if (r->cond && r->cond->unmodified_since) {
        char date[30];
        snprintf(line, sizeof line, "If-Unmodified-Since: %s",
                 floe_http_date(r->cond->unmodified_since, date));
        FLOE_CHECK(add_header(list, line));
    }
    if (r->sign) {
        /* libcurl 7.88 signs the payload hash it finds in this header;
         * S3 wants the header and accepts UNSIGNED-PAYLOAD for a GET. */
        FLOE_CHECK(add_header(list, "x-amz-content-sha256: UNSIGNED-PAYLOAD"));
        if (r->sign->session_token) {
            if (strpbrk(r->sign->session_token, "\r\n"))
                return FLOE_ERR(FLOE_EINVAL, "AWS_SESSION_TOKEN holds a line break");
            floe_buf b;
            floe_buf_init(&b, 16384);
            floe_err err = floe_buf_append(&b, "x-amz-security-token: ", 22);
            if (!err)
                err = floe_buf_append(&b, r->sign->session_token, strlen(r->sign->session_token));
            if (!err)
                err = add_header(list, (const char *)b.data);
            /* The copy in b holds the token: wipe it before freeing. */
            if (b.data)
                memset(b.data, 0, b.cap);
            floe_buf_free(&b);
            if (err)
                return FLOE_ERR(FLOE_EINVAL, "session token too long or out of memory");
        }
    }
    for (char **h = t->extra_headers; h && *h; h++)
        FLOE_CHECK(add_header(list, *h));
    return NULL;
}

/* Set every option of one request on the (reset) handle. */
static void set_options(xfer *x, int head, char *range_header)
{
    const floe_transport *t = x->t;
    const floe_http_request *r = x->req;
    CURL *c = x->curl;
    curl_easy_reset(c); /* options only: live connections and the DNS cache stay */
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* The URL is sent as it was checked: libcurl must not resolve "." and
     * ".." segments into a path no check saw (virtual chunk locations are
     * canonical and have none). */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    /* A stall (no byte for this long) fails the request; a slow but moving
     * transfer of a big object does not. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (t->stall_timeout_ms + 999) / 1000);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 30L);
    char ua[64];
    snprintf(ua, sizeof ua, "floe/%s", floe_version());
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    if (!r->is_s3) {
        /* Data portals redirect to mirrors or pre-signed URLs; S3 redirects
         * mean a wrong region, which is better reported than followed with
         * a signature for the wrong host. */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FLOE_MAX_REDIRECTS);
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (head)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (range_header[0])
        curl_easy_setopt(c, CURLOPT_RANGE, range_header);
    if (x->headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
    if (r->sign) {
        char provider[128];
        snprintf(provider, sizeof provider, "aws:amz:%s:s3", r->sign->region);
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, provider);
        curl_easy_setopt(c, CURLOPT_USERNAME, r->sign->access_key);
        curl_easy_setopt(c, CURLOPT_PASSWORD, r->sign->secret_key);
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
}

static floe_err xfer_begin(const floe_transport *t, const floe_http_request *r, floe_buf *out,
                           int head, CURL *c, xfer **xp)
{
    *xp = NULL;
    xfer *x = calloc(1, sizeof *x);
    if (!x)
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate an HTTP transfer");
    x->t = t;
    x->req = r;
    x->out = out;
    x->curl = c;
    floe_range_text(r->offset, r->length, x->range);
    x->content_length = -1;
    char range_header[64] = "";
    if (!head && (r->offset || r->length)) {
        x->ranged = 1;
        if (r->length)
            snprintf(range_header, sizeof range_header, "%" PRIu64 "-%" PRIu64, r->offset,
                     r->offset + r->length - 1);
        else
            snprintf(range_header, sizeof range_header, "%" PRIu64 "-", r->offset);
    }
    floe_err err = build_headers(t, r, &x->headers);
    if (err) {
        err = floe_err_push(err, __FILE__, __LINE__, " %s%s", r->shown, x->range);
        curl_slist_free_all(x->headers);
        free(x);
        return err;
    }
    set_options(x, head, range_header);
    *xp = x;
    return NULL;
}

floe_err floe_http_xfer_begin(const floe_transport *t, const floe_http_request *req,
                              floe_buf *out, CURL *curl, floe_http_xfer **xp)
{
    return xfer_begin(t, req, out, 0, curl, xp);
}

uint64_t floe_http_xfer_received(const floe_http_xfer *x)
{
    return x->received;
}

void floe_http_xfer_free(floe_http_xfer **xp)
{
    xfer *x = *xp;
    if (!x)
        return;
    /* The handle keeps the password option; clear it so the secret lives
     * in one place only (the transport). The header list and the error
     * buffer die with x, so the handle must stop pointing at them. */
    curl_easy_setopt(x->curl, CURLOPT_PASSWORD, "");
    curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(x->headers);
    floe_err_free(&x->err);
    free(x);
    *xp = NULL;
}

/* The transfer itself failed (connection, timeout, a callback's error):
 * that error, or NULL when an answer came in. Hands over x->err. */
static floe_err transfer_error(xfer *x, CURLcode rc)
{
    const floe_http_request *r = x->req;
    if (x->err) {
        floe_err err = x->err;
        x->err = NULL;
        return err;
    }
    if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && x->done_early))
        return NULL;
    char msg[CURL_ERROR_SIZE + 64];
    snprintf(msg, sizeof msg, "%s", x->curl_error[0] ? x->curl_error : curl_easy_strerror(rc));
    scrub(x->t, msg);
    char via[600] = "";
    if (r->is_s3) {
        char shown_url[512];
        snprintf(via, sizeof via, " (via %s)", floe_url_redact(r->url, shown_url,
                                                               sizeof shown_url));
    }
    floe_code code = FLOE_ENET;
    if (rc == CURLE_URL_MALFORMAT)
        code = FLOE_EINVAL;
    else if (rc == CURLE_TOO_MANY_REDIRECTS)
        return FLOE_ERR(FLOE_EINVAL, "%s%s: more than %d redirects", r->shown, x->range,
                        FLOE_MAX_REDIRECTS);
    else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
        code = FLOE_EUNSUPPORTED;
    return FLOE_ERR(code, "%s%s: %s%s", r->shown, x->range, msg, via);
}

/* How the attempt ended, for the retry policy. A body is truncated when
 * it ended (without an error libcurl saw) short of what the answer's own
 * Content-Range promised: a connection closed early on a response without
 * Content-Length. (With Content-Length, libcurl reports
 * CURLE_PARTIAL_FILE itself.) An object shorter than the range asked for
 * promises fewer bytes and is not truncated. */
static void outcome(const xfer *x, CURLcode rc, floe_http_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->status = x->status;
    o->curl_code = rc;
    o->bytes = x->got;
    s3_error_code(x, o->s3_code, sizeof o->s3_code);
    memcpy(o->retry_after, x->retry_after, sizeof o->retry_after);
    o->object_size = x->cr_kind ? x->cr_total : UINT64_MAX;
    o->truncated = rc == CURLE_PARTIAL_FILE ||
                   (rc == CURLE_OK && x->status == 206 && x->cr_kind == 1 &&
                    x->cr_end >= x->cr_start && x->got < x->cr_end - x->cr_start + 1);
}

floe_err floe_http_xfer_end(floe_http_xfer *x, CURLcode rc, floe_http_outcome *o)
{
    const floe_http_request *req = x->req;
    floe_err err = transfer_error(x, rc);
    if (o)
        outcome(x, rc, o);
    if (err)
        return err;
    if (x->status / 100 != 2) {
        /* An empty object read from its end: S3 says 416, we say "". */
        if (!(x->status == 416 && !req->length && x->cr_kind == 2 && x->cr_total == req->offset))
            return status_error(x);
        return NULL;
    }
    if (x->body_mode == 0) /* a 2xx without a body: check its headers all the same */
        FLOE_CHECK(start_body(x));
    FLOE_CHECK(check_unchanged(x));
    return check_payload(x);
}

static floe_err ensure_handle(floe_transport *t)
{
    if (!t->curl && !(t->curl = curl_easy_init()))
        return FLOE_ERR(FLOE_ENOMEM, "cannot create a libcurl handle");
    return NULL;
}

/* Run one request on the transport's own handle, counting it; *xp is the
 * ended transfer to inspect (the caller frees it) unless begin failed; o
 * says how it ended (zeroed when no request went out). */
static floe_err perform(floe_transport *t, const floe_http_request *r, floe_buf *out, int head,
                        xfer **xp, floe_http_outcome *o)
{
    memset(o, 0, sizeof *o);
    FLOE_CHECK(ensure_handle(t));
    FLOE_CHECK(xfer_begin(t, r, out, head, t->curl, xp));
    xfer *x = *xp;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(t->curl);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long connects = 0;
    curl_easy_getinfo(t->curl, CURLINFO_NUM_CONNECTS, &connects);
    t->stats.requests++;
    t->stats.new_connections += connects > 0 ? (uint64_t)connects : 0;
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (x->status)
        FLOE_DEBUG("%s %s%s: HTTP %ld, %" PRIu64 " bytes, %.1f ms%s", head ? "HEAD" : "GET",
                   r->shown, x->range, x->status, x->got, ms, connects ? ", new connection" : "");
    else
        FLOE_DEBUG("%s %s%s: no answer (%s), %.1f ms", head ? "HEAD" : "GET", r->shown, x->range,
                   curl_easy_strerror(rc), ms);
    if (!head)
        return floe_http_xfer_end(x, rc, o);
    outcome(x, rc, o);
    return transfer_error(x, rc);
}

floe_err floe_http_get(floe_transport *t, const floe_http_request *req, floe_buf *out,
                       floe_http_outcome *o)
{
    size_t start = out->len;
    xfer *x = NULL;
    floe_err err = perform(t, req, out, 0, &x, o);
    uint64_t got = x ? x->got : 0;
    floe_http_xfer_free(&x);
    if (err) {
        out->len = start; /* the caller's buffer is left as it was */
        if (out->data)
            out->data[start] = 0;
        return err;
    }
    t->stats.bytes += got;
    return NULL;
}

floe_err floe_http_exists(floe_transport *t, const floe_http_request *req, int *exists,
                          floe_http_outcome *o)
{
    floe_buf none;
    floe_buf_init(&none, 0);
    xfer *x = NULL;
    floe_err err = perform(t, req, &none, 1, &x, o);
    if (!err) {
        if (x->status / 100 == 2)
            *exists = 1;
        else if (x->status == 404 || x->status == 410)
            *exists = 0;
        else
            err = status_error(x);
    }
    floe_http_xfer_free(&x);
    return err;
}
