/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the command line: --help tells the truth, --version names
 * the libraries, bad usage exits 2 with one line, option values that can
 * never work (-o "", -v V,V) are refused before anything is opened. */
#include "common/floe_version.h"
#include "cli/cli.h"
#include "cli/options.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_result {
    int status;
    char *out;
    char *err;
} run_result;

static run_result run(int argc, const char **argv)
{
    run_result r = {0};
    size_t lo = 0, le = 0;
    FILE *out = open_memstream(&r.out, &lo);
    FILE *err = open_memstream(&r.err, &le);
    r.status = floe_cli_main(argc, (char **)argv, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void version(void **state)
{
    (void)state;
    const char *argv[] = {"floe", "--version"};
    run_result r = run(2, argv);
    assert_int_equal(r.status, 0);
    char want[64];
    snprintf(want, sizeof want, "floe %s\n", floe_version());
    assert_memory_equal(r.out, want, strlen(want));
    assert_non_null(strstr(r.out, "netCDF 4."));
    assert_non_null(strstr(r.out, "HDF5 1."));
    assert_non_null(strstr(r.out, "libcurl 7."));
    assert_non_null(strstr(r.out, "Open MPI"));
    assert_string_equal(r.err, "");
    run_free(&r);
}

static void help_lists_only_existing_commands(void **state)
{
    (void)state;
    const char *argv[] = {"floe", "--help"};
    run_result r = run(2, argv);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: floe"));
    /* Commands planned for later issues must not be advertised before they
     * exist; every command --help lists must dispatch. */
    const char *listed = strstr(r.out, "Commands:\n");
    if (listed) {
        char name[64];
        for (const char *p = listed + strlen("Commands:\n"); sscanf(p, " %63s", name) == 1;) {
            const char *args[] = {"floe", name, "--help"};
            run_result c = run(3, args);
            assert_int_not_equal(c.status, 2);
            run_free(&c);
            p = strchr(p, '\n');
            if (!p || p[1] != ' ')
                break;
            p++;
        }
    } else {
        assert_non_null(strstr(r.out, "No commands are available"));
    }
    run_free(&r);
}

static void bad_usage_is_one_line_exit_2(void **state)
{
    (void)state;
    const char *a1[] = {"floe", "--frobnicate"};
    run_result r = run(2, a1);
    assert_int_equal(r.status, 2);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, "--frobnicate"));
    run_free(&r);

    const char *a2[] = {"floe", "nosuchcommand"};
    r = run(2, a2);
    assert_int_equal(r.status, 2);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, "unknown command 'nosuchcommand'"));
    run_free(&r);

    const char *a3[] = {"floe"};
    r = run(1, a3);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage: floe"));
    run_free(&r);
}

/* Option values that can never work are refused by the parser, before a
 * SOURCE is opened (here one that does not exist: opening it would give
 * another error, exit 1). */
static void refused_before_opening(void **state)
{
    (void)state;
    const char *empty_out[] = {"floe", "extract", "/nonexistent/src.json", "-v", "Tair", "-o", ""};
    run_result r = run(7, empty_out);
    assert_int_equal(r.status, 2);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, "-o"));
    assert_null(strstr(r.err, "src.json"));
    run_free(&r);

    const char *blank[] = {"floe", "extract", "/nonexistent/src.json", "-v", " , ", "-o", "x.nc"};
    r = run(7, blank);
    assert_int_equal(r.status, 2);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, "-v"));
    run_free(&r);
}

/* The variables of every -v, in the order given: spaces around names
 * trimmed, a name given twice kept once (its first place). */
static void assert_vars(int argc, const char **argv, const char *want)
{
    cmd_source src;
    cmd_grid_args g;
    memset(&src, 0, sizeof src);
    memset(&g, 0, sizeof g);
    floe_err err = cmd_parse(argc, (char **)argv, &src, &g, NULL, NULL);
    assert_null(err);
    assert_non_null(g.vars);
    assert_string_equal(g.vars, want);
}

static void vars_accumulate_trim_dedupe(void **state)
{
    (void)state;
    const char *two[] = {"extract", "src.json", "-v", "Rainf", "-v", "Tair", "-o", "x.nc"};
    assert_vars(8, two, "Rainf,Tair");
    const char *spaced[] = {"extract", "src.json", "-v", "Tair, Rainf", "-o", "x.nc"};
    assert_vars(6, spaced, "Tair,Rainf");
    const char *dup[] = {"extract", "src.json", "--vars=Tair,PSurf,Tair", "-v", " PSurf ,Rainf",
                         "-o", "x.nc"};
    assert_vars(7, dup, "Tair,PSurf,Rainf");
    const char *one[] = {"extract", "src.json", "-v", "Tair", "-o", "x.nc"};
    assert_vars(6, one, "Tair");
}

/* Only .nc/.nc4 (every command) and .csv (series) are written: anything
 * else is one line before anything is opened. */
