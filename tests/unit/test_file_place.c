/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/floe_file_place.h: placed writes land at their
 * offsets and nowhere else, a write past the end of the file is refused,
 * a full disk (/dev/full: every write ENOSPC) is the one "no space left"
 * line naming the output; and the shared-file-system probe's reading side
 * (engine/mpi/shared_fs.h) says no for a missing file, another nonce, a
 * longer file, so that placed output falls back to gathering. */
#include "common/floe_file_place.h"

#include "floe_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct folder {
    char dir[64];
    char path[128];
} folder;

static void folder_make(folder *f, const char *name)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/floe-test-place-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
}

static void folder_remove(folder *f)
{
    unlink(f->path);
    rmdir(f->dir);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void pieces_land_at_their_offsets(void **state)
{
    (void)state;
    folder f;
    folder_make(&f, "out.nc");
    char zeros[32] = {0};
    write_file(f.path, zeros, sizeof zeros);
    const uint8_t bytes[] = "abcdefg";
    uint64_t offsets[] = {20, 2};
    size_t lens[] = {3, 4}; /* "abc" at 20, "defg" at 2 */
    expect_ok(floe_file_place(f.path, "out.nc", offsets, lens, 2, bytes));
    char got[40] = {0};
    FILE *fp = fopen(f.path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(got, 1, sizeof got, fp), sizeof zeros); /* not extended */
    fclose(fp);
    char want[32] = {0};
    memcpy(want + 20, "abc", 3);
    memcpy(want + 2, "defg", 4);
    assert_memory_equal(got, want, sizeof want);
    folder_remove(&f);
}

static void past_the_end_is_refused(void **state)
{
    (void)state;
    folder f;
    folder_make(&f, "out.nc");
    char zeros[8] = {0};
    write_file(f.path, zeros, sizeof zeros);
    uint64_t offsets[] = {6};
    size_t lens[] = {4};
    expect_code(floe_file_place(f.path, "out.nc", offsets, lens, 1, (const uint8_t *)"wxyz"),
                FLOE_EINTERNAL, "past the end");
    struct stat st;
    assert_int_equal(stat(f.path, &st), 0);
    assert_int_equal(st.st_size, 8);
    folder_remove(&f);
}

/* A full disk: the one line every floe writer gives, naming the output. */
static void full_disk_is_one_line(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        floe_test_skip_case("no writable /dev/full");
        return;
    }
    uint64_t offsets[] = {0};
    size_t lens[] = {4};
    expect_err(floe_file_place("/dev/full", "OUT.nc", offsets, lens, 1, (const uint8_t *)"wxyz"),
               FLOE_EIO, "no space left on device writing OUT.nc", NULL);
}

static void missing_file_is_an_error(void **state)
{
    (void)state;
    uint64_t offsets[] = {0};
    size_t lens[] = {1};
    expect_code(floe_file_place("/nonexistent-floe-dir/x.nc", "x.nc", offsets, lens, 1,
                                (const uint8_t *)"a"),
                FLOE_EIO, "cannot open");
}

static void probe_reads_back_only_its_nonce(void **state)
{
    (void)state;
    folder f;
    folder_make(&f, "probe");
    const char nonce[16] = "0123456789abcdef", other[16] = "0123456789abcdeX";
    assert_int_equal(floe_file_probe_holds(f.path, nonce, sizeof nonce), 0); /* missing */
    expect_ok(floe_file_probe_write(f.path, nonce, sizeof nonce));
    assert_int_equal(floe_file_probe_holds(f.path, nonce, sizeof nonce), 1);
    assert_int_equal(floe_file_probe_holds(f.path, other, sizeof other), 0);
    /* exclusively: a second probe of the same name is refused */
    expect_code(floe_file_probe_write(f.path, other, sizeof other), FLOE_EIO, "cannot create");
    assert_int_equal(floe_file_probe_holds(f.path, nonce, sizeof nonce), 1);
    /* a longer file holding the nonce first is another file */
    char longer[17];
    memcpy(longer, nonce, 16);
    longer[16] = 'z';
    unlink(f.path);
    write_file(f.path, longer, sizeof longer);
    assert_int_equal(floe_file_probe_holds(f.path, nonce, sizeof nonce), 0);
    folder_remove(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_land_at_their_offsets),
        cmocka_unit_test(past_the_end_is_refused),
        cmocka_unit_test(full_disk_is_one_line),
        cmocka_unit_test(missing_file_is_an_error),
        cmocka_unit_test(probe_reads_back_only_its_nonce),
    };
    return floe_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
