/* SPDX-License-Identifier: Apache-2.0 */
/* nldas_testbed_gen.c - writes a synthetic NLDAS-3 daily forcing archive.
 *
 * One NetCDF-4 file per day, laid out like the real archive
 * (NLDAS3/forcing/daily/YYYYMM/NLDAS_FOR0010_D.AYYYYMMDD.030.beta.nc): dims
 * time (1, unlimited), lat, lon; float32 cell-centre coordinates; ten float32
 * variables, deflate + shuffle, _FillValue/missing_value -9999 over the ocean
 * (a land mask of about 35% of the cells), real-like attributes. Values are
 * smooth fields with a seasonal cycle and a latitude gradient plus seeded
 * noise, a pure function of (seed, variable, day, cell), so the output does
 * not depend on how days are split over worker processes.
 *
 * Next to the archive it writes testbed.json: the grid, the attributes and,
 * for every file and variable, the byte range of every chunk as HDF5 reports
 * it (H5Dget_chunk_info). scripts/node/make_repo.mjs turns that index into a
 * virtual Icechunk repository with the real Icechunk library.
 *
 * This is test data, not part of floe: it exits on error (floe's library
 * code never does).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <netcdf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILL_VALUE (-9999.0f)
#define MAX_VARS 10

/* ------------------------------------------------------------------------ */
/* Variables: names and attributes as in the real NLDAS-3 collection. */

typedef enum {
    V_TAIR, V_TAIR_MIN, V_TAIR_MAX, V_QAIR, V_PSURF,
    V_LWDOWN, V_SWDOWN, V_WIND_E, V_WIND_N, V_RAINF
} var_id;

typedef struct var_def {
    var_id id;
    const char *name, *units, *standard_name, *long_name, *cell_methods;
} var_def;

static const var_def all_vars[MAX_VARS] = {
    {V_TAIR, "Tair", "K", "Near surface air temperature", "2-meter above ground Temperature",
     "time: mean"},
    {V_TAIR_MIN, "Tair_min", "K", "Daily minimum near surface air temperature",
     "Daily minimum 2-meter above ground Temperature", "time: minimum"},
    {V_TAIR_MAX, "Tair_max", "K", "Daily maximum near surface air temperature",
     "Daily maximum 2-meter above ground Temperature", "time: maximum"},
    {V_QAIR, "Qair", "kg kg-1", "Near surface specific humidity",
     "2-meter above ground Specific humidity", "time: mean"},
    {V_PSURF, "PSurf", "Pa", "Surface pressure", "Surface pressure", "time: mean"},
    {V_LWDOWN, "LWdown", "W m-2", "Surface incident longwave radiation",
     "Longwave radiation flux downwards (surface)", "time: mean"},
    {V_SWDOWN, "SWdown", "W m-2", "Surface incident shortwave radiation",
     "Shortwave radiation flux downwards (surface)", "time: mean"},
    {V_WIND_E, "Wind_E", "m s-1", "Near surface eastward wind component",
     "10-meter above ground Zonal wind speed", "time: mean"},
    {V_WIND_N, "Wind_N", "m s-1", "Near surface northward wind component",
     "10-meter above ground Meridional wind speed", "time: mean"},
    {V_RAINF, "Rainf", "kg m-2", "Total precipitation", "Total precipitation", "time: sum"},
};

/* ------------------------------------------------------------------------ */
/* Configuration */