static void output_extension(void **state)
{
    (void)state;
    const char *txt[] = {"floe", "extract", "/nonexistent/src.json", "-v", "Tair", "-o", "x.txt"};
    run_result r = run(7, txt);
    assert_int_equal(r.status, 2);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, ".nc"));
    assert_non_null(strstr(r.err, "x.txt"));
    run_free(&r);

    const char *none[] = {"floe", "series", "/nonexistent/src.json", "-v", "Tair", "--points",
                          "/nonexistent/p.csv", "-o", "out"};
    r = run(9, none);
    assert_int_equal(r.status, 2);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, ".csv"));
    run_free(&r);

    const char *cmds[] = {"extract", "stats", "climatology"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        const char *csv[] = {"floe", cmds[i], "/nonexistent/src.json", "-v", "Tair", "--by",
                             "month", "-o", "x.CSV"};
        int n = !strcmp(cmds[i], "climatology") ? 9 : 5;
        if (n == 5) { /* no --by */
            csv[5] = "-o";
            csv[6] = "x.csv";
            n = 7;
        }
        r = run(n, csv);
        assert_int_equal(r.status, 2);
        assert_int_equal(count_lines(r.err), 1);
        assert_non_null(strstr(r.err, "series only"));
        run_free(&r);
    }

    /* accepted by the parser: the missing source is what fails (exit 1) */
    const char *ok[] = {"floe", "series", "/nonexistent/src.json", "-v", "Tair", "--bbox",
                        "-70,40,-69,41", "-o", "x.csv", "-q"};
    r = run(10, ok);
    assert_int_equal(r.status, 1);
    assert_null(strstr(r.err, "x.csv"));
    run_free(&r);
}

/* A --bbox that cannot be W,S,E,N (CDO's lon1,lon2,lat1,lat2 order,
 * latitudes beyond the poles) is one line naming the expected order. */
static void bbox_order(void **state)
{
    (void)state;
    struct {
        const char *bbox, *also;
    } cases[] = {
        /* CDO's order: the 2nd value is a longitude no latitude can be */
        {"-125,-100,25,53", "--bbox=-125,25,-100,53"},
        /* CDO's order: S > N */
        {"10,60,20,40", "--bbox=10,20,60,40"},
        {"0,-95,10,10", "[-90, 90]"},
        {"0,10,10,95", "[-90, 90]"},
        {"-70,45,-60,40", NULL},
        {"-60,40,-70,45", NULL},
        {"-70,40", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *argv[] = {"floe", "extract", "/nonexistent/src.json", "-v", "Tair",
                              "--bbox", cases[i].bbox, "-o", "x.nc"};
        run_result r = run(9, argv);
        assert_int_equal(r.status, 2);
        assert_int_equal(count_lines(r.err), 1);
        assert_non_null(strstr(r.err, "W,S,E,N"));
        if (cases[i].also)
            assert_non_null(strstr(r.err, cases[i].also));
        run_free(&r);
    }
    const char *cdo[] = {"floe", "extract", "/nonexistent/src.json", "-v", "Tair",
                         "--bbox=-125,-100,25,53", "-o", "x.nc"};
    run_result r = run(8, cdo);
    assert_non_null(strstr(r.err, "lon1,lon2,lat1,lat2"));
    run_free(&r);
}

/* The recorded command leaves out the execution controls (a resumed or
 * merged output must be the bytes of the plain run), keeps the rest; a
 * --piece that is not I/N is refused before anything is opened. */
static void recorded_command_drops_run_controls(void **state)
{
    (void)state;
    const char *argv[] = {"stats", "s.json", "--checkpoint", "-v", "Tair", "--resume",
                          "--piece", "2/3", "--progress-interval", "5",
                          "--progress-interval=7", "--piece=1/2", "-o", "o n.nc"};
    char *line = cmd_line(14, (char **)argv);
    assert_non_null(line);
    assert_string_equal(line, "floe stats s.json -v Tair -o 'o n.nc'");
    free(line);
    const char *bad[][8] = {
        {"floe", "stats", "s.json", "-v", "T", "-o", "o.nc", "--piece=0/3"},
        {"floe", "stats", "s.json", "-v", "T", "-o", "o.nc", "--piece=4/3"},
        {"floe", "stats", "s.json", "-v", "T", "-o", "o.nc", "--piece=2"},
    };
    for (size_t i = 0; i < 3; i++) {
        run_result r = run(8, bad[i]);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "--piece"));
        run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version),
        cmocka_unit_test(help_lists_only_existing_commands),
        cmocka_unit_test(bad_usage_is_one_line_exit_2),
        cmocka_unit_test(refused_before_opening),
        cmocka_unit_test(vars_accumulate_trim_dedupe),
        cmocka_unit_test(output_extension),
        cmocka_unit_test(bbox_order),
        cmocka_unit_test(recorded_command_drops_run_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
