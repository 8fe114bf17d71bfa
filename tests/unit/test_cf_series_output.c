/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/cf_series_output (the NetCDF file of `floe series`)
 * and out/item/series.c (its STAC Item).
 *
 * Independent references only: the files are read back with netCDF-C
 * (dimensions, values, attributes, chunking) and compared with values
 * typed in here; the Items are checked against the offline STAC schemas
 * through ../shared/tools/stac-validate (skipped when absent) and against
 * the times, positions and edges typed in here. */
#include "common/floe_error.h"
#include "out/series_output.h"
#include "dataset/dataset.h"
#include "out/item/item.h"

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

#define COMMAND "floe series nldas.json -v Tair,Rainf --points pts.csv -o series.nc"

/* ---- helpers --------------------------------------------------------------- */

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/floe-test-series-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("FLOE_KEEP_TMP")) /* to look at the files after a failure */
        return 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The error's code; its message must name `what` (a file or a field). */
static floe_code code_naming(floe_err err, const char *what)
{
    assert_non_null(err);
    char line[1024];
    floe_err_line(err, line, sizeof line);
    if (!strstr(line, what)) {
        print_error("error \"%s\" does not name %s\n", line, what);
        floe_err_free(&err);
        fail();
    }
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

/* Entries of the test folder, "." and ".." aside. */
static int entries(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Run stac-validate --lint on path: 1 when valid and without LINT notes.
 * Skips the test when the validator (or python3 with jsonschema) is not
 * there. */
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
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && strstr(out, "jsonschema")) {
        floe_test_skip_case("stac-validate cannot run (%s)", out);
    }
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !strstr(out, "LINT");
    if (!ok)
        print_error("stac-validate %s:\n%s\n", path, out);
    return ok;
}

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

