/* SPDX-License-Identifier: Apache-2.0 */
/* out/checkpoint_store.c - see checkpoint_store.h. The atomic writes are
 * common/floe_file.h's; this file adds the blob framing (magic, length,
 * checksum), the header as JSON and the listing. */
#define _XOPEN_SOURCE 700
#include "out/checkpoint_store.h"

#include "common/floe_file.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOB_MAGIC "FLOECKP1"
#define BLOB_SUFFIX ".blob"
#define HEADER_NAME "header.json"
/* The header's "format": a store of another layout is refused, not misread. */
#define STORE_FORMAT_PREFIX "floe-checkpoint-"
#define STORE_FORMAT_OF(n) STORE_FORMAT_PREFIX #n
#define STORE_FORMAT_STR(n) STORE_FORMAT_OF(n)
#define STORE_FORMAT STORE_FORMAT_STR(FLOE_CKPT_FORMAT)
/* Lock files: "lock" and "lock-..." (not blobs, not the header). */
#define LOCK_PREFIX "lock"
/* What a lock file holds: "pid PID on HOST". */
enum { LOCK_TEXT_MAX = 300, FILE_HASH_PIECE = 1 << 16 };
/* magic, length, checksum */
enum { BLOB_HEAD = 8 + 8 + 8 };

/* FNV-1a 64 of n more bytes after h (it runs on in pieces). */
static uint64_t hash_on(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull; /* FNV-1a 64 prime */
    }
    return h;
}

uint64_t floe_ckpt_hash(const void *data, size_t n)
{
    return hash_on(0xcbf29ce484222325ull, data, n); /* FNV-1a 64 offset basis */
}

floe_err floe_ckpt_file_hash_hex(const char *path, char out[17])
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return FLOE_ERR(errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO, "%s: cannot read it: %s",
                        path, strerror(errno));
    uint8_t *piece = malloc(FILE_HASH_PIECE);
    uint64_t h = floe_ckpt_hash(NULL, 0);
    size_t got;
    while (piece && (got = fread(piece, 1, FILE_HASH_PIECE, fp)) > 0)
        h = hash_on(h, piece, got);
    int bad = !piece || ferror(fp);
    fclose(fp);
    free(piece);
    if (bad)
        return FLOE_ERR(FLOE_EIO, "%s: reading it failed", path);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return NULL;
}

void floe_ckpt_hash_hex(const void *data, size_t n, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)floe_ckpt_hash(data, n));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* dir/name (owned). */
static char *join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

static floe_err check_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > FLOE_CKPT_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n ||
        name[0] == '.')
        return FLOE_ERR(FLOE_EINTERNAL, "checkpoint blob name '%s' is not a plain name", name);
    return NULL;
}

floe_err floe_ckpt_put(const char *dir, const char *name, const void *data, size_t n)
{
    FLOE_CHECK(check_name(name));
    char *path = join(dir, name, BLOB_SUFFIX);
    if (!path)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint %s/%s", dir, name);
    uint8_t head[BLOB_HEAD];
    memcpy(head, BLOB_MAGIC, 8);
    put_u64(head + 8, n);
    put_u64(head + 16, floe_ckpt_hash(data, n));
    floe_file *f = NULL;
    floe_err err = floe_file_open(path, &f);
    if (!err)
        err = floe_file_write(f, head, sizeof head);
    if (!err)
        err = floe_file_write(f, data, n);
    if (err)
        floe_file_abort(&f);
    else
        err = floe_file_commit(&f);
    if (err)
        err = floe_err_push(err, __FILE__, __LINE__, "checkpoint blob %s", path);
    free(path);
    return err;
}

/* The whole of a file (owned, with a NUL after it). ENOTFOUND if absent. */
static floe_err slurp(const char *path, uint8_t **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno == ENOENT ? FLOE_ERR(FLOE_ENOTFOUND, "%s: no such file", path)
                               : FLOE_ERR(FLOE_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return FLOE_ERR(FLOE_EIO, "%s: %s", path, strerror(errno));
    }
    size_t size = (size_t)st.st_size;
    uint8_t *p = malloc(size + 1);
    if (!p) {
        fclose(fp);
        return FLOE_ERR(FLOE_ENOMEM, "%s: %zu bytes", path, size);
    }
    size_t got = fread(p, 1, size, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad || got != size) {
        free(p);
        return FLOE_ERR(FLOE_EIO, "%s: read %zu of %zu bytes", path, got, size);
    }
    p[size] = 0;
    *data = p;
    *n = size;
    return NULL;
}

