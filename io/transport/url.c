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
