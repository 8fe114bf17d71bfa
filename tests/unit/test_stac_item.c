/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the derived STAC Item (stac/stac_item*.c).
 *
 * Independent references only: SHA-256 against the FIPS 180-2 example
 * vectors and against the system's sha256sum (popen); the Item against the
 * offline STAC schemas through ../shared/tools/stac-validate (skipped when
 * absent), against stat() for file:size, against the lat_bnds/lon_bnds
 * that netCDF reads back from the file for the bbox, and against values
 * typed in here (times, transform, links). The NetCDF files are written
 * with io/cf_grid_output, exactly as `floe extract` writes them. */
#include "common/floe_error.h"
#include "out/grid_output.h"
#include "dataset/dataset.h"
#include "out/item/item.h"
#include "out/item/checksum.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "floe_test.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNAPSHOT "YTNGFY4WY9189GEH1FNG"
#define REPO "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/"
#define COMMAND "floe extract collection.json -v Rainf --bbox -71,42,-70.7,42.2 -o out.nc"

/* ---- helpers --------------------------------------------------------------- */

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/floe-test-item-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (getenv("FLOE_KEEP_TMP")) /* to look at the Items after a failure */
        return 0;
    return system(cmd) == 0 ? 0 : -1;
}

static floe_code code_of(floe_err err)
{
    assert_non_null(err);
    floe_code c = floe_err_code(err);
    floe_err_free(&err);
    return c;
}

static const char *in_tmp(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", tmpdir, name);
    return p;
}

static char *slurp(const char *path)
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
    return s;
}

