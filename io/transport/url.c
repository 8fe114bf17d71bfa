/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/url.c - URL kinds, percent-encoding, redaction, HTTP dates and
 * Content-Range parsing: see url.h. No I/O here. */
#include "io/transport/url.h"

#include "common/floe_redact.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Length of the "scheme" in "scheme://", or 0 when url has none. */
static size_t scheme_len(const char *url)
{
    if (!isalpha((unsigned char)url[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    return strncmp(url + i, "://", 3) == 0 ? i : 0;
}

static int has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return scheme_len(url) == n && strncasecmp(url, scheme, n) == 0;
}

floe_err floe_url_kind_of(const char *url, floe_url_kind *kind)
{
    if (!url || !*url)
        return FLOE_ERR(FLOE_EINVAL, "empty URL");
    if (!scheme_len(url))
        *kind = FLOE_URL_FILE;
    else if (has_scheme(url, "file"))
        *kind = FLOE_URL_FILE;
    else if (has_scheme(url, "http") || has_scheme(url, "https"))
        *kind = FLOE_URL_HTTP;
    else if (has_scheme(url, "s3"))
        *kind = FLOE_URL_S3;
    else {
        char shown[512];
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "%s: unsupported URL scheme (floe reads file://, local paths, "
                        "http://, https:// and s3://)",
                        floe_url_redact(url, shown, sizeof shown));
    }
    return NULL;
}

floe_err floe_url_file_path(const char *url, const char **path)
{
    if (!has_scheme(url, "file")) {
        *path = url;
        return NULL;
    }
    const char *p = url + strlen("file://");
    if (strncasecmp(p, "localhost/", 10) == 0)
        p += strlen("localhost");
    if (*p != '/')
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "%s: file URL with a host (only file:///absolute/path is read)", url);
    *path = p;
    return NULL;
}

static int is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static floe_err append_escape(floe_buf *out, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char e[3] = {'%', hex[c >> 4], hex[c & 15]};
    return floe_buf_append(out, e, 3);
}

static int hex_value(unsigned char c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Check one path segment [s, e) and append it to out: refuse what a
 * server or libcurl would resolve to another path. http: percent escapes
 * are normalised (RFC 3986 6.2.2); elsewhere the bytes are literal and
 * copied, but a segment that decodes to "." or ".." is refused all the
 * same, in case anything on the way decodes it. */
static floe_err canonical_segment(const char *s, const char *e, int http, floe_buf *out)
{
    /* The segment's bytes, decoded, up to its first ';' on http(s): servlet
     * containers (Tomcat: THREDDS, Hyrax) drop ";params" from a segment
     * before they resolve dot segments, so "..;x" is ".." there. */
    char decoded[8];
    size_t nd = 0;
    int slash = 0, params = 0;
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        int hi, lo;
        if (c == '%' && e - p >= 3 && (hi = hex_value((unsigned char)p[1])) >= 0 &&
            (lo = hex_value((unsigned char)p[2])) >= 0) {
            c = (unsigned char)(hi * 16 + lo);
            if (http) {
                if (is_unreserved(c))
                    FLOE_CHECK(floe_buf_append(out, &c, 1));
                else
                    FLOE_CHECK(append_escape(out, c));
            } else {
                FLOE_CHECK(floe_buf_append(out, p, 3));
            }
            p += 2;
        } else if (c == '%' && http) {
            return FLOE_ERR(FLOE_EINVAL, "a '%%' that is not a percent escape");
        } else {
            FLOE_CHECK(floe_buf_append(out, p, 1));
        }
        slash |= c == '/' || c == '\\';
        if (http && c == 0)
            return FLOE_ERR(FLOE_EINVAL, "an encoded NUL in a path segment");
        params |= http && c == ';';
        if (!params && nd < sizeof decoded)
            decoded[nd++] = (char)c;
    }
    if ((nd == 1 && decoded[0] == '.') || (nd == 2 && decoded[0] == '.' && decoded[1] == '.'))
        return FLOE_ERR(FLOE_EINVAL, "a '%s' segment (dot segments are refused, encoded or not)",
                        nd == 1 ? "." : "..");
    if (http && slash)
        return FLOE_ERR(FLOE_EINVAL, "an encoded '/' or '\\' in a path segment");
    return NULL;
}

