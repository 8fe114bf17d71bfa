/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the FlexBuffers decoder and the other metadata encodings
 * of the Icechunk reader (MessagePack values, config.yaml as JSON).
 *
 * Real data: the Repo.config FlexBuffers that the real Icechunk wrote into
 * the virtual-v2 and test-repo-v2 `repo` files, compared with the JSON the
 * format guide (§9.1, §9.2) documents for them. Hand-made buffers follow
 * the wire rules of §9.2, one rule each, and corrupt ones must fail cleanly.
 */
#include "io/icechunk/format/flexbuf.h"
#include "io/icechunk/internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "icechunk_test_util.h"

/* The config FlexBuffer of a fixture's repo file (decoded with the reader's
 * own header and flatbuffer code, which other tests check). */
static uint8_t *repo_config(const char *fixture, size_t *len)
{
    char dir[1024], path[1200];
    tu_fixture_dir(fixture, dir, sizeof dir);
    snprintf(path, sizeof path, "%srepo", dir);
    size_t rlen;
    uint8_t *raw = tu_read_file(path, &rlen);
    assert_non_null(raw);
    ic_file f;
    TU_OK(ic_file_decode(raw, rlen, IC_FILE_REPO_INFO, 1 << 24, NULL, &f));
    fb_vector v;
    TU_OK(fb_field_vector(&f.root, 9, "config", 1, 1, &v));
    uint8_t *out = malloc(v.n);
    memcpy(out, fb_vector_elem(&v, 0), v.n);
    *len = v.n;
    ic_file_free(&f);
    free(raw);
    return out;
}

static void guide_example_virtual_v2(void **state)
{
    (void)state;
    size_t len;
    uint8_t *cfg = repo_config("virtual-v2", &len);
    /* §9.2: 831 bytes ending 24 25 01: root width 1, a map of child width 2. */
    assert_int_equal(len, 831);
    assert_int_equal(cfg[len - 3], 0x24);
    assert_int_equal(cfg[len - 2], 0x25);
    assert_int_equal(cfg[len - 1], 0x01);
    cJSON *json;
    TU_OK(flexbuf_to_json(cfg, len, &json));
    assert_true(cJSON_IsObject(json));
    assert_int_equal(cJSON_GetArraySize(json), 12);
    assert_string_equal(json->child->string, "caching");
    cJSON *last = json->child;
    while (last->next)
        last = last->next;
    assert_string_equal(last->string, "virtual_chunk_containers");
    cJSON *want = cJSON_Parse(
        "{\"file:///fixture-data/\": {\"name\": null, \"url_prefix\": \"file:///fixture-data/\","
        " \"store\": {\"local_file_system\": \"/fixture-data/\"}}}");
    assert_true(cJSON_Compare(last, want, 1));
    assert_true(cJSON_GetObjectItem(json, "inline_chunk_threshold_bytes")->valuedouble == 32);
    cJSON_Delete(want);
    cJSON_Delete(json);
    free(cfg);
}

static void guide_example_test_repo_v2(void **state)
{
    (void)state;
    size_t len;
    uint8_t *cfg = repo_config("test-repo-v2", &len);
    cJSON *json;
    TU_OK(flexbuf_to_json(cfg, len, &json));
    cJSON *want = cJSON_Parse(
        "{\"s3://testbucket/\": {\"name\": null, \"url_prefix\": \"s3://testbucket/\","
        " \"store\": {\"s3_compatible\": {\"region\": \"us-east-1\", \"endpoint_url\": \"http://localhost:4200\","
        " \"anonymous\": false, \"allow_http\": true, \"force_path_style\": true,"
        " \"network_stream_timeout_seconds\": 60, \"requester_pays\": false}}}}");
    cJSON *got = cJSON_GetObjectItem(json, "virtual_chunk_containers");
    if (!cJSON_Compare(got, want, 1)) {
        char *text = cJSON_Print(got);
        fail_msg("containers decoded as %s", text);
    }
    assert_true(cJSON_GetObjectItem(json, "inline_chunk_threshold_bytes")->valuedouble == 12);
    cJSON_Delete(want);
    cJSON_Delete(json);
    free(cfg);
}

