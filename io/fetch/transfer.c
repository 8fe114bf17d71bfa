/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/transfer.c - running the fetcher's transfers on its libcurl
 * multi handle: at most `concurrency` in flight on pooled easy handles,
 * each begun and checked by the transport's floe_http_xfer hooks; failed
 * attempts retried by the transport's policy (io/transport/retry.h: which
 * failures, how long to wait, the budget) or a short coalesced request
 * split again; stalls timed here; local reads done in turn. */
#include "io/fetch/fetcher_internal.h"

#include "common/floe_log.h"
#include "io/fetch/internal.h"
#include "io/transport/retry.h"
#include "io/transport/url.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    /* The longest a poll sleeps without looking at the clock: stall and
     * retry deadlines are computed, this only bounds a surprise. */
    MAX_POLL_MS = 1000,
};
#define RECV_BUFFER_BYTES (256L * 1024) /* per easy handle */

void fetch_live_end(floe_fetcher *f, xfer *x)
{
    live *r = x->run;
    if (!r)
        return;
    if (r->curl)
        curl_multi_remove_handle(f->multi, r->curl);
    floe_http_xfer_free(&r->hx);
    if (r->curl) {
        if (f->npool < f->concurrency)
            f->pool[f->npool++] = r->curl;
        else
            curl_easy_cleanup(r->curl);
    }
    floe_buf_free(&r->url);
    free(r);
    x->run = NULL;
}

void fetch_running_remove(floe_fetcher *f, xfer *x)
{
    for (int i = 0; i < f->nrunning; i++)
        if (f->running[i] == x) {
            f->running[i] = f->running[--f->nrunning];
            f->running[f->nrunning] = NULL;
            return;
        }
}

/* --- completions ------------------------------------------------------------ */

static void done(floe_fetcher *f, xfer *x)
{
    fetch_q_push(&f->done, x);
}

/* A transfer that will not be tried again: put the error in its final
 * form (retry.h: the attempts, the time, whether more were possible) and
 * complete it. verdict: why the retries stopped (FLOE_RETRY_AGAIN: the
 * failure was not transient). */
static void fail(floe_fetcher *f, xfer *x, floe_err err, floe_retry_verdict verdict)
{
    if (x->is_file || x->attempts == 0) {
        x->err = err; /* no request was made: the error says what is wrong */
    } else {
        char what[1024 + 64], shown[1024], range[64];
        snprintf(what, sizeof what, "%s%s", floe_url_redact(x->url, shown, sizeof shown),
                 floe_range_text(x->offset, x->length, range));
        x->err = floe_retry_final_error(err, what, x->attempts, fetch_now_s() - x->first_started,
                                        verdict, &f->policy);
    }
    done(f, x);
}

/* A coalesced transfer came back short (an object shorter than some of
 * its ranges): fetch each range on its own, so that each gets exactly the
 * result it would have had without coalescing. */
static floe_err split(floe_fetcher *f, xfer *x)
{
    xqueue parts = {0};
    for (size_t i = 0; i < x->nparts; i++) {
        const part *p = &x->parts[i];
        char *url = strdup(x->url), *etag = x->etag ? strdup(x->etag) : NULL;
        xfer *y = url && (etag || !x->etag)
                      ? fetch_xfer_new(f, url, etag, x->cond.unmodified_since, 0, p->offset,
                                       p->length, 1)
                      : NULL;
        if (!y) {
            free(url);
            free(etag);
            fetch_q_free_all(&parts);
            return FLOE_ERR(FLOE_ENOMEM, "cannot split a coalesced request into %zu",
                            x->nparts);
        }
        y->parts[0] = *p;
        y->once = x->once;
        fetch_q_push(&parts, y);
    }
    /* At the front, in order: they were due already. */
    fetch_q_prepend(&f->start, &parts);
    f->st.splits++;
    f->st.coalesced -= x->nparts - 1; /* no request saved after all */
    return NULL;
}

/* An attempt failed with err: retry later, split, or fail for good.
 * retry_after_ms: the server's Retry-After (-1: none). */