/* The item at a dotted path ("properties.cube:dimensions.time"). */
static const cJSON *at(const cJSON *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
        j = cJSON_GetObjectItemCaseSensitive(j, k);
    return j;
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

static double num_at(const cJSON *j, const char *path, int i)
{
    const cJSON *v = at(j, path);
    if (i >= 0)
        v = cJSON_GetArrayItem(v, i);
    if (!cJSON_IsNumber(v)) {
        print_error("%s[%d] is not a number\n", path, i);
        fail();
    }
    return v->valuedouble;
}

/* netCDF-C, independent of floe's writer */

#define NC_OK(call) assert_int_equal((call), NC_NOERR)

static int var_id(int nc, const char *name)
{
    int id;
    if (nc_inq_varid(nc, name, &id) != NC_NOERR) {
        print_error("variable %s not in the file\n", name);
        fail();
    }
    return id;
}

static void assert_att_text(int nc, int varid, const char *name, const char *want)
{
    size_t len;
    if (nc_inq_attlen(nc, varid, name, &len) != NC_NOERR) {
        print_error("attribute %s (variable %d) missing, wanted \"%s\"\n", name, varid, want);
        fail();
    }
    char *got = calloc(len + 1, 1);
    assert_non_null(got);
    NC_OK(nc_get_att_text(nc, varid, name, got));
    if (strcmp(got, want))
        print_error("attribute %s: \"%s\", wanted \"%s\"\n", name, got, want);
    int same = !strcmp(got, want);
    free(got);
    assert_true(same);
}

static void assert_no_att(int nc, int varid, const char *name)
{
    int r = nc_inq_att(nc, varid, name, NULL, NULL);
    if (r != NC_ENOTATT)
        print_error("attribute %s (variable %d) should not be there\n", name, varid);
    assert_int_equal(r, NC_ENOTATT);
}

static size_t dim_len(int nc, const char *name)
{
    int id;
    size_t n;
    NC_OK(nc_inq_dimid(nc, name, &id));
    NC_OK(nc_inq_dimlen(nc, id, &n));
    return n;
}

/* ---- a hand-made source ----------------------------------------------------- */

typedef struct source {
    cJSON *time_attrs, *tair_attrs, *rain_attrs, *global_attrs;
    floe_array time, tair, rain;
    floe_provenance prov;
} source;

static void make_source(source *s, const char *time_units, const char *calendar)
{
    memset(s, 0, sizeof *s);
    s->time_attrs = cJSON_CreateObject();
    cJSON_AddStringToObject(s->time_attrs, "units", time_units);
    if (calendar)
        cJSON_AddStringToObject(s->time_attrs, "calendar", calendar);
    cJSON_AddStringToObject(s->time_attrs, "long_name", "time");
    cJSON_AddStringToObject(s->time_attrs, "bounds", "time_bnds");   /* not written */
    cJSON_AddNumberToObject(s->time_attrs, "_FillValue", -1);        /* no fill on coords */
    s->tair_attrs = cJSON_CreateObject();
    cJSON_AddStringToObject(s->tair_attrs, "units", "K");
    cJSON_AddStringToObject(s->tair_attrs, "long_name", "Near-surface air temperature");
    cJSON_AddStringToObject(s->tair_attrs, "standard_name", "air_temperature");
    cJSON_AddStringToObject(s->tair_attrs, "cell_methods", "time: point");
    cJSON_AddStringToObject(s->tair_attrs, "grid_mapping", "crs");
    cJSON_AddNumberToObject(s->tair_attrs, "vmin", 180);
    cJSON_AddNumberToObject(s->tair_attrs, "vmax", 340);
    cJSON_AddNumberToObject(s->tair_attrs, "_FillValue", -9999);
    s->rain_attrs = cJSON_CreateObject();
    cJSON_AddStringToObject(s->rain_attrs, "units", "kg m-2");
    cJSON_AddStringToObject(s->rain_attrs, "long_name", "Rainfall");
    /* free text, not a CF name: left out */
    cJSON_AddStringToObject(s->rain_attrs, "standard_name", "Total rainfall");
    /* the source's global attributes */
    s->global_attrs = cJSON_CreateObject();
    cJSON_AddStringToObject(s->global_attrs, "institution", "NASA GSFC");
    cJSON_AddStringToObject(s->global_attrs, "source", "NLDAS-3 forcing");
    cJSON_AddStringToObject(s->global_attrs, "Conventions", "CF-1.6");
    cJSON_AddStringToObject(s->global_attrs, "history", "2020-01-01: created");
    s->time = (floe_array){.name = "time", .ndim = 1, .shape = {8760}, .chunk_shape = {8760},
                           .dtype = FLOE_DT_FLOAT64, .itemsize = 8, .fill_value = -1,
                           .attributes = s->time_attrs};
    s->tair = (floe_array){.name = "Tair", .ndim = 3, .shape = {8760, 100, 200},
                           .chunk_shape = {1, 100, 200}, .dtype = FLOE_DT_FLOAT32, .itemsize = 4,
                           .fill_value = -9999, .attributes = s->tair_attrs};
    s->rain = (floe_array){.name = "Rainf", .ndim = 3, .shape = {8760, 100, 200},
                           .chunk_shape = {1, 100, 200}, .dtype = FLOE_DT_FLOAT32, .itemsize = 4,
                           .fill_value = NAN, .attributes = s->rain_attrs};
    s->prov = (floe_provenance){
        .source = "/data/stac/nldas-3.json", .doc_kind = "Collection",
        .collection_id = "nldas-3", .asset = "icechunk",
        .repository = "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/",
        .spec_version = 1, .snapshot_id = "YTNGFY4WY9189GEH1FNG",
        .ref_description = "branch main", .global_attributes = s->global_attrs};
}

static void free_source(source *s)
{
    cJSON_Delete(s->time_attrs);
    cJSON_Delete(s->tair_attrs);
    cJSON_Delete(s->rain_attrs);
    cJSON_Delete(s->global_attrs);
}

/* ---- points ---------------------------------------------------------------- */

enum { PT = 5, PS = 3 };
static const double pt_hours[PT] = {24, 25, 26, 27, 28}; /* 2001-01-02T00..04 */
static const char *const pt_ids[PS] = {"boston", "worcester", "station #3 \xc3\xa9"};
static const double pt_lon[PS] = {-71.06, -71.80, -70.5}, pt_lat[PS] = {42.36, 42.26, 41.9};
static const double pt_clon[PS] = {-71.05, -71.85, -70.45}, pt_clat[PS] = {42.35, 42.25, 41.95};

static void points_spec(cf_series_spec *spec, source *src, const floe_array **vars,
                        const char *path)
{
    vars[0] = &src->tair, vars[1] = &src->rain;
    *spec = (cf_series_spec){
        .path = path, .command = COMMAND, .provenance = &src->prov, .time = &src->time,
        .time_values = pt_hours, .nt = PT, .vars = vars, .nvars = 2,
        .nstations = PS, .station_ids = pt_ids, .station_lon = pt_lon, .station_lat = pt_lat,
        .cell_lon = pt_clon, .cell_lat = pt_clat, .method = "nearest",
    };
}

/* value of output v at (t, s) */
static float pt_value(size_t v, size_t t, size_t s)
{
    return (float)(v * 1000 + t * 10 + s) + 0.25f;
}

static void points_file(void **state)
{
    (void)state;
    source src;
    make_source(&src, "hours since 2001-01-01 00:00:00", "standard");
    const floe_array *vars[2];
    cf_series_spec spec;
    const char *path = in_tmp("points.nc");
    points_spec(&spec, &src, vars, path);
    cf_series_output *out = NULL;
    expect_ok(cf_series_output_create(&spec, &out));
    /* in two pieces of steps, as ranks deliver them */
    float vals[PT * PS];
    for (size_t v = 0; v < 2; v++) {
        for (size_t t = 0; t < PT; t++)
            for (size_t s = 0; s < PS; s++)
                vals[t * PS + s] = pt_value(v, t, s);
        expect_ok(cf_series_output_put(out, v, 0, 2, vals));
        expect_ok(cf_series_output_put(out, v, 2, PT - 2, vals + 2 * PS));
    }
    assert_false(exists(path)); /* only the temporary until commit */
    assert_int_equal(entries(), 1);
    assert_int_equal(code_naming(cf_series_output_put(out, 0, 3, 3, vals), path), FLOE_EINVAL);
    assert_int_equal(code_naming(cf_series_output_put(out, 2, 0, 1, vals), path), FLOE_EINVAL);
    expect_ok(cf_series_output_commit(&out));
    assert_null(out);
    assert_true(exists(path));
    assert_int_equal(entries(), 1); /* the final file only: no temporary left */

    int nc;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    int fmt;
    NC_OK(nc_inq_format(nc, &fmt));
    assert_int_equal(fmt, NC_FORMAT_NETCDF4);
    assert_int_equal(dim_len(nc, "time"), PT);
    assert_int_equal(dim_len(nc, "station"), PS);
    assert_att_text(nc, NC_GLOBAL, "Conventions", "CF-1.8");
    assert_att_text(nc, NC_GLOBAL, "featureType", "timeSeries");
    assert_att_text(nc, NC_GLOBAL, "floe_command", COMMAND);
    assert_att_text(nc, NC_GLOBAL, "floe_collection", "nldas-3");
    assert_att_text(nc, NC_GLOBAL, "floe_snapshot_id", "YTNGFY4WY9189GEH1FNG");
    /* the source's own global attributes; floe's conventions, its
     * history line first; the document given as floe_source */
    assert_att_text(nc, NC_GLOBAL, "source", "NLDAS-3 forcing");
    assert_att_text(nc, NC_GLOBAL, "floe_source", "/data/stac/nldas-3.json");
    assert_att_text(nc, NC_GLOBAL, "institution", "NASA GSFC");
    assert_att_text(nc, NC_GLOBAL, "Conventions", "CF-1.8");
    {
        size_t hl;
        NC_OK(nc_inq_attlen(nc, NC_GLOBAL, "history", &hl));
        char hist[1024] = "";
        assert_true(hl < sizeof hist);
        NC_OK(nc_get_att_text(nc, NC_GLOBAL, "history", hist));
        assert_int_equal(hist[4], '-');
        assert_int_equal(hist[19], 'Z');
        assert_memory_equal(hist + 20, ": " COMMAND "\n", strlen(COMMAND) + 3);
        assert_string_equal(hist + 20 + strlen(COMMAND) + 3, "2020-01-01: created");
    }
    assert_no_att(nc, NC_GLOBAL, "floe_region");
    /* time unlimited: series of successive ranges concatenate */
    int nunlim, unlim[4];
    NC_OK(nc_inq_unlimdims(nc, &nunlim, unlim));
    assert_int_equal(nunlim, 1);
    int tdim;
    NC_OK(nc_inq_dimid(nc, "time", &tdim));
    assert_int_equal(unlim[0], tdim);
    /* a CF standard name is kept, free text is not */
    assert_att_text(nc, var_id(nc, "Tair"), "standard_name", "air_temperature");
    assert_no_att(nc, var_id(nc, "Rainf"), "standard_name");
    assert_att_text(nc, var_id(nc, "Rainf"), "long_name", "Rainfall");

    /* time: source attributes, no fill, no dangling bounds */
    int vt = var_id(nc, "time");
    assert_att_text(nc, vt, "units", "hours since 2001-01-01 00:00:00");
    assert_att_text(nc, vt, "calendar", "standard");
    assert_att_text(nc, vt, "axis", "T");
    assert_att_text(nc, vt, "standard_name", "time");
    assert_no_att(nc, vt, "_FillValue");
    assert_no_att(nc, vt, "bounds");
    double tv[PT];
    NC_OK(nc_get_var_double(nc, vt, tv));
    for (size_t t = 0; t < PT; t++)
        assert_true(tv[t] == pt_hours[t]);

    /* station ids: the DSG instance variable */
    int vs = var_id(nc, "station_id");
    nc_type type;
    NC_OK(nc_inq_vartype(nc, vs, &type));
    assert_int_equal(type, NC_STRING);
    assert_att_text(nc, vs, "cf_role", "timeseries_id");
    char *ids[PS];
    NC_OK(nc_get_var_string(nc, vs, ids));
    for (size_t s = 0; s < PS; s++)
        assert_string_equal(ids[s], pt_ids[s]);
    NC_OK(nc_free_string(PS, ids));

    /* positions */
    const char *pos[4] = {"lat", "lon", "cell_lat", "cell_lon"};
    const double *want[4] = {pt_lat, pt_lon, pt_clat, pt_clon};
    for (int k = 0; k < 4; k++) {
        int id = var_id(nc, pos[k]);
        double got[PS];
        NC_OK(nc_get_var_double(nc, id, got));
        for (size_t s = 0; s < PS; s++)
            assert_true(got[s] == want[k][s]);
        assert_att_text(nc, id, "units", k % 2 ? "degrees_east" : "degrees_north");
        assert_no_att(nc, id, "_FillValue");
        if (k < 2)
            assert_att_text(nc, id, "standard_name", k ? "longitude" : "latitude");
        else
            assert_no_att(nc, id, "standard_name");
    }

    /* data: (time, station), values as put, attributes */
    const char *names[2] = {"Tair", "Rainf"};
    for (size_t v = 0; v < 2; v++) {
        int id = var_id(nc, names[v]);
        int ndims, dims[NC_MAX_VAR_DIMS];
        NC_OK(nc_inq_varndims(nc, id, &ndims));
        assert_int_equal(ndims, 2);
        NC_OK(nc_inq_vardimid(nc, id, dims));
        char dn[NC_MAX_NAME + 1];
        NC_OK(nc_inq_dimname(nc, dims[0], dn));
        assert_string_equal(dn, "time");
        NC_OK(nc_inq_dimname(nc, dims[1], dn));
        assert_string_equal(dn, "station");
        NC_OK(nc_inq_vartype(nc, id, &type));
        assert_int_equal(type, NC_FLOAT);
        float got[PT * PS];
        size_t start[2] = {1, 1}, count[2] = {PT - 1, PS - 1};
        NC_OK(nc_get_vara_float(nc, id, start, count, got));
        for (size_t t = 1; t < PT; t++)
            for (size_t s = 1; s < PS; s++)
                assert_true(got[(t - 1) * (PS - 1) + (s - 1)] == pt_value(v, t, s));
        assert_att_text(nc, id, "coordinates", "time lat lon station_id");
        assert_att_text(nc, id, "floe_method", "nearest");
        assert_no_att(nc, id, "vmin");
        assert_no_att(nc, id, "vmax");
        assert_no_att(nc, id, "grid_mapping"); /* no crs variable in the file */
        int storage, shuffle, deflate, level;
        size_t chunks[2];
        NC_OK(nc_inq_var_chunking(nc, id, &storage, chunks));
        assert_int_equal(storage, NC_CHUNKED);
        assert_int_equal(chunks[0], PT);
        assert_int_equal(chunks[1], PS);
        NC_OK(nc_inq_var_deflate(nc, id, &shuffle, &deflate, &level));
        assert_true(deflate && level == 1);
    }
    int vta = var_id(nc, "Tair");
    assert_att_text(nc, vta, "units", "K");
    assert_att_text(nc, vta, "standard_name", "air_temperature");
    assert_att_text(nc, vta, "cell_methods", "time: point"); /* the source's, kept */
    float fill;
    NC_OK(nc_get_att_float(nc, vta, "_FillValue", &fill));
    assert_true(fill == -9999.0f);
    int vr = var_id(nc, "Rainf");
    NC_OK(nc_get_att_float(nc, vr, "_FillValue", &fill));
    assert_true(isnan(fill));
    assert_no_att(nc, vr, "cell_methods");
    NC_OK(nc_close(nc));

    /* the Item */
    const char *item = in_tmp("points.json");
    expect_ok(stac_item_write_series(&spec, item, "series", STAC_ITEM_SOURCE_COLLECTION));
    assert_true(stac_valid(item));
    cJSON *j = load_json(item);
    assert_string_equal(str_at(j, "geometry.type"), "MultiPoint");
    const cJSON *coords = at(j, "geometry.coordinates");
    assert_int_equal(cJSON_GetArraySize(coords), PS);
    for (int s = 0; s < PS; s++) {
        assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(coords, s), 0)->valuedouble ==
                    pt_lon[s]);
        assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(coords, s), 1)->valuedouble ==
                    pt_lat[s]);
    }
    assert_true(num_at(j, "bbox", 0) == -71.80 && num_at(j, "bbox", 1) == 41.9);
    assert_true(num_at(j, "bbox", 2) == -70.5 && num_at(j, "bbox", 3) == 42.36);
    assert_true(cJSON_IsNull(at(j, "properties.datetime")));
    assert_string_equal(str_at(j, "properties.start_datetime"), "2001-01-02T00:00:00Z");
    assert_string_equal(str_at(j, "properties.end_datetime"), "2001-01-02T04:00:00Z");
    assert_string_equal(str_at(j, "properties.cube:dimensions.time.type"), "temporal");
    assert_string_equal(str_at(j, "properties.cube:dimensions.time.step"), "PT1H");
    assert_string_equal(str_at(j, "properties.cube:dimensions.station.type"), "geometry");
    const cJSON *values = at(j, "properties.cube:dimensions.station.values");
    assert_int_equal(cJSON_GetArraySize(values), PS);
    for (int s = 0; s < PS; s++)
        assert_string_equal(cJSON_GetArrayItem(values, s)->valuestring, pt_ids[s]);
    const cJSON *dims = at(j, "properties.cube:variables.Tair.dimensions");
    assert_int_equal(cJSON_GetArraySize(dims), 2);
    assert_string_equal(cJSON_GetArrayItem(dims, 0)->valuestring, "time");
    assert_string_equal(cJSON_GetArrayItem(dims, 1)->valuestring, "station");
    assert_true(num_at(j, "properties.cube:variables.Tair.nodata", -1) == -9999);
    assert_string_equal(str_at(j, "properties.cube:variables.Rainf.nodata"), "nan");
    assert_string_equal(str_at(j, "properties.proj:code"), "EPSG:4326");
    assert_null(at(j, "properties.proj:shape"));
    assert_null(at(j, "properties.proj:transform"));
    assert_non_null(strstr(str_at(j, "properties.processing:lineage"), "at 3 points"));
    /* the source collection is derived_from, not the Item's collection */
    assert_null(at(j, "collection"));
    const cJSON *sids = at(j, "properties.floe:series_ids");
    assert_int_equal(cJSON_GetArraySize(sids), PS);
    assert_string_equal(cJSON_GetArrayItem(sids, 2)->valuestring, pt_ids[2]);
    cJSON_Delete(j);
    free_source(&src);
}