/* Every truncation and single-byte change of a real config: an answer or
 * FLOE_EFORMAT, never a read out of bounds (exact-size copies for ASan). */
static void real_config_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *cfg = repo_config("test-repo-v2", &len);
    for (size_t cut = 0; cut <= len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, cfg + (len - cut), cut); /* FlexBuffers are read from the end */
        cJSON *json = NULL;
        floe_err err = flexbuf_to_json(p, cut, &json);
        if (err) {
            assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
            floe_err_free(&err);
        }
        cJSON_Delete(json);
        free(p);
    }
    const uint8_t values[] = {0x00, 0x01, 0x7f, 0xff};
    size_t failed = 0;
    for (size_t pos = 0; pos < len; pos++)
        for (size_t v = 0; v < sizeof values; v++) {
            uint8_t *p = malloc(len);
            memcpy(p, cfg, len);
            p[pos] = values[v];
            cJSON *json = NULL;
            floe_err err = flexbuf_to_json(p, len, &json);
            if (err) {
                assert_int_equal(floe_err_code(err), FLOE_EFORMAT);
                failed++;
                floe_err_free(&err);
            }
            cJSON_Delete(json);
            free(p);
        }
    assert_true(failed > 0);
    free(cfg);
}

static char *decode_text(const uint8_t *b, size_t n)
{
    cJSON *json = NULL;
    floe_err err = flexbuf_to_json(b, n, &json);
    if (tu_report(err, "flexbuf_to_json")) {
        floe_err_free(&err);
        fail_msg("decode failed");
    }
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    return text;
}

static void expect_text(const uint8_t *b, size_t n, const char *want)
{
    char *text = decode_text(b, n);
    assert_string_equal(text, want);
    free(text);
}

static void expect_bad(const uint8_t *b, size_t n, const char *needle)
{
    cJSON *json = NULL;
    floe_err err = flexbuf_to_json(b, n, &json);
    assert_null(json);
    tu_expect_err(err, FLOE_EFORMAT, needle);
}

/* Hand-made buffers, one wire rule each (format guide §9.2). Packed type
 * byte = type << 2 | log2(child width). */
static void hand_made(void **state)
{
    (void)state;
    /* Inline scalars in a 1-byte root slot. */
    expect_text((uint8_t[]){0x05, 1 << 2, 0x01}, 3, "5");                  /* int */
    expect_text((uint8_t[]){0xfb, 1 << 2, 0x01}, 3, "-5");                 /* int, negative */
    expect_text((uint8_t[]){0xfb, 2 << 2, 0x01}, 3, "251");                /* uint */
    expect_text((uint8_t[]){0x00, 0x00, 1 << 2, 0x02}, 4, "0");            /* 2-byte root */
    expect_text((uint8_t[]){0x01, 26 << 2, 0x01}, 3, "true");              /* bool */
    expect_text((uint8_t[]){0x00, 0 << 2, 0x01}, 3, "null");               /* null */
    expect_text((uint8_t[]){0x00, 0x00, 0xc0, 0x3f, 3 << 2, 0x04}, 6, "1.5"); /* float32 */
    /* String "hi": length 2, bytes, NUL; root slot holds offset 3 back to 'h'. */
    expect_text((uint8_t[]){0x02, 'h', 'i', 0x00, 0x03, 5 << 2, 0x01}, 7, "\"hi\"");
    /* Indirect uint (child width 1): the value 200 three bytes back. */
    expect_text((uint8_t[]){200, 0x00, 0x00, 0x03, (7 << 2) | 0, 0x01}, 6, "200");
    /* Typed int vector [1, 2, 3] (width 1). */
    expect_text((uint8_t[]){0x03, 1, 2, 3, 0x03, 11 << 2, 0x01}, 7, "[1,2,3]");
    /* Fixed-length typed vector of 2 uints (type 17): no length prefix. */
    expect_text((uint8_t[]){7, 9, 0x02, 17 << 2, 0x01}, 5, "[7,9]");
    /* Untyped vector [true, -1]: length, slots, then one type byte each. */
    expect_text((uint8_t[]){0x02, 0x01, 0xff, 26 << 2, 1 << 2, 0x04, 10 << 2, 0x01}, 8, "[true,-1]");
    /* Map {"a": 1, "b": 2}: keys "a\0b\0", keys vector [offsets], then
     * the map: key-vector offset, key width, length, values, types. */
    const uint8_t map[] = {
        'a', 0x00, 'b', 0x00, /* 0..3 keys */
        0x02,                 /* 4: keys vector length */
        0x05, 0x04,           /* 5, 6: key slots: 5-5 = 0 ("a"), 6-4 = 2 ("b") */
        0x02,                 /* 7: offset to keys vector: 7-2 = 5 */
        0x01,                 /* 8: key byte width */
        0x02,                 /* 9: length */
        0x01, 0x02,           /* 10, 11: values */
        1 << 2, 1 << 2,       /* 12, 13: value types (int) */
        0x04,                 /* 14: root slot: 14-4 = 10 */
        9 << 2, 0x01,         /* map, root width 1 */
    };
    expect_text(map, sizeof map, "{\"a\":1,\"b\":2}");
    /* Blob of 2 bytes. */
    expect_text((uint8_t[]){0x02, 0xaa, 0xbb, 0x02, 25 << 2, 0x01}, 6, "[170,187]");
}

