/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/item.h - the derived STAC Item that floe writes next to every output
 * file: what was read (STAC document, collection, asset, Icechunk
 * repository and snapshot), how (the command, floe and library versions,
 * when) and what came out (footprint, time span, grid, variables, the
 * file's size and sha2-256). It is valid STAC 1.1.0 under the offline
 * schemas (../shared/tools/stac-validate), with the extensions
 *   processing 1.2.0   processing:level, :lineage, :software, :datetime,
 *                      :expression (the exact command line)
 *   file 2.1.0         file:size, file:checksum (multihash "1220" + hex)
 *   datacube 2.3.0     cube:dimensions, cube:variables
 *   projection 2.0.0   proj:code "EPSG:4326", proj:shape, proj:transform
 *                      (the last two for grids only)
 *   version 1.2.0      version: the source snapshot id
 * and one asset "data" (application/netcdf, or the media type the
 * caller names: text/csv for a series CSV; role data).
 *
 * Links:
 *   self          the Item's own location (an absolute file:// URI)
 *   collection    only the collection the user files the Item under
 *                 (stac_item_spec.collection), never the source's: a
 *                 subset is not NASA's data
 *   derived_from  the source STAC document; for a bare repository SOURCE,
 *                 the repository at the snapshot (as `via`)
 *   via           the Icechunk repository at the snapshot that was read:
 *                 "REPOSITORY_URL#snapshot=ID". Hrefs must be IRIs (the
 *                 schema's format iri-reference), which rules out the
 *                 ZEP 8 form "URL|icechunk://snapshot.ID/" ('|' is not an
 *                 IRI character); a fragment names the snapshot without
 *                 changing the resource.
 * Local paths become absolute file:// URIs, except that a file in the
 * Item's folder (the data asset, a local source document, a collection
 * document) is "./NAME", so the files can move together.
 *
 * Ordering (the caller's job): an Item must never describe a file that is
 * not there. Either write it after the data file was committed (its size
 * and checksum are read from the final file), or, as the jobs do, from
 * the data's finished temporary into a finished temporary of its own
 * (stac_item_dest), and commit both together (floe_file_commit_all).
 * Under MPI, one rank writes it. The Item itself appears atomically
 * (common/floe_file.h: temporary file in the same folder, fsync, rename,
 * fsync of the folder); on any error neither a partial Item nor a
 * temporary is left behind (an existing Item at that path is kept as it
 * was).
 *
 *     // after cf_grid_output_commit(&out):
 *     FLOE_CHECK(stac_item_write_grid(&grid_spec, item_path, "extract",
 *                                     STAC_ITEM_SOURCE_COLLECTION));
 */
#ifndef FLOE_STAC_ITEM_H
#define FLOE_STAC_ITEM_H

#include "common/floe_error.h"
#include "out/grid_output.h"
#include "out/series_output.h"
#include "dataset/dataset.h"

#include <stddef.h>

/* What the job's SOURCE was. floe_provenance does not say whether a STAC
 * document is a Collection or an Item (stac_open_params.doc_kind does). */
typedef enum stac_item_source_kind {
    STAC_ITEM_SOURCE_REPOSITORY, /* a repository URL or folder, no STAC document */
    STAC_ITEM_SOURCE_COLLECTION, /* a STAC Collection: also the `collection` link */
    STAC_ITEM_SOURCE_ITEM,       /* a STAC Item or ItemCollection */
} stac_item_source_kind;

/* From stac_open_params.doc_kind ("Collection", "Item", "ItemCollection";
 * NULL: no STAC document). */
stac_item_source_kind stac_item_source_kind_of(const char *doc_kind);

typedef enum stac_item_dim_kind {
    STAC_ITEM_DIM_TIME,
    STAC_ITEM_DIM_X, /* longitude */
    STAC_ITEM_DIM_Y, /* latitude */
    /* A dimension of point features (stations): datacube's vector
     * dimension, "type": "geometry", axes x and y, geometry_types Point. */
    STAC_ITEM_DIM_POINTS,
} stac_item_dim_kind;

/* One cube:dimensions entry. Strings borrowed. */
typedef struct stac_item_dim {
    const char *name;           /* the dimension's name in the output file */
    stac_item_dim_kind kind;
    const char *description;    /* NULL: none */
    /* X, Y: the centres of the first and last cells (degrees; first <= last
     * is not required) and the spacing; step NaN: irregular (null). */
    double extent[2];
    double step;
    /* TIME: RFC 3339 UTC instants of the first and last step, and the
     * step as an ISO 8601 duration ("P1D", "PT3H"; NULL: irregular or a
     * single step). */
    const char *time_extent[2];
    const char *time_step;
    /* POINTS: the features' identifiers, in the file's order, and the
     * W, S, E, N box of their positions (degrees); geometry_type: NULL
     * "Point", else e.g. "Polygon" (a region per feature). */
    const char *const *values;
    size_t nvalues;
    double bbox[4];
    const char *geometry_type;
} stac_item_dim;

/* One cube:variables entry (a data variable of the output). */
typedef struct stac_item_var {
    const char *name;
    const char *const *dims;    /* dimension names, in the file's order */
    size_t ndims;
    const char *unit;           /* NULL: none (the units attribute) */
    const char *description;    /* NULL: none (long_name) */
    const char *data_type;      /* datacube data_type: "float32", ... */
    int has_nodata;
    double nodata;              /* the _FillValue; NaN and infinities are written as
                                   "nan", "inf", "-inf" */
} stac_item_var;

/* Everything the Item says. Strings and arrays are borrowed for the call. */
typedef struct stac_item_spec {
    const char *item_path;      /* where the Item goes */
    const char *data_path;      /* the output file (its final path: the href) */
    const char *data_file;      /* where its bytes are now, read for size + checksum
                                   (its finished temporary); NULL: data_path */
    char **item_tmp;            /* NULL: the Item is committed at once; else it is
                                   left in a finished temporary whose name (owned)
                                   goes here, for floe_file_commit_all */
    const char *data_href;      /* NULL: "./NAME" beside the item, else file:// URI */
    const char *id;             /* NULL: "<collection or repository name>-<operation>-
                                   <first 12 hex digits of the sha2-256>" */
    const char *title;          /* NULL: "floe OPERATION of VARS from NAME" */
    const char *command;        /* the exact command line (processing:expression) */
    const char *operation;      /* "extract", "stats", ... */
    const floe_provenance *prov;
    stac_item_source_kind source_kind;
    double bbox[4];             /* W, S, E, N of the output cells' edges (W > E: crosses
                                   the antimeridian, written as a MultiPolygon) */
    /* RFC 3339 UTC ("...Z") of the first and last step. end NULL or equal
     * to start: one instant (datetime); else datetime null + start/end. */
    const char *start_datetime, *end_datetime;
    const stac_item_dim *dims;
    size_t ndims;
    const stac_item_var *vars;
    size_t nvars;
    size_t proj_shape[2];       /* rows (Y), columns (X); both 0: no grid, not written */
    int has_transform;          /* 0: irregular grid, no proj:transform */
    double proj_transform[6];   /* x = [0]*col + [1]*row + [2]; y = [3]*col + [4]*row + [5],
                                   (col, row) = (0, 0) the outer corner of the first cell as
                                   stored */
    const char *processing_level; /* NULL: "L4" (NASA: model output or results of
                                     analyses of lower-level data) */
    const char *lineage;        /* NULL: derived from the provenance, bbox and times */
    /* Point outputs (time series at stations): npoints > 0 makes the
     * geometry a Point (one) or MultiPoint of these positions (degrees,
     * longitudes in [-180, 180]) instead of the bbox's Polygon; bbox is
     * then the points' box, which may have no area. */
    const double *point_lon, *point_lat;
    size_t npoints;
    /* Time series: the ids of the series (station ids, the region's
     * name), property "floe:series_ids". */
    const char *const *series_ids;
    size_t nseries;
    /* The collection the Item is to be filed under (--collection), NULL:
     * none (no "collection", no collection link; the source collection is
     * derived_from). An HREF (a URL, or a local path: it holds a '/' or
     * ends in ".json") is linked, the id being the document's own "id"
     * when it is a local file, else its last path segment without
     * ".json" (the folder's name for ".../collection.json"); an ID alone
     * is linked as "../collection.json", where STAC's best-practice
     * layout (COLLECTION/collection.json, COLLECTION/ITEM/ITEM.json) keeps
     * it, the schema requiring a link for a "collection". */
    const char *collection;
    const char *media_type;     /* the data asset's type; NULL: application/netcdf */
} stac_item_spec;

/* Write the Item for s (see the top of this file). Errors name the item
 * path or the data file. */
floe_err stac_item_write(const stac_item_spec *s);

/* The conventional Item path for an output file: "OUT.nc" -> "OUT.json"
 * (the last extension replaced; none: ".json" appended). *out owned. */
floe_err stac_item_default_path(const char *data_path, char **out);

/* The Item for a CF grid file written by out/grid_output.c from `g` (the
 * same spec, after cf_grid_output_commit): bbox from the cell bounds the
 * file holds, times decoded with the source time units (standard, julian
 * and proleptic_gregorian as the Gregorian date of the instant, which is
 * what RFC 3339 means; model calendars keep their own dates, a day the
 * Gregorian month lacks, as 360_day's Feb 30, moved to the month's last
 * day; years outside 0..9999 are FLOE_EUNSUPPORTED), datacube dimensions
 * time/lat/lon, one
 * variable per g->vars, proj:shape (ny, nx) and proj:transform of the
 * rows as stored (lat ascending: positive y step). Float32 coordinates
 * are written as their shortest decimal (25.05, not 25.049999237...).
 * item_path NULL: stac_item_default_path(g->path). */
floe_err stac_item_write_grid(const cf_grid_spec *g, const char *item_path, const char *operation,
                              stac_item_source_kind source_kind);

/* Where a job's Item goes and what it reads: see item_path, data_file and
 * item_tmp of stac_item_spec. */
typedef struct stac_item_dest {
    const char *item_path;      /* NULL: stac_item_default_path of the output */
    const char *data_file;      /* NULL: the output path */
    char **item_tmp;            /* NULL: commit the Item at once */
    const char *collection;     /* stac_item_spec.collection */
    const char *media_type;     /* stac_item_spec.media_type */
} stac_item_dest;

/* stac_item_write_grid with the Item's destination spelled out. */
floe_err stac_item_write_grid_to(const cf_grid_spec *g, const stac_item_dest *dest,
                                 const char *operation, stac_item_source_kind source_kind);

/* The Item for a CF time-series file written by out/series_output.c from
 * `s` (the same spec, after cf_series_output_commit). Times as
 * stac_item_write_grid. Points: geometry Point/MultiPoint of the requested
 * positions, bbox their box, datacube dimensions time and station (a
 * "geometry" dimension whose values are the station ids). Region: bbox and
 * Polygon from s->region_edges (the selected cells' edges), dimension
 * time only. One cube:variables entry per output (float32, the source
 * _FillValue as nodata). proj:code EPSG:4326 without proj:shape or
 * proj:transform (the outputs are not a grid). item_path NULL:
 * stac_item_default_path(s->path). */
floe_err stac_item_write_series(const cf_series_spec *s, const char *item_path,
                                const char *operation, stac_item_source_kind kind);
/* stac_item_write_series with the Item's destination spelled out. */
floe_err stac_item_write_series_to(const cf_series_spec *s, const stac_item_dest *dest,
                                   const char *operation, stac_item_source_kind kind);

/* The time facts of an Item from a CF time coordinate (its units and
 * calendar attributes) and n >= 1 values: the first and last as RFC 3339
 * UTC (see stac_item_write_grid for the calendars) and the constant step
 * as an ISO 8601 duration (*step = step_buf; NULL: irregular or one step).
 * Errors name the coordinate. */
floe_err stac_item_times(const floe_array *time, const double *values, size_t n,
                         char first[40], char last[40], char step_buf[40], const char **step);

#endif
