/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the STAC layer: stac_doc (loading, parsing, hrefs, the
 * document-or-repository heuristic) and stac_open (asset choice, storage,
 * containers, version precedence, Zarr flags, printing).
 *
 * Every fixture in shared/fixtures/stac has its own test, with the outcome
 * spelled out from the fixture README (values typed in here, not produced
 * by floe). The test bed's collections are checked against repo-v*.json,
 * which the real Icechunk library wrote. Broken documents are made in the
 * tests, from strings or by editing a fixture with cJSON. */
#include "common/floe_error.h"
#include "cli/inspect_print.h"
#include "common/floe_log.h"
#include "stac/doc.h"
#include "stac/open.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XPYSTAC "nldas-3_xpystac_virtual-icechunk-collection.json"
#define RECONSTRUCTED "nldas-3_workshop-collection.RECONSTRUCTED.json"
#define VEDA_DATA "nldas-3_veda-data_nldas3-virtual-zarr-collection.json"
#define KERCHUNK_ITEM "cmip6-cesm2_stac-best-practices_virtual-kerchunk-item.json"
#define ZEP8_JSONC "cmip6-cesm2_stac-best-practices_virtual-icechunk-collection.jsonc"
#define NEX_GDDP "pc_nasa-nex-gddp-cmip6_kerchunk-collection.json"
#define DAYMET "pc_daymet-daily-hi_zarr-collection.json"
#define VEDA_KERCHUNK "veda_cmip6-giss-tas_kerchunk-demo-collection.json"
#define NWM "pc_nwm_kerchunk-item-collection.json"
#define NAIP "storage-ext_item-naip_multi-scheme.json"
#define ZARR_V2 "zarr-ext_collection_zarr-v2-consolidated.json"

#define NLDAS_BUCKET "nasa-waterinsight"
#define NLDAS_PREFIX "virtual-zarr-store/NLDAS-3-icechunk/"
#define NLDAS_REPO "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/"
#define NLDAS_CONTAINER "s3://nasa-waterinsight/NLDAS3/forcing/daily/"
#define NLDAS_SNAPSHOT "YTNGFY4WY9189GEH1FNG"
#define NLDAS_ASSET "nldas-3@YTNGFY4WY9189GEH1FNG"
#define NLDAS_SCHEME "aws-s3-nasa-waterinsight"
#define NLDAS_PLATFORM "https://nasa-waterinsight.s3.us-west-2.amazonaws.com"
#define OTHER_SNAPSHOT "WFMRDWZWPNNANR5XVQ4G" /* a valid id (the test bed's) */

/* ---- helpers --------------------------------------------------------------- */

static char tmpdir[64];
static char written[64][256];
static size_t n_written;

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/floe-test-stac-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_written; i++)
        unlink(written[i]);
    rmdir(tmpdir);
    return 0;
}

/* The shared fixture folder: FLOE_SHARED_DIR, else ../shared beside the
 * repository (the layout of the project's checkout). */
static const char *fixture(const char *name)
{
    static char path[1024];
    const char *shared = getenv("FLOE_SHARED_DIR");
    const char *src = getenv("FLOE_SOURCE_DIR");
    if (shared)
        snprintf(path, sizeof path, "%s/fixtures/stac/%s", shared, name);
    else
        snprintf(path, sizeof path, "%s/../shared/fixtures/stac/%s", src ? src : ".", name);
    if (access(path, R_OK) != 0) {
        floe_test_skip_case("shared fixture %s not found (set FLOE_SHARED_DIR)", path);
    }
    return path;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return s;
}

static const char *write_text(const char *name, const char *text)
{
    assert_true(n_written < sizeof written / sizeof written[0]);
    char *path = written[n_written++];
    snprintf(path, sizeof written[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Print doc to a temporary file and free it. */
static const char *write_doc(const char *name, cJSON *doc)
{
    char *text = cJSON_Print(doc);
    assert_non_null(text);
    const char *path = write_text(name, text);
    free(text);
    cJSON_Delete(doc);
    return path;
}

static cJSON *load_json(const char *path)
{
    char *text = slurp(path, NULL);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static cJSON *asset_of(cJSON *doc, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(doc, "assets"), key);
    assert_non_null(a);
    return a;
}

static void set_item(cJSON *obj, const char *field, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, field))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, field, value);
    else
        cJSON_AddItemToObject(obj, field, value);
}

static void set_str(cJSON *obj, const char *field, const char *value)
{
    set_item(obj, field, cJSON_CreateString(value));
}

static void resolve_ok(const char *src, const stac_request *req, stac_open_params *p)
{
    floe_err err = stac_open_resolve(NULL, src, req, p);
    if (err) {
        char line[1024];
        floe_err_line(err, line, sizeof line);
        floe_err_free(&err);
        fail_msg("%s: unexpected error: %s", src, line);
    }
}

/* Resolution fails with code, in one line that holds each needle. */
static void expect_error(const char *src, const stac_request *req, floe_code code,
                         const char *needle1, const char *needle2)
{
    stac_open_params p;
    floe_err err = stac_open_resolve(NULL, src, req, &p);
    if (!err)
        fail_msg("%s: resolved, but expected a %s error", src, floe_code_name(code));
    char line[4096];
    floe_err_line(err, line, sizeof line);
    print_message("  expected error: %s\n", line);
    if (floe_err_code(err) != code)
        fail_msg("%s: code %s, expected %s: %s", src, floe_code_name(floe_err_code(err)),
                 floe_code_name(code), line);
    assert_null(strchr(line, '\n'));
    if (needle1 && !strstr(line, needle1))
        fail_msg("'%s' lacks '%s'", line, needle1);
    if (needle2 && !strstr(line, needle2))
        fail_msg("'%s' lacks '%s'", line, needle2);
    /* On error the output is left cleared. */
    assert_null(p.asset_key);
    assert_null(p.repo.url);
    assert_int_equal(p.n_containers, 0);
    floe_err_free(&err);
}

static int has_note(const stac_open_params *p, const char *needle)
{
    for (size_t i = 0; i < p->n_notes; i++)
        if (strstr(p->notes[i], needle))
            return 1;
    return 0;
}

/* The NLDAS-3 repository and container as the xpystac fixture and the
 * seed notebook give them (aws-s3 scheme aws-s3-nasa-waterinsight). */
static void assert_nldas_storage(const stac_open_params *p)
{
    assert_int_equal(p->repo.kind, STAC_STORAGE_S3);
    assert_string_equal(p->repo.url, NLDAS_REPO);
    assert_string_equal(p->repo.bucket, NLDAS_BUCKET);
    assert_string_equal(p->repo.prefix, NLDAS_PREFIX);
    assert_string_equal(p->repo.region, "us-west-2");
    assert_int_equal(p->repo.anonymous, 1);
    assert_int_equal(p->repo.requester_pays, 0);
    assert_null(p->repo.endpoint);
    assert_string_equal(p->repo.platform, NLDAS_PLATFORM);
    assert_string_equal(p->repo.scheme_key, NLDAS_SCHEME);
    assert_string_equal(p->repo.scheme_type, "aws-s3");
    assert_int_equal(p->n_containers, 1);
    const stac_storage *c = &p->containers[0];
    assert_int_equal(c->kind, STAC_STORAGE_S3);
    assert_string_equal(c->url, NLDAS_CONTAINER);
    assert_string_equal(c->bucket, NLDAS_BUCKET);
    assert_string_equal(c->prefix, "NLDAS3/forcing/daily/");
    assert_string_equal(c->region, "us-west-2");
    assert_int_equal(c->anonymous, 1);
    assert_null(c->endpoint);
    assert_string_equal(c->asset_key, "nldas-3-legacy-bucket");
    assert_string_equal(c->scheme_key, NLDAS_SCHEME);
}

