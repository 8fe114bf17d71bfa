/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/floe_test.h - what floe's cmocka unit tests share: asserting
 * that a floe_err is success or a given error, and reporting a skipped test
 * (or test case) to ctest as skipped, not passed. Header-only (static inline), included by each test program;
 * it includes <cmocka.h> with the headers cmocka needs before it. */
#ifndef FLOE_TEST_H
#define FLOE_TEST_H

#include "common/floe_error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The exit status ctest counts as "skipped" (SKIP_RETURN_CODE in
 * tests/CMakeLists.txt; the automake convention). */
#define FLOE_TEST_SKIPPED 77

/* Fail the test with the error's one line when err is set (and free it). */
static inline void expect_ok(floe_err err)
{
    if (err) {
        char line[1024];
        floe_err_line(err, line, sizeof line);
        floe_err_free(&err);
        fail_msg("unexpected error: %s", line);
    }
}

/* Assert that err has code `code` and that its one line contains n1 and n2
 * (each unless NULL); frees err. */
static inline void expect_err(floe_err err, floe_code code, const char *n1, const char *n2)
{
    if (!err)
        fail_msg("no error; want %s with \"%s\" and \"%s\"", floe_code_name(code), n1 ? n1 : "",
                 n2 ? n2 : "");
    char line[1024];
    floe_err_line(err, line, sizeof line);
    floe_code got = floe_err_code(err);
    floe_err_free(&err);
    if (got != code || (n1 && !strstr(line, n1)) || (n2 && !strstr(line, n2)))
        fail_msg("got [%s] %s; want %s with \"%s\" and \"%s\"", floe_code_name(got), line,
                 floe_code_name(code), n1 ? n1 : "", n2 ? n2 : "");
}

/* expect_err with one needle (NULL: any text). */
static inline void expect_code(floe_err err, floe_code code, const char *needle)
{
    expect_err(err, code, needle, NULL);
}

/* Why the first skipped case of this program skipped ("" while none did). */
static inline char *floe_test_skip_reason_(void)
{
    static char why[512];
    return why;
}

/* Skip the current test case, printing "skipped: WHY"; the reason is kept so
 * that floe_test_status reports the whole program as skipped to ctest (a
 * cmocka skip alone exits 0, and ctest would count it as passed). */
static inline void floe_test_skip_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void floe_test_skip_case(const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    print_message("skipped: %s\n", why);
    if (!floe_test_skip_reason_()[0])
        snprintf(floe_test_skip_reason_(), 512, "%s", why);
    skip();
}

/* main's exit status from cmocka_run_group_tests' count of failed cases:
 * that count when any failed; else FLOE_TEST_SKIPPED, after printing
 * "skipped: WHY", when a case was skipped with floe_test_skip_case; else 0.
 * So a program that could not check everything says so, and a failure is
 * never hidden behind a skip. */
static inline int floe_test_status(int failed)
{
    if (failed)
        return failed;
    if (floe_test_skip_reason_()[0]) {
        printf("skipped: %s\n", floe_test_skip_reason_());
        return FLOE_TEST_SKIPPED;
    }
    return 0;
}

/* A test program whose prerequisite is missing calls this from main, before
 * running its tests: prints "skipped: WHY" and exits FLOE_TEST_SKIPPED, so
 * ctest reports the test as skipped, not passed. */
static inline void floe_test_skip(const char *why)
{
    printf("skipped: %s\n", why);
    fflush(stdout);
    exit(FLOE_TEST_SKIPPED);
}

#endif