static cJSON *load_json(const char *path)
{
    char *text = slurp(path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

/* Member lookup by a dotted path ("properties.proj:code"). */
static cJSON *at(const cJSON *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = j;
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    return (cJSON *)cur;
}

static const char *str_at(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    if (!cJSON_IsString(v)) {
        print_error("%s is not a string\n", path);
        fail();
    }
    return v->valuestring;
}

static double num_at(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    if (!cJSON_IsNumber(v)) {
        print_error("%s is not a number\n", path);
        fail();
    }
    return v->valuedouble;
}

static const cJSON *link_rel(const cJSON *item, const char *rel)
{
    const cJSON *l;
    const cJSON *found = NULL;
    int n = 0;
    cJSON_ArrayForEach(l, at(item, "links"))
    {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(l, "rel");
        if (cJSON_IsString(r) && strcmp(r->valuestring, rel) == 0)
            found = l, n++;
    }
    return n == 1 ? found : NULL;
}

/* The hex SHA-256 of a file as sha256sum computes it. */
static void sha256sum(const char *path, char hex[65])
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[1024] = "";
    char *got = fgets(line, sizeof line, p);
    int status = pclose(p);
    if (!got || status != 0 || strlen(line) < 64) {
        floe_test_skip_case("sha256sum is not available");
    }
    memcpy(hex, line, 64);
    hex[64] = '\0';
}

/* Run stac-validate --lint on path: 1 when valid and without LINT notes.
 * Skips the test when the validator (or python3) is not there. */
static int stac_valid(const char *path)
{
    char validator[1024];
    const char *shared = getenv("FLOE_SHARED_DIR");
    const char *src = getenv("FLOE_SOURCE_DIR");
    if (shared)
        snprintf(validator, sizeof validator, "%s/tools/stac-validate", shared);
    else
        snprintf(validator, sizeof validator, "%s/../shared/tools/stac-validate", src ? src : ".");
    if (access(validator, R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
        floe_test_skip_case("%s not found: stac-validate not run (set FLOE_SHARED_DIR)", validator);
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --lint '%s' 2>&1", validator, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !strstr(out, "LINT");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && strstr(out, "jsonschema")) {
        floe_test_skip_case("stac-validate cannot run (%s)", out);
    }
    if (!ok)
        print_error("stac-validate %s:\n%s\n", path, out);
    return ok;
}

/* Leftover temporaries ("*.floe-tmp-*") in the test folder. */
static int temporaries(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".floe-tmp-") != NULL;
    closedir(d);
    return n;
}

/* ---- SHA-256 ----------------------------------------------------------------- */

static void hash_hex(const void *data, size_t n, char hex[65])
{
    stac_sha256 h;
    uint8_t d[STAC_SHA256_BYTES];
    stac_sha256_init(&h);
    stac_sha256_update(&h, data, n);
    stac_sha256_final(&h, d);
    stac_hex(d, sizeof d, hex);
}

/* FIPS 180-2, appendix B.1, B.2, B.3; the empty message from NIST's
 * SHA256ShortMsg test vectors (Len = 0). */
static void sha256_fips_vectors(void **state)
{
    (void)state;
    char hex[65];
    hash_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(m448) * 8, 448);
    hash_hex(m448, strlen(m448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    hash_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /* one million 'a': at once, and in uneven pieces across block edges */
    const char *million = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    hash_hex(a, 1000000, hex);
    assert_string_equal(hex, million);
    stac_sha256 h;
    stac_sha256_init(&h);
    static const size_t pieces[] = {1, 63, 64, 65, 7, 128, 55, 56, 0, 1000};
    size_t done = 0;
    for (size_t i = 0; done < 1000000; i++) {
        size_t n = pieces[i % (sizeof pieces / sizeof *pieces)];
        if (n > 1000000 - done)
            n = 1000000 - done;
        stac_sha256_update(&h, a + done, n);
        done += n;
    }
    uint8_t d[STAC_SHA256_BYTES];
    stac_sha256_final(&h, d);
    assert_string_equal(stac_hex(d, sizeof d, hex), million);
    free(a);

    /* final() leaves the context ready for the next message */
    stac_sha256_update(&h, "abc", 3);
    stac_sha256_final(&h, d);
    assert_string_equal(stac_hex(d, sizeof d, hex),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Files of lengths around the padding edges (55/56/64 bytes) and past the
 * 1 MiB read size, against sha256sum and stat(). */
static void file_multihash_matches_sha256sum(void **state)
{
    (void)state;
    static const size_t lengths[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 4096, (1 << 20) + 3};
    uint64_t x = 88172645463325252ULL; /* xorshift64: bytes with no pattern */
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        const char *path = in_tmp("blob.bin");
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        for (size_t k = 0; k < lengths[i]; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            fputc((int)(x & 0xff), f);
        }
        fclose(f);
        uint64_t size = 99;
        char mh[STAC_MULTIHASH_SIZE], want[65];
        expect_ok(stac_file_multihash(path, &size, mh));
        sha256sum(path, want);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(size, (uint64_t)st.st_size);
        assert_int_equal(strlen(mh), 68);
        assert_memory_equal(mh, "1220", 4);
        assert_string_equal(mh + 4, want);
    }
    uint64_t size;
    char mh[STAC_MULTIHASH_SIZE];
    assert_int_equal(code_of(stac_file_multihash(in_tmp("missing.nc"), &size, mh)), FLOE_EIO);
}

/* ---- a small CF grid file, written as `floe extract` writes it ------------------ */

typedef struct grid {
    cJSON *tattr, *yattr, *xattr, *vattr;
    floe_array t, y, x, v;
    const floe_array *vars[1];
    double tv[4], yv[8], xv[8];
    floe_provenance prov;
    cf_grid_spec spec;
} grid;

static void array(floe_array *a, const char *name, int ndim, const uint64_t *shape, cJSON *attrs)
{
    memset(a, 0, sizeof *a);
    a->name = name;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        a->shape[i] = a->chunk_shape[i] = shape[i];
    a->dtype = FLOE_DT_FLOAT32;
    a->itemsize = 4;
    a->fill_value = -9999;
    a->attributes = attrs;
}

/* nt steps of days since 2001-01-01 (values tv), ny x nx cells of 0.1 deg
 * from (lat0, lon0), one variable Rainf; provenance of the test bed's
 * collection. Writes path and fills g. */
static void make_grid(grid *g, const char *path, size_t nt, const double *tv, size_t ny,
                      double lat0, size_t nx, double lon0, double step, const char *calendar)
{
    memset(g, 0, sizeof *g);
    char tattr[256];
    snprintf(tattr, sizeof tattr,
             "{\"units\": \"days since 2001-01-01 00:00:00\", \"long_name\": \"time\"%s%s%s}",
             calendar ? ", \"calendar\": \"" : "", calendar ? calendar : "", calendar ? "\"" : "");
    g->tattr = cJSON_Parse(tattr);
    g->yattr = cJSON_Parse("{\"units\": \"degrees_north\", \"long_name\": \"latitude\"}");
    g->xattr = cJSON_Parse("{\"units\": \"degrees_east\", \"long_name\": \"longitude\"}");
    g->vattr = cJSON_Parse("{\"units\": \"kg m-2 s-1\", \"long_name\": \"Total precipitation "
                           "rate\", \"missing_value\": -9999.0}");
    assert_true(g->tattr && g->yattr && g->xattr && g->vattr);
    uint64_t s3[3] = {nt, ny, nx};
    array(&g->t, "time", 1, &s3[0], g->tattr);
    g->t.dtype = FLOE_DT_FLOAT64, g->t.itemsize = 8;
    array(&g->y, "lat", 1, &s3[1], g->yattr);
    array(&g->x, "lon", 1, &s3[2], g->xattr);
    array(&g->v, "Rainf", 3, s3, g->vattr);
    static const char *const dn[3] = {"time", "lat", "lon"};
    memcpy(g->v.dim_names, dn, sizeof dn);
    g->vars[0] = &g->v;
    for (size_t i = 0; i < nt; i++)
        g->tv[i] = tv[i];
    /* centres as the source stores them: float32 */
    for (size_t i = 0; i < ny; i++)
        g->yv[i] = (double)(float)(lat0 + step * (double)i);
    for (size_t i = 0; i < nx; i++)
        g->xv[i] = (double)(float)(lon0 + step * (double)i);
    g->prov = (floe_provenance){
        .source = in_tmp("collection.json"),
        .collection_id = "nldas-3",
        .asset = "nldas-3@" SNAPSHOT,
        .repository = REPO,
        .spec_version = 2,
        .snapshot_id = SNAPSHOT,
        .ref_description = "tag v2001-01 (--tag)",
        .snapshot_message = "2001-01",
        .snapshot_time = "2026-11-20T10:00:00Z",
    };
    g->spec = (cf_grid_spec){
        .path = path, .command = COMMAND, .provenance = &g->prov,
        .time = &g->t, .lat = &g->y, .lon = &g->x,
        .time_values = g->tv, .lat_values = g->yv, .lon_values = g->xv,
        .nt = nt, .ny = ny, .nx = nx, .lat_step = step, .lon_step = step,
        .vars = g->vars, .nvars = 1,
    };
    cf_grid_output *o;
    expect_ok(cf_grid_output_create(&g->spec, &o));
    float values[64];
    for (size_t t = 0; t < nt; t++) {
        for (size_t k = 0; k < ny * nx; k++)
            values[k] = k % 3 ? (float)(t * 100 + k) : -9999.0f;
        expect_ok(cf_grid_output_put_step(o, 0, t, values));
    }
    expect_ok(cf_grid_output_commit(&o));
}

static void free_grid(grid *g)
{
    cJSON_Delete(g->tattr);
    cJSON_Delete(g->yattr);
    cJSON_Delete(g->xattr);
    cJSON_Delete(g->vattr);
}

/* min and max of a float variable of the file, read by netCDF */
static void file_range(const char *path, const char *var, float *lo, float *hi)
{
    int nc, id, ndims, dims[4];
    assert_int_equal(nc_open(path, NC_NOWRITE, &nc), NC_NOERR);
    assert_int_equal(nc_inq_varid(nc, var, &id), NC_NOERR);
    assert_int_equal(nc_inq_varndims(nc, id, &ndims), NC_NOERR);
    assert_int_equal(nc_inq_vardimid(nc, id, dims), NC_NOERR);
    size_t n = 1;
    for (int i = 0; i < ndims; i++) {
        size_t len;
        assert_int_equal(nc_inq_dimlen(nc, dims[i], &len), NC_NOERR);
        n *= len;
    }
    float v[64];
    assert_true(n <= 64);
    assert_int_equal(nc_get_var_float(nc, id, v), NC_NOERR);
    nc_close(nc);
    *lo = *hi = v[0];
    for (size_t i = 1; i < n; i++)
        *lo = fminf(*lo, v[i]), *hi = fmaxf(*hi, v[i]);
}

/* ---- the Item of a grid file ------------------------------------------------------- */

static void grid_item_full_check(void **state)
{
    (void)state;
    FILE *c = fopen(in_tmp("collection.json"), "w"); /* its path and id matter */
    assert_non_null(c);
    fputs("{\"type\": \"Collection\", \"id\": \"my-subsets\"}\n", c);
    fclose(c);
    const char *nc = in_tmp("out.nc");
    const double tv[2] = {15.5, 16.5}; /* 2001-01-16T12:00, 2001-01-17T12:00 */
    grid g;
    /* 3 x 4 cells, centres 42.05..42.25 N, 71.05..70.75 W */
    make_grid(&g, nc, 2, tv, 3, 42.05, 4, -71.05, 0.1, NULL);
    expect_ok(stac_item_write_grid(&g.spec, NULL, "extract", STAC_ITEM_SOURCE_COLLECTION));
    const char *item_path = in_tmp("out.json");
    assert_int_equal(access(item_path, R_OK), 0);
    assert_int_equal(temporaries(), 0);
    assert_true(stac_valid(item_path));
    cJSON *j = load_json(item_path);

    /* file extension: size from stat, checksum from sha256sum */
    char hex[65], want[80];
    sha256sum(nc, hex);
    struct stat st;
    assert_int_equal(stat(nc, &st), 0);
    assert_true(num_at(j, "assets.data.file:size") == (double)st.st_size);
    snprintf(want, sizeof want, "1220%s", hex);
    assert_string_equal(str_at(j, "assets.data.file:checksum"), want);
    snprintf(want, sizeof want, "nldas-3-extract-%.12s", hex);
    assert_string_equal(str_at(j, "id"), want);
    assert_string_equal(str_at(j, "assets.data.href"), "./out.nc");
    assert_string_equal(str_at(j, "assets.data.type"), "application/netcdf");
    assert_string_equal(cJSON_GetArrayItem(at(j, "assets.data.roles"), 0)->valuestring, "data");
    assert_string_equal(str_at(j, "stac_version"), "1.1.0");

    /* bbox: the cell edges the file holds (lat_bnds, lon_bnds) */
    float lo, hi;
    const cJSON *bbox = at(j, "bbox");
    assert_int_equal(cJSON_GetArraySize(bbox), 4);
    file_range(nc, "lon_bnds", &lo, &hi);
    assert_true((float)cJSON_GetArrayItem(bbox, 0)->valuedouble == lo);
    assert_true((float)cJSON_GetArrayItem(bbox, 2)->valuedouble == hi);
    file_range(nc, "lat_bnds", &lo, &hi);
    assert_true((float)cJSON_GetArrayItem(bbox, 1)->valuedouble == lo);
    assert_true((float)cJSON_GetArrayItem(bbox, 3)->valuedouble == hi);
    /* ... as the shortest decimals of those float32 values (numpy's repr of
     * lon_bnds/lat_bnds: the first edge, -71.05f - 0.05000305f, is stored
     * as -71.100006) */
    assert_true(cJSON_GetArrayItem(bbox, 0)->valuedouble == -71.100006);
    assert_true(cJSON_GetArrayItem(bbox, 1)->valuedouble == 42.0);
    assert_true(cJSON_GetArrayItem(bbox, 2)->valuedouble == -70.7);
    assert_true(cJSON_GetArrayItem(bbox, 3)->valuedouble == 42.3);
    assert_string_equal(str_at(j, "geometry.type"), "Polygon");
    const cJSON *ring = cJSON_GetArrayItem(at(j, "geometry.coordinates"), 0);
    assert_int_equal(cJSON_GetArraySize(ring), 5);
    assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(ring, 2), 0)->valuedouble == -70.7);
    assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(ring, 2), 1)->valuedouble == 42.3);

    /* time: two steps, a day apart */
    assert_true(cJSON_IsNull(at(j, "properties.datetime")));
    assert_string_equal(str_at(j, "properties.start_datetime"), "2001-01-16T12:00:00Z");
    assert_string_equal(str_at(j, "properties.end_datetime"), "2001-01-17T12:00:00Z");
    assert_string_equal(str_at(j, "properties.cube:dimensions.time.step"), "P1D");
    assert_string_equal(str_at(j, "properties.cube:dimensions.time.type"), "temporal");

    /* datacube: spatial extents are the centres, the step 0.1 */
    assert_string_equal(str_at(j, "properties.cube:dimensions.lat.axis"), "y");
    assert_string_equal(str_at(j, "properties.cube:dimensions.lon.axis"), "x");
    assert_true(num_at(j, "properties.cube:dimensions.lat.step") == 0.1);
    const cJSON *lat_extent = at(j, "properties.cube:dimensions.lat.extent");
    const cJSON *lon_extent = at(j, "properties.cube:dimensions.lon.extent");
    assert_true(cJSON_GetArrayItem(lat_extent, 0)->valuedouble == 42.05);
    assert_true(cJSON_GetArrayItem(lon_extent, 1)->valuedouble == -70.75);
    const cJSON *rainf = at(j, "properties.cube:variables.Rainf");
    assert_non_null(rainf);
    assert_int_equal(cJSON_GetObjectItem(at(j, "properties.cube:variables"), "lat") == NULL, 1);
    assert_string_equal(str_at(rainf, "unit"), "kg m-2 s-1");
    assert_string_equal(str_at(rainf, "description"), "Total precipitation rate");
    assert_string_equal(str_at(rainf, "data_type"), "float32");
    assert_true(num_at(rainf, "nodata") == -9999);
    assert_int_equal(cJSON_GetArraySize(at(rainf, "dimensions")), 3);
    assert_string_equal(cJSON_GetArrayItem(at(rainf, "dimensions"), 1)->valuestring, "lat");

    /* projection */
    assert_string_equal(str_at(j, "properties.proj:code"), "EPSG:4326");
    const cJSON *shape = at(j, "properties.proj:shape");
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 3);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 4);
    const double transform[6] = {0.1, 0, -71.100006, 0, 0.1, 42.0};
    const cJSON *tr = at(j, "properties.proj:transform");
    assert_int_equal(cJSON_GetArraySize(tr), 6);
    for (int i = 0; i < 6; i++)
        assert_true(cJSON_GetArrayItem(tr, i)->valuedouble == transform[i]);

    /* processing and version */
    assert_string_equal(str_at(j, "properties.processing:level"), "L4");
    assert_string_equal(str_at(j, "properties.processing:expression.expression"), COMMAND);
    assert_string_equal(str_at(j, "properties.version"), SNAPSHOT);
    char ncv[32];
    snprintf(ncv, sizeof ncv, "%s", nc_inq_libvers());
    ncv[strcspn(ncv, " ")] = '\0';
    assert_string_equal(str_at(j, "properties.processing:software.netCDF"), ncv);
    assert_non_null(at(j, "properties.processing:software.floe"));
    assert_non_null(at(j, "properties.processing:software.HDF5"));
    const char *lineage = str_at(j, "properties.processing:lineage");
    assert_non_null(strstr(lineage, "floe extract of Rainf over W,S,E,N -71.100006,42,-70.7,42.3"));
    assert_non_null(strstr(lineage, "2001-01-16T12:00:00Z to 2001-01-17T12:00:00Z"));
    assert_non_null(strstr(lineage, "snapshot " SNAPSHOT " (tag v2001-01 (--tag)"));
    assert_non_null(strstr(lineage, REPO " (spec 2)"));
    assert_non_null(strstr(lineage, "STAC Collection nldas-3 (asset nldas-3@" SNAPSHOT ")"));
    const char *pdt = str_at(j, "properties.processing:datetime");
    assert_int_equal(strlen(pdt), 20);
    assert_int_equal(pdt[19], 'Z');

    /* links: the source collection beside the Item is derived_from,
     * relative; no collection of the Item's own unless one is given; self */
    char href[600];
    snprintf(href, sizeof href, "file://%s/out.json", tmpdir);
    assert_null(at(j, "collection"));
    assert_null(link_rel(j, "collection"));
    assert_non_null(link_rel(j, "derived_from"));
    assert_string_equal(str_at(link_rel(j, "derived_from"), "href"), "./collection.json");
    assert_string_equal(str_at(link_rel(j, "self"), "href"), href);
    assert_non_null(link_rel(j, "via"));
    assert_string_equal(str_at(link_rel(j, "via"), "href"), REPO "#snapshot=" SNAPSHOT);

    /* a second write replaces the Item whole, atomically */
    const double tv2[1] = {15.5};
    grid g2;
    make_grid(&g2, nc, 1, tv2, 3, 42.05, 4, -71.05, 0.1, NULL);
    expect_ok(stac_item_write_grid(&g2.spec, item_path, "extract", STAC_ITEM_SOURCE_COLLECTION));
    cJSON *j2 = load_json(item_path);
    assert_string_equal(str_at(j2, "properties.datetime"), "2001-01-16T12:00:00Z");
    assert_null(at(j2, "properties.start_datetime"));
    assert_true(cJSON_IsNull(at(j2, "properties.cube:dimensions.time.step")));
    assert_true(stac_valid(item_path));
    assert_int_equal(temporaries(), 0);
    cJSON_Delete(j2);
    free_grid(&g2);
    cJSON_Delete(j);
    free_grid(&g);
}