/* One point, bilinear, no cell centres, a source on 0..360 longitudes. */
static void single_point(void **state)
{
    (void)state;
    source src;
    make_source(&src, "days since 2000-01-01", "360_day");
    static const double days[2] = {58, 59}; /* 360_day: 2000-02-29, 2000-02-30 */
    static const char *const id[1] = {"p1"};
    static const double lon[1] = {250.5}, lat[1] = {40.25};
    const floe_array *vars[1] = {&src.tair};
    const char *path = in_tmp("one.nc");
    cf_series_spec spec = {
        .path = path, .command = COMMAND, .provenance = &src.prov, .time = &src.time,
        .time_values = days, .nt = 2, .vars = vars, .nvars = 1, .nstations = 1,
        .station_ids = id, .station_lon = lon, .station_lat = lat, .method = "bilinear",
    };
    cf_series_output *out = NULL;
    expect_ok(cf_series_output_create(&spec, &out));
    const float vals[2] = {270.5f, -9999.0f};
    expect_ok(cf_series_output_put(out, 0, 0, 2, vals));
    expect_ok(cf_series_output_commit(&out));

    int nc, id_;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(nc_inq_varid(nc, "cell_lat", &id_), NC_ENOTVAR);
    assert_int_equal(nc_inq_varid(nc, "cell_lon", &id_), NC_ENOTVAR);
    int v = var_id(nc, "Tair");
    assert_att_text(nc, v, "floe_method", "bilinear");
    float got[2];
    NC_OK(nc_get_var_float(nc, v, got));
    assert_true(got[0] == 270.5f && got[1] == -9999.0f);
    assert_att_text(nc, var_id(nc, "time"), "calendar", "360_day");
    NC_OK(nc_close(nc));

    expect_ok(stac_item_write_series(&spec, NULL, "series", STAC_ITEM_SOURCE_COLLECTION));
    const char *item = in_tmp("one.json"); /* the default path */
    assert_true(stac_valid(item));
    cJSON *j = load_json(item);
    assert_string_equal(str_at(j, "geometry.type"), "Point");
    assert_true(num_at(j, "geometry.coordinates", 0) == -109.5);
    assert_true(num_at(j, "geometry.coordinates", 1) == 40.25);
    assert_true(num_at(j, "bbox", 0) == -109.5 && num_at(j, "bbox", 2) == -109.5);
    assert_true(num_at(j, "bbox", 1) == 40.25 && num_at(j, "bbox", 3) == 40.25);
    /* 360_day's Feb 30 written as the Gregorian month's last day: both
     * steps fall on one RFC 3339 instant, so one datetime */
    assert_string_equal(str_at(j, "properties.datetime"), "2000-02-29T00:00:00Z");
    assert_null(at(j, "properties.start_datetime"));
    cJSON_Delete(j);
    free_source(&src);
}