floe_err floe_ckpt_get(const char *dir, const char *name, void **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    FLOE_CHECK(check_name(name));
    char *path = join(dir, name, BLOB_SUFFIX);
    if (!path)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint %s/%s", dir, name);
    uint8_t *raw;
    size_t size;
    floe_err err = slurp(path, &raw, &size);
    if (!err) {
        uint64_t len = size >= BLOB_HEAD ? get_u64(raw + 8) : 0;
        if (size < BLOB_HEAD || memcmp(raw, BLOB_MAGIC, 8) != 0)
            err = FLOE_ERR(FLOE_ECHECKSUM, "checkpoint blob %s is not a floe checkpoint blob "
                           "(%zu bytes)", path, size);
        else if (len != size - BLOB_HEAD)
            err = FLOE_ERR(FLOE_ECHECKSUM, "checkpoint blob %s is torn: %zu bytes of %llu",
                           path, size - BLOB_HEAD, (unsigned long long)len);
        else if (floe_ckpt_hash(raw + BLOB_HEAD, (size_t)len) != get_u64(raw + 16))
            err = FLOE_ERR(FLOE_ECHECKSUM, "checkpoint blob %s is corrupt: its checksum does "
                           "not match", path);
        if (!err) {
            memmove(raw, raw + BLOB_HEAD, (size_t)len);
            raw[len] = 0;
            *data = raw;
            *n = (size_t)len;
        } else {
            free(raw);
        }
    }
    free(path);
    return err;
}

floe_err floe_ckpt_drop(const char *dir, const char *name)
{
    FLOE_CHECK(check_name(name));
    char *path = join(dir, name, BLOB_SUFFIX);
    floe_err err = !path ? FLOE_ERR(FLOE_ENOMEM, "checkpoint %s/%s", dir, name)
                   : unlink(path) != 0 && errno != ENOENT
                       ? FLOE_ERR(FLOE_EIO, "checkpoint blob %s: cannot remove it: %s", path,
                                  strerror(errno))
                       : NULL;
    free(path);
    return err;
}

int floe_ckpt_has(const char *dir, const char *name)
{
    if (check_name(name) != NULL) /* cannot be: not a name the store writes */
        return 0;
    char *path = join(dir, name, BLOB_SUFFIX);
    struct stat st;
    int has = path && stat(path, &st) == 0;
    free(path);
    return has;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void floe_ckpt_names_free(char ***names, size_t n)
{
    for (size_t i = 0; *names && i < n; i++)
        free((*names)[i]);
    free(*names);
    *names = NULL;
}

floe_err floe_ckpt_list(const char *dir, const char *prefix, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? FLOE_ERR(FLOE_ENOTFOUND, "checkpoint %s: no such folder", dir)
                               : FLOE_ERR(FLOE_EIO, "checkpoint %s: %s", dir, strerror(errno));
    size_t cap = 0, np = strlen(prefix), ns = strlen(BLOB_SUFFIX);
    floe_err err = NULL;
    for (struct dirent *e; !err && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= ns || strncmp(e->d_name, prefix, np) != 0 ||
            strcmp(e->d_name + len - ns, BLOB_SUFFIX) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(*names, cap * sizeof *grown);
            if (!grown) {
                err = FLOE_ERR(FLOE_ENOMEM, "checkpoint %s: listing", dir);
                break;
            }
            *names = grown;
        }
        if (!((*names)[*n] = strndup(e->d_name, len - ns)))
            err = FLOE_ERR(FLOE_ENOMEM, "checkpoint %s: listing", dir);
        else
            (*n)++;
    }
    closedir(d);
    if (err) {
        floe_ckpt_names_free(names, *n);
        *n = 0;
        return err;
    }
    if (*n)
        qsort(*names, *n, sizeof **names, by_name);
    return NULL;
}

