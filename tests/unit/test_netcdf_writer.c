/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for out/netcdf_writer's temporary: it is created exclusively,
 * and a failed exclusive create leaves alone the file that was in the way
 * (another process's temporary on a shared file system, or a planted
 * link); a commit renames it into place, an abort removes it. The folder
 * is read back with plain readdir and stdio. */
#include "out/netcdf_writer.h"

#include "common/floe_file.h"
#include "floe_test.h"

#include <dirent.h>
#include <netcdf.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/floe-test-ncwriter-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/out.nc", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The name the writer will use for its temporary (this process's); the
 * registration for interrupts is dropped again (nothing is there yet). */
static char *temp_name(void)
{
    char *tmp = NULL, *copy;
    expect_ok(floe_file_temp_path(path, &tmp));
    copy = strdup(tmp);
    assert_non_null(copy);
    floe_file_discard_temp(&tmp);
    return copy;
}

static void someone_elses_file_is_left_alone(void **state)
{
    (void)state;
    char *tmp = temp_name();
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fputs("not floe's", fp);
    fclose(fp);
    nc_writer *w = NULL;
    floe_err err = nc_writer_create(path, &w);
    assert_non_null(err);
    assert_null(w);
    floe_err_free(&err);
    struct stat st;
    assert_int_equal(stat(tmp, &st), 0); /* still there */
    assert_int_equal((int)st.st_size, 10);
    unlink(tmp);
    free(tmp);
    assert_int_equal(entries(), 0);
}

static void commit_and_abort(void **state)
{
    (void)state;
    nc_writer *w = NULL;
    int dim;
    expect_ok(nc_writer_create(path, &w));
    expect_ok(nc_writer_def_dim(w, "x", 3, &dim));
    expect_ok(nc_writer_enddef(w));
    assert_int_equal(entries(), 1); /* the temporary only */
    expect_ok(nc_writer_commit(&w));
    assert_null(w);
    int ncid;
    assert_int_equal(nc_open(path, NC_NOWRITE, &ncid), NC_NOERR);
    nc_close(ncid);
    assert_int_equal(entries(), 1); /* OUT only */
    unlink(path);
    expect_ok(nc_writer_create(path, &w));
    nc_writer_abort(&w);
    assert_null(w);
    assert_int_equal(entries(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(someone_elses_file_is_left_alone),
        cmocka_unit_test(commit_and_abort),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