/* The path of a canonical URL: segments from path up to end. */
static floe_err canonical_path(const char *path, const char *end, int http, floe_buf *out)
{
    for (const char *p = path; p < end;) {
        /* p is at a '/' */
        FLOE_CHECK(floe_buf_append(out, "/", 1));
        const char *s = p + 1, *e = memchr(s, '/', (size_t)(end - s));
        if (!e)
            e = end;
        if (http && s == e && e < end)
            return FLOE_ERR(FLOE_EINVAL, "an empty path segment ('//')");
        FLOE_CHECK(canonical_segment(s, e, http, out));
        p = e;
    }
    return NULL;
}

floe_err floe_url_canonical(const char *url, int prefix, floe_buf *out)
{
    if (!url || !*url)
        return FLOE_ERR(FLOE_EINVAL, "an empty URL");
    size_t sl = scheme_len(url);
    if (!sl) {
        if (url[0] != '/')
            return FLOE_ERR(FLOE_EINVAL, "a relative path");
        FLOE_CHECK(floe_buf_append(out, "file://", 7));
        return canonical_path(url, url + strlen(url), 0, out);
    }
    int s3 = has_scheme(url, "s3"), file = has_scheme(url, "file"),
        https = has_scheme(url, "https"), http = https || has_scheme(url, "http");
    if (!s3 && !file && !http)
        return FLOE_ERR(FLOE_EINVAL, "an unsupported scheme (floe reads s3://, http(s):// and "
                        "file://)");
    const char *auth = url + sl + 3;
    size_t alen = strcspn(auth, http ? "/?#" : "/");
    const char *path = auth + alen, *end = path + strlen(path);
    if (memchr(auth, '@', alen))
        return FLOE_ERR(FLOE_EINVAL, "a user name or password in the URL");
    if (http) {
        const char *hash = strchr(url, '#');
        if (hash)
            return FLOE_ERR(FLOE_EINVAL, "a fragment ('#')");
        const char *q = strchr(path, '?');
        end = q ? q : end;
    }
    for (size_t i = 0; i < sl; i++) {
        char c = (char)tolower((unsigned char)url[i]);
        FLOE_CHECK(floe_buf_append(out, &c, 1));
    }
    FLOE_CHECK(floe_buf_append(out, "://", 3));
    if (file) {
        if (alen && !(alen == 9 && strncasecmp(auth, "localhost", 9) == 0))
            return FLOE_ERR(FLOE_EINVAL, "a file URL with a host");
        if (!*path && !prefix)
            return FLOE_ERR(FLOE_EINVAL, "a file URL without a path");
    } else if (!alen) {
        if (!prefix || *path)
            return FLOE_ERR(FLOE_EINVAL, s3 ? "no bucket" : "no host");
    } else if (s3) {
        FLOE_CHECK(floe_buf_append(out, auth, alen));
        if (!prefix && (!*path || !path[1]))
            return FLOE_ERR(FLOE_EINVAL, "no key");
    } else {
        /* host[:port], the host in lower case, the default port dropped */
        const char *host_end = auth[0] == '[' ? memchr(auth, ']', alen) : auth; /* IPv6 */
        const char *colon =
            host_end ? memchr(host_end, ':', alen - (size_t)(host_end - auth)) : NULL;
        size_t hlen = colon ? (size_t)(colon - auth) : alen;
        if (!hlen)
            return FLOE_ERR(FLOE_EINVAL, "no host");
        for (size_t i = 0; i < hlen; i++) {
            char c = (char)tolower((unsigned char)auth[i]);
            FLOE_CHECK(floe_buf_append(out, &c, 1));
        }
        if (colon) {
            const char *port = colon + 1;
            size_t plen = alen - hlen - 1;
            for (size_t i = 0; i < plen; i++)
                if (!isdigit((unsigned char)port[i]))
                    return FLOE_ERR(FLOE_EINVAL, "a port that is not a number");
            int dflt = (plen == 2 && !https && strncmp(port, "80", 2) == 0) ||
                       (plen == 3 && https && strncmp(port, "443", 3) == 0);
            if (plen && !dflt)
                FLOE_CHECK(floe_buf_append(out, colon, plen + 1));
        }
    }
    FLOE_CHECK(canonical_path(path, end, http, out));
    if (http && end < path + strlen(path))
        FLOE_CHECK(floe_buf_append(out, end, strlen(end)));
    return NULL;
}

