/* SPDX-License-Identifier: Apache-2.0 */
/* Corrupt and missing objects: the reader must answer with a one-line
 * error that names the key (FLOE_EFORMAT for corrupt data), never crash or
 * read out of bounds (this test is meant to run under ASan too).
 *
 * Fixtures are copied to a scratch folder under /tmp first; the shared
 * fixtures are never modified. Mutations of the flatbuffers are made on the
 * decompressed payload and recompressed with libzstd, so that every byte of
 * the flatbuffer (not just of the zstd stream) is exercised.
 */
#include "io/icechunk/icechunk.h"
#include "io/icechunk/internal.h"
#include "io/icechunk/manifest_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

/* virtual-v2 ids (fixture README). */
#define V2_MAIN "J8XK2HD2A3BE9BY32G60"
#define V2_TAG "DN8DCZ658PKST1F82680"
#define V2_TEMP_MANIFEST "0EQ31NF3V47KC0RGV650"
#define V2_NATIVE "JVYG1HJJDKP3G9FWV8KG"
#define V1_MAIN "4775MSJ827609EHQWJM0"

typedef struct scratch {
    char root[1200];
} scratch;

static void path_of(const scratch *s, const char *key, char *out, size_t size)
{
    snprintf(out, size, "%s%s", s->root, key);
}

static uint8_t *read_key(const scratch *s, const char *key, size_t *len)
{
    char p[1400];
    path_of(s, key, p, sizeof p);
    uint8_t *b = tu_read_file(p, len);
    if (!b)
        fail_msg("cannot read %s", p);
    return b;
}

static void write_key(const scratch *s, const char *key, const void *data, size_t len)
{
    char p[1400];
    path_of(s, key, p, sizeof p);
    tu_write_file(p, data, len);
}

/* The decompressed flatbuffer of a metadata file (header stripped). */
static uint8_t *inflate_file(const uint8_t *file, size_t len, size_t *out_len)
{
    size_t cap = 1 << 22;
    uint8_t *out = malloc(cap);
    size_t n = ZSTD_decompress(out, cap, file + IC_HEADER_SIZE, len - IC_HEADER_SIZE);
    assert_false(ZSTD_isError(n));
    *out_len = n;
    return out;
}

/* header (39 bytes from `header`) + zstd(payload) written at key. */
static void write_metadata(const scratch *s, const char *key, const uint8_t *header,
                           const uint8_t *payload, size_t n)
{
    size_t cap = ZSTD_compressBound(n) + IC_HEADER_SIZE;
    uint8_t *out = malloc(cap);
    memcpy(out, header, IC_HEADER_SIZE);
    out[38] = 1;
    size_t z = ZSTD_compress(out + IC_HEADER_SIZE, cap - IC_HEADER_SIZE, payload, n, 3);
    assert_false(ZSTD_isError(z));
    write_key(s, key, out, IC_HEADER_SIZE + z);
    free(out);
}

/* An error allowed after corruption: one line, naming `needle`. */
static void allowed_error(floe_err err, const char *needle)
{
    if (!err)
        return;
    char line[2048];
    floe_err_line(err, line, sizeof line);
    floe_code c = floe_err_code(err);
    floe_err_free(&err);
    if (c != FLOE_EFORMAT && c != FLOE_EUNSUPPORTED && c != FLOE_ENOTFOUND)
        fail_msg("unexpected %s error: %s", floe_code_name(c), line);
    if (strchr(line, '\n'))
        fail_msg("error spans lines: %s", line);
    if (needle && !strstr(line, needle))
        fail_msg("error \"%s\" does not name \"%s\"", line, needle);
}

/* Use everything a snapshot offers: nodes, metadata, every ref of every array. */
static floe_err count_visit(void *ctx, const uint32_t *coord, const ic_chunk_ref *ref)
{
    (void)coord;
    (void)ref;
    (*(int *)ctx)++;
    return NULL;
}

static floe_err exercise(ic_repo *r, const char *snapshot_id)
{
    ic_snapshot *s = NULL;
    FLOE_CHECK(ic_snapshot_load(r, snapshot_id, &s));
    floe_err err = NULL;
    char *md = NULL;
    err = ic_snapshot_metadata_json(s, &md);
    free(md);
    for (size_t i = 0; !err && i < ic_snapshot_node_count(s); i++) {
        const ic_node *n = ic_snapshot_node(s, i);
        (void)ic_snapshot_find(s, n->path);
        if (!n->is_array)
            continue;
        int visits = 0;
        err = ic_array_each_ref(r, n, count_visit, &visits);
        uint64_t c[IC_MAX_DIMS] = {0};
        ic_chunk_ref ref;
        for (uint64_t k = 0; !err && k < 4; k++) {
            c[0] = k;
            err = ic_chunk_ref_lookup(r, n, c, &ref);
            if (!err && ref.kind == IC_CHUNK_VIRTUAL)
                assert_non_null(ref.location);
        }
    }
    ic_snapshot_free(&s);
    return err;
}

