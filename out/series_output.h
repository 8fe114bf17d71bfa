/* SPDX-License-Identifier: Apache-2.0 */
/* out/series_output.h - a CF-1.8 NetCDF-4 file of time series (`floe
 * series`): discrete sampling geometry featureType "timeSeries" (CF 9).
 *
 * Points: dimensions (time, station); per variable VAR(time, station)
 * float32 (or float64: cf_series_spec.dtypes) with coordinates "time lat lon station_id"; station_id(station)
 * a string variable with cf_role "timeseries_id"; lat(station),
 * lon(station) the requested positions (double, CF units/standard_name);
 * for nearest-cell series also cell_lat(station), cell_lon(station), the
 * centres of the cells read (no standard_name: the requested positions
 * are the coordinates). Attribute "floe_method" (nearest|bilinear) on
 * every data variable.
 *
 * Region: dimensions (time, bnds); per output VAR_STAT(time) float32/64
 * with coordinates "lat lon region_id" and cell_methods ("area: mean"
 * etc., given by the caller), or int32 for a count (VAR_count: units "1",
 * its own long_name, no _FillValue since 0 is a count, no standard_name,
 * no cell_methods, none of the source's packing), region_id(region_strlen) with cf_role
 * "timeseries_id" (CF 9, one feature: no instance dimension; characters,
 * as CF's example H.2.1) holding region_id of the spec, scalar coordinates lat and lon (the centre of the region's
 * bounding box) with lat_bnds(bnds) and lon_bnds(bnds) (the box of the
 * selected cells' edges), so "area: ..." refers to a described area.
 * Global attributes floe_region (what the user gave: "bbox W,S,E,N" or the
 * GeoJSON file name) and floe_region_cells (int64), floe_weights for a
 * GeoJSON region ("centre" or "fraction"). Many regions: see nregions in
 * cf_series_spec (an instance dimension, CF 9.3.1's orthogonal layout).
 *
 * Both: time(time), the unlimited dimension (so that series of
 * successive ranges concatenate: ncrcat, cdo mergetime), with the source
 * time attributes (units, calendar), no _FillValue on coordinates, and
 * with time_bounds its CF bounds time_bnds(time, bnds); data variables
 * carry the source variable's
 * attributes (units, long_name, ...) minus vmin/vmax/grid_mapping, and the
 * source _FillValue. cell_methods: the caller's where given (replacing
 * the source's, as in out/grid_output.h: a region output that should
 * also say "time: mean" passes "time: mean area: mean", CF 7.3's order
 * of application), else the source's; an output with its own long_name
 * (a count: another quantity than the source's) has neither the source's
 * cell_methods nor its standard_name. Source standard_names that are
 * not CF names are left out (out/cf_attrs.h). Data chunks: up to 256 stations
 * x about 64 Ki values (at least 512 steps), shuffle + deflate 1.
 * Global attributes as out/grid_output.h (Conventions
 * "CF-1.8", featureType, title, history with the exact command, source,
 * floe_collection/asset/repository/snapshot_id/ref). Written atomically
 * (out/netcdf_writer.h): OUT appears only on commit. */
#ifndef FLOE_CF_SERIES_OUTPUT_H
#define FLOE_CF_SERIES_OUTPUT_H

#include "common/floe_error.h"
#include "dataset/dataset.h"

#include <stddef.h>

typedef struct cf_series_spec {
    const char *path;
    const char *command;                /* the exact command line */
    const floe_provenance *provenance;
    const floe_array *time;             /* the source time coordinate array */
    const double *time_values;          /* the selected steps' values */
    const double *time_bounds;          /* 2 x nt: each step's start and end (steps with
                                           known intervals), written as time_bnds; NULL:
                                           instants, none written */
    size_t nt;
    const floe_array *const *vars;      /* source variables (attributes, fill) */
    size_t nvars;
    const char *const *out_names;       /* written names (NULL: the source names) */
    const char *const *cell_methods;    /* per output (NULL or NULL entries: the source's) */
    const char *const *long_names;      /* per output (NULL or NULL entries: the source's) */
    /* Per output: FLOE_DT_FLOAT32 or FLOE_DT_FLOAT64, and the _FillValue
     * in that type (NULL: every output float32 with the source's fill);
     * FLOE_DT_INT32: a count (its long_name required, missing unused). */
    const floe_dtype *dtypes;
    const double *missing;

    /* Points (nstations > 0) or region (nstations == 0). */
    size_t nstations;
    const char *const *station_ids;
    const double *station_lon, *station_lat; /* requested positions */
    const double *cell_lon, *cell_lat;       /* NULL: not written (bilinear) */
    const char *method;                      /* "nearest" / "bilinear" */

    const char *region;                      /* "bbox W,S,E,N" or the GeoJSON file */
    const char *region_id;                   /* the region's timeseries_id (required
                                                for a region) */
    double region_edges[4];                  /* W, S, E, N of the selected cells' edges */
    size_t region_cells;                     /* cells inside the region */
    /* Many regions (nregions > 0, a FeatureCollection): the instance
     * dimension region, VAR_STAT(time, region), region_id(region) a
     * string with cf_role "timeseries_id"; lat(region), lon(region) the
     * centres of each region's cells' box with lat_bnds(region, bnds),
     * lon_bnds(region, bnds) that box (NaN for a region with no cell);
     * region_cells(region) int64, the cells each weighs. floe_region is
     * written, floe_region_cells not (region_edges and region_id unused). */
    size_t nregions;
    const char *const *region_ids;           /* [nregions] */
    const double (*region_edges_each)[4];    /* [nregions] W, S, E, N */
    const size_t *region_cells_each;         /* [nregions] */
    const char *weights;                     /* region: "centre" or "fraction", written as
                                                floe_weights; NULL: not written (a box) */
} cf_series_spec;

typedef struct cf_series_output cf_series_output;

/* Defines the file and writes its coordinates. Errors name the file (and
 * the variable or spec field). */
floe_err cf_series_output_create(const cf_series_spec *spec, cf_series_output **out);
/* Write steps [t0, t0 + nt) of output v: nt * max(nstations, 1) values
 * of its type (float32, float64 or int32), time-major (values[t * nstations + s]). */
floe_err cf_series_output_put(cf_series_output *o, size_t v, size_t t0, size_t nt,
                              const void *values);
/* Close and flush the file into its temporary, not yet renamed: *tmp =
 * its name (owned), committed with the run's other files
 * (floe_file_commit_all). Frees o; on error nothing is left. */
floe_err cf_series_output_finish(cf_series_output **o, char **tmp);
floe_err cf_series_output_commit(cf_series_output **o);
/* Remove the unfinished file. Safe on NULL and after commit. */
void cf_series_output_abort(cf_series_output **o);

#endif
