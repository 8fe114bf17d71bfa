/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the checkpoint store (out/checkpoint_store.h): blobs come
 * back with exactly their bytes, a second put replaces the first whole and
 * leaves no temporary, a store of another request, snapshot, version or
 * command is refused with a line naming the folder and what differs, a
 * torn or corrupted blob is refused naming it, listing is sorted and by
 * prefix, and removal takes the store's files and the folder (and leaves
 * a stranger's file). A store of another layout (FLOE_CKPT_FORMAT) is
 * refused on open; a lock is held against a second taker, naming the
 * holder; a file's hash is the hash of its contents. Each test works in
 * its own fresh folder. */
#include "out/checkpoint_store.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "floe_test.h"

typedef struct folder {
    char root[64];
    char dir[128]; /* root/out.nc.floe-ckpt: the store */
} folder;

static void folder_make(folder *f)
{
    snprintf(f->root, sizeof f->root, "/tmp/floe-test-ckpt-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/out.nc.floe-ckpt", f->root);
}

static void folder_remove(folder *f)
{
    expect_ok(floe_ckpt_store_remove(f->dir));
    assert_int_equal(rmdir(f->root), 0);
}

/* Entries of the store other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static floe_ckpt_header header(void)
{
    static char fp[17];
    static const char request[] = "command=stats\nsource=s3://b/store/\ntime=2001-01\n";
    floe_ckpt_hash_hex(request, strlen(request), fp);
    floe_ckpt_header h = {
        .kind = "stats", .fingerprint = fp, .request = (char *)request,
        .snapshot = "ABCDEFGH", .version = "1.2.3", .command = "floe stats s -o 'o n.nc'",
        .ranks = 2, .piece = 0, .pieces = 3, .split = "variable",
    };
    return h;
}

static void round_trip(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    floe_ckpt_header back;
    expect_ok(floe_ckpt_header_read(f.dir, &back));
    assert_string_equal(back.kind, "stats");
    assert_string_equal(back.fingerprint, h.fingerprint);
    assert_string_equal(back.request, h.request);
    assert_string_equal(back.snapshot, "ABCDEFGH");
    assert_string_equal(back.version, "1.2.3");
    assert_string_equal(back.command, h.command);
    assert_int_equal(back.ranks, 2);
    assert_int_equal(back.pieces, 3);
    assert_string_equal(back.split, "variable");
    expect_ok(floe_ckpt_header_check(f.dir, &back, &h));
    floe_ckpt_header_free(&back);

    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    expect_ok(floe_ckpt_put(f.dir, "u-0-1-2", data, sizeof data));
    expect_ok(floe_ckpt_put(f.dir, "empty", "", 0));
    assert_true(floe_ckpt_has(f.dir, "u-0-1-2"));
    assert_false(floe_ckpt_has(f.dir, "u-0-1-3"));
    void *p;
    size_t n;
    expect_ok(floe_ckpt_get(f.dir, "u-0-1-2", &p, &n));
    assert_int_equal(n, sizeof data);
    assert_memory_equal(p, data, sizeof data);
    free(p);
    expect_ok(floe_ckpt_get(f.dir, "empty", &p, &n));
    assert_int_equal(n, 0);
    free(p);
    expect_code(floe_ckpt_get(f.dir, "absent", &p, &n), FLOE_ENOTFOUND, "absent.blob");
    assert_null(p);
    /* a name that could escape the folder is not a name */
    expect_code(floe_ckpt_put(f.dir, "../x", "", 0), FLOE_EINTERNAL, "../x");
    folder_remove(&f);
}

