/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for floe_file, the atomic writer: the file appears only at
 * commit and with exactly its bytes, abort and failed commits leave
 * nothing, no temporary survives either, an existing file is kept until
 * the commit replaces it, and a missing folder is one clear error. Each
 * test works in its own fresh folder (mkdtemp) and reads back with stdio,
 * not with floe. */
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
#include <unistd.h>

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
    char want[160];
    snprintf(want, sizeof want, "%s.floe-tmp-%ld", d.path, (long)getpid());
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_makes_the_file_appear),
        cmocka_unit_test(commit_replaces_only_at_the_end),
        cmocka_unit_test(abort_leaves_nothing),
        cmocka_unit_test(missing_folder_is_one_clear_error),
        cmocka_unit_test(temp_path_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