typedef struct config {
    const char *out;       /* testbed directory */
    const char *scale;
    int days;
    int start_y, start_m, start_d;
    double step;           /* grid step in degrees */
    double south, west;    /* domain edges (not centres) */
    int ny, nx, cy, cx;
    const var_def *vars[MAX_VARS];
    int nvars;
    uint64_t seed;
    int deflate;
    int jobs;
    int quiet;
} config;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("floe-testbed-gen: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

#define NC(call)                                                                \
    do {                                                                        \
        int nc_status_ = (call);                                                \
        if (nc_status_ != NC_NOERR)                                             \
            die("%s:%d: %s: %s", __FILE__, __LINE__, #call, nc_strerror(nc_status_)); \
    } while (0)

static void usage(FILE *out)
{
    fprintf(out,
        "usage: floe-testbed-gen --out DIR [--scale mini|bench] [options]\n"
        "\n"
        "Writes a synthetic NLDAS-3 daily archive under DIR/s3/nasa-waterinsight/\n"
        "NLDAS3/forcing/daily/ and its chunk index DIR/testbed.json.\n"
        "\n"
        "Scales (every option below overrides the preset):\n"
        "  mini   whole NLDAS-3 domain at 0.1 deg (650 x 1170), chunks 50,90\n"
        "         (the real 13 x 13 chunk grid), 62 days from 2001-01-01, 10 variables\n"
        "  bench  real 0.01 deg step and (500, 900) chunks on 2000 x 2700 cells\n"
        "         (27-47 N, 88-61 W: contains Cape Cod), 365 days, Tair and Rainf\n"
        "\n"
        "Options:\n"
        "  --days N          number of daily files\n"
        "  --start DATE      first day, YYYY-MM-DD (default 2001-01-01)\n"
        "  --step DEG        grid step in degrees\n"
        "  --south DEG       southern edge of the domain (cell edge, not centre)\n"
        "  --west DEG        western edge of the domain\n"
        "  --ny N, --nx N    cells in latitude / longitude\n"
        "  --chunks CY,CX    chunk shape in lat, lon (time chunk is 1)\n"
        "  --vars A,B,...    variables (default: all ten for mini)\n"
        "  --seed N          noise seed (default 20010101)\n"
        "  --deflate L       deflate level 1-9 (default 4)\n"
        "  --jobs N          worker processes (default: number of cores)\n"
        "  --quiet           no progress output\n");
}

static void set_scale(config *c, const char *scale)
{
    c->scale = scale;
    c->start_y = 2001, c->start_m = 1, c->start_d = 1;
    if (!strcmp(scale, "mini")) {
        c->days = 62, c->step = 0.1, c->south = 7.0, c->west = -169.0;
        c->ny = 650, c->nx = 1170, c->cy = 50, c->cx = 90;
        c->nvars = MAX_VARS;
        for (int i = 0; i < MAX_VARS; i++)
            c->vars[i] = &all_vars[i];
    } else if (!strcmp(scale, "bench")) {
        /* Rows 2000..3999 and columns 8100..10799 of the real 6500 x 11700
         * grid: whole real chunks (4 x 3 of 500 x 900). */
        c->days = 365, c->step = 0.01, c->south = 27.0, c->west = -88.0;
        c->ny = 2000, c->nx = 2700, c->cy = 500, c->cx = 900;
        c->nvars = 2;
        c->vars[0] = &all_vars[V_TAIR];
        c->vars[1] = &all_vars[V_RAINF];
    } else {
        die("unknown scale '%s' (mini or bench)", scale);
    }
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        die("%s: '%s' is not an integer in [%ld, %ld]", what, s, lo, hi);
    return v;
}

static double parse_double(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || !isfinite(v))
        die("%s: '%s' is not a number", what, s);
    return v;
}

static void parse_vars(config *c, const char *list)
{
    char *copy = strdup(list);
    c->nvars = 0;
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int i = 0; i < MAX_VARS; i++) {
            if (!strcmp(all_vars[i].name, tok)) {
                for (int k = 0; k < c->nvars; k++)
                    if (c->vars[k] == &all_vars[i])
                        die("--vars: '%s' given twice", tok);
                c->vars[c->nvars++] = &all_vars[i];
                found = 1;
            }
        }
        if (!found)
            die("--vars: unknown variable '%s'", tok);
    }
    free(copy);
    if (c->nvars == 0)
        die("--vars: empty list");
}

static void parse_args(config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    const char *scale = "mini";
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--scale"))
            scale = argv[i + 1];
    set_scale(c, scale);
    c->seed = 20010101;
    c->deflate = 4;
    c->jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (c->jobs < 1)
        c->jobs = 1;

    enum { O_SCALE = 256, O_DAYS, O_START, O_STEP, O_SOUTH, O_WEST, O_NY, O_NX, O_CHUNKS,
           O_VARS, O_SEED, O_DEFLATE, O_JOBS, O_QUIET, O_OUT };
    static const struct option opts[] = {
        {"out", required_argument, 0, O_OUT},     {"scale", required_argument, 0, O_SCALE},
        {"days", required_argument, 0, O_DAYS},   {"start", required_argument, 0, O_START},
        {"step", required_argument, 0, O_STEP},   {"south", required_argument, 0, O_SOUTH},
        {"west", required_argument, 0, O_WEST},   {"ny", required_argument, 0, O_NY},
        {"nx", required_argument, 0, O_NX},       {"chunks", required_argument, 0, O_CHUNKS},
        {"vars", required_argument, 0, O_VARS},   {"seed", required_argument, 0, O_SEED},
        {"deflate", required_argument, 0, O_DEFLATE}, {"jobs", required_argument, 0, O_JOBS},
        {"quiet", no_argument, 0, O_QUIET},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_OUT: c->out = optarg; break;
        case O_SCALE: break; /* applied above, before the overrides */
        case O_DAYS: c->days = (int)parse_long(optarg, "--days", 1, 100000); break;
        case O_START:
            if (sscanf(optarg, "%4d-%2d-%2d", &c->start_y, &c->start_m, &c->start_d) != 3 ||
                c->start_m < 1 || c->start_m > 12 || c->start_d < 1 || c->start_d > 31)
                die("--start: '%s' is not YYYY-MM-DD", optarg);
            break;
        case O_STEP: c->step = parse_double(optarg, "--step"); break;
        case O_SOUTH: c->south = parse_double(optarg, "--south"); break;
        case O_WEST: c->west = parse_double(optarg, "--west"); break;
        case O_NY: c->ny = (int)parse_long(optarg, "--ny", 1, 1000000); break;
        case O_NX: c->nx = (int)parse_long(optarg, "--nx", 1, 1000000); break;
        case O_CHUNKS:
            if (sscanf(optarg, "%d,%d", &c->cy, &c->cx) != 2 || c->cy < 1 || c->cx < 1)
                die("--chunks: '%s' is not CY,CX", optarg);
            break;
        case O_VARS: parse_vars(c, optarg); break;
        case O_SEED: c->seed = (uint64_t)parse_long(optarg, "--seed", 0, INT64_MAX); break;
        case O_DEFLATE: c->deflate = (int)parse_long(optarg, "--deflate", 1, 9); break;
        case O_JOBS: c->jobs = (int)parse_long(optarg, "--jobs", 1, 256); break;
        case O_QUIET: c->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);
    if (!c->out)
        die("--out DIR is required (see --help)");
    if (c->step <= 0)
        die("--step must be positive");
    if (c->south < -90 || c->south + c->ny * c->step > 90.0001)
        die("the domain leaves [-90, 90] degrees of latitude");
}