/* ---- fixture 1: xpystac --------------------------------------------------- */

static void fixture_xpystac(void **state)
{
    (void)state;
    stac_open_params p;
    resolve_ok(fixture(XPYSTAC), NULL, &p);
    assert_string_equal(p.doc_kind, "Collection");
    assert_string_equal(p.collection_id, "nldas-3");
    assert_null(p.item_id);
    assert_string_equal(p.asset_key, NLDAS_ASSET);
    assert_string_equal(p.asset_type, "application/vnd.zarr+icechunk");
    assert_string_equal(p.asset_origin, "role latest-version");
    assert_nldas_storage(&p);
    assert_null(p.group);
    /* The snapshot is pinned by the version extension's "version". */
    assert_int_equal(p.ref_kind, STAC_REF_SNAPSHOT);
    assert_string_equal(p.ref_name, NLDAS_SNAPSHOT);
    assert_string_equal(p.ref_origin, "version");
    assert_int_equal(p.zarr_format, 0);
    assert_int_equal(p.consolidated, -1);
    stac_open_params_clear(&p);
    assert_null(p.asset_key);
    stac_open_params_clear(&p); /* twice is harmless */
}

static void fixture_xpystac_cli_overrides(void **state)
{
    (void)state;
    const char *src = fixture(XPYSTAC);
    stac_open_params p;
    stac_request req = {.cli_ref_kind = STAC_REF_TAG, .cli_ref = "v2001-01"};
    resolve_ok(src, &req, &p);
    assert_int_equal(p.ref_kind, STAC_REF_TAG);
    assert_string_equal(p.ref_name, "v2001-01");
    assert_string_equal(p.ref_origin, "--tag");
    assert_true(has_note(&p, "version " NLDAS_SNAPSHOT " not used"));
    stac_open_params_clear(&p);

    req = (stac_request){.cli_ref_kind = STAC_REF_BRANCH, .cli_ref = "dev"};
    resolve_ok(src, &req, &p);
    assert_int_equal(p.ref_kind, STAC_REF_BRANCH);
    assert_string_equal(p.ref_name, "dev");
    assert_string_equal(p.ref_origin, "--branch");
    stac_open_params_clear(&p);

    req = (stac_request){.cli_ref_kind = STAC_REF_SNAPSHOT, .cli_ref = OTHER_SNAPSHOT};
    resolve_ok(src, &req, &p);
    assert_int_equal(p.ref_kind, STAC_REF_SNAPSHOT);
    assert_string_equal(p.ref_name, OTHER_SNAPSHOT);
    assert_string_equal(p.ref_origin, "--snapshot");
    stac_open_params_clear(&p);

    /* A snapshot id must be one: 20 Crockford base32 characters with zero
     * padding bits (H has low bits set). */
    req = (stac_request){.cli_ref_kind = STAC_REF_SNAPSHOT, .cli_ref = "YTNGFY4WY9189GEH1FNH"};
    expect_error(src, &req, FLOE_EINVAL, "--snapshot YTNGFY4WY9189GEH1FNH", "snapshot id");
    req = (stac_request){.cli_ref_kind = STAC_REF_SNAPSHOT, .cli_ref = "main"};
    expect_error(src, &req, FLOE_EINVAL, "--snapshot main", NULL);
}

static void fixture_xpystac_asset_option(void **state)
{
    (void)state;
    const char *src = fixture(XPYSTAC);
    stac_open_params p;
    stac_request req = {.asset = NLDAS_ASSET};
    resolve_ok(src, &req, &p);
    assert_string_equal(p.asset_key, NLDAS_ASSET);
    assert_string_equal(p.asset_origin, "--asset");
    assert_nldas_storage(&p);
    stac_open_params_clear(&p);

    req = (stac_request){.asset = "nope"};
    expect_error(src, &req, FLOE_ENOTFOUND, "no asset \"nope\"",
                 "(assets: " NLDAS_ASSET ", nldas-3-legacy-bucket)");
    /* The NetCDF bucket is no store. */
    req = (stac_request){.asset = "nldas-3-legacy-bucket"};
    expect_error(src, &req, FLOE_EUNSUPPORTED, "asset nldas-3-legacy-bucket has type "
                 "application/x-netcdf", NULL);
}

/* ---- fixture 2: the reconstructed workshop collection --------------------- */

static void fixture_reconstructed(void **state)
{
    (void)state;
    stac_open_params p;
    resolve_ok(fixture(RECONSTRUCTED), NULL, &p);
    assert_string_equal(p.asset_key, NLDAS_ASSET);
    assert_string_equal(p.asset_origin, "role latest-version");
    assert_nldas_storage(&p);
    assert_int_equal(p.ref_kind, STAC_REF_SNAPSHOT);
    assert_string_equal(p.ref_name, NLDAS_SNAPSHOT);
    assert_string_equal(p.ref_origin, "icechunk:snapshot_id");
    assert_int_equal(p.zarr_format, 3);
    assert_int_equal(p.consolidated, 0);
    stac_open_params_clear(&p);
}

/* ---- fixture 3: the veda-data first draft ----------------------------------- */

static void fixture_veda_data(void **state)
{
    (void)state;
    const char *src = fixture(VEDA_DATA);
    /* application/vnd.zarr is not the Icechunk media type. */
    expect_error(src, NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: example (application/vnd.zarr))", src);

    /* Named explicitly it opens, with every fallback: no storage scheme,
     * no version (branch main), zarr:consolidated true noted and warned. */
    char *logtext = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logtext, &loglen);
    assert_non_null(log);
    floe_log_set_stream(log);
    stac_open_params p;
    stac_request req = {.asset = "example"};
    resolve_ok(src, &req, &p);
    floe_log_set_stream(stderr);
    fclose(log);
    assert_non_null(strstr(logtext, "zarr:consolidated is true"));
    free(logtext);
    assert_string_equal(p.collection_id, "collection");
    assert_string_equal(p.asset_key, "example");
    assert_string_equal(p.asset_type, "application/vnd.zarr");
    assert_string_equal(p.asset_origin, "--asset");
    assert_int_equal(p.repo.kind, STAC_STORAGE_S3);
    assert_string_equal(p.repo.url, NLDAS_REPO);
    assert_string_equal(p.repo.bucket, NLDAS_BUCKET);
    assert_string_equal(p.repo.prefix, NLDAS_PREFIX);
    assert_null(p.repo.region);
    assert_int_equal(p.repo.anonymous, 0);
    assert_null(p.repo.scheme_key);
    assert_int_equal(p.ref_kind, STAC_REF_BRANCH);
    assert_string_equal(p.ref_name, "main");
    assert_string_equal(p.ref_origin, "default");
    assert_int_equal(p.consolidated, 1);
    assert_int_equal(p.zarr_format, 0);
    assert_int_equal(p.n_containers, 0);
    assert_true(has_note(&p, "zarr:consolidated is true"));
    assert_true(has_note(&p, "not application/vnd.zarr+icechunk"));
    assert_true(has_note(&p, "no vrt:hrefs"));
    stac_open_params_clear(&p);
}

