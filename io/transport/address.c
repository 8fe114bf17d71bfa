/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/address.c - what kind of address the host of an http(s) URL names
 * (floe_url_host_kind, url.h): loopback, link-local, private, unspecified
 * or public, decided on the host as written, in every spelling libcurl
 * would connect to: IPv4 in dotted, shortened, decimal, octal and hex
 * forms ("127.1", "2130706433", "0x7f.1", "0177.0.0.1"), percent-encoded
 * host names, a trailing dot, bracketed IPv6 with a zone, and IPv4 inside
 * IPv6 (mapped, compatible, NAT64). Names are not resolved: "localhost"
 * and "*.localhost" (which libcurl itself maps to loopback), the other
 * loopback names of a standard /etc/hosts ("ip6-localhost",
 * "localhost.localdomain", ...) and this machine's own name (gethostname)
 * are loopback, any other name is public. Multicast, broadcast and
 * reserved addresses are never a data server's: not public either. A host floe cannot read as a name or an
 * address (other bytes, bad escapes, a number that is not an IPv4
 * address) is "unclear", which callers treat like a private one. */
#include "io/transport/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A host name or address is at most this long (RFC 1035: 253, plus room
 * for escapes and brackets); a longer one is "unclear". */
enum { HOST_MAX = 512 };

static int hex_digit(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

static floe_host_kind ipv4_kind(uint32_t a)
{
    unsigned b0 = a >> 24, b1 = (a >> 16) & 0xff;
    if (b0 == 0)
        return FLOE_HOST_UNSPECIFIED; /* 0.0.0.0/8: Linux connects 0.0.0.0 to itself */
    if (b0 == 127)
        return FLOE_HOST_LOOPBACK;
    if (b0 == 169 && b1 == 254)
        return FLOE_HOST_LINK_LOCAL; /* 169.254.169.254: cloud metadata services */
    if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168))
        return FLOE_HOST_PRIVATE;
    if (b0 == 100 && (b1 & 0xc0) == 64)
        return FLOE_HOST_PRIVATE; /* 100.64.0.0/10, shared address space (RFC 6598): also
                                     Alibaba Cloud's metadata service, 100.100.100.200 */
    if (b0 >= 224)
        return FLOE_HOST_MULTICAST; /* 224/4 multicast; 240/4 reserved, 255.255.255.255 */
    return FLOE_HOST_PUBLIC;
}

/* One part of an IPv4 literal as libcurl and browsers read it: "0x.."
 * hex, "0.." octal, else decimal. 0 when it is not a number. */
static int ipv4_part(const char *s, size_t n, uint64_t *v)
{
    int base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        s++;
        n--;
    }
    if (n == 0 && base == 10)
        return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit((unsigned char)s[i]);
        if (d < 0 || d >= base)
            return 0;
        *v = *v * (uint64_t)base + (uint64_t)d;
        if (*v > UINT32_MAX)
            return 0;
    }
    return 1;
}

/* host (lower case, no trailing dot) as an IPv4 literal of 1 to 4 parts,
 * the last filling the remaining bytes ("127.1" is 127.0.0.1). */
static int parse_ipv4(const char *host, uint32_t *addr)
{
    uint64_t part[4];
    size_t n = 0;
    for (const char *p = host;;) {
        size_t len = strcspn(p, ".");
        if (n == 4 || !ipv4_part(p, len, &part[n]))
            return 0;
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    uint64_t a = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (part[i] > 255)
            return 0;
        a |= part[i] << (8 * (3 - i));
    }
    if (part[n - 1] >= ((uint64_t)1 << (8 * (5 - n))))
        return 0;
    *addr = (uint32_t)(a | part[n - 1]);
    return 1;
}

static floe_host_kind ipv6_kind(const char *text)
{
    unsigned char a[16];
    if (inet_pton(AF_INET6, text, a) != 1)
        return FLOE_HOST_UNCLEAR;
    static const unsigned char zero[16];
    if (!memcmp(a, zero, 16))
        return FLOE_HOST_UNSPECIFIED;
    if (!memcmp(a, zero, 15) && a[15] == 1)
        return FLOE_HOST_LOOPBACK;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return FLOE_HOST_LINK_LOCAL;
    if (a[0] == 0xff)
        return FLOE_HOST_MULTICAST;
    if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
        return FLOE_HOST_PRIVATE; /* unique local fc00::/7, old site-local fec0::/10 */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (!memcmp(a, mapped, 12) || !memcmp(a, zero, 12) || !memcmp(a, nat64, 12)) {
        uint32_t v4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
        return ipv4_kind(v4);
    }
    return FLOE_HOST_PUBLIC;
}

