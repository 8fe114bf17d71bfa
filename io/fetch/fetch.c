/* io/fetch/fetch.c - the concurrent range fetcher: queued ranges are coalesced into
 * transfers, which run on one libcurl multi handle (bounded in flight,
 * connections kept alive in the multi handle's cache, easy handles pooled),
 * are retried with backoff, and complete one range at a time in
 * floe_fetch_next. The HTTP requests themselves (URL mapping, SigV4,
 * conditions, range checks, error messages) are the transport's
 * (floe_http_xfer in transport_http.c). */
#include "io/fetch/fetch.h"

#include "common/floe_log.h"
#include "io/fetch/internal.h"
#include "io/transport/xfer.h"
#include "io/transport/url.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    DEFAULT_CONCURRENCY = 16,
    MAX_CONCURRENCY = 1024,
    DEFAULT_MAX_ATTEMPTS = 5,
    DEFAULT_RETRY_BASE_MS = 100,
    DEFAULT_RETRY_MAX_MS = 5000,
    /* The longest a poll sleeps without looking at the clock: stall and
     * retry deadlines are computed, this only bounds a surprise. */
    MAX_POLL_MS = 1000,
};
#define RECV_BUFFER_BYTES (256L * 1024) /* per easy handle */
#define DEFAULT_MAX_GAP ((uint64_t)1 << 20)
#define DEFAULT_MAX_BYTES ((uint64_t)16 << 20)

/* A range queued by floe_fetch_add, not yet part of a transfer. */
typedef struct pending {
    char *url;  /* owned until a transfer takes it */
    char *etag; /* owned, NULL: none */
    int64_t since;
    uint64_t offset, length;
    void *user;
    int is_file;
} pending;

/* One caller's range inside a transfer. */
typedef struct part {
    void *user;
    uint64_t offset, length;
} part;

/* What an HTTP attempt needs while it runs (freed when it ends). */
typedef struct live {
    floe_buf url;    /* the URL sent */
    char shown[1024]; /* the URL for messages */
    floe_sigv4 sig;
    floe_http_request req;
    floe_http_xfer *hx;
    CURL *curl;
    uint64_t seen;         /* floe_http_xfer_received when last looked at */
    double last_progress;  /* when a byte last came (or the attempt started) */
    double started;
} live;

/* One request: a range, or several coalesced ranges, of one object. */
typedef struct xfer {
    struct xfer *next; /* in the queue it is on */
    char *url;         /* owned */
    char *etag;        /* owned, NULL: none */
    floe_condition cond;
    int has_cond;
    int is_file;
    uint64_t offset, length; /* what is requested (length 0: to the end) */
    part *parts;             /* owned, sorted by offset */
    size_t nparts, delivered;
    floe_buf data;
    int attempts;
    double due;   /* a retry starts no earlier than this */
    live *run;    /* while in flight */
    floe_err err; /* the final error, once done */
} xfer;

typedef struct xqueue {
    xfer *head, *tail;
    size_t n;
} xqueue;