/* ------------------------------------------------------------------------ */
/* Calendar (proleptic Gregorian, days since 1970-01-01). */

static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* ------------------------------------------------------------------------ */
/* Fields */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Approximately standard normal: the sum of four 16-bit uniforms, centred
 * and scaled (Irwin-Hall). Cheap and deterministic. */
static double noise(uint64_t key)
{
    uint64_t h = splitmix64(key);
    double s = (double)(h & 0xffff) + (double)((h >> 16) & 0xffff) +
               (double)((h >> 32) & 0xffff) + (double)(h >> 48);
    return (s / 65536.0 - 2.0) * 1.7320508075688772;
}

/* Land: an ellipse over North America with a wobbly coast, about 35% of the
 * NLDAS-3 domain; the rest is ocean and holds the fill value. */
static int is_land(double lat, double lon)
{
    double a = (lon + 100.0) / 38.0, b = (lat - 45.0) / 22.0;
    return a * a + b * b + 0.12 * sin(lon / 3.0) * cos(lat / 4.0) < 1.0;
}

typedef struct day_ctx {
    double doy;   /* day of year, 1-based, of the day the file covers */
    double s;     /* seasonal phase: +1 in mid-January, -1 in mid-July */
    double decl;  /* solar declination, degrees */
    long dindex;  /* days since 1970-01-01, for the noise key */
} day_ctx;

static double field(const config *c, var_id v, const day_ctx *dc, double lat, double lon,
                    int i, int j)
{
    const double pi = 3.14159265358979323846;
    uint64_t key = c->seed * 0x100000001b3ULL ^ ((uint64_t)v << 56) ^
                   ((uint64_t)(dc->dindex & 0xffffff) << 32) ^ ((uint64_t)i << 16) ^ (uint64_t)j;
    /* A slowly drifting large-scale pattern so that days differ smoothly. */
    double wave = sin(lon * pi / 18.0 + dc->doy * 2.0 * pi / 365.0) * cos(lat * pi / 12.0);
    double tair = 301.0 - 0.45 * (lat - 7.0) - dc->s * (4.0 + 0.25 * (lat - 7.0)) + 2.5 * wave;
    switch (v) {
    case V_TAIR: return tair + 0.6 * noise(key);
    case V_TAIR_MIN: return tair - 5.0 - fabs(noise(key));
    case V_TAIR_MAX: return tair + 6.0 + fabs(noise(key));
    case V_QAIR: {
        double q = 0.0035 * exp(0.06 * (tair - 273.15)) * (0.8 + 0.15 * wave) *
                   (1.0 + 0.05 * noise(key));
        return q < 5.8e-5 ? 5.8e-5 : q;
    }
    case V_PSURF: {
        /* A Rocky-Mountain ridge lowers the pressure. */
        double r = (lon + 112.0) / 9.0;
        double elev = 2500.0 * exp(-r * r) * (lat > 25.0 && lat < 62.0 ? 1.0 : 0.4);
        return 101325.0 * exp(-elev / 8000.0) + 300.0 * wave + 150.0 * noise(key);
    }
    case V_LWDOWN:
        return 0.75 * 5.67e-8 * pow(tair, 4) * (1.0 + 0.05 * wave) + 5.0 * noise(key);
    case V_SWDOWN: {
        double sw = 320.0 * cos((lat - dc->decl) * pi / 180.0) * (0.7 + 0.25 * wave) +
                    5.0 * noise(key);
        return sw < 0.0 ? 0.0 : sw;
    }
    case V_WIND_E:
        return 4.0 * sin(lat * pi / 20.0 + dc->doy * 2.0 * pi / 30.0) + 1.5 * noise(key);
    case V_WIND_N:
        return 3.0 * cos(lon * pi / 25.0 - dc->doy * 2.0 * pi / 25.0) + 1.5 * noise(key);
    case V_RAINF: {
        double storm = 0.5 + 0.5 * sin(lon * pi / 9.0 + dc->doy * 0.7) *
                                 cos(lat * pi / 7.0 - dc->doy * 0.3);
        double r = 12.0 * storm - 5.0 + 4.0 * noise(key);
        return r < 0.0 ? 0.0 : r; /* dry cells: about 40% of the land */
    }
    }
    return 0.0;
}