/* ---- the binary header -------------------------------------------------------------- */

static void header_errors(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v2", sc.root, sizeof sc.root);
    ic_repo *r = tu_open_root(T, sc.root);
    const char *key = "snapshots/" V2_MAIN;
    size_t len;
    uint8_t *orig = read_key(&sc, key, &len);
    uint8_t *b = malloc(len);
    ic_snapshot *s = NULL;

    memcpy(b, orig, len);
    b[3] = 'X'; /* magic */
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "bad magic");
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, key);

    memcpy(b, orig, len);
    b[36] = 3; /* a newer spec */
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EUNSUPPORTED, "spec version 3");
    b[36] = 0;
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "spec version");

    memcpy(b, orig, len);
    b[37] = 2; /* says manifest */
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "file type 2 (manifest), expected 1 (snapshot)");

    memcpy(b, orig, len);
    b[38] = 9; /* compression */
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "compression");

    memcpy(b, orig, len);
    for (size_t i = IC_HEADER_SIZE; i < IC_HEADER_SIZE + 8 && i < len; i++)
        b[i] ^= 0x5a; /* the zstd frame header */
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "zstd");

    memcpy(b, orig, len);
    memcpy(b + len - 8, "garbage!", 8); /* the end of the zstd stream */
    write_key(&sc, key, b, len);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, key);

    /* Truncations anywhere: header, frame header, middle, last byte. */
    const size_t cuts[] = {0, 5, 12, 36, 38, 39, 40, 44, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_key(&sc, key, orig, cuts[i]);
        tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, key);
        assert_null(s);
    }

    /* A manifest file in place of the snapshot. */
    size_t mlen;
    uint8_t *man = read_key(&sc, "manifests/" V2_TEMP_MANIFEST, &mlen);
    write_key(&sc, key, man, mlen);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "expected 1 (snapshot)");
    free(man);

    /* Another snapshot's file under this name. */
    size_t olen;
    uint8_t *other = read_key(&sc, "snapshots/" V2_TAG, &olen);
    write_key(&sc, key, other, olen);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "holds snapshot " V2_TAG);
    free(other);

    /* An uncompressed payload (compression byte 0) is legal. */
    size_t plen;
    uint8_t *payload = inflate_file(orig, len, &plen);
    uint8_t *raw = malloc(IC_HEADER_SIZE + plen);
    memcpy(raw, orig, IC_HEADER_SIZE);
    raw[38] = 0;
    memcpy(raw + IC_HEADER_SIZE, payload, plen);
    write_key(&sc, key, raw, IC_HEADER_SIZE + plen);
    TU_OK(ic_snapshot_load(r, V2_MAIN, &s));
    assert_string_equal(ic_snapshot_message(s), "materialize chunk 3/1/1 (+10000)");
    ic_snapshot_free(&s);
    /* A payload that is not a flatbuffer with the Ichk identifier. */
    raw[IC_HEADER_SIZE + 4] = 'X';
    write_key(&sc, key, raw, IC_HEADER_SIZE + plen);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_EFORMAT, "Ichk");

    /* The decompression cap. */
    ic_file f;
    tu_expect_err(ic_file_decode(orig, len, IC_FILE_SNAPSHOT, 100, NULL, &f), FLOE_ENOMEM,
                  "more than the memory budget of 100 bytes (100 bytes so far, from");
    ic_file_free(&f);
    TU_OK(ic_file_decode(orig, len, IC_FILE_SNAPSHOT, plen, NULL, &f));
    assert_string_equal(f.impl, "ic-2.2.2");
    assert_int_equal(f.spec, 2);
    ic_file_free(&f);

    free(raw);
    free(payload);
    free(b);
    free(orig);
    ic_repo_free(&r);
    tu_scratch_remove(sc.root);
}

/* ---- every byte of the flatbuffers ---------------------------------------------------- */

static const uint8_t VALUES[] = {0x00, 0xff, 0x80};