floe_err floe_ckpt_store_create(const char *dir, const floe_ckpt_header *h)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return FLOE_ERR(FLOE_EIO, "checkpoint %s: cannot create the folder: %s", dir,
                        strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return FLOE_ERR(FLOE_EIO, "checkpoint %s: exists and is not a folder", dir);
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "format", STORE_FORMAT);
        cJSON_AddStringToObject(o, "kind", h->kind ? h->kind : "");
        cJSON_AddStringToObject(o, "fingerprint", h->fingerprint ? h->fingerprint : "");
        cJSON_AddStringToObject(o, "request", h->request ? h->request : "");
        cJSON_AddStringToObject(o, "snapshot", h->snapshot ? h->snapshot : "");
        cJSON_AddStringToObject(o, "version", h->version ? h->version : "");
        cJSON_AddStringToObject(o, "command", h->command ? h->command : "");
        cJSON_AddStringToObject(o, "cwd", h->cwd ? h->cwd : "");
        cJSON_AddBoolToObject(o, "credentials", h->credentials);
        cJSON_AddNumberToObject(o, "ranks", h->ranks);
        cJSON_AddNumberToObject(o, "piece", h->piece);
        cJSON_AddNumberToObject(o, "pieces", h->pieces);
        cJSON_AddStringToObject(o, "split", h->split ? h->split : "");
    }
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint %s: header", dir);
    char *path = join(dir, HEADER_NAME, "");
    floe_err err = path ? floe_file_write_text(path, text)
                        : FLOE_ERR(FLOE_ENOMEM, "checkpoint %s: header", dir);
    free(path);
    cJSON_free(text);
    return err;
}

static char *dup_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

static int int_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

void floe_ckpt_header_free(floe_ckpt_header *h)
{
    free(h->kind);
    free(h->fingerprint);
    free(h->request);
    free(h->snapshot);
    free(h->version);
    free(h->command);
    free(h->split);
    free(h->cwd);
    memset(h, 0, sizeof *h);
}

floe_err floe_ckpt_header_read(const char *dir, floe_ckpt_header *h)
{
    memset(h, 0, sizeof *h);
    char *path = join(dir, HEADER_NAME, "");
    if (!path)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint %s: header", dir);
    uint8_t *text;
    size_t n;
    floe_err err = slurp(path, &text, &n);
    if (err) {
        free(path);
        return err;
    }
    cJSON *o = cJSON_ParseWithLength((const char *)text, n);
    free(text);
    const cJSON *fmt = o ? cJSON_GetObjectItemCaseSensitive(o, "format") : NULL;
    if (cJSON_IsObject(o) && cJSON_IsString(fmt) && strcmp(fmt->valuestring, STORE_FORMAT) &&
        !strncmp(fmt->valuestring, STORE_FORMAT_PREFIX, strlen(STORE_FORMAT_PREFIX))) {
        err = FLOE_ERR(FLOE_EINVAL, "checkpoint %s has the layout %.40s of another floe, not "
                       "this floe's %s: remove it and start again", dir, fmt->valuestring,
                       STORE_FORMAT);
    } else if (!cJSON_IsObject(o) || !cJSON_IsString(fmt) ||
               strcmp(fmt->valuestring, STORE_FORMAT)) {
        err = FLOE_ERR(FLOE_EFORMAT, "checkpoint header %s does not read as %s JSON", path,
                       STORE_FORMAT);
    } else {
        h->kind = dup_field(o, "kind");
        h->fingerprint = dup_field(o, "fingerprint");
        h->request = dup_field(o, "request");
        h->snapshot = dup_field(o, "snapshot");
        h->version = dup_field(o, "version");
        h->command = dup_field(o, "command");
        h->cwd = dup_field(o, "cwd");
        h->credentials = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "credentials"));
        h->ranks = int_field(o, "ranks");
        h->piece = int_field(o, "piece");
        h->pieces = int_field(o, "pieces");
        h->split = dup_field(o, "split");
        if (!h->kind || !h->fingerprint || !h->request || !h->snapshot || !h->version ||
            !h->command || !h->split || !h->cwd) {
            floe_ckpt_header_free(h);
            err = FLOE_ERR(FLOE_ENOMEM, "checkpoint header %s", path);
        }
    }
    cJSON_Delete(o);
    free(path);
    return err;
}

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The first line of the canonical requests a and b that differs, as
 * "KEY: A there, B here" into buf. */
static void first_difference(const char *a, const char *b, char *buf, size_t size)
{
    a = a ? a : "";
    b = b ? b : "";
    while (*a || *b) {
        size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");
        if (na != nb || strncmp(a, b, na) != 0) {
            snprintf(buf, size, "%.*s there, %.*s here", (int)(na > 120 ? 120 : na), a,
                     (int)(nb > 120 ? 120 : nb), b);
            return;
        }
        a += na + (a[na] == '\n');
        b += nb + (b[nb] == '\n');
    }
    snprintf(buf, size, "the fingerprints differ");
}