/* The origin of url ("scheme://host[:port]" of its canonical form) into
 * buf; 0 when url is not canonical or too long. */
static int origin_of(const char *url, char *buf, size_t size)
{
    floe_buf b;
    floe_buf_init(&b, size - 1);
    floe_err err = floe_url_canonical(url, 1, &b);
    int ok = !err && b.len;
    if (ok) {
        const char *auth = (const char *)b.data + scheme_len((const char *)b.data) + 3;
        size_t n = (size_t)(auth - (const char *)b.data) + strcspn(auth, "/?");
        memcpy(buf, b.data, n);
        buf[n] = 0;
    }
    floe_err_free(&err);
    floe_buf_free(&b);
    return ok;
}

int floe_url_same_origin(const char *a, const char *b)
{
    char oa[1024], ob[1024];
    return origin_of(a, oa, sizeof oa) && origin_of(b, ob, sizeof ob) && strcmp(oa, ob) == 0;
}

floe_err floe_url_encode_path(const char *path, floe_buf *out)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (is_unreserved(*p) || *p == '/')
            FLOE_CHECK(floe_buf_append(out, p, 1));
        else
            FLOE_CHECK(append_escape(out, *p));
    }
    return NULL;
}

floe_err floe_url_http_normalize(const char *url, floe_buf *out)
{
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("<>\"{}|\\^`", *p))
            FLOE_CHECK(append_escape(out, *p));
        else
            FLOE_CHECK(floe_buf_append(out, p, 1));
    }
    return NULL;
}

char *floe_url_redact(const char *url, char *buf, size_t size)
{
    floe_redact(url, buf, size);
    return buf;
}

const char *floe_etag_bare(const char *etag, size_t *n)
{
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    *n = strlen(etag);
    if (*n >= 2 && etag[0] == '"' && etag[*n - 1] == '"') {
        etag++;
        *n -= 2;
    }
    return etag;
}

char *floe_http_date(int64_t epoch_seconds, char buf[30])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)epoch_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        snprintf(buf, 30, "(bad date %" PRId64 ")", epoch_seconds);
        return buf;
    }
    /* Every field reduced to its range (no-ops for what gmtime_r returns),
     * so the compiler can see the text fits 30 bytes at any optimisation. */
    snprintf(buf, 30, "%s, %02u %s %04u %02u:%02u:%02u GMT", days[(unsigned)tm.tm_wday % 7u],
             (unsigned)tm.tm_mday % 32u, months[(unsigned)tm.tm_mon % 12u],
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_hour % 24u,
             (unsigned)tm.tm_min % 60u, (unsigned)tm.tm_sec % 61u);
    return buf;
}

/* Parse decimal digits at *p (within end) into *v; 0 when there are none
 * or the number overflows. */
static int parse_u64(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    while (s < end && isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            return 0;
        x = x * 10 + d;
        s++;
    }
    if (s == *p)
        return 0;
    *p = s;
    *v = x;
    return 1;
}

int floe_http_parse_content_range(const char *value, size_t n, uint64_t *start, uint64_t *end,
                                  uint64_t *total)
{
    const char *p = value, *e = value + n;
    while (e > p && isspace((unsigned char)e[-1]))
        e--;
    while (p < e && isspace((unsigned char)*p))
        p++;
    if (e - p < 6 || strncasecmp(p, "bytes", 5) != 0 || (p[5] != ' ' && p[5] != '='))
        return 0;
    p += 6;
    while (p < e && *p == ' ')
        p++;
    if (p < e && *p == '*') {
        p++;
        if (p >= e || *p++ != '/' || !parse_u64(&p, e, total) || p != e)
            return 0;
        return 2;
    }
    if (!parse_u64(&p, e, start) || p >= e || *p++ != '-' || !parse_u64(&p, e, end) ||
        p >= e || *p++ != '/' || *end < *start)
        return 0;
    if (p < e && *p == '*') {
        *total = UINT64_MAX;
        p++;
    } else if (!parse_u64(&p, e, total) || *end >= *total) {
        return 0;
    }
    return p == e ? 1 : 0;
}
