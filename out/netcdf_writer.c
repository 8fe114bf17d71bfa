/* SPDX-License-Identifier: Apache-2.0 */
/* out/netcdf_writer.c - see netcdf_writer.h. */
#include "out/netcdf_writer.h"

#include "common/floe_file.h"

#include <hdf5.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nc_writer {
    int ncid;
    int open;
    hid_t h5;   /* > 0: in raw-chunk mode, the file reopened through HDF5 */
    char *path; /* final */
    char *tmp;  /* being written */
};

/* On a netCDF error: return it, in context "PATH: WHAT" (fmt, ... say what). */
#define NCW_CHECK(w, call, fmt, ...)                                            \
    do {                                                                        \
        int ncw_status_ = (call);                                               \
        if (ncw_status_ != NC_NOERR)                                            \
            return floe_err_push(FLOE_ERR(FLOE_EIO, "%s", nc_strerror(ncw_status_)), \
                                 __FILE__, __LINE__, " %s: " fmt, (w)->path, __VA_ARGS__); \
    } while (0)

floe_err nc_writer_create(const char *path, nc_writer **out)
{
    *out = NULL;
    nc_writer *w = calloc(1, sizeof *w);
    if (!w)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the writer", path);
    w->path = strdup(path);
    floe_err err = w->path ? floe_file_temp_path(path, &w->tmp)
                           : FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the writer", path);
    if (err) {
        nc_writer_abort(&w);
        return err;
    }
    /* exclusively: never through a planted link, never over another's file */
    int status = nc_create(w->tmp, NC_NETCDF4 | NC_NOCLOBBER, &w->ncid);
    if (status != NC_NOERR) {
        err = FLOE_ERR(FLOE_EIO, "%s: cannot create: %s", path, nc_strerror(status));
        nc_writer_abort(&w);
        return err;
    }
    w->open = 1;
    *out = w;
    return NULL;
}

const char *nc_writer_path(const nc_writer *w)
{
    return w->path;
}

floe_err nc_writer_def_dim(nc_writer *w, const char *name, size_t len, int *dimid)
{
    NCW_CHECK(w, nc_def_dim(w->ncid, name, len, dimid), "dimension %s", name);
    return NULL;
}

floe_err nc_writer_def_var(nc_writer *w, const char *name, int xtype, int ndims,
                           const int *dimids, const size_t *chunks, int deflate_level,
                           int *varid)
{
    NCW_CHECK(w, nc_def_var(w->ncid, name, xtype, ndims, dimids, varid),
              "variable %s", name);
    if (chunks)
        NCW_CHECK(w, nc_def_var_chunking(w->ncid, *varid, NC_CHUNKED, chunks),
                  "chunking of %s", name);
    if (deflate_level > 0)
        NCW_CHECK(w, nc_def_var_deflate(w->ncid, *varid, 1, 1, deflate_level),
                  "compression of %s", name);
    return NULL;
}

floe_err nc_writer_def_fill(nc_writer *w, int varid, const void *fill)
{
    NCW_CHECK(w, nc_def_var_fill(w->ncid, varid, NC_FILL, fill), "_FillValue of variable %d",
              varid);
    return NULL;
}

floe_err nc_writer_put_att_text(nc_writer *w, int varid, const char *name, const char *text)
{
    NCW_CHECK(w, nc_put_att_text(w->ncid, varid, name, strlen(text), text), "attribute %s",
              name);
    return NULL;
}

floe_err nc_writer_put_att_double(nc_writer *w, int varid, const char *name, int xtype,
                                  size_t n, const double *values)
{
    NCW_CHECK(w, nc_put_att_double(w->ncid, varid, name, xtype, n, values),
              "attribute %s", name);
    return NULL;
}

static int in_list(const char *key, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (!strcmp(key, *skip))
            return 1;
    return 0;
}

/* numeric_type (NC_DOUBLE when 0) if it holds every value exactly: an
 * integer variable's attributes are of its type (CF), unless one is not an
 * integer of that range (a float "vmax" on a byte mask), then double. */
static int type_holding(int numeric_type, const double *v, size_t n)
{
    double lo, hi;
    switch (numeric_type) {
    case NC_BYTE: lo = -128, hi = 127; break;
    case NC_UBYTE: lo = 0, hi = 255; break;
    case NC_SHORT: lo = -32768, hi = 32767; break;
    case NC_USHORT: lo = 0, hi = 65535; break;
    case NC_INT: lo = -2147483648.0, hi = 2147483647.0; break;
    case NC_UINT: lo = 0, hi = 4294967295.0; break;
    case NC_INT64: lo = -9223372036854775808.0, hi = 9223372036854774784.0; break;
    case NC_UINT64: lo = 0, hi = 18446744073709549568.0; break;
    default: return numeric_type ? numeric_type : NC_DOUBLE; /* float types, or none */
    }
    for (size_t i = 0; i < n; i++)
        if (!(v[i] >= lo && v[i] <= hi) || v[i] != (double)(long long)v[i])
            return NC_DOUBLE;
    return numeric_type;
}