/* ---- region ---------------------------------------------------------------- */

static void region_file(void **state)
{
    (void)state;
    source src;
    make_source(&src, "days since 2001-01-01", NULL);
    src.time.dtype = FLOE_DT_FLOAT32; /* written as the source's type */
    static const double days[4] = {0, 1, 2, 3};
    const floe_array *vars[3] = {&src.tair, &src.tair, &src.rain};
    static const char *const names[3] = {"Tair_mean", "Tair_max", "Rainf_mean"};
    static const char *const methods[3] = {"time: point area: mean", NULL, "area: mean"};
    const char *path = in_tmp("region.nc");
    cf_series_spec spec = {
        .path = path, .command = COMMAND, .provenance = &src.prov, .time = &src.time,
        .time_values = days, .nt = 4, .vars = vars, .nvars = 3, .out_names = names,
        .cell_methods = methods, .region = "bbox -72,41,-70,43",
        .region_id = "bbox -72,41,-70,43",
        .region_edges = {-72.125, 40.875, -69.875, 43.125}, .region_cells = 12345,
    };
    cf_series_output *out = NULL;
    expect_ok(cf_series_output_create(&spec, &out));
    for (size_t v = 0; v < 3; v++) {
        float vals[4];
        for (size_t t = 0; t < 4; t++)
            vals[t] = (float)(v * 100 + t) + 0.5f;
        expect_ok(cf_series_output_put(out, v, 0, 4, vals));
    }
    expect_ok(cf_series_output_commit(&out));
    assert_int_equal(entries(), 1);

    int nc;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(dim_len(nc, "time"), 4);
    assert_int_equal(dim_len(nc, "bnds"), 2);
    int dimid;
    assert_int_equal(nc_inq_dimid(nc, "station", &dimid), NC_EBADDIM);
    assert_att_text(nc, NC_GLOBAL, "featureType", "timeSeries");
    assert_att_text(nc, NC_GLOBAL, "floe_region", "bbox -72,41,-70,43");
    long long cells;
    NC_OK(nc_get_att_longlong(nc, NC_GLOBAL, "floe_region_cells", &cells));
    assert_int_equal(cells, 12345);
    nc_type type;
    int vt = var_id(nc, "time");
    NC_OK(nc_inq_vartype(nc, vt, &type));
    assert_int_equal(type, NC_FLOAT);
    assert_no_att(nc, vt, "_FillValue");

    int vy = var_id(nc, "lat"), vx = var_id(nc, "lon");
    int ndims;
    NC_OK(nc_inq_varndims(nc, vy, &ndims));
    assert_int_equal(ndims, 0);
    double lat, lon, lat_b[2], lon_b[2];
    NC_OK(nc_get_var_double(nc, vy, &lat));
    NC_OK(nc_get_var_double(nc, vx, &lon));
    assert_true(lat == 42.0 && lon == -71.0);
    assert_att_text(nc, vy, "bounds", "lat_bnds");
    assert_att_text(nc, vx, "bounds", "lon_bnds");
    assert_att_text(nc, vy, "units", "degrees_north");
    assert_att_text(nc, vx, "standard_name", "longitude");
    assert_no_att(nc, vy, "_FillValue");
    NC_OK(nc_get_var_double(nc, var_id(nc, "lat_bnds"), lat_b));
    NC_OK(nc_get_var_double(nc, var_id(nc, "lon_bnds"), lon_b));
    assert_true(lat_b[0] == 40.875 && lat_b[1] == 43.125);
    assert_true(lon_b[0] == -72.125 && lon_b[1] == -69.875);

    for (size_t v = 0; v < 3; v++) {
        int id = var_id(nc, names[v]);
        NC_OK(nc_inq_varndims(nc, id, &ndims));
        assert_int_equal(ndims, 1);
        float got[2];
        size_t start[1] = {2}, count[1] = {2};
        NC_OK(nc_get_vara_float(nc, id, start, count, got));
        assert_true(got[0] == (float)(v * 100 + 2) + 0.5f);
        assert_true(got[1] == (float)(v * 100 + 3) + 0.5f);
        assert_att_text(nc, id, "coordinates", "lat lon region_id");
        assert_no_att(nc, id, "floe_method");
    }
    /* the caller's where given, else the source's */
    assert_att_text(nc, var_id(nc, "Tair_mean"), "cell_methods", "time: point area: mean");
    assert_att_text(nc, var_id(nc, "Tair_max"), "cell_methods", "time: point");
    assert_att_text(nc, var_id(nc, "Rainf_mean"), "cell_methods", "area: mean");
    assert_att_text(nc, var_id(nc, "Rainf_mean"), "units", "kg m-2");
    /* one feature: a scalar timeseries_id (CF 9, no instance dimension) */
    int vr = var_id(nc, "region_id");
    assert_att_text(nc, vr, "cf_role", "timeseries_id");
    NC_OK(nc_inq_varndims(nc, vr, &ndims));
    assert_int_equal(ndims, 1);
    assert_int_equal(dim_len(nc, "region_strlen"), strlen("bbox -72,41,-70,43"));
    char rid[64] = "";
    NC_OK(nc_get_var_text(nc, vr, rid));
    assert_string_equal(rid, "bbox -72,41,-70,43");
    NC_OK(nc_close(nc));

    const char *item = in_tmp("region.json");
    expect_ok(stac_item_write_series(&spec, item, "series", STAC_ITEM_SOURCE_REPOSITORY));
    assert_true(stac_valid(item));
    cJSON *j = load_json(item);
    assert_string_equal(str_at(j, "geometry.type"), "Polygon");
    assert_true(num_at(j, "bbox", 0) == -72.125 && num_at(j, "bbox", 1) == 40.875);
    assert_true(num_at(j, "bbox", 2) == -69.875 && num_at(j, "bbox", 3) == 43.125);
    assert_string_equal(str_at(j, "properties.start_datetime"), "2001-01-01T00:00:00Z");
    assert_string_equal(str_at(j, "properties.end_datetime"), "2001-01-04T00:00:00Z");
    assert_string_equal(str_at(j, "properties.cube:dimensions.time.step"), "P1D");
    assert_null(at(j, "properties.cube:dimensions.station"));
    const cJSON *dims = at(j, "properties.cube:variables.Tair_max.dimensions");
    assert_int_equal(cJSON_GetArraySize(dims), 1);
    assert_string_equal(cJSON_GetArrayItem(dims, 0)->valuestring, "time");
    assert_string_equal(str_at(j, "properties.cube:variables.Tair_max.unit"), "K");
    assert_null(at(j, "properties.proj:shape"));
    assert_null(at(j, "collection")); /* none given */
    assert_string_equal(cJSON_GetArrayItem(at(j, "properties.floe:series_ids"), 0)->valuestring,
                        "bbox -72,41,-70,43");
    cJSON_Delete(j);
    free_source(&src);
}

