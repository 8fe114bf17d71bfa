/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/url.h - the pure parts of the transport (no I/O), used by
 * io/transport/ and exposed for unit tests: telling URL kinds apart and
 * redacting URLs for messages (both used by io/fetch/ too), percent-encoding,
 * mapping s3:// URLs to HTTP URLs, canonical URLs (for access checks),
 * what kind of address a URL's host is, HTTP dates and Content-Range.
 * Implemented in url.c, except the host kinds (address.c) and the S3
 * functions (s3.c).
 */
#ifndef FLOE_TRANSPORT_URL_H
#define FLOE_TRANSPORT_URL_H

#include "common/floe_buf.h"
#include "common/floe_error.h"
#include "io/transport/transport.h"

#include <stddef.h>
#include <stdint.h>

typedef enum floe_url_kind {
    FLOE_URL_FILE, /* file:///abs/path or a plain local path */
    FLOE_URL_HTTP, /* http:// or https:// */
    FLOE_URL_S3,   /* s3://bucket/key */
} floe_url_kind;

/* Which transport serves url. "scheme://..." with another scheme is
 * FLOE_EUNSUPPORTED naming the URL; NULL or "" is FLOE_EINVAL. Schemes are
 * case-insensitive; anything without "scheme://" is a local path. */
floe_err floe_url_kind_of(const char *url, floe_url_kind *kind);

/* The local path a FLOE_URL_FILE url names (borrowed from url): the url
 * itself, or what follows "file://" ("file:///a" and "file://localhost/a"
 * are "/a"). Another host is FLOE_EUNSUPPORTED. */
floe_err floe_url_file_path(const char *url, const char **path);

/* Append the canonical form of url (or, with prefix set, of a URL prefix
 * such as a container "s3://bucket/data/" or "s3://") to out: the one
 * spelling that access checks compare and that is then fetched as is.
 * Scheme (s3, http, https, file) and http(s) host in lower case, no
 * default port, percent escapes of unreserved bytes decoded and the others
 * in upper case (http(s) only: S3 keys and file paths are literal), a
 * local path as file:///path. Refused (FLOE_EINVAL, the message is the
 * reason only, for the caller to put after the URL): a "." or ".."
 * segment, percent-encoded or not; in http(s) paths an encoded '/' or
 * '\' and an empty segment ("//"), which servers resolve or merge; a
 * fragment ('#', http(s)); a user name or password; an s3:// URL without a
 * bucket or key, an http(s) URL without a host, a file URL with a host, a
 * relative path, another scheme. */
floe_err floe_url_canonical(const char *url, int prefix, floe_buf *out);

/* 1 when the canonical forms of a and b have the same scheme, host (or
 * bucket) and port; 0 otherwise or when either is not canonical. */
int floe_url_same_origin(const char *a, const char *b);

/* What the host of an http(s) URL names (address.c), decided on the host
 * as written, in every spelling libcurl connects to (IPv4 shortened,
 * decimal, octal or hex; percent-encoded; a trailing dot; bracketed IPv6
 * with a zone; IPv4 inside IPv6). Names are NOT resolved: only
 * "localhost", "*.localhost", the loopback names of a standard /etc/hosts
 * ("ip6-localhost", "ip6-loopback", "localhost.localdomain", "localhost6",
 * "localhost6.localdomain6") and this machine's own name (gethostname, or
 * its first label) count as loopback, any other name is public, so a DNS
 * name that resolves to 127.0.0.1 is not caught here.
 * Any other scheme (s3://, file://) is FLOE_HOST_PUBLIC: no host there. */
