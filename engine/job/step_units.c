/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/step_units.c - the saved units of extract and series (see
 * step_units.h): blob names carry the key ("x-V-T0-T1"), so an index of
 * every store is one listing each, and the header inside each blob is
 * checked against the name and the shape the reader expects. */
#include "engine/job/step_units.h"

#include "out/checkpoint_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A blob's header: variable, t0, t1, planes, bytes per step of a plane. */
enum { UNIT_HEAD_WORDS = 5 };

static void unit_name(char *buf, size_t size, const char *prefix, uint64_t v, uint64_t t0,
                      uint64_t t1)
{
    snprintf(buf, size, "%s%" PRIu64 "-%" PRIu64 "-%" PRIu64, prefix, v, t0, t1);
}

static int ref_cmp(const void *a, const void *b)
{
    const job_unit_ref *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    if (x->t0 != y->t0)
        return x->t0 < y->t0 ? -1 : 1;
    return x->t1 < y->t1 ? -1 : x->t1 > y->t1;
}

void job_units_free(job_units *u)
{
    for (size_t i = 0; i < u->ndirs; i++)
        free(u->dirs[i]);
    free(u->dirs);
    free(u->refs);
    memset(u, 0, sizeof *u);
}

floe_err job_units_index(job_units *u, const char *letter, const char *const *dirs, size_t ndirs)
{
    memset(u, 0, sizeof *u);
    snprintf(u->prefix, sizeof u->prefix, "%s-", letter);
    u->dirs = calloc(ndirs ? ndirs : 1, sizeof *u->dirs);
    if (!u->dirs)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint index");
    floe_err err = NULL;
    size_t cap = 0;
    for (size_t d = 0; d < ndirs && !err; d++) {
        u->dirs[d] = strdup(dirs[d]);
        u->ndirs++;
        if (!u->dirs[d]) {
            err = FLOE_ERR(FLOE_ENOMEM, "checkpoint index");
            break;
        }
        char **names = NULL;
        size_t n = 0;
        err = floe_ckpt_list(dirs[d], u->prefix, &names, &n);
        if (err && floe_err_code(err) == FLOE_ENOTFOUND) { /* no store: no units */
            floe_err_free(&err);
            continue;
        }
        for (size_t i = 0; i < n && !err; i++) {
            job_unit_ref r = {.dir = d};
            char tail;
            if (sscanf(names[i] + strlen(u->prefix), "%" SCNu64 "-%" SCNu64 "-%" SCNu64 "%c",
                       &r.v, &r.t0, &r.t1, &tail) != 3 || r.t1 <= r.t0)
                continue; /* not a unit of this job */
            if (u->n == cap) {
                size_t c = cap ? 2 * cap : 64;
                job_unit_ref *p = realloc(u->refs, c * sizeof *p);
                if (!p) {
                    err = FLOE_ERR(FLOE_ENOMEM, "checkpoint index (%zu units)", c);
                    break;
                }
                u->refs = p, cap = c;
            }
            u->refs[u->n++] = r;
        }
        floe_ckpt_names_free(&names, n);
    }
    if (err) {
        job_units_free(u);
        return err;
    }
    if (u->n)
        qsort(u->refs, u->n, sizeof *u->refs, ref_cmp);
    return NULL;
}

/* The unit of variable v holding step t that reaches furthest, or NULL. */
static const job_unit_ref *unit_at(const job_units *u, uint64_t v, uint64_t t)
{
    const job_unit_ref *best = NULL;
    for (size_t i = 0; i < u->n; i++) {
        const job_unit_ref *r = &u->refs[i];
        if (r->v < v)
            continue;
        if (r->v > v || r->t0 > t)
            break;
        if (t < r->t1 && (!best || r->t1 > best->t1))
            best = r;
    }
    return best;
}

uint64_t job_units_first_missing(const job_units *u, uint64_t v, uint64_t t0, uint64_t t1)
{
    uint64_t t = t0;
    while (t < t1) {
        const job_unit_ref *r = unit_at(u, v, t);
        if (!r)
            return t;
        t = r->t1;
    }
    return t1;
}

int job_units_covered(const job_units *u, uint64_t v, uint64_t t0, uint64_t t1)
{
    return u->n && job_units_first_missing(u, v, t0, t1) >= t1;
}

