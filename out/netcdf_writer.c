/* SPDX-License-Identifier: Apache-2.0 */
/* out/netcdf_writer.c - see netcdf_writer.h.
 *
 * A full disk is the failure this file is shaped around: HDF5 1.10 cannot
 * recover from a failed write (out/netcdf_space.h says how it fails), so
 * - before each call that lets HDF5 allocate or write, the space it can
 *   take is reserved (out/netcdf_space.h): a full disk fails there, before
 *   HDF5 writes, and the error is floe_file's "no space left on device
 *   writing OUT";
 * - commit flushes before it closes, and a handle whose close was tried is
 *   never touched again;
 * - abort closes through a discarding file (discard_writes): what the
 *   library still holds goes nowhere, and the close cannot fail for want
 *   of space. The file is closed exactly once on every path.
 * Where HDF5 still meets a full disk (no fallocate), netCDF and HDF5 say
 * only "HDF error"; errno, or HDF5's error stack, says whether the disk
 * was full. */
#define _GNU_SOURCE /* memfd_create */
#include "out/netcdf_writer.h"

#include "common/floe_file.h"
#include "common/floe_interrupt.h"
#include "out/netcdf_space.h"

#include <errno.h>
#include <hdf5.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct nc_writer {
    int ncid;
    int open;
    hid_t h5;   /* > 0: in raw-chunk mode, the file reopened through HDF5 */
    char *path; /* final */
    char *tmp;  /* being written */
    nc_space space; /* reserved ahead of HDF5 */
};

/* HDF5 records a failed system call as "..., errno = N, error message =
 * '...'" on its error stack (its sec2 driver and HSYS_ errors). */
static herr_t stack_errno_no_space(unsigned n, const H5E_error2_t *e, void *found)
{
    (void)n;
    const char *at = e->desc ? strstr(e->desc, "errno = ") : NULL;
    int err_no = at ? atoi(at + strlen("errno = ")) : 0;
    if (floe_file_no_space(err_no))
        *(int *)found = err_no;
    return 0;
}

/* Did the library call that just failed run out of space? err_no: errno
 * as the call left it (cleared before it). HDF5's error stack keeps the
 * reason when netCDF's clean-up has moved errno on. The errno that says
 * so (ENOSPC or EDQUOT), else 0. */
static int no_space_errno(int err_no)
{
    if (floe_file_no_space(err_no))
        return err_no;
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, stack_errno_no_space, &found);
    return found;
}

/* The error of a failed call: a full disk is floe_file's one message,
 * anything else "PATH: WHAT: the library's message". */
static floe_err call_failed(const nc_writer *w, int err_no, const char *lib_message,
                            const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static floe_err call_failed(const nc_writer *w, int err_no, const char *lib_message,
                            const char *file, int line, const char *fmt, ...)
{
    int full = no_space_errno(err_no);
    if (full)
        return floe_file_no_space_err(w->path, full);
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return floe_err_push(floe_err_new(FLOE_EIO, file, line, "%s", lib_message), file, line,
                         " %s: %s", w->path, what);
}

/* The error of a reservation (netcdf_space.h) that failed with err_no. */
static floe_err reserved(const nc_writer *w, int err_no)
{
    if (!err_no)
        return NULL;
    if (floe_file_no_space(err_no))
        return floe_file_no_space_err(w->path, err_no);
    return FLOE_ERR(FLOE_EIO, "%s: reserving space in %s: %s", w->path, w->tmp,
                    strerror(err_no));
}

/* Reserve what the next call can take: varid < 0 for a flush or
 * definitions, touched the bytes of chunks a write touches. */
static floe_err reserve(nc_writer *w, int varid, size_t touched)
{
    return reserved(w, nc_space_reserve(&w->space, varid, touched));
}

/* On a netCDF error: return it, in context "PATH: WHAT" (fmt, ... say what). */
#define NCW_CHECK(w, call, fmt, ...)                                            \
    do {                                                                        \
        errno = 0;                                                              \
        int ncw_status_ = (call);                                               \
        if (ncw_status_ != NC_NOERR)                                            \
            return call_failed((w), errno, nc_strerror(ncw_status_), __FILE__,  \
                               __LINE__, fmt, __VA_ARGS__);                     \
    } while (0)

/* Write out what the open handle holds (netCDF's definitions, HDF5's
 * caches). A full disk fails here, with the handle still open for abort:
 * the close that follows has nothing left to write. */
static floe_err flush_handles(nc_writer *w)
{
    FLOE_CHECK(reserve(w, -1, 0));
    if (w->open)
        NCW_CHECK(w, nc_sync(w->ncid), "%s", "writing it out");
    if (w->h5 > 0) {
        errno = 0;
        if (H5Fflush(w->h5, H5F_SCOPE_GLOBAL) < 0)
            return call_failed(w, errno, "HDF5 error", __FILE__, __LINE__, "%s",
                               "writing it out");
    }
    nc_space_flushed(&w->space);
    return NULL;
}

/* Close whichever handle is open, after flush_handles. Whatever the
 * library answers, the handle is not touched again: a second close of a
 * file HDF5 failed to close is what crashed. */
static floe_err close_handles(nc_writer *w)
{
    floe_err err = reserve(w, -1, 0); /* what the close writes: little, after a flush */
    if (err)
        return err;
    nc_space_follow(&w->space, 0);
    if (w->open) {
        w->open = 0;
        errno = 0;
        int status = nc_close(w->ncid);
        if (status != NC_NOERR)
            err = call_failed(w, errno, nc_strerror(status), __FILE__, __LINE__, "%s", "closing");
    }
    if (w->h5 > 0) {
        hid_t h5 = w->h5;
        w->h5 = 0;
        errno = 0;
        if (H5Fclose(h5) < 0 && !err)
            err = call_failed(w, errno, "HDF5 error", __FILE__, __LINE__, "%s", "closing");
    }
    return err;
}

/* The HDF5 id of the file netCDF has open at tmp; 0 when none is found. */
static hid_t netcdf_file_id(const char *tmp)
{
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
    hid_t *ids = n > 0 ? calloc((size_t)n, sizeof *ids) : NULL;
    hid_t found = 0;
    n = ids ? H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)n, ids) : 0;
    for (ssize_t i = 0; i < n && !found; i++) {
        ssize_t len = H5Fget_name(ids[i], NULL, 0);
        char *name = len > 0 ? malloc((size_t)len + 1) : NULL;
        if (name && H5Fget_name(ids[i], name, (size_t)len + 1) == len && !strcmp(name, tmp))
            found = ids[i];
        free(name);
    }
    free(ids);
    return found;
}