static void mutate_snapshot(const char *fixture, const char *snapshot_id)
{
    scratch sc;
    tu_scratch_copy(fixture, sc.root, sizeof sc.root);
    ic_repo *r = tu_open_root(T, sc.root);
    char key[64];
    snprintf(key, sizeof key, "snapshots/%s", snapshot_id);
    size_t len, plen;
    uint8_t *orig = read_key(&sc, key, &len);
    uint8_t *payload = inflate_file(orig, len, &plen);
    uint8_t *m = malloc(plen);
    size_t failures = 0;
    for (size_t pos = 0; pos < plen; pos++) {
        for (size_t v = 0; v < sizeof VALUES; v++) {
            if (payload[pos] == VALUES[v])
                continue;
            memcpy(m, payload, plen);
            m[pos] = VALUES[v];
            write_metadata(&sc, key, orig, m, plen);
            floe_err err = exercise(r, snapshot_id);
            failures += err != NULL;
            allowed_error(err, NULL);
        }
    }
    /* Truncated flatbuffers (recompressed, so zstd itself is fine). */
    for (size_t cut = 0; cut < plen; cut += 7) {
        write_metadata(&sc, key, orig, payload, cut);
        floe_err err = exercise(r, snapshot_id);
        assert_non_null(err);
        allowed_error(err, key);
    }
    assert_true(failures > plen / 4); /* most mutations are detected */
    free(m);
    free(payload);
    free(orig);
    ic_repo_free(&r);
    tu_scratch_remove(sc.root);
}

static void snapshot_mutations_v2(void **state)
{
    (void)state;
    mutate_snapshot("virtual-v2", V2_MAIN);
}

static void snapshot_mutations_v1(void **state)
{
    (void)state;
    mutate_snapshot("virtual-v1", V1_MAIN);
}

static void manifest_mutations(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v2", sc.root, sizeof sc.root);
    ic_repo *r = tu_open_root(T, sc.root);
    const char *key = "manifests/" V2_TEMP_MANIFEST;
    size_t len, plen;
    uint8_t *orig = read_key(&sc, key, &len);
    uint8_t *payload = inflate_file(orig, len, &plen);
    uint8_t *m = malloc(plen);
    size_t failures = 0;
    for (size_t pos = 0; pos < plen; pos++) {
        for (size_t v = 0; v < sizeof VALUES; v++) {
            if (payload[pos] == VALUES[v])
                continue;
            memcpy(m, payload, plen);
            m[pos] = VALUES[v];
            write_metadata(&sc, key, orig, m, plen);
            ic_repo_drop_manifests(r); /* read the mutated file again */
            floe_err err = exercise(r, V2_MAIN);
            failures += err != NULL;
            allowed_error(err, NULL);
        }
    }
    for (size_t cut = 0; cut < plen; cut += 5) {
        write_metadata(&sc, key, orig, payload, cut);
        ic_repo_drop_manifests(r);
        floe_err err = exercise(r, V2_MAIN);
        assert_non_null(err);
        allowed_error(err, key);
    }
    assert_true(failures > plen / 4);
    free(m);
    free(payload);
    free(orig);
    ic_repo_free(&r);
    tu_scratch_remove(sc.root);
}

/* Open the scratch repository and use every ref; returns how many steps
 * failed (each failure checked by allowed_error). */
static size_t use_repo(const char *root)
{
    ic_repo *r = NULL;
    floe_err err = ic_repo_open(T, root, &r);
    if (err) {
        assert_null(r);
        allowed_error(err, "repo"); /* errors at open name the repo file */
        return 1;
    }
    size_t failures = 0;
    const char *names[][2] = {{"b", "main"}, {"b", "dev"}, {"t", "v1"}};
    char id[IC_SNAPSHOT_ID_SIZE];
    for (int k = 0; k < 3; k++) {
        err = ic_repo_resolve(r, names[k][0][0] == 'b' ? IC_REF_BRANCH : IC_REF_TAG, names[k][1], id);
        if (!err) {
            /* Loading the snapshot reads its parent from the repo file;
             * the snapshots and manifests themselves are intact. */
            ic_snapshot *s = NULL;
            err = ic_snapshot_load(r, id, &s);
            if (!err)
                (void)ic_snapshot_parent_id(s);
            ic_snapshot_free(&s);
        }
        failures += err != NULL;
        allowed_error(err, NULL);
    }
    allowed_error(ic_repo_resolve(r, IC_REF_TAG, "gone", id), NULL);
    ic_ref_info *refs;
    size_t n;
    err = ic_repo_list_refs(r, &refs, &n);
    if (!err)
        ic_ref_list_free(&refs, n);
    failures += err != NULL;
    allowed_error(err, NULL);
    for (size_t i = 0; i < ic_repo_container_count(r); i++)
        assert_non_null(ic_repo_container(r, i)->url_prefix);
    ic_repo_free(&r);
    return failures;
}

