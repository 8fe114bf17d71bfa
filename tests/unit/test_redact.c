/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_redact.c - common/floe_redact: userinfo and every secret
 * query parameter removed from URLs, alone and inside longer text (a
 * command line, an error message); everything else unchanged. */
#include "floe_test.h"

#include "common/floe_redact.h"

#include <stdlib.h>
#include <string.h>

static void expect(const char *in, const char *want)
{
    char buf[1024];
    size_t n = floe_redact(in, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    char *dup = floe_redact_dup(in);
    assert_non_null(dup);
    assert_string_equal(dup, want);
    /* Redacting redacted text changes nothing. */
    floe_redact(want, buf, sizeof buf);
    assert_string_equal(buf, want);
    free(dup);
}

static void userinfo(void **state)
{
    (void)state;
    expect("http://user:PASS@host:9/a/b.json", "http://host:9/a/b.json");
    expect("https://AKID@host/x", "https://host/x");
    expect("s3://k:PASS@bucket/key", "s3://bucket/key");
    /* '@' after the authority is part of the path. */
    expect("s3://bucket/a@b/c", "s3://bucket/a@b/c");
    expect("http://host/p?q=a@b", "http://host/p?q=a@b");
    /* A password holding '/', '?' or '#' (which end an authority). */
    expect("https://user:pa/ss@host/x", "https://host/x");
    expect("https://user:pa?ss@host/x", "https://host/x");
    expect("https://user:pa#ss@host/x", "https://host/x");
    expect("see https://u:p/w@h/x and more", "see https://h/x and more");
}

/* A secret value ends only at '&', ';', '#' or white space: nothing of it
 * survives after a quote or an embedded URL; pwd and jwt are secrets too. */
static void secret_value_ends(void **state)
{
    (void)state;
    expect("http://h/x?sig=ab'cd&x=1", "http://h/x?sig=REDACTED&x=1");
    expect("http://h/x?token=abc\"def", "http://h/x?token=REDACTED");
    expect("http://h/x?sig=ab://cd@ef", "http://h/x?sig=REDACTED");
    expect("http://h/x?pwd=hunter2&jwt=e.y.j", "http://h/x?pwd=REDACTED&jwt=REDACTED");
}

/* A run of punctuation inside a value stays part of it, at the end of a
 * URL in prose it does not: "...?q=a...b" vs "...?sig=X." */
static void punctuation_runs(void **state)
{
    (void)state;
    size_t n = 100000; /* each run is looked at once (once: quadratic) */
    char *in = malloc(n + 32), *out = malloc(n + 32);
    assert_non_null(in);
    assert_non_null(out);
    strcpy(in, "http://h/x?q=");
    memset(in + 13, '.', n);
    strcpy(in + 13 + n, "a");
    floe_redact(in, out, n + 32);
    assert_string_equal(out, in);
    free(in);
    free(out);
    expect("(see http://h/x?q=a.b.), then", "(see http://h/x?q=a.b.), then");
    expect("http://h/x?key=a.b.: failed", "http://h/x?key=REDACTED.: failed");
}

static void secret_parameters(void **state)
{
    (void)state;
    expect("https://h/k?X-Amz-Signature=SECRET", "https://h/k?X-Amz-Signature=REDACTED");
    expect("https://h/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2024&"
           "X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=SECRET&X-Amz-Signature=SECRET",
           "https://h/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&"
           "X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED");
    expect("https://acct.blob.core.windows.net/c/b?sv=2022&sig=SECRET&se=2030",
           "https://acct.blob.core.windows.net/c/b?sv=2022&sig=REDACTED&se=2030");
    expect("https://h/k?token=SECRET#frag", "https://h/k?token=REDACTED#frag");
    expect("https://h/k?access_token=S;api_key=S&X-Goog-Signature=S&password=S&secret=S",
           "https://h/k?access_token=REDACTED;api_key=REDACTED&X-Goog-Signature=REDACTED&"
           "password=REDACTED&secret=REDACTED");
    /* Names are matched ignoring case; values may be empty. */
    expect("HTTPS://h/k?x-amz-signature=SECRET&TOKEN=SECRET&Sig=",
           "HTTPS://h/k?x-amz-signature=REDACTED&TOKEN=REDACTED&Sig=REDACTED");
    /* Both at once. */
    expect("http://user:PASS@h:1/c.json?X-Amz-Signature=SECRET&X-Amz-Credential=SECRET",
           "http://h:1/c.json?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED");
}

static void nothing_else(void **state)
{
    (void)state;
    expect("", "");
    expect("http://host/p", "http://host/p");
    expect("https://h/k?version=3&format=json&x", "https://h/k?version=3&format=json&x");
    expect("s3://b/what?.nc", "s3://b/what?.nc");
    expect("/tmp/a?token=b user:pass@x", "/tmp/a?token=b user:pass@x");
    expect("floe extract -v Tair,PSurf --bbox -10,30,5,45 -o out.nc",
           "floe extract -v Tair,PSurf --bbox -10,30,5,45 -o out.nc");
    expect("no scheme :// here", "no scheme :// here");
}

static void inside_text(void **state)
{
    (void)state;
    /* A command line as cli/options.c writes it (quoted arguments). */
    expect("floe extract 'http://u:PASS@h:9/c.json?X-Amz-Signature=SECRET&a=1' -v T "
           "--remap s3://b/=https://k:PASS@m/?sig=SECRET -o o.nc",
           "floe extract 'http://h:9/c.json?X-Amz-Signature=REDACTED&a=1' -v T "
           "--remap s3://b/=https://m/?sig=REDACTED -o o.nc");
    expect("--s3-endpoint=http://AKID:PASS@127.0.0.1:9000",
           "--s3-endpoint=http://127.0.0.1:9000");
    /* An error line: punctuation that ends the URL stays. */
    expect("http://u:PASS@h/c.json?token=SECRET: not found (HTTP 404)",
           "http://h/c.json?token=REDACTED: not found (HTTP 404)");
    expect("fetching x (via https://h/k?sig=SECRET), 3 attempts",
           "fetching x (via https://h/k?sig=REDACTED), 3 attempts");
    expect("\"href\": \"https://u:p@h/k?token=SECRET\"", "\"href\": \"https://h/k?token=REDACTED\"");
    expect("a https://u:PASS@h/1 and s3://k:PASS@b/2.", "a https://h/1 and s3://b/2.");
}

static void truncation(void **state)
{
    (void)state;
    char tiny[8];
    assert_int_equal(floe_redact("https://example.org/x", tiny, sizeof tiny), 21);
    assert_string_equal(tiny, "https:/");
    char small[20];
    floe_redact("https://h/k?sig=ab", small, sizeof small);
    assert_string_equal(small, "https://h/k?sig=RED");
    assert_int_equal(floe_redact("http://u:p@h/", NULL, 0), strlen("http://h/"));
    assert_null(floe_redact_dup(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(userinfo),
        cmocka_unit_test(secret_value_ends),
        cmocka_unit_test(punctuation_runs),     cmocka_unit_test(secret_parameters),
        cmocka_unit_test(nothing_else), cmocka_unit_test(inside_text),
        cmocka_unit_test(truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