floe_err nc_writer_put_atts_json(nc_writer *w, int varid, const cJSON *attrs,
                                 int numeric_type, const char *const *skip)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs)
    {
        if (!a->string || in_list(a->string, skip))
            continue;
        if (cJSON_IsString(a)) {
            FLOE_CHECK(nc_writer_put_att_text(w, varid, a->string, a->valuestring));
        } else if (cJSON_IsNumber(a)) {
            FLOE_CHECK(nc_writer_put_att_double(w, varid, a->string,
                                                type_holding(numeric_type, &a->valuedouble, 1),
                                                1, &a->valuedouble));
        } else if (cJSON_IsBool(a)) {
            double v = cJSON_IsTrue(a);
            FLOE_CHECK(nc_writer_put_att_double(w, varid, a->string, NC_BYTE, 1, &v));
        } else if (cJSON_IsArray(a)) {
            int n = cJSON_GetArraySize(a);
            if (n == 0)
                continue;
            double *v = calloc((size_t)n, sizeof *v);
            if (!v)
                return FLOE_ERR(FLOE_ENOMEM, "attribute %s", a->string);
            int numeric = 1;
            for (int i = 0; i < n; i++) {
                const cJSON *e = cJSON_GetArrayItem(a, i);
                numeric &= cJSON_IsNumber(e);
                v[i] = numeric ? e->valuedouble : 0;
            }
            floe_err err = numeric ? nc_writer_put_att_double(w, varid, a->string,
                                                              type_holding(numeric_type, v,
                                                                           (size_t)n),
                                                              (size_t)n, v)
                                   : NULL; /* lists of strings: not CF, dropped */
            free(v);
            FLOE_CHECK(err);
        }
        /* null and nested objects have no NetCDF attribute form: dropped. */
    }
    return NULL;
}

floe_err nc_writer_enddef(nc_writer *w)
{
    NCW_CHECK(w, nc_enddef(w->ncid), "%s", "leaving define mode");
    return NULL;
}

floe_err nc_writer_put(nc_writer *w, int varid, const size_t *start, const size_t *count,
                       const void *values)
{
    NCW_CHECK(w, nc_put_vara(w->ncid, varid, start, count, values), "writing variable %d",
              varid);
    return NULL;
}

floe_err nc_writer_begin_raw_chunks(nc_writer *w)
{
    if (!w->open)
        return FLOE_ERR(FLOE_EINTERNAL, "%s: raw chunks after the netCDF handle closed", w->path);
    NCW_CHECK(w, nc_close(w->ncid), "%s", "closing the netCDF handle before raw chunks");
    w->open = 0;
    w->h5 = H5Fopen(w->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (w->h5 < 0) {
        w->h5 = 0;
        return FLOE_ERR(FLOE_EIO, "%s: cannot reopen %s through HDF5", w->path, w->tmp);
    }
    return NULL;
}

floe_err nc_writer_put_raw_chunk(nc_writer *w, const char *name, int ndims, const size_t *start,
                                 const void *bytes, size_t n)
{
    if (w->h5 <= 0)
        return FLOE_ERR(FLOE_EINTERNAL, "%s: raw chunk of %s outside raw-chunk mode", w->path, name);
    hsize_t off[NC_MAX_VAR_DIMS];
    for (int d = 0; d < ndims && d < NC_MAX_VAR_DIMS; d++)
        off[d] = start[d];
    hid_t ds = H5Dopen2(w->h5, name, H5P_DEFAULT);
    if (ds < 0)
        return FLOE_ERR(FLOE_EIO, "%s: variable %s: cannot open its HDF5 dataset", w->path, name);
    herr_t st = H5Dwrite_chunk(ds, H5P_DEFAULT, 0, off, n, bytes);
    H5Dclose(ds);
    if (st < 0)
        return FLOE_ERR(FLOE_EIO, "%s: variable %s: writing the chunk at (%zu, %zu, %zu) failed",
                        w->path, name, start[0], ndims > 1 ? start[1] : 0, ndims > 2 ? start[2] : 0);
    return NULL;
}

/* Close whichever handle is open; 0 or the failing library's status. */
static int close_handles(nc_writer *w)
{
    int status = NC_NOERR;
    if (w->open)
        status = nc_close(w->ncid);
    w->open = 0;
    if (w->h5 > 0 && H5Fclose(w->h5) < 0 && status == NC_NOERR)
        status = NC_EHDFERR;
    w->h5 = 0;
    return status;
}

floe_err nc_writer_finish(nc_writer **wp, char **tmp)
{
    nc_writer *w = *wp;
    *tmp = NULL;
    int status = close_handles(w);
    if (status != NC_NOERR) {
        floe_err err = FLOE_ERR(FLOE_EIO, "%s: closing: %s", w->path, nc_strerror(status));
        nc_writer_abort(wp);
        return err;
    }
    /* The library has closed the file: flush it (common/floe_file.h; it
     * removes the temporary on failure). */
    floe_err err = floe_file_sync_temp(w->tmp, w->path);
    if (!err) {
        *tmp = w->tmp;
        w->tmp = NULL;
    }
    nc_writer_abort(wp); /* frees the rest; the temporary, if still here, goes */
    return err;
}

floe_err nc_writer_commit(nc_writer **wp)
{
    char *path = strdup((*wp)->path), *tmp = NULL;
    floe_err err = path ? nc_writer_finish(wp, &tmp)
                        : FLOE_ERR(FLOE_ENOMEM, "%s: committing", (*wp)->path);
    if (!path)
        nc_writer_abort(wp);
    if (!err) {
        const char *paths[1] = {path};
        err = floe_file_commit_all(1, &tmp, paths);
    }
    free(tmp);
    free(path);
    return err;
}

void nc_writer_abort(nc_writer **wp)
{
    nc_writer *w = wp ? *wp : NULL;
    if (!w)
        return;
    close_handles(w); /* its status no longer matters: the file goes */
    floe_file_discard_temp(&w->tmp);
    free(w->path);
    free(w);
    *wp = NULL;
}
