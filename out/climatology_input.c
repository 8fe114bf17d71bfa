/* SPDX-License-Identifier: Apache-2.0 */
/* out/climatology_input.c - see climatology_input.h. Serial NetCDF reads
 * (nc_open without MPI): every rank opens the file and reads the parts
 * its work touches. */
#include "out/climatology_input.h"

#include <math.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TEXT_MAX = 1 << 16 };

/* NetCDF-4's chunk cache of a climatology variable, kept small: a rank
 * reads each box once (the job keeps what it loaded), so caching the
 * file's decompressed chunks would mostly hold memory (the default,
 * 64 MB, a variable, would be most of a small job's footprint). */
#define CLIM_CHUNK_CACHE_BYTES ((size_t)4 << 20)
#define CLIM_CHUNK_CACHE_SLOTS 1009     /* a prime, as HDF5 advises */
#define CLIM_CHUNK_CACHE_PREEMPTION 0.75f
_Static_assert(FLOE_CLIM_NAME_LEN == NC_MAX_NAME + 1, "a variable's name fits");

const char *floe_clim_input_kind_name(floe_clim_input_kind kind)
{
    return kind == FLOE_CLIM_INPUT_MONTH    ? "month"
           : kind == FLOE_CLIM_INPUT_SEASON ? "season"
                                            : "day of year";
}

void floe_clim_input_free(floe_clim_input *c)
{
    if (c->nc >= 0 && c->path)
        nc_close(c->nc);
    free(c->path);
    free(c->when);
    free(c->lat);
    free(c->lon);
    memset(c, 0, sizeof *c);
}

/* A text attribute (NUL-terminated, at most TEXT_MAX bytes) or NULL. */
static char *text_att(int nc, int varid, const char *name)
{
    nc_type t;
    size_t len;
    if (nc_inq_att(nc, varid, name, &t, &len) != NC_NOERR || t != NC_CHAR || len > TEXT_MAX)
        return NULL;
    char *s = malloc(len + 1);
    if (s && nc_get_att_text(nc, varid, name, s) == NC_NOERR) {
        s[len] = '\0';
        return s;
    }
    free(s);
    return NULL;
}

/* The kind the file's words say: floe's title, CDO's latest operator
 * (the first line of its history); -1: they say nothing. */
static int kind_from_words(int nc)
{
    int kind = -1;
    char *title = text_att(nc, NC_GLOBAL, "title");
    if (title) {
        kind = strstr(title, "Monthly climatology")        ? FLOE_CLIM_INPUT_MONTH
               : strstr(title, "Seasonal climatology")     ? FLOE_CLIM_INPUT_SEASON
               : strstr(title, "Day-of-year climatology") ? FLOE_CLIM_INPUT_DAYOFYEAR
                                                           : -1;
        free(title);
    }
    char *hist = kind < 0 ? text_att(nc, NC_GLOBAL, "history") : NULL;
    if (hist) {
        char *nl = strchr(hist, '\n');
        if (nl)
            *nl = '\0';
        const char *cdo = strstr(hist, "cdo ");
        /* CDO's operators after its options: the first y{mon,seas,day} word */
        for (const char *p = cdo; p && *p && kind < 0; p++) {
            if ((p == cdo || p[-1] == ' ' || p[-1] == '-') && p[0] == 'y') {
                kind = !strncmp(p, "ymon", 4)    ? FLOE_CLIM_INPUT_MONTH
                       : !strncmp(p, "yseas", 5) ? FLOE_CLIM_INPUT_SEASON
                       : !strncmp(p, "yday", 4)  ? FLOE_CLIM_INPUT_DAYOFYEAR
                                                 : -1;
            }
        }
        free(hist);
    }
    return kind;
}

