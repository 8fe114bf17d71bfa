/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for logging: levels filter, rank prefix under MPI, one line
 * per call. */
#include "common/floe_log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *capture(void (*emit)(void))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    floe_log_set_stream(mem);
    emit();
    floe_log_set_stream(NULL);
    fclose(mem);
    return buf;
}

static void emit_all_levels(void)
{
    floe_log(FLOE_LOG_ERROR, "e%d", 1);
    FLOE_WARN("w");
    FLOE_INFO("i");
    FLOE_DEBUG("d");
}

static void levels_filter(void **state)
{
    (void)state;
    floe_log_set_rank(-1, 1);
    floe_log_set_level(FLOE_LOG_WARN);
    char *out = capture(emit_all_levels);
    assert_string_equal(out, "floe error: e1\nfloe warning: w\n");
    free(out);
    floe_log_set_level(FLOE_LOG_DEBUG);
    out = capture(emit_all_levels);
    assert_string_equal(out, "floe error: e1\nfloe warning: w\nfloe info: i\nfloe debug: d\n");
    free(out);
    floe_log_set_level(FLOE_LOG_QUIET);
    out = capture(emit_all_levels);
    assert_string_equal(out, "");
    free(out);
}

static void emit_info0(void)
{
    FLOE_INFO0("only rank 0");
    FLOE_WARN("every rank");
}

static void rank_prefix(void **state)
{
    (void)state;
    floe_log_set_level(FLOE_LOG_INFO);
    floe_log_set_rank(2, 4);
    char *out = capture(emit_info0);
    assert_string_equal(out, "floe[2] warning: every rank\n");
    free(out);
    floe_log_set_rank(0, 4);
    out = capture(emit_info0);
    assert_string_equal(out, "floe[0] info: only rank 0\nfloe[0] warning: every rank\n");
    free(out);
    floe_log_set_rank(0, 1); /* one rank: no prefix clutter */
    out = capture(emit_info0);
    assert_string_equal(out, "floe info: only rank 0\nfloe warning: every rank\n");
    free(out);
    floe_log_set_rank(-1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_filter),
        cmocka_unit_test(rank_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
