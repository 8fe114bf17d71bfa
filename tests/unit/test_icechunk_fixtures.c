/* SPDX-License-Identifier: Apache-2.0 */
/* The Icechunk reader against every repository in shared/fixtures/icechunk/.
 *
 * Every expected value here is copied from that folder's README.md (written
 * from the real Icechunk library's reading of the same files) or from the
 * format guide's worked examples, never from this reader's own output:
 * snapshot ids of every branch and tag, deleted tags, node paths and ids,
 * manifest ids and extents, the kind of every chunk, offsets, lengths,
 * checksums, inline bytes, native chunk bytes, and the decoded values
 * (zstd chunks decoded here with libzstd directly).
 */
#include "io/icechunk/icechunk.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <zstd.h>

#include "icechunk_test_util.h"

static floe_transport *T;

static int group_setup(void **state)
{
    (void)state;
    T = tu_transport();
    return T ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    floe_transport_free(&T);
    return 0;
}

/* ---- helpers ---------------------------------------------------------------------- */

static void expect_resolve(ic_repo *r, ic_ref_kind kind, const char *name, const char *want)
{
    char id[IC_SNAPSHOT_ID_SIZE];
    TU_OK(ic_repo_resolve(r, kind, name, id));
    if (strcmp(id, want) != 0)
        fail_msg("%s %s -> %s, expected %s", kind == IC_REF_TAG ? "tag" : "branch", name, id, want);
}

static void expect_not_found(ic_repo *r, ic_ref_kind kind, const char *name, const char *needle)
{
    char id[IC_SNAPSHOT_ID_SIZE] = "x";
    tu_expect_err(ic_repo_resolve(r, kind, name, id), FLOE_ENOTFOUND, needle);
    assert_string_equal(id, "");
}

/* Stored chunk bytes (inline or native) of chunk c of array n. */
static size_t stored_bytes(ic_repo *r, const ic_node *n, const uint64_t *c, uint8_t *out, size_t cap)
{
    ic_chunk_ref ref;
    TU_OK(ic_chunk_ref_lookup(r, n, c, &ref));
    floe_buf b;
    floe_buf_init(&b, 1 << 20);
    TU_OK(ic_read_stored_chunk(r, &ref, &b));
    assert_true(b.len <= cap);
    memcpy(out, b.data, b.len);
    size_t len = b.len;
    floe_buf_free(&b);
    return len;
}

/* zstd-decode a stored chunk (the fixtures' bytes + zstd codecs). */
static size_t unzstd(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    size_t got = ZSTD_decompress(dst, cap, src, n);
    if (ZSTD_isError(got))
        fail_msg("zstd: %s", ZSTD_getErrorName(got));
    return got;
}

