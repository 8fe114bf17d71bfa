/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the bounds-checked FlatBuffers reader.
 *
 * The main input is the annotated manifest of shared/docs/icechunk-format.md
 * §6.1 (virtual-v2 manifest XP084H86QBZSH65CB90G, decompressed, written by
 * the real Icechunk): every field the guide reads by hand is read here and
 * compared with the guide. Then hand-made corruptions that each rule must
 * catch, and every truncation and single-byte change of the example, which
 * must give an answer or FLOE_EFORMAT, never an out-of-bounds read (run
 * under ASan).
 */
#include "io/icechunk/format/flatbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t EXAMPLE[132] = {
    0x14, 0x00, 0x00, 0x00, 0x49, 0x63, 0x68, 0x6b, 0x0c, 0x00, 0x18, 0x00, 0x08, 0x00, 0x14, 0x00,
    0x00, 0x00, 0x07, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xed, 0x80, 0x82, 0x45,
    0x06, 0xba, 0xff, 0x98, 0x98, 0xac, 0x5a, 0x41, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x10, 0x00, 0x04, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00,
    0xcf, 0xc6, 0xfc, 0x57, 0x30, 0x47, 0xe7, 0x5e, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x1c, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};

static void reads_the_guide_example(void **state)
{
    (void)state;
    fb_table root;
    assert_null(fb_root(EXAMPLE, sizeof EXAMPLE, "Ichk", &root));
    assert_int_equal(root.pos, 0x14);
    assert_int_equal(root.vt, 0x08);
    assert_int_equal(root.vt_size, 0x0c);
    assert_int_equal(root.inline_size, 0x18);
    assert_int_equal(fb_field_offset(&root, 0), 8);
    assert_int_equal(fb_field_offset(&root, 1), 0x14);
    assert_int_equal(fb_field_offset(&root, 2), 0);  /* location_dictionary absent */
    assert_int_equal(fb_field_offset(&root, 3), 7);
    assert_int_equal(fb_field_offset(&root, 4), 0);  /* beyond the vtable: absent */
    assert_int_equal(fb_field_offset(&root, 100), 0);

    const uint8_t *id;
    assert_null(fb_field_struct(&root, 0, "id", 12, 1, &id));
    const uint8_t want_id[12] = {0xed, 0x80, 0x82, 0x45, 0x06, 0xba, 0xff, 0x98, 0x98, 0xac, 0x5a, 0x41};
    assert_memory_equal(id, want_id, 12);

    uint8_t comp;
    assert_null(fb_field_u8(&root, 3, "compression_algorithm", 1, &comp));
    assert_int_equal(comp, 0); /* stored explicitly: differs from the default 1 */
    fb_vector dict;
    assert_null(fb_field_vector(&root, 2, "location_dictionary", 1, 0, &dict));
    assert_false(dict.present);
    assert_int_equal(dict.n, 0);
    floe_err err = fb_field_vector(&root, 2, "location_dictionary", 1, 1, &dict);
    assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
    assert_non_null(strstr(floe_err_message(err), "location_dictionary"));
    floe_err_free(&err);

    fb_vector arrays;
    assert_null(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &arrays));
    assert_int_equal(arrays.n, 1);
    assert_int_equal(arrays.pos, 0x30);
    fb_table am;
    assert_null(fb_vector_table(&arrays, 0, &am));
    assert_int_equal(am.pos, 0x3c);
    assert_int_equal(am.vt, 0x34);
    const uint8_t *node_id;
    assert_null(fb_field_struct(&am, 0, "node_id", 8, 1, &node_id));
    const uint8_t want_node[8] = {0xcf, 0xc6, 0xfc, 0x57, 0x30, 0x47, 0xe7, 0x5e};
    assert_memory_equal(node_id, want_node, 8);

    fb_vector refs;
    assert_null(fb_field_vector(&am, 1, "refs", FB_REF_SIZE, 1, &refs));
    assert_int_equal(refs.n, 1);
    fb_table ref;
    assert_null(fb_vector_table(&refs, 0, &ref));
    assert_int_equal(ref.pos, 0x5c);
    fb_vector index, inl;
    assert_null(fb_field_vector(&ref, 0, "index", 4, 1, &index));
    assert_int_equal(index.n, 1);
    assert_int_equal(fb_vector_u32(&index, 0), 0);
    assert_int_equal(fb_vector_u32(&index, 1), 0); /* out of range reads 0 */
    assert_null(fb_vector_elem(&index, 1));
    assert_null(fb_field_vector(&ref, 1, "inline", 1, 0, &inl));
    assert_true(inl.present);
    assert_int_equal(inl.n, 16);
    const uint8_t want_inline[16] = {0, 0, 0, 0, 6, 0, 0, 0, 12, 0, 0, 0, 18, 0, 0, 0};
    assert_memory_equal(fb_vector_elem(&inl, 0), want_inline, 16);
    /* No other field: offset/length default to 0, location absent. */
    uint64_t off = 99;
    assert_null(fb_field_u64(&ref, 2, "offset", 0, &off));
    assert_int_equal(off, 0);
    const char *loc = (const char *)1;
    assert_null(fb_field_string(&ref, 5, "location", 0, &loc, NULL));
    assert_null(loc);
    err = fb_field_string(&ref, 5, "location", 1, &loc, NULL);
    assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
    floe_err_free(&err);
    /* Asking for the wrong element kind is a caller bug, not corruption. */
    fb_table bogus;
    err = fb_vector_table(&inl, 0, &bogus); /* a [u8] vector */
    assert_int_equal(floe_err_code(err), FLOE_EINTERNAL);
    floe_err_free(&err);
    err = fb_vector_table(&refs, 1, &bogus);
    assert_int_equal(floe_err_code(err), FLOE_EINTERNAL);
    floe_err_free(&err);
}

