/* SPDX-License-Identifier: Apache-2.0 */
/* The Icechunk reader on the floe test bed's two NLDAS-3 repositories (spec
 * 2 and spec 1, written by the real Icechunk through
 * scripts/node/make_repo.mjs), checked against the generator's independent
 * records: testbed.json (every chunk's byte range inside every NetCDF file,
 * from HDF5's own chunk index, and each file's mtime) and repo-v*.json
 * (snapshot ids, the tag, the container). Skipped when the mini test bed
 * has not been built (`scripts/testbed build mini`).
 *
 * Every reference of every variable is compared: 62 days x 13 x 13 chunks
 * x 10 variables per repository.
 */
#include "io/icechunk/icechunk.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <zstd.h>

#include "icechunk_test_util.h"

typedef struct bed {
    char dir[1024];      /* build/testbed/mini */
    cJSON *testbed;      /* testbed.json */
    cJSON *repo[2];      /* repo-v2.json, repo-v1.json */
    floe_transport *t;
} bed;

static cJSON *load_json(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    char *text = (char *)tu_read_file(path, &len);
    if (!text)
        return NULL;
    cJSON *json = cJSON_ParseWithLength(text, len);
    free(text);
    return json;
}

static int setup(void **state)
{
    bed *b = calloc(1, sizeof *b);
    const char *env = getenv("FLOE_TESTBED_DIR");
    if (env && *env) {
        snprintf(b->dir, sizeof b->dir, "%s", env);
    } else {
        char src[900];
        tu_source_dir(src, sizeof src);
        snprintf(b->dir, sizeof b->dir, "%s/build/testbed/mini", src);
    }
    char ready[1200];
    snprintf(ready, sizeof ready, "%s/READY", b->dir);
    if (access(ready, F_OK) == 0) {
        b->testbed = load_json(b->dir, "testbed.json");
        b->repo[0] = load_json(b->dir, "repo-v2.json");
        b->repo[1] = load_json(b->dir, "repo-v1.json");
        b->t = tu_transport();
    }
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    bed *b = *state;
    cJSON_Delete(b->testbed);
    cJSON_Delete(b->repo[0]);
    cJSON_Delete(b->repo[1]);
    floe_transport_free(&b->t);
    free(b);
    return 0;
}

static const char *str(const cJSON *obj, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(obj, key));
    if (!s)
        fail_msg("no string %s in the test bed record", key);
    return s;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *n = cJSON_GetObjectItem(obj, key);
    if (!cJSON_IsNumber(n))
        fail_msg("no number %s in the test bed record", key);
    return n->valuedouble;
}

/* The repositories lie in the bed's S3 tree (repo_dir in the records is
 * where they were first written, which may have moved). */
static ic_repo *open_bed_repo(bed *b, int k)
{
    char dir[1400];
    snprintf(dir, sizeof dir, "%s/s3/%s/virtual-zarr-store/NLDAS-3-icechunk%s/", b->dir,
             str(b->testbed, "bucket"), k == 0 ? "" : "-specv1");
    return tu_open_root(b->t, dir);
}

static void skip_without_bed(bed *b)
{
    if (!b->testbed || !b->repo[0] || !b->repo[1] || !b->t) {
        floe_test_skip_case("no built mini test bed at %s (scripts/testbed build mini)", b->dir);
    }
}