/* ------------------------------------------------------------------------ */
/* Grid */

typedef struct grid {
    float *lat, *lon;       /* cell centres as stored (float32) */
    unsigned char *land;    /* ny * nx */
    double land_fraction;
} grid;

static void make_grid(const config *c, grid *g)
{
    g->lat = malloc(sizeof(float) * (size_t)c->ny);
    g->lon = malloc(sizeof(float) * (size_t)c->nx);
    g->land = malloc((size_t)c->ny * (size_t)c->nx);
    if (!g->lat || !g->lon || !g->land)
        die("out of memory for the grid");
    /* Centres computed in double, then rounded once to float32, as the real
     * files hold them (7.005 -> 7.005000114440918). */
    for (int i = 0; i < c->ny; i++)
        g->lat[i] = (float)(c->south + (i + 0.5) * c->step);
    for (int j = 0; j < c->nx; j++)
        g->lon[j] = (float)(c->west + (j + 0.5) * c->step);
    size_t nland = 0;
    for (int i = 0; i < c->ny; i++)
        for (int j = 0; j < c->nx; j++) {
            unsigned char l = (unsigned char)is_land(g->lat[i], g->lon[j]);
            g->land[(size_t)i * c->nx + j] = l;
            nland += l;
        }
    g->land_fraction = (double)nland / ((double)c->ny * c->nx);
}

/* ------------------------------------------------------------------------ */
/* Files */

static const char *archive_prefix = "NLDAS3/forcing/daily/";
static const char *bucket = "nasa-waterinsight";
/* Modification times of the generated files: fixed, so the repository's
 * last-modified checksums are reproducible (2024-06-01T00:00:00Z + index). */
static const long mtime_base = 1717200000L;

static void mkdirs(const char *path)
{
    char *p = strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) && errno != EEXIST)
                die("mkdir %s: %s", p, strerror(errno));
            *s = '/';
        }
    }
    if (mkdir(p, 0755) && errno != EEXIST)
        die("mkdir %s: %s", p, strerror(errno));
    free(p);
}

static void put_text(int nc, int var, const char *name, const char *value)
{
    NC(nc_put_att_text(nc, var, name, strlen(value), value));
}

static void put_float(int nc, int var, const char *name, float value)
{
    NC(nc_put_att_float(nc, var, name, NC_FLOAT, 1, &value));
}

typedef struct day_file {
    int index;
    int y, m, d;
    char key[256];   /* object key under the bucket */
    double time_value;
} day_file;

static void describe_day(const config *c, int index, day_file *f)
{
    long z = days_from_civil(c->start_y, c->start_m, c->start_d) + index;
    f->index = index;
    civil_from_days(z, &f->y, &f->m, &f->d);
    snprintf(f->key, sizeof f->key, "%s%04d%02d/NLDAS_FOR0010_D.A%04d%02d%02d.030.beta.nc",
             archive_prefix, f->y, f->m, f->y, f->m, f->d);
    /* The value is the end of the day: file A20010101 holds 2001-01-02T00. */
    f->time_value = (double)(z + 1 - days_from_civil(2001, 1, 1)) * 24.0;
}

static void write_global_attrs(const config *c, const grid *g, int nc)
{
    put_float(nc, NC_GLOBAL, "missing_value", FILL_VALUE);
    put_text(nc, NC_GLOBAL, "time_definition", "daily");
    put_text(nc, NC_GLOBAL, "shortname", "NLDAS_FOR0010_D_3.0");
    char title[160];
    snprintf(title, sizeof title,
             "NLDAS Forcing Data L4 Daily %g x %g degree V3.0 (synthetic floe testbed)",
             c->step, c->step);
    put_text(nc, NC_GLOBAL, "title", title);
    put_text(nc, NC_GLOBAL, "version", "3.0 beta");
    put_text(nc, NC_GLOBAL, "institution", "NASA GSFC");
    put_text(nc, NC_GLOBAL, "history",
             "synthetic data written by floe-testbed-gen; smooth fields with a seasonal "
             "cycle, a latitude gradient and seeded noise; not real observations");
    char comment[160];
    snprintf(comment, sizeof comment, "floe testbed scale=%s seed=%llu", c->scale,
             (unsigned long long)c->seed);
    put_text(nc, NC_GLOBAL, "comment", comment);
    put_text(nc, NC_GLOBAL, "conventions", "CF-1.8");
    put_text(nc, NC_GLOBAL, "websites",
             "https://ldas.gsfc.nasa.gov/nldas/v3/ ; https://lis.gsfc.nasa.gov/");
    put_text(nc, NC_GLOBAL, "MAP_PROJECTION", "EQUIDISTANT CYLINDRICAL");
    put_float(nc, NC_GLOBAL, "SOUTH_WEST_CORNER_LAT", g->lat[0]);
    put_float(nc, NC_GLOBAL, "SOUTH_WEST_CORNER_LON", g->lon[0]);
    put_float(nc, NC_GLOBAL, "DX", (float)c->step);
    put_float(nc, NC_GLOBAL, "DY", (float)c->step);
}