static void hand_made_corrupt(void **state)
{
    (void)state;
    expect_bad((uint8_t[]){0x01}, 1, "only 1 bytes");
    expect_bad((uint8_t[]){0x05, 1 << 2, 0x03}, 3, "root width");        /* width 3 */
    expect_bad((uint8_t[]){0x05, 1 << 2, 0x08}, 3, "root width");        /* 8 > buffer */
    expect_bad((uint8_t[]){0x09, 5 << 2, 0x01}, 3, "offset");            /* string before the buffer */
    expect_bad((uint8_t[]){0x7f, 'h', 'i', 0x00, 0x03, 5 << 2, 0x01}, 7, "string"); /* length 127 */
    expect_bad((uint8_t[]){0x02, 'h', 'i', 'j', 0x03, 5 << 2, 0x01}, 7, "string");  /* no NUL */
    expect_bad((uint8_t[]){0x01, 0x00, 63 << 2, 0x01}, 4, "unknown value type");
    expect_bad((uint8_t[]){0x00, 0x00, 3 << 2, 0x02}, 4, "float of 2 bytes");
    /* A vector whose first element is the vector itself: depth cap. */
    expect_bad((uint8_t[]){0x01, 0x00, 10 << 2, 0x02, 10 << 2, 0x01}, 6, "deeper");
    /* Keys vector offset pointing past the start. */
    const uint8_t map[] = {0x02, 0x00, 0x40, 0x01, 0x01, 0x05, 1 << 2, 0x02, 9 << 2, 0x01};
    expect_bad(map, sizeof map, NULL);
}

/* ---- MessagePack (spec-v1 metadata values) ----------------------------------------- */

static void expect_msgpack(const uint8_t *b, size_t n, const char *want)
{
    cJSON *json = NULL;
    TU_OK(ic_msgpack_to_json(b, n, &json));
    char *text = cJSON_PrintUnformatted(json);
    assert_string_equal(text, want);
    free(text);
    cJSON_Delete(json);
}