static void refs_and_history(void **state)
{
    bed *b = *state;
    skip_without_bed(b);
    for (int k = 0; k < 2; k++) {
        const cJSON *rec = b->repo[k];
        ic_repo *r = open_bed_repo(b, k);
        assert_int_equal(ic_repo_spec_version(r), (int)num(rec, "spec_version"));
        /* The one container: the archive's bucket prefix, an s3 store. */
        assert_int_equal(ic_repo_container_count(r), 1);
        const ic_container *c = ic_repo_container(r, 0);
        assert_string_equal(c->url_prefix, str(rec, "container"));
        assert_string_equal(c->store_kind, "s3");

        char id[IC_SNAPSHOT_ID_SIZE];
        TU_OK(ic_repo_resolve(r, IC_REF_BRANCH, "main", id));
        assert_string_equal(id, str(rec, "branch_main"));
        const cJSON *tag = cJSON_GetObjectItem(rec, "tag");
        TU_OK(ic_repo_resolve(r, IC_REF_TAG, str(tag, "name"), id));
        assert_string_equal(id, str(tag, "snapshot"));

        /* One commit per month, each the parent of the next, the first on
         * the repository's initial snapshot. */
        const cJSON *snaps = cJSON_GetObjectItem(rec, "snapshots");
        int n = cJSON_GetArraySize(snaps);
        assert_true(n >= 2);
        for (int i = 0; i < n; i++) {
            const cJSON *sr = cJSON_GetArrayItem(snaps, i);
            ic_snapshot *s;
            TU_OK(ic_snapshot_load(r, str(sr, "id"), &s));
            assert_string_equal(ic_snapshot_message(s), str(sr, "message"));
            const char *parent = ic_snapshot_parent_id(s);
            assert_non_null(parent);
            if (i > 0)
                assert_string_equal(parent, str(cJSON_GetArrayItem(snaps, i - 1), "id"));
            const ic_node *tair = tu_node(s, "/Tair");
            assert_int_equal(tair->shape[0], (uint64_t)num(sr, "ntime"));
            ic_snapshot_free(&s);
        }
        ic_repo_free(&r);
    }
}

/* Every chunk reference of every variable at main against testbed.json. */
static void every_reference(void **state)
{
    bed *b = *state;
    skip_without_bed(b);
    const cJSON *tb = b->testbed;
    const cJSON *files = cJSON_GetObjectItem(tb, "files");
    const cJSON *vars = cJSON_GetObjectItem(b->repo[0], "variables");
    const char *bucket = str(tb, "bucket");
    const cJSON *chunks = cJSON_GetObjectItem(tb, "chunks");
    uint64_t cy = (uint64_t)cJSON_GetArrayItem(chunks, 1)->valuedouble;
    uint64_t cx = (uint64_t)cJSON_GetArrayItem(chunks, 2)->valuedouble;
    uint64_t ny = (uint64_t)num(tb, "ny"), nx = (uint64_t)num(tb, "nx");
    uint64_t gy = (ny + cy - 1) / cy, gx = (nx + cx - 1) / cx;
    for (int k = 0; k < 2; k++) {
        ic_repo *r = open_bed_repo(b, k);
        ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", str(b->repo[k], "branch_main"));
        int ntime = cJSON_GetArraySize(files);
        for (int v = 0; v < cJSON_GetArraySize(vars); v++) {
            const char *name = cJSON_GetArrayItem(vars, v)->valuestring;
            char path[64];
            snprintf(path, sizeof path, "/%s", name);
            const ic_node *n = tu_node(s, path);
            assert_true(n->is_array);
            assert_int_equal(n->ndim, 3);
            assert_int_equal(n->shape[0], (uint64_t)ntime);
            assert_int_equal(n->shape[1], ny);
            assert_int_equal(n->shape[2], nx);
            assert_int_equal(n->num_chunks[0], (uint32_t)ntime);
            assert_int_equal(n->num_chunks[1], gy);
            assert_int_equal(n->num_chunks[2], gx);
            uint64_t expected_refs = 0;
            for (int t = 0; t < ntime; t++) {
                const cJSON *f = cJSON_GetArrayItem(files, t);
                char loc[512];
                snprintf(loc, sizeof loc, "s3://%s/%s", bucket, str(f, "key"));
                const cJSON *entries = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "chunks"), name);
                assert_int_equal(cJSON_GetArraySize(entries), gy * gx);
                for (uint64_t i = 0; i < gy * gx; i++) {
                    const cJSON *e = cJSON_GetArrayItem(entries, (int)i);
                    ic_chunk_ref ref = tu_ref(r, n, (uint64_t)t, i / gx, i % gx);
                    if (cJSON_IsNull(e)) {
                        assert_int_equal(ref.kind, IC_CHUNK_MISSING);
                        continue;
                    }
                    expected_refs++;
                    if (ref.kind != IC_CHUNK_VIRTUAL || strcmp(ref.location, loc) != 0 ||
                        ref.offset != (uint64_t)cJSON_GetArrayItem(e, 0)->valuedouble ||
                        ref.length != (uint64_t)cJSON_GetArrayItem(e, 1)->valuedouble ||
                        ref.last_modified != (int64_t)num(f, "mtime") || ref.etag)
                        fail_msg("%s [%d,%llu,%llu]: kind %d %s +%llu %llu lm %lld; expected %s +%.0f %.0f lm %.0f",
                                 name, t, (unsigned long long)(i / gx), (unsigned long long)(i % gx),
                                 ref.kind, ref.location ? ref.location : "-",
                                 (unsigned long long)ref.offset, (unsigned long long)ref.length,
                                 (long long)ref.last_modified, loc, cJSON_GetArrayItem(e, 0)->valuedouble,
                                 cJSON_GetArrayItem(e, 1)->valuedouble, num(f, "mtime"));
                }
            }
            uint64_t nrefs;
            TU_OK(ic_array_count_refs(r, n, &nrefs, NULL));
            assert_int_equal(nrefs, expected_refs);
        }
        ic_snapshot_free(&s);
        ic_repo_free(&r);
    }
}