static void loads(void **state)
{
    (void)state;
    const uint8_t b[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88};
    assert_int_equal(fb_load_u16(b), 0x0201);
    assert_int_equal(fb_load_u32(b), 0x04030201);
    assert_true(fb_load_u64(b) == 0x8807060504030201ull);
}

static uint8_t *copy_example(void)
{
    uint8_t *p = malloc(sizeof EXAMPLE);
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    return p;
}

static void expect_format(floe_err err, const char *needle)
{
    assert_non_null(err);
    assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
    if (needle && !strstr(floe_err_message(err), needle))
        fail_msg("\"%s\" does not mention \"%s\"", floe_err_message(err), needle);
    floe_err_free(&err);
}

static void corrupt_headers(void **state)
{
    (void)state;
    fb_table t;
    expect_format(fb_root(EXAMPLE, 7, NULL, &t), "only 7 bytes");
    expect_format(fb_root(EXAMPLE, sizeof EXAMPLE, "Abcd", &t), "identifier");
    /* Root offset past the end. */
    uint8_t *p = copy_example();
    p[0] = 0x90;
    expect_format(fb_root(p, sizeof EXAMPLE, NULL, &t), "outside");
    /* soffset pointing before the buffer (vtable at 0x14 - 0x7f = negative). */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x14] = 0x7f;
    expect_format(fb_root(p, sizeof EXAMPLE, NULL, &t), "vtable");
    /* soffset pointing past the end (negative soffset = vtable after the table). */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x14] = 0x00; p[0x15] = 0xff; p[0x16] = 0xff; p[0x17] = 0xff;
    expect_format(fb_root(p, sizeof EXAMPLE, NULL, &t), "vtable");
    /* Odd vtable size and a vtable running off the buffer. */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x08] = 0x0d;
    expect_format(fb_root(p, sizeof EXAMPLE, NULL, &t), "bad vtable");
    p[0x08] = 0xfe; p[0x09] = 0x7f;
    expect_format(fb_root(p, sizeof EXAMPLE, NULL, &t), "bad vtable");
    /* Inline size larger than what is left of the buffer. */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x0a] = 0xf0;
    expect_format(fb_root(p, sizeof EXAMPLE, NULL, &t), "inline size");
    free(p);
}