static float f32le(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Decoded float32 values of a zstd-compressed stored chunk. */
static size_t chunk_floats(ic_repo *r, const ic_node *n, const uint64_t *c, float *vals, size_t cap)
{
    uint8_t raw[4096], dec[4096];
    size_t len = stored_bytes(r, n, c, raw, sizeof raw);
    size_t dlen = unzstd(raw, len, dec, sizeof dec);
    assert_int_equal(dlen % 4, 0);
    assert_true(dlen / 4 <= cap);
    for (size_t i = 0; i < dlen / 4; i++)
        vals[i] = f32le(dec + 4 * i);
    return dlen / 4;
}

static cJSON *attributes_of(const ic_node *n)
{
    cJSON *json = cJSON_Parse(n->zarr_json);
    assert_non_null(json);
    return json;
}

static void expect_extent(const ic_manifest_extent *e, const char *id, int ndim, const uint32_t *from,
                          const uint32_t *to)
{
    if (id)
        assert_string_equal(e->id, id);
    assert_int_equal(e->ndim, ndim);
    for (int d = 0; d < ndim; d++) {
        assert_int_equal(e->from[d], from[d]);
        assert_int_equal(e->to[d], to[d]);
    }
}

/* ---- test-repo-v1, test-repo-v2, test-repo-v2-migrated ------------------------------- */

typedef struct test_repo_ids {
    const char *fixture;
    int spec, file_spec;
    const char *main, *my_branch, *it_works, *initialized, *empty_structure, *fill_data;
    const char *big_id, *small_id, *inner_id;
    const char *big_manifest, *small_manifest;
    const char *date; /* the README's "created" day */
    const char *root_metadata;
} test_repo_ids;

static const test_repo_ids TEST_REPOS[] = {
    {"test-repo-v1", 1, 1, "NXH3M0HJ7EEJ0699DPP0", "XDZ162T1TYBEJMK99NPG", "4QF8JA0YPDN51MHSSYVG",
     "P874YS3J196959RDHX7G", "GC4YVH5SKBPEZCENYQE0", "7XAF0Q905SH4938DN9CG", "WRQXCKRVE17EJ",
     "2AKAWMMM81FC4", "XXDRZE5KBX7KY", "Q04J7QW5RQ8D17TPA10G", "G3W2W8V6ZG09J6C21WE0", "2025-02-19",
     "{\"__root\":true}"},
    {"test-repo-v2", 2, 2, "2768FV3XW5ZXYM84XNNG", "H7T8YA6KR5TH32F3PS10", "QTP2RTYS5YQW8RPSQ93G",
     "1CECHNKREP0F1RSTCMT0", "7T7DSS71H2JNBBZQ9M8G", "ZA24GZGPNK3GH682Q1R0", "M5FWFRAWRB31Y",
     "SVZXX0M6BYQ1J", "10PE902P7YVQ0", "WTMRMCW414QYFTX7JJPG", "MV3SGP7Q0A17BRBJNNVG", "2026-04-08",
     "{\"__icechunk\":{\"is_root\":true}}"},
    /* The migrated repo keeps the v1 snapshot and manifest files as they were. */
    {"test-repo-v2-migrated", 2, 1, "NXH3M0HJ7EEJ0699DPP0", "XDZ162T1TYBEJMK99NPG",
     "4QF8JA0YPDN51MHSSYVG", "P874YS3J196959RDHX7G", "GC4YVH5SKBPEZCENYQE0", "7XAF0Q905SH4938DN9CG",
     "WRQXCKRVE17EJ", "2AKAWMMM81FC4", "XXDRZE5KBX7KY", "Q04J7QW5RQ8D17TPA10G",
     "G3W2W8V6ZG09J6C21WE0", "2025-02-19", "{\"__root\":true}"},
};

static void test_repo_refs(void **state)
{
    (void)state;
    for (size_t k = 0; k < 3; k++) {
        const test_repo_ids *x = &TEST_REPOS[k];
        ic_repo *r = tu_open(T, x->fixture);
        assert_int_equal(ic_repo_spec_version(r), x->spec);
        expect_resolve(r, IC_REF_BRANCH, "main", x->main);
        expect_resolve(r, IC_REF_BRANCH, "my-branch", x->my_branch);
        expect_resolve(r, IC_REF_TAG, "it works!", x->it_works);
        expect_resolve(r, IC_REF_TAG, "it also works!", x->my_branch);
        expect_not_found(r, IC_REF_TAG, "deleted", "deleted");
        expect_not_found(r, IC_REF_BRANCH, "no-such-branch", "no-such-branch");
        expect_not_found(r, IC_REF_TAG, "main", "tag \"main\"");
        expect_not_found(r, IC_REF_BRANCH, "it works!", "branch");
        /* spec 2 names the refs there are; spec 1 says why it cannot */
        expect_not_found(r, IC_REF_BRANCH, "no-such-branch",
                         x->spec == 2 ? "its branches are \"main\", \"my-branch\"" : "cannot be listed");
        expect_not_found(r, IC_REF_TAG, "no-such-tag",
                         x->spec == 2 ? "its tags are \"it also works!\", \"it works!\"" : "cannot be listed");
        /* Explicit snapshot ids: listed ones resolve, lower case too. */
        expect_resolve(r, IC_REF_SNAPSHOT, x->fill_data, x->fill_data);
        char lower[IC_SNAPSHOT_ID_SIZE];
        for (int i = 0; i < 21; i++)
            lower[i] = (char)(x->empty_structure[i] >= 'A' && x->empty_structure[i] <= 'Z'
                                  ? x->empty_structure[i] + 32 : x->empty_structure[i]);
        expect_resolve(r, IC_REF_SNAPSHOT, lower, x->empty_structure);
        expect_not_found(r, IC_REF_SNAPSHOT, "00000000000000000000", "00000000000000000000");
        char id[IC_SNAPSHOT_ID_SIZE];
        tu_expect_err(ic_repo_resolve(r, IC_REF_SNAPSHOT, "NOT-AN-ID", id), FLOE_EINVAL, "NOT-AN-ID");
        tu_expect_err(ic_repo_resolve(r, IC_REF_BRANCH, "a/b", id), FLOE_EINVAL, "'/'");
        tu_expect_err(ic_repo_resolve(r, IC_REF_TAG, "", id), FLOE_EINVAL, "empty");
        ic_repo_free(&r);
        assert_null(r);
    }
}

static void test_repo_list_refs(void **state)
{
    (void)state;
    ic_repo *r = tu_open(T, "test-repo-v2");
    ic_ref_info *refs;
    size_t n;
    TU_OK(ic_repo_list_refs(r, &refs, &n));
    /* Branches then tags, each sorted by name bytes; the deleted tag is absent. */
    assert_int_equal(n, 4);
    assert_int_equal(refs[0].kind, IC_REF_BRANCH);
    assert_string_equal(refs[0].name, "main");
    assert_string_equal(refs[0].snapshot_id, "2768FV3XW5ZXYM84XNNG");
    assert_string_equal(refs[1].name, "my-branch");
    assert_string_equal(refs[1].snapshot_id, "H7T8YA6KR5TH32F3PS10");
    assert_int_equal(refs[2].kind, IC_REF_TAG);
    assert_string_equal(refs[2].name, "it also works!");
    assert_string_equal(refs[2].snapshot_id, "H7T8YA6KR5TH32F3PS10");
    assert_string_equal(refs[3].name, "it works!");
    assert_string_equal(refs[3].snapshot_id, "QTP2RTYS5YQW8RPSQ93G");
    ic_ref_list_free(&refs, n);
    assert_null(refs);
    ic_repo_free(&r);

    r = tu_open(T, "expire-repo-v2-by-working-copy");
    TU_OK(ic_repo_list_refs(r, &refs, &n));
    assert_int_equal(n, 3);
    assert_string_equal(refs[0].name, "feature");
    assert_string_equal(refs[0].snapshot_id, "CBGR7JX2VG84E3K0YC70");
    assert_string_equal(refs[1].name, "main");
    assert_string_equal(refs[1].snapshot_id, "69R86GF4R31344RTY2Z0");
    assert_string_equal(refs[2].name, "protect-b");
    assert_string_equal(refs[2].snapshot_id, "EXAZ38YX7CBT5Y067VQG");
    ic_ref_list_free(&refs, n);
    ic_repo_free(&r);

    /* Spec v1 keeps refs as objects: listing needs a listing the transport lacks. */
    r = tu_open(T, "test-repo-v1");
    tu_expect_err(ic_repo_list_refs(r, &refs, &n), FLOE_EUNSUPPORTED, "spec-v1");
    assert_null(refs);
    assert_int_equal(n, 0);
    ic_repo_free(&r);
}

static void expect_s3_testbucket(const ic_container *c, const char *name)
{
    assert_non_null(c);
    assert_string_equal(c->url_prefix, "s3://testbucket/");
    assert_string_equal(c->store_kind, "s3_compatible");
    assert_string_equal(c->region, "us-east-1");
    assert_string_equal(c->endpoint_url, "http://localhost:4200");
    assert_int_equal(c->allow_http, 1);
    assert_int_equal(c->force_path_style, 1);
    assert_int_equal(c->anonymous, 0);
    assert_int_equal(c->requester_pays, 0);
    assert_null(c->store_path);
    if (name)
        assert_string_equal(c->name, name);
    else
        assert_null(c->name);
}

static void test_repo_containers(void **state)
{
    (void)state;
    /* v2: the one container, name null. */
    ic_repo *r = tu_open(T, "test-repo-v2");
    assert_int_equal(ic_repo_container_count(r), 1);
    expect_s3_testbucket(ic_repo_container(r, 0), NULL);
    assert_null(ic_repo_container(r, 1));
    ic_repo_free(&r);
    /* v1 config.yaml and its migrated FlexBuffer copy: the 0.x defaults
     * named tigris/az/file/gcs/s3 whose prefixes are all invalid except
     * s3://testbucket (normalised with a trailing '/'). */
    const char *named[] = {"test-repo-v1", "test-repo-v2-migrated"};
    for (int k = 0; k < 2; k++) {
        r = tu_open(T, named[k]);
        assert_int_equal(ic_repo_container_count(r), 1);
        expect_s3_testbucket(ic_repo_container(r, 0), "s3");
        ic_repo_free(&r);
    }
}

static void test_repo_history(void **state)
{
    (void)state;
    for (size_t k = 0; k < 3; k++) {
        const test_repo_ids *x = &TEST_REPOS[k];
        ic_repo *r = tu_open(T, x->fixture);
        /* my-branch: some more structure -> delete a chunk -> set virtual
         * chunk (main) -> fill data -> empty structure -> initialized. */
        const char *chain[] = {x->my_branch, x->it_works, x->main, x->fill_data, x->empty_structure,
                               x->initialized};
        const char *messages[] = {"some more structure", "delete a chunk", "set virtual chunk",
                                  "fill data", "empty structure", "Repository initialized"};
        for (int i = 0; i < 6; i++) {
            ic_snapshot *s;
            TU_OK(ic_snapshot_load(r, chain[i], &s));
            assert_string_equal(ic_snapshot_id(s), chain[i]);
            assert_string_equal(ic_snapshot_message(s), messages[i]);
            assert_int_equal(ic_snapshot_file_spec(s), x->file_spec);
            char when[40];
            ic_format_time(ic_snapshot_flushed_at(s), when, sizeof when);
            assert_memory_equal(when, x->date, 10);
            if (i < 5)
                assert_string_equal(ic_snapshot_parent_id(s), chain[i + 1]);
            else
                assert_null(ic_snapshot_parent_id(s));
            char *md;
            TU_OK(ic_snapshot_metadata_json(s, &md));
            assert_string_equal(md, i == 5 ? x->root_metadata : "{}");
            free(md);
            if (i == 5) /* the first snapshot has no nodes at all, not even "/" */
                assert_int_equal(ic_snapshot_node_count(s), 0);
            ic_snapshot_free(&s);
            assert_null(s);
        }
        /* the same chain as one history, newest first (v2: from the repo
         * file; v1: the snapshot files) */
        ic_snapshot_info *h;
        size_t n;
        TU_OK(ic_repo_ancestry(r, x->my_branch, &h, &n));
        assert_int_equal(n, 6);
        for (size_t i = 0; i < n; i++) {
            ic_snapshot *s;
            assert_string_equal(h[i].id, chain[i]);
            assert_string_equal(h[i].message, messages[i]);
            TU_OK(ic_snapshot_load(r, chain[i], &s));
            assert_int_equal(h[i].flushed_at, ic_snapshot_flushed_at(s));
            ic_snapshot_free(&s);
        }
        ic_snapshot_info_list_free(&h, n);
        assert_null(h);
        TU_OK(ic_repo_ancestry(r, x->initialized, &h, &n));
        assert_int_equal(n, 1);
        ic_snapshot_info_list_free(&h, n);
        ic_repo_free(&r);
    }
}

static void test_repo_nodes(void **state)
{
    (void)state;
    const char *main_paths[] = {"/", "/group1", "/group1/big_chunks", "/group1/small_chunks"};
    const char *branch_paths[] = {"/", "/group1", "/group1/big_chunks", "/group1/small_chunks",
                                  "/group2", "/group2/group3", "/group2/group3/group4",
                                  "/group2/group3/group4/group5",
                                  "/group2/group3/group4/group5/inner"};
    for (size_t k = 0; k < 3; k++) {
        const test_repo_ids *x = &TEST_REPOS[k];
        ic_repo *r = tu_open(T, x->fixture);
        ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", x->main);
        assert_int_equal(ic_snapshot_node_count(s), 4);
        for (size_t i = 0; i < 4; i++)
            assert_string_equal(ic_snapshot_node(s, i)->path, main_paths[i]);
        assert_null(ic_snapshot_node(s, 4));
        assert_null(ic_snapshot_find(s, "/group2"));
        assert_null(ic_snapshot_find(s, "group1")); /* paths are absolute */
        const ic_node *root = tu_node(s, "/");
        assert_false(root->is_array);
        const ic_node *g1 = tu_node(s, "/group1");
        cJSON *json = attributes_of(g1);
        cJSON *attrs = cJSON_GetObjectItem(json, "attributes");
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(attrs, "this")), "is a nice group");
        assert_true(cJSON_GetObjectItem(attrs, "icechunk")->valuedouble == 1);
        assert_true(cJSON_GetObjectItem(attrs, "size")->valuedouble == 42.0);
        cJSON_Delete(json);

        const ic_node *big = tu_node(s, "/group1/big_chunks");
        assert_true(big->is_array);
        assert_string_equal(big->id_str, x->big_id);
        assert_int_equal(big->ndim, 2);
        assert_int_equal(big->shape[0], 10);
        assert_int_equal(big->shape[1], 10);
        assert_int_equal(big->num_chunks[0], 2);
        assert_int_equal(big->num_chunks[1], 2);
        assert_int_equal(big->n_manifests, 1);
        expect_extent(&big->manifests[0], x->big_manifest, 2, (uint32_t[]){0, 0}, (uint32_t[]){2, 2});
        json = attributes_of(big);
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(json, "data_type")), "float32");
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(json, "fill_value")), "NaN");
        assert_int_equal(big->zarr_json_len, strlen(big->zarr_json));
        cJSON_Delete(json);

        const ic_node *small = tu_node(s, "/group1/small_chunks");
        assert_string_equal(small->id_str, x->small_id);
        assert_int_equal(small->ndim, 1);
        assert_int_equal(small->shape[0], 5);
        assert_int_equal(small->num_chunks[0], 5);
        expect_extent(&small->manifests[0], x->small_manifest, 1, (uint32_t[]){0}, (uint32_t[]){5});
        ic_snapshot_free(&s);

        s = tu_snapshot(r, IC_REF_BRANCH, "my-branch", x->my_branch);
        assert_int_equal(ic_snapshot_node_count(s), 9);
        for (size_t i = 0; i < 9; i++)
            assert_string_equal(ic_snapshot_node(s, i)->path, branch_paths[i]);
        const ic_node *inner = tu_node(s, "/group2/group3/group4/group5/inner");
        assert_string_equal(inner->id_str, x->inner_id);
        assert_int_equal(inner->n_manifests, 0); /* never written: all NaN */
        ic_chunk_ref ref = tu_ref(r, inner, 1, 1, 0);
        assert_int_equal(ref.kind, IC_CHUNK_MISSING);
        uint64_t nrefs = 9;
        size_t nman = 9;
        TU_OK(ic_array_count_refs(r, inner, &nrefs, &nman));
        assert_int_equal(nrefs, 0);
        assert_int_equal(nman, 0);
        const ic_node *g5 = tu_node(s, "/group2/group3/group4/group5");
        json = attributes_of(g5);
        attrs = cJSON_GetObjectItem(json, "attributes");
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(attrs, "this")), "is a nice group");
        cJSON_Delete(json);
        tu_expect_err(ic_chunk_ref_lookup(r, g5, (uint64_t[]){0}, &ref), FLOE_EINVAL, "group");
        /* The small_chunks extent shrank to [0,4) after chunk 4 was deleted. */
        small = tu_node(s, "/group1/small_chunks");
        expect_extent(&small->manifests[0], NULL, 1, (uint32_t[]){0}, (uint32_t[]){4});
        ic_snapshot_free(&s);
        ic_repo_free(&r);
    }
}