struct floe_fetcher {
    floe_transport *t; /* borrowed */
    int concurrency;
    uint64_t max_gap, max_bytes;
    int no_coalesce;
    int max_attempts;
    long retry_base_ms, retry_max_ms, stall_ms;
    CURLM *multi;
    CURL **pool; /* idle easy handles, up to concurrency */
    int npool;
    xfer **running; /* concurrency slots, the first nrunning used */
    int nrunning;
    pending *pend;
    size_t npend, cap_pend;
    xqueue start; /* HTTP transfers waiting for a slot (retries first) */
    xqueue retry; /* HTTP transfers waiting for their backoff to pass */
    xqueue files; /* local reads, done one at a time in floe_fetch_next */
    xqueue done;  /* complete, with ranges left to hand out */
    xfer *handed; /* done with its last range handed out: freed at the next call */
    uint64_t rng;
    floe_fetch_stats st;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- queues and objects ---------------------------------------------------- */

static void q_push(xqueue *q, xfer *x)
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
static void q_prepend(xqueue *q, xqueue *front)
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

static xfer *q_pop(xqueue *q)
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

static void xfer_free(xfer **xp)
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

static void q_free_all(xqueue *q)
{
    xfer *x;
    while ((x = q_pop(q)))
        xfer_free(&x);
}

/* A transfer for one object, taking url and etag over; parts are filled by
 * the caller. */
static xfer *xfer_new(const floe_fetcher *f, char *url, char *etag, int64_t since, int is_file,
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
    if (o->max_attempts < 0 || o->retry_base_ms < 0 || o->retry_max_ms < 0 ||
        o->stall_timeout_ms < 0)
        return FLOE_ERR(FLOE_EINVAL,
                        "negative fetch option (max_attempts %d, retry_base_ms %ld, "
                        "retry_max_ms %ld, stall_timeout_ms %ld)",
                        o->max_attempts, o->retry_base_ms, o->retry_max_ms, o->stall_timeout_ms);
    return NULL;
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
    f->concurrency = o->concurrency ? o->concurrency : DEFAULT_CONCURRENCY;
    f->max_gap = !o->coalesce_max_gap                    ? DEFAULT_MAX_GAP
                 : o->coalesce_max_gap == FLOE_FETCH_NO_GAP ? 0
                                                            : o->coalesce_max_gap;
    f->max_bytes = o->coalesce_max_bytes ? o->coalesce_max_bytes : DEFAULT_MAX_BYTES;
    f->no_coalesce = o->no_coalesce;
    f->max_attempts = o->max_attempts ? o->max_attempts : DEFAULT_MAX_ATTEMPTS;
    f->retry_base_ms = o->retry_base_ms ? o->retry_base_ms : DEFAULT_RETRY_BASE_MS;
    f->retry_max_ms = o->retry_max_ms ? o->retry_max_ms : DEFAULT_RETRY_MAX_MS;
    f->stall_ms = o->stall_timeout_ms ? o->stall_timeout_ms : floe_transport_stall_timeout_ms(t);
    f->rng = (uint64_t)(now_s() * 1e9) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f;
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
static void live_end(floe_fetcher *f, xfer *x)
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

static void running_remove(floe_fetcher *f, xfer *x)
{
    for (int i = 0; i < f->nrunning; i++)
        if (f->running[i] == x) {
            f->running[i] = f->running[--f->nrunning];
            f->running[f->nrunning] = NULL;
            return;
        }
}

static void pending_clear(floe_fetcher *f)
{
    for (size_t i = 0; i < f->npend; i++) {
        free(f->pend[i].url);
        free(f->pend[i].etag);
    }
    f->npend = 0;
}

void floe_fetcher_cancel(floe_fetcher *f)
{
    if (!f)
        return;
    while (f->nrunning) {
        xfer *x = f->running[0];
        live_end(f, x);
        running_remove(f, x);
        xfer_free(&x);
    }
    q_free_all(&f->start);
    q_free_all(&f->retry);
    q_free_all(&f->files);
    q_free_all(&f->done);
    xfer_free(&f->handed);
    pending_clear(f);
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

/* --- queueing ------------------------------------------------------------- */

floe_err floe_fetch_add(floe_fetcher *f, const char *url, uint64_t offset, uint64_t length,
                        const floe_condition *cond, void *user)
{
    floe_url_kind kind;
    FLOE_CHECK(floe_url_kind_of(url, &kind), "queueing a range fetch");
    if (length && offset > UINT64_MAX - length) {
        char shown[512];
        return FLOE_ERR(FLOE_EINVAL, "%s: range overflows (offset %" PRIu64 ", length %" PRIu64
                        ")", floe_url_redact(url, shown, sizeof shown), offset, length);
    }
    if (length > SIZE_MAX)
        return FLOE_ERR(FLOE_ENOMEM, "range of %" PRIu64 " bytes: larger than memory", length);
    if (f->npend == f->cap_pend) {
        size_t cap = f->cap_pend ? f->cap_pend * 2 : 64;
        pending *p = realloc(f->pend, cap * sizeof *p);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "cannot queue %zu range fetches", cap);
        f->pend = p;
        f->cap_pend = cap;
    }
    pending *p = &f->pend[f->npend];
    *p = (pending){.offset = offset, .length = length, .user = user,
                   .is_file = kind == FLOE_URL_FILE};
    p->url = strdup(url);
    if (cond && cond->etag)
        p->etag = strdup(cond->etag);
    if (!p->url || (cond && cond->etag && !p->etag)) {
        free(p->url);
        free(p->etag);
        return FLOE_ERR(FLOE_ENOMEM, "cannot queue a range fetch");
    }
    p->since = cond ? cond->unmodified_since : 0;
    f->npend++;
    f->st.ranges++;
    return NULL;
}

static int str_cmp(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* Order of objects: URL, then conditions (ranges only merge under the same
 * ones). */
static int cmp_object(const pending *a, const pending *b)
{
    int c = strcmp(a->url, b->url);
    if (!c)
        c = str_cmp(a->etag, b->etag);
    if (!c && a->since != b->since)
        c = a->since < b->since ? -1 : 1;
    return c;
}

static int cmp_pending_ptr(const void *pa, const void *pb)
{
    const pending *a = *(const pending *const *)pa, *b = *(const pending *const *)pb;
    int c = cmp_object(a, b);
    if (!c)
        c = a < b ? -1 : a > b; /* keep the order of queueing within an object */
    return c;
}

/* A transfer of exactly one pending range (which it takes over). */
static floe_err single(floe_fetcher *f, pending *p, xqueue *q)
{
    xfer *x = xfer_new(f, p->url, p->etag, p->since, p->is_file, p->offset, p->length, 1);
    if (!x)
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate a transfer");
    p->url = p->etag = NULL;
    x->parts[0] = (part){.user = p->user, .offset = p->offset, .length = p->length};
    q_push(q, x);
    return NULL;
}

/* Turn the HTTP ranges among ps into coalesced transfers. */
static floe_err coalesce(floe_fetcher *f, pending **ps, size_t n)
{
    qsort(ps, n, sizeof *ps, cmp_pending_ptr);
    floe_coalesce_range *r = malloc(n * sizeof *r);
    floe_coalesce_span *spans = malloc(n * sizeof *spans);
    floe_err err = NULL;
    if (!r || !spans) {
        err = FLOE_ERR(FLOE_ENOMEM, "cannot coalesce %zu ranges", n);
        goto out;
    }
    uint64_t total = 0;
    size_t object = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && cmp_object(ps[i - 1], ps[i]))
            object++;
        r[i] = (floe_coalesce_range){.object = object, .offset = ps[i]->offset,
                                     .length = ps[i]->length, .id = i};
        total += ps[i]->length;
    }
    uint64_t cap = floe_coalesce_cap(f->max_bytes, total, f->concurrency);
    size_t nspans = floe_coalesce(r, n, f->max_gap, cap, spans);
    for (size_t s = 0; s < nspans && !err; s++) {
        const floe_coalesce_span *sp = &spans[s];
        pending *first = ps[r[sp->first].id];
        xfer *x = xfer_new(f, first->url, first->etag, first->since, 0, sp->offset, sp->length,
                           sp->count);
        if (!x) {
            err = FLOE_ERR(FLOE_ENOMEM, "cannot allocate a transfer");
            break;
        }
        first->url = first->etag = NULL;
        for (size_t k = 0; k < sp->count; k++) {
            const pending *p = ps[r[sp->first + k].id];
            x->parts[k] = (part){.user = p->user, .offset = p->offset, .length = p->length};
        }
        if (sp->count > 1)
            f->st.coalesced += sp->count - 1;
        q_push(&f->start, x);
    }
out:
    free(r);
    free(spans);
    return err;
}

/* Everything queued since the last call becomes transfers. */
static floe_err plan(floe_fetcher *f)
{
    floe_err err = NULL;
    size_t nhttp = 0;
    pending **ps = malloc(f->npend * sizeof *ps);
    if (!ps) {
        err = FLOE_ERR(FLOE_ENOMEM, "cannot plan %zu range fetches", f->npend);
        goto out;
    }
    for (size_t i = 0; i < f->npend && !err; i++) {
        pending *p = &f->pend[i];
        if (p->is_file)
            err = single(f, p, &f->files);
        else if (f->no_coalesce || !p->length)
            err = single(f, p, &f->start);
        else
            ps[nhttp++] = p;
    }
    if (!err && nhttp)
        err = coalesce(f, ps, nhttp);
out:
    free(ps);
    pending_clear(f); /* frees what no transfer took over */
    return err;
}

/* --- completions ------------------------------------------------------------ */

static void done(floe_fetcher *f, xfer *x)
{
    q_push(&f->done, x);
}

/* A transfer that will not be tried again: put the error in its final
 * form (the attempts and whether more were possible) and complete it. */
static void fail(floe_fetcher *f, xfer *x, floe_err err, int retryable)
{
    if (x->is_file || x->attempts == 0)
        x->err = err; /* no request was made: the error says what is wrong */
    else if (retryable)
        x->err = floe_err_push(err, __FILE__, __LINE__, " gave up after %d attempts",
                               x->attempts);
    else
        x->err = floe_err_push(err, __FILE__, __LINE__, " after %d attempt%s, not retryable",
                               x->attempts, x->attempts == 1 ? "" : "s");
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
                      ? xfer_new(f, url, etag, x->cond.unmodified_since, 0, p->offset,
                                 p->length, 1)
                      : NULL;
        if (!y) {
            free(url);
            free(etag);
            q_free_all(&parts);
            return FLOE_ERR(FLOE_ENOMEM, "cannot split a coalesced request into %zu",
                            x->nparts);
        }
        y->parts[0] = *p;
        q_push(&parts, y);
    }
    /* At the front, in order: they were due already. */
    q_prepend(&f->start, &parts);
    f->st.splits++;
    f->st.coalesced -= x->nparts - 1; /* no request saved after all */
    return NULL;
}