typedef struct chunk_loc {
    long long offset, length; /* length 0: chunk absent */
} chunk_loc;

/* Where HDF5 put each chunk of each variable: [var][chunk row][chunk col]. */
static void chunk_index(const config *c, const char *path, chunk_loc *locs)
{
    int gy = (c->ny + c->cy - 1) / c->cy, gx = (c->nx + c->cx - 1) / c->cx;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        die("%s: HDF5 cannot open the file it just wrote", path);
    for (int v = 0; v < c->nvars; v++) {
        chunk_loc *vl = locs + (size_t)v * gy * gx;
        memset(vl, 0, sizeof *vl * (size_t)gy * gx);
        hid_t ds = H5Dopen2(file, c->vars[v]->name, H5P_DEFAULT);
        if (ds < 0)
            die("%s: no dataset %s", path, c->vars[v]->name);
        /* HDF5 1.10 wants the dataset's own space here, not H5S_ALL. */
        hid_t space = H5Dget_space(ds);
        hsize_t n = 0;
        if (space < 0 || H5Dget_num_chunks(ds, space, &n) < 0)
            die("%s: H5Dget_num_chunks(%s) failed", path, c->vars[v]->name);
        for (hsize_t k = 0; k < n; k++) {
            hsize_t off[3];
            unsigned mask = 0;
            haddr_t addr;
            hsize_t size;
            if (H5Dget_chunk_info(ds, space, k, off, &mask, &addr, &size) < 0)
                die("%s: H5Dget_chunk_info(%s, %llu) failed", path, c->vars[v]->name,
                    (unsigned long long)k);
            /* A set bit means a filter was skipped for this chunk: its bytes
             * would not decode with the array's codecs. */
            if (mask != 0)
                die("%s: chunk %llu of %s has filter mask %u", path, (unsigned long long)k,
                    c->vars[v]->name, mask);
            if (off[0] != 0 || off[1] % (hsize_t)c->cy || off[2] % (hsize_t)c->cx)
                die("%s: unexpected chunk offset", path);
            chunk_loc *l = vl + (off[1] / c->cy) * gx + off[2] / c->cx;
            l->offset = (long long)addr;
            l->length = (long long)size;
        }
        H5Sclose(space);
        H5Dclose(ds);
    }
    H5Fclose(file);
}