/* Names a standard /etc/hosts maps to loopback (Debian, RHEL), besides
 * "localhost" and "*.localhost". */
static const char *const LOOPBACK_NAMES[] = {"ip6-localhost", "ip6-loopback",
                                             "localhost.localdomain", "localhost6",
                                             "localhost6.localdomain6"};

/* Is host (lower case, no trailing dot) this machine's own name, or that
 * name's first label? Debian maps the host name to 127.0.1.1, and any
 * resolver answers it with an address of this machine. */
static int is_own_name(const char *host)
{
    char own[HOST_MAX];
    if (gethostname(own, sizeof own - 1) != 0)
        return 0;
    own[sizeof own - 1] = 0;
    size_t n = strlen(own);
    if (n && own[n - 1] == '.')
        own[--n] = 0;
    if (!n)
        return 0;
    if (strcasecmp(host, own) == 0)
        return 1;
    size_t label = strcspn(own, ".");
    return label < n && strlen(host) == label && strncasecmp(host, own, label) == 0;
}

static int is_loopback_name(const char *host, size_t n)
{
    if (!strcmp(host, "localhost") || (n > 10 && !strcmp(host + n - 10, ".localhost")))
        return 1;
    for (size_t i = 0; i < sizeof LOOPBACK_NAMES / sizeof *LOOPBACK_NAMES; i++)
        if (!strcmp(host, LOOPBACK_NAMES[i]))
            return 1;
    return is_own_name(host);
}

floe_host_kind floe_url_host_kind(const char *url)
{
    if (!url)
        return FLOE_HOST_UNCLEAR;
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!skip)
        return FLOE_HOST_PUBLIC; /* s3://bucket, file://: no network host here */
    const char *auth = url + skip;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (at) {
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    char host[HOST_MAX];
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        size_t n = close ? (size_t)(close - auth - 1) : 0;
        if (!close || n == 0 || n >= sizeof host)
            return FLOE_HOST_UNCLEAR;
        memcpy(host, auth + 1, n);
        host[n] = 0;
        host[strcspn(host, "%")] = 0; /* the zone ("%25eth0") does not change the kind */
        return ipv6_kind(host);
    }
    const char *colon = memchr(auth, ':', alen);
    size_t hlen = colon ? (size_t)(colon - auth) : alen, n = 0;
    for (size_t i = 0; i < hlen; i++) {
        int c = (unsigned char)auth[i];
        if (c == '%') { /* libcurl decodes a percent-encoded host name */
            int hi = i + 2 < hlen ? hex_digit((unsigned char)auth[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit((unsigned char)auth[i + 2]) : -1;
            if (lo < 0)
                return FLOE_HOST_UNCLEAR;
            c = hi * 16 + lo;
            i += 2;
        }
        if (!isalnum(c) && c != '.' && c != '-' && c != '_')
            return FLOE_HOST_UNCLEAR; /* IDN, controls, ...: not a name floe can judge */
        if (n + 1 >= sizeof host)
            return FLOE_HOST_UNCLEAR;
        host[n++] = (char)tolower(c);
    }
    if (n && host[n - 1] == '.')
        n--;
    host[n] = 0;
    if (!n)
        return FLOE_HOST_UNCLEAR;
    if (is_loopback_name(host, n))
        return FLOE_HOST_LOOPBACK;
    uint32_t v4;
    if (parse_ipv4(host, &v4))
        return ipv4_kind(v4);
    /* A name whose last label is a number is no name (WHATWG URL): a
     * malformed address, e.g. "1.2.3.4.5" or "0x1g.1". */
    const char *last = strrchr(host, '.');
    last = last ? last + 1 : host;
    uint64_t ignored;
    if (isdigit((unsigned char)last[0]) &&
        (ipv4_part(last, strlen(last), &ignored) || strspn(last, "0123456789") == strlen(last)))
        return FLOE_HOST_UNCLEAR;
    return FLOE_HOST_PUBLIC;
}

const char *floe_host_kind_name(floe_host_kind k)
{
    switch (k) {
    case FLOE_HOST_PUBLIC:
        return "a public host";
    case FLOE_HOST_LOOPBACK:
        return "a loopback address";
    case FLOE_HOST_LINK_LOCAL:
        return "a link-local address";
    case FLOE_HOST_PRIVATE:
        return "a private address";
    case FLOE_HOST_UNSPECIFIED:
        return "an unspecified address";
    case FLOE_HOST_MULTICAST:
        return "a multicast or broadcast address";
    case FLOE_HOST_UNCLEAR:
        return "a host that is not a plain name or address";
    }
    return "an unknown kind of host";
}