static floe_err settle(floe_fetcher *f, xfer *x, floe_err err, int retryable,
                       long retry_after_ms)
{
    char line[1024];
    floe_retry_verdict verdict = FLOE_RETRY_AGAIN;
    if (retryable && !x->once) {
        double now = fetch_now_s();
        long ms;
        verdict = floe_retry_next(&f->policy, x->attempts, (long)((now - x->first_started) * 1e3),
                                  retry_after_ms, floe_retry_random(&f->rng), &ms);
        if (verdict == FLOE_RETRY_AGAIN) {
            FLOE_DEBUG("retry %d of %d in %ld ms: %s", x->attempts, f->policy.max_attempts - 1,
                       ms, floe_err_line(err, line, sizeof line));
            floe_err_free(&err);
            x->due = now + (double)ms / 1e3;
            fetch_q_push(&f->retry, x);
            return NULL;
        }
    }
    if (x->nparts > 1 && floe_err_code(err) == FLOE_EFORMAT) {
        FLOE_DEBUG("splitting a coalesced request of %zu ranges: %s", x->nparts,
                   floe_err_line(err, line, sizeof line));
        floe_err serr = split(f, x);
        if (!serr) {
            floe_err_free(&err);
            fetch_xfer_free(&x);
            return NULL;
        }
        fail(f, x, err, FLOE_RETRY_AGAIN);
        return serr;
    }
    fail(f, x, err, verdict);
    return NULL;
}

/* Start one attempt of x; a request that cannot even be made (bad URL or
 * ETag) fails x for good. */
static void start_one(floe_fetcher *f, xfer *x, double now)
{
    live *r = calloc(1, sizeof *r);
    if (!r) {
        fail(f, x, FLOE_ERR(FLOE_ENOMEM, "cannot start a transfer"), FLOE_RETRY_AGAIN);
        return;
    }
    x->run = r;
    floe_buf_init(&r->url, 64 * 1024);
    floe_err err = floe_http_request_for(f->t, x->url, &r->url, r->shown, sizeof r->shown,
                                         &r->sig, &r->req);
    if (err) {
        fetch_live_end(f, x);
        fail(f, x, err, FLOE_RETRY_AGAIN);
        return;
    }
    r->req.offset = x->offset;
    r->req.length = x->length;
    r->req.cond = x->has_cond ? &x->cond : NULL;
    if (f->npool)
        r->curl = f->pool[--f->npool];
    else if (!(r->curl = curl_easy_init())) {
        fetch_live_end(f, x);
        fail(f, x, FLOE_ERR(FLOE_ENOMEM, "cannot create a libcurl handle"), FLOE_RETRY_AGAIN);
        return;
    }
    floe_buf_reset(&x->data);
    err = floe_http_xfer_begin(f->t, &r->req, &x->data, r->curl, &r->hx);
    if (err) {
        fetch_live_end(f, x);
        fail(f, x, err, FLOE_RETRY_AGAIN);
        return;
    }
    /* Stalls are timed here, to the millisecond and including the wait
     * for the first byte, not by libcurl's whole-second low-speed check. */
    curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_TIME, 0L);
    curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
    curl_easy_setopt(r->curl, CURLOPT_PRIVATE, (void *)x);
    /* Fewer, larger reads: with many transfers on few cores, libcurl's
     * 16 KiB default costs a third of the throughput on loopback. */
    curl_easy_setopt(r->curl, CURLOPT_BUFFERSIZE, RECV_BUFFER_BYTES);
    CURLMcode mc = curl_multi_add_handle(f->multi, r->curl);
    if (mc != CURLM_OK) {
        fetch_live_end(f, x);
        fail(f, x, FLOE_ERR(FLOE_ENOMEM, "libcurl multi: cannot add a transfer: %s",
                            curl_multi_strerror(mc)), FLOE_RETRY_AGAIN);
        return;
    }
    if (x->attempts == 0)
        x->first_started = now;
    x->attempts++;
    if (x->attempts > 1)
        f->st.retries++;
    f->st.requests++;
    r->started = r->last_progress = now;
    f->running[f->nrunning++] = x;
    if (f->nrunning > f->st.max_in_flight)
        f->st.max_in_flight = f->nrunning;
}

/* The attempt of x ended with rc (from the multi handle). */
static floe_err finish_one(floe_fetcher *f, xfer *x, CURLcode rc)
{
    live *r = x->run;
    long connects = 0;
    curl_easy_getinfo(r->curl, CURLINFO_NUM_CONNECTS, &connects);
    f->st.new_connections += connects > 0 ? (uint64_t)connects : 0;
    floe_http_outcome o;
    floe_err err = floe_http_xfer_end(r->hx, rc, &o);
    f->st.bytes += o.bytes;
    x->object_size = o.object_size;
    char range[64];
    FLOE_DEBUG("GET %s%s: HTTP %ld, %" PRIu64 " bytes, %.1f ms, attempt %d%s%s", r->shown,
               floe_range_text(x->offset, x->length, range), o.status, o.bytes,
               (fetch_now_s() - r->started) * 1e3, x->attempts, connects ? ", new connection" : "",
               rc ? ", transfer failed" : "");
    fetch_live_end(f, x);
    fetch_running_remove(f, x);
    if (!err) {
        done(f, x);
        return NULL;
    }
    return settle(f, x, err, floe_retry_transient(o.status, (int)rc, o.s3_code, o.truncated),
                  floe_retry_after_ms(o.retry_after, (int64_t)time(NULL)));
}