static const uint8_t CHUNK_42[19] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x64, 0x55, 0x00, 0x00, 0x20,
                                     0x00, 0x00, 0x28, 0x42, 0x01, 0x00, 0xfd, 0xe4, 0x88};
static const uint8_t INLINE_84[10] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x01, 0x09, 0x00, 0x00, 0x54};

static void test_repo_chunks(void **state)
{
    (void)state;
    const char *chunk01[] = {"DWQ75SDC624XF9H326RG", "S7RX4P9PYQ67530ZW0V0", "DWQ75SDC624XF9H326RG"};
    const char *refs[][2] = {{"branch", "main"}, {"branch", "my-branch"}, {"tag", "it works!"},
                             {"tag", "it also works!"}};
    for (size_t k = 0; k < 3; k++) {
        const test_repo_ids *x = &TEST_REPOS[k];
        ic_repo *r = tu_open(T, x->fixture);
        for (size_t q = 0; q < 4; q++) {
            ic_ref_kind kind = refs[q][0][0] == 'b' ? IC_REF_BRANCH : IC_REF_TAG;
            ic_snapshot *s = tu_snapshot(r, kind, refs[q][1], NULL);
            const ic_node *big = tu_node(s, "/group1/big_chunks");
            /* Worked example 1: [0,1] native, 19 bytes, 25 x 42.0. */
            ic_chunk_ref ref = tu_ref(r, big, 0, 1, 0);
            assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
            if (q == 0) {
                assert_string_equal(ref.chunk_id, chunk01[k]);
                assert_string_equal(ref.manifest_id, x->big_manifest);
            }
            assert_int_equal(ref.offset, 0);
            assert_int_equal(ref.length, 19);
            uint8_t raw[64];
            assert_int_equal(stored_bytes(r, big, (uint64_t[]){0, 1}, raw, sizeof raw), 19);
            assert_memory_equal(raw, CHUNK_42, 19);
            char *url;
            TU_OK(ic_native_chunk_url(r, &ref, &url));
            assert_non_null(strstr(url, "/chunks/"));
            assert_non_null(strstr(url, ref.chunk_id));
            free(url);
            for (int c = 1; c < 4; c++) {
                uint64_t coord[2] = {(uint64_t)(c / 2), (uint64_t)(c % 2)};
                float v[64];
                assert_int_equal(chunk_floats(r, big, coord, v, 64), 25);
                for (int i = 0; i < 25; i++)
                    assert_true(v[i] == 42.0f);
            }
            /* [0,0] virtual into the original test suite's MinIO. */
            ref = tu_ref(r, big, 0, 0, 0);
            assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
            assert_string_equal(ref.location, "s3://testbucket/can_read_old/chunk-1");
            assert_int_equal(ref.offset, 0);
            assert_int_equal(ref.length, 19);
            assert_true(ref.last_modified == 4294111232LL);
            assert_null(ref.etag);
            floe_buf b;
            floe_buf_init(&b, 1024);
            tu_expect_err(ic_read_stored_chunk(r, &ref, &b), FLOE_EINVAL, "virtual");
            floe_buf_free(&b);
            /* Outside the 2 x 2 grid: missing, not an error. */
            assert_int_equal(tu_ref(r, big, 2, 0, 0).kind, IC_CHUNK_MISSING);
            assert_int_equal(tu_ref(r, big, 0, 7, 0).kind, IC_CHUNK_MISSING);

            /* small_chunks: inline zstd frames of the byte 84; chunk 4 deleted
             * everywhere but on main. */
            const ic_node *small = tu_node(s, "/group1/small_chunks");
            for (uint64_t c = 0; c < 5; c++) {
                ref = tu_ref(r, small, c, 0, 0);
                if (c == 4 && q != 0) {
                    assert_int_equal(ref.kind, IC_CHUNK_MISSING);
                    assert_string_equal(ref.manifest_id, "");
                    floe_buf_init(&b, 1024);
                    tu_expect_err(ic_read_stored_chunk(r, &ref, &b), FLOE_EINVAL, "missing");
                    floe_buf_free(&b);
                    continue;
                }
                assert_int_equal(ref.kind, IC_CHUNK_INLINE);
                assert_int_equal(ref.inline_len, 10);
                assert_memory_equal(ref.inline_data, INLINE_84, 10);
                uint8_t dec[8];
                assert_int_equal(unzstd(ref.inline_data, ref.inline_len, dec, sizeof dec), 1);
                assert_int_equal(dec[0], 84);
            }
            uint64_t n_refs;
            size_t n_man;
            TU_OK(ic_array_count_refs(r, small, &n_refs, &n_man));
            assert_int_equal(n_refs, q == 0 ? 5 : 4);
            assert_int_equal(n_man, 1);
            TU_OK(ic_array_count_refs(r, big, &n_refs, NULL));
            assert_int_equal(n_refs, 4);
            ic_snapshot_free(&s);
        }
        ic_repo_free(&r);
    }
}

