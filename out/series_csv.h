/* SPDX-License-Identifier: Apache-2.0 */
/* out/series_csv.h - a time series job's values as a tidy CSV (`floe
 * series -o OUT.csv`): what a spreadsheet, pandas.read_csv or R's
 * read.csv take as they are.
 *
 *     time,id,Tair,Rainf
 *     2001-01-02T00:00:00,BOS,271.2532,0
 *     2001-01-02T00:00:00,CHH,270.98001,
 *
 * A header, then one row per (time, id), time-major (every id of a step,
 * in the spec's order, before the next step): `time` is the step's time
 * coordinate as CF decodes it in the source's own calendar (ISO 8601, no
 * zone, cf/time.h; the raw number when the coordinate has no CF units),
 * `id` the station id (points) or the region's id, then one column per
 * output (cf_series_spec.out_names: Tair, or Tair_mean, Rainf_max ...).
 * A missing value (the output's fill, or NaN) is an empty field. Numbers
 * round-trip: float32 outputs "%.9g" of the float32 value, float64 "%.17g",
 * counts as integers. Fields that hold a comma, a quote or a line break
 * are quoted as RFC 4180 says. Lines end in "\n".
 *
 * The same spec as out/series_output.h; the values arrive as the job
 * computed them, a block of consecutive steps for every output at once
 * (so rows stream out and nothing is buffered beyond one block). The file
 * is written atomically (common/floe_file.h): finished into its
 * temporary, committed with the run's other files. */
#ifndef FLOE_OUT_SERIES_CSV_H
#define FLOE_OUT_SERIES_CSV_H

#include "common/floe_error.h"
#include "out/series_output.h"

#include <stddef.h>

typedef struct series_csv series_csv;

/* Create the temporary and write the header. spec must outlive the
 * writer. Errors name the file. */
floe_err series_csv_create(const cf_series_spec *spec, series_csv **out);

/* Steps [t0, t0 + nt) (relative to spec->time_values) of every output:
 * values holds, output after output, nt * max(nstations, 1) values of
 * esize bytes (sizeof(float) or sizeof(double)), time-major. Blocks must
 * come in step order, without gaps. */
floe_err series_csv_put_steps(series_csv *c, size_t t0, size_t nt, const void *values,
                              size_t esize);

/* Flush and close into the finished temporary: *tmp = its name (owned),
 * committed with the run's other files (floe_file_commit_all). Every step
 * must have been put. Frees c, *c = NULL; on error nothing is left. */
floe_err series_csv_finish(series_csv **c, char **tmp);

/* Remove the unfinished file. Safe on NULL and after finish. */
void series_csv_abort(series_csv **c);

#endif