static void repo_file_mutations(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v2", sc.root, sizeof sc.root);
    size_t len, plen;
    uint8_t *orig = read_key(&sc, "repo", &len);
    uint8_t *payload = inflate_file(orig, len, &plen);
    uint8_t *m = malloc(plen);
    size_t failures = 0;
    for (size_t pos = 0; pos < plen; pos++) {
        for (size_t v = 0; v < sizeof VALUES; v++) {
            if (payload[pos] == VALUES[v])
                continue;
            memcpy(m, payload, plen);
            m[pos] = VALUES[v];
            write_metadata(&sc, "repo", orig, m, plen);
            failures += use_repo(sc.root) > 0;
        }
    }
    assert_true(failures > plen / 4);
    /* Truncated repo files: the parts a cut removes may be ones a reader
     * never needs (the ops log), but most cuts must be caught. */
    size_t cuts = 0, caught = 0;
    for (size_t cut = 0; cut < plen; cut += 11, cuts++) {
        write_metadata(&sc, "repo", orig, payload, cut);
        caught += use_repo(sc.root) > 0;
    }
    assert_true(caught > cuts / 2);
    free(m);
    free(payload);
    free(orig);
    tu_scratch_remove(sc.root);
}

/* ---- missing and broken objects -------------------------------------------------------------- */

static void missing_objects(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v2", sc.root, sizeof sc.root);
    ic_repo *r = tu_open_root(T, sc.root);
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", V2_MAIN);
    const ic_node *temp = tu_node(s, "/surface/temp");

    /* The native chunk: gone, then shorter than its reference says. */
    ic_chunk_ref ref = tu_ref(r, temp, 3, 1, 1);
    assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
    char p[1400];
    path_of(&sc, "chunks/" V2_NATIVE, p, sizeof p);
    size_t clen;
    uint8_t *chunk = read_key(&sc, "chunks/" V2_NATIVE, &clen);
    unlink(p);
    floe_buf b;
    floe_buf_init(&b, 4096);
    tu_expect_err(ic_read_stored_chunk(r, &ref, &b), FLOE_ENOTFOUND, "chunks/" V2_NATIVE);
    write_key(&sc, "chunks/" V2_NATIVE, chunk, clen - 1);
    tu_expect_err(ic_read_stored_chunk(r, &ref, &b), FLOE_EFORMAT, "chunks/" V2_NATIVE);
    assert_int_equal(b.len, 0);
    floe_buf_free(&b);
    free(chunk);

    /* A manifest the snapshot names but the store lost. */
    ic_repo_drop_manifests(r);
    path_of(&sc, "manifests/" V2_TEMP_MANIFEST, p, sizeof p);
    unlink(p);
    tu_expect_err(ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 0}, &ref), FLOE_ENOTFOUND,
                  "manifests/" V2_TEMP_MANIFEST);
    assert_int_equal(ref.kind, IC_CHUNK_MISSING);
    /* The time array's manifest is still there. */
    assert_int_equal(tu_ref(r, tu_node(s, "/surface/time"), 0, 0, 0).kind, IC_CHUNK_INLINE);
    /* A manifest file holding another manifest. */
    size_t mlen;
    uint8_t *man = read_key(&sc, "manifests/XP084H86QBZSH65CB90G", &mlen);
    write_key(&sc, "manifests/" V2_TEMP_MANIFEST, man, mlen);
    free(man);
    tu_expect_err(ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 0}, &ref), FLOE_EFORMAT,
                  "holds manifest XP084H86QBZSH65CB90G");
    ic_snapshot_free(&s);

    /* The snapshot itself. */
    path_of(&sc, "snapshots/" V2_MAIN, p, sizeof p);
    unlink(p);
    tu_expect_err(ic_snapshot_load(r, V2_MAIN, &s), FLOE_ENOTFOUND, "snapshots/" V2_MAIN);
    char id[IC_SNAPSHOT_ID_SIZE];
    tu_expect_err(ic_repo_resolve(r, IC_REF_SNAPSHOT, V2_MAIN, id), FLOE_ENOTFOUND, V2_MAIN);
    ic_repo_free(&r);

    /* The repo file: an empty folder is no repository. */
    path_of(&sc, "repo", p, sizeof p);
    unlink(p);
    tu_expect_err(ic_repo_open(T, sc.root, &r), FLOE_ENOTFOUND, "not an Icechunk repository");
    tu_scratch_remove(sc.root);
}

