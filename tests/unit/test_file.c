/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for floe_file, the atomic writer: the file appears only at
 * commit and with exactly its bytes, abort and failed commits leave
 * nothing, no temporary survives either, an existing file is kept until
 * the commit replaces it, and a missing folder is one clear error. Each
 * test works in its own fresh folder (mkdtemp) and reads back with stdio,
 * not with floe. */
#define _GNU_SOURCE /* syscall() */
#include "common/floe_file.h"

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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* fsync of this test binary (floe's code calls it, not libc's): counts the
 * folders flushed, then flushes. */
static int folder_flushes;

int fsync(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        folder_flushes++;
    return (int)syscall(SYS_fsync, fd);
}

typedef struct folder {
    char dir[64];
    char path[128]; /* dir/out.json */
} folder;

static void folder_make(folder *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/floe-test-file-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/out.json", f->dir);
}

/* Entries in the folder other than . and .. */
static int entries(const folder *f)
{
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The whole file as a string (caller frees). */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strdup(buf);
}

static void folder_remove(folder *f)
{
    unlink(f->path);
    assert_int_equal(rmdir(f->dir), 0); /* fails if anything else was left */
}

static void commit_makes_the_file_appear(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    floe_file *f;
    assert_null(floe_file_open(d.path, &f));
    const char *tmp = floe_file_temp(f);
    assert_non_null(strstr(tmp, d.dir));
    assert_non_null(strstr(tmp, "out.json.floe-tmp-"));
    assert_null(floe_file_write(f, "{\"a\":", 5));
    assert_null(floe_file_write(f, "", 0));
    assert_null(floe_file_write(f, "1}\n", 3));
    assert_false(exists(d.path)); /* not before the commit */
    assert_true(exists(tmp));
    assert_null(floe_file_commit(&f));
    assert_null(f);
    char *text = slurp(d.path);
    assert_string_equal(text, "{\"a\":1}\n");
    free(text);
    assert_int_equal(entries(&d), 1); /* the file, no temporary */
    folder_remove(&d);
}

static void commit_replaces_only_at_the_end(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    assert_null(floe_file_write_text(d.path, "old"));
    floe_file *f;
    assert_null(floe_file_open(d.path, &f));
    assert_null(floe_file_write(f, "new\n", 4));
    char *text = slurp(d.path);
    assert_string_equal(text, "old\n"); /* kept while the new one is written */
    free(text);
    assert_null(floe_file_commit(&f));
    text = slurp(d.path);
    assert_string_equal(text, "new\n");
    free(text);
    assert_int_equal(entries(&d), 1);
    folder_remove(&d);
}

static void abort_leaves_nothing(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    floe_file *f;
    assert_null(floe_file_open(d.path, &f));
    assert_null(floe_file_write(f, "partial", 7));
    assert_int_equal(entries(&d), 1); /* the temporary */
    floe_file_abort(&f);
    assert_null(f);
    floe_file_abort(&f); /* harmless */
    floe_file_abort(NULL);
    assert_int_equal(entries(&d), 0);
    /* An existing file is untouched by an aborted rewrite. */
    assert_null(floe_file_write_text(d.path, "kept"));
    assert_null(floe_file_open(d.path, &f));
    assert_null(floe_file_write(f, "lost", 4));
    floe_file_abort(&f);
    char *text = slurp(d.path);
    assert_string_equal(text, "kept\n");
    free(text);
    assert_int_equal(entries(&d), 1);
    folder_remove(&d);
}

static void missing_folder_is_one_clear_error(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    char path[192];
    snprintf(path, sizeof path, "%s/no-such-dir/out.nc", d.dir);
    floe_file *f = (floe_file *)&d; /* must be reset to NULL */
    floe_err err = floe_file_open(path, &f);
    assert_non_null(err);
    assert_null(f);
    assert_int_equal(floe_err_code(err), FLOE_EIO);
    const char *msg = floe_err_message(err);
    print_message("%s\n", msg);
    assert_non_null(strstr(msg, "no-such-dir"));
    assert_non_null(strstr(msg, "does not exist"));
    assert_null(strchr(msg, '\n'));
    floe_err_free(&err);
    err = floe_file_write_text(path, "x");
    assert_non_null(err);
    assert_non_null(strstr(floe_err_message(err), "no-such-dir does not exist"));
    floe_err_free(&err);
    assert_int_equal(entries(&d), 0);
    folder_remove(&d);
}