/* An attempt failed with err: retry later, split, or fail for good. */
static floe_err settle(floe_fetcher *f, xfer *x, floe_err err, int retryable)
{
    char line[1024];
    if (retryable && x->attempts < f->max_attempts) {
        long ms = floe_fetch_backoff_ms(f->retry_base_ms, f->retry_max_ms, x->attempts,
                                        floe_fetch_random(&f->rng));
        FLOE_DEBUG("retry %d of %d in %ld ms: %s", x->attempts, f->max_attempts - 1, ms,
                   floe_err_line(err, line, sizeof line));
        floe_err_free(&err);
        x->due = now_s() + (double)ms / 1e3;
        q_push(&f->retry, x);
        return NULL;
    }
    if (x->nparts > 1 && floe_err_code(err) == FLOE_EFORMAT) {
        FLOE_DEBUG("splitting a coalesced request of %zu ranges: %s", x->nparts,
                   floe_err_line(err, line, sizeof line));
        floe_err serr = split(f, x);
        if (!serr) {
            floe_err_free(&err);
            xfer_free(&x);
            return NULL;
        }
        fail(f, x, err, 0);
        return serr;
    }
    fail(f, x, err, retryable);
    return NULL;
}

/* Start one attempt of x; a request that cannot even be made (bad URL or
 * ETag) fails x for good. */