static void corrupt_fields(void **state)
{
    (void)state;
    uint8_t *p = copy_example();
    fb_table root;
    const uint8_t *id;
    /* Field offset beyond the table's inline size (0x18): id at 0x14 needs 12. */
    p[0x0c] = 0x14;
    assert_null(fb_root(p, sizeof EXAMPLE, NULL, &root));
    expect_format(fb_field_struct(&root, 0, "id", 12, 1, &id), "'id'");
    /* Vector reference past the end. */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x28] = 0xf0;
    assert_null(fb_root(p, sizeof EXAMPLE, NULL, &root));
    fb_vector v;
    expect_format(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &v), "arrays");
    /* A reference of 0 would point at itself. */
    p[0x28] = 0;
    expect_format(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &v), "arrays");
    /* Vector length larger than the buffer. */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x2c] = 0xff; p[0x2d] = 0xff; p[0x2e] = 0xff; p[0x2f] = 0x7f;
    assert_null(fb_root(p, sizeof EXAMPLE, NULL, &root));
    expect_format(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &v), "run past");
    /* A huge element count whose byte size would wrap in 32 bits. */
    p[0x2c] = 0x01; p[0x2d] = 0x00; p[0x2e] = 0x00; p[0x2f] = 0x40;
    expect_format(fb_field_vector(&root, 1, "arrays", 8, 1, &v), "run past");
    /* The inline [u8] of the ref claims more bytes than there are. */
    memcpy(p, EXAMPLE, sizeof EXAMPLE);
    p[0x68] = 0x40;
    assert_null(fb_root(p, sizeof EXAMPLE, NULL, &root));
    fb_vector arrays, refs, inl;
    fb_table am, ref;
    assert_null(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &arrays));
    assert_null(fb_vector_table(&arrays, 0, &am));
    assert_null(fb_field_vector(&am, 1, "refs", FB_REF_SIZE, 1, &refs));
    assert_null(fb_vector_table(&refs, 0, &ref));
    expect_format(fb_field_vector(&ref, 1, "inline", 1, 0, &inl), "inline");
    free(p);
}

/* A table with one string field, built by hand: root -> table at 12 with
 * vtable at 4 (size 6, inline 8), field 0 at offset 4 -> string at 20. */
static void strings(void **state)
{
    (void)state;
    uint8_t b[32] = {
        12, 0, 0, 0,          /* root: table at 12 */
        6, 0, 8, 0, 4, 0,     /* vtable at 4: size 6, inline 8, slot 0 at +4 */
        0, 0,                 /* padding */
        8, 0, 0, 0,           /* table at 12: soffset 8 -> vtable at 4 */
        4, 0, 0, 0,           /* slot 0 at 16: string at 16 + 4 = 20 */
        3, 0, 0, 0, 'a', 'b', 'c', 0, /* string at 20 */
    };
    fb_table t;
    const char *s;
    size_t n;
    assert_null(fb_root(b, 28, NULL, &t));
    assert_null(fb_field_string(&t, 0, "name", 1, &s, &n));
    assert_string_equal(s, "abc");
    assert_int_equal(n, 3);
    b[27] = 'd'; /* no NUL terminator */
    expect_format(fb_field_string(&t, 0, "name", 1, &s, &n), "NUL-terminated");
    b[27] = 0;
    b[25] = 0; /* embedded NUL */
    expect_format(fb_field_string(&t, 0, "name", 1, &s, &n), "NUL byte");
    b[25] = 'b';
    b[20] = 4; /* length runs to the end of the 28 bytes, no room for the NUL */
    expect_format(fb_field_string(&t, 0, "name", 1, &s, &n), "length");
    b[20] = 3;
    assert_null(fb_field_string(&t, 0, "name", 1, &s, NULL));
    /* Absent optional string. */
    assert_null(fb_field_string(&t, 1, "other", 0, &s, &n));
    assert_null(s);
    assert_int_equal(n, 0);
    /* A scalar read of the string slot is 4 bytes, fits the inline part;
     * an 8-byte read at offset 4 of an 8-byte table does not. */
    uint64_t v;
    expect_format(fb_field_u64(&t, 0, "name", 0, &v), "inline");
    uint32_t u;
    assert_null(fb_field_u32(&t, 0, "name", 0, &u));
    assert_int_equal(u, 4);
    int32_t i32;
    assert_null(fb_field_i32(&t, 7, "absent", -1, &i32));
    assert_int_equal(i32, -1);
    uint16_t u16;
    assert_null(fb_field_u16(&t, 7, "absent", 77, &u16));
    assert_int_equal(u16, 77);
    fb_table sub;
    assert_null(fb_field_table(&t, 3, "absent", 0, &sub));
    assert_null(sub.buf);
    expect_format(fb_field_table(&t, 3, "absent", 1, &sub), "required");
}

