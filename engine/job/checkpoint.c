/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/checkpoint.c - see checkpoint.h. Only rank 0 touches the
 * store's header; the ranks learn the outcome by broadcast. */
#include "engine/job/checkpoint.h"

#include "common/floe_interrupt.h"
#include "common/floe_log.h"
#include "common/floe_redact.h"
#include "common/floe_version.h"
#include "engine/mpi/check.h"
#include "out/checkpoint_store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

job_ckpt_mode job_ckpt_mode_of(const floe_job_request *q)
{
    /* a dry run writes nothing, a checkpoint neither */
    return q->dry_run ? JOB_CKPT_NONE
           : q->merge ? JOB_CKPT_MERGE
           : q->pieces ? JOB_CKPT_PIECE
           : q->checkpoint || q->resume ? JOB_CKPT_RUN
                                        : JOB_CKPT_NONE;
}

/* Append "key=value\n" to the growing text *t (size *n, used *len), the
 * value redacted (common/floe_redact.h): the text is kept in the store's
 * header, which must hold no password or signature, and a pre-signed URL
 * refreshed between an interrupted run and --resume (or between pieces)
 * is the same request. Local paths and plain values are unchanged. */
static int add_line(char **t, size_t *n, size_t *len, const char *key, const char *value)
{
    char *shown = floe_redact_dup(value ? value : "");
    if (!shown)
        return 0;
    size_t need = *len + strlen(key) + strlen(shown) + 3;
    if (need > *n) {
        size_t grown = need * 2;
        char *p = realloc(*t, grown);
        if (!p) {
            free(shown);
            return 0;
        }
        *t = p;
        *n = grown;
    }
    *len += (size_t)sprintf(*t + *len, "%s=%s\n", key, shown);
    free(shown);
    return 1;
}

char *job_ckpt_request_text(const char *kind, const floe_job_request *q,
                            const char *const *extra)
{
    static const char *const refs[] = {"default", "branch", "tag", "snapshot"};
    const char *ref = (size_t)q->open.ref_kind < sizeof refs / sizeof *refs
                          ? refs[q->open.ref_kind] : "?";
    char *t = NULL;
    size_t n = 0, len = 0;
    int ok = add_line(&t, &n, &len, "command", kind) &&
             add_line(&t, &n, &len, "source", q->open.source) &&
             add_line(&t, &n, &len, "asset", q->open.asset) &&
             add_line(&t, &n, &len, "version", ref) &&
             add_line(&t, &n, &len, "ref", q->open.ref) &&
             add_line(&t, &n, &len, "variables", q->vars) &&
             add_line(&t, &n, &len, "bbox", q->bbox) &&
             add_line(&t, &n, &len, "time", q->time) &&
             add_line(&t, &n, &len, "time-label", q->time_label) &&
             add_line(&t, &n, &len, "anomaly-from", q->anomaly_from) &&
             add_line(&t, &n, &len, "output", q->output) &&
             add_line(&t, &n, &len, "item", q->item) &&
             add_line(&t, &n, &len, "collection", q->collection);
    for (size_t i = 0; ok && extra && extra[i]; i += 2)
        ok = add_line(&t, &n, &len, extra[i], extra[i + 1]);
    if (!ok) {
        free(t);
        return NULL;
    }
    return t;
}

const char *job_piece_by_name(int piece_by)
{
    return piece_by == JOB_PIECE_BY_VARIABLE ? "variable" : "time";
}

int job_ckpt_piece_by_time(const job_ckpt *c)
{
    return c->mode == JOB_CKPT_PIECE && c->piece_by == JOB_PIECE_BY_TIME;
}

void job_ckpt_piece_vars(const job_ckpt *c, size_t nvars, size_t *v0, size_t *v1)
{
    *v0 = 0;
    *v1 = nvars;
    if (c->mode != JOB_CKPT_PIECE || c->piece_by != JOB_PIECE_BY_VARIABLE || c->pieces < 1)
        return;
    size_t n = (size_t)c->pieces, p = (size_t)c->piece - 1, base = nvars / n, extra = nvars % n;
    *v0 = p * base + (p < extra ? p : extra);
    *v1 = *v0 + base + (p < extra);
}

void job_ckpt_piece_name(int piece, int pieces, char *buf, size_t size)
{
    snprintf(buf, size, "piece-%d-of-%d", piece, pieces);
}