static void start_one(floe_fetcher *f, xfer *x, double now)
{
    live *r = calloc(1, sizeof *r);
    if (!r) {
        fail(f, x, FLOE_ERR(FLOE_ENOMEM, "cannot start a transfer"), 0);
        return;
    }
    x->run = r;
    floe_buf_init(&r->url, 64 * 1024);
    floe_err err = floe_http_request_for(f->t, x->url, &r->url, r->shown, sizeof r->shown,
                                         &r->sig, &r->req);
    if (err) {
        live_end(f, x);
        fail(f, x, err, 0);
        return;
    }
    r->req.offset = x->offset;
    r->req.length = x->length;
    r->req.cond = x->has_cond ? &x->cond : NULL;
    if (f->npool)
        r->curl = f->pool[--f->npool];
    else if (!(r->curl = curl_easy_init())) {
        live_end(f, x);
        fail(f, x, FLOE_ERR(FLOE_ENOMEM, "cannot create a libcurl handle"), 0);
        return;
    }
    floe_buf_reset(&x->data);
    err = floe_http_xfer_begin(f->t, &r->req, &x->data, r->curl, &r->hx);
    if (err) {
        live_end(f, x);
        fail(f, x, err, 0);
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
        live_end(f, x);
        fail(f, x, FLOE_ERR(FLOE_ENOMEM, "libcurl multi: cannot add a transfer: %s",
                            curl_multi_strerror(mc)), 0);
        return;
    }
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
    char range[64];
    FLOE_DEBUG("GET %s%s: HTTP %ld, %" PRIu64 " bytes, %.1f ms, attempt %d%s%s", r->shown,
               floe_range_text(x->offset, x->length, range), o.status, o.bytes,
               (now_s() - r->started) * 1e3, x->attempts, connects ? ", new connection" : "",
               rc ? ", transfer failed" : "");
    live_end(f, x);
    running_remove(f, x);
    if (!err) {
        done(f, x);
        return NULL;
    }
    return settle(f, x, err, floe_fetch_retryable(o.status, (int)rc, o.s3_code));
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
    live_end(f, x);
    running_remove(f, x);
    return settle(f, x, err, 1);
}