typedef enum floe_host_kind {
    FLOE_HOST_PUBLIC = 0,  /* a name, or a public address */
    FLOE_HOST_LOOPBACK,    /* 127.0.0.0/8, ::1, localhost, *.localhost, ip6-localhost, ...,
                              this machine's name */
    FLOE_HOST_LINK_LOCAL,  /* 169.254.0.0/16, fe80::/10 */
    FLOE_HOST_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10 */
    FLOE_HOST_UNSPECIFIED, /* 0.0.0.0/8, :: */
    FLOE_HOST_MULTICAST,   /* 224.0.0.0/4 multicast, 240.0.0.0/4 reserved and broadcast
                              (255.255.255.255), ff00::/8 */
    FLOE_HOST_UNCLEAR,     /* neither a plain name nor an address (other bytes, bad
                              escapes, a malformed number): treat it as private */
} floe_host_kind;
floe_host_kind floe_url_host_kind(const char *url);
/* "a loopback address", ... for messages. */
const char *floe_host_kind_name(floe_host_kind kind);

/* Append path percent-encoded as S3 (and SigV4) want it: every byte but
 * A-Z a-z 0-9 - . _ ~ and the segment separator '/' becomes %XX. */
floe_err floe_url_encode_path(const char *path, floe_buf *out);

/* Append an http(s) URL with only the bytes that may never appear in a URL
 * encoded (controls, space, non-ASCII, "<>\"{}|\\^`"): an already encoded
 * URL is unchanged. */
floe_err floe_url_http_normalize(const char *url, floe_buf *out);

/* The URL as it may appear in messages: floe_redact (common/floe_redact.h:
 * without "user:password@", secret query parameters' values "REDACTED").
 * Always NUL-terminates buf (truncating). Returns buf. */
char *floe_url_redact(const char *url, char *buf, size_t size);

/* "Tue, 02 Jan 2024 03:04:05 GMT" (IMF-fixdate, RFC 9110), independent of
 * the locale. buf needs 30 bytes. Returns buf. */
char *floe_http_date(int64_t epoch_seconds, char buf[30]);

/* An ETag as compared: without a weak "W/" prefix and its quotes; *n its
 * length (borrowed from etag). */
const char *floe_etag_bare(const char *etag, size_t *n);

/* Parse a Content-Range value: "bytes A-B/N" or "bytes A-B/ *" (returns 1,
 * *total = UINT64_MAX when unknown) or "bytes * /N" (returns 2, unsatisfied
 * range). Returns 0 when malformed. n is the value's length (it need not be
 * NUL-terminated). */
int floe_http_parse_content_range(const char *value, size_t n, uint64_t *start, uint64_t *end,
                                  uint64_t *total);

/* --- S3 (s3.c) ------------------------------------------------------------ */

/* Split "s3://bucket/key": bucket (not NUL-terminated, *bucket_len bytes)
 * and key (the rest, borrowed). An empty bucket or key is FLOE_EINVAL. */
floe_err floe_s3_split(const char *url, const char **bucket, size_t *bucket_len,
                       const char **key);

/* Fill in what cfg leaves open from the environment and the defaults (see
 * floe_s3_config in transport.h). Strings are borrowed from in or from the
 * environment; endpoint stays NULL for AWS itself. An endpoint override
 * sets path_style. */
void floe_s3_config_resolve(const floe_s3_config *in, floe_s3_config *out);

/* 1 when endpoint is AWS's own: https:// on a host that is amazonaws.com
 * or under .amazonaws.com or .amazonaws.com.cn, default port, and nothing
 * else: no user name, query or fragment, no path but "/". The host is
 * the one libcurl connects to (curl_url), so "https://x.example?.amazonaws.com"
 * or "https://s3.amazonaws.com@x.example" is not AWS. */
int floe_s3_endpoint_is_aws(const char *endpoint);

/* Append the HTTP URL of the s3:// url under a resolved config: path style
 * "ENDPOINT/bucket/key", or virtual-hosted
 * "https://bucket.s3.REGION.amazonaws.com/key" (AWS, DNS-safe bucket).
 * The key is percent-encoded per segment. */
floe_err floe_s3_http_url(const char *url, const floe_s3_config *resolved, floe_buf *out);

#endif
