/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for out/output_paths: every way an output can clash with the
 * file system, another output or an input is refused with one line naming
 * it, on canonical locations (through "..", "./" and symlinked folders),
 * and -O replaces outputs but never inputs. The files are made with plain
 * stdio in a fresh folder. */
#include "out/output_paths.h"

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

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/floe-test-outpaths-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/rel (a static buffer per call slot) */
static const char *at(int slot, const char *rel)
{
    static char buf[8][256];
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", dir, rel);
    return buf[slot];
}

static void touch(const char *path)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fclose(fp);
}

/* The check's message, or NULL if it passed (static copy). */
static const char *check(const floe_output_path *outs, size_t nouts, const floe_local_input *ins,
                         size_t nins, int overwrite)
{
    static char msg[1024];
    floe_err err = floe_output_paths_check(outs, nouts, ins, nins, overwrite);
    if (!err)
        return NULL;
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    snprintf(msg, sizeof msg, "%s", floe_err_message(err));
    floe_err_free(&err);
    assert_null(strchr(msg, '\n'));
    print_message("%s\n", msg);
    return msg;
}

#define OUT(p) {(p), "the output", "-o"}
#define ITEM(p) {(p), "the STAC Item", "--item"}
#define REPORT(p) {(p), "the report", "--report"}

static void fresh_outputs_pass(void **state)
{
    (void)state;
    floe_output_path outs[] = {OUT(at(0, "a.nc")), ITEM(at(1, "a.json")), REPORT(at(2, "r.json"))};
    assert_null(check(outs, 3, NULL, 0, 0));
}

static void missing_folder_is_named(void **state)
{
    (void)state;
    floe_output_path outs[] = {OUT(at(0, "no-such/a.nc"))};
    const char *m = check(outs, 1, NULL, 0, 0);
    assert_non_null(m);
    assert_non_null(strstr(m, "the folder"));
    assert_non_null(strstr(m, "no-such does not exist"));
}

static void a_folder_is_not_a_file(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at(0, "sub"), 0777), 0);
    floe_output_path outs[] = {OUT(at(1, "sub"))};
    assert_non_null(strstr(check(outs, 1, NULL, 0, 1), "is a folder"));
    floe_output_path dots[] = {OUT(at(2, "sub/.."))};
    assert_non_null(strstr(check(dots, 1, NULL, 0, 1), "names no file"));
    rmdir(at(0, "sub"));
}

/* -o X.nc --report X.json, with the Item defaulting to X.json; the same
 * file reached through "./" and "sub/.." is the same file. */
static void two_outputs_one_file(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at(0, "sub"), 0777), 0);
    floe_output_path outs[] = {OUT(at(1, "x.nc")), ITEM(at(2, "x.json")),
                               REPORT(at(3, "sub/../././x.json"))};
    const char *m = check(outs, 3, NULL, 0, 1);
    assert_non_null(m);
    assert_non_null(strstr(m, "the STAC Item"));
    assert_non_null(strstr(m, "the report"));
    assert_non_null(strstr(m, "same file"));
    assert_non_null(strstr(m, "--report"));
    rmdir(at(0, "sub"));
}

static void existing_output_needs_overwrite(void **state)
{
    (void)state;
    touch(at(0, "old.nc"));
    floe_output_path outs[] = {OUT(at(0, "old.nc"))};
    const char *m = check(outs, 1, NULL, 0, 0);
    assert_non_null(m);
    assert_non_null(strstr(m, "exists"));
    assert_non_null(strstr(m, "-O"));
    assert_null(check(outs, 1, NULL, 0, 1));
    unlink(at(0, "old.nc"));
}

/* The source document, reached through a symlinked folder: never
 * replaced, -O or not. */
static void an_input_is_never_replaced(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at(0, "data"), 0777), 0);
    touch(at(1, "data/coll.json"));
    assert_int_equal(symlink(at(0, "data"), at(2, "link")), 0);
    floe_local_input in = {(char *)at(1, "data/coll.json"), FLOE_INPUT_FILE, "the STAC document"};
    floe_output_path outs[] = {OUT(at(3, "link/coll.nc")), ITEM(at(4, "link/coll.json"))};
    const char *m = check(outs, 2, &in, 1, 1);
    assert_non_null(m);
    assert_non_null(strstr(m, "would replace the STAC document"));
    assert_non_null(strstr(m, "--item"));
    /* the input named through a link: the link is an input's name too */
    floe_local_input by_link = {(char *)at(5, "link.json"), FLOE_INPUT_FILE, "the STAC document"};
    assert_int_equal(symlink(at(1, "data/coll.json"), at(5, "link.json")), 0);
    floe_output_path over_link[] = {ITEM(at(6, "link.json"))};
    assert_non_null(strstr(check(over_link, 1, &by_link, 1, 1), "would replace"));
    unlink(at(5, "link.json"));
    unlink(at(2, "link"));
    unlink(at(1, "data/coll.json"));
    rmdir(at(0, "data"));
}

/* Nothing is written into a local repository; in a folder chunks come
 * from, a new file may be written but an existing one is never replaced. */
static void repositories_and_source_folders(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at(0, "repo"), 0777), 0);
    assert_int_equal(mkdir(at(1, "mirror"), 0777), 0);
    touch(at(2, "mirror/day1.nc"));
    floe_local_input ins[] = {
        {(char *)at(0, "repo/"), FLOE_INPUT_REPOSITORY, "the repository"},
        {(char *)at(3, "mirror/day"), FLOE_INPUT_SOURCES, "an --allow folder"},
    };
    floe_output_path in_repo[] = {OUT(at(4, "repo/out.nc"))};
    assert_non_null(strstr(check(in_repo, 1, ins, 2, 1), "lies inside the repository"));
    floe_output_path new_in_mirror[] = {OUT(at(5, "mirror/new.nc"))};
    assert_null(check(new_in_mirror, 1, ins, 2, 0));
    floe_output_path over_source[] = {OUT(at(6, "mirror/day1.nc"))};
    assert_non_null(strstr(check(over_source, 1, ins, 2, 1), "exists in an --allow folder"));
    floe_output_path beside[] = {OUT(at(7, "repo.nc"))}; /* a prefix, not inside */
    assert_null(check(beside, 1, ins, 2, 0));
    /* a previous run's report there is floe's own: -O may replace it */
    FILE *fp = fopen(at(4, "mirror/r.json"), "w");
    assert_non_null(fp);
    fputs("{\"floe_version\": \"0.1.0\", \"total\": {}}\n", fp);
    fclose(fp);
    floe_output_path own[] = {REPORT(at(4, "mirror/r.json"))};
    assert_non_null(strstr(check(own, 1, ins, 2, 0), "exists: give -O"));
    assert_null(check(own, 1, ins, 2, 1));
    unlink(at(4, "mirror/r.json"));
    unlink(at(2, "mirror/day1.nc"));
    rmdir(at(1, "mirror"));
    rmdir(at(0, "repo"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_outputs_pass),
        cmocka_unit_test(missing_folder_is_named),
        cmocka_unit_test(a_folder_is_not_a_file),
        cmocka_unit_test(two_outputs_one_file),
        cmocka_unit_test(existing_output_needs_overwrite),
        cmocka_unit_test(an_input_is_never_replaced),
        cmocka_unit_test(repositories_and_source_folders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