/* A region across the antimeridian: lon the middle of the box, the Item a
 * MultiPolygon with W > E; one step: datetime. */
static void region_antimeridian(void **state)
{
    (void)state;
    source src;
    make_source(&src, "hours since 2001-01-01", NULL);
    static const double hours[1] = {6};
    const floe_array *vars[1] = {&src.tair};
    const char *path = in_tmp("dateline.nc");
    cf_series_spec spec = {
        .path = path, .command = COMMAND, .provenance = &src.prov, .time = &src.time,
        .time_values = hours, .nt = 1, .vars = vars, .nvars = 1,
        .region = "dateline.geojson", .region_id = "dateline",
        .region_edges = {170, -10, -170, 10}, .region_cells = 4,
    };
    cf_series_output *out = NULL;
    expect_ok(cf_series_output_create(&spec, &out));
    const float v = 280;
    expect_ok(cf_series_output_put(out, 0, 0, 1, &v));
    expect_ok(cf_series_output_commit(&out));
    int nc;
    double lon;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    NC_OK(nc_get_var_double(nc, var_id(nc, "lon"), &lon));
    assert_true(lon == 180.0);
    NC_OK(nc_close(nc));
    const char *item = in_tmp("dateline.json");
    expect_ok(stac_item_write_series(&spec, item, "series", STAC_ITEM_SOURCE_COLLECTION));
    assert_true(stac_valid(item));
    cJSON *j = load_json(item);
    assert_string_equal(str_at(j, "geometry.type"), "MultiPolygon");
    assert_true(num_at(j, "bbox", 0) == 170 && num_at(j, "bbox", 2) == -170);
    assert_string_equal(str_at(j, "properties.datetime"), "2001-01-01T06:00:00Z");
    cJSON_Delete(j);
    free_source(&src);
}