static void v1_broken_refs_and_config(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v1", sc.root, sizeof sc.root);
    ic_repo *r = tu_open_root(T, sc.root);
    char id[IC_SNAPSHOT_ID_SIZE];

    /* A tombstone deletes tag v1 (its ref.json stays). */
    write_key(&sc, "refs/tag.v1/ref.json.deleted", "", 0);
    tu_expect_err(ic_repo_resolve(r, IC_REF_TAG, "v1", id), FLOE_ENOTFOUND, "deleted");

    write_key(&sc, "refs/branch.dev/ref.json", "{\"snapshot\":", 12);
    tu_expect_err(ic_repo_resolve(r, IC_REF_BRANCH, "dev", id), FLOE_EFORMAT, "refs/branch.dev/ref.json");
    write_key(&sc, "refs/branch.dev/ref.json", "{\"snapshot\":\"ILLEGAL0ID0000000000\"}", 35);
    tu_expect_err(ic_repo_resolve(r, IC_REF_BRANCH, "dev", id), FLOE_EFORMAT, "not a snapshot id");
    write_key(&sc, "refs/branch.dev/ref.json", "{\"snap\":1}", 10);
    tu_expect_err(ic_repo_resolve(r, IC_REF_BRANCH, "dev", id), FLOE_EFORMAT, "snapshot");
    ic_repo_free(&r);

    /* config.yaml that is not YAML, and one whose containers are not a map. */
    write_key(&sc, "config.yaml", "virtual_chunk_containers: [unclosed\n", 36);
    tu_expect_err(ic_repo_open(T, sc.root, &r), FLOE_EFORMAT, "config.yaml");
    assert_null(r);
    write_key(&sc, "config.yaml", "virtual_chunk_containers: 7\n", 28);
    tu_expect_err(ic_repo_open(T, sc.root, &r), FLOE_EFORMAT, "config.yaml");
    /* No config.yaml at all: default configuration, no containers. */
    char p[1400];
    path_of(&sc, "config.yaml", p, sizeof p);
    unlink(p);
    r = tu_open_root(T, sc.root);
    assert_int_equal(ic_repo_container_count(r), 0);
    ic_repo_free(&r);
    /* A v1 repository is found by its main branch. */
    path_of(&sc, "refs/branch.main/ref.json", p, sizeof p);
    unlink(p);
    tu_expect_err(ic_repo_open(T, sc.root, &r), FLOE_ENOTFOUND, "refs/branch.main/ref.json");
    tu_scratch_remove(sc.root);
}

/* Relative locations (vcc://NAME/path, Icechunk >= 2.0): no fixture has
 * one, so a copy of virtual-v1 is edited: its container gets the name "fx"
 * and each stored location "file:///fixture-data/temp.bin" becomes
 * "vcc://fx/temp.bin" (same string slot, shorter length, NUL-padded). */
