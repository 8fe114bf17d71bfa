/* SPDX-License-Identifier: Apache-2.0 */
/* io/fetch/fetcher_internal.h - what the files of the range fetcher share:
 * its transfers, their queues and the fetcher object. fetch.c has the life
 * cycle and hands out completed ranges, queue.c turns queued ranges into
 * (coalesced) transfers, transfer.c runs them on the libcurl multi handle
 * with retries, splits and stall timeouts. Not for other files: the
 * fetcher's interface is fetch.h. */
#ifndef FLOE_FETCHER_INTERNAL_H
#define FLOE_FETCHER_INTERNAL_H

#include "io/fetch/fetch.h"
#include "io/transport/xfer.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* A range queued by floe_fetch_add, not yet part of a transfer. */
typedef struct pending {
    char *url;  /* owned until a transfer takes it */
    char *etag; /* owned, NULL: none */
    int64_t since;
    uint64_t offset, length;
    void *user;
    int is_file;
    int once; /* one attempt, whatever the policy (floe_fetch_add_once) */
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
    int once;                /* one attempt, whatever the policy */
    uint64_t offset, length; /* what is requested (length 0: to the end) */
    part *parts;             /* owned, sorted by offset */
    size_t nparts, delivered;
    floe_buf data;
    int attempts;
    double first_started; /* when the first attempt began: the budget counts from here */
    double due;   /* a retry starts no earlier than this */
    live *run;    /* while in flight */
    floe_err err; /* the final error, once done */
    uint64_t object_size; /* the last answer's Content-Range total; UINT64_MAX: none */
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
    floe_retry_policy policy; /* resolved: the transport's, overridden by the options */
    long stall_ms;
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


/* Seconds on the monotonic clock (fetch.c). */
double fetch_now_s(void);

/* --- queues and transfers (fetch.c) ---------------------------------------- */

void fetch_q_push(xqueue *q, xfer *x);
/* Put all of `front` (emptied) before the contents of q. */
void fetch_q_prepend(xqueue *q, xqueue *front);
xfer *fetch_q_pop(xqueue *q);
void fetch_q_free_all(xqueue *q);
/* A transfer for one object, taking url and etag over; parts are filled by
 * the caller. NULL: out of memory. */
xfer *fetch_xfer_new(const floe_fetcher *f, char *url, char *etag, int64_t since, int is_file,
                     uint64_t offset, uint64_t length, size_t nparts);
void fetch_xfer_free(xfer **xp);

/* --- planning (queue.c) ----------------------------------------------------- */

/* Everything queued since the last call becomes transfers. */
floe_err fetch_plan(floe_fetcher *f);
/* The fetcher's settings from o, zeros meaning the defaults (fetch.c):
 * floe_fetcher_new and floe_fetch_plan_count resolve them alike. */
void fetch_opts_resolve(const floe_fetch_opts *o, int *concurrency, uint64_t *max_gap,
                        uint64_t *max_bytes);
/* Forget the queued ranges no transfer took over. */
void fetch_pending_clear(floe_fetcher *f);

/* --- running (transfer.c) --------------------------------------------------- */

/* Take an attempt's handle out of the multi loop and free what it held. */
void fetch_live_end(floe_fetcher *f, xfer *x);
void fetch_running_remove(floe_fetcher *f, xfer *x);
/* One non-blocking turn of the loop: run the transfers, collect the ended
 * ones, abandon stalled ones, start due retries and queued transfers. */
floe_err fetch_drive(floe_fetcher *f);
/* Block until something may have happened: socket activity, libcurl's own
 * timer, a stall deadline or a retry's due time. */
floe_err fetch_wait_for_activity(floe_fetcher *f);
/* A local read, now. */
void fetch_run_file(floe_fetcher *f, xfer *x);

#endif