/* The request text with the lines only rank 0 computes: the contents'
 * hash of the --anomaly-from file (another climatology under the same name
 * is another request). Owned, free(). */
static floe_err full_request(const floe_job_request *q, const char *text, char **full)
{
    char hash[17] = "";
    if (q->anomaly_from)
        FLOE_CHECK(floe_ckpt_file_hash_hex(q->anomaly_from, hash));
    size_t n = strlen(text) + sizeof "anomaly-from-contents=\n" + sizeof hash;
    if (!(*full = malloc(n)))
        return FLOE_ERR(FLOE_ENOMEM, "the request's canonical form");
    snprintf(*full, n, "%sanomaly-from-contents=%s\n", text, hash);
    return NULL;
}

/* The lock a run holds on its store: the run's, or its piece's. */
static void lock_name(const job_ckpt *c, char *buf, size_t size)
{
    if (c->mode == JOB_CKPT_PIECE)
        snprintf(buf, size, "lock-piece-%d-of-%d", c->piece, c->pieces);
    else
        snprintf(buf, size, "lock");
}

/* Rank 0: create the store with the header want, or check that the one
 * there matches it; *resumed = it was there. */
static floe_err create_or_check(const floe_job_request *q, job_ckpt *c,
                                const floe_ckpt_header *want, int *resumed)
{
    floe_ckpt_header have;
    floe_err err = floe_ckpt_header_read(c->dir, &have);
    *resumed = err == NULL;
    if (err && floe_err_code(err) != FLOE_ENOTFOUND)
        return err;
    if (err) { /* no store: a fresh run, or a merge with nothing to merge */
        floe_err_free(&err);
        if (c->mode == JOB_CKPT_MERGE)
            return FLOE_ERR(FLOE_ENOTFOUND, "merge: %s holds no pieces (run the command with "
                            "--piece I/N for every I first)", c->dir);
        return floe_ckpt_store_create(c->dir, want);
    }
    if (c->mode == JOB_CKPT_RUN && !q->resume)
        err = FLOE_ERR(FLOE_EINVAL, "checkpoint %s exists: continue it with --resume, or "
                       "remove it to start again", c->dir);
    if (!err)
        err = floe_ckpt_header_check(c->dir, &have, want);
    /* a store of an older floe records no split: pieces by time */
    const char *split = have.split && *have.split ? have.split : job_piece_by_name(0);
    if (!err && c->mode == JOB_CKPT_MERGE) { /* what the pieces were */
        c->pieces = have.pieces;
        c->piece_by = strcmp(split, job_piece_by_name(JOB_PIECE_BY_VARIABLE))
                          ? JOB_PIECE_BY_TIME : JOB_PIECE_BY_VARIABLE;
    }
    if (!err && c->mode == JOB_CKPT_PIECE && strcmp(split, want->split))
        err = FLOE_ERR(FLOE_EINVAL, "%s holds pieces of a split by %s, not by %s: use "
                       "--piece-by %s, or remove it", c->dir, split, want->split, split);
    if (!err && c->mode == JOB_CKPT_PIECE && have.pieces != c->pieces)
        err = FLOE_ERR(FLOE_EINVAL, "%s holds pieces of a split into %d, not %d: use --piece "
                       "I/%d, or remove it", c->dir, have.pieces, c->pieces, have.pieces);
    for (int i = 1; !err && c->mode == JOB_CKPT_MERGE && i <= c->pieces; i++) {
        char name[64];
        job_ckpt_piece_name(i, c->pieces, name, sizeof name);
        if (!floe_ckpt_has(c->dir, name))
            err = FLOE_ERR(FLOE_ENOTFOUND, "merge: %s lacks piece %d of %d: run the command "
                           "with --piece %d/%d (and --resume if it was interrupted) first",
                           c->dir, i, c->pieces, i, c->pieces);
    }
    floe_ckpt_header_free(&have);
    return err;
}