/* The path for writers whose library creates the file (netCDF). */
static void temp_path_commit(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    char *tmp = NULL;
    assert_null(floe_file_temp_path(d.path, &tmp));
    /* the name says what it is and whose: this host and this process */
    char host[256] = "", want[512];
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    snprintf(want, sizeof want, "%s.floe-tmp-%s-%ld", d.path, host, (long)getpid());
    assert_string_equal(tmp, want);
    FILE *fp = fopen(tmp, "wb");
    assert_non_null(fp);
    fputs("library bytes", fp);
    fclose(fp);
    assert_null(floe_file_commit_temp(tmp, d.path));
    assert_false(exists(tmp));
    char *text = slurp(d.path);
    assert_string_equal(text, "library bytes");
    free(text);
    assert_int_equal(entries(&d), 1);
    /* A commit that cannot rename (the destination's folder is gone)
     * removes the temporary and says why. */
    fp = fopen(tmp, "wb");
    assert_non_null(fp);
    fclose(fp);
    char bad[192];
    snprintf(bad, sizeof bad, "%s/no-such-dir/out.nc", d.dir);
    floe_err err = floe_file_commit_temp(tmp, bad);
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_EIO);
    assert_non_null(strstr(floe_err_message(err), "into place"));
    floe_err_free(&err);
    assert_false(exists(tmp));
    assert_int_equal(entries(&d), 1);
    free(tmp);
    folder_remove(&d);
}


/* The temporary is created exclusively: a link planted at its name (by
 * another user in a shared folder, say) is never followed, and what it
 * points to is untouched. */
static void temporary_never_follows_a_link(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    char victim[192], *tmp = NULL;
    snprintf(victim, sizeof victim, "%s/victim", d.dir);
    FILE *fp = fopen(victim, "wb");
    assert_non_null(fp);
    fputs("precious", fp);
    fclose(fp);
    assert_null(floe_file_temp_path(d.path, &tmp));
    assert_int_equal(symlink(victim, tmp), 0);
    floe_file *f = NULL;
    floe_err err = floe_file_open(d.path, &f);
    assert_non_null(err);
    assert_null(f);
    print_message("%s\n", floe_err_message(err));
    floe_err_free(&err);
    char *text = slurp(victim);
    assert_string_equal(text, "precious");
    free(text);
    floe_file_discard_temp(&tmp); /* removes the link, not its target */
    assert_null(tmp);
    assert_true(exists(victim));
    unlink(victim);
    folder_remove(&d);
}

/* Three files finished into temporaries appear together. */
static void commit_all_commits_every_file(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    char paths[3][192];
    const char *pp[3];
    char *tmps[3];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/f%d", d.dir, i);
        pp[i] = paths[i];
        char text[8];
        snprintf(text, sizeof text, "v%d", i);
        assert_null(floe_file_write_text_temp(paths[i], text, &tmps[i]));
        assert_true(exists(tmps[i]));
        assert_false(exists(paths[i])); /* not before the commit */
    }
    assert_null(floe_file_commit_all(3, tmps, pp));
    for (int i = 0; i < 3; i++) {
        char *text = slurp(paths[i]), want[8];
        snprintf(want, sizeof want, "v%d\n", i);
        assert_string_equal(text, want);
        free(text);
        assert_false(exists(tmps[i]));
        free(tmps[i]);
        unlink(paths[i]);
    }
    assert_int_equal(entries(&d), 0);
    folder_remove(&d);
}

/* A commit flushes each folder once, after its renames, however many of
 * the files are in it (an output, its Item and its report: each flush
 * costs milliseconds), and every folder it renamed into. */
static void commit_all_flushes_each_folder_once(void **state)
{
    (void)state;
    folder a, b;
    folder_make(&a);
    folder_make(&b);
    char paths[3][192];
    const char *pp[3];
    char *tmps[3];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/f%d", i == 1 ? b.dir : a.dir, i);
        pp[i] = paths[i];
        assert_null(floe_file_write_text_temp(paths[i], "x", &tmps[i]));
    }
    folder_flushes = 0;
    assert_null(floe_file_commit_all(2, tmps, pp + 0)); /* a/f0, b/f1: two folders */
    assert_int_equal(folder_flushes, 2);
    folder_flushes = 0;
    const char *same[2] = {pp[0], pp[2]};
    char *tmps2[2];
    assert_null(floe_file_write_text_temp(same[0], "y", &tmps2[0]));
    tmps2[1] = tmps[2];
    assert_null(floe_file_commit_all(2, tmps2, same)); /* a/f0, a/f2: one folder */
    assert_int_equal(folder_flushes, 1);
    for (int i = 0; i < 3; i++)
        unlink(paths[i]);
    free(tmps[0]);
    free(tmps[1]);
    free(tmps[2]);
    free(tmps2[0]);
    folder_remove(&a);
    folder_remove(&b);
}