static void relative_locations(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v1", sc.root, sizeof sc.root);
    size_t clen;
    char *cfg = (char *)read_key(&sc, "config.yaml", &clen);
    char *name = strstr(cfg, "name: null");
    assert_non_null(name);
    memcpy(name, "name: fx  ", 10);
    write_key(&sc, "config.yaml", cfg, clen);

    const char *key = "manifests/Z54314M83ZPZGH338GQ0"; /* temp at main */
    size_t len, plen;
    uint8_t *orig = read_key(&sc, key, &len);
    uint8_t *payload = inflate_file(orig, len, &plen);
    const char *old = "file:///fixture-data/temp.bin", *rel = "vcc://fx/temp.bin";
    size_t olen = strlen(old), rlen = strlen(rel), edits = 0;
    for (size_t i = 4; i + olen <= plen; i++) {
        if (memcmp(payload + i, old, olen) != 0)
            continue;
        assert_int_equal(payload[i - 4], olen); /* the string's u32 length */
        payload[i - 4] = (uint8_t)rlen;
        memset(payload + i, 0, olen);
        memcpy(payload + i, rel, rlen);
        edits++;
    }
    assert_true(edits >= 1);
    write_metadata(&sc, key, orig, payload, plen);

    ic_repo *r = tu_open_root(T, sc.root);
    assert_string_equal(ic_repo_container(r, 0)->name, "fx");
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", V1_MAIN);
    const ic_node *temp = tu_node(s, "/surface/temp");
    ic_chunk_ref a = tu_ref(r, temp, 1, 1, 0), b = tu_ref(r, temp, 1, 1, 0);
    assert_int_equal(a.kind, IC_CHUNK_VIRTUAL);
    assert_string_equal(a.location, "file:///fixture-data/temp.bin");
    assert_int_equal(a.offset, 304);
    assert_ptr_equal(a.location, b.location); /* expanded once, kept with the manifest */
    assert_int_equal(tu_ref(r, temp, 3, 1, 1).kind, IC_CHUNK_NATIVE);
    ic_snapshot_free(&s);
    ic_repo_free(&r);

    /* No container of that name: the lookup fails, naming the location. */
    memcpy(name, "name: gx  ", 10);
    write_key(&sc, "config.yaml", cfg, clen);
    r = tu_open_root(T, sc.root);
    s = tu_snapshot(r, IC_REF_BRANCH, "main", V1_MAIN);
    ic_chunk_ref ref;
    tu_expect_err(ic_chunk_ref_lookup(r, tu_node(s, "/surface/temp"), (uint64_t[]){1, 1, 0}, &ref),
                  FLOE_ENOTFOUND, "no virtual chunk container named \"fx\"");
    ic_snapshot_free(&s);
    ic_repo_free(&r);
    free(payload);
    free(orig);
    free(cfg);
    tu_scratch_remove(sc.root);
}

/* ---- refs checked where they are touched ------------------------------------------------ */

/* The refs vector of the array with n_refs refs in a manifest payload. */
static fb_vector refs_of(const uint8_t *payload, size_t plen, uint32_t n_refs)
{
    fb_table root, am;
    fb_vector arrays, refs;
    TU_OK(fb_root(payload, plen, "Ichk", &root));
    TU_OK(fb_field_vector(&root, 1, "arrays", FB_REF_SIZE, 1, &arrays));
    for (uint32_t a = 0; a < arrays.n; a++) {
        TU_OK(fb_vector_table(&arrays, a, &am));
        TU_OK(fb_field_vector(&am, 1, "refs", FB_REF_SIZE, 1, &refs));
        if (refs.n == n_refs)
            return refs;
    }
    fail_msg("no array with %u refs", n_refs);
    return refs;
}

/* Swap what refs i and j of the vector point at (uoffsets are relative to
 * their own position). */
static void swap_refs(uint8_t *payload, const fb_vector *refs, uint32_t i, uint32_t j)
{
    size_t pi = refs->pos + 4 * (size_t)i, pj = refs->pos + 4 * (size_t)j;
    uint32_t ti = (uint32_t)pi + fb_load_u32(payload + pi), tj = (uint32_t)pj + fb_load_u32(payload + pj);
    uint32_t oi = tj - (uint32_t)pi, oj = ti - (uint32_t)pj;
    memcpy(payload + pi, &oi, 4); /* little-endian host, as the fixtures */
    memcpy(payload + pj, &oj, 4);
}

/* A manifest whose last two refs of /surface/temp (15 refs: [3,1,0] and
 * [3,1,1]) are swapped. Nothing is walked at load: a lookup far from them
 * answers (the old reader refused the whole manifest), one that lands on
 * them, found or not, is one clear FLOE_EFORMAT line, as is a walk; a ref
 * whose coordinate vector has the wrong length is refused where a lookup
 * visits it. */