/* Rank 0: create or check the store, and lock it; *resumed = it was there. */
static floe_err open_store(const floe_job_request *q, const char *kind, const char *request,
                           const char *snapshot, int ranks, job_ckpt *c, int *resumed)
{
    char *text = NULL;
    FLOE_CHECK(full_request(q, request, &text));
    char fp[17], cwd[PATH_MAX] = "";
    floe_ckpt_hash_hex(text, strlen(text), fp);
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0'; /* merge then runs where it is started */
    char *source = floe_redact_dup(q->open.source);
    /* the CLI's command is redacted already; another caller's may not be */
    char *command = floe_redact_dup(q->command ? q->command : "");
    floe_ckpt_header want = {
        .kind = (char *)kind, .fingerprint = fp, .request = text,
        .snapshot = (char *)snapshot, .version = (char *)floe_version(),
        .command = command, .cwd = cwd,
        .credentials = source && q->open.source && strcmp(source, q->open.source) != 0,
        .ranks = ranks, .piece = 0, .pieces = c->mode == JOB_CKPT_RUN ? 0 : c->pieces,
        .split = (char *)(c->mode == JOB_CKPT_RUN ? "" : job_piece_by_name(c->piece_by)),
    };
    free(source);
    floe_err err = text && command ? create_or_check(q, c, &want, resumed)
                                   : FLOE_ERR(FLOE_ENOMEM, "the checkpoint's header");
    free(text);
    free(command);
    /* one run at a time on a store (a duplicated job would remove it under
     * the other at its commit): held until job_ckpt_free or the end */
    char name[64];
    lock_name(c, name, sizeof name);
    if (!err)
        err = floe_ckpt_lock(c->dir, name, &c->lock_fd);
    return err;
}

floe_err job_ckpt_open(const floe_mpi *mpi, const floe_job_request *q, const char *kind,
                       const char *request_text, const char *snapshot, job_ckpt *c)
{
    memset(c, 0, sizeof *c);
    c->lock_fd = -1;
    c->mode = job_ckpt_mode_of(q);
    if (c->mode == JOB_CKPT_NONE)
        return NULL;
    c->piece = q->piece;
    c->pieces = q->pieces;
    c->piece_by = q->piece_by;
    const char *suffix = c->mode == JOB_CKPT_RUN ? JOB_CKPT_SUFFIX : JOB_PARTS_SUFFIX;
    size_t n = strlen(q->output) + strlen(suffix) + 1;
    floe_err err = NULL;
    if (!(c->dir = malloc(n)))
        err = FLOE_ERR(FLOE_ENOMEM, "the checkpoint's name");
    else
        snprintf(c->dir, n, "%s%s", q->output, suffix);
    /* resumed, pieces, split (merge: from the store) */
    int state[3] = {0, c->pieces, c->piece_by};
    if (!err && !request_text)
        err = FLOE_ERR(FLOE_ENOMEM, "the request's canonical form");
    if (!err && mpi->rank == 0)
        err = open_store(q, kind, request_text, snapshot ? snapshot : "", mpi->size, c,
                         &state[0]);
    /* a stop asked for before the store opened (the CLI defers signals
     * from the start: cli/options.c): nothing is saved yet, and the store
     * (header only) is kept for --resume */
    if (!err && c->mode != JOB_CKPT_MERGE && floe_interrupt_requested())
        err = job_ckpt_interrupted(c);
    state[1] = c->pieces;
    state[2] = c->piece_by;
    if (!floe_mpi_agree(mpi->comm, &err) && mpi->comm != MPI_COMM_NULL) /* collective */
        err = FLOE_CHECK_MPI(MPI_Bcast(state, 3, MPI_INT, 0, mpi->comm), "the checkpoint's state");
    if (err)
        return err;
    c->resumed = state[0];
    c->pieces = state[1];
    c->piece_by = state[2];
    if (c->mode != JOB_CKPT_MERGE)
        floe_interrupt_defer(1);
    if (c->resumed && c->mode != JOB_CKPT_MERGE)
        FLOE_INFO0("resuming from %s", c->dir);
    return NULL;
}

int job_ckpt_stop(const job_ckpt *c)
{
    return c->mode == JOB_CKPT_NONE ? 0 : floe_interrupt_requested();
}

floe_err job_ckpt_interrupted(const job_ckpt *c)
{
    int sig = floe_interrupt_requested();
    return FLOE_ERR(FLOE_EINTERRUPTED, "interrupted by %s: checkpoint kept in %s: rerun the "
                    "same command with --resume to continue",
                    sig ? floe_interrupt_signal_name(sig) : "a signal", c->dir);
}