/* The guide's §6.1 / README: manifest sizes recorded in the snapshot. */
static void test_repo_manifest_sizes(void **state)
{
    (void)state;
    ic_repo *r = tu_open(T, "test-repo-v2");
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", "2768FV3XW5ZXYM84XNNG");
    int seen = 0;
    for (size_t i = 0; i < ic_snapshot_manifest_file_count(s); i++) {
        const ic_manifest_file_info *f = ic_snapshot_manifest_file(s, i);
        if (!strcmp(f->id, "WTMRMCW414QYFTX7JJPG")) {
            assert_int_equal(f->size_bytes, 282); /* README worked example 1 */
            assert_int_equal(f->num_chunk_refs, 4);
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    assert_null(ic_snapshot_manifest_file(s, 99));
    ic_snapshot_free(&s);
    ic_repo_free(&r);
}

/* ---- split-repo-* ---------------------------------------------------------------------- */

typedef struct split_ids {
    const char *fixture;
    const char *snaps[5]; /* initialized, empty structure, write data, again, more splits (main) */
    const char *split_id, *small_id;
} split_ids;

static const split_ids SPLITS[] = {
    {"split-repo-v1",
     {"EH9VY081CEHEFY5Y11E0", "QYX6FZ0NZAKSV5XMDSGG", "W1ZXYGWWEXKXS2J6TQGG", "X8NA4KMB3XYEDM2FAJEG",
      "BYJMXJ1CHYE86YSHESR0"},
     "TD9T62TWTHR14", "6HM4K1ZW0HFG4"},
    {"split-repo-v2",
     {"1CECHNKREP0F1RSTCMT0", "ZNMQ76FM2RX3NT82DE10", "BHM2GW0JP18X3W3TGDS0", "K0XMGARRMG0X6XN2WZA0",
      "RPFHN6ZE82DJRFTVK3MG"},
     "JYNYQJ4EGQKKM", "SKJZR0KMY7BNG"},
    {"split-repo-v2-migrated",
     {"EH9VY081CEHEFY5Y11E0", "QYX6FZ0NZAKSV5XMDSGG", "W1ZXYGWWEXKXS2J6TQGG", "X8NA4KMB3XYEDM2FAJEG",
      "BYJMXJ1CHYE86YSHESR0"},
     "TD9T62TWTHR14", "6HM4K1ZW0HFG4"},
};

/* Check every chunk of /group1/split: native, in the manifest whose extents
 * contain it, valid elements == value, edge padding NaN. */
static void check_split(ic_repo *r, const ic_node *split, float value)
{
    for (uint32_t i = 0; i < 4; i++) {
        for (uint32_t j = 0; j < 4; j++) {
            ic_chunk_ref ref = tu_ref(r, split, i, j, 0);
            assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
            /* The manifest that held it is the (one) manifest whose extents contain it. */
            int holders = 0;
            for (size_t m = 0; m < split->n_manifests; m++) {
                const ic_manifest_extent *e = &split->manifests[m];
                if (i >= e->from[0] && i < e->to[0] && j >= e->from[1] && j < e->to[1]) {
                    assert_string_equal(ref.manifest_id, e->id);
                    holders++;
                }
            }
            assert_int_equal(holders, 1);
            float v[16];
            assert_int_equal(chunk_floats(r, split, (uint64_t[]){i, j}, v, 16), 9);
            for (uint32_t a = 0; a < 3; a++)
                for (uint32_t b = 0; b < 3; b++) {
                    float x = v[3 * a + b];
                    if (3 * i + a < 10 && 3 * j + b < 10)
                        assert_true(x == value);
                    else
                        assert_true(isnan(x));
                }
        }
    }
}

/* Manifests read since the last call. */
static uint64_t manifests_read_since(ic_repo *r, uint64_t *last)
{
    uint64_t n, bytes;
    ic_repo_manifest_stats(r, &n, &bytes);
    uint64_t d = n - *last;
    *last = n;
    return d;
}

/* ic_repo_load_manifests_box reads the manifests whose extents overlap
 * the box and no other; lookups inside it then read nothing more, and one
 * outside reads only the manifest that holds it. */
static void check_split_box(ic_repo *r, const ic_node *split)
{
    ic_repo_drop_manifests(r);
    uint64_t last = 0;
    (void)manifests_read_since(r, &last);
    size_t per_row = split->n_manifests / 4; /* 4 (one per chunk) or 2 */
    TU_OK(ic_repo_load_manifests_box(r, split, (uint32_t[]){1, 0}, (uint32_t[]){2, 4}));
    assert_int_equal(manifests_read_since(r, &last), per_row);
    for (uint32_t j = 0; j < 4; j++)
        assert_int_equal(tu_ref(r, split, 1, j, 0).kind, IC_CHUNK_NATIVE);
    assert_int_equal(manifests_read_since(r, &last), 0);
    TU_OK(ic_repo_load_manifests_box(r, split, (uint32_t[]){1, 0}, (uint32_t[]){2, 4}));
    assert_int_equal(manifests_read_since(r, &last), 0); /* cached */
    TU_OK(ic_repo_load_manifests_box(r, split, (uint32_t[]){3, 3}, (uint32_t[]){4, 4}));
    assert_int_equal(manifests_read_since(r, &last), 1);
    assert_int_equal(tu_ref(r, split, 2, 0, 0).kind, IC_CHUNK_NATIVE); /* lazily: one */
    assert_int_equal(manifests_read_since(r, &last), 1);
    /* A box outside the grid overlaps nothing. */
    TU_OK(ic_repo_load_manifests_box(r, split, (uint32_t[]){4, 0}, (uint32_t[]){9, 4}));
    assert_int_equal(manifests_read_since(r, &last), 0);
    ic_repo_drop_manifests(r);
}

static void split_repos(void **state)
{
    (void)state;
    const char *messages[] = {"Repository initialized", "empty structure", "write data",
                              "write data again", "write data again with more splits"};
    const size_t manifest_files[] = {0, 0, 9, 9, 17};
    const float split_value[] = {0, 0, 120.0f, 12.0f, 14.0f};
    const int small_value[] = {8, 8, 0, 1, 3};
    for (size_t k = 0; k < 3; k++) {
        const split_ids *x = &SPLITS[k];
        ic_repo *r = tu_open(T, x->fixture);
        assert_int_equal(ic_repo_container_count(r), 0);
        expect_resolve(r, IC_REF_BRANCH, "main", x->snaps[4]);
        for (int n = 0; n < 5; n++) {
            ic_snapshot *s;
            TU_OK(ic_snapshot_load(r, x->snaps[n], &s));
            assert_string_equal(ic_snapshot_message(s), messages[n]);
            assert_int_equal(ic_snapshot_manifest_file_count(s), manifest_files[n]);
            if (n > 0)
                assert_string_equal(ic_snapshot_parent_id(s), x->snaps[n - 1]);
            else
                assert_null(ic_snapshot_parent_id(s));
            if (n == 0) {
                assert_int_equal(ic_snapshot_node_count(s), 0);
                ic_snapshot_free(&s);
                continue;
            }
            const ic_node *split = tu_node(s, "/group1/split");
            const ic_node *small = tu_node(s, "/group1/small_chunks");
            assert_string_equal(split->id_str, x->split_id);
            assert_string_equal(small->id_str, x->small_id);
            assert_int_equal(split->ndim, 2);
            assert_int_equal(split->num_chunks[0], 4);
            assert_int_equal(split->num_chunks[1], 4);
            cJSON *json = attributes_of(split);
            cJSON *dims = cJSON_GetObjectItem(json, "dimension_names");
            assert_true(cJSON_IsNull(cJSON_GetArrayItem(dims, 0)));
            assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(dims, 1)), "longitude");
            cJSON_Delete(json);
            if (n == 1) {
                /* Empty structure: no manifests; every chunk missing (NaN / 8). */
                assert_int_equal(split->n_manifests, 0);
                assert_int_equal(small->n_manifests, 0);
                for (uint32_t i = 0; i < 4; i++)
                    assert_int_equal(tu_ref(r, split, i, i, 0).kind, IC_CHUNK_MISSING);
                for (uint32_t i = 0; i < 5; i++)
                    assert_int_equal(tu_ref(r, small, i, 0, 0).kind, IC_CHUNK_MISSING);
                ic_snapshot_free(&s);
                continue;
            }
            if (n == 4) {
                /* Each chunk its own manifest, extents [i,i+1) x [j,j+1). */
                assert_int_equal(split->n_manifests, 16);
                for (size_t m = 0; m < 16; m++) {
                    const ic_manifest_extent *e = &split->manifests[m];
                    assert_int_equal(e->ndim, 2);
                    assert_int_equal(e->to[0], e->from[0] + 1);
                    assert_int_equal(e->to[1], e->from[1] + 1);
                }
            } else {
                /* [i,i+1) x [0,3) and [i,i+1) x [3,4). */
                assert_int_equal(split->n_manifests, 8);
                for (size_t m = 0; m < 8; m++) {
                    const ic_manifest_extent *e = &split->manifests[m];
                    assert_int_equal(e->to[0], e->from[0] + 1);
                    assert_true((e->from[1] == 0 && e->to[1] == 3) || (e->from[1] == 3 && e->to[1] == 4));
                }
            }
            check_split_box(r, split);
            check_split(r, split, split_value[n]);
            uint64_t nrefs;
            size_t nman;
            TU_OK(ic_array_count_refs(r, split, &nrefs, &nman));
            assert_int_equal(nrefs, 16);
            assert_int_equal(nman, split->n_manifests);
            /* small_chunks: one manifest, all inline. */
            assert_int_equal(small->n_manifests, 1);
            for (uint32_t i = 0; i < 5; i++) {
                ic_chunk_ref ref = tu_ref(r, small, i, 0, 0);
                assert_int_equal(ref.kind, IC_CHUNK_INLINE);
                uint8_t dec[8];
                assert_int_equal(unzstd(ref.inline_data, ref.inline_len, dec, sizeof dec), 1);
                assert_int_equal((int8_t)dec[0], small_value[n]);
            }
            ic_snapshot_free(&s);
        }
        ic_repo_free(&r);
    }
}