/* A repository as SOURCE: no collection link, derived_from = via. Monthly
 * steps: no step. Item written elsewhere than the data: file:// href. */
static void grid_item_from_repository(void **state)
{
    (void)state;
    const char *nc = in_tmp("monthly.nc");
    const double tv[3] = {0, 31, 59}; /* 2001-01-01, 02-01, 03-01 */
    grid g;
    make_grid(&g, nc, 3, tv, 2, 25.05, 2, -124.95, 0.1, "standard");
    g.prov.source = "/data/NLDAS-3 icechunk/";
    g.prov.repository = "/data/NLDAS-3 icechunk/";
    g.prov.collection_id = NULL;
    g.prov.asset = NULL;
    assert_int_equal(mkdir(in_tmp("items"), 0755), 0);
    const char *item_path = in_tmp("items/monthly item.json");
    expect_ok(stac_item_write_grid(&g.spec, item_path, "extract", STAC_ITEM_SOURCE_REPOSITORY));
    assert_true(stac_valid(item_path));
    cJSON *j = load_json(item_path);
    assert_null(at(j, "collection"));
    assert_null(link_rel(j, "collection"));
    const char *via = "file:///data/NLDAS-3%20icechunk/#snapshot=" SNAPSHOT;
    assert_string_equal(str_at(link_rel(j, "via"), "href"), via);
    assert_string_equal(str_at(link_rel(j, "derived_from"), "href"), via);
    char href[600];
    snprintf(href, sizeof href, "file://%s/monthly.nc", tmpdir);
    assert_string_equal(str_at(j, "assets.data.href"), href);
    assert_string_equal(str_at(j, "properties.start_datetime"), "2001-01-01T00:00:00Z");
    assert_string_equal(str_at(j, "properties.end_datetime"), "2001-03-01T00:00:00Z");
    assert_true(cJSON_IsNull(at(j, "properties.cube:dimensions.time.step")));
    char hex[65], id[64];
    sha256sum(nc, hex);
    snprintf(id, sizeof id, "NLDAS-3-icechunk-extract-%.12s", hex);
    assert_string_equal(str_at(j, "id"), id);
    assert_non_null(strstr(str_at(j, "properties.processing:lineage"),
                           "of Icechunk repository /data/NLDAS-3 icechunk/ (spec 2)"));
    assert_null(strstr(str_at(j, "properties.processing:lineage"), "through"));
    cJSON_Delete(j);
    free_grid(&g);
}