/* ---- fixture 4: kerchunk Item ---------------------------------------------- */

static void fixture_kerchunk_item(void **state)
{
    (void)state;
    const char *src = fixture(KERCHUNK_ITEM);
    expect_error(src, NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: rlus (application/vnd.zarr+kerchunk), "
                 "source_data (application/netcdf))", "STAC Item");
    stac_request req = {.asset = "rlus"};
    expect_error(src, &req, FLOE_EUNSUPPORTED, "application/vnd.zarr+kerchunk", NULL);
}

/* ---- fixture 5: the .jsonc with a ZEP 8 href --------------------------------- */

/* The first line whose content starts with "//", found by scanning the
 * file here (not by floe). */
static void first_comment(const char *text, size_t *line, size_t *col)
{
    *line = *col = 0; /* none found (fail_msg is not known to return never) */
    size_t l = 1;
    for (const char *s = text; *s;) {
        const char *p = s;
        while (*p == ' ' || *p == '\t')
            p++;
        if (p[0] == '/' && p[1] == '/') {
            *line = l;
            *col = (size_t)(p - s) + 1;
            return;
        }
        const char *nl = strchr(s, '\n');
        if (!nl)
            break;
        s = nl + 1;
        l++;
    }
    fail_msg("no // comment found");
}

static void fixture_zep8_jsonc_is_not_json(void **state)
{
    (void)state;
    const char *src = fixture(ZEP8_JSONC);
    char *text = slurp(src, NULL);
    size_t line, col;
    first_comment(text, &line, &col);
    free(text);
    char needle[128];
    snprintf(needle, sizeof needle, "not valid JSON at line %zu, column %zu", line, col);
    expect_error(src, NULL, FLOE_EFORMAT, needle, src);
    assert_true(stac_source_is_document(src));
}

/* The same document with its comment line removed is strict JSON: the ZEP 8
 * href then selects tag v5 and group rlus/ of an https repository. */
static void fixture_zep8_without_comment(void **state)
{
    (void)state;
    char *text = slurp(fixture(ZEP8_JSONC), NULL);
    size_t line, col;
    first_comment(text, &line, &col);
    char *s = text;
    for (size_t l = 1; l < line; l++)
        s = strchr(s, '\n') + 1;
    char *nl = strchr(s, '\n');
    memmove(s, nl + 1, strlen(nl + 1) + 1);
    const char *src = write_text("zep8.json", text);
    free(text);

    stac_open_params p;
    resolve_ok(src, NULL, &p);
    assert_string_equal(p.asset_key, "rlus");
    assert_string_equal(p.asset_origin, "only Icechunk asset");
    assert_int_equal(p.repo.kind, STAC_STORAGE_HTTP);
    assert_string_equal(p.repo.url, "https://storage.example.com/CMIP6_CESM2.icechunk/");
    assert_null(p.repo.bucket);
    assert_string_equal(p.group, "rlus/");
    assert_int_equal(p.ref_kind, STAC_REF_TAG);
    assert_string_equal(p.ref_name, "v5");
    assert_string_equal(p.ref_origin, "href");
    assert_int_equal(p.zarr_format, 3);
    /* vrt:hrefs without href: schema-invalid, but the key is what counts. */
    assert_int_equal(p.n_containers, 1);
    assert_int_equal(p.containers[0].kind, STAC_STORAGE_HTTP);
    assert_string_equal(p.containers[0].url, "https://storage.example.com/data/CMIP6/");
    assert_string_equal(p.containers[0].asset_key, "source_data");
    assert_true(has_note(&p, "has no href"));
    stac_open_params_clear(&p);

    /* The command line still wins over the href. */
    stac_request req = {.cli_ref_kind = STAC_REF_BRANCH, .cli_ref = "main"};
    resolve_ok(src, &req, &p);
    assert_int_equal(p.ref_kind, STAC_REF_BRANCH);
    assert_string_equal(p.ref_origin, "--branch");
    assert_true(has_note(&p, "href v5 not used"));
    stac_open_params_clear(&p);
}

/* ---- fixtures 6-11: documents without an Icechunk asset -------------------- */

static void fixture_nex_gddp_kerchunk(void **state)
{
    (void)state;
    /* 18 assets: the thumbnail and 17 kerchunk reference files; the list
     * stops after 12. */
    expect_error(fixture(NEX_GDDP), NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: thumbnail (image/png), ACCESS-CM2.historical "
                 "(application/json), CESM2-WACCM.historical (application/json)",
                 "and 6 more");
}

static void fixture_daymet_zarr(void **state)
{
    (void)state;
    const char *src = fixture(DAYMET);
    expect_error(src, NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: zarr-https (application/vnd+zarr), zarr-abfs "
                 "(application/vnd+zarr), thumbnail (image/png))", NULL);
    stac_request req = {.asset = "zarr-abfs"};
    expect_error(src, &req, FLOE_EUNSUPPORTED, "scheme \"abfs\"", "zarr-abfs");
    /* The https root, named explicitly: plain HTTP storage, and
     * xarray:open_kwargs.consolidated true noted. */
    stac_open_params p;
    req = (stac_request){.asset = "zarr-https"};
    floe_log_level level = floe_log_get_level();
    floe_log_set_level(FLOE_LOG_ERROR);
    resolve_ok(src, &req, &p);
    floe_log_set_level(level);
    assert_int_equal(p.repo.kind, STAC_STORAGE_HTTP);
    assert_string_equal(p.repo.url,
                        "https://daymeteuwest.blob.core.windows.net/daymet-zarr/daily/hi.zarr/");
    assert_int_equal(p.consolidated, 1);
    assert_true(has_note(&p, "xarray:open_kwargs.consolidated is true"));
    assert_string_equal(p.ref_origin, "default");
    stac_open_params_clear(&p);
}

static void fixture_veda_kerchunk_demo(void **state)
{
    (void)state;
    const char *src = fixture(VEDA_KERCHUNK);
    expect_error(src, NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: zarr (application/vnd+zarr), thumbnail "
                 "(image/png))", NULL);
    /* Typed as Zarr, but the href is a kerchunk JSON file. */
    stac_request req = {.asset = "zarr"};
    expect_error(src, &req, FLOE_EUNSUPPORTED, "combined_CMIP6_daily_GISS-E2-1-G_tas_kerchunk.json",
                 "not an Icechunk repository");
}

static void fixture_nwm_item_collection(void **state)
{
    (void)state;
    const char *src = fixture(NWM);
    /* 26 Items with one "data" asset each: named ITEM:KEY, 12 listed. */
    expect_error(src, NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: 20230920-short_range-conus-channel_rt-0-1:data "
                 "(application/x-netcdf), 20230921-short_range-conus-channel_rt-0-1:data",
                 "and 14 more");
    stac_request req = {.asset = "data"};
    expect_error(src, &req, FLOE_EINVAL, "asset \"data\" is in 26 Items", "ITEM:KEY");
    req = (stac_request){.asset = "20230920-short_range-conus-channel_rt-0-1:data"};
    expect_error(src, &req, FLOE_EUNSUPPORTED, "application/x-netcdf", NULL);
}

