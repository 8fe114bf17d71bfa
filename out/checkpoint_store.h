/* SPDX-License-Identifier: Apache-2.0 */
/* out/checkpoint_store.h - the checkpoint store: a folder of named blobs
 * that survives a crash, and the header saying whose progress it holds.
 *
 * A long job keeps its progress beside its output (OUT.floe-ckpt/ for
 * --checkpoint/--resume, OUT.floe-parts/ for --piece, engine/job/checkpoint.h);
 * this file is only the format, no MPI, no job logic:
 *
 *   DIR/header.json   {"format", "kind", "fingerprint", "request",
 *                      "snapshot", "version", "command", "cwd",
 *                      "credentials", "ranks", "piece", "pieces", "split"}:
 *                      written once when the store is created (atomically),
 *                      read back to check a resume belongs to the same
 *                      request; no secret is in it (the caller redacts the
 *                      request and the command: common/floe_redact.h);
 *   DIR/NAME.blob     one blob per name: "FLOECKP1", the payload's length
 *                      (uint64 little-endian), its FNV-1a 64 checksum, the
 *                      payload;
 *   DIR/lock*         lock files (floe_ckpt_lock): the pid and host of the
 *                      run holding it, for the line refusing another.
 *
 * Every write is atomic (common/floe_file.h: temporary in the same folder,
 * fsync, rename, fsync the folder): after a kill -9 or a power cut a blob
 * is either its old content, its new one or absent, never a part. A blob
 * that is nevertheless short or whose checksum does not match (a disk or a
 * hand that changed it) is refused by floe_ckpt_get with FLOE_ECHECKSUM
 * naming it; the caller decides whether to recompute it (a stats unit) or
 * stop.
 *
 *     floe_ckpt_header h = {.kind = "stats", .fingerprint = fp, ...};
 *     FLOE_CHECK(floe_ckpt_store_create("out.nc.floe-ckpt", &h));
 *     FLOE_CHECK(floe_ckpt_put("out.nc.floe-ckpt", "u-0-0-0", data, n));
 *     void *p; size_t len;
 *     FLOE_CHECK(floe_ckpt_get("out.nc.floe-ckpt", "u-0-0-0", &p, &len));
 */
#ifndef FLOE_OUT_CHECKPOINT_STORE_H
#define FLOE_OUT_CHECKPOINT_STORE_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

/* The layout of the store: the header and every saved unit (the blobs'
 * payloads: engine/job/step_units.c, engine/job/stats_checkpoint.c).
 * Bump it when the layout of any saved unit changes: a store of another
 * layout is refused on open ("remove it and start again"), never misread
 * (floe_version() is the same for every development build). */
#define FLOE_CKPT_FORMAT 2

/* Whose progress a store holds. Strings are owned by a header that
 * floe_ckpt_header_read filled (floe_ckpt_header_free), borrowed in one
 * the caller fills for create/check. */
typedef struct floe_ckpt_header {
    char *kind;        /* the command: "stats", "climatology", "extract", "series" */
    char *fingerprint; /* hex of floe_ckpt_hash(request) */
    char *request;     /* the request's canonical form (engine/job/checkpoint.h) */
    char *snapshot;    /* the snapshot id read */
    char *version;     /* floe_version() of the writer */
    char *command;     /* the command recorded in the output (for `floe merge`) */
    char *cwd;         /* the creator's working folder: where `floe merge` runs the
                          command, whose paths may be relative to it */
    int credentials;   /* the source carried credentials that were redacted away */
    int ranks;         /* the writer's rank count (informational) */
    int piece, pieces; /* --piece I/N; 0 and 0: not a piece */
    char *split;       /* what the pieces split: "time" or "variable" (--piece-by);
                          "": not pieces, or a store of an older floe */
} floe_ckpt_header;

/* The longest blob name (letters, digits, '.', '_', '-'). */
enum { FLOE_CKPT_NAME_MAX = 200 };

/* FNV-1a 64 of n bytes: the blobs' checksum and the request fingerprint. */
uint64_t floe_ckpt_hash(const void *data, size_t n);
/* The same as 16 lower-case hex digits and a NUL. */
void floe_ckpt_hash_hex(const void *data, size_t n, char out[17]);

/* floe_ckpt_hash_hex of the contents of the file at path, read in pieces
 * (a climatology may be large). */
floe_err floe_ckpt_file_hash_hex(const char *path, char out[17]);

/* Create dir (if it does not exist) and write h as its header. */
floe_err floe_ckpt_store_create(const char *dir, const floe_ckpt_header *h);
/* Read dir's header into *h (owned). FLOE_ENOTFOUND when dir has none;
 * FLOE_EFORMAT naming the file when it does not read; FLOE_EINVAL, one
 * line, when it has another FLOE_CKPT_FORMAT. */
floe_err floe_ckpt_header_read(const char *dir, floe_ckpt_header *h);
void floe_ckpt_header_free(floe_ckpt_header *h);
/* Whether the store's header `have` belongs to `want` (same kind, floe
 * version, snapshot and fingerprint; ranks and piece are not compared):
 * NULL, or one FLOE_EINVAL line naming dir and what differs. */
floe_err floe_ckpt_header_check(const char *dir, const floe_ckpt_header *have,
                                const floe_ckpt_header *want);

/* Write blob `name` atomically (replacing an older one). */
floe_err floe_ckpt_put(const char *dir, const char *name, const void *data, size_t n);
/* Read blob `name`: *data (owned, free(); n + 1 bytes, the last a NUL).
 * FLOE_ENOTFOUND when absent; FLOE_ECHECKSUM naming DIR/NAME.blob when
 * short, of another format or not matching its checksum. */
floe_err floe_ckpt_get(const char *dir, const char *name, void **data, size_t *n);
/* Remove blob `name` (one that did not read: it is computed again). An
 * absent one is not an error. */
floe_err floe_ckpt_drop(const char *dir, const char *name);
/* Whether blob `name` is there (not whether it reads). */
int floe_ckpt_has(const char *dir, const char *name);
/* The names of the blobs starting with prefix, sorted (strcmp): *names
 * (owned: floe_ckpt_names_free). */
floe_err floe_ckpt_list(const char *dir, const char *prefix, char ***names, size_t *n);
void floe_ckpt_names_free(char ***names, size_t n);

/* Take the lock file dir/name (a plain name, e.g. "lock") for as long as
 * *fd stays open: flock(), which the system releases when the process
 * dies (a kill -9 leaves no stale lock), with "pid PID on HOST" written in
 * it. Held by another process: FLOE_EBUSY, one line naming the store and
 * that holder. Where the file system has no locks: *fd = -1 and NULL (no
 * lock, the run goes on). */
floe_err floe_ckpt_lock(const char *dir, const char *name, int *fd);
/* Release a lock floe_ckpt_lock took (fd -1: none); *fd becomes -1. */
void floe_ckpt_unlock(int *fd);

/* Remove the store: its header, blobs, lock files and temporaries left by dead writers,
 * then the folder. A folder that is not there is not an error; a file
 * in it that the store did not write is left, and so is the folder. */
floe_err floe_ckpt_store_remove(const char *dir);

#endif