/* An Item as SOURCE: derived_from is the Item, no collection link. A
 * 0..360 grid across 180 E: bbox W > E and a MultiPolygon. 360_day: Feb 30
 * becomes Feb 28. One longitude: the source step gives the edges. */
static void grid_item_antimeridian_and_360_day(void **state)
{
    (void)state;
    const char *nc = in_tmp("pacific.nc");
    const double tv[1] = {59}; /* 360_day: day 59 of 2001 is 02-30 */
    grid g;
    make_grid(&g, nc, 1, tv, 2, -10.5, 3, 179.5, 1.0, "360_day");
    expect_ok(stac_item_write_grid(&g.spec, NULL, "extract", STAC_ITEM_SOURCE_ITEM));
    const char *item_path = in_tmp("pacific.json");
    assert_true(stac_valid(item_path));
    cJSON *j = load_json(item_path);
    const cJSON *bbox = at(j, "bbox");
    /* edges 179..182 E = 179 E .. 178 W */
    assert_true(cJSON_GetArrayItem(bbox, 0)->valuedouble == 179);
    assert_true(cJSON_GetArrayItem(bbox, 1)->valuedouble == -11);
    assert_true(cJSON_GetArrayItem(bbox, 2)->valuedouble == -178);
    assert_true(cJSON_GetArrayItem(bbox, 3)->valuedouble == -9);
    assert_string_equal(str_at(j, "geometry.type"), "MultiPolygon");
    assert_int_equal(cJSON_GetArraySize(at(j, "geometry.coordinates")), 2);
    assert_string_equal(str_at(j, "properties.datetime"), "2001-02-28T00:00:00Z");
    assert_null(at(j, "collection"));
    assert_null(link_rel(j, "collection"));
    assert_string_equal(str_at(link_rel(j, "derived_from"), "type"), "application/geo+json");
    assert_non_null(strstr(str_at(j, "properties.processing:lineage"),
                           "through STAC Item of collection nldas-3"));
    cJSON_Delete(j);
    free_grid(&g);

    /* one column: the source step (0.25) makes the edges */
    const char *nc1 = in_tmp("column.nc");
    make_grid(&g, nc1, 1, tv, 2, 40.125, 1, -70.125, 0.25, NULL);
    expect_ok(stac_item_write_grid(&g.spec, NULL, "extract", STAC_ITEM_SOURCE_COLLECTION));
    j = load_json(in_tmp("column.json"));
    bbox = at(j, "bbox");
    assert_true(cJSON_GetArrayItem(bbox, 0)->valuedouble == -70.25);
    assert_true(cJSON_GetArrayItem(bbox, 2)->valuedouble == -70.0);
    assert_string_equal(str_at(j, "properties.datetime"), "2001-03-01T00:00:00Z");
    assert_true(stac_valid(in_tmp("column.json")));
    cJSON_Delete(j);
    free_grid(&g);
}