/* A 1-D coordinate variable's values as double. */
static floe_err read_axis(int nc, const char *path, const char *const *names, double **out,
                          size_t *n)
{
    int varid = -1;
    for (size_t i = 0; names[i] && varid < 0; i++)
        if (nc_inq_varid(nc, names[i], &varid) != NC_NOERR)
            varid = -1;
    if (varid < 0)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: no %s coordinate", path, names[0]);
    int ndims, dim;
    if (nc_inq_varndims(nc, varid, &ndims) != NC_NOERR || ndims != 1 ||
        nc_inq_vardimid(nc, varid, &dim) != NC_NOERR || nc_inq_dimlen(nc, dim, n) != NC_NOERR)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: %s is not a 1-D coordinate", path,
                        names[0]);
    *out = malloc((*n ? *n : 1) * sizeof **out);
    if (!*out)
        return FLOE_ERR(FLOE_ENOMEM, "climatology %s: %s", path, names[0]);
    if (nc_get_var_double(nc, varid, *out) != NC_NOERR)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: reading %s", path, names[0]);
    return NULL;
}

static floe_err read_time(int nc, floe_clim_input *c)
{
    static const char *const names[] = {"time", NULL};
    double *t = NULL;
    floe_err err = read_axis(nc, c->path, names, &t, &c->nt);
    int varid = -1;
    char *units = NULL, *cal = NULL;
    if (!err && nc_inq_varid(nc, "time", &varid) == NC_NOERR) {
        units = text_att(nc, varid, "units");
        cal = text_att(nc, varid, "calendar");
    }
    cf_time_units u;
    if (!err && !units)
        err = FLOE_ERR(FLOE_EFORMAT, "climatology %s: time has no units", c->path);
    if (!err)
        err = cf_time_units_parse(units, cal, &u);
    if (!err) {
        c->calendar = u.calendar;
        c->when = calloc(c->nt ? c->nt : 1, sizeof *c->when);
        if (!c->when)
            err = FLOE_ERR(FLOE_ENOMEM, "climatology %s: time", c->path);
    }
    for (size_t i = 0; !err && i < c->nt; i++)
        err = cf_time_value_to_datetime(&u, t[i], &c->when[i]);
    if (err)
        err = floe_err_push(err, __FILE__, __LINE__, " climatology %s: time", c->path);
    free(t);
    free(units);
    free(cal);
    return err;
}

floe_err floe_clim_input_open(const char *path, floe_clim_input *c)
{
    memset(c, 0, sizeof *c);
    c->nc = -1;
    c->path = strdup(path);
    if (!c->path)
        return FLOE_ERR(FLOE_ENOMEM, "climatology %s", path);
    int nc;
    int st = nc_open(path, NC_NOWRITE, &nc);
    if (st != NC_NOERR) {
        floe_err err = FLOE_ERR(FLOE_EIO, "climatology %s: %s", path, nc_strerror(st));
        floe_clim_input_free(c);
        return err;
    }
    c->nc = nc;
    static const char *const lat_names[] = {"lat", "latitude", NULL};
    static const char *const lon_names[] = {"lon", "longitude", NULL};
    floe_err err = read_time(nc, c);
    if (!err)
        err = read_axis(nc, path, lat_names, &c->lat, &c->ny);
    if (!err)
        err = read_axis(nc, path, lon_names, &c->lon, &c->nx);
    int kind = err ? -1 : kind_from_words(nc);
    if (!err && kind < 0) { /* the time axis: several steps in a month are days */
        kind = c->nt > 12 ? FLOE_CLIM_INPUT_DAYOFYEAR : FLOE_CLIM_INPUT_MONTH;
        for (size_t i = 1; i < c->nt && kind == FLOE_CLIM_INPUT_MONTH; i++)
            for (size_t k = 0; k < i; k++)
                if (c->when[i].month == c->when[k].month)
                    kind = FLOE_CLIM_INPUT_DAYOFYEAR;
    }
    c->kind = (floe_clim_input_kind)kind;
    if (err)
        floe_clim_input_free(c);
    return err;
}

/* A numeric attribute as double; 0: none. */
static int num_att(int nc, int varid, const char *name, double *out)
{
    nc_type t;
    size_t len;
    return nc_inq_att(nc, varid, name, &t, &len) == NC_NOERR && len == 1 && t != NC_CHAR &&
           t != NC_STRING && nc_get_att_double(nc, varid, name, out) == NC_NOERR;
}

