/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the virtual chunk access policy: declared containers,
 * authorisation (STAC vs --allow, file:// only by --allow), remapping and
 * path-boundary prefixes; canonical locations (dot segments, encoded or
 * not, fragments, userinfo refused; file:// resolved with symlinks and kept
 * under the --allow folder); addresses a document cannot authorise
 * (loopback, link-local, private, unspecified; s3:// by its endpoint) and
 * the endpoints the user named; the address a repository is fetched from. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "io/icechunk/virtual_access.h"
#include "io/transport/url.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOC "s3://nasa-waterinsight/NLDAS3/forcing/daily/200101/A.nc"

static virtual_policy *nldas_policy(void)
{
    virtual_policy *p;
    assert_null(virtual_policy_new(&p));
    assert_null(virtual_policy_declare(p, "s3://nasa-waterinsight/NLDAS3/forcing/daily/"));
    return p;
}

static void expect_refusal(virtual_policy *p, const char *loc, const char *needle)
{
    char *url = (char *)1;
    floe_err err = virtual_policy_resolve(p, loc, &url);
    assert_non_null(err);
    assert_null(url);
    assert_int_equal(floe_err_code(err), FLOE_EAUTH);
    char shown[1024]; /* named as messages name URLs: no password, no query */
    if (!strstr(floe_err_message(err), floe_url_redact(loc, shown, sizeof shown)))
        fail_msg("'%s' does not name '%s'", floe_err_message(err), shown);
    if (needle && !strstr(floe_err_message(err), needle))
        fail_msg("'%s' lacks '%s'", floe_err_message(err), needle);
    floe_err_free(&err);
}

static void stac_authorised_container(void **state)
{
    (void)state;
    virtual_policy *p = nldas_policy();
    expect_refusal(p, LOC, "not authorised"); /* declared but nobody allowed it */
    assert_null(virtual_policy_allow(p, "s3://nasa-waterinsight/NLDAS3/forcing/daily/", 0));
    char *url;
    assert_null(virtual_policy_resolve(p, LOC, &url));
    assert_string_equal(url, LOC);
    free(url);
    virtual_policy_free(&p);
    assert_null(p);
}

static void undeclared_is_refused_even_if_allowed(void **state)
{
    (void)state;
    virtual_policy *p = nldas_policy();
    assert_null(virtual_policy_allow(p, "s3://", 1));
    expect_refusal(p, "s3://other-bucket/x.nc", "not under any virtual chunk container");
    /* path boundary: a sibling folder sharing the prefix text */
    expect_refusal(p, "s3://nasa-waterinsight/NLDAS3/forcing/daily-copy/x.nc", "container");
    virtual_policy_free(&p);
}

static void remap_then_authorise_rewritten(void **state)
{
    (void)state;
    virtual_policy *p = nldas_policy();
    assert_null(virtual_policy_allow(p, "s3://nasa-waterinsight/NLDAS3/forcing/daily/", 0));
    assert_null(virtual_policy_remap(p, "s3://nasa-waterinsight/NLDAS3/=file:///lustre/nldas3/"));
    /* the STAC authorisation covers the bucket, not the local mirror */
    expect_refusal(p, LOC, "remapped to file:///lustre/nldas3/forcing/daily/200101/A.nc");
    /* a STAC-like (document) allow cannot open local files */
    assert_null(virtual_policy_allow(p, "file:///lustre/", 0));
    expect_refusal(p, LOC, "explicit --allow");
    assert_null(virtual_policy_allow(p, "file:///lustre/nldas3/", 1));
    char *url;
    assert_null(virtual_policy_resolve(p, LOC, &url));
    assert_string_equal(url, "file:///lustre/nldas3/forcing/daily/200101/A.nc");
    free(url);
    virtual_policy_free(&p);
}

static void longest_remap_wins_and_bad_rules(void **state)
{
    (void)state;
    virtual_policy *p = nldas_policy();
    assert_null(virtual_policy_remap(p, "s3://nasa-waterinsight/=http://a/"));
    assert_null(virtual_policy_remap(p, "s3://nasa-waterinsight/NLDAS3/forcing/=http://b/"));
    assert_null(virtual_policy_allow(p, "http://b/", 1));
    char *url;
    assert_null(virtual_policy_resolve(p, LOC, &url));
    assert_string_equal(url, "http://b/daily/200101/A.nc");
    free(url);
    floe_err err = virtual_policy_remap(p, "no-equals-sign");
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    err = virtual_policy_allow(p, "relative/path", 1);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
    virtual_policy_free(&p);
}

/* Dot segments, encoded or not, fragments and userinfo are refused before
 * any container check: libcurl or the server would resolve them to
 * somewhere else than the string the check saw. */
static void dot_segments_and_fragments_refused(void **state)
{
    (void)state;
    virtual_policy *p;
    assert_null(virtual_policy_new(&p));
    assert_null(virtual_policy_declare(p, "s3://bkt/data/"));
    assert_null(virtual_policy_allow(p, "s3://bkt/data/", 0));
    assert_null(virtual_policy_declare(p, "http://h.example/data/"));
    assert_null(virtual_policy_allow(p, "http://h.example/data/", 0));
    expect_refusal(p, "s3://bkt/data/../secret/x", "'..' segment");
    expect_refusal(p, "s3://bkt/data/../../other/x", "'..' segment");
    expect_refusal(p, "s3://bkt/data/ok.bin#/../../secret/x", "'..' segment");
    expect_refusal(p, "s3://bkt/data/./x", "'.' segment");
    expect_refusal(p, "s3://bkt/data/%2e%2e/x", "'..' segment");
    expect_refusal(p, "s3://bkt/data/%2E./x", "'..' segment");
    expect_refusal(p, "s3:///data/x", "no bucket");
    expect_refusal(p, "http://h.example/data/../secret/x", "'..' segment");
    expect_refusal(p, "http://h.example/data/%2e%2e/secret/x", "'..' segment");
    expect_refusal(p, "http://h.example/data/%2e%2E%2fsecret", "encoded '/'");
    expect_refusal(p, "http://h.example/data/ok.bin#/../x", "fragment");
    expect_refusal(p, "http://h.example/data/ok.bin#frag", "fragment");
    expect_refusal(p, "http://user:pw@h.example/data/x", "user name");
    /* The canonical form is what is checked and fetched: scheme and host
     * in lower case, no default port. */
    char *url;
    assert_null(virtual_policy_resolve(p, "HTTP://H.Example:80/data/x.nc?v=1", &url));
    assert_string_equal(url, "http://h.example/data/x.nc?v=1");
    free(url);
    assert_null(virtual_policy_resolve(p, "s3://bkt/data/a..b/x", &url)); /* not a segment */
    assert_string_equal(url, "s3://bkt/data/a..b/x");
    free(url);
    virtual_policy_free(&p);
}

/* The README's local-mirror recipe: --remap s3://bkt/data/=file://MIRROR/
 * --allow file://MIRROR/. Neither dot segments nor a symlink inside the
 * mirror may lead out of it. */
static void local_mirror_stays_inside(void **state)
{
    (void)state;
    char dir[] = "/tmp/floe-test-va-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char mirror[128], file[256], link[256], rule[PATH_MAX + 64],
        allow[PATH_MAX + 16], want[PATH_MAX + 16];
    snprintf(mirror, sizeof mirror, "%s/mirror", dir);
    assert_int_equal(mkdir(mirror, 0700), 0);
    snprintf(file, sizeof file, "%s/ok.bin", mirror);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(link, sizeof link, "%s/link", mirror);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    virtual_policy *p;
    assert_null(virtual_policy_new(&p));
    assert_null(virtual_policy_declare(p, "s3://bkt/data/"));
    snprintf(rule, sizeof rule, "s3://bkt/data/=file://%s/", mirror);
    assert_null(virtual_policy_remap(p, rule));
    snprintf(allow, sizeof allow, "file://%s/", mirror);
    assert_null(virtual_policy_allow(p, allow, 1));
    expect_refusal(p, "s3://bkt/data/../../../../etc/passwd", "'..' segment");
    expect_refusal(p, "s3://bkt/data/link", "outside");
    char *url;
    assert_null(virtual_policy_resolve(p, "s3://bkt/data/ok.bin", &url));
    char real[PATH_MAX];
    assert_non_null(realpath(file, real));
    snprintf(want, sizeof want, "file://%s", real);
    assert_string_equal(url, want);
    free(url);
    virtual_policy_free(&p);
    unlink(link);
    unlink(file);
    rmdir(mirror);
    rmdir(dir);
}

/* A file:// container named by the document, no --allow at all: the
 * refusal says the document cannot authorise local files, and does not
 * blame an --allow nobody gave. */
static void document_file_container_refusal_says_why(void **state)
{
    (void)state;
    virtual_policy *p;
    assert_null(virtual_policy_new(&p));
    assert_null(virtual_policy_declare(p, "file:///data/"));
    assert_null(virtual_policy_allow(p, "file:///data/", 0));
    expect_refusal(p, "file:///data/x.nc", "the STAC document authorises file:///data/");
    expect_refusal(p, "file:///data/x.nc", "pass --allow file:///data/ yourself");
    virtual_policy_free(&p);
}

/* A redirect target (or any location about to be fetched) is checked like
 * a chunk's: canonical, under an authorised prefix, never a local file. */
static void redirect_targets_checked(void **state)
{
    (void)state;
    virtual_policy *p;
    assert_null(virtual_policy_new(&p));
    assert_null(virtual_policy_allow(p, "https://data.example/pub/", 0));
    assert_null(virtual_policy_allow(p, "file:///", 1));
    assert_null(virtual_policy_check_target(p, "https://DATA.example:443/pub/x.nc"));
    const char *refused[] = {"https://data.example/pub/../secret", "https://data.example/other",
                             "http://data.example/pub/x.nc", "https://evil.example/pub/x.nc",
                             "file:///etc/passwd"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        floe_err err = virtual_policy_check_target(p, refused[i]);
        assert_int_equal(floe_err_code(err), FLOE_EAUTH);
        floe_err_free(&err);
    }
    virtual_policy_free(&p);
}

/* Containers on loopback, link-local, private or unspecified addresses
 * (literal IPs in any spelling libcurl accepts, and "localhost") are not
 * authorised by a document: only --allow authorises them, and the refusal
 * says so. A public host stays authorised by the document. */
static void private_addresses_need_allow(void **state)
{
    (void)state;
    const char *hosts[] = {
        "127.0.0.1",  "127.1",        "2130706433", "0x7f.0.0.1", "0177.0.0.1",
        "127.0.0.1.", "localhost",    "LocalHost",  "a.localhost", "10.1.2.3",
        "172.16.0.1", "172.31.255.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "0",          "[::1]",        "[::]",       "[fe80::1]",  "[fd00::1]",
        "[fc00::5]",  "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "%31%32%37.0.0.1",
    };
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        char container[256], loc[300];
        snprintf(container, sizeof container, "http://%s:8080/data/", hosts[i]);
        snprintf(loc, sizeof loc, "%sx.nc", container);
        virtual_policy *p;
        assert_null(virtual_policy_new(&p));
        assert_null(virtual_policy_declare(p, container));
        assert_null(virtual_policy_allow(p, container, 0)); /* the document's */
        expect_refusal(p, loc, "--allow");
        floe_err err = virtual_policy_check_target(p, loc); /* a redirect there */
        assert_int_equal(floe_err_code(err), FLOE_EAUTH);
        floe_err_free(&err);
        assert_null(virtual_policy_allow(p, container, 1)); /* the user's */
        char *url;
        expect_ok(virtual_policy_resolve(p, loc, &url));
        free(url);
        expect_ok(virtual_policy_check_target(p, loc));
        virtual_policy_free(&p);
    }
    const char *public_hosts[] = {"data.example", "8.8.8.8", "172.32.0.1", "[2001:db8::1]",
                                  "192.169.0.1", "11.0.0.1"};
    for (size_t i = 0; i < sizeof public_hosts / sizeof *public_hosts; i++) {
        char container[256], loc[300];
        snprintf(container, sizeof container, "https://%s/data/", public_hosts[i]);
        snprintf(loc, sizeof loc, "%sx.nc", container);
        virtual_policy *p;
        assert_null(virtual_policy_new(&p));
        assert_null(virtual_policy_declare(p, container));
        assert_null(virtual_policy_allow(p, container, 0));
        char *url;
        expect_ok(virtual_policy_resolve(p, loc, &url));
        free(url);
        virtual_policy_free(&p);
    }
}

/* A remap (the user's) onto a loopback mirror: the document's
 * authorisation of that mirror is not enough either. */
static void remap_to_private_needs_allow(void **state)
{
    (void)state;
    virtual_policy *p = nldas_policy();
    assert_null(virtual_policy_remap(p, "s3://nasa-waterinsight/=http://localhost:9000/m/"));
    assert_null(virtual_policy_allow(p, "http://localhost:9000/m/", 0));
    expect_refusal(p, LOC, "loopback");
    assert_null(virtual_policy_allow(p, "http://localhost:9000/m/NLDAS3/", 1));
    char *url;
    expect_ok(virtual_policy_resolve(p, LOC, &url));
    free(url);
    virtual_policy_free(&p);
}

/* s3:// locations are judged by the S3 endpoint they are fetched from; an
 * endpoint the user named is trusted at its origin only; only --allow
 * prefixes count as the user's authorisation. */
static void endpoints_and_user_allows(void **state)
{
    (void)state;
    virtual_policy *p = nldas_policy();
    assert_null(virtual_policy_allow(p, "s3://nasa-waterinsight/NLDAS3/forcing/daily/", 0));
    char *url;
    assert_null(virtual_policy_s3_endpoint(p, "http://127.0.0.1:9000"));
    expect_refusal(p, LOC, "S3 endpoint http://127.0.0.1:9000");
    expect_refusal(p, LOC, "loopback");
    assert_null(virtual_policy_trust_endpoint(p, "http://127.0.0.1:9001"));
    expect_refusal(p, LOC, "loopback"); /* another port is another origin */
    assert_null(virtual_policy_trust_endpoint(p, "http://127.0.0.1:9000/"));
    expect_ok(virtual_policy_resolve(p, LOC, &url));
    free(url);
    assert_null(virtual_policy_s3_endpoint(p, "https://s3.example.org"));
    expect_ok(virtual_policy_resolve(p, LOC, &url));
    free(url);
    assert_null(virtual_policy_s3_endpoint(p, NULL));
    expect_ok(virtual_policy_resolve(p, LOC, &url));
    free(url);
    /* An http(s) container on the trusted endpoint's origin. */
    assert_null(virtual_policy_declare(p, "http://127.0.0.1:9000/b/"));
    assert_null(virtual_policy_allow(p, "http://127.0.0.1:9000/b/", 0));
    expect_ok(virtual_policy_resolve(p, "http://127.0.0.1:9000/b/x.nc", &url));
    free(url);
    virtual_policy_free(&p);

    assert_null(virtual_policy_new(&p));
    assert_null(virtual_policy_allow(p, "http://10.0.0.1:9000/", 0)); /* a document's */
    assert_int_equal(virtual_policy_user_allows(p, "http://10.0.0.1:9000"), 0);
    assert_null(virtual_policy_allow(p, "http://127.0.0.1:9000/", 1));
    assert_int_equal(virtual_policy_user_allows(p, "http://127.0.0.1:9000"), 1);
    assert_int_equal(virtual_policy_user_allows(p, "http://127.0.0.1:9000/x/"), 1);
    assert_int_equal(virtual_policy_user_allows(p, "http://127.0.0.1:9001"), 0);
    char dir[] = "/tmp/floe-va-XXXXXX", allow[64], repo[80];
    assert_non_null(mkdtemp(dir));
    snprintf(allow, sizeof allow, "file://%s/", dir);
    snprintf(repo, sizeof repo, "%s/repo/", dir);
    assert_int_equal(virtual_policy_user_allows(p, repo), 0);
    assert_null(virtual_policy_allow(p, allow, 1));
    assert_int_equal(virtual_policy_user_allows(p, repo), 1);
    snprintf(repo, sizeof repo, "file://%s/repo/", dir);
    assert_int_equal(virtual_policy_user_allows(p, repo), 1);
    assert_int_equal(virtual_policy_user_allows(p, "/etc/"), 0);
    snprintf(repo, sizeof repo, "%s/../", dir);
    assert_int_equal(virtual_policy_user_allows(p, repo), 0);
    virtual_policy_free(&p);
    rmdir(dir);
}

/* The address a repository is fetched from, judged like a chunk's (for a
 * document read over the network, dataset/open.c): its http(s) host, or
 * for s3:// the S3 endpoint; public when the user named that endpoint or
 * a --allow covers the URL. */
static void repository_addresses(void **state)
{
    (void)state;
    virtual_policy *p;
    assert_null(virtual_policy_new(&p));
    const char *via;
    assert_int_equal(virtual_policy_address_kind(p, "http://169.254.169.254/latest/", &via),
                     FLOE_HOST_LINK_LOCAL);
    assert_null(via);
    assert_int_equal(virtual_policy_address_kind(p, "http://127.0.0.1:8080/repo/", &via),
                     FLOE_HOST_LOOPBACK);
    assert_int_equal(virtual_policy_address_kind(p, "https://data.example/repo/", &via),
                     FLOE_HOST_PUBLIC);
    assert_int_equal(virtual_policy_address_kind(p, "s3://b/repo/", &via), FLOE_HOST_PUBLIC);
    assert_null(virtual_policy_s3_endpoint(p, "http://10.0.0.5:9000"));
    assert_int_equal(virtual_policy_address_kind(p, "s3://b/repo/", &via), FLOE_HOST_PRIVATE);
    assert_string_equal(via, "http://10.0.0.5:9000");
    assert_int_equal(virtual_policy_address_kind(p, "http://h/a/../b", &via), FLOE_HOST_UNCLEAR);
    /* the user's: the endpoint named, or --allow covering the location */
    assert_null(virtual_policy_trust_endpoint(p, "http://10.0.0.5:9000/"));
    assert_int_equal(virtual_policy_address_kind(p, "s3://b/repo/", &via), FLOE_HOST_PUBLIC);
    assert_null(virtual_policy_allow(p, "http://127.0.0.1:8080/repo/", 1));
    assert_int_equal(virtual_policy_address_kind(p, "http://127.0.0.1:8080/repo/", &via),
                     FLOE_HOST_PUBLIC);
    assert_int_equal(virtual_policy_address_kind(p, "http://127.0.0.1:8080/other/", &via),
                     FLOE_HOST_LOOPBACK);
    assert_null(virtual_policy_allow(p, "http://192.168.1.1/repo/", 0)); /* a document's */
    assert_int_equal(virtual_policy_address_kind(p, "http://192.168.1.1/repo/", &via),
                     FLOE_HOST_PRIVATE);
    virtual_policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stac_authorised_container),
        cmocka_unit_test(undeclared_is_refused_even_if_allowed),
        cmocka_unit_test(remap_then_authorise_rewritten),
        cmocka_unit_test(longest_remap_wins_and_bad_rules),
        cmocka_unit_test(dot_segments_and_fragments_refused),
        cmocka_unit_test(local_mirror_stays_inside),
        cmocka_unit_test(document_file_container_refusal_says_why),
        cmocka_unit_test(redirect_targets_checked),
        cmocka_unit_test(private_addresses_need_allow),
        cmocka_unit_test(remap_to_private_needs_allow),
        cmocka_unit_test(endpoints_and_user_allows),
        cmocka_unit_test(repository_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
