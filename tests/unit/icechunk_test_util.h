/* SPDX-License-Identifier: Apache-2.0 */
/* icechunk_test_util.h - helpers shared by the Icechunk reader's tests
 * (static, included by each test program): where the fixtures are, a
 * transport, opening a fixture repository, asserting error codes, and
 * copying a fixture to a scratch folder for corruption tests (the shared
 * fixtures are never modified). Include after <cmocka.h>.
 */
#ifndef FLOE_ICECHUNK_TEST_UTIL_H
#define FLOE_ICECHUNK_TEST_UTIL_H

#include "io/icechunk/icechunk.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The repository root: FLOE_SOURCE_DIR (set by ctest), else from __FILE__. */
static inline void tu_source_dir(char *buf, size_t size)
{
    const char *env = getenv("FLOE_SOURCE_DIR");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return;
    }
    snprintf(buf, size, "%s", __FILE__);
    char *p = strstr(buf, "/tests/unit/");
    if (p)
        *p = 0;
}

/* shared/fixtures/icechunk/NAME/ (FLOE_SHARED_DIR, else SOURCE/../shared). */
static inline void tu_fixture_dir(const char *name, char *buf, size_t size)
{
    const char *shared = getenv("FLOE_SHARED_DIR");
    char src[1024];
    if (shared && *shared) {
        snprintf(buf, size, "%s/fixtures/icechunk/%s/", shared, name);
        return;
    }
    tu_source_dir(src, sizeof src);
    snprintf(buf, size, "%.900s/../shared/fixtures/icechunk/%s/", src, name);
}

static inline floe_transport *tu_transport(void)
{
    floe_transport *t = NULL;
    floe_err err = floe_transport_new(NULL, &t);
    if (err) {
        char line[512];
        fprintf(stderr, "floe_transport_new: %s\n", floe_err_line(err, line, sizeof line));
        floe_err_free(&err);
        return NULL;
    }
    return t;
}

/* Print an unexpected error (so a failing test says why) and return 1. */
static inline int tu_report(floe_err err, const char *what)
{
    if (!err)
        return 0;
    char line[1024];
    fprintf(stderr, "%s: %s\n", what, floe_err_line(err, line, sizeof line));
    return 1;
}

#define TU_OK(call)                                                             \
    do {                                                                        \
        floe_err tu_err_ = (call);                                              \
        if (tu_report(tu_err_, #call)) {                                        \
            floe_err_free(&tu_err_);                                            \
            fail_msg("%s failed", #call);                                       \
        }                                                                       \
    } while (0)

/* Assert that err has code `code` and its one-line text contains `needle`
 * (if not NULL); frees err. */
static inline void tu_expect_err(floe_err err, floe_code code, const char *needle)
{
    char line[2048];
    if (!err)
        fail_msg("expected a %s error, got success", floe_code_name(code));
    floe_err_line(err, line, sizeof line);
    floe_code got = floe_err_code(err);
    if (got != code) {
        floe_err_free(&err);
        fail_msg("expected a %s error, got %s: %s", floe_code_name(code), floe_code_name(got), line);
    }
    if (strchr(line, '\n')) {
        floe_err_free(&err);
        fail_msg("error text spans lines: %s", line);
    }
    if (needle && !strstr(line, needle)) {
        floe_err_free(&err);
        fail_msg("error \"%s\" does not mention \"%s\"", line, needle);
    }
    floe_err_free(&err);
}

static inline ic_repo *tu_open_root(floe_transport *t, const char *root)
{
    ic_repo *r = NULL;
    floe_err err = ic_repo_open(t, root, &r);
    if (tu_report(err, root)) {
        floe_err_free(&err);
        fail_msg("cannot open repository %s", root);
    }
    return r;
}

static inline ic_repo *tu_open(floe_transport *t, const char *fixture)
{
    char dir[1024];
    tu_fixture_dir(fixture, dir, sizeof dir);
    ic_repo *r = NULL;
    floe_err err = ic_repo_open(t, dir, &r);
    if (tu_report(err, fixture)) {
        floe_err_free(&err);
        fail_msg("cannot open fixture %s", fixture);
    }
    return r;
}

/* Load the snapshot a ref names (kind/name), asserting it is want_id if not NULL. */
static inline ic_snapshot *tu_snapshot(ic_repo *r, ic_ref_kind kind, const char *name, const char *want_id)
{
    char id[IC_SNAPSHOT_ID_SIZE];
    TU_OK(ic_repo_resolve(r, kind, name, id));
    if (want_id && strcmp(id, want_id) != 0)
        fail_msg("%s resolves to %s, expected %s", name, id, want_id);
    ic_snapshot *s = NULL;
    TU_OK(ic_snapshot_load(r, id, &s));
    return s;
}

static inline const ic_node *tu_node(const ic_snapshot *s, const char *path)
{
    const ic_node *n = ic_snapshot_find(s, path);
    if (!n)
        fail_msg("node %s not in snapshot %s", path, ic_snapshot_id(s));
    return n;
}

static inline ic_chunk_ref tu_ref(ic_repo *r, const ic_node *n, uint64_t c0, uint64_t c1, uint64_t c2)
{
    uint64_t c[3] = {c0, c1, c2};
    ic_chunk_ref ref;
    TU_OK(ic_chunk_ref_lookup(r, n, c, &ref));
    return ref;
}

/* ---- scratch copies --------------------------------------------------------------- */

static inline int tu_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return -1;
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return fclose(out);
}

/* Recursive copy of a directory tree (regular files and folders). */
static inline int tu_copy_tree(const char *from, const char *to)
{
    if (mkdir(to, 0755) != 0)
        return -1;
    DIR *d = opendir(from);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%.2000s/%.255s", from, e->d_name);
        snprintf(b, sizeof b, "%.2000s/%.255s", to, e->d_name);
        struct stat st;
        if (stat(a, &st) != 0)
            rc = -1;
        else if (S_ISDIR(st.st_mode))
            rc = tu_copy_tree(a, b);
        else
            rc = tu_copy_file(a, b);
    }
    closedir(d);
    return rc;
}

static inline void tu_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%.2000s/%.255s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            tu_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(path);
}

/* A scratch copy of fixture NAME: writes its root (with a trailing '/')
 * into root. The caller removes it with tu_remove_tree. */
static inline void tu_scratch_copy(const char *fixture, char *root, size_t size)
{
    char tmpl[] = "/tmp/floe-icechunk-XXXXXX";
    if (!mkdtemp(tmpl))
        fail_msg("mkdtemp failed");
    char from[1024], to[256];
    tu_fixture_dir(fixture, from, sizeof from);
    snprintf(to, sizeof to, "%s/%.200s", tmpl, fixture);
    if (tu_copy_tree(from, to) != 0)
        fail_msg("cannot copy %s to %s", from, to);
    if ((size_t)snprintf(root, size, "%s/", to) >= size)
        fail_msg("scratch path too long");
}

static inline void tu_scratch_remove(const char *root)
{
    char dir[1200];
    size_t n = strlen(root);
    if (n >= sizeof dir)
        return;
    memcpy(dir, root, n + 1);
    if (n && dir[n - 1] == '/')
        dir[n - 1] = 0;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0; /* the mkdtemp folder holding the copy */
    if (strncmp(dir, "/tmp/floe-icechunk-", 19) == 0)
        tu_remove_tree(dir);
}

static inline uint8_t *tu_read_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p)
        *len = (size_t)n;
    return p;
}

static inline void tu_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s", path);
    if (n)
        fwrite(p, 1, n, f);
    fclose(f);
}

#endif
