/* SPDX-License-Identifier: Apache-2.0 */
/* out/grid_output.h - a CF-1.8 NetCDF-4 file of variables on a (time, lat,
 * lon) grid: coordinate variables with their source attributes and bounds,
 * data variables with the source attributes and _FillValue, global
 * attributes recording where the data came from and the exact command
 * (out/provenance.h). Source standard_names that are not CF names are
 * left out (out/cf_attrs.h).
 * Written atomically (out/netcdf_writer.h): OUT appears only on commit. */
#ifndef FLOE_CF_GRID_OUTPUT_H
#define FLOE_CF_GRID_OUTPUT_H

#include "common/floe_error.h"
#include "dataset/dataset.h"

#include <stddef.h>
#include <stdint.h>

/* How one data variable is written, when not float32 as statistics were
 * (cf_grid_spec.types NULL: every variable float32, _FillValue the
 * source's fill as float32). */
typedef struct cf_var_type {
    floe_dtype dtype;     /* the written type (not float16 or bool: NetCDF has neither) */
    int no_fill;          /* no _FillValue (bool masks: 0 is data) */
    int unpacked;         /* unpacked from packed data: _FillValue NaN; scale_factor,
                             add_offset and the packed-unit missing_value and
                             valid_* left out */
    floe_dtype packed_as; /* kept packed (non-zero: FLOE_DT_FLOAT32 or _FLOAT64):
                             scale_factor/add_offset written in this type */
    int count;            /* a count of values: units "1", no standard_name, no _FillValue */
} cf_var_type;

typedef struct cf_grid_spec {
    const char *path;
    const char *command;                /* the exact command line */
    const floe_provenance *provenance;
    const floe_array *time, *lat, *lon; /* the source coordinate arrays */
    /* Selected coordinate values. */
    const double *time_values, *lat_values, *lon_values;
    size_t nt, ny, nx;
    double lat_step, lon_step;          /* source grid steps: bounds of 1-cell axes */
    const floe_array *const *vars;      /* (time, lat, lon) variables */
    size_t nvars;
    const cf_var_type *types;           /* per variable, or NULL: all float32 */
    /* Derived outputs (statistics): the written variables' names (NULL: the
     * source names), their cell_methods (NULL: the source attribute). And
     * the time span each output step stands for (NULL: instants), written
     * as CF bounds "time_bnds": a statistic's steps lie in the middle of
     * their bounds, extracted steps keep their source stamps (which may
     * be a bound, e.g. the end of a day). */
    const char *const *out_names;
    const char *const *cell_methods;
    const double *time_bounds;
    /* With time_bounds: 1 names them "climatology_bounds" and links them
     * with the time attribute "climatology" (CF 7.4), not "bounds". */
    int climatology;
    /* Derived outputs that are another quantity than their source
     * variable (counts): their own long_name (NULL or NULL entries: the
     * source's), and then no standard_name. */
    const char *const *long_names;
    const char *title;                  /* the global title; NULL: a subset's */
    /* 1: time is the unlimited dimension, so that files of successive
     * steps concatenate (ncrcat, cdo mergetime); the values stored are
     * the same. */
    int unlimited_time;
} cf_grid_spec;

typedef struct cf_grid_output cf_grid_output;

/* Data variables are shuffled and deflated at this level. */
enum { CF_GRID_DEFLATE_LEVEL = 1 };

floe_err cf_grid_output_create(const cf_grid_spec *spec, cf_grid_output **out);
/* Write time step t (0-based within the selection) of variable v:
 * ny * nx values of its written type. */
floe_err cf_grid_output_put_step(cf_grid_output *o, size_t v, size_t t, const void *values);
/* Write rows [y0, y0+ny) x columns [x0, x0+nx) of time step t of variable v
 * (ny * nx values of its written type): a tile, so no rank holds a whole plane. */
floe_err cf_grid_output_put_region(cf_grid_output *o, size_t v, size_t t, size_t y0, size_t ny,
                                   size_t x0, size_t nx, const void *values);
/* netCDF's type for a floe type (NC_FLOAT, NC_USHORT, ...). */
int cf_nc_type(floe_dtype t);
/* The chunk shape (lat, lon) of output variables made from `a` on an
 * ny x nx grid: the source's spatial chunking, one time step per chunk. */
void cf_grid_chunk_shape(const floe_array *a, size_t ny, size_t nx, size_t *cy, size_t *cx);
/* From here on, data go in as encoded chunks (out/chunk_encode.h,
 * deflate level CF_GRID_DEFLATE_LEVEL, the variable's _FillValue as
 * padding): put_step/put_region are refused. */
floe_err cf_grid_output_begin_raw_chunks(cf_grid_output *o);
/* The encoded chunk of time step t of variable v whose first cell is
 * (y0, x0), multiples of the chunk shape. */
floe_err cf_grid_output_put_raw_chunk(cf_grid_output *o, size_t v, size_t t, size_t y0, size_t x0,
                                      const void *bytes, size_t n);
/* A placeholder for that chunk, of n bytes: *addr = its file offset, where
 * another rank writes the chunk's bytes (out/netcdf_writer.h). */
floe_err cf_grid_output_put_raw_placeholder(cf_grid_output *o, size_t v, size_t t, size_t y0,
                                            size_t x0, size_t n, uint64_t *addr);
/* Close and flush the file into its temporary, not yet renamed: *tmp =
 * its name (owned), committed with the run's other files
 * (floe_file_commit_all). Frees o; on error nothing is left. */
floe_err cf_grid_output_finish(cf_grid_output **o, char **tmp);
floe_err cf_grid_output_commit(cf_grid_output **o);
/* Remove the unfinished file. Safe on NULL and after commit. */
void cf_grid_output_abort(cf_grid_output **o);

#endif