/* Write one day's file, then its index fragment (JSON) for the parent. */
static void write_day(const config *c, const grid *g, int index, float *buf, chunk_loc *locs)
{
    day_file f;
    describe_day(c, index, &f);
    char path[1024], tmp[1100], dir[1024];
    snprintf(path, sizeof path, "%s/s3/%s/%s", c->out, bucket, f.key);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdirs(dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    day_ctx dc;
    dc.dindex = days_from_civil(f.y, f.m, f.d);
    dc.doy = (double)(dc.dindex - days_from_civil(f.y, 1, 1) + 1);
    dc.s = cos(2.0 * 3.14159265358979323846 * (dc.doy - 15.5) / 365.25);
    dc.decl = -23.44 * dc.s;

    int nc, d_time, d_lat, d_lon, v_time, v_lat, v_lon;
    NC(nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &nc));
    NC(nc_def_dim(nc, "time", NC_UNLIMITED, &d_time));
    NC(nc_def_dim(nc, "lat", (size_t)c->ny, &d_lat));
    NC(nc_def_dim(nc, "lon", (size_t)c->nx, &d_lon));
    NC(nc_def_var(nc, "time", NC_DOUBLE, 1, &d_time, &v_time));
    put_text(nc, v_time, "units", "hours since 2001-01-01 00:00:00");
    put_text(nc, v_time, "calendar", "standard");
    put_text(nc, v_time, "standard_name", "time");
    put_text(nc, v_time, "long_name", "time");
    put_text(nc, v_time, "axis", "T");
    NC(nc_def_var(nc, "lat", NC_FLOAT, 1, &d_lat, &v_lat));
    put_text(nc, v_lat, "units", "degrees_north");
    put_text(nc, v_lat, "standard_name", "latitude");
    put_text(nc, v_lat, "long_name", "latitude");
    put_text(nc, v_lat, "axis", "Y");
    NC(nc_def_var(nc, "lon", NC_FLOAT, 1, &d_lon, &v_lon));
    put_text(nc, v_lon, "units", "degrees_east");
    put_text(nc, v_lon, "standard_name", "longitude");
    put_text(nc, v_lon, "long_name", "longitude");
    put_text(nc, v_lon, "axis", "X");

    int dims[3] = {d_time, d_lat, d_lon};
    size_t chunks[3] = {1, (size_t)c->cy, (size_t)c->cx};
    int vids[MAX_VARS];
    for (int v = 0; v < c->nvars; v++) {
        const var_def *vd = c->vars[v];
        NC(nc_def_var(nc, vd->name, NC_FLOAT, 3, dims, &vids[v]));
        NC(nc_def_var_chunking(nc, vids[v], NC_CHUNKED, chunks));
        NC(nc_def_var_deflate(nc, vids[v], 1, 1, c->deflate));
        float fill = FILL_VALUE;
        NC(nc_def_var_fill(nc, vids[v], NC_FILL, &fill));
        put_text(nc, vids[v], "units", vd->units);
        put_text(nc, vids[v], "standard_name", vd->standard_name);
        put_text(nc, vids[v], "long_name", vd->long_name);
        put_text(nc, vids[v], "cell_methods", vd->cell_methods);
        put_float(nc, vids[v], "missing_value", FILL_VALUE);
    }
    write_global_attrs(c, g, nc);
    NC(nc_enddef(nc));

    size_t zero = 0, one = 1;
    NC(nc_put_vara_double(nc, v_time, &zero, &one, &f.time_value));
    NC(nc_put_var_float(nc, v_lat, g->lat));
    NC(nc_put_var_float(nc, v_lon, g->lon));

    float vmin[MAX_VARS], vmax[MAX_VARS];
    for (int v = 0; v < c->nvars; v++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < c->ny; i++) {
            float *row = buf + (size_t)i * c->nx;
            const unsigned char *land = g->land + (size_t)i * c->nx;
            for (int j = 0; j < c->nx; j++) {
                if (!land[j]) {
                    row[j] = FILL_VALUE;
                    continue;
                }
                float x = (float)field(c, c->vars[v]->id, &dc, g->lat[i], g->lon[j], i, j);
                row[j] = x;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
            }
        }
        if (lo > hi) /* no land in the domain */
            lo = hi = FILL_VALUE;
        vmin[v] = lo, vmax[v] = hi;
        /* Per-file range attributes, as the real files carry them. */
        NC(nc_redef(nc));
        put_float(nc, vids[v], "vmin", lo);
        put_float(nc, vids[v], "vmax", hi);
        NC(nc_enddef(nc));
        size_t start[3] = {0, 0, 0}, count[3] = {1, (size_t)c->ny, (size_t)c->nx};
        NC(nc_put_vara_float(nc, vids[v], start, count, buf));
    }
    NC(nc_close(nc));

    chunk_index(c, tmp, locs);
    struct timespec times[2] = {{mtime_base + index, 0}, {mtime_base + index, 0}};
    if (utimensat(AT_FDCWD, tmp, times, 0))
        die("utimensat %s: %s", tmp, strerror(errno));
    if (rename(tmp, path))
        die("rename %s: %s", tmp, strerror(errno));
    struct stat st;
    if (stat(path, &st))
        die("stat %s: %s", path, strerror(errno));

    /* The fragment: one JSON object, assembled by the parent in day order. */
    char frag[1024], fragtmp[1100];
    snprintf(frag, sizeof frag, "%s/.gen/day-%06d.json", c->out, index);
    snprintf(fragtmp, sizeof fragtmp, "%s.tmp", frag);
    FILE *out = fopen(fragtmp, "w");
    if (!out)
        die("%s: %s", fragtmp, strerror(errno));
    fprintf(out,
            "{\"key\":\"%s\",\"date\":\"%04d-%02d-%02d\",\"month\":\"%04d-%02d\","
            "\"time_value\":%.17g,\"mtime\":%ld,\"size\":%lld,\"vrange\":{",
            f.key, f.y, f.m, f.d, f.y, f.m, f.time_value, mtime_base + index,
            (long long)st.st_size);
    for (int v = 0; v < c->nvars; v++)
        fprintf(out, "%s\"%s\":[%.9g,%.9g]", v ? "," : "", c->vars[v]->name, vmin[v], vmax[v]);
    fprintf(out, "},\"chunks\":{");
    int gy = (c->ny + c->cy - 1) / c->cy, gx = (c->nx + c->cx - 1) / c->cx;
    for (int v = 0; v < c->nvars; v++) {
        fprintf(out, "%s\"%s\":[", v ? "," : "", c->vars[v]->name);
        for (int k = 0; k < gy * gx; k++) {
            const chunk_loc *l = locs + (size_t)v * gy * gx + k;
            if (l->length)
                fprintf(out, "%s[%lld,%lld]", k ? "," : "", l->offset, l->length);
            else
                fprintf(out, "%snull", k ? "," : "");
        }
        fprintf(out, "]");
    }
    fprintf(out, "}}\n");
    if (fclose(out))
        die("%s: write failed", fragtmp);
    if (rename(fragtmp, frag))
        die("rename %s: %s", fragtmp, strerror(errno));
}