floe_err job_ckpt_finish(const floe_mpi *mpi, job_ckpt *c, floe_err err)
{
    if (c->mode == JOB_CKPT_NONE || err)
        return err;
    floe_err e = NULL;
    if (mpi->rank == 0 && c->mode == JOB_CKPT_PIECE) {
        char name[64];
        job_ckpt_piece_name(c->piece, c->pieces, name, sizeof name);
        e = floe_ckpt_put(c->dir, name, "", 0);
        /* the one line a piece run ends with (not -q): what to do next */
        if (!e && floe_log_get_level() >= FLOE_LOG_WARN)
            fprintf(stderr, "floe: piece %d of %d kept in %s: run `floe merge %.*s` once all "
                    "%d are done\n", c->piece, c->pieces, c->dir,
                    (int)(strlen(c->dir) - strlen(JOB_PARTS_SUFFIX)), c->dir, c->pieces);
    } else if (mpi->rank == 0) {
        floe_err r = floe_ckpt_store_remove(c->dir);
        if (r) { /* the output is in place: a leftover folder is no failure */
            char line[512];
            FLOE_WARN("the output is in place, but %s", floe_err_line(r, line, sizeof line));
            floe_err_free(&r);
        }
    }
    return floe_mpi_agree(mpi->comm, &e); /* collective */
}

void job_ckpt_free(job_ckpt *c)
{
    if (c->dir) /* lock_fd is set once dir is */
        floe_ckpt_unlock(&c->lock_fd);
    free(c->dir);
    c->dir = NULL;
    floe_interrupt_defer(0);
}

floe_err job_ckpt_parts_command(const char *output, char **kind, char **command)
{
    *kind = *command = NULL;
    size_t n = strlen(output) + strlen(JOB_PARTS_SUFFIX) + 1;
    char *dir = malloc(n);
    if (!dir)
        return FLOE_ERR(FLOE_ENOMEM, "the parts' name");
    snprintf(dir, n, "%s%s", output, JOB_PARTS_SUFFIX);
    floe_ckpt_header h;
    floe_err err = floe_ckpt_header_read(dir, &h);
    if (err && floe_err_code(err) == FLOE_ENOTFOUND) {
        floe_err_free(&err);
        err = FLOE_ERR(FLOE_ENOTFOUND, "merge: %s: no pieces to merge (run the command with "
                       "--piece I/N and -o %s first)", dir, output);
    }
    if (!err && (!*h.kind || !*h.command || h.pieces < 1))
        err = FLOE_ERR(FLOE_EFORMAT, "merge: %s records no pieces", dir);
    if (!err) {
        *kind = h.kind;
        *command = h.command;
        h.kind = h.command = NULL;
    }
    floe_ckpt_header_free(&h);
    free(dir);
    return err;
}

/* The value of the line "key=..." of a request text (owned), "" if none. */
static char *request_value(const char *text, const char *key)
{
    size_t k = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == '=')
            return strndup(l + k + 1, strcspn(l + k + 1, "\n"));
    return strdup("");
}

floe_err job_ckpt_parts_origin(const char *output, job_ckpt_origin *o)
{
    memset(o, 0, sizeof *o);
    size_t n = strlen(output) + strlen(JOB_PARTS_SUFFIX) + 1;
    char *dir = malloc(n);
    if (!dir)
        return FLOE_ERR(FLOE_ENOMEM, "the parts' name");
    snprintf(dir, n, "%s%s", output, JOB_PARTS_SUFFIX);
    floe_ckpt_header h;
    floe_err err = floe_ckpt_header_read(dir, &h);
    free(dir);
    if (err)
        return err;
    o->cwd = h.cwd;
    h.cwd = NULL;
    o->output = request_value(h.request, "output");
    o->source = request_value(h.request, "source");
    o->credentials = h.credentials;
    floe_ckpt_header_free(&h);
    if (!o->output || !o->source) {
        job_ckpt_origin_free(o);
        return FLOE_ERR(FLOE_ENOMEM, "merge: the parts' header");
    }
    return NULL;
}

void job_ckpt_origin_free(job_ckpt_origin *o)
{
    free(o->cwd);
    free(o->output);
    free(o->source);
    memset(o, 0, sizeof *o);
}