static void fixture_naip_multi_scheme(void **state)
{
    (void)state;
    const char *src = fixture(NAIP);
    expect_error(src, NULL, FLOE_ENOTFOUND, "no Icechunk asset (candidates: CO_GEOTIFF_RGB "
                 "(image/tiff; application=geotiff; profile=cloud-optimized), "
                 "GEOTIFF_AZURE_RGBIR (image/tiff; application=geotiff))", NULL);
}

/* The NAIP Item's three real schemes, living in properties (an Item), tried
 * by retyping its assets as Icechunk repositories. */
static void fixture_naip_schemes_in_properties(void **state)
{
    (void)state;
    const char *src = fixture(NAIP);
    stac_open_params p;

    /* aws-s3 with requester_pays. */
    cJSON *doc = load_json(src);
    cJSON *a = asset_of(doc, "CO_GEOTIFF_RGB");
    set_str(a, "type", "application/vnd.zarr+icechunk");
    set_str(a, "href", "s3://naip-visualization/tx/2016");
    const char *path = write_doc("naip-aws.json", doc);
    resolve_ok(path, NULL, &p);
    assert_string_equal(p.doc_kind, "Item");
    assert_string_equal(p.item_id, "m_3009743_sw_14_1_20160928_20161129");
    assert_string_equal(p.repo.scheme_key, "aws-std");
    assert_string_equal(p.repo.bucket, "naip-visualization");
    assert_string_equal(p.repo.prefix, "tx/2016/");
    assert_string_equal(p.repo.url, "s3://naip-visualization/tx/2016/");
    assert_string_equal(p.repo.region, "us-west-2");
    assert_int_equal(p.repo.requester_pays, 1);
    assert_int_equal(p.repo.anonymous, 0);
    assert_string_equal(p.repo.platform, "https://naip-visualization.s3.us-west-2.amazonaws.com");
    stac_open_params_clear(&p);

    /* custom-s3: the platform is the endpoint; the bucket is the href's. */
    doc = load_json(src);
    a = asset_of(doc, "CO_GEOTIFF_RGB");
    set_str(a, "type", "application/vnd.zarr+icechunk");
    set_str(a, "href", "s3://mybucket/tx/2016/");
    cJSON *refs = cJSON_CreateArray();
    cJSON_AddItemToArray(refs, cJSON_CreateString("minio"));
    set_item(a, "storage:refs", refs);
    path = write_doc("naip-minio.json", doc);
    resolve_ok(path, NULL, &p);
    assert_string_equal(p.repo.scheme_type, "custom-s3");
    assert_string_equal(p.repo.endpoint, "https://play.min.io:9000");
    assert_string_equal(p.repo.bucket, "mybucket");
    assert_string_equal(p.repo.prefix, "tx/2016/");
    assert_null(p.repo.region);
    stac_open_params_clear(&p);

    /* The same through the endpoint, path style. */
    doc = load_json(src);
    a = asset_of(doc, "CO_GEOTIFF_RGB");
    set_str(a, "type", "application/vnd.zarr+icechunk");
    set_str(a, "href", "https://play.min.io:9000/mybucket/tx/2016/");
    refs = cJSON_CreateArray();
    cJSON_AddItemToArray(refs, cJSON_CreateString("minio"));
    set_item(a, "storage:refs", refs);
    path = write_doc("naip-minio-http.json", doc);
    resolve_ok(path, NULL, &p);
    assert_int_equal(p.repo.kind, STAC_STORAGE_S3);
    assert_string_equal(p.repo.url, "s3://mybucket/tx/2016/");
    assert_string_equal(p.repo.endpoint, "https://play.min.io:9000");
    stac_open_params_clear(&p);

    /* ms-azure is named and refused. */
    doc = load_json(src);
    set_str(asset_of(doc, "GEOTIFF_AZURE_RGBIR"), "type", "application/vnd.zarr+icechunk");
    path = write_doc("naip-azure.json", doc);
    expect_error(path, NULL, FLOE_EUNSUPPORTED, "storage:schemes.az-wus2-ar has type \"ms-azure\"",
                 "GEOTIFF_AZURE_RGBIR");

    /* Two refs giving different storage: ambiguous, both named. */
    doc = load_json(src);
    a = asset_of(doc, "CO_GEOTIFF_RGB");
    set_str(a, "type", "application/vnd.zarr+icechunk");
    set_str(a, "href", "s3://naip-visualization/tx/");
    refs = cJSON_CreateArray();
    cJSON_AddItemToArray(refs, cJSON_CreateString("aws-std"));
    cJSON_AddItemToArray(refs, cJSON_CreateString("minio"));
    set_item(a, "storage:refs", refs);
    path = write_doc("naip-two-refs.json", doc);
    expect_error(path, NULL, FLOE_EINVAL, "storage:refs names 2 schemes (aws-std, minio)",
                 "ambiguous");
}

static void fixture_zarr_v2_consolidated(void **state)
{
    (void)state;
    const char *src = fixture(ZARR_V2);
    expect_error(src, NULL, FLOE_ENOTFOUND,
                 "no Icechunk asset (candidates: example (application/vnd.zarr))", NULL);
    stac_request req = {.asset = "example"};
    expect_error(src, &req, FLOE_EUNSUPPORTED, "abfs://cpdata/raw/terraclimate/4000m/raster.zarr",
                 "scheme \"abfs\"");
}

/* ---- the test bed's collections --------------------------------------------- */

static void check_testbed(const char *collection, const char *repo_json)
{
    char dir[1024], path[1100], repo_path[1100];
    const char *tb = getenv("FLOE_TESTBED_DIR");
    const char *src = getenv("FLOE_SOURCE_DIR");
    if (tb)
        snprintf(dir, sizeof dir, "%s", tb);
    else
        snprintf(dir, sizeof dir, "%s/build/testbed/mini", src ? src : ".");
    snprintf(path, sizeof path, "%s/%s", dir, collection);
    snprintf(repo_path, sizeof repo_path, "%s/%s", dir, repo_json);
    if (access(path, R_OK) != 0 || access(repo_path, R_OK) != 0) {
        floe_test_skip_case("test bed %s not built (scripts/testbed build mini, or set "
                            "FLOE_TESTBED_DIR)", dir);
    }
    /* What the real Icechunk wrote: main's snapshot, the repository folder
     * (.../s3/BUCKET/PREFIX) and the container. */
    cJSON *repo = load_json(repo_path);
    const char *main_snap = cJSON_GetObjectItem(repo, "branch_main")->valuestring;
    const char *repo_dir = cJSON_GetObjectItem(repo, "repo_dir")->valuestring;
    const char *container = cJSON_GetObjectItem(repo, "container")->valuestring;
    const char *in_s3 = strstr(repo_dir, "/s3/" NLDAS_BUCKET "/");
    assert_non_null(in_s3);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/", in_s3 + strlen("/s3/" NLDAS_BUCKET "/"));

    stac_open_params p;
    resolve_ok(path, NULL, &p);
    assert_string_equal(p.asset_origin, "role latest-version");
    assert_int_equal(p.repo.kind, STAC_STORAGE_S3);
    assert_string_equal(p.repo.bucket, NLDAS_BUCKET);
    assert_string_equal(p.repo.prefix, prefix);
    assert_string_equal(p.repo.region, "us-west-2");
    assert_int_equal(p.repo.anonymous, 1);
    assert_int_equal(p.ref_kind, STAC_REF_SNAPSHOT);
    assert_string_equal(p.ref_name, main_snap);
    assert_string_equal(p.ref_origin, "icechunk:snapshot_id");
    assert_int_equal(p.zarr_format, 3);
    assert_int_equal(p.consolidated, 0);
    assert_int_equal(p.n_containers, 1);
    assert_string_equal(p.containers[0].url, container);
    assert_int_equal(p.containers[0].anonymous, 1);
    assert_string_equal(p.containers[0].region, "us-west-2");
    stac_open_params_clear(&p);
    cJSON_Delete(repo);
}