/* If one rename fails, none of the files is committed: an output that
 * existed gets its old bytes back, a new one goes, and no temporary or
 * backup is left. The third destination is a folder that holds a file,
 * which rename(2) cannot replace. */
static void commit_all_is_all_or_nothing(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    char paths[3][192], inner[256];
    const char *pp[3];
    char *tmps[3];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/f%d", d.dir, i);
        pp[i] = paths[i];
    }
    assert_null(floe_file_write_text(paths[0], "old0")); /* replaced (-O), then restored */
    assert_int_equal(mkdir(paths[2], 0777), 0);
    snprintf(inner, sizeof inner, "%s/x", paths[2]);
    assert_null(floe_file_write_text(inner, "x"));
    for (int i = 0; i < 3; i++)
        assert_null(floe_file_write_text_temp(paths[i], "new", &tmps[i]));
    floe_err err = floe_file_commit_all(3, tmps, pp);
    assert_non_null(err);
    print_message("%s\n", floe_err_message(err));
    assert_non_null(strstr(floe_err_message(err), "f2"));
    floe_err_free(&err);
    char *text = slurp(paths[0]);
    assert_string_equal(text, "old0\n");
    free(text);
    assert_false(exists(paths[1]));
    for (int i = 0; i < 3; i++) {
        assert_false(exists(tmps[i]));
        free(tmps[i]);
    }
    unlink(inner);
    rmdir(paths[2]);
    unlink(paths[0]);
    assert_int_equal(entries(&d), 0); /* no backup left either */
    folder_remove(&d);
}

/* A pid that no process has now: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    int status;
    assert_int_equal(waitpid(p, &status, 0), p);
    return (long)p;
}

static void touch(const char *path)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fclose(fp);
}

/* Temporaries of dead processes of this host go; those of live processes
 * and of other hosts (a shared file system), backups (the only copy of an
 * output whose replacement was killed), and other files stay. */
static void stale_temporaries_of_dead_runs_go(void **state)
{
    (void)state;
    folder d;
    folder_make(&d);
    char host[256] = "";
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    char dead[512], dead_old[512], live[512], other[512], unrelated[512], other_out[512];
    snprintf(dead, sizeof dead, "%s.floe-tmp-%s-%ld", d.path, host, dead_pid());
    snprintf(dead_old, sizeof dead_old, "%s.floe-old-%s-%ld", d.path, host, dead_pid());
    snprintf(live, sizeof live, "%s.floe-tmp-%s-%ld", d.path, host, (long)getppid());
    snprintf(other, sizeof other, "%s.floe-tmp-%s-x-%ld", d.path, host, dead_pid());
    snprintf(unrelated, sizeof unrelated, "%s.floe-tmp-notes", d.path);
    snprintf(other_out, sizeof other_out, "%s/other.json.floe-tmp-%s-%ld", d.dir, host,
             dead_pid());
    const char *all[] = {dead, dead_old, live, other, unrelated, other_out};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        touch(all[i]);
    int removed = -1;
    assert_null(floe_file_remove_stale(d.path, &removed));
    assert_int_equal(removed, 1);
    assert_false(exists(dead));
    for (size_t i = 1; i < sizeof all / sizeof *all; i++) { /* a backup is never removed */
        assert_true(exists(all[i]));
        unlink(all[i]);
    }
    folder_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_makes_the_file_appear),
        cmocka_unit_test(commit_replaces_only_at_the_end),
        cmocka_unit_test(abort_leaves_nothing),
        cmocka_unit_test(missing_folder_is_one_clear_error),
        cmocka_unit_test(temp_path_commit),
        cmocka_unit_test(temporary_never_follows_a_link),
        cmocka_unit_test(commit_all_commits_every_file),
        cmocka_unit_test(commit_all_flushes_each_folder_once),
        cmocka_unit_test(commit_all_is_all_or_nothing),
        cmocka_unit_test(stale_temporaries_of_dead_runs_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