/* Before an abandoned file is closed: point the library's descriptor of it
 * at an anonymous file in memory, so that what the close still writes
 * (cached metadata, chunks) goes nowhere and cannot fail for want of space
 * (see the top comment). Only where netcdf_space follows the descriptor
 * (HDF5's POSIX driver); elsewhere the close is tried as it is. */
static void discard_writes(const nc_writer *w)
{
    if (w->space.fd < 0 || (!w->open && w->h5 <= 0))
        return;
    int nowhere = memfd_create("floe-discard", MFD_CLOEXEC);
    if (nowhere < 0)
        return;
    dup2(nowhere, w->space.fd); /* closes the temporary's descriptor */
    close(nowhere);
}

floe_err nc_writer_create(const char *path, nc_writer **out)
{
    *out = NULL;
    nc_writer *w = calloc(1, sizeof *w);
    if (!w)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the writer", path);
    w->space.fd = -1;
    w->path = strdup(path);
    floe_err err = w->path ? floe_file_temp_path(path, &w->tmp)
                           : FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the writer", path);
    if (err) {
        nc_writer_abort(&w);
        return err;
    }
    /* exclusively: never through a planted link, never over another's file */
    errno = 0;
    int status = nc_create(w->tmp, NC_NETCDF4 | NC_NOCLOBBER, &w->ncid);
    if (status != NC_NOERR) {
        err = call_failed(w, errno, nc_strerror(status), __FILE__, __LINE__, "%s",
                          "cannot create");
        if (status == NC_EEXIST) {
            /* someone else's file (or link) is at the name: not ours to remove */
            floe_interrupt_remove_path(w->tmp);
            free(w->tmp);
            w->tmp = NULL;
        }
        nc_writer_abort(&w);
        return err;
    }
    w->open = 1;
    nc_space_follow(&w->space, netcdf_file_id(w->tmp));
    err = reserve(w, -1, 0);
    if (err) {
        nc_writer_abort(&w);
        return err;
    }
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

/* What variable varid can take on disk (netcdf_space.h): contiguous,
 * all of its storage at its first write; chunked, its chunks, and what its
 * chunk cache holds dirty. */
static floe_err note_var(nc_writer *w, const char *name, int xtype, int ndims,
                         const int *dimids, const size_t *chunks, int varid)
{
    size_t type_size = 0, n = 1, cache = 0, nelems = 0;
    float preemption = 0;
    NCW_CHECK(w, nc_inq_type(w->ncid, xtype, NULL, &type_size), "type of %s", name);
    for (int d = 0; d < ndims; d++) {
        size_t len = 0;
        NCW_CHECK(w, nc_inq_dimlen(w->ncid, dimids[d], &len), "dimensions of %s", name);
        n *= chunks ? chunks[d] : len;
    }
    nc_space_var v = {0};
    if (chunks) {
        NCW_CHECK(w, nc_get_var_chunk_cache(w->ncid, varid, &cache, &nelems, &preemption),
                  "chunk cache of %s", name);
        v.chunk_bytes = n * type_size;
        v.cache_bytes = cache;
    } else {
        v.storage = n * type_size;
    }
    if (nc_space_add_var(&w->space, varid, &v))
        return FLOE_ERR(FLOE_ENOMEM, "%s: variable %s", w->path, name);
    return NULL;
}

floe_err nc_writer_def_var(nc_writer *w, const char *name, int xtype, int ndims,
                           const int *dimids, const size_t *chunks, int deflate_level,
                           int *varid)
{
    return nc_writer_def_var_cached(w, name, xtype, ndims, dimids, chunks, deflate_level, 0, 0,
                                    varid);
}

floe_err nc_writer_def_var_cached(nc_writer *w, const char *name, int xtype, int ndims,
                                  const int *dimids, const size_t *chunks, int deflate_level,
                                  size_t cache_bytes, size_t cache_slots, int *varid)
{
    NCW_CHECK(w, nc_def_var(w->ncid, name, xtype, ndims, dimids, varid),
              "variable %s", name);
    if (chunks)
        NCW_CHECK(w, nc_def_var_chunking(w->ncid, *varid, NC_CHUNKED, chunks),
                  "chunking of %s", name);
    if (deflate_level > 0)
        NCW_CHECK(w, nc_def_var_deflate(w->ncid, *varid, 1, 1, deflate_level),
                  "compression of %s", name);
    if (chunks && cache_bytes) {
        size_t cache = 0, nelems = 0;
        float preemption = 0;
        NCW_CHECK(w, nc_get_var_chunk_cache(w->ncid, *varid, &cache, &nelems, &preemption),
                  "chunk cache of %s", name);
        if (cache_bytes > cache || cache_slots > nelems)
            NCW_CHECK(w, nc_set_var_chunk_cache(w->ncid, *varid,
                                                cache_bytes > cache ? cache_bytes : cache,
                                                cache_slots > nelems ? cache_slots : nelems,
                                                preemption),
                      "chunk cache of %s", name);
    }
    return note_var(w, name, xtype, ndims, dimids, chunks, *varid);
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
    FLOE_CHECK(reserve(w, -1, 0));
    NCW_CHECK(w, nc_enddef(w->ncid), "%s", "leaving define mode");
    nc_space_flushed(&w->space); /* netCDF's enddef flushes the file */
    return NULL;
}

floe_err nc_writer_put(nc_writer *w, int varid, const size_t *start, const size_t *count,
                       const void *values)
{
    int ndims = 0, storage = NC_CONTIGUOUS;
    size_t chunks[NC_MAX_VAR_DIMS];
    NCW_CHECK(w, nc_inq_varndims(w->ncid, varid, &ndims), "variable %d", varid);
    NCW_CHECK(w, nc_inq_var_chunking(w->ncid, varid, &storage, chunks), "variable %d", varid);
    size_t touched = 0;
    if (storage == NC_CHUNKED && varid >= 0 && (size_t)varid < w->space.nvars)
        touched = nc_space_touched(chunks, ndims, start, count,
                                   w->space.vars[varid].chunk_bytes);
    FLOE_CHECK(reserve(w, varid, touched));
    /* No flush here, however much the caches hold dirty (their chunks are
     * reserved for, netcdf_space.h): a chunk flushed part-written is
     * compressed, rewritten and moved by the next write, and where writes
     * split a chunk depends on the rank count, which must not change the
     * file's bytes. */
    NCW_CHECK(w, nc_put_vara(w->ncid, varid, start, count, values), "writing variable %d",
              varid);
    return NULL;
}

floe_err nc_writer_begin_raw_chunks(nc_writer *w)
{
    if (!w->open)
        return FLOE_ERR(FLOE_EINTERNAL, "%s: raw chunks after the netCDF handle closed", w->path);
    FLOE_CHECK(flush_handles(w)); /* a full disk fails here, the handle open for abort */
    FLOE_CHECK(close_handles(w));
    errno = 0;
    w->h5 = H5Fopen(w->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (w->h5 < 0) {
        w->h5 = 0;
        return call_failed(w, errno, "HDF5 error", __FILE__, __LINE__, "cannot reopen %s through HDF5",
                           w->tmp);
    }
    nc_space_follow(&w->space, w->h5);
    return reserve(w, -1, 0);
}

/* Variable name's HDF5 dataset (*ds, to close) and the chunk offset of
 * start (off: ndims entries) in HDF5's terms. */
static floe_err chunk_dataset(nc_writer *w, const char *name, int ndims, const size_t *start,
                              hsize_t *off, hid_t *ds)
{
    for (int d = 0; d < ndims && d < NC_MAX_VAR_DIMS; d++)
        off[d] = start[d];
    *ds = H5Dopen2(w->h5, name, H5P_DEFAULT);
    if (*ds < 0)
        return FLOE_ERR(FLOE_EIO, "%s: variable %s: cannot open its HDF5 dataset", w->path, name);
    return NULL;
}

floe_err nc_writer_put_raw_chunk(nc_writer *w, const char *name, int ndims, const size_t *start,
                                 const void *bytes, size_t n)
{
    if (w->h5 <= 0)
        return FLOE_ERR(FLOE_EINTERNAL, "%s: raw chunk of %s outside raw-chunk mode", w->path, name);
    hsize_t off[NC_MAX_VAR_DIMS];
    hid_t ds = -1;
    FLOE_CHECK(chunk_dataset(w, name, ndims, start, off, &ds));
    floe_err err = reserved(w, nc_space_reserve_bytes(&w->space, n));
    if (err) {
        H5Dclose(ds);
        return err;
    }
    errno = 0;
    herr_t st = H5Dwrite_chunk(ds, H5P_DEFAULT, 0, off, n, bytes);
    int err_no = errno;
    err = st < 0 ? call_failed(w, err_no, "HDF5 error", __FILE__, __LINE__,
                               "variable %s: writing the chunk at (%zu, %zu, %zu) failed", name,
                               start[0], ndims > 1 ? start[1] : 0, ndims > 2 ? start[2] : 0)
                 : NULL; /* asked before H5Dclose clears HDF5's error stack */
    H5Dclose(ds);
    return err;
}

floe_err nc_writer_put_raw_placeholder(nc_writer *w, const char *name, int ndims,
                                       const size_t *start, size_t n, uint64_t *addr)
{
    *addr = 0;
    void *zeros = calloc(n ? n : 1, 1);
    if (!zeros)
        return FLOE_ERR(FLOE_ENOMEM, "%s: a placeholder of %zu bytes for a chunk of %s", w->path,
                        n, name);
    floe_err err = nc_writer_put_raw_chunk(w, name, ndims, start, zeros, n);
    free(zeros);
    if (err)
        return err;
    hsize_t off[NC_MAX_VAR_DIMS];
    hid_t ds = -1;
    FLOE_CHECK(chunk_dataset(w, name, ndims, start, off, &ds));
    unsigned mask = 0;
    haddr_t at = HADDR_UNDEF;
    hsize_t size = 0;
    herr_t st = H5Dget_chunk_info_by_coord(ds, off, &mask, &at, &size);
    H5Dclose(ds);
    /* the chunk just written, unfiltered by HDF5 (mask 0) and of its size */
    if (st < 0 || at == HADDR_UNDEF || size != n || mask != 0)
        return FLOE_ERR(FLOE_EIO, "%s: variable %s: where HDF5 placed the chunk at (%zu, %zu, "
                        "%zu) cannot be read back", w->path, name, start[0],
                        ndims > 1 ? start[1] : 0, ndims > 2 ? start[2] : 0);
    *addr = (uint64_t)at;
    return NULL;
}

floe_err nc_writer_finish(nc_writer **wp, char **tmp)
{
    nc_writer *w = *wp;
    *tmp = NULL;
    floe_err err = flush_handles(w);
    if (!err)
        err = close_handles(w);
    if (err) {
        nc_writer_abort(wp);
        return err;
    }
    /* The library has closed the file: return the space reserved past
     * its end and flush it (common/floe_file.h; it removes the temporary
     * on failure). The rename comes with the run's other files. */
    nc_space_release(&w->space, w->tmp);
    err = floe_file_sync_temp(w->tmp, w->path);
    if (!err) {
        *tmp = w->tmp;
        w->tmp = NULL;
    }
    nc_writer_abort(wp); /* frees the rest (nothing is open any more) */
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
    /* Its status no longer matters, the file goes; but the close must
     * succeed on a full disk (see the top comment). */
    discard_writes(w);
    if (w->open)
        nc_abort(w->ncid);
    w->open = 0;
    if (w->h5 > 0)
        H5Fclose(w->h5);
    w->h5 = 0;
    floe_file_discard_temp(&w->tmp);
    nc_space_free(&w->space);
    free(w->path);
    free(w);
    *wp = NULL;
}
