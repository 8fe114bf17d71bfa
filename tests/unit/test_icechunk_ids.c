/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for Icechunk's Crockford base32 ids: the format guide's worked
 * examples (shared/docs/icechunk-format.md §3), ids from the fixture README,
 * round trips and what must be refused. */
#include "io/icechunk/format/ids.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void guide_examples(void **state)
{
    (void)state;
    const uint8_t first[12] = {0x0b, 0x1c, 0xc8, 0xd6, 0x78, 0x75, 0x80, 0xf0, 0xe3, 0x3a, 0x65, 0x34};
    char s[21];
    assert_string_equal(ic_id_encode(first, 12, s), "1CECHNKREP0F1RSTCMT0");
    uint8_t back[12];
    assert_true(ic_id_parse("1CECHNKREP0F1RSTCMT0", 20, back, 12));
    assert_memory_equal(back, first, 12);

    const uint8_t node[8] = {0xcf, 0xc6, 0xfc, 0x57, 0x30, 0x47, 0xe7, 0x5e};
    char n[14];
    assert_string_equal(ic_id_encode(node, 8, n), "SZ3FRNSG8ZKNW");
    uint8_t nb[8];
    assert_null(ic_id_decode("SZ3FRNSG8ZKNW", nb, 8));
    assert_memory_equal(nb, node, 8);
}

/* Ids whose bytes the fixture README and the guide give beside their names. */
static void fixture_ids(void **state)
{
    (void)state;
    struct { const char *name; const char *hex; } cases[] = {
        {"XP084H86QBZSH65CB90G", "ed80824506baff9898ac5a41"}, /* guide §6.1 manifest id */
        {"M5FWFRAWRB31Y", "a15fc7e15cc2c61f"},                /* test-repo-v2 big_chunks */
        {"TNZF3373SEFNR", "d57ef18ce3cb9f5c"},                /* virtual-v1 temp */
        {"E8T3K2AMETGR4", "723439895476a182"},                /* virtual-v2 temp */
        {"RXBZGGVS3Q8YC", "c757f843791dd1e6"},                /* virtual-v1 time */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t nbytes = strlen(cases[i].hex) / 2;
        uint8_t bytes[12];
        for (size_t k = 0; k < nbytes; k++) {
            unsigned v;
            sscanf(cases[i].hex + 2 * k, "%2x", &v);
            bytes[k] = (uint8_t)v;
        }
        char s[21];
        assert_string_equal(ic_id_encode(bytes, nbytes, s), cases[i].name);
        uint8_t back[12];
        assert_null(ic_id_decode(cases[i].name, back, nbytes));
        assert_memory_equal(back, bytes, nbytes);
    }
}

static void round_trips(void **state)
{
    (void)state;
    srand(12345);
    for (int it = 0; it < 2000; it++) {
        uint8_t b[12], back[12];
        for (int k = 0; k < 12; k++)
            b[k] = (uint8_t)rand();
        size_t n = it % 2 ? 12 : 8;
        char s[21];
        ic_id_encode(b, n, s);
        assert_int_equal(strlen(s), n == 12 ? 20 : 13);
        assert_true(ic_id_parse(s, strlen(s), back, n));
        assert_memory_equal(back, b, n);
        /* Only the 32 letters of the alphabet appear. */
        assert_int_equal(strspn(s, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), strlen(s));
    }
    const uint8_t zeros[12] = {0}, ones[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    char s[21];
    assert_string_equal(ic_id_encode(zeros, 12, s), "00000000000000000000");
    /* 96 one bits: 19 groups of 11111 and a last group 1 + 0000 padding. */
    assert_string_equal(ic_id_encode(ones, 12, s), "ZZZZZZZZZZZZZZZZZZZG");
}

static void lower_case_accepted(void **state)
{
    (void)state;
    uint8_t a[12], b[12];
    assert_null(ic_id_decode("1CECHNKREP0F1RSTCMT0", a, 12));
    assert_null(ic_id_decode("1cechnkrep0f1rstcmt0", b, 12));
    assert_memory_equal(a, b, 12);
}

static void refused(void **state)
{
    (void)state;
    uint8_t b[12];
    const char *bad[] = {
        "1CECHNKREP0F1RSTCMTI", /* I is not in the alphabet */
        "1CECHNKREP0F1RSTCMTL", "1CECHNKREP0F1RSTCMTO", "1CECHNKREP0F1RSTCMTU",
        "1CECHNKREP0F1RSTCM-0", "1CECHNKREP0F1RSTCM 0",
        "1CECHNKREP0F1RSTCMT",   /* 19 characters */
        "1CECHNKREP0F1RSTCMT00", /* 21 characters */
        "",
        "1CECHNKREP0F1RSTCMT1", /* the 4 padding bits of the last character are not zero */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(ic_id_parse(bad[i], strlen(bad[i]), b, 12));
        floe_err err = ic_id_decode(bad[i], b, 12);
        assert_non_null(err);
        assert_int_equal(floe_err_code(err), FLOE_EINVAL);
        floe_err_free(&err);
    }
    floe_err err = ic_id_decode("1CECHNKREP0F1RSTCMTI", b, 12);
    assert_non_null(strstr(floe_err_message(err), "'I'"));
    floe_err_free(&err);
    /* 8-byte ids: 13 characters, 1 padding bit. */
    uint8_t n[8];
    assert_true(ic_id_parse("SZ3FRNSG8ZKNW", 13, n, 8));
    assert_false(ic_id_parse("SZ3FRNSG8ZKNX", 13, n, 8)); /* X = 11101: padding bit set */
    assert_false(ic_id_parse("SZ3FRNSG8ZKN", 12, n, 8));
    err = ic_id_decode(NULL, n, 8);
    assert_int_equal(floe_err_code(err), FLOE_EINVAL);
    floe_err_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guide_examples),
        cmocka_unit_test(fixture_ids),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(lower_case_accepted),
        cmocka_unit_test(refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