static void unsorted_refs(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v2", sc.root, sizeof sc.root);
    const char *key = "manifests/" V2_TEMP_MANIFEST;
    size_t len, plen;
    uint8_t *orig = read_key(&sc, key, &len);
    uint8_t *payload = inflate_file(orig, len, &plen);
    fb_vector refs = refs_of(payload, plen, 15);
    swap_refs(payload, &refs, 13, 14);
    write_metadata(&sc, key, orig, payload, plen);

    ic_repo *r = tu_open_root(T, sc.root);
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", V2_MAIN);
    const ic_node *temp = tu_node(s, "/surface/temp");
    ic_chunk_ref ref;
    TU_OK(ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 0}, &ref));
    assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
    TU_OK(ic_chunk_ref_lookup(r, temp, (uint64_t[]){1, 1, 1}, &ref));
    assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
    tu_expect_err(ic_chunk_ref_lookup(r, temp, (uint64_t[]){3, 1, 1}, &ref), FLOE_EFORMAT,
                  "ref 14 is not sorted after ref 13 by coordinate");
    assert_int_equal(ref.kind, IC_CHUNK_MISSING);
    tu_expect_err(ic_chunk_ref_lookup(r, temp, (uint64_t[]){3, 1, 0}, &ref), FLOE_EFORMAT,
                  "manifests/" V2_TEMP_MANIFEST ": array /surface/temp chunk [3,1,0]");
    int visits = 0;
    tu_expect_err(ic_array_each_ref(r, temp, count_visit, &visits), FLOE_EFORMAT,
                  "ref 14 is not sorted after ref 13");
    assert_int_equal(visits, 14); /* refs 0..13 are in order */
    ic_snapshot_free(&s);
    ic_repo_free(&r);

    /* Refs 0 and 14 swapped: [3,1,1] now sorts past every ref the search
     * visits (at == n), where the last ref is checked against its
     * predecessor. */
    free(payload);
    payload = inflate_file(orig, len, &plen);
    refs = refs_of(payload, plen, 15);
    swap_refs(payload, &refs, 0, 14);
    write_metadata(&sc, key, orig, payload, plen);
    r = tu_open_root(T, sc.root);
    s = tu_snapshot(r, IC_REF_BRANCH, "main", V2_MAIN);
    temp = tu_node(s, "/surface/temp");
    tu_expect_err(ic_chunk_ref_lookup(r, temp, (uint64_t[]){3, 1, 1}, &ref), FLOE_EFORMAT,
                  "ref 14 is not sorted after ref 13 by coordinate");
    assert_int_equal(ref.kind, IC_CHUNK_MISSING);
    ic_snapshot_free(&s);
    ic_repo_free(&r);

    /* What is not checked: refs 0 and 1 swapped send the search for
     * [0,0,1] past it, to a gap whose neighbours are in order, so the chunk
     * answers MISSING without an error (as in Icechunk, which searches
     * without a walk too); a walk finds the disorder. */
    free(payload);
    payload = inflate_file(orig, len, &plen);
    refs = refs_of(payload, plen, 15);
    swap_refs(payload, &refs, 0, 1);
    write_metadata(&sc, key, orig, payload, plen);
    r = tu_open_root(T, sc.root);
    s = tu_snapshot(r, IC_REF_BRANCH, "main", V2_MAIN);
    temp = tu_node(s, "/surface/temp");
    TU_OK(ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 1}, &ref));
    assert_int_equal(ref.kind, IC_CHUNK_MISSING);
    TU_OK(ic_chunk_ref_lookup(r, temp, (uint64_t[]){3, 1, 1}, &ref));
    assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
    visits = 0;
    tu_expect_err(ic_array_each_ref(r, temp, count_visit, &visits), FLOE_EFORMAT,
                  "ref 1 is not sorted after ref 0");
    ic_snapshot_free(&s);
    ic_repo_free(&r);

    /* Ref 0's coordinates cut to 2: a lookup visiting it fails, one that
     * does not answers. */
    free(payload);
    payload = inflate_file(orig, len, &plen);
    refs = refs_of(payload, plen, 15);
    fb_table t;
    fb_vector index;
    TU_OK(ic_ref_index(&refs, 0, &t, &index));
    assert_int_equal(index.n, 3);
    uint32_t two = 2;
    memcpy(payload + index.pos - 4, &two, 4);
    write_metadata(&sc, key, orig, payload, plen);
    r = tu_open_root(T, sc.root);
    s = tu_snapshot(r, IC_REF_BRANCH, "main", V2_MAIN);
    temp = tu_node(s, "/surface/temp");
    TU_OK(ic_chunk_ref_lookup(r, temp, (uint64_t[]){3, 1, 1}, &ref));
    assert_int_equal(ref.kind, IC_CHUNK_NATIVE);
    tu_expect_err(ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 0}, &ref), FLOE_EFORMAT,
                  "ref 0 has 2 coordinates, the array has 3 dimensions");
    tu_expect_err(ic_array_each_ref(r, temp, count_visit, &visits), FLOE_EFORMAT,
                  "ref 0 has 2 coordinates");
    ic_snapshot_free(&s);
    ic_repo_free(&r);
    free(payload);
    free(orig);
    tu_scratch_remove(sc.root);
}