floe_err floe_ckpt_header_check(const char *dir, const floe_ckpt_header *have,
                                const floe_ckpt_header *want)
{
    const char *what = "belongs to";
    if (!same(have->kind, want->kind))
        return FLOE_ERR(FLOE_EINVAL, "checkpoint %s %s another command (floe %s, not floe %s): "
                        "remove it or run that command", dir, what, have->kind, want->kind);
    if (!same(have->version, want->version))
        return FLOE_ERR(FLOE_EINVAL, "checkpoint %s was written by floe %s, not this floe %s: "
                        "remove it and start again", dir, have->version, want->version);
    if (!same(have->snapshot, want->snapshot))
        return FLOE_ERR(FLOE_EINVAL, "checkpoint %s %s snapshot %s, not %s (the one opened "
                        "now): remove it or open that snapshot", dir, what, have->snapshot,
                        want->snapshot);
    if (!same(have->fingerprint, want->fingerprint)) {
        char diff[300];
        first_difference(have->request, want->request, diff, sizeof diff);
        return FLOE_ERR(FLOE_EINVAL, "checkpoint %s %s another request (%s): remove it or "
                        "rerun that request", dir, what, diff);
    }
    return NULL;
}

floe_err floe_ckpt_store_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? NULL
                               : FLOE_ERR(FLOE_EIO, "checkpoint %s: %s", dir, strerror(errno));
    floe_err err = NULL;
    size_t ns = strlen(BLOB_SUFFIX);
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        int ours = strcmp(name, HEADER_NAME) == 0 ||
                   strncmp(name, LOCK_PREFIX, strlen(LOCK_PREFIX)) == 0 ||
                   (len > ns && strcmp(name + len - ns, BLOB_SUFFIX) == 0) ||
                   strstr(name, ".floe-tmp-") != NULL; /* a dead writer's */
        if (!ours)
            continue;
        char *path = join(dir, name, "");
        if (!path || (unlink(path) != 0 && errno != ENOENT)) {
            if (!err)
                err = FLOE_ERR(FLOE_EIO, "checkpoint %s: cannot remove %s", dir, name);
        }
        free(path);
    }
    closedir(d);
    if (!err && rmdir(dir) != 0 && errno != ENOENT)
        err = FLOE_ERR(FLOE_EIO, "checkpoint %s: cannot remove the folder: %s (files of "
                       "others are left in it)", dir, strerror(errno));
    return err;
}

floe_err floe_ckpt_lock(const char *dir, const char *name, int *fd)
{
    *fd = -1;
    FLOE_CHECK(check_name(name));
    char *path = join(dir, name, "");
    if (!path)
        return FLOE_ERR(FLOE_ENOMEM, "checkpoint %s: lock", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    floe_err err = NULL;
    if (f < 0) {
        err = FLOE_ERR(FLOE_EIO, "checkpoint %s: cannot open its lock %s: %s", dir, path,
                       strerror(errno));
    } else if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) { /* another run holds it: say which */
            char holder[LOCK_TEXT_MAX] = "";
            ssize_t n = pread(f, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
            err = FLOE_ERR(FLOE_EINVAL, "checkpoint %s is in use by another run of this request "
                           "(%s): wait for it to end, or stop it first", dir,
                           *holder ? holder : "its holder did not say who it is");
        } else if (errno != ENOLCK && errno != EOPNOTSUPP && errno != EINVAL) {
            err = FLOE_ERR(FLOE_EIO, "checkpoint %s: cannot lock %s: %s", dir, path,
                           strerror(errno));
        } /* else a file system without locks: go on without one */
        close(f);
        f = -1;
    } else {
        char host[256] = "?", text[LOCK_TEXT_MAX];
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "?");
        host[sizeof host - 1] = '\0';
        int n = snprintf(text, sizeof text, "pid %ld on %s\n", (long)getpid(), host);
        /* who holds it is for the refusal's line only: a failure here is no error */
        int written = ftruncate(f, 0) == 0 && pwrite(f, text, (size_t)n, 0) == n;
        (void)written;
    }
    free(path);
    *fd = f;
    return err;
}

void floe_ckpt_unlock(int *fd)
{
    if (*fd >= 0)
        close(*fd); /* releases the flock */
    *fd = -1;
}