/* ---- atomicity and errors ------------------------------------------------------ */

static void abort_leaves_nothing(void **state)
{
    (void)state;
    source src;
    make_source(&src, "hours since 2001-01-01", NULL);
    const floe_array *vars[2];
    cf_series_spec spec;
    const char *path = in_tmp("aborted.nc");
    points_spec(&spec, &src, vars, path);
    cf_series_output *out = NULL;
    expect_ok(cf_series_output_create(&spec, &out));
    float vals[PT * PS] = {0};
    expect_ok(cf_series_output_put(out, 0, 0, PT, vals));
    cf_series_output_abort(&out);
    assert_null(out);
    cf_series_output_abort(&out); /* safe again, and on NULL */
    cf_series_output_abort(NULL);
    assert_false(exists(path));
    assert_int_equal(entries(), 0);

    /* an existing file of that name is kept as it was */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    expect_ok(cf_series_output_create(&spec, &out));
    cf_series_output_abort(&out);
    f = fopen(path, "r");
    assert_non_null(f);
    char line[16] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "old\n");
    assert_int_equal(entries(), 1);
    free_source(&src);
}

static void bad_specs(void **state)
{
    (void)state;
    source src;
    make_source(&src, "hours since 2001-01-01", NULL);
    const floe_array *vars[2];
    cf_series_spec spec;
    cf_series_output *out = NULL;
    const char *missing_dir = in_tmp("no/such/dir/x.nc");
    points_spec(&spec, &src, vars, missing_dir);
    assert_int_equal(code_naming(cf_series_output_create(&spec, &out), missing_dir), FLOE_EIO);
    assert_null(out);

    const char *path = in_tmp("bad.nc");
    points_spec(&spec, &src, vars, path);
    spec.nt = 0;
    assert_int_equal(code_naming(cf_series_output_create(&spec, &out), path), FLOE_EINVAL);
    points_spec(&spec, &src, vars, path);
    spec.station_ids = NULL;
    assert_int_equal(code_naming(cf_series_output_create(&spec, &out), "station_ids"),
                     FLOE_EINVAL);
    static const char *const ids[PS] = {"a", "", "c"};
    points_spec(&spec, &src, vars, path);
    spec.station_ids = ids;
    assert_int_equal(code_naming(cf_series_output_create(&spec, &out), "station 1"), FLOE_EINVAL);
    points_spec(&spec, &src, vars, path);
    spec.cell_lat = NULL; /* one without the other */
    assert_int_equal(code_naming(cf_series_output_create(&spec, &out), "cell_lon"), FLOE_EINVAL);
    /* two outputs of one name: netCDF refuses, the error names the file */
    static const char *const same[2] = {"x", "x"};
    points_spec(&spec, &src, vars, path);
    spec.out_names = same;
    assert_int_equal(code_naming(cf_series_output_create(&spec, &out), path), FLOE_EIO);
    assert_null(out);
    assert_int_equal(entries(), 0); /* nothing left behind by any of them */

    /* the Item: time without units */
    points_spec(&spec, &src, vars, path);
    cJSON_DeleteItemFromObject(src.time_attrs, "units");
    assert_int_equal(code_naming(stac_item_write_series(&spec, NULL, "series",
                                                        STAC_ITEM_SOURCE_COLLECTION),
                                 "time"),
                     FLOE_EFORMAT);
    free_source(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(points_file, setup, teardown),
        cmocka_unit_test_setup_teardown(single_point, setup, teardown),
        cmocka_unit_test_setup_teardown(region_file, setup, teardown),
        cmocka_unit_test_setup_teardown(region_antimeridian, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_specs, setup, teardown),
    };
    return floe_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