floe_err floe_clim_input_var(const floe_clim_input *c, const char *var, floe_clim_var *cv)
{
    memset(cv, 0, sizeof *cv);
    int nc = c->nc, varid = -1;
    snprintf(cv->name, sizeof cv->name, "%s_mean", var);
    if (nc_inq_varid(nc, cv->name, &varid) != NC_NOERR) {
        snprintf(cv->name, sizeof cv->name, "%s", var);
        if (nc_inq_varid(nc, var, &varid) != NC_NOERR)
            return FLOE_ERR(FLOE_EINVAL, "climatology %s: no variable %s_mean or %s", c->path,
                            var, var);
    }
    int ndims = 0, dims[NC_MAX_VAR_DIMS];
    size_t len[3] = {0, 0, 0};
    if (nc_inq_varndims(nc, varid, &ndims) != NC_NOERR || ndims != 3 ||
        nc_inq_vardimid(nc, varid, dims) != NC_NOERR)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: %s is not (time, lat, lon)", c->path,
                        cv->name);
    for (int d = 0; d < 3; d++)
        if (nc_inq_dimlen(nc, dims[d], &len[d]) != NC_NOERR)
            return FLOE_ERR(FLOE_EFORMAT, "climatology %s: %s's dimensions", c->path, cv->name);
    if (len[0] != c->nt || len[1] != c->ny || len[2] != c->nx)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: variable %s is %zu x %zu x %zu, not time "
                        "x lat x lon (%zu x %zu x %zu)", c->path, cv->name, len[0], len[1],
                        len[2], c->nt, c->ny, c->nx);
    cv->varid = varid;
    /* NetCDF-3 files have no chunk cache: nothing to set */
    (void)nc_set_var_chunk_cache(nc, varid, CLIM_CHUNK_CACHE_BYTES, CLIM_CHUNK_CACHE_SLOTS,
                                 CLIM_CHUNK_CACHE_PREEMPTION);
    cv->scale = 1;
    cv->offset = 0;
    cv->has_fill = num_att(nc, varid, "_FillValue", &cv->fill);
    cv->has_miss = num_att(nc, varid, "missing_value", &cv->miss);
    int scaled = num_att(nc, varid, "scale_factor", &cv->scale);
    scaled |= num_att(nc, varid, "add_offset", &cv->offset);
    nc_type xt;
    if (nc_inq_vartype(nc, varid, &xt) != NC_NOERR)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: %s's type", c->path, cv->name);
    if (!cv->has_fill && xt == NC_FLOAT) { /* NetCDF's default fill */
        cv->fill = NC_FILL_FLOAT;
        cv->has_fill = 1;
    }
    cv->f32 = xt == NC_FLOAT && !scaled; /* its decoded values are floats */
    return NULL;
}

/* The decoded value of stored x (as double), NaN where missing. Compared
 * in the stored type: a float fill read as double is exact. */
static double decode(const floe_clim_var *cv, double x)
{
    if ((cv->has_fill && x == cv->fill) || (cv->has_miss && x == cv->miss) || isnan(x))
        return NAN;
    return x * cv->scale + cv->offset; /* float: exact (and -0 becomes +0, as it always did) */
}

floe_err floe_clim_input_read_box(const floe_clim_input *c, const floe_clim_var *cv,
                                  const size_t start[3], const size_t count[3], void *out)
{
    size_t n = count[0] * count[1] * count[2];
    int st = cv->f32 ? nc_get_vara_float(c->nc, cv->varid, start, count, out)
                     : nc_get_vara_double(c->nc, cv->varid, start, count, out);
    if (st != NC_NOERR)
        return FLOE_ERR(FLOE_EFORMAT, "climatology %s: reading %s [%zu+%zu, %zu+%zu, %zu+%zu]: "
                        "%s", c->path, cv->name, start[0], count[0], start[1], count[1],
                        start[2], count[2], nc_strerror(st));
    if (cv->f32)
        for (size_t i = 0; i < n; i++)
            ((float *)out)[i] = (float)decode(cv, ((float *)out)[i]);
    else
        for (size_t i = 0; i < n; i++)
            ((double *)out)[i] = decode(cv, ((double *)out)[i]);
    return NULL;
}
