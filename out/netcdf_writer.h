/* SPDX-License-Identifier: Apache-2.0 */
/* out/netcdf_writer.h - writing a NetCDF-4 file atomically.
 *
 * The file is written under a temporary name next to the destination
 * ("OUT.nc.floe-tmp-PID") and, by nc_writer_commit, flushed, renamed over
 * it and the folder flushed (common/floe_file.h, the writer every output
 * shares), so a failed or interrupted job never leaves a partial OUT.nc
 * behind; nc_writer_abort (or a failed commit) removes the temporary.
 *
 * Thin on purpose: it hides netCDF's int status codes behind floe_err and
 * names the file and the variable in every error; the CF conventions are
 * the caller's (out/grid_output.c).
 */
#ifndef FLOE_NETCDF_WRITER_H
#define FLOE_NETCDF_WRITER_H

#include "common/floe_error.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_writer nc_writer;

/* Creates the temporary file in define mode. */
floe_err nc_writer_create(const char *path, nc_writer **out);
const char *nc_writer_path(const nc_writer *w); /* the final path (borrowed) */

floe_err nc_writer_def_dim(nc_writer *w, const char *name, size_t len, int *dimid);
/* xtype is netCDF's (NC_FLOAT, NC_DOUBLE, ...). chunks may be NULL
 * (contiguous); deflate_level 0 = no compression (else shuffle + deflate). */
floe_err nc_writer_def_var(nc_writer *w, const char *name, int xtype, int ndims,
                           const int *dimids, const size_t *chunks, int deflate_level,
                           int *varid);
/* nc_writer_def_var with a chunk cache of at least cache_bytes in at least
 * cache_slots hash slots (0, 0: the library's default): for a writer that
 * fills its chunks in several puts and must not have a half-filled chunk
 * written out and rewritten later (see out/series_output.c). */
floe_err nc_writer_def_var_cached(nc_writer *w, const char *name, int xtype, int ndims,
                                  const int *dimids, const size_t *chunks, int deflate_level,
                                  size_t cache_bytes, size_t cache_slots, int *varid);
/* _FillValue must be set before nc_writer_enddef; value of the var's type. */
floe_err nc_writer_def_fill(nc_writer *w, int varid, const void *fill);
floe_err nc_writer_put_att_text(nc_writer *w, int varid, const char *name, const char *text);
floe_err nc_writer_put_att_double(nc_writer *w, int varid, const char *name, int xtype,
                                  size_t n, const double *values);
/* Copy a JSON attribute object (Zarr attributes): strings -> text, numbers
 * -> double (or the type of `numeric_type` when given, e.g. NC_FLOAT for a
 * float32 variable's vmin/vmax), arrays of numbers -> vectors; keys in
 * `skip` (NULL-terminated list) are left out. */
floe_err nc_writer_put_atts_json(nc_writer *w, int varid, const cJSON *attrs,
                                 int numeric_type, const char *const *skip);
floe_err nc_writer_enddef(nc_writer *w);
/* Write a hyperslab (start/count per dimension) of a variable, values in
 * the variable's type. */
floe_err nc_writer_put(nc_writer *w, int varid, const size_t *start, const size_t *count,
                       const void *values);
/* Raw chunks: ranks compress their own tiles (out/chunk_encode.h) and the
 * writer stores the bytes as they are, so the serial writer does no
 * compression. netCDF has no call for it, so this closes the netCDF
 * handle (all definitions, attributes and the coordinates must be written
 * by then; nc_writer_put is refused afterwards) and reopens the temporary
 * file through HDF5, whose H5Dwrite_chunk stores a chunk that has already
 * been through the variable's filters (shuffle, deflate). */
floe_err nc_writer_begin_raw_chunks(nc_writer *w);
/* Store one chunk of variable `name`: `start` is the chunk's first index
 * on each of its `ndims` dimensions (multiples of the chunk shape), bytes
 * the filtered chunk. */
floe_err nc_writer_put_raw_chunk(nc_writer *w, const char *name, int ndims, const size_t *start,
                                 const void *bytes, size_t n);
/* Placed chunks (engine/job/stats_place.h): store n zero bytes where the
 * chunk goes, and *addr = the file offset HDF5 gave them, for another
 * process to write the chunk's real bytes there (pwrite) once the file is
 * finished. HDF5 allocates a chunk's space when the chunk is written, by
 * its size alone, so a placeholder of the chunk's size written in the
 * chunk's turn leaves the file laid out as the chunk itself would: with
 * the real bytes placed, the file is the same byte for byte. */
floe_err nc_writer_put_raw_placeholder(nc_writer *w, const char *name, int ndims,
                                       const size_t *start, size_t n, uint64_t *addr);
/* Close and flush the temporary without renaming it: *tmp = its name
 * (owned), for a commit of all of a run's files together
 * (floe_file_commit_all). Frees the writer; on error no temporary is left
 * and *tmp = NULL. */
floe_err nc_writer_finish(nc_writer **w, char **tmp);
/* Close and rename over the final path. Frees the writer. */
floe_err nc_writer_commit(nc_writer **w);
/* Close and remove the temporary file. Frees the writer. Safe on NULL. */
void nc_writer_abort(nc_writer **w);

#endif