/* Walk a manifest the way the Icechunk reader does, touching every field;
 * returns the first error (or NULL). Used on mutated inputs. */
static floe_err walk(const uint8_t *p, size_t len)
{
    fb_table root, am, ref;
    fb_vector arrays, refs, v;
    const uint8_t *s;
    const char *str;
    uint64_t u64;
    uint32_t u32;
    uint8_t u8;
    FLOE_CHECK(fb_root(p, len, "Ichk", &root));
    FLOE_CHECK(fb_field_struct(&root, 0, "id", 12, 1, &s));
    FLOE_CHECK(fb_field_u8(&root, 3, "compression_algorithm", 1, &u8));
    FLOE_CHECK(fb_field_vector(&root, 2, "location_dictionary", 1, 0, &v));
    FLOE_CHECK(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &arrays));
    for (uint32_t a = 0; a < arrays.n; a++) {
        FLOE_CHECK(fb_vector_table(&arrays, a, &am));
        FLOE_CHECK(fb_field_struct(&am, 0, "node_id", 8, 1, &s));
        FLOE_CHECK(fb_field_vector(&am, 1, "refs", FB_REF_SIZE, 1, &refs));
        for (uint32_t i = 0; i < refs.n; i++) {
            FLOE_CHECK(fb_vector_table(&refs, i, &ref));
            FLOE_CHECK(fb_field_vector(&ref, 0, "index", 4, 1, &v));
            for (uint32_t d = 0; d < v.n; d++)
                (void)fb_vector_u32(&v, d);
            FLOE_CHECK(fb_field_vector(&ref, 1, "inline", 1, 0, &v));
            if (v.n)
                (void)fb_vector_elem(&v, v.n - 1)[0];
            FLOE_CHECK(fb_field_u64(&ref, 2, "offset", 0, &u64));
            FLOE_CHECK(fb_field_u64(&ref, 3, "length", 0, &u64));
            FLOE_CHECK(fb_field_struct(&ref, 4, "chunk_id", 12, 0, &s));
            FLOE_CHECK(fb_field_string(&ref, 5, "location", 0, &str, NULL));
            FLOE_CHECK(fb_field_u32(&ref, 7, "checksum_last_modified", 0, &u32));
        }
    }
    return NULL;
}

static void every_truncation_and_mutation(void **state)
{
    (void)state;
    assert_null(walk(EXAMPLE, sizeof EXAMPLE));
    /* Truncations: copied to an exact-size heap block so ASan sees any
     * read past the end. */
    for (size_t len = 0; len < sizeof EXAMPLE; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, EXAMPLE, len);
        floe_err err = walk(p, len);
        /* Cutting the final padding bytes can leave a valid buffer. */
        if (err) {
            assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
            floe_err_free(&err);
        }
        free(p);
    }
    /* Every byte set to a handful of values. */
    const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
    size_t failures = 0;
    for (size_t pos = 0; pos < sizeof EXAMPLE; pos++) {
        for (size_t k = 0; k < sizeof values; k++) {
            uint8_t *p = copy_example();
            p[pos] = values[k];
            floe_err err = walk(p, sizeof EXAMPLE);
            if (err) {
                assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
                failures++;
                floe_err_free(&err);
            }
            free(p);
        }
    }
    assert_true(failures > 0); /* the mutations do reach the checks */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_guide_example),
        cmocka_unit_test(loads),
        cmocka_unit_test(corrupt_headers),
        cmocka_unit_test(corrupt_fields),
        cmocka_unit_test(strings),
        cmocka_unit_test(every_truncation_and_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
