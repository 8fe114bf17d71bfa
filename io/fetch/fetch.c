/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/fetch.c - the concurrent range fetcher of fetch.h: its life
 * cycle and options, the transfer objects and their queues, and
 * floe_fetch_next, which drives the transfers (transfer.c) after planning
 * what was queued (queue.c) and hands out completed ranges one at a time.
 * The HTTP requests themselves (URL mapping, SigV4, conditions, range
 * checks, error messages) are the transport's (io/transport/xfer.h). */
#include "io/fetch/fetcher_internal.h"

#include "io/transport/url.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    DEFAULT_CONCURRENCY = 16,
    MAX_CONCURRENCY = 1024,
};
#define DEFAULT_MAX_GAP ((uint64_t)1 << 20)
#define DEFAULT_MAX_BYTES ((uint64_t)16 << 20)

double fetch_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- queues and objects ---------------------------------------------------- */

void fetch_q_push(xqueue *q, xfer *x)
{
    x->next = NULL;
    if (q->tail)
        q->tail->next = x;
    else
        q->head = x;
    q->tail = x;
    q->n++;
}

/* Put all of `front` (emptied) before the contents of q. */
void fetch_q_prepend(xqueue *q, xqueue *front)
{
    if (!front->head)
        return;
    front->tail->next = q->head;
    if (!q->tail)
        q->tail = front->tail;
    q->head = front->head;
    q->n += front->n;
    *front = (xqueue){0};
}

xfer *fetch_q_pop(xqueue *q)
{
    xfer *x = q->head;
    if (x) {
        q->head = x->next;
        if (!q->head)
            q->tail = NULL;
        q->n--;
        x->next = NULL;
    }
    return x;
}

void fetch_xfer_free(xfer **xp)
{
    xfer *x = *xp;
    if (!x)
        return;
    free(x->url);
    free(x->etag);
    free(x->parts);
    floe_buf_free(&x->data);
    floe_err_free(&x->err);
    free(x);
    *xp = NULL;
}

void fetch_q_free_all(xqueue *q)
{
    xfer *x;
    while ((x = fetch_q_pop(q)))
        fetch_xfer_free(&x);
}

/* A transfer for one object, taking url and etag over; parts are filled by
 * the caller. */
xfer *fetch_xfer_new(const floe_fetcher *f, char *url, char *etag, int64_t since, int is_file,
                     uint64_t offset, uint64_t length, size_t nparts)
{
    xfer *x = calloc(1, sizeof *x);
    part *parts = calloc(nparts, sizeof *parts);
    if (!x || !parts) {
        free(x);
        free(parts);
        return NULL;
    }
    x->url = url;
    x->etag = etag;
    x->cond = (floe_condition){.etag = etag, .unmodified_since = since};
    x->has_cond = etag || since;
    x->is_file = is_file;
    x->object_size = UINT64_MAX;
    x->offset = offset;
    x->length = length;
    x->parts = parts;
    x->nparts = nparts;
    /* The buffer holds exactly the request; a length-0 request is capped
     * like the transport caps it. */
    floe_buf_init(&x->data, length ? (size_t)length : floe_transport_max_object_bytes(f->t));
    return x;
}

/* --- options and life cycle ---------------------------------------------- */

static floe_err check_opts(const floe_fetch_opts *o)
{
    if (o->concurrency < 0 || o->concurrency > MAX_CONCURRENCY)
        return FLOE_ERR(FLOE_EINVAL, "fetch concurrency %d: not in 1..%d", o->concurrency,
                        MAX_CONCURRENCY);
    if (o->stall_timeout_ms < 0)
        return FLOE_ERR(FLOE_EINVAL, "negative fetch stall timeout (%ld ms)",
                        o->stall_timeout_ms);
    floe_retry_policy checked;
    return floe_retry_policy_resolve(&o->retry, &checked);
}

void fetch_opts_resolve(const floe_fetch_opts *o, int *concurrency, uint64_t *max_gap,
                        uint64_t *max_bytes)
{
    *concurrency = o->concurrency ? o->concurrency : DEFAULT_CONCURRENCY;
    *max_gap = !o->coalesce_max_gap                    ? DEFAULT_MAX_GAP
               : o->coalesce_max_gap == FLOE_FETCH_NO_GAP ? 0
                                                          : o->coalesce_max_gap;
    *max_bytes = o->coalesce_max_bytes ? o->coalesce_max_bytes : DEFAULT_MAX_BYTES;
}

int floe_fetch_concurrency(const floe_fetch_opts *o)
{
    return o && o->concurrency ? o->concurrency : DEFAULT_CONCURRENCY;
}