/* The memory budget: a manifest larger unpacked is refused with one line
 * naming it, its size and what to raise; the default budget opens it. */
static void put_text(const char *dir, const char *sub, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The default budget's cgroup part: the smallest number in memory.max
 * along the process's cgroup and its ancestors ("max", junk, missing:
 * none), as a Slurm job's limit sits above its step's. */
static void cgroup_limit(void **state)
{
    (void)state;
    char root[] = "/tmp/floe-cgroup-XXXXXX", dir[1024];
    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/job", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dir, sizeof dir, "%s/job/step", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(ic_cgroup_memory_limit(root, "job/step"), SIZE_MAX - 1);
    put_text(root, "job/step/memory.max", "max\n");
    put_text(root, "job/memory.max", "2097152\n");
    assert_int_equal(ic_cgroup_memory_limit(root, "job/step"), 2097152);
    assert_int_equal(ic_cgroup_memory_limit(root, "job/step/"), 2097152);
    assert_int_equal(ic_cgroup_memory_limit(root, ""), SIZE_MAX - 1);
    put_text(root, "memory.max", "1048576\n");
    assert_int_equal(ic_cgroup_memory_limit(root, "job/step"), 1048576);
    assert_int_equal(ic_cgroup_memory_limit(root, ""), 1048576);
    put_text(root, "memory.max", "12x\n");
    put_text(root, "job/memory.max", "-5\n");
    assert_int_equal(ic_cgroup_memory_limit(root, "job/step"), SIZE_MAX - 1);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void memory_budget(void **state)
{
    (void)state;
    scratch sc;
    tu_scratch_copy("virtual-v2", sc.root, sizeof sc.root);
    ic_repo *r = tu_open_root(T, sc.root);
    ic_snapshot *s = tu_snapshot(r, IC_REF_BRANCH, "main", V2_MAIN);
    const ic_node *temp = tu_node(s, "/surface/temp");
    ic_chunk_ref ref;
    size_t len;
    free(read_key(&sc, "manifests/" V2_TEMP_MANIFEST, &len));
    char want[128];
    /* Stored within the budget, larger unpacked; then larger stored. */
    ic_repo_set_memory_budget(r, len);
    snprintf(want, sizeof want, "more than the memory budget of %zu bytes (%zu bytes so far, "
             "from %zu stored bytes)", len, len, len - IC_HEADER_SIZE);
    for (int k = 0; k < 2; k++) {
        floe_err err = ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 0}, &ref);
        char line[2048];
        floe_err_line(err, line, sizeof line);
        assert_int_equal(floe_err_code(err), FLOE_ENOMEM);
        floe_err_free(&err);
        assert_null(strchr(line, '\n'));
        assert_non_null(strstr(line, "manifest "));
        assert_non_null(strstr(line, "manifests/" V2_TEMP_MANIFEST));
        if (!strstr(line, want))
            fail_msg("\"%s\" does not say \"%s\"", line, want);
        assert_non_null(strstr(line, "raise --memory-budget"));
        ic_repo_set_memory_budget(r, 256);
        /* Refused by the size the snapshot lists, before any fetch (a
         * ranged prefetch would allocate that much). */
        snprintf(want, sizeof want, "stored object larger than the memory budget of 256 bytes "
                 "(the snapshot lists %zu bytes)", len);
    }
    uint64_t n, bytes;
    ic_repo_manifest_stats(r, &n, &bytes);
    assert_int_equal(n, 0);
    ic_repo_set_memory_budget(r, 0); /* the default: physical memory */
    TU_OK(ic_chunk_ref_lookup(r, temp, (uint64_t[]){0, 0, 0}, &ref));
    assert_int_equal(ref.kind, IC_CHUNK_VIRTUAL);
    ic_repo_manifest_stats(r, &n, &bytes);
    assert_int_equal(n, 1);
    assert_int_equal(bytes, len);
    ic_snapshot_free(&s);
    ic_repo_free(&r);
    tu_scratch_remove(sc.root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_errors),
        cmocka_unit_test(snapshot_mutations_v2),
        cmocka_unit_test(snapshot_mutations_v1),
        cmocka_unit_test(manifest_mutations),
        cmocka_unit_test(repo_file_mutations),
        cmocka_unit_test(missing_objects),
        cmocka_unit_test(v1_broken_refs_and_config),
        cmocka_unit_test(relative_locations),
        cmocka_unit_test(unsorted_refs),
        cmocka_unit_test(memory_budget),
        cmocka_unit_test(cgroup_limit),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