static void worker(const config *c, const grid *g, int w)
{
    float *buf = malloc(sizeof(float) * (size_t)c->ny * c->nx);
    int gy = (c->ny + c->cy - 1) / c->cy, gx = (c->nx + c->cx - 1) / c->cx;
    chunk_loc *locs = malloc(sizeof *locs * (size_t)c->nvars * gy * gx);
    if (!buf || !locs)
        die("out of memory for one day's field");
    for (int day = w; day < c->days; day += c->jobs) {
        write_day(c, g, day, buf, locs);
        /* A progress line only on a terminal: logs get the summary only. */
        if (!c->quiet && w == 0 && isatty(STDERR_FILENO))
            fprintf(stderr, "\rfloe-testbed-gen: %d/%d days", day + 1, c->days);
    }
    free(buf);
    free(locs);
}

/* ------------------------------------------------------------------------ */
/* testbed.json */

static cJSON *float_array(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
        die("%s: read failed", path);
    text[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        die("%s: not valid JSON", path);
    return j;
}

static void add_var_attrs(cJSON *attrs, const var_def *vd)
{
    cJSON_AddStringToObject(attrs, "units", vd->units);
    cJSON_AddStringToObject(attrs, "standard_name", vd->standard_name);
    cJSON_AddStringToObject(attrs, "long_name", vd->long_name);
    cJSON_AddStringToObject(attrs, "cell_methods", vd->cell_methods);
}

static void write_index(const config *c, const grid *g, double seconds)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "generator", "floe-testbed-gen");
    cJSON_AddStringToObject(root, "scale", c->scale);
    cJSON_AddNumberToObject(root, "seed", (double)c->seed);
    cJSON_AddNumberToObject(root, "deflate_level", c->deflate);
    cJSON_AddStringToObject(root, "bucket", bucket);
    cJSON_AddStringToObject(root, "archive_prefix", archive_prefix);
    cJSON_AddNumberToObject(root, "step", c->step);
    cJSON_AddNumberToObject(root, "south", c->south);
    cJSON_AddNumberToObject(root, "west", c->west);
    cJSON_AddNumberToObject(root, "ny", c->ny);
    cJSON_AddNumberToObject(root, "nx", c->nx);
    cJSON *ch = cJSON_AddArrayToObject(root, "chunks");
    cJSON_AddItemToArray(ch, cJSON_CreateNumber(1));
    cJSON_AddItemToArray(ch, cJSON_CreateNumber(c->cy));
    cJSON_AddItemToArray(ch, cJSON_CreateNumber(c->cx));
    cJSON_AddNumberToObject(root, "fill_value", FILL_VALUE);
    cJSON_AddNumberToObject(root, "land_fraction", g->land_fraction);
    cJSON_AddNumberToObject(root, "generate_seconds", seconds);
    cJSON_AddItemToObject(root, "lat_values", float_array(g->lat, c->ny));
    cJSON_AddItemToObject(root, "lon_values", float_array(g->lon, c->nx));

    cJSON *la = cJSON_AddObjectToObject(root, "lat_attrs");
    cJSON_AddStringToObject(la, "units", "degrees_north");
    cJSON_AddStringToObject(la, "standard_name", "latitude");
    cJSON_AddStringToObject(la, "long_name", "latitude");
    cJSON_AddStringToObject(la, "axis", "Y");
    cJSON *lo = cJSON_AddObjectToObject(root, "lon_attrs");
    cJSON_AddStringToObject(lo, "units", "degrees_east");
    cJSON_AddStringToObject(lo, "standard_name", "longitude");
    cJSON_AddStringToObject(lo, "long_name", "longitude");
    cJSON_AddStringToObject(lo, "axis", "X");
    cJSON *ta = cJSON_AddObjectToObject(root, "time_attrs");
    cJSON_AddStringToObject(ta, "units", "hours since 2001-01-01 00:00:00");
    cJSON_AddStringToObject(ta, "calendar", "standard");
    cJSON_AddStringToObject(ta, "standard_name", "time");
    cJSON_AddStringToObject(ta, "long_name", "time");
    cJSON_AddStringToObject(ta, "axis", "T");

    cJSON *ga = cJSON_AddObjectToObject(root, "global_attrs");
    char title[160];
    snprintf(title, sizeof title,
             "NLDAS Forcing Data L4 Daily %g x %g degree V3.0 (synthetic floe testbed)",
             c->step, c->step);
    cJSON_AddNumberToObject(ga, "missing_value", FILL_VALUE);
    cJSON_AddStringToObject(ga, "time_definition", "daily");
    cJSON_AddStringToObject(ga, "shortname", "NLDAS_FOR0010_D_3.0");
    cJSON_AddStringToObject(ga, "title", title);
    cJSON_AddStringToObject(ga, "version", "3.0 beta");
    cJSON_AddStringToObject(ga, "institution", "NASA GSFC");
    cJSON_AddStringToObject(ga, "conventions", "CF-1.8");
    cJSON_AddStringToObject(ga, "MAP_PROJECTION", "EQUIDISTANT CYLINDRICAL");
    cJSON_AddNumberToObject(ga, "SOUTH_WEST_CORNER_LAT", (double)g->lat[0]);
    cJSON_AddNumberToObject(ga, "SOUTH_WEST_CORNER_LON", (double)g->lon[0]);
    cJSON_AddNumberToObject(ga, "DX", (double)(float)c->step);
    cJSON_AddNumberToObject(ga, "DY", (double)(float)c->step);

    cJSON *files = cJSON_CreateArray();
    for (int d = 0; d < c->days; d++) {
        char frag[1024];
        snprintf(frag, sizeof frag, "%s/.gen/day-%06d.json", c->out, d);
        cJSON_AddItemToArray(files, read_json(frag));
    }
    /* Variable attributes as an aggregating reader (VirtualiZarr, xarray)
     * keeps them: from the first file, including its vmin/vmax. */
    cJSON *vars = cJSON_AddArrayToObject(root, "variables");
    cJSON *vrange0 = cJSON_GetObjectItem(cJSON_GetArrayItem(files, 0), "vrange");
    for (int v = 0; v < c->nvars; v++) {
        cJSON *var = cJSON_CreateObject();
        cJSON_AddStringToObject(var, "name", c->vars[v]->name);
        cJSON *attrs = cJSON_AddObjectToObject(var, "attrs");
        add_var_attrs(attrs, c->vars[v]);
        cJSON *r = cJSON_GetObjectItem(vrange0, c->vars[v]->name);
        cJSON_AddNumberToObject(attrs, "vmin", cJSON_GetArrayItem(r, 0)->valuedouble);
        cJSON_AddNumberToObject(attrs, "vmax", cJSON_GetArrayItem(r, 1)->valuedouble);
        cJSON_AddNumberToObject(attrs, "_FillValue", FILL_VALUE);
        cJSON_AddNumberToObject(attrs, "missing_value", FILL_VALUE);
        cJSON_AddItemToArray(vars, var);
    }
    cJSON_AddItemToObject(root, "files", files);

    char *text = cJSON_PrintUnformatted(root);
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/testbed.json", c->out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out || fputs(text, out) < 0 || fputc('\n', out) < 0 || fclose(out))
        die("%s: write failed", tmp);
    if (rename(tmp, path))
        die("rename %s: %s", tmp, strerror(errno));
    free(text);
    cJSON_Delete(root);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    config c;
    parse_args(&c, argc, argv);
    double t0 = now_seconds();
    grid g;
    make_grid(&c, &g);
    char gen[1024];
    snprintf(gen, sizeof gen, "%s/.gen", c.out);
    mkdirs(gen);
    /* HDF5's error stack printing would interleave between workers; every
     * failure is reported by die() instead. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (c.jobs > c.days)
        c.jobs = c.days;
    fflush(NULL);
    pid_t *pids = calloc((size_t)c.jobs, sizeof *pids);
    for (int w = 0; w < c.jobs; w++) {
        pids[w] = fork();
        if (pids[w] < 0)
            die("fork: %s", strerror(errno));
        if (pids[w] == 0) {
            worker(&c, &g, w);
            _exit(0);
        }
    }
    int failed = 0;
    for (int w = 0; w < c.jobs; w++) {
        int status = 0;
        if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
            failed = 1;
    }
    free(pids);
    if (!c.quiet && isatty(STDERR_FILENO))
        fputc('\n', stderr);
    if (failed)
        die("a worker failed (see above); %s is incomplete", c.out);
    double secs = now_seconds() - t0;
    write_index(&c, &g, secs);
    if (!c.quiet)
        fprintf(stderr,
                "floe-testbed-gen: %d days x %d variables, %d x %d cells (land %.1f%%), "
                "chunks %d x %d, in %.1f s -> %s\n",
                c.days, c.nvars, c.ny, c.nx, 100.0 * g.land_fraction, c.cy, c.cx, secs, c.out);
    free(g.lat);
    free(g.lon);
    free(g.land);
    return 0;
}
