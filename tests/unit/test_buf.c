/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_buf.c - unit tests for floe_buf: growth, the hard cap, NUL termination, take/free,
 * a buffer without a cap (max SIZE_MAX). */
#include "common/floe_buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void grows_and_terminates(void **state)
{
    (void)state;
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_null(floe_buf_append(&b, "abc", 3));
    assert_int_equal(b.len, 3000);
    assert_int_equal(b.data[3000], 0);
    assert_memory_equal(b.data + 2997, "abc", 3);
    floe_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_null(floe_buf_append(&b, "", 0));
    assert_string_equal((char *)b.data, "");
    floe_buf_free(&b);
    assert_null(b.data);
}

static void cap_is_enforced(void **state)
{
    (void)state;
    floe_buf b;
    floe_buf_init(&b, 10);
    assert_null(floe_buf_append(&b, "0123456789", 10));
    assert_int_equal(b.over_max, 0);
    floe_err err = floe_buf_append(&b, "x", 1);
    assert_int_equal(b.over_max, 1); /* a cap hit, told apart from a failed allocation */
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_ENOMEM);
    assert_non_null(strstr(floe_err_message(err), "limit of 10 bytes"));
    floe_err_free(&err);
    assert_int_equal(b.len, 10); /* unchanged by the failed append */
    err = floe_buf_reserve(&b, SIZE_MAX, NULL);
    assert_non_null(err);
    floe_err_free(&err);
    floe_buf_free(&b);
}

static void reserve_commit_take(void **state)
{
    (void)state;
    floe_buf b;
    floe_buf_init(&b, 100);
    uint8_t *space;
    assert_null(floe_buf_reserve(&b, 5, &space));
    memcpy(space, "hello", 5);
    floe_buf_commit(&b, 5);
    size_t n;
    char *p = (char *)floe_buf_take(&b, &n);
    assert_int_equal(n, 5);
    assert_string_equal(p, "hello");
    assert_null(b.data);
    free(p);
    floe_buf_free(&b);
}

/* A buffer without a cap of its own (max SIZE_MAX) grows like any other:
 * max + 1 must not wrap to 0 (realloc(p, 0) freed the data, and the free
 * that followed freed it again). */
static void unlimited_buffer_grows(void **state)
{
    (void)state;
    floe_buf b;
    floe_buf_init(&b, SIZE_MAX);
    for (int i = 0; i < 1000; i++)
        assert_null(floe_buf_append(&b, "abc", 3));
    assert_int_equal(b.len, 3000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[3000], 0);
    assert_memory_equal(b.data + 2997, "abc", 3);
    /* one byte stays for the NUL: SIZE_MAX more bytes can never fit */
    floe_err err = floe_buf_reserve(&b, SIZE_MAX - b.len, NULL);
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_ENOMEM);
    floe_err_free(&err);
    assert_int_equal(b.len, 3000);
    floe_buf_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_and_terminates),
        cmocka_unit_test(cap_is_enforced),
        cmocka_unit_test(reserve_commit_take),
        cmocka_unit_test(unlimited_buffer_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