floe_err job_units_load(const job_units *u, uint64_t v, uint64_t t0, uint64_t t1, size_t planes,
                        size_t step_bytes, size_t plane_stride, void *dst, job_unit_ref *bad)
{
    uint64_t t = t0;
    while (t < t1) {
        const job_unit_ref *r = unit_at(u, v, t);
        if (!r)
            return FLOE_ERR(FLOE_ENOTFOUND, "%s: no saved unit holds step %" PRIu64
                            " of variable %" PRIu64, u->ndirs ? u->dirs[0] : "?", t, v);
        char name[FLOE_CKPT_NAME_MAX];
        unit_name(name, sizeof name, u->prefix, r->v, r->t0, r->t1);
        void *data = NULL;
        size_t n = 0;
        floe_err err = floe_ckpt_get(u->dirs[r->dir], name, &data, &n);
        if (err) {
            if (bad)
                *bad = *r;
            return err;
        }
        uint64_t head[UNIT_HEAD_WORDS];
        size_t steps = (size_t)(r->t1 - r->t0);
        int ok = n >= sizeof head;
        if (ok)
            memcpy(head, data, sizeof head);
        ok = ok && head[0] == r->v && head[1] == r->t0 && head[2] == r->t1 &&
             head[3] == planes && head[4] == step_bytes &&
             n == sizeof head + planes * steps * step_bytes;
        if (!ok) {
            free(data);
            return FLOE_ERR(FLOE_EFORMAT, "%s/%s.blob: a unit of another shape than this job's "
                            "(%zu planes of %zu bytes a step)", u->dirs[r->dir], name, planes,
                            step_bytes);
        }
        uint64_t end = r->t1 < t1 ? r->t1 : t1;
        const uint8_t *src = (const uint8_t *)data + sizeof head;
        for (size_t p = 0; p < planes; p++)
            memcpy((uint8_t *)dst + p * plane_stride + (size_t)(t - t0) * step_bytes,
                   src + (p * steps + (size_t)(t - r->t0)) * step_bytes,
                   (size_t)(end - t) * step_bytes);
        free(data);
        t = end;
    }
    return NULL;
}

void job_units_name(const job_units *u, const job_unit_ref *r, char *buf, size_t size)
{
    unit_name(buf, size, u->prefix, r->v, r->t0, r->t1);
}

floe_err job_units_drop(job_units *u, const job_unit_ref *r)
{
    job_unit_ref x = *r; /* r may point into the index, which moves */
    char name[FLOE_CKPT_NAME_MAX];
    job_units_name(u, &x, name, sizeof name);
    floe_err err = x.dir < u->ndirs ? floe_ckpt_drop(u->dirs[x.dir], name) : NULL;
    size_t k = 0; /* the index keeps its order */
    for (size_t i = 0; i < u->n; i++)
        if (u->refs[i].v != x.v || u->refs[i].t0 != x.t0 || u->refs[i].t1 != x.t1 ||
            u->refs[i].dir != x.dir)
            u->refs[k++] = u->refs[i];
    u->n = k;
    return err;
}

floe_err job_units_save(const char *dir, const char *letter, uint64_t v, uint64_t t0,
                        uint64_t t1, size_t planes, size_t step_bytes, size_t plane_stride,
                        const void *src)
{
    size_t steps = (size_t)(t1 - t0), body = planes * steps * step_bytes;
    uint64_t head[UNIT_HEAD_WORDS] = {v, t0, t1, planes, step_bytes};
    uint8_t *blob = malloc(sizeof head + (body ? body : 1));
    if (!blob)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint unit (%zu bytes)", body);
    memcpy(blob, head, sizeof head);
    for (size_t p = 0; p < planes; p++)
        memcpy(blob + sizeof head + p * steps * step_bytes,
               (const uint8_t *)src + p * plane_stride, steps * step_bytes);
    char prefix[8], name[FLOE_CKPT_NAME_MAX];
    snprintf(prefix, sizeof prefix, "%s-", letter);
    unit_name(name, sizeof name, prefix, v, t0, t1);
    floe_err err = floe_ckpt_put(dir, name, blob, sizeof head + body);
    free(blob);
    return err;
}