static void msgpack_values(void **state)
{
    (void)state;
    expect_msgpack((uint8_t[]){0xc3}, 1, "true");
    expect_msgpack((uint8_t[]){0xc2}, 1, "false");
    expect_msgpack((uint8_t[]){0xc0}, 1, "null");
    expect_msgpack((uint8_t[]){0x7f}, 1, "127");
    expect_msgpack((uint8_t[]){0xff}, 1, "-1");
    expect_msgpack((uint8_t[]){0xcd, 0x01, 0x00}, 3, "256");
    expect_msgpack((uint8_t[]){0xd1, 0xff, 0x00}, 3, "-256");
    expect_msgpack((uint8_t[]){0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, 9, "1.5");
    expect_msgpack((uint8_t[]){0xca, 0x40, 0x20, 0x00, 0x00}, 5, "2.5");
    expect_msgpack((uint8_t[]){0xa3, 'a', 'b', 'c'}, 4, "\"abc\"");
    expect_msgpack((uint8_t[]){0xd9, 0x01, 'x'}, 3, "\"x\"");
    expect_msgpack((uint8_t[]){0x92, 0x01, 0xc0}, 3, "[1,null]");
    expect_msgpack((uint8_t[]){0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xc3}, 7, "{\"a\":1,\"b\":true}");
    expect_msgpack((uint8_t[]){0x81, 0x07, 0x08}, 3, "{\"7\":8}"); /* non-string key */
    expect_msgpack((uint8_t[]){0xc4, 0x02, 0x01, 0x02}, 4, "[1,2]");  /* bin 8 */

    const struct { const uint8_t *b; size_t n; floe_code code; } bad[] = {
        {(uint8_t[]){0xa3, 'a'}, 2, FLOE_EFORMAT},              /* string runs out */
        {(uint8_t[]){0xdd, 0xff, 0xff, 0xff, 0xff}, 5, FLOE_EFORMAT}, /* huge array */
        {(uint8_t[]){0xc1}, 1, FLOE_EFORMAT},                   /* never used */
        {(uint8_t[]){0xc3, 0xc3}, 2, FLOE_EFORMAT},             /* trailing bytes */
        {(uint8_t[]){0xd4, 0x01, 0x02}, 3, FLOE_EUNSUPPORTED},  /* extension */
        {(uint8_t[]){0}, 0, FLOE_EFORMAT},                      /* empty */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *json = NULL;
        floe_err err = ic_msgpack_to_json(bad[i].b, bad[i].n, &json);
        assert_null(json);
        tu_expect_err(err, bad[i].code, "msgpack");
    }
    /* 100 nested arrays: capped. */
    uint8_t deep[101];
    memset(deep, 0x91, 100);
    deep[100] = 0xc0;
    cJSON *json = NULL;
    tu_expect_err(ic_msgpack_to_json(deep, sizeof deep, &json), FLOE_EFORMAT, "deeper");
}

/* ---- config.yaml as JSON ----------------------------------------------------------------- */

static void yaml_config(void **state)
{
    (void)state;
    const char *yaml =
        "inline_chunk_threshold_bytes: 12\n"
        "caching: null\n"
        "quoted: '12'\n"
        "flag: true\n"
        "virtual_chunk_containers:\n"
        "  s3:\n"
        "    name: s3\n"
        "    url_prefix: s3://testbucket\n"
        "    store: !s3_compatible\n"
        "      region: us-east-1\n"
        "      anonymous: false\n"
        "  file:\n"
        "    url_prefix: file\n"
        "    store: !local_file_system ''\n"
        "  az:\n"
        "    store: !azure {}\n"
        "split:\n"
        "- condition: !Axis 0\n"
        "  num_chunks: 1\n"
        "- condition: Any\n";
    cJSON *json = NULL;
    TU_OK(ic_yaml_to_json(yaml, strlen(yaml), &json));
    char *text = cJSON_PrintUnformatted(json);
    assert_string_equal(
        text,
        "{\"inline_chunk_threshold_bytes\":12,\"caching\":null,\"quoted\":\"12\",\"flag\":true,"
        "\"virtual_chunk_containers\":{\"s3\":{\"name\":\"s3\",\"url_prefix\":\"s3://testbucket\","
        "\"store\":{\"s3_compatible\":{\"region\":\"us-east-1\",\"anonymous\":false}}},"
        "\"file\":{\"url_prefix\":\"file\",\"store\":{\"local_file_system\":\"\"}},"
        "\"az\":{\"store\":{\"azure\":{}}}},"
        "\"split\":[{\"condition\":{\"Axis\":0},\"num_chunks\":1},{\"condition\":\"Any\"}]}");
    free(text);
    cJSON_Delete(json);

    TU_OK(ic_yaml_to_json("", 0, &json));
    assert_true(cJSON_IsNull(json));
    cJSON_Delete(json);
    tu_expect_err(ic_yaml_to_json("a: [1, 2\n", 9, &json), FLOE_EFORMAT, "line");
    /* An alias bomb stops at the node cap instead of exhausting memory. */
    const char *bomb =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    json = NULL;
    tu_expect_err(ic_yaml_to_json(bomb, strlen(bomb), &json), FLOE_EFORMAT, "nodes");
    assert_null(json);
}

/* The same containers from YAML and from JSON, normalized and filtered. */
static void containers_rules(void **state)
{
    (void)state;
    const char *cfg =
        "{\"virtual_chunk_containers\": {"
        " \"a\": {\"url_prefix\": \"s3://bucket\", \"store\": {\"s3\": {\"region\": \"eu-west-1\", \"anonymous\": true}}},"
        " \"b\": {\"url_prefix\": \"s3://bucket/deeper/\", \"store\": {\"tigris\": {}}},"
        " \"c\": {\"url_prefix\": \"gs://g/\", \"store\": {\"gcs\": {}}},"
        " \"d\": {\"url_prefix\": \"https://example.com/data/\", \"store\": {\"http\": {}}},"
        " \"e\": {\"url_prefix\": \"s3:///nohost/\", \"store\": {\"s3\": {}}},"
        " \"f\": {\"url_prefix\": \"gs://g/\", \"store\": {\"s3\": {}}},"
        " \"g\": {\"url_prefix\": \"file:///a/../b/\", \"store\": {\"local_file_system\": \"/b\"}},"
        " \"h\": {\"url_prefix\": \"file:///\", \"store\": {\"local_file_system\": \"/\"}},"
        " \"i\": {\"url_prefix\": \"memory://x/\", \"store\": \"in_memory\"},"
        " \"j\": {\"name\": \"has/slash\", \"url_prefix\": \"s3://n/\", \"store\": {\"s3\": {}}},"
        " \"k\": {\"name\": \"nick\", \"url_prefix\": \"az://acct/\", \"store\": {\"azure\": {\"account\": \"x\"}}},"
        " \"l\": {\"url_prefix\": \"1s3://x/\", \"store\": {\"s3\": {}}},"
        " \"m\": {\"store\": {\"s3\": {}}}"
        "}}";
    cJSON *json = cJSON_Parse(cfg);
    ic_repo r;
    memset(&r, 0, sizeof r);
    TU_OK(ic_config_load_containers(&r, json));
    cJSON_Delete(json);
    /* Kept: a b c d k; sorted longest prefix first. */
    assert_int_equal(r.n_containers, 5);
    assert_string_equal(r.containers[0].url_prefix, "https://example.com/data/");
    assert_string_equal(r.containers[1].url_prefix, "s3://bucket/deeper/");
    assert_string_equal(r.containers[1].store_kind, "tigris");
    assert_string_equal(r.containers[2].url_prefix, "s3://bucket/");
    assert_string_equal(r.containers[2].region, "eu-west-1");
    assert_int_equal(r.containers[2].anonymous, 1);
    assert_string_equal(r.containers[3].url_prefix, "az://acct/");
    assert_string_equal(r.containers[3].name, "nick");
    assert_string_equal(r.containers[4].url_prefix, "gs://g/");
    for (size_t i = 0; i < r.n_strings; i++)
        free(r.strings[i]);
    free(r.strings);
    free(r.containers);

    memset(&r, 0, sizeof r);
    TU_OK(ic_config_load_containers(&r, NULL));
    json = cJSON_Parse("{\"virtual_chunk_containers\": null}");
    TU_OK(ic_config_load_containers(&r, json));
    cJSON_Delete(json);
    assert_int_equal(r.n_containers, 0);
    json = cJSON_Parse("[1]");
    tu_expect_err(ic_config_load_containers(&r, json), FLOE_EFORMAT, "not a map");
    cJSON_Delete(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guide_example_virtual_v2),
        cmocka_unit_test(guide_example_test_repo_v2),
        cmocka_unit_test(real_config_mutations),
        cmocka_unit_test(hand_made),
        cmocka_unit_test(hand_made_corrupt),
        cmocka_unit_test(msgpack_values),
        cmocka_unit_test(yaml_config),
        cmocka_unit_test(containers_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
