/* transport_internal.h - what io/transport*.c share: the transport object
 * and the entry points of the file and HTTP back ends. Not for other
 * layers: they use transport.h. */
#ifndef FLOE_TRANSPORT_INTERNAL_H
#define FLOE_TRANSPORT_INTERNAL_H

#include "io/transport.h"

#include <curl/curl.h>

/* SigV4 material for one request (borrowed from the transport). */
typedef struct floe_sigv4 {
    const char *region;
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL: none */
} floe_sigv4;

struct floe_transport {
    long connect_timeout_ms;
    long stall_timeout_ms;
    size_t max_object_bytes;
    /* S3 settings resolved at creation (owned copies). */
    char *s3_endpoint; /* NULL: AWS */
    char *s3_region;
    int s3_path_style;
    /* Credentials (owned, wiped on free); NULL when anonymous. */
    char *aws_access_key;
    char *aws_secret_key;
    char *aws_session_token;
    char **extra_headers; /* owned, NULL-terminated; NULL: none */
    CURL *curl; /* created by the first HTTP request, reused (keep-alive) */
    char curl_error[CURL_ERROR_SIZE];
    floe_transport_counts stats;
};

/* One HTTP request as the back end sees it. */
typedef struct floe_http_request {
    const char *url;      /* the encoded http(s) URL that is sent */
    const char *shown;    /* the caller's URL for messages, already redacted */
    uint64_t offset;
    uint64_t length;      /* 0: to the end */
    const floe_condition *cond; /* may be NULL */
    const floe_sigv4 *sign;     /* NULL: anonymous */
    int is_s3;            /* no redirects; S3 error codes and bucket region in messages */
} floe_http_request;

floe_err floe_file_get(floe_transport *t, const char *url, uint64_t offset, uint64_t length,
                       const floe_condition *cond, floe_buf *out);
floe_err floe_file_exists(floe_transport *t, const char *url, int *exists);

floe_err floe_http_get(floe_transport *t, const floe_http_request *req, floe_buf *out);
floe_err floe_http_exists(floe_transport *t, const floe_http_request *req, int *exists);

/* Resolve the S3 settings of opts and read the credentials from the
 * environment into t (transport_s3.c); floe_s3_clear wipes and frees them. */
floe_err floe_s3_setup(floe_transport *t, const floe_s3_config *cfg);
void floe_s3_clear(floe_transport *t);

/* GET / HEAD of an s3:// URL: maps it to HTTP and signs when credentials
 * are set (transport_s3.c). */
floe_err floe_s3_get(floe_transport *t, const char *url, uint64_t offset, uint64_t length,
                     const floe_condition *cond, floe_buf *out);
floe_err floe_s3_exists(floe_transport *t, const char *url, int *exists);

/* " bytes=A-B", " bytes=A-" or "" (whole object): how messages name a
 * range. buf needs 64 bytes. Returns buf. */
char *floe_range_text(uint64_t offset, uint64_t length, char buf[64]);

#endif