static void testbed_collection_spec2(void **state)
{
    (void)state;
    check_testbed("collection.json", "repo-v2.json");
}

static void testbed_collection_spec1(void **state)
{
    (void)state;
    check_testbed("collection-specv1.json", "repo-v1.json");
}

/* ---- hand-made documents ------------------------------------------------------ */

/* A collection shaped like the notebook's, to break one thing at a time. */
static cJSON *base_doc(void)
{
    static const char *text =
        "{\"type\": \"Collection\", \"id\": \"t\", \"stac_version\": \"1.1.0\","
        " \"storage:schemes\": {\"s3w\": {\"type\": \"aws-s3\","
        "   \"platform\": \"https://{bucket}.s3.{region}.amazonaws.com\","
        "   \"bucket\": \"nasa-waterinsight\", \"region\": \"us-west-2\", \"anonymous\": true}},"
        " \"assets\": {"
        "  \"repo\": {\"href\": \"s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/\","
        "   \"type\": \"application/vnd.zarr+icechunk\", \"roles\": [\"data\", \"latest-version\"],"
        "   \"storage:refs\": [\"s3w\"], \"vrt:hrefs\": [{\"key\": \"legacy\", \"href\": "
        "\"#/assets/legacy\"}],"
        "   \"zarr:zarr_format\": 3, \"zarr:consolidated\": false},"
        "  \"legacy\": {\"href\": \"s3://nasa-waterinsight/NLDAS3/forcing/daily/\","
        "   \"type\": \"application/x-netcdf\", \"storage:refs\": [\"s3w\"], \"roles\": [\"data\"]}"
        " }}";
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

static void handmade_base_resolves(void **state)
{
    (void)state;
    stac_open_params p;
    resolve_ok(write_doc("base.json", base_doc()), NULL, &p);
    assert_string_equal(p.repo.url, NLDAS_REPO);
    assert_string_equal(p.containers[0].url, NLDAS_CONTAINER);
    assert_string_equal(p.ref_origin, "default");
    assert_string_equal(p.ref_name, "main");
    stac_open_params_clear(&p);
}

/* The time-label hint: "floe:time_label" on the temporal dimension of
 * cube:dimensions (a Collection's, or an Item's properties'). */
static void handmade_time_label(void **state)
{
    (void)state;
    stac_open_params p;
    resolve_ok(write_doc("no-label.json", base_doc()), NULL, &p);
    assert_null(p.time_label);
    stac_open_params_clear(&p);

    cJSON *doc = base_doc();
    cJSON *dims = cJSON_Parse("{\"lat\": {\"type\": \"spatial\", \"axis\": \"y\"},"
                              " \"time\": {\"type\": \"temporal\", \"step\": \"P1D\","
                              " \"floe:time_label\": \"end\"}}");
    set_item(doc, "cube:dimensions", dims);
    resolve_ok(write_doc("label-end.json", doc), NULL, &p);
    assert_string_equal(p.time_label, "end");
    stac_open_params_clear(&p);

    /* a label on a spatial dimension is not a time label */
    doc = base_doc();
    set_item(doc, "cube:dimensions",
             cJSON_Parse("{\"lat\": {\"type\": \"spatial\", \"floe:time_label\": \"end\"}}"));
    resolve_ok(write_doc("label-spatial.json", doc), NULL, &p);
    assert_null(p.time_label);
    stac_open_params_clear(&p);

    doc = base_doc();
    set_item(doc, "cube:dimensions",
             cJSON_Parse("{\"time\": {\"type\": \"temporal\", \"floe:time_label\": 3}}"));
    expect_error(write_doc("label-number.json", doc), NULL, FLOE_EFORMAT, "cube:dimensions time",
                 "floe:time_label");
}

static void handmade_malformed_json(void **state)
{
    (void)state;
    const char *src = write_text("missing-comma.json",
                                 "{\n  \"type\": \"Collection\",\n  \"id\": \"x\"\n"
                                 "  \"assets\": {}\n}\n");
    expect_error(src, NULL, FLOE_EFORMAT, "not valid JSON at line 4, column 3", src);
    src = write_text("truncated.json", "{\"type\": \"Collection\", \"assets\": {\"a\": ");
    expect_error(src, NULL, FLOE_EFORMAT, "not valid JSON at line 1", "unexpected end");
    src = write_text("trailing.json", "{\"type\": \"Collection\"}\n\n x");
    expect_error(src, NULL, FLOE_EFORMAT, "not valid JSON at line 3, column 2", NULL);
    src = write_text("empty.json", "");
    expect_error(src, NULL, FLOE_EFORMAT, "not valid JSON at line 1", NULL);
    src = write_text("array.json", "[1, 2]");
    expect_error(src, NULL, FLOE_EFORMAT, "top level is not a JSON object", NULL);
    src = write_text("notype.json", "{\"id\": \"x\"}");
    expect_error(src, NULL, FLOE_EFORMAT, "no \"type\"", NULL);
    src = write_text("catalog.json", "{\"type\": \"Catalog\", \"id\": \"c\"}");
    expect_error(src, NULL, FLOE_EUNSUPPORTED, "Catalog", NULL);
    src = write_text("noassets.json", "{\"type\": \"Collection\", \"id\": \"c\"}");
    expect_error(src, NULL, FLOE_ENOTFOUND, "no assets", NULL);
    expect_error("/nonexistent/floe/collection.json", NULL, FLOE_ENOTFOUND,
                 "/nonexistent/floe/collection.json", NULL);
}

static void handmade_missing_scheme(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *refs = cJSON_CreateArray();
    cJSON_AddItemToArray(refs, cJSON_CreateString("nope"));
    set_item(asset_of(doc, "repo"), "storage:refs", refs);
    expect_error(write_doc("missing-scheme.json", doc), NULL, FLOE_ENOTFOUND,
                 "asset repo: storage:refs names \"nope\"", "(defined: s3w)");

    doc = base_doc();
    cJSON_DeleteItemFromObject(doc, "storage:schemes");
    expect_error(write_doc("no-schemes.json", doc), NULL, FLOE_ENOTFOUND,
                 "storage:refs names \"s3w\"", "no storage:schemes");

    doc = base_doc();
    cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "storage:schemes"), "s3w");
    set_str(s, "type", "gcs");
    expect_error(write_doc("gcs.json", doc), NULL, FLOE_EUNSUPPORTED,
                 "storage:schemes.s3w has type \"gcs\"", NULL);

    doc = base_doc();
    s = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "storage:schemes"), "s3w");
    set_str(s, "anonymous", "yes");
    expect_error(write_doc("anon-string.json", doc), NULL, FLOE_EFORMAT,
                 "storage:schemes.s3w: anonymous is not true or false", NULL);
}

