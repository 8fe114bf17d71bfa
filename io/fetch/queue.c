/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/queue.c - queueing ranges (floe_fetch_add) and planning them
 * into transfers when the next floe_fetch_next comes: local reads one by
 * one, HTTP ranges of one object under the same conditions coalesced
 * (coalesce.c). */
#include "io/fetch/fetcher_internal.h"

#include "io/fetch/internal.h"
#include "io/transport/url.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void fetch_pending_clear(floe_fetcher *f)
{
    for (size_t i = 0; i < f->npend; i++) {
        free(f->pend[i].url);
        free(f->pend[i].etag);
    }
    f->npend = 0;
}

/* --- queueing ------------------------------------------------------------- */

static floe_err add(floe_fetcher *f, const char *url, uint64_t offset, uint64_t length,
                    const floe_condition *cond, void *user, int once)
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
                   .is_file = kind == FLOE_URL_FILE, .once = once};
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

floe_err floe_fetch_add(floe_fetcher *f, const char *url, uint64_t offset, uint64_t length,
                        const floe_condition *cond, void *user)
{
    return add(f, url, offset, length, cond, user, 0);
}

floe_err floe_fetch_add_once(floe_fetcher *f, const char *url, uint64_t offset, uint64_t length,
                             const floe_condition *cond, void *user)
{
    return add(f, url, offset, length, cond, user, 1);
}

static int str_cmp(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* Order of objects: URL, then conditions and the number of attempts
 * (ranges only merge under the same ones). */
static int cmp_object(const pending *a, const pending *b)
{
    int c = strcmp(a->url, b->url);
    if (!c)
        c = str_cmp(a->etag, b->etag);
    if (!c && a->since != b->since)
        c = a->since < b->since ? -1 : 1;
    if (!c)
        c = a->once - b->once;
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
    xfer *x = fetch_xfer_new(f, p->url, p->etag, p->since, p->is_file, p->offset, p->length, 1);
    if (!x)
        return FLOE_ERR(FLOE_ENOMEM, "cannot allocate a transfer");
    p->url = p->etag = NULL;
    x->once = p->once;
    x->parts[0] = (part){.user = p->user, .offset = p->offset, .length = p->length};
    fetch_q_push(q, x);
    return NULL;
}

/* Sort the HTTP ranges ps by object (URL, then conditions) and coalesce
 * them as one planning does: r and spans have room for n entries; returns
 * the number of spans. The one rule of floe_fetch_next and
 * floe_fetch_plan_count. */
static size_t plan_spans(int concurrency, uint64_t max_gap, uint64_t max_bytes, pending **ps,
                         size_t n, floe_coalesce_range *r, floe_coalesce_span *spans)
{
    qsort(ps, n, sizeof *ps, cmp_pending_ptr);
    uint64_t total = 0;
    size_t object = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && cmp_object(ps[i - 1], ps[i]))
            object++;
        r[i] = (floe_coalesce_range){.object = object, .offset = ps[i]->offset,
                                     .length = ps[i]->length, .id = i};
        total += ps[i]->length;
    }
    uint64_t cap = floe_coalesce_cap(max_bytes, total, concurrency);
    return floe_coalesce(r, n, max_gap, cap, spans);
}

/* Turn the HTTP ranges among ps into coalesced transfers. */
static floe_err coalesce(floe_fetcher *f, pending **ps, size_t n)
{
    floe_coalesce_range *r = malloc(n * sizeof *r);
    floe_coalesce_span *spans = malloc(n * sizeof *spans);
    floe_err err = NULL;
    if (!r || !spans) {
        err = FLOE_ERR(FLOE_ENOMEM, "cannot coalesce %zu ranges", n);
        goto out;
    }
    size_t nspans = plan_spans(f->concurrency, f->max_gap, f->max_bytes, ps, n, r, spans);
    for (size_t s = 0; s < nspans && !err; s++) {
        const floe_coalesce_span *sp = &spans[s];
        pending *first = ps[r[sp->first].id];
        xfer *x = fetch_xfer_new(f, first->url, first->etag, first->since, 0, sp->offset,
                                 sp->length, sp->count);
        if (!x) {
            err = FLOE_ERR(FLOE_ENOMEM, "cannot allocate a transfer");
            break;
        }
        first->url = first->etag = NULL;
        x->once = first->once;
        for (size_t k = 0; k < sp->count; k++) {
            const pending *p = ps[r[sp->first + k].id];
            x->parts[k] = (part){.user = p->user, .offset = p->offset, .length = p->length};
        }
        if (sp->count > 1)
            f->st.coalesced += sp->count - 1;
        fetch_q_push(&f->start, x);
    }
out:
    free(r);
    free(spans);
    return err;
}

/* Whether p is read alone: a local file, a range to the end of its
 * object, or coalescing off. */
static int plan_alone(const pending *p, int no_coalesce)
{
    return p->is_file || no_coalesce || !p->length;
}

/* Everything queued since the last call becomes transfers. */
floe_err fetch_plan(floe_fetcher *f)
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
        if (plan_alone(p, f->no_coalesce))
            err = single(f, p, p->is_file ? &f->files : &f->start);
        else
            ps[nhttp++] = p;
    }
    if (!err && nhttp)
        err = coalesce(f, ps, nhttp);
out:
    free(ps);
    fetch_pending_clear(f); /* frees what no transfer took over */
    return err;
}

/* --- the same plan, counted (floe_fetch_plan_count) ------------------------ */

floe_err floe_fetch_plan_count(const floe_fetch_opts *o, const floe_fetch_range *ranges,
                               size_t n, floe_fetch_plan_totals *t)
{
    floe_fetch_opts defaults = {0};
    int concurrency;
    uint64_t max_gap, max_bytes;
    fetch_opts_resolve(o ? o : &defaults, &concurrency, &max_gap, &max_bytes);
    int no_coalesce = o && o->no_coalesce;
    if (!n)
        return NULL;
    /* borrowed strings: these pendings are never freed field by field */
    pending *pend = calloc(n, sizeof *pend);
    pending **ps = malloc(n * sizeof *ps);
    floe_coalesce_range *r = malloc(n * sizeof *r);
    floe_coalesce_span *spans = malloc(n * sizeof *spans);
    floe_err err = NULL;
    if (!pend || !ps || !r || !spans) {
        err = FLOE_ERR(FLOE_ENOMEM, "cannot plan %zu range fetches", n);
        goto out;
    }
    size_t nhttp = 0;
    for (size_t i = 0; i < n && !err; i++) {
        floe_url_kind kind;
        err = floe_url_kind_of(ranges[i].url, &kind);
        pending *p = &pend[i];
        *p = (pending){.url = (char *)ranges[i].url, .etag = (char *)ranges[i].cond.etag,
                       .since = ranges[i].cond.unmodified_since, .offset = ranges[i].offset,
                       .length = ranges[i].length, .is_file = kind == FLOE_URL_FILE};
        t->ranges++;
        if (err)
            break;
        if (plan_alone(p, no_coalesce)) {
            t->requests++;
            t->bytes += p->length;
            t->largest = p->length > t->largest ? p->length : t->largest;
        } else {
            ps[nhttp++] = p;
        }
    }
    size_t nspans = err || !nhttp ? 0
                                  : plan_spans(concurrency, max_gap, max_bytes, ps, nhttp, r, spans);
    for (size_t s = 0; s < nspans; s++) {
        t->requests++;
        t->bytes += spans[s].length;
        t->largest = spans[s].length > t->largest ? spans[s].length : t->largest;
    }
out:
    free(pend);
    free(ps);
    free(r);
    free(spans);
    return err;
}