/* ---- the general writer: a spec built by hand ------------------------------------ */

static void hand_spec(stac_item_spec *s, const floe_provenance *prov, const char *item,
                      const char *data)
{
    static const char *const dn[2] = {"lat", "lon"};
    static stac_item_dim dims[2];
    static stac_item_var vars[1];
    dims[0] = (stac_item_dim){.name = "lat", .kind = STAC_ITEM_DIM_Y, .extent = {10, 20},
                              .step = 1};
    dims[1] = (stac_item_dim){.name = "lon", .kind = STAC_ITEM_DIM_X, .extent = {0, 5},
                              .step = NAN};
    vars[0] = (stac_item_var){.name = "Tair_mean", .dims = dn, .ndims = 2, .data_type = "float64",
                              .has_nodata = 1, .nodata = NAN};
    *s = (stac_item_spec){
        .item_path = item, .data_path = data, .operation = "stats", .prov = prov,
        .source_kind = STAC_ITEM_SOURCE_COLLECTION,
        .bbox = {-0.5, 9.5, 5.5, 20.5},
        .start_datetime = "2001-01-01T00:00:00Z", .end_datetime = "2001-12-31T00:00:00Z",
        .dims = dims, .ndims = 2, .vars = vars, .nvars = 1,
        .proj_shape = {11, 6},
    };
}