static void handmade_wrong_zarr_format(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    set_item(asset_of(doc, "repo"), "zarr:zarr_format", cJSON_CreateNumber(2));
    expect_error(write_doc("zarr2.json", doc), NULL, FLOE_EFORMAT,
                 "asset repo: zarr:zarr_format is 2", "Zarr format 3");
    doc = base_doc();
    set_str(asset_of(doc, "repo"), "zarr:zarr_format", "3");
    expect_error(write_doc("zarr-str.json", doc), NULL, FLOE_EFORMAT,
                 "zarr:zarr_format is \"3\", not a number", NULL);
}

static void handmade_vrt_key_missing(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(asset_of(doc, "repo"), "vrt:hrefs"), 0);
    set_str(v, "key", "legacy-gone");
    expect_error(write_doc("vrt-missing.json", doc), NULL, FLOE_ENOTFOUND,
                 "vrt:hrefs[0].key \"legacy-gone\" names no asset", "(assets: repo, legacy)");

    doc = base_doc();
    v = cJSON_GetArrayItem(cJSON_GetObjectItem(asset_of(doc, "repo"), "vrt:hrefs"), 0);
    cJSON_DeleteItemFromObject(v, "key");
    expect_error(write_doc("vrt-nokey.json", doc), NULL, FLOE_EFORMAT,
                 "asset repo: vrt:hrefs[0] has no key", NULL);
}

static void handmade_several_containers(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *other = cJSON_Parse("{\"href\": \"s3://nasa-waterinsight/NLDAS3/forcing/hourly/\","
                               " \"storage:refs\": [\"s3w\"]}");
    cJSON_AddItemToObject(cJSON_GetObjectItem(doc, "assets"), "hourly", other);
    cJSON *vrt = cJSON_GetObjectItem(asset_of(doc, "repo"), "vrt:hrefs");
    cJSON_AddItemToArray(vrt, cJSON_Parse("{\"key\": \"hourly\"}"));
    cJSON_AddItemToArray(vrt, cJSON_Parse("{\"key\": \"legacy\"}")); /* listed twice */
    stac_open_params p;
    resolve_ok(write_doc("two-containers.json", doc), NULL, &p);
    assert_int_equal(p.n_containers, 2);
    assert_string_equal(p.containers[0].url, NLDAS_CONTAINER);
    assert_string_equal(p.containers[1].url, "s3://nasa-waterinsight/NLDAS3/forcing/hourly/");
    assert_string_equal(p.containers[1].asset_key, "hourly");
    assert_true(has_note(&p, "listed twice"));
    stac_open_params_clear(&p);
}

static void handmade_bucket_mismatch(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    set_str(asset_of(doc, "repo"), "href", "s3://other-bucket/repo/");
    expect_error(write_doc("bucket-mismatch.json", doc), NULL, FLOE_EINVAL,
                 "href bucket \"other-bucket\"", "storage:schemes.s3w.bucket \"nasa-waterinsight\"");

    /* In a container too. */
    doc = base_doc();
    set_str(asset_of(doc, "legacy"), "href", "s3://other-bucket/NLDAS3/");
    expect_error(write_doc("bucket-mismatch-container.json", doc), NULL, FLOE_EINVAL,
                 "asset legacy: href bucket \"other-bucket\"", "vrt:hrefs[0] of asset repo");

    /* An https href under the aws platform is the same place as s3://. */
    doc = base_doc();
    set_str(asset_of(doc, "repo"), "href", NLDAS_PLATFORM "/virtual-zarr-store/NLDAS-3-icechunk");
    stac_open_params p;
    resolve_ok(write_doc("aws-https.json", doc), NULL, &p);
    assert_int_equal(p.repo.kind, STAC_STORAGE_S3);
    assert_string_equal(p.repo.url, NLDAS_REPO);
    stac_open_params_clear(&p);
    doc = base_doc();
    set_str(asset_of(doc, "repo"), "href", "https://example.com/repo/");
    expect_error(write_doc("https-elsewhere.json", doc), NULL, FLOE_EINVAL,
                 "href https://example.com/repo/ is not under the platform " NLDAS_PLATFORM, NULL);
}

static void handmade_ambiguous_assets(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *copy = cJSON_Duplicate(asset_of(doc, "repo"), 1);
    cJSON_AddItemToObject(cJSON_GetObjectItem(doc, "assets"), "repo-2", copy);
    const char *src = write_doc("two-latest.json", doc);
    expect_error(src, NULL, FLOE_EINVAL, "ambiguous: 2 Icechunk assets have role latest-version",
                 "(repo, repo-2)");
    stac_request req = {.asset = "repo-2"};
    stac_open_params p;
    resolve_ok(src, &req, &p);
    assert_string_equal(p.asset_key, "repo-2");
    stac_open_params_clear(&p);

    /* Two Icechunk assets, neither the latest version. */
    doc = base_doc();
    cJSON_DeleteItemFromObject(asset_of(doc, "repo"), "roles");
    copy = cJSON_Duplicate(asset_of(doc, "repo"), 1);
    cJSON_AddItemToObject(cJSON_GetObjectItem(doc, "assets"), "repo-old", copy);
    expect_error(write_doc("two-icechunk.json", doc), NULL, FLOE_EINVAL,
                 "ambiguous: 2 Icechunk assets and none has role latest-version",
                 "(repo, repo-old)");

    /* One Icechunk asset without the role is still chosen. */
    doc = base_doc();
    cJSON_DeleteItemFromObject(asset_of(doc, "repo"), "roles");
    resolve_ok(write_doc("one-icechunk.json", doc), NULL, &p);
    assert_string_equal(p.asset_origin, "only Icechunk asset");
    stac_open_params_clear(&p);
}

static void handmade_identical_refs(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *schemes = cJSON_GetObjectItem(doc, "storage:schemes");
    cJSON_AddItemToObject(schemes, "s3w-copy",
                          cJSON_Duplicate(cJSON_GetObjectItem(schemes, "s3w"), 1));
    cJSON_AddItemToArray(cJSON_GetObjectItem(asset_of(doc, "repo"), "storage:refs"),
                         cJSON_CreateString("s3w-copy"));
    stac_open_params p;
    resolve_ok(write_doc("identical-refs.json", doc), NULL, &p);
    assert_string_equal(p.repo.scheme_key, "s3w");
    assert_true(has_note(&p, "storage:refs s3w, s3w-copy all give the same storage"));
    stac_open_params_clear(&p);

    doc = base_doc();
    schemes = cJSON_GetObjectItem(doc, "storage:schemes");
    cJSON *east = cJSON_Duplicate(cJSON_GetObjectItem(schemes, "s3w"), 1);
    set_str(east, "region", "us-east-1");
    cJSON_AddItemToObject(schemes, "s3e", east);
    cJSON_AddItemToArray(cJSON_GetObjectItem(asset_of(doc, "repo"), "storage:refs"),
                         cJSON_CreateString("s3e"));
    expect_error(write_doc("different-refs.json", doc), NULL, FLOE_EINVAL,
                 "asset repo: storage:refs names 2 schemes (s3w, s3e)", "ambiguous");
}