/* The task's spot check, spelled out: /Tair [0,0,0] at main. */
static void tair_first_chunk(void **state)
{
    bed *b = *state;
    skip_without_bed(b);
    const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(b->testbed, "files"), 0);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "chunks"), "Tair"), 0);
    for (int k = 0; k < 2; k++) {
        ic_repo *r = open_bed_repo(b, k);
        ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", NULL);
        ic_chunk_ref ref = tu_ref(r, tu_node(s, "/Tair"), 0, 0, 0);
        assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
        assert_string_equal(ref.location, "s3://nasa-waterinsight/NLDAS3/forcing/daily/200101/"
                                          "NLDAS_FOR0010_D.A20010101.030.beta.nc");
        assert_int_equal(ref.offset, (uint64_t)cJSON_GetArrayItem(e, 0)->valuedouble);
        assert_int_equal(ref.length, (uint64_t)cJSON_GetArrayItem(e, 1)->valuedouble);
        ic_snapshot_free(&s);
        ic_repo_free(&r);
    }
}

/* The spec-2 manifests store their locations zstd-compressed with a
 * per-manifest dictionary (Icechunk does so from 1000 virtual refs on), the
 * spec-1 ones verbatim: the lookups above exercised both paths. Checked on
 * the raw manifest bytes, independently of the reader: a file name occurs
 * once per ref in spec 1, only in the dictionary's samples in spec 2. */
static void compressed_locations_in_use(void **state)
{
    bed *b = *state;
    skip_without_bed(b);
    for (int k = 0; k < 2; k++) {
        ic_repo *r = open_bed_repo(b, k);
        ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", NULL);
        const ic_node *tair = tu_node(s, "/Tair");
        char path[1400];
        snprintf(path, sizeof path, "%smanifests/%s", ic_repo_root(r), tair->manifests[0].id);
        size_t len;
        uint8_t *raw = tu_read_file(path, &len);
        assert_non_null(raw);
        size_t cap = 64 << 20;
        uint8_t *dec = malloc(cap);
        ZSTD_DCtx *dctx = ZSTD_createDCtx();
        ZSTD_inBuffer in = {raw + 39, len - 39, 0};
        ZSTD_outBuffer out = {dec, cap, 0};
        while (in.pos < in.size)
            assert_false(ZSTD_isError(ZSTD_decompressStream(dctx, &out, &in)));
        size_t hits = 0;
        const char *needle = "NLDAS_FOR0010_D.A2001";
        for (size_t i = 0; i + strlen(needle) <= out.pos; i++)
            hits += memcmp(dec + i, needle, strlen(needle)) == 0;
        uint64_t nrefs;
        TU_OK(ic_array_count_refs(r, tair, &nrefs, NULL));
        assert_true(nrefs > 1000);
        if (k == 0)
            assert_true(hits * 10 < nrefs); /* only the dictionary's samples */
        else
            assert_true(hits >= nrefs);     /* one plain location per ref */
        ZSTD_freeDCtx(dctx);
        free(dec);
        free(raw);
        ic_snapshot_free(&s);
        ic_repo_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(refs_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(tair_first_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(every_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(compressed_locations_in_use, setup, teardown),
    };
    return floe_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