static void put_replaces_whole(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    expect_ok(floe_ckpt_put(f.dir, "b", "a long first version", 20));
    expect_ok(floe_ckpt_put(f.dir, "b", "short", 5));
    void *p;
    size_t n;
    expect_ok(floe_ckpt_get(f.dir, "b", &p, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(p, "short", 5);
    free(p);
    assert_int_equal(entries(f.dir), 2); /* header and the blob: no temporary */
    folder_remove(&f);
}

static void another_request_is_refused(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    floe_ckpt_header have;
    expect_ok(floe_ckpt_header_read(f.dir, &have));

    floe_ckpt_header other = h;
    static const char req2[] = "command=stats\nsource=s3://b/store/\ntime=2001-02\n";
    char fp2[17];
    floe_ckpt_hash_hex(req2, strlen(req2), fp2);
    other.request = (char *)req2;
    other.fingerprint = fp2;
    expect_err(floe_ckpt_header_check(f.dir, &have, &other), FLOE_EINVAL, f.dir,
               "time=2001-01 there, time=2001-02 here");
    other = h;
    other.snapshot = "ZZZZ";
    expect_err(floe_ckpt_header_check(f.dir, &have, &other), FLOE_EINVAL, f.dir,
               "snapshot ABCDEFGH, not ZZZZ");
    other = h;
    other.version = "9.9.9";
    expect_err(floe_ckpt_header_check(f.dir, &have, &other), FLOE_EINVAL, f.dir,
               "floe 1.2.3, not this floe 9.9.9");
    other = h;
    other.kind = "climatology";
    expect_err(floe_ckpt_header_check(f.dir, &have, &other), FLOE_EINVAL, f.dir,
               "floe stats, not floe climatology");
    other = h;
    other.ranks = 4; /* another rank count is the same request */
    other.command = "floe stats s -o 'o n.nc' --resume";
    expect_ok(floe_ckpt_header_check(f.dir, &have, &other));
    floe_ckpt_header_free(&have);
    folder_remove(&f);
}

/* Change the byte at `at` of dir/name.blob, or cut the file to `at` bytes. */
static void damage(const char *dir, const char *name, long at, int cut)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.blob", dir, name);
    if (cut) {
        assert_int_equal(truncate(path, at), 0);
        return;
    }
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    fputc(c ^ 0x01, fp);
    fclose(fp);
}

static void damaged_blobs_are_refused(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    char data[300];
    memset(data, 'x', sizeof data);
    void *p;
    size_t n;
    expect_ok(floe_ckpt_put(f.dir, "flip", data, sizeof data));
    damage(f.dir, "flip", 24 + 150, 0); /* one bit of the payload */
    expect_err(floe_ckpt_get(f.dir, "flip", &p, &n), FLOE_ECHECKSUM, "flip.blob", "corrupt");
    assert_null(p);
    expect_ok(floe_ckpt_put(f.dir, "torn", data, sizeof data));
    damage(f.dir, "torn", 24 + 100, 1);
    expect_err(floe_ckpt_get(f.dir, "torn", &p, &n), FLOE_ECHECKSUM, "torn.blob", "torn");
    expect_ok(floe_ckpt_put(f.dir, "stub", data, sizeof data));
    damage(f.dir, "stub", 5, 1);
    expect_err(floe_ckpt_get(f.dir, "stub", &p, &n), FLOE_ECHECKSUM, "stub.blob", NULL);
    /* a header that does not read */
    char path[256];
    snprintf(path, sizeof path, "%s/header.json", f.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"format\": \"something else\"}\n", fp);
    fclose(fp);
    floe_ckpt_header back;
    expect_err(floe_ckpt_header_read(f.dir, &back), FLOE_EFORMAT, "header.json", NULL);
    folder_remove(&f);
}

static void list_and_remove(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header none;
    expect_code(floe_ckpt_header_read(f.dir, &none), FLOE_ENOTFOUND, NULL);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    const char *names[] = {"u-1-b", "u-1-a", "u-2-a", "piece-1-of-3"};
    for (size_t i = 0; i < 4; i++)
        expect_ok(floe_ckpt_put(f.dir, names[i], "x", 1));
    char **got;
    size_t n;
    expect_ok(floe_ckpt_list(f.dir, "u-1-", &got, &n));
    assert_int_equal(n, 2);
    assert_string_equal(got[0], "u-1-a");
    assert_string_equal(got[1], "u-1-b");
    floe_ckpt_names_free(&got, n);
    assert_null(got);
    expect_ok(floe_ckpt_list(f.dir, "", &got, &n));
    assert_int_equal(n, 4);
    floe_ckpt_names_free(&got, n);
    /* a dead writer's temporary goes with the store; a stranger's file stays */
    char path[256];
    snprintf(path, sizeof path, "%s/u-3.blob.floe-tmp-host-1", f.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/notes.txt", f.dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    expect_code(floe_ckpt_store_remove(f.dir), FLOE_EIO, "others");
    assert_int_equal(entries(f.dir), 1);
    assert_int_equal(unlink(path), 0);
    expect_ok(floe_ckpt_store_remove(f.dir));
    struct stat st;
    assert_int_not_equal(stat(f.dir, &st), 0);
    expect_ok(floe_ckpt_store_remove(f.dir)); /* gone: not an error */
    assert_int_equal(rmdir(f.root), 0);
}

/* What floe wrote before FLOE_CKPT_FORMAT 2 (no cwd, units of another
 * layout): refused with one line saying to remove it, not misread. */
static void another_layout_is_refused(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    char path[256];
    snprintf(path, sizeof path, "%s/header.json", f.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"format\": \"floe-checkpoint-1\", \"kind\": \"stats\", \"fingerprint\": \"0\", "
          "\"request\": \"\", \"snapshot\": \"A\", \"version\": \"1.2.3\", "
          "\"command\": \"\", \"ranks\": 1, \"piece\": 0, \"pieces\": 0}\n", fp);
    fclose(fp);
    floe_ckpt_header have;
    expect_err(floe_ckpt_header_read(f.dir, &have), FLOE_EINVAL, "floe-checkpoint-1",
               "remove it");
    folder_remove(&f);
}

/* A second taker of a held lock is refused with the holder's pid; once
 * released, it is free; the store's removal takes the lock file. */
static void lock_is_held(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    floe_ckpt_header h = header();
    expect_ok(floe_ckpt_store_create(f.dir, &h));
    int held, again;
    expect_ok(floe_ckpt_lock(f.dir, "lock", &held));
    assert_true(held >= 0);
    char holder[64];
    snprintf(holder, sizeof holder, "pid %ld on ", (long)getpid());
    /* flock() is per open file: the same process's second open conflicts */
    expect_err(floe_ckpt_lock(f.dir, "lock", &again), FLOE_EINVAL, f.dir, holder);
    assert_int_equal(again, -1);
    expect_ok(floe_ckpt_lock(f.dir, "lock-piece-1-of-2", &again)); /* another piece's */
    floe_ckpt_unlock(&again);
    floe_ckpt_unlock(&held);
    assert_int_equal(held, -1);
    expect_ok(floe_ckpt_lock(f.dir, "lock", &again));
    floe_ckpt_unlock(&again);
    folder_remove(&f); /* asserts the folder went: the lock files too */
}

static void file_hash_is_contents_hash(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    char path[128];
    snprintf(path, sizeof path, "%s/clim.nc", f.root);
    size_t n = 200000; /* over one piece of the reader */
    unsigned char *data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7 + i / 251);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
    char want[17], got[17];
    floe_ckpt_hash_hex(data, n, want);
    expect_ok(floe_ckpt_file_hash_hex(path, got));
    assert_string_equal(got, want);
    free(data);
    assert_int_equal(unlink(path), 0);
    expect_err(floe_ckpt_file_hash_hex(path, got), FLOE_ENOTFOUND, "clim.nc", NULL);
    assert_int_equal(rmdir(f.root), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(put_replaces_whole),
        cmocka_unit_test(another_request_is_refused),
        cmocka_unit_test(damaged_blobs_are_refused),
        cmocka_unit_test(list_and_remove),
        cmocka_unit_test(another_layout_is_refused),
        cmocka_unit_test(lock_is_held),
        cmocka_unit_test(file_hash_is_contents_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
