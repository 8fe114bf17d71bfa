/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the error type: context order, one-line rendering,
 * truncation, and freeing. */
#include "common/floe_error.h"
#include "common/floe_log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static floe_err inner(int fail)
{
    if (fail)
        return FLOE_ERR(FLOE_EFORMAT, "truncated: %d bytes", 7);
    return NULL;
}

static floe_err middle(int fail)
{
    FLOE_CHECK(inner(fail), "manifest %s", "manifests/ABC");
    return NULL;
}

static floe_err outer(int fail)
{
    FLOE_CHECK(middle(fail)); /* position only, no context line */
    FLOE_CHECK(middle(fail), "never reached");
    return NULL;
}

static void success_is_null(void **state)
{
    (void)state;
    assert_null(outer(0));
}

static void context_outer_first(void **state)
{
    (void)state;
    floe_err err = outer(1);
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
    assert_string_equal(floe_err_message(err), "truncated: 7 bytes");
    char line[256];
    assert_string_equal(floe_err_line(err, line, sizeof line),
                        "manifest manifests/ABC: truncated: 7 bytes");
    char trace[1024];
    floe_err_trace(err, trace, sizeof trace);
    /* innermost raise, the FLOE_CHECK in middle, the one in outer */
    size_t ats = 0;
    for (const char *p = trace; (p = strstr(p, "  at ")); p++)
        ats++;
    assert_int_equal(ats, 3);
    assert_non_null(strstr(trace, "test_error.c"));
    floe_err_free(&err);
    assert_null(err);
}

static void line_is_one_line_and_truncated(void **state)
{
    (void)state;
    floe_err err = FLOE_ERR(FLOE_ENET, "server said:\r\nboom");
    char line[16];
    floe_err_line(err, line, sizeof line);
    assert_int_equal(strlen(line), sizeof line - 1);
    assert_null(strchr(line, '\n'));
    assert_null(strchr(line, '\r'));
    assert_string_equal(line + strlen(line) - 3, "...");
    floe_err_free(&err);
}

static floe_err with_cleanup(int fail, int *cleaned)
{
    floe_err err = NULL;
    FLOE_CHECK_GOTO(err, done, inner(fail), "variable %s", "Tair");
done:
    *cleaned = 1;
    return err;
}

static void goto_variant_runs_cleanup(void **state)
{
    (void)state;
    int cleaned = 0;
    floe_err err = with_cleanup(1, &cleaned);
    assert_int_equal(cleaned, 1);
    char line[256];
    assert_string_equal(floe_err_line(err, line, sizeof line), "variable Tair: truncated: 7 bytes");
    floe_err_free(&err);
    cleaned = 0;
    assert_null(with_cleanup(0, &cleaned));
    assert_int_equal(cleaned, 1);
}

static void deep_stacks_keep_innermost(void **state)
{
    (void)state;
    floe_err err = FLOE_ERR(FLOE_EIO, "root cause");
    for (int i = 0; i < 100; i++)
        err = floe_err_push(err, __FILE__, __LINE__, " level %d", i);
    char line[4096];
    floe_err_line(err, line, sizeof line);
    /* The cause and the innermost contexts survive; the outermost are cut. */
    assert_non_null(strstr(line, "level 0: root cause"));
    assert_null(strstr(line, "level 99"));
    floe_err_free(&err);
}

static void codes_have_names(void **state)
{
    (void)state;
    for (int c = 0; c < FLOE_CODE_COUNT; c++)
        assert_string_not_equal(floe_code_name((floe_code)c), "unknown");
    assert_string_equal(floe_code_name(FLOE_CODE_COUNT), "unknown");
    assert_int_equal(floe_err_code(NULL), FLOE_OK);
    floe_err none = NULL;
    floe_err_free(&none); /* no-op */
    floe_err_free(NULL);
}

static void rank_is_recorded(void **state)
{
    (void)state;
    floe_log_set_rank(3, 4);
    floe_err err = FLOE_ERR(FLOE_EMPI, "x");
    char trace[512];
    assert_non_null(strstr(floe_err_trace(err, trace, sizeof trace), "on rank 3"));
    floe_err_free(&err);
    floe_log_set_rank(-1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(success_is_null),
        cmocka_unit_test(context_outer_first),
        cmocka_unit_test(line_is_one_line_and_truncated),
        cmocka_unit_test(goto_variant_runs_cleanup),
        cmocka_unit_test(deep_stacks_keep_innermost),
        cmocka_unit_test(codes_have_names),
        cmocka_unit_test(rank_is_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