/* No byte for the stall timeout: abandon the attempt (the connection is
 * closed by libcurl) and treat it as a transient failure. */
static floe_err abandon_stalled(floe_fetcher *f, xfer *x, double now)
{
    live *r = x->run;
    char range[64];
    floe_err err = FLOE_ERR(FLOE_ENET, "%s%s: stalled: no data for %.0f ms (stall timeout %ld ms)",
                            r->shown, floe_range_text(x->offset, x->length, range),
                            (now - r->last_progress) * 1e3, f->stall_ms);
    long connects = 0;
    curl_easy_getinfo(r->curl, CURLINFO_NUM_CONNECTS, &connects);
    f->st.new_connections += connects > 0 ? (uint64_t)connects : 0;
    f->st.bytes += x->data.len;
    fetch_live_end(f, x);
    fetch_running_remove(f, x);
    return settle(f, x, err, 1, -1);
}

/* One non-blocking turn of the loop: run the transfers, collect the ended
 * ones, abandon stalled ones, start due retries and queued transfers. */
floe_err fetch_drive(floe_fetcher *f)
{
    int still = 0;
    CURLMcode mc = curl_multi_perform(f->multi, &still);
    if (mc != CURLM_OK)
        return FLOE_ERR(FLOE_ENET, "libcurl multi: %s", curl_multi_strerror(mc));
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(f->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        FLOE_CHECK(finish_one(f, (xfer *)priv, m->data.result));
    }
    double now = fetch_now_s();
    for (int i = 0; i < f->nrunning;) {
        xfer *x = f->running[i];
        live *r = x->run;
        uint64_t seen = floe_http_xfer_received(r->hx);
        if (seen != r->seen) {
            r->seen = seen;
            r->last_progress = now;
        } else if ((now - r->last_progress) * 1e3 >= (double)f->stall_ms) {
            FLOE_CHECK(abandon_stalled(f, x, now));
            continue; /* slot i now holds another transfer */
        }
        i++;
    }
    /* Due retries go first, in the order they failed. */
    xqueue wait = {0}, due = {0};
    xfer *x;
    while ((x = fetch_q_pop(&f->retry)))
        fetch_q_push(x->due <= now ? &due : &wait, x);
    f->retry = wait;
    fetch_q_prepend(&f->start, &due);
    /* Buffers held: in flight plus complete-but-unconsumed, at most two
     * rounds' worth. */
    while (f->start.head && f->nrunning < f->concurrency &&
           (size_t)f->nrunning + f->done.n < 2 * (size_t)f->concurrency) {
        x = fetch_q_pop(&f->start);
        start_one(f, x, now);
    }
    return NULL;
}

/* Block until something may have happened: socket activity, libcurl's own
 * timer, a stall deadline or a retry's due time. */
floe_err fetch_wait_for_activity(floe_fetcher *f)
{
    long ms = -1;
    curl_multi_timeout(f->multi, &ms);
    if (ms < 0 || ms > MAX_POLL_MS)
        ms = MAX_POLL_MS;
    double now = fetch_now_s();
    for (int i = 0; i < f->nrunning; i++) {
        double left = (f->running[i]->run->last_progress - now) * 1e3 + (double)f->stall_ms;
        if (left < (double)ms)
            ms = left > 0 ? (long)left + 1 : 0;
    }
    for (xfer *x = f->retry.head; x; x = x->next) {
        double left = (x->due - now) * 1e3;
        if (left < (double)ms)
            ms = left > 0 ? (long)left + 1 : 0;
    }
    if (ms > 0) {
        CURLMcode mc = curl_multi_poll(f->multi, NULL, 0, (int)ms, NULL);
        if (mc != CURLM_OK)
            return FLOE_ERR(FLOE_ENET, "libcurl multi: %s", curl_multi_strerror(mc));
    }
    f->st.wait_seconds += fetch_now_s() - now;
    return NULL;
}

/* A local read, now. */
void fetch_run_file(floe_fetcher *f, xfer *x)
{
    x->attempts = 1;
    f->st.requests++;
    floe_err err = floe_transport_get(f->t, x->url, x->offset, x->length,
                                      x->has_cond ? &x->cond : NULL, &x->data);
    f->st.bytes += x->data.len;
    if (err)
        fail(f, x, err, FLOE_RETRY_AGAIN);
    else
        done(f, x);
}

/* Hand out the next range of the first complete transfer. */
