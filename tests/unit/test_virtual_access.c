/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the virtual chunk access policy: declared containers,
 * authorisation (STAC vs --allow, file:// only by --allow), remapping and
 * path-boundary prefixes. */
#include "io/icechunk/virtual_access.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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
    assert_non_null(strstr(floe_err_message(err), loc));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stac_authorised_container),
        cmocka_unit_test(undeclared_is_refused_even_if_allowed),
        cmocka_unit_test(remap_then_authorise_rewritten),
        cmocka_unit_test(longest_remap_wins_and_bad_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