static void hand_spec_item(void **state)
{
    (void)state;
    const char *data = in_tmp("stats #1 \xc3\xa9.nc"); /* "é" in UTF-8 */
    FILE *f = fopen(data, "w");
    assert_non_null(f);
    fputs("not really NetCDF, the Item does not care\n", f);
    fclose(f);
    floe_provenance prov = {.source = "https://example.org/stac/nldas 3.json",
                            .collection_id = "nldas-3", .repository = REPO,
                            .snapshot_id = SNAPSHOT};
    stac_item_spec s;
    hand_spec(&s, &prov, in_tmp("stats.json"), data);
    s.id = "my-id";
    s.title = "Annual mean";
    s.lineage = "typed by hand";
    s.processing_level = "L3";
    s.command = "floe stats caf\xc3\xa9 \xff\xc3 x"; /* not all UTF-8 */
    expect_ok(stac_item_write(&s));
    assert_true(stac_valid(s.item_path));
    cJSON *j = load_json(s.item_path);
    assert_string_equal(str_at(j, "id"), "my-id");
    assert_string_equal(str_at(j, "properties.title"), "Annual mean");
    assert_string_equal(str_at(j, "properties.processing:lineage"), "typed by hand");
    assert_string_equal(str_at(j, "properties.processing:level"), "L3");
    assert_string_equal(str_at(j, "properties.processing:expression.expression"),
                        "floe stats caf\xc3\xa9 ?? x");
    assert_null(at(j, "properties.proj:transform"));        /* has_transform 0 */
    assert_string_equal(str_at(j, "properties.cube:variables.Tair_mean.nodata"), "nan");
    assert_true(cJSON_IsNull(at(j, "properties.cube:dimensions.lon.step")));
    assert_string_equal(str_at(j, "assets.data.href"), "./stats%20%231%20%C3%A9.nc");
    assert_null(link_rel(j, "collection"));
    assert_string_equal(str_at(link_rel(j, "derived_from"), "href"),
                        "https://example.org/stac/nldas%203.json");
    cJSON_Delete(j);

    /* --collection: an id (linked where STAC's best-practice layout keeps
     * it), a URL (its id from the path), a local file beside the Item (its
     * own id, a relative href) */
    static const char *const targets[3][3] = {
        {"subsets", "subsets", "../collection.json"},
        {"https://example.org/stac/collections/sub-2/collection.json", "sub-2",
         "https://example.org/stac/collections/sub-2/collection.json"},
        {NULL, "my-subsets", "./mine.json"},
    };
    FILE *c = fopen(in_tmp("mine.json"), "w");
    assert_non_null(c);
    fputs("{\"type\": \"Collection\", \"id\": \"my-subsets\"}\n", c);
    fclose(c);
    for (int i = 0; i < 3; i++) {
        s.collection = targets[i][0] ? targets[i][0] : in_tmp("mine.json");
        expect_ok(stac_item_write(&s));
        assert_true(stac_valid(s.item_path));
        j = load_json(s.item_path);
        assert_string_equal(str_at(j, "collection"), targets[i][1]);
        assert_string_equal(str_at(link_rel(j, "collection"), "href"), targets[i][2]);
        cJSON_Delete(j);
    }
    s.collection = in_tmp("missing.json");
    floe_err err = stac_item_write(&s);
    assert_int_equal(floe_err_code(err), FLOE_ENOTFOUND);
    floe_err_free(&err);
}