floe_err floe_fetcher_new(floe_transport *t, const floe_fetch_opts *o, floe_fetcher **out)
{
    *out = NULL;
    floe_fetch_opts defaults = {0};
    if (!o)
        o = &defaults;
    if (!t)
        return FLOE_ERR(FLOE_EINVAL, "fetcher without a transport");
    FLOE_CHECK(check_opts(o));
    floe_fetcher *f = calloc(1, sizeof *f);
    if (!f)
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate a fetcher");
    f->t = t;
    fetch_opts_resolve(o, &f->concurrency, &f->max_gap, &f->max_bytes);
    f->no_coalesce = o->no_coalesce;
    /* The transport's policy, field by field where o says nothing: one
     * set of settings for every request of the transport. */
    floe_retry_policy_over(&o->retry, floe_transport_retry_policy(t), &f->policy);
    f->stall_ms = o->stall_timeout_ms ? o->stall_timeout_ms : floe_transport_stall_timeout_ms(t);
    f->rng = (uint64_t)(fetch_now_s() * 1e9) ^ ((uint64_t)getpid() << 32) ^
             (uint64_t)(uintptr_t)f;
    f->pool = calloc((size_t)f->concurrency, sizeof *f->pool);
    f->running = calloc((size_t)f->concurrency, sizeof *f->running);
    f->multi = curl_multi_init();
    if (!f->pool || !f->running || !f->multi) {
        floe_fetcher_free(&f);
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate a fetcher for %d requests in flight",
                        o->concurrency);
    }
    /* One connection per request in flight and host, all kept: the cache
     * would otherwise shrink to 4 per easy handle in the multi handle,
     * which we add and remove all the time. Room for a few hosts. */
    curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)f->concurrency);
    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)f->concurrency * 2);
    *out = f;
    return NULL;
}

/* Take an attempt's handle out of the multi loop and free what it held. */
void floe_fetcher_cancel(floe_fetcher *f)
{
    if (!f)
        return;
    while (f->nrunning) {
        xfer *x = f->running[0];
        fetch_live_end(f, x);
        fetch_running_remove(f, x);
        fetch_xfer_free(&x);
    }
    fetch_q_free_all(&f->start);
    fetch_q_free_all(&f->retry);
    fetch_q_free_all(&f->files);
    fetch_q_free_all(&f->done);
    fetch_xfer_free(&f->handed);
    fetch_pending_clear(f);
}

void floe_fetcher_free(floe_fetcher **fp)
{
    if (!fp || !*fp)
        return;
    floe_fetcher *f = *fp;
    floe_fetcher_cancel(f);
    for (int i = 0; i < f->npool; i++)
        curl_easy_cleanup(f->pool[i]);
    if (f->multi)
        curl_multi_cleanup(f->multi);
    free(f->pool);
    free(f->running);
    free(f->pend);
    free(f);
    *fp = NULL;
}

void floe_fetcher_stats(const floe_fetcher *f, floe_fetch_stats *s)
{
    *s = f->st;
}

static void deliver(floe_fetcher *f, floe_fetch_result *res)
{
    xfer *x = f->done.head;
    const part *p = &x->parts[x->delivered++];
    res->user = p->user;
    res->object_size = x->object_size;
    if (x->err) {
        if (x->nparts == 1) {
            res->err = x->err;
            x->err = NULL;
        } else {
            /* Every range gets its own error, naming its own range. */
            char line[1024], shown[1024], mine[64], all[64];
            floe_url_redact(x->url, shown, sizeof shown);
            res->err = FLOE_ERR(floe_err_code(x->err),
                                "%s%s (coalesced into%s with %zu other range%s): %s", shown,
                                floe_range_text(p->offset, p->length, mine),
                                floe_range_text(x->offset, x->length, all), x->nparts - 1,
                                x->nparts == 2 ? "" : "s",
                                floe_err_line(x->err, line, sizeof line));
        }
        f->st.failures++;
    } else {
        res->data = x->data.data ? x->data.data + (p->offset - x->offset) : NULL;
        res->len = p->length ? (size_t)p->length : x->data.len;
        f->st.bytes_delivered += res->len;
    }
    if (x->delivered == x->nparts) {
        fetch_q_pop(&f->done);
        f->handed = x;
    }
}

floe_err floe_fetch_poll(floe_fetcher *f)
{
    if (f->npend)
        FLOE_CHECK(fetch_plan(f), "planning %zu range fetches", f->npend);
    FLOE_CHECK(fetch_drive(f));
    return fetch_drive(f); /* again: the transfers started by the first go out */
}

floe_err floe_fetch_next(floe_fetcher *f, floe_fetch_result *res, int *more)
{
    memset(res, 0, sizeof *res);
    *more = 0;
    fetch_xfer_free(&f->handed);
    if (f->npend)
        FLOE_CHECK(fetch_plan(f), "planning %zu range fetches", f->npend);
    for (;;) {
        FLOE_CHECK(fetch_drive(f));
        if (f->done.head) {
            deliver(f, res);
            *more = 1;
            return NULL;
        }
        if (f->files.head) {
            fetch_run_file(f, fetch_q_pop(&f->files));
            continue;
        }
        if (!f->nrunning && !f->start.head && !f->retry.head)
            return NULL;
        FLOE_CHECK(fetch_wait_for_activity(f));
    }
}
