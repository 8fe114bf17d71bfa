/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/floe_interrupt: an interrupt removes the files
 * being written, says so in one line and ends the process as killed by
 * the signal (a shell's 128 + signal); a signal during the commit of the
 * outputs waits for it to finish; an ignored signal (nohup) stays
 * ignored. Each case runs in a child process, since the handler ends the
 * process; the parent reads the child's stderr through a pipe and looks at
 * the files with plain stat(2). */
#include "common/floe_file.h"
#include "common/floe_interrupt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct child {
    int status;     /* waitpid's */
    char err[512];  /* what it wrote to stderr */
} child;

/* Run fn(arg) in a child with stderr into a pipe; it should not return. */
static void run_child(void (*fn)(const char *), const char *arg, child *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof c->err - 1 && (r = read(fds[0], c->err + n, sizeof c->err - 1 - n)) > 0)
        n += (size_t)r;
    c->err[n] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(p, &c->status, 0), p);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void make_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/floe-test-interrupt-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* A temporary being written when SIGTERM comes. */
static void writing_then_term(const char *path)
{
    if (floe_interrupt_install(1))
        _exit(3);
    floe_file *f;
    if (floe_file_open(path, &f) || floe_file_write(f, "partial", 7))
        _exit(4);
    raise(SIGTERM);
    _exit(5); /* not reached */
}

static void term_removes_the_temporary(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.nc", dir);
    child c;
    run_child(writing_then_term, path, &c);
    print_message("stderr: %s", c.err);
    assert_true(WIFSIGNALED(c.status));
    assert_int_equal(WTERMSIG(c.status), SIGTERM);
    assert_string_equal(c.err, "floe: interrupted by SIGTERM: no output written\n");
    assert_int_equal(rmdir(dir), 0); /* empty: no temporary, no output */
}

/* The same on a rank that does not announce: silent, still cleaned. */
static void quiet_writing_then_int(const char *path)
{
    if (floe_interrupt_install(0))
        _exit(3);
    char *tmp = NULL;
    if (floe_file_temp_path(path, &tmp))
        _exit(4);
    FILE *fp = fopen(tmp, "wb"); /* as a library (netCDF) creates it */
    if (!fp)
        _exit(5);
    fclose(fp);
    raise(SIGINT);
    _exit(6);
}

static void int_on_a_quiet_rank(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.nc", dir);
    child c;
    run_child(quiet_writing_then_int, path, &c);
    assert_true(WIFSIGNALED(c.status));
    assert_int_equal(WTERMSIG(c.status), SIGINT);
    assert_string_equal(c.err, "");
    assert_int_equal(rmdir(dir), 0);
}

/* SIGHUP while the outputs are renamed into place: it waits for the
 * commit, then ends the process, and the line says the output is there. */
static void hup_during_commit(const char *path)
{
    if (floe_interrupt_install(1))
        _exit(3);
    char *tmp = NULL;
    if (floe_file_write_text_temp(path, "whole", &tmp))
        _exit(4);
    floe_interrupt_hold();
    raise(SIGHUP); /* held back */
    if (!exists(tmp))
        _exit(5);
    if (rename(tmp, path) != 0) /* what floe_file_commit_all does while holding */
        _exit(6);
    floe_interrupt_remove_path(tmp);
    floe_interrupt_release(1);
    _exit(7);
}

static void hup_waits_for_the_commit(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.json", dir);
    child c;
    run_child(hup_during_commit, path, &c);
    print_message("stderr: %s", c.err);
    assert_true(WIFSIGNALED(c.status));
    assert_int_equal(WTERMSIG(c.status), SIGHUP);
    assert_string_equal(c.err, "floe: interrupted by SIGHUP after the output was written\n");
    assert_true(exists(path));
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

/* Under nohup SIGHUP is ignored; floe keeps it so. */
static void ignored_hup(const char *path)
{
    (void)path;
    signal(SIGHUP, SIG_IGN);
    if (floe_interrupt_install(1))
        _exit(3);
    raise(SIGHUP);
    _exit(0);
}

static void an_ignored_signal_stays_ignored(void **state)
{
    (void)state;
    child c;
    run_child(ignored_hup, NULL, &c);
    assert_true(WIFEXITED(c.status));
    assert_int_equal(WEXITSTATUS(c.status), 0);
    assert_string_equal(c.err, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(term_removes_the_temporary),
        cmocka_unit_test(int_on_a_quiet_rank),
        cmocka_unit_test(hup_waits_for_the_commit),
        cmocka_unit_test(an_ignored_signal_stays_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