/* No Item on failure, and never a partial one. */
static void failures_leave_nothing(void **state)
{
    (void)state;
    const char *data = in_tmp("data.nc");
    FILE *f = fopen(data, "w");
    assert_non_null(f);
    fputs("data\n", f);
    fclose(f);
    floe_provenance prov = {.source = in_tmp("c.json"), .collection_id = "c",
                            .repository = REPO, .snapshot_id = SNAPSHOT};
    stac_item_spec s;

    /* a folder that does not exist */
    hand_spec(&s, &prov, in_tmp("nowhere/item.json"), data);
    assert_int_equal(code_of(stac_item_write(&s)), FLOE_EIO);
    assert_int_equal(access(in_tmp("nowhere"), F_OK), -1);

    /* a name too long for the file system: the temporary cannot be made */
    char longname[400];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    hand_spec(&s, &prov, in_tmp(longname), data);
    assert_int_equal(code_of(stac_item_write(&s)), FLOE_EIO);

    /* the rename fails (a folder is in the way): the temporary goes, the
     * folder stays */
    assert_int_equal(mkdir(in_tmp("taken.json"), 0755), 0);
    hand_spec(&s, &prov, in_tmp("taken.json"), data);
    floe_err err = stac_item_write(&s);
    char line[1024];
    assert_non_null(err);
    assert_non_null(strstr(floe_err_line(err, line, sizeof line), "taken.json"));
    floe_err_free(&err);
    struct stat st;
    assert_int_equal(stat(in_tmp("taken.json"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(temporaries(), 0);

    /* the data file is missing: nothing is written */
    hand_spec(&s, &prov, in_tmp("orphan.json"), in_tmp("missing.nc"));
    assert_int_equal(code_of(stac_item_write(&s)), FLOE_EIO);
    assert_int_equal(access(in_tmp("orphan.json"), F_OK), -1);

    /* bad specs */
    hand_spec(&s, &prov, data, data);
    assert_int_equal(code_of(stac_item_write(&s)), FLOE_EINVAL);
    hand_spec(&s, &prov, in_tmp("x.json"), data);
    s.start_datetime = NULL;
    assert_int_equal(code_of(stac_item_write(&s)), FLOE_EINVAL);
    hand_spec(&s, &prov, in_tmp("x.json"), data);
    s.bbox[2] = NAN;
    assert_int_equal(code_of(stac_item_write(&s)), FLOE_EINVAL);
    assert_int_equal(access(in_tmp("x.json"), F_OK), -1);
    assert_int_equal(temporaries(), 0);
}

static void default_paths_and_kinds(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"out.nc", "out.json"},
        {"/tmp/a.b/out.nc4", "/tmp/a.b/out.json"},
        {"dir.v1/out", "dir.v1/out.json"},
        {".hidden", ".hidden.json"},
        {"x.tar.nc", "x.tar.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *p;
        expect_ok(stac_item_default_path(cases[i][0], &p));
        assert_string_equal(p, cases[i][1]);
        free(p);
    }
    char *p = NULL;
    assert_int_equal(code_of(stac_item_default_path("x.json", &p)), FLOE_EINVAL);
    assert_int_equal(stac_item_source_kind_of("Collection"), STAC_ITEM_SOURCE_COLLECTION);
    assert_int_equal(stac_item_source_kind_of("Item"), STAC_ITEM_SOURCE_ITEM);
    assert_int_equal(stac_item_source_kind_of("ItemCollection"), STAC_ITEM_SOURCE_ITEM);
    assert_int_equal(stac_item_source_kind_of(NULL), STAC_ITEM_SOURCE_REPOSITORY);
    assert_null(p);
    assert_int_equal(code_of(stac_item_default_path("dir/", &p)), FLOE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_fips_vectors),
        cmocka_unit_test(file_multihash_matches_sha256sum),
        cmocka_unit_test(grid_item_full_check),
        cmocka_unit_test(grid_item_from_repository),
        cmocka_unit_test(grid_item_antimeridian_and_360_day),
        cmocka_unit_test(hand_spec_item),
        cmocka_unit_test(failures_leave_nothing),
        cmocka_unit_test(default_paths_and_kinds),
    };
    return floe_test_status(cmocka_run_group_tests(tests, setup, teardown));
}