/* ---- expire-repo-* ------------------------------------------------------------------------ */

static void expire_repos(void **state)
{
    (void)state;
    const char *fixtures[] = {"expire-repo-v1-by-1.1.21", "expire-repo-v1-by-2.0.5",
                              "expire-repo-v1-by-working-copy", "expire-repo-v2-by-2.0.5",
                              "expire-repo-v2-by-working-copy"};
    const char *ids[5][3] = {
        {"C839J4SPA2QPAEKM35E0", "4ZQP3Z85R5M5NM589NB0", "GDMQG61TADVB223WQA50"},
        {"YE4GX75A9BSB80CKMQFG", "9AXCM25G9CDTZE5AKJP0", "XHN02JG63YHNZW6SN4N0"},
        {"XVPF54J2WFMNQ1KNJ36G", "1AZV15N97Q35AZ8WQ12G", "4NDW4NGKJ79E3DHZ2HD0"},
        {"PS920CK1TCPSMXZM4NTG", "WMG872B6YG9RQE55G5P0", "7C9HZPBDGDT2ESN0PCN0"},
        {"69R86GF4R31344RTY2Z0", "CBGR7JX2VG84E3K0YC70", "EXAZ38YX7CBT5Y067VQG"},
    };
    const char *messages[] = {"write j", "feature post-t2", "write b"};
    const float values[3][12] = {
        {99, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0},
        {0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    };
    for (int k = 0; k < 5; k++) {
        ic_repo *r = tu_open(T, fixtures[k]);
        assert_int_equal(ic_repo_spec_version(r), k < 3 ? 1 : 2);
        assert_int_equal(ic_repo_container_count(r), 0);
        for (int q = 0; q < 3; q++) {
            ic_ref_kind kind = q == 2 ? IC_REF_TAG : IC_REF_BRANCH;
            const char *name = q == 0 ? "main" : q == 1 ? "feature" : "protect-b";
            ic_snapshot *s = tu_snapshot(r, kind, name, ids[k][q]);
            assert_string_equal(ic_snapshot_message(s), messages[q]);
            /* Ancestry after two expirations: [tip, Repository initialized]. */
            assert_string_equal(ic_snapshot_parent_id(s), "1CECHNKREP0F1RSTCMT0");
            ic_snapshot *first;
            TU_OK(ic_snapshot_load(r, ic_snapshot_parent_id(s), &first));
            assert_string_equal(ic_snapshot_message(first), "Repository initialized");
            assert_null(ic_snapshot_parent_id(first));
            ic_snapshot_free(&first);

            const ic_node *data = tu_node(s, "/group1/data");
            assert_int_equal(data->ndim, 2);
            assert_int_equal(data->shape[0], 12);
            assert_int_equal(data->shape[1], 4);
            assert_int_equal(data->num_chunks[0], 12);
            assert_int_equal(data->num_chunks[1], 1);
            assert_int_equal(data->n_manifests, 1);
            expect_extent(&data->manifests[0], NULL, 2, (uint32_t[]){0, 0}, (uint32_t[]){12, 1});
            for (uint32_t row = 0; row < 12; row++) {
                assert_int_equal(tu_ref(r, data, row, 0, 0).kind, IC_CHUNK_NATIVE);
                float v[8];
                assert_int_equal(chunk_floats(r, data, (uint64_t[]){row, 0}, v, 8), 4);
                for (int c = 0; c < 4; c++)
                    assert_true(v[c] == values[q][row]);
            }
            const ic_node *small = tu_node(s, "/group1/small");
            assert_int_equal(small->n_manifests, 0);
            for (uint32_t i = 0; i < 4; i++)
                assert_int_equal(tu_ref(r, small, i, 0, 0).kind, IC_CHUNK_MISSING);
            int feature_groups = ic_snapshot_find(s, "/feat_pre") && ic_snapshot_find(s, "/feat_s1") &&
                                 ic_snapshot_find(s, "/feat_s2");
            assert_int_equal(feature_groups, q == 1);
            assert_non_null(tu_node(s, "/group1"));
            ic_snapshot_free(&s);
        }
        ic_repo_free(&r);
    }
}

/* ---- virtual-v1, virtual-v2 ----------------------------------------------------------------- */

typedef struct virtual_ids {
    const char *fixture;
    const char *v1, *main, *dev;
    const char *temp_id, *time_id;
    const char *temp_manifest[3]; /* v1, main, dev */
    const char *time_manifest;
    const char *native_chunk;
} virtual_ids;

static const virtual_ids VIRTUALS[] = {
    {"virtual-v1", "0GHXJP28BEY71JA4V5GG", "4775MSJ827609EHQWJM0", "RYBWMTSPA83NDRKPFS70",
     "TNZF3373SEFNR", "RXBZGGVS3Q8YC",
     {"SGSQEN34GK0DFDCE7JE0", "Z54314M83ZPZGH338GQ0", "EMYADVM95PGK0DBDP9DG"},
     "J1RRHA5F0RY8FK5KSXG0", "9DXC638QC5JR9ZEKTFH0"},
    {"virtual-v2", "DN8DCZ658PKST1F82680", "J8XK2HD2A3BE9BY32G60", "GTNFZKC570SY1WDTD750",
     "E8T3K2AMETGR4", "SZ3FRNSG8ZKNW",
     {"8719D8REHV7QF2V8J6S0", "0EQ31NF3V47KC0RGV650", "X9SBKPSF4JA3W4D1AZEG"},
     "XP084H86QBZSH65CB90G", "JVYG1HJJDKP3G9FWV8KG"},
};

/* Read a virtual chunk's bytes the way the fetch layer will: the prefix
 * file:///fixture-data/ remapped to <fixture>/data/, with its checksum. */
static void read_virtual(const virtual_ids *x, const ic_chunk_ref *ref, uint8_t *out)
{
    const char *prefix = "file:///fixture-data/";
    assert_memory_equal(ref->location, prefix, strlen(prefix));
    char dir[1024], path[1200];
    tu_fixture_dir(x->fixture, dir, sizeof dir);
    snprintf(path, sizeof path, "%sdata/%s", dir, ref->location + strlen(prefix));
    floe_buf b;
    floe_buf_init(&b, 4096);
    floe_condition cond = {.etag = ref->etag, .unmodified_since = ref->last_modified};
    TU_OK(floe_transport_get(T, path, ref->offset, ref->length, &cond, &b));
    assert_int_equal(b.len, ref->length);
    memcpy(out, b.data, b.len);
    floe_buf_free(&b);
}

static void virtual_repos(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        const virtual_ids *x = &VIRTUALS[k];
        ic_repo *r = tu_open(T, x->fixture);
        assert_int_equal(ic_repo_spec_version(r), (int)k + 1);
        assert_int_equal(ic_repo_container_count(r), 1);
        const ic_container *c = ic_repo_container(r, 0);
        assert_string_equal(c->url_prefix, "file:///fixture-data/");
        assert_string_equal(c->store_kind, "local_file_system");
        assert_string_equal(c->store_path, "/fixture-data/");
        assert_null(c->name);
        assert_null(c->region);

        expect_resolve(r, IC_REF_TAG, "v1", x->v1);
        expect_resolve(r, IC_REF_BRANCH, "main", x->main);
        expect_resolve(r, IC_REF_BRANCH, "dev", x->dev);
        expect_not_found(r, IC_REF_BRANCH, "v1", "branch");

        const char *snaps[3] = {x->v1, x->main, x->dev};
        const char *parents[3] = {"1CECHNKREP0F1RSTCMT0", x->v1, x->v1};
        const char *messages[3] = {"virtual temp + inline time", "materialize chunk 3/1/1 (+10000)",
                                   "dev: delete chunk 0/0/0"};
        for (int q = 0; q < 3; q++) {
            ic_snapshot *s;
            TU_OK(ic_snapshot_load(r, snaps[q], &s));
            assert_string_equal(ic_snapshot_parent_id(s), parents[q]);
            assert_string_equal(ic_snapshot_message(s), messages[q]);
            assert_int_equal(ic_snapshot_file_spec(s), (int)k + 1);
            assert_int_equal(ic_snapshot_node_count(s), 4);
            const ic_node *root = tu_node(s, "/");
            cJSON *json = attributes_of(root);
            const char *title = cJSON_GetStringValue(
                cJSON_GetObjectItem(cJSON_GetObjectItem(json, "attributes"), "title"));
            assert_string_equal(title, k == 0 ? "icechunk virtual fixture, spec v1"
                                              : "icechunk virtual fixture, spec v2");
            cJSON_Delete(json);
            assert_false(tu_node(s, "/surface")->is_array);

            const ic_node *temp = tu_node(s, "/surface/temp");
            assert_string_equal(temp->id_str, x->temp_id);
            assert_int_equal(temp->ndim, 3);
            const uint64_t shape[3] = {4, 6, 8};
            const uint32_t grid[3] = {4, 2, 2};
            for (int d = 0; d < 3; d++) {
                assert_int_equal(temp->shape[d], shape[d]);
                assert_int_equal(temp->num_chunks[d], grid[d]);
            }
            assert_int_equal(temp->n_manifests, 1);
            /* The deleted chunk on dev does not shrink the extents. */
            expect_extent(&temp->manifests[0], x->temp_manifest[q], 3, (uint32_t[]){0, 0, 0},
                          (uint32_t[]){4, 2, 2});
            json = attributes_of(temp);
            assert_true(cJSON_GetObjectItem(json, "fill_value")->valuedouble == -9999);
            cJSON_Delete(json);

            for (uint32_t t = 0; t < 4; t++)
                for (uint32_t j = 0; j < 2; j++)
                    for (uint32_t i = 0; i < 2; i++) {
                        ic_chunk_ref ref = tu_ref(r, temp, t, j, i);
                        int n = (int)(4 * t + 2 * j + i);
                        if ((t == 2 && j == 0 && i == 1) || (q == 2 && n == 0)) {
                            assert_int_equal(ref.kind, IC_CHUNK_MISSING);
                            continue;
                        }
                        uint8_t bytes[48];
                        if (q == 1 && t == 3 && j == 1 && i == 1) {
                            assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
                            assert_string_equal(ref.chunk_id, x->native_chunk);
                            assert_int_equal(ref.offset, 0);
                            assert_int_equal(ref.length, 48);
                            floe_buf b;
                            floe_buf_init(&b, 1024);
                            TU_OK(ic_read_stored_chunk(r, &ref, &b));
                            assert_int_equal(b.len, 48);
                            memcpy(bytes, b.data, 48);
                            floe_buf_free(&b);
                        } else {
                            assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
                            assert_string_equal(ref.location, "file:///fixture-data/temp.bin");
                            assert_int_equal(ref.offset, 16 + 48 * n);
                            assert_int_equal(ref.length, 48);
                            assert_true(ref.last_modified == 4102358400LL);
                            assert_null(ref.etag);
                            assert_string_equal(ref.manifest_id, x->temp_manifest[q]);
                            read_virtual(x, &ref, bytes);
                        }
                        /* Values: the C-order sub-block of 48t + 8y + x (+10000 native). */
                        float add = ref.kind == IC_CHUNK_NATIVE ? 10000.0f : 0.0f;
                        for (uint32_t a = 0; a < 3; a++)
                            for (uint32_t b = 0; b < 4; b++) {
                                float want = (float)(48 * t + 8 * (3 * j + a) + (4 * i + b)) + add;
                                assert_true(f32le(bytes + 4 * (4 * a + b)) == want);
                            }
                    }
            uint64_t nrefs;
            TU_OK(ic_array_count_refs(r, temp, &nrefs, NULL));
            assert_int_equal(nrefs, q == 2 ? 14 : 15);

            const ic_node *time = tu_node(s, "/surface/time");
            assert_string_equal(time->id_str, x->time_id);
            expect_extent(&time->manifests[0], x->time_manifest, 1, (uint32_t[]){0}, (uint32_t[]){1});
            ic_chunk_ref ref = tu_ref(r, time, 0, 0, 0);
            assert_int_equal(ref.kind, IC_CHUNK_INLINE);
            const uint8_t want_time[16] = {0, 0, 0, 0, 6, 0, 0, 0, 12, 0, 0, 0, 18, 0, 0, 0};
            assert_int_equal(ref.inline_len, 16);
            assert_memory_equal(ref.inline_data, want_time, 16);
            ic_snapshot_free(&s);
        }
        ic_repo_free(&r);
    }
}