/* One non-blocking turn of the loop: run the transfers, collect the ended
 * ones, abandon stalled ones, start due retries and queued transfers. */
static floe_err drive(floe_fetcher *f)
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
    double now = now_s();
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
    while ((x = q_pop(&f->retry)))
        q_push(x->due <= now ? &due : &wait, x);
    f->retry = wait;
    q_prepend(&f->start, &due);
    /* Buffers held: in flight plus complete-but-unconsumed, at most two
     * rounds' worth. */
    while (f->start.head && f->nrunning < f->concurrency &&
           (size_t)f->nrunning + f->done.n < 2 * (size_t)f->concurrency) {
        x = q_pop(&f->start);
        start_one(f, x, now);
    }
    return NULL;
}

/* Block until something may have happened: socket activity, libcurl's own
 * timer, a stall deadline or a retry's due time. */
static floe_err wait_for_activity(floe_fetcher *f)
{
    long ms = -1;
    curl_multi_timeout(f->multi, &ms);
    if (ms < 0 || ms > MAX_POLL_MS)
        ms = MAX_POLL_MS;
    double now = now_s();
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
    f->st.wait_seconds += now_s() - now;
    return NULL;
}

/* A local read, now. */
static void run_file(floe_fetcher *f, xfer *x)
{
    x->attempts = 1;
    f->st.requests++;
    floe_err err = floe_transport_get(f->t, x->url, x->offset, x->length,
                                      x->has_cond ? &x->cond : NULL, &x->data);
    f->st.bytes += x->data.len;
    if (err)
        fail(f, x, err, 0);
    else
        done(f, x);
}

/* Hand out the next range of the first complete transfer. */
static void deliver(floe_fetcher *f, floe_fetch_result *res)
{
    xfer *x = f->done.head;
    const part *p = &x->parts[x->delivered++];
    res->user = p->user;
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
        q_pop(&f->done);
        f->handed = x;
    }
}

floe_err floe_fetch_next(floe_fetcher *f, floe_fetch_result *res, int *more)
{
    memset(res, 0, sizeof *res);
    *more = 0;
    xfer_free(&f->handed);
    if (f->npend)
        FLOE_CHECK(plan(f), "planning %zu range fetches", f->npend);
    for (;;) {
        FLOE_CHECK(drive(f));
        if (f->done.head) {
            deliver(f, res);
            *more = 1;
            return NULL;
        }
        if (f->files.head) {
            run_file(f, q_pop(&f->files));
            continue;
        }
        if (!f->nrunning && !f->start.head && !f->retry.head)
            return NULL;
        FLOE_CHECK(wait_for_activity(f));
    }
}
