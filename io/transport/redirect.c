/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/redirect.c - may libcurl follow this redirect? The check of
 * floe_http_redirect_check (internal.h), run from http.c's header callback
 * when a redirect's Location arrives, before libcurl follows it: the
 * target, resolved as libcurl resolves it, must be authorised by the
 * transport's redirect check (transport.h), or without one lie on the same
 * origin. libcurl's own hop limit (FLOE_MAX_REDIRECTS) bounds the chain. */
#include "io/transport/internal.h"
#include "io/transport/url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* The absolute URL a Location header (n bytes) leads to from from, as
 * libcurl resolves it (path as is: http.c sets CURLOPT_PATH_AS_IS). NULL
 * when it cannot be resolved (then libcurl cannot follow it either). Free
 * with curl_free. */
static char *redirect_target(const char *from, const char *location, size_t n)
{
    char *loc = strndup(location, n), *to = NULL;
    CURLU *u = curl_url();
    if (loc && u && curl_url_set(u, CURLUPART_URL, from, CURLU_PATH_AS_IS) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, loc, CURLU_PATH_AS_IS | CURLU_URLENCODE) == CURLUE_OK)
        curl_url_get(u, CURLUPART_URL, &to, 0);
    curl_url_cleanup(u);
    free(loc);
    return to;
}

floe_err floe_http_redirect_check(const floe_transport *t, CURL *c, long status,
                                  const char *location, size_t n, const char *request_url,
                                  const char *shown, const char *range)
{
    /* libcurl follows a Location on any 3xx answer, and reads status lines
     * our own parse may not (status 0): only an answer known not to be a
     * redirect is let through unchecked. */
    if (status >= 100 && (status < 300 || status >= 400))
        return NULL;
    /* The URL requested now: after an earlier hop, not the first one. */
    const char *from = NULL;
    if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &from) != CURLE_OK || !from)
        from = request_url;
    char *to = redirect_target(from, location, n);
    if (!to)
        return FLOE_ERR(FLOE_EINVAL, "%s%s: redirected (HTTP %ld) to an invalid location", shown,
                        range, status);
    floe_err why = NULL;
    if (t->redirect_check)
        why = t->redirect_check(t->redirect_ctx, from, to);
    else if (!floe_url_same_origin(from, to))
        why = FLOE_ERR(FLOE_EAUTH, "another origin (scheme, host or port)");
    floe_err err = NULL;
    if (why) {
        char shown_from[512], shown_to[512];
        err = FLOE_ERR(FLOE_EAUTH, "%s%s: redirect (HTTP %ld) from %s to %s refused: %s", shown,
                       range, status, floe_url_redact(from, shown_from, sizeof shown_from),
                       floe_url_redact(to, shown_to, sizeof shown_to), floe_err_message(why));
        floe_err_free(&why);
    }
    curl_free(to);
    return err;
}