/* README worked example 2, byte for byte. */
static void worked_example_2(void **state)
{
    (void)state;
    ic_repo *r = tu_open(T, "virtual-v2");
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", "J8XK2HD2A3BE9BY32G60");
    const ic_node *temp = tu_node(s, "/surface/temp");
    ic_chunk_ref ref = tu_ref(r, temp, 1, 1, 0);
    assert_string_equal(ref.manifest_id, "0EQ31NF3V47KC0RGV650");
    assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
    assert_string_equal(ref.location, "file:///fixture-data/temp.bin");
    assert_int_equal(ref.offset, 304);
    assert_int_equal(ref.length, 48);
    assert_true(ref.last_modified == 4102358400LL);
    uint8_t bytes[48];
    read_virtual(&VIRTUALS[1], &ref, bytes);
    const uint8_t want[48] = {
        0x00, 0x00, 0x90, 0x42, 0x00, 0x00, 0x92, 0x42, 0x00, 0x00, 0x94, 0x42, 0x00, 0x00, 0x96, 0x42,
        0x00, 0x00, 0xa0, 0x42, 0x00, 0x00, 0xa2, 0x42, 0x00, 0x00, 0xa4, 0x42, 0x00, 0x00, 0xa6, 0x42,
        0x00, 0x00, 0xb0, 0x42, 0x00, 0x00, 0xb2, 0x42, 0x00, 0x00, 0xb4, 0x42, 0x00, 0x00, 0xb6, 0x42,
    };
    assert_memory_equal(bytes, want, 48);
    /* [3,1,1] native on main: first bytes 00 f0 1e 46 = 10172.0. */
    ref = tu_ref(r, temp, 3, 1, 1);
    assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
    assert_string_equal(ref.chunk_id, "JVYG1HJJDKP3G9FWV8KG");
    floe_buf b;
    floe_buf_init(&b, 1024);
    TU_OK(ic_read_stored_chunk(r, &ref, &b));
    const uint8_t first[4] = {0x00, 0xf0, 0x1e, 0x46};
    assert_memory_equal(b.data, first, 4);
    floe_buf_free(&b);
    /* The time manifest of guide §6.1 is 141 bytes. */
    int seen = 0;
    for (size_t i = 0; i < ic_snapshot_manifest_file_count(s); i++)
        if (!strcmp(ic_snapshot_manifest_file(s, i)->id, "XP084H86QBZSH65CB90G")) {
            assert_int_equal(ic_snapshot_manifest_file(s, i)->size_bytes, 141);
            seen = 1;
        }
    assert_true(seen);
    /* Dropping the manifest cache and looking up again gives the same answer. */
    ic_repo_drop_manifests(r);
    ref = tu_ref(r, temp, 1, 1, 0);
    assert_int_equal(ref.offset, 304);
    ic_snapshot_free(&s);
    ic_repo_free(&r);
}