static void handmade_version_precedence(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *a = asset_of(doc, "repo");
    set_str(a, "icechunk:branch", "dev");
    set_str(a, "icechunk:tag", "v1");
    set_str(a, "icechunk:snapshot_id", NLDAS_SNAPSHOT);
    set_str(a, "version", OTHER_SNAPSHOT);
    const char *all = write_doc("versions-all.json", cJSON_Duplicate(doc, 1));
    stac_open_params p;
    resolve_ok(all, NULL, &p);
    assert_int_equal(p.ref_kind, STAC_REF_BRANCH);
    assert_string_equal(p.ref_name, "dev");
    assert_string_equal(p.ref_origin, "icechunk:branch");
    assert_true(has_note(&p, "icechunk:tag v1 not used"));
    assert_true(has_note(&p, "icechunk:snapshot_id " NLDAS_SNAPSHOT " not used"));
    assert_true(has_note(&p, "version " OTHER_SNAPSHOT " not used"));
    stac_open_params_clear(&p);

    cJSON_DeleteItemFromObject(a, "icechunk:branch");
    resolve_ok(write_doc("versions-tag.json", cJSON_Duplicate(doc, 1)), NULL, &p);
    assert_int_equal(p.ref_kind, STAC_REF_TAG);
    assert_string_equal(p.ref_name, "v1");
    assert_string_equal(p.ref_origin, "icechunk:tag");
    stac_open_params_clear(&p);

    cJSON_DeleteItemFromObject(a, "icechunk:tag");
    resolve_ok(write_doc("versions-snap.json", cJSON_Duplicate(doc, 1)), NULL, &p);
    assert_int_equal(p.ref_kind, STAC_REF_SNAPSHOT);
    assert_string_equal(p.ref_name, NLDAS_SNAPSHOT);
    assert_string_equal(p.ref_origin, "icechunk:snapshot_id");
    stac_open_params_clear(&p);

    cJSON_DeleteItemFromObject(a, "icechunk:snapshot_id");
    resolve_ok(write_doc("versions-version.json", cJSON_Duplicate(doc, 1)), NULL, &p);
    assert_int_equal(p.ref_kind, STAC_REF_SNAPSHOT);
    assert_string_equal(p.ref_name, OTHER_SNAPSHOT);
    assert_string_equal(p.ref_origin, "version");
    stac_open_params_clear(&p);

    /* A version that is no snapshot id can only be a tag. */
    set_str(a, "version", "1.2");
    resolve_ok(write_doc("versions-text.json", cJSON_Duplicate(doc, 1)), NULL, &p);
    assert_int_equal(p.ref_kind, STAC_REF_TAG);
    assert_string_equal(p.ref_name, "1.2");
    assert_true(has_note(&p, "not a snapshot id"));
    stac_open_params_clear(&p);

    /* A malformed icechunk:snapshot_id is an error naming the field. */
    set_str(a, "icechunk:snapshot_id", "not-a-snapshot");
    expect_error(write_doc("versions-bad.json", cJSON_Duplicate(doc, 1)), NULL, FLOE_EFORMAT,
                 "asset repo: icechunk:snapshot_id \"not-a-snapshot\"", "snapshot id");
    cJSON_DeleteItemFromObject(a, "icechunk:snapshot_id");
    set_item(a, "icechunk:branch", cJSON_CreateNumber(1));
    expect_error(write_doc("versions-type.json", cJSON_Duplicate(doc, 1)), NULL, FLOE_EFORMAT,
                 "asset repo: icechunk:branch is not a string", NULL);
    cJSON_Delete(doc);
}

