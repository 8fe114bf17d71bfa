/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/prefetch.c - floe_prefetch: whole objects fetched concurrently
 * by a fetcher attached to the transport, then put into the transport's
 * object cache for the GETs that follow. */
#include "io/fetch/prefetch.h"

#include "common/floe_log.h"
#include "io/fetch/fetch.h"
#include "io/transport/url.h"
#include "io/transport/xfer.h"

#include <string.h>

static void prefetcher_free(void *obj)
{
    floe_fetcher *f = obj;
    floe_fetcher_free(&f);
}

/* The prefetcher's requests count as the transport's. A prefetch that
 * failed is not a failure of the run: the GET that follows asks for the
 * same object again, by the retry policy, so the failed attempt counts as
 * what it is, the first of that object's attempts (a retry follows it). */
static void prefetcher_add_counts(const void *obj, floe_transport_counts *s)
{
    floe_fetch_stats f;
    floe_fetcher_stats(obj, &f);
    s->requests += f.requests;
    s->bytes += f.bytes_delivered;
    s->new_connections += f.new_connections;
    s->retries += f.retries + f.failures;
}

/* t's prefetcher, made and attached on first use. */
static floe_err prefetcher_of(floe_transport *t, floe_fetcher **out)
{
    *out = floe_transport_attached(t, prefetcher_free);
    if (*out)
        return NULL;
    /* One attempt: a failure is left to the GET that follows, which
     * retries by the transport's policy. Retrying here as well would let
     * a store that keeps failing spend the retry budget twice. */
    floe_fetch_opts o = {.retry.max_attempts = 1};
    floe_fetcher *f;
    FLOE_CHECK(floe_fetcher_new(t, &o, &f), "prefetch");
    floe_transport_attachment a = {.obj = f, .free = prefetcher_free,
                                   .add_counts = prefetcher_add_counts};
    floe_err err = floe_transport_attach(t, &a);
    if (err) {
        floe_fetcher_free(&f);
        return floe_err_push(err, __FILE__, __LINE__, " prefetch");
    }
    *out = f;
    return NULL;
}

floe_err floe_prefetch(floe_transport *t, const char *const *urls, size_t n)
{
    floe_object_cache *c = floe_transport_cache(t);
    if (!c || !n)
        return NULL;
    floe_fetcher *f;
    FLOE_CHECK(prefetcher_of(t, &f));
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        floe_url_kind kind;
        if (!urls[i])
            continue;
        floe_err bad = floe_url_kind_of(urls[i], &kind);
        if (bad || kind == FLOE_URL_FILE) {
            floe_err_free(&bad); /* a bad URL fails in the GET; local reads gain nothing */
            continue;
        }
        int found = floe_object_cache_find(c, urls[i], NULL, NULL) != FLOE_CACHE_MISS, dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = urls[j] && !strcmp(urls[j], urls[i]);
        if (found || dup)
            continue;
        floe_err err = floe_fetch_add(f, urls[i], 0, 0, NULL, (void *)urls[i]);
        if (err) {
            floe_fetcher_cancel(f);
            return floe_err_push(err, __FILE__, __LINE__, " prefetch");
        }
        queued++;
    }
    floe_err err = NULL;
    while (queued && !err) {
        floe_fetch_result r;
        int more = 0;
        err = floe_fetch_next(f, &r, &more);
        if (err || !more)
            break;
        queued--;
        const char *url = r.user;
        if (!r.err) {
            err = floe_object_cache_put(c, url, r.data, r.len);
        } else if (floe_err_code(r.err) == FLOE_ENOTFOUND) {
            err = floe_object_cache_put_absent(c, url);
        } else {
            char line[512];
            FLOE_DEBUG("prefetch of %s failed, left to the GET: %s", url,
                       floe_err_line(r.err, line, sizeof line));
        }
        floe_err_free(&r.err);
        if (err && !floe_object_cache_recording(c)) {
            /* Only a hint: past the cap, the GET fetches it itself. */
            floe_err_free(&err);
        }
    }
    if (err)
        floe_fetcher_cancel(f);
    return err;
}