/* Everything ic_array_each_ref visits agrees with ic_chunk_ref_lookup. */
typedef struct walk_state {
    ic_repo *r;
    const ic_node *n;
    int visits;
} walk_state;

static floe_err visit(void *ctx, const uint32_t *coord, const ic_chunk_ref *ref)
{
    walk_state *w = ctx;
    uint64_t c[IC_MAX_DIMS];
    for (int d = 0; d < w->n->ndim; d++)
        c[d] = coord[d];
    ic_chunk_ref again;
    FLOE_CHECK(ic_chunk_ref_lookup(w->r, w->n, c, &again));
    assert_int_equal(again.kind, ref->kind);
    assert_int_equal(again.offset, ref->offset);
    assert_int_equal(again.length, ref->length);
    assert_string_equal(again.manifest_id, ref->manifest_id);
    if (ref->location)
        assert_ptr_equal(again.location, ref->location);
    w->visits++;
    return NULL;
}

static floe_err stop_at_three(void *ctx, const uint32_t *coord, const ic_chunk_ref *ref)
{
    (void)coord;
    (void)ref;
    if (++*(int *)ctx == 3)
        return FLOE_ERR(FLOE_EINTERNAL, "stop here");
    return NULL;
}

static void each_ref_agrees(void **state)
{
    (void)state;
    ic_repo *r = tu_open(T, "split-repo-v2");
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", NULL);
    walk_state w = {r, tu_node(s, "/group1/split"), 0};
    TU_OK(ic_array_each_ref(r, w.n, visit, &w));
    assert_int_equal(w.visits, 16);
    int count = 0;
    tu_expect_err(ic_array_each_ref(r, w.n, stop_at_three, &count), FLOE_EINTERNAL, "stop here");
    assert_int_equal(count, 3);
    tu_expect_err(ic_array_each_ref(r, tu_node(s, "/group1"), visit, &w), FLOE_EINVAL, "group");
    ic_snapshot_free(&s);
    ic_repo_free(&r);
}