static void handmade_zep8_hrefs(void **state)
{
    (void)state;
    static const struct {
        const char *href;
        stac_ref_kind kind;
        const char *name;
        const char *group;
    } ok[] = {
        {"s3://nasa-waterinsight/repo|icechunk://branch.dev/", STAC_REF_BRANCH, "dev", NULL},
        {"s3://nasa-waterinsight/repo|icechunk://snapshot." NLDAS_SNAPSHOT "/a/b|zarr3:",
         STAC_REF_SNAPSHOT, NLDAS_SNAPSHOT, "a/b"},
        {"s3://nasa-waterinsight/repo|icechunk:///grp/", STAC_REF_BRANCH, "main", "grp/"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cJSON *doc = base_doc();
        set_str(asset_of(doc, "repo"), "href", ok[i].href);
        char name[32];
        snprintf(name, sizeof name, "zep8-ok-%zu.json", i);
        stac_open_params p;
        resolve_ok(write_doc(name, doc), NULL, &p);
        assert_string_equal(p.repo.url, "s3://nasa-waterinsight/repo/");
        assert_int_equal(p.ref_kind, ok[i].kind);
        assert_string_equal(p.ref_name, ok[i].name);
        if (ok[i].group)
            assert_string_equal(p.group, ok[i].group);
        else
            assert_null(p.group);
        stac_open_params_clear(&p);
    }
    static const struct {
        const char *href;
        floe_code code;
        const char *needle;
    } bad[] = {
        {"s3://nasa-waterinsight/repo|icechunk://v5/", FLOE_EFORMAT,
         "expected icechunk://branch.NAME/"},
        {"s3://nasa-waterinsight/repo|zip:", FLOE_EUNSUPPORTED,
         "href segment \"zip:\" is not supported"},
        {"s3://nasa-waterinsight/repo|zarr2", FLOE_EFORMAT, "Zarr format 3"},
        {"s3://nasa-waterinsight/repo|icechunk://snapshot.XYZ/", FLOE_EFORMAT,
         "snapshot \"XYZ\""},
        {"|icechunk://tag.v5/", FLOE_EFORMAT, "no store URL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *doc = base_doc();
        set_str(asset_of(doc, "repo"), "href", bad[i].href);
        char name[32];
        snprintf(name, sizeof name, "zep8-bad-%zu.json", i);
        expect_error(write_doc(name, doc), NULL, bad[i].code, bad[i].needle, NULL);
    }
}

/* Hrefs relative to the document: a collection beside its repository. */
static void handmade_relative_hrefs(void **state)
{
    (void)state;
    cJSON *doc = base_doc();
    cJSON *a = asset_of(doc, "repo");
    set_str(a, "href", "./repo");
    cJSON_DeleteItemFromObject(a, "storage:refs");
    cJSON *legacy = asset_of(doc, "legacy");
    set_str(legacy, "href", "../archive/");
    cJSON_DeleteItemFromObject(legacy, "storage:refs");
    const char *src = write_doc("relative.json", doc);
    stac_open_params p;
    resolve_ok(src, NULL, &p);
    char want[256];
    snprintf(want, sizeof want, "%s/repo/", tmpdir);
    assert_int_equal(p.repo.kind, STAC_STORAGE_FILE);
    assert_string_equal(p.repo.url, want);
    assert_int_equal(p.containers[0].kind, STAC_STORAGE_FILE);
    assert_string_equal(p.containers[0].url, "/tmp/archive/");
    stac_open_params_clear(&p);
}

/* ---- stac_doc pieces ------------------------------------------------------------ */

static void href_resolution(void **state)
{
    (void)state;
    static const char *cases[][3] = {
        {"https://h.example/a/b/c.json", "./x/", "https://h.example/a/b/x/"},
        {"https://h.example/a/b/c.json?sig=1#f", "x", "https://h.example/a/b/x"},
        {"https://h.example/a/b/c.json", "../x", "https://h.example/a/x"},
        {"https://h.example/c.json", "../../x", "https://h.example/x"},
        {"s3://bkt/stac/c.json", "./repo/", "s3://bkt/stac/repo/"},
        {"https://h.example", "x", "https://h.example/x"},
        {"https://h.example?q=1", "../x", "https://h.example/x"},
        {"https://h.example/", "x", "https://h.example/x"},
        {"/d/e/c.json", "x", "/d/e/x"},
        {"/d/e/c.json", "../../../x", "/x"},
        {"c.json", "./x", "x"},
        {"../c.json", "../x", "../../x"},
        {"/d/c.json", "s3://b/k", "s3://b/k"},
        {"/d/c.json", "/abs/p", "/abs/p"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        assert_null(stac_href_resolve(cases[i][0], cases[i][1], &out));
        if (strcmp(out, cases[i][2]) != 0)
            fail_msg("%s + %s: got %s, want %s", cases[i][0], cases[i][1], out, cases[i][2]);
        free(out);
    }
}

static void source_is_document(void **state)
{
    (void)state;
    assert_true(stac_source_is_document(fixture(XPYSTAC)));
    assert_true(stac_source_is_document("https://example.com/stac/collection.json"));
    assert_true(stac_source_is_document("https://example.com/c.JSON?X-Amz-Signature=ab#x"));
    assert_true(stac_source_is_document("s3://bucket/items.geojson"));
    assert_false(stac_source_is_document(NLDAS_REPO));
    assert_false(stac_source_is_document("https://example.com/repo.icechunk/"));
    assert_false(stac_source_is_document(""));
    assert_false(stac_source_is_document(NULL));
    assert_false(stac_source_is_document(tmpdir)); /* a folder */
    assert_false(stac_source_is_document("/nonexistent/floe/repo"));
    const char *stac = write_text("collection-no-extension", "\xEF\xBB\xBF  \n {\"type\": 1}");
    assert_true(stac_source_is_document(stac));
    char url[300];
    snprintf(url, sizeof url, "file://%s", stac);
    assert_true(stac_source_is_document(url));
    assert_false(stac_source_is_document(write_text("not-json", "icechunk")));
}

static void doc_parse_kinds(void **state)
{
    (void)state;
    stac_doc *doc;
    const char *item = "{\"type\":\"Feature\",\"id\":\"i\"}";
    assert_null(stac_doc_parse(item, strlen(item), "mem", &doc));
    assert_int_equal(doc->kind, STAC_DOC_ITEM);
    assert_int_equal(stac_doc_owner_count(doc), 1);
    assert_string_equal(stac_owner_id(stac_doc_owner(doc, 0)), "i");
    stac_doc_free(&doc);
    assert_null(doc);
    /* Not NUL-terminated: only len bytes count. */
    const char text[] = "{\"type\":\"FeatureCollection\",\"features\":[{\"id\":\"a\"},{\"id\":\"b\"}]}XX";
    assert_null(stac_doc_parse(text, sizeof text - 3, "mem", &doc));
    assert_int_equal(doc->kind, STAC_DOC_ITEM_COLLECTION);
    assert_int_equal(stac_doc_owner_count(doc), 2);
    assert_string_equal(stac_owner_id(stac_doc_owner(doc, 1)), "b");
    assert_null(stac_doc_owner(doc, 2));
    stac_doc_free(&doc);
    floe_err err = stac_doc_parse("{\"a\":1}\0{", 9, "mem", &doc);
    assert_non_null(err);
    assert_non_null(strstr(floe_err_message(err), "NUL byte"));
    floe_err_free(&err);
    stac_doc_free(&doc); /* NULL: harmless */
}

/* ---- printing ------------------------------------------------------------------------ */

static void print_text_and_json(void **state)
{
    (void)state;
    stac_open_params p;
    resolve_ok(fixture(XPYSTAC), NULL, &p);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_null(inspect_print_stac(&p, 0, f));
    fclose(f);
    print_message("%s", text);
    assert_non_null(strstr(text, "asset: " NLDAS_ASSET " (application/vnd.zarr+icechunk), "
                                 "chosen by role latest-version"));
    assert_non_null(strstr(text, "repository: " NLDAS_REPO));
    assert_non_null(strstr(text, "version: snapshot " NLDAS_SNAPSHOT " (from version)"));
    assert_non_null(strstr(text, "virtual chunk container 1: " NLDAS_CONTAINER));
    assert_non_null(strstr(text, "region us-west-2, anonymous"));
    free(text);

    f = open_memstream(&text, &len);
    assert_null(inspect_print_stac(&p, 1, f));
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    cJSON *repo = cJSON_GetObjectItem(j, "repository");
    assert_string_equal(cJSON_GetObjectItem(repo, "bucket")->valuestring, NLDAS_BUCKET);
    assert_string_equal(cJSON_GetObjectItem(repo, "prefix")->valuestring, NLDAS_PREFIX);
    assert_string_equal(cJSON_GetObjectItem(repo, "region")->valuestring, "us-west-2");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(repo, "anonymous")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(repo, "endpoint")));
    cJSON *ver = cJSON_GetObjectItem(j, "version");
    assert_string_equal(cJSON_GetObjectItem(ver, "kind")->valuestring, "snapshot");
    assert_string_equal(cJSON_GetObjectItem(ver, "name")->valuestring, NLDAS_SNAPSHOT);
    assert_string_equal(cJSON_GetObjectItem(ver, "from")->valuestring, "version");
    cJSON *cs = cJSON_GetObjectItem(j, "containers");
    assert_int_equal(cJSON_GetArraySize(cs), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cs, 0), "url")->valuestring,
                        NLDAS_CONTAINER);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "consolidated")));
    cJSON_Delete(j);
    stac_open_params_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handmade_time_label),
        cmocka_unit_test(fixture_xpystac),
        cmocka_unit_test(fixture_xpystac_cli_overrides),
        cmocka_unit_test(fixture_xpystac_asset_option),
        cmocka_unit_test(fixture_reconstructed),
        cmocka_unit_test(fixture_veda_data),
        cmocka_unit_test(fixture_kerchunk_item),
        cmocka_unit_test(fixture_zep8_jsonc_is_not_json),
        cmocka_unit_test(fixture_zep8_without_comment),
        cmocka_unit_test(fixture_nex_gddp_kerchunk),
        cmocka_unit_test(fixture_daymet_zarr),
        cmocka_unit_test(fixture_veda_kerchunk_demo),
        cmocka_unit_test(fixture_nwm_item_collection),
        cmocka_unit_test(fixture_naip_multi_scheme),
        cmocka_unit_test(fixture_naip_schemes_in_properties),
        cmocka_unit_test(fixture_zarr_v2_consolidated),
        cmocka_unit_test(testbed_collection_spec2),
        cmocka_unit_test(testbed_collection_spec1),
        cmocka_unit_test(handmade_base_resolves),
        cmocka_unit_test(handmade_malformed_json),
        cmocka_unit_test(handmade_missing_scheme),
        cmocka_unit_test(handmade_wrong_zarr_format),
        cmocka_unit_test(handmade_vrt_key_missing),
        cmocka_unit_test(handmade_several_containers),
        cmocka_unit_test(handmade_bucket_mismatch),
        cmocka_unit_test(handmade_ambiguous_assets),
        cmocka_unit_test(handmade_identical_refs),
        cmocka_unit_test(handmade_version_precedence),
        cmocka_unit_test(handmade_zep8_hrefs),
        cmocka_unit_test(handmade_relative_hrefs),
        cmocka_unit_test(href_resolution),
        cmocka_unit_test(source_is_document),
        cmocka_unit_test(doc_parse_kinds),
        cmocka_unit_test(print_text_and_json),
    };
    return floe_test_status(cmocka_run_group_tests(tests, setup, teardown));
}