static void not_a_repository(void **state)
{
    (void)state;
    char dir[1024];
    tu_fixture_dir("virtual-v2/data", dir, sizeof dir);
    ic_repo *r = (ic_repo *)1;
    tu_expect_err(ic_repo_open(T, dir, &r), FLOE_ENOTFOUND, "not an Icechunk repository");
    assert_null(r);
    tu_expect_err(ic_repo_open(T, "/nonexistent/floe/repo", &r), FLOE_ENOTFOUND, "/nonexistent/floe/repo/");
    tu_expect_err(ic_repo_open(T, "", &r), FLOE_EINVAL, NULL);
    /* A root given without its trailing slash, and as a file:// URL. */
    tu_fixture_dir("virtual-v2", dir, sizeof dir);
    dir[strlen(dir) - 1] = 0;
    TU_OK(ic_repo_open(T, dir, &r));
    assert_int_equal(ic_repo_root(r)[strlen(ic_repo_root(r)) - 1], '/');
    ic_repo_free(&r);
    char url[1200];
    if (dir[0] == '/') {
        snprintf(url, sizeof url, "file://%s/", dir);
        TU_OK(ic_repo_open(T, url, &r));
        expect_resolve(r, IC_REF_BRANCH, "main", "J8XK2HD2A3BE9BY32G60");
        assert_string_equal(ic_repo_root(r), url);
        ic_repo_free(&r);
    }
    ic_repo_free(&r); /* safe on NULL */
    ic_snapshot_free(NULL);
}

static void snapshot_not_found(void **state)
{
    (void)state;
    ic_repo *r = tu_open(T, "test-repo-v1");
    ic_snapshot *s = (ic_snapshot *)1;
    tu_expect_err(ic_snapshot_load(r, "00000000000000000000", &s), FLOE_ENOTFOUND,
                  "snapshots/00000000000000000000");
    assert_null(s);
    tu_expect_err(ic_snapshot_load(r, "bogus", &s), FLOE_EINVAL, "bogus");
    ic_repo_free(&r);
}

static void format_time(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(ic_format_time(0, buf, sizeof buf), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(ic_format_time(4102358400LL * 1000000 + 5, buf, sizeof buf),
                        "2099-12-31T00:00:00.000005Z");
    assert_string_equal(ic_format_time(-1, buf, sizeof buf), "1969-12-31T23:59:59.999999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repo_refs),
        cmocka_unit_test(test_repo_list_refs),
        cmocka_unit_test(test_repo_containers),
        cmocka_unit_test(test_repo_history),
        cmocka_unit_test(test_repo_nodes),
        cmocka_unit_test(test_repo_chunks),
        cmocka_unit_test(test_repo_manifest_sizes),
        cmocka_unit_test(split_repos),
        cmocka_unit_test(expire_repos),
        cmocka_unit_test(virtual_repos),
        cmocka_unit_test(worked_example_2),
        cmocka_unit_test(each_ref_agrees),
        cmocka_unit_test(not_a_repository),
        cmocka_unit_test(snapshot_not_found),
        cmocka_unit_test(format_time),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
