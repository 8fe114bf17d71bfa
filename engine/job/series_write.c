/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series_write.c - phase 3 of the series job: rank 0 writes its
 * steps and then each other rank's, in rank order (received through the
 * collection protocol, engine/mpi/collect.h), and the derived STAC Item
 * of the finished file, both into temporaries that the job commits once
 * every rank agreed (engine/job/outputs.h). */
#include "engine/job/series_internal.h"

#include "engine/job/output_format.h"
#include "engine/reduce/accum.h"
#include "out/item/item.h"
#include "out/series_csv.h"
#include "out/series_output.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CF cell_methods of a region's statistic at each step: what the source
 * values already are (their own cell_methods, e.g. "time: mean" of a
 * daily mean), then what was done over the area (CF 7.3: in the order
 * applied). NULL for a count, which is no CF method (its long_name says
 * what it counts). */
static const char *region_cell_method(const floe_array *a, unsigned stat, char *buf, size_t size)
{
    if (stat == FLOE_STAT_COUNT)
        return NULL;
    const char *m = stat == FLOE_STAT_MEAN ? "mean (area-weighted)"
                    : stat == FLOE_STAT_MIN ? "minimum"
                    : stat == FLOE_STAT_MAX ? "maximum"
                                            : "sum";
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(a->attributes, "cell_methods");
    const char *before = cJSON_IsString(src) ? src->valuestring : "";
    snprintf(buf, size, "%s%sarea: %s", before, *before ? " " : "", m);
    return buf;
}

/* Phase 3 on rank 0 (series_internal.h). */
floe_err series_write_output(series_job *j, const floe_mpi *mpi, const floe_series_request *req)
{
    const char *names[MAX_OUT], *methods[MAX_OUT], *long_names[MAX_OUT];
    char name_buf[MAX_OUT][128], method_buf[MAX_OUT][256], long_buf[MAX_OUT][160];
    const floe_array *vars[MAX_OUT];
    floe_dtype dtypes[MAX_OUT];
    for (size_t o = 0; o < j->nout; o++)
        dtypes[o] = series_is_count(j, o)                 ? FLOE_DT_INT32
                    : j->out64[series_var_of(j, o)] ? FLOE_DT_FLOAT64
                                                    : FLOE_DT_FLOAT32;
    for (size_t v = 0; v < j->g.nvars; v++) {
        if (j->pw) {
            names[v] = j->g.vars[v]->name;
            methods[v] = NULL;
            long_names[v] = NULL;
            vars[v] = j->g.vars[v];
            if (j->anom.path) { /* another quantity: its own long name; the source's methods */
                job_anomaly_long_name(j->g.vars[v], long_buf[v], sizeof long_buf[v]);
                long_names[v] = long_buf[v];
                const cJSON *cm = cJSON_GetObjectItemCaseSensitive(j->g.vars[v]->attributes,
                                                                   "cell_methods");
                methods[v] = cJSON_IsString(cm) ? cm->valuestring : NULL;
            }
            continue;
        }
        for (size_t k = 0; k < j->nstat; k++) {
            size_t o = v * j->nstat + k;
            snprintf(name_buf[o], sizeof name_buf[o], "%s_%s", j->g.vars[v]->name,
                     floe_stat_name(j->stat_list[k]));
            methods[o] = region_cell_method(j->g.vars[v], j->stat_list[k], method_buf[o],
                                            sizeof method_buf[o]);
            long_names[o] = NULL;
            if (j->anom.path) {
                job_anomaly_long_name(j->g.vars[v], long_buf[o], sizeof long_buf[o]);
                long_names[o] = long_buf[o];
            }
            if (j->stat_list[k] == FLOE_STAT_COUNT) {
                snprintf(long_buf[o], sizeof long_buf[o],
                         "number of valid cells of %s in the region", j->g.vars[v]->name);
                long_names[o] = long_buf[o];
            }
            names[o] = name_buf[o];
            vars[o] = j->g.vars[v];
        }
    }
    size_t np = j->pw ? j->pts.n : 0;
    const char **ids = np ? calloc(np, sizeof *ids) : NULL;
    double *slon = np ? malloc(np * sizeof *slon) : NULL, *slat = np ? malloc(np * sizeof *slat) : NULL;
    double *clon = np ? malloc(np * sizeof *clon) : NULL, *clat = np ? malloc(np * sizeof *clat) : NULL;
    floe_err err = NULL;
    if (np && (!ids || !slon || !slat || !clon || !clat))
        err = FLOE_ERR(FLOE_ENOMEM, "station coordinates");
    for (size_t p = 0; p < np && !err; p++) {
        ids[p] = j->pts.p[p].id;
        slon[p] = j->pts.p[p].lon, slat[p] = j->pts.p[p].lat;
        clat[p] = j->g.yv[j->pw[p].ilat[0]], clon[p] = j->g.xv[j->pw[p].ilon[0]];
        if (j->outside[p]) /* no cell read */
            clat[p] = clon[p] = NAN;
    }
    int nearest = j->interp == FLOE_INTERP_NEAREST;
    double *tb = NULL; /* the steps' intervals, when known */
    if (!err && floe_grid_select_has_intervals(&j->g))
        err = floe_grid_time_bounds(&j->g, &tb);
    double missing[MAX_OUT];
    for (size_t o = 0; o < j->nout; o++)
        missing[o] = series_missing(j, series_var_of(j, o));
    floe_provenance prov = *floe_dataset_provenance(j->ds);
    prov.anomaly_from = req->job.anomaly_from;
    cf_series_spec spec = {
        .path = req->job.output, .command = req->job.command, .provenance = &prov,
        .time = j->g.time, .time_values = j->g.tv + j->g.start[0], .nt = j->g.count[0],
        .time_bounds = tb,
        .vars = vars, .nvars = j->nout, .out_names = names, .cell_methods = methods,
        .long_names = long_names,
        .dtypes = dtypes, .missing = missing, .nstations = np, .station_ids = ids,
        .station_lon = slon, .station_lat = slat,
        .cell_lon = np && nearest ? clon : NULL, .cell_lat = np && nearest ? clat : NULL,
        .method = np ? floe_interp_name(j->interp) : NULL,
        .region = np ? NULL : j->region_desc,
        .region_id = np ? NULL : j->region_id,
        .region_edges = {j->region_edges[0], j->region_edges[1], j->region_edges[2],
                         j->region_edges[3]},
        .region_cells = j->region_cells,
        .nregions = series_per_region(j) ? j->regions.n : 0,
        .region_ids = (const char *const *)j->regions.ids,
        .region_edges_each = (const double(*)[4])j->rc.edges,
        .region_cells_each = j->rc.ncells,
        .weights = np || !req->region ? NULL : req->weights ? req->weights : "centre",
    };
    series_resampled rs; /* --resample: other outputs and time axis (series_resample.c) */
    memset(&rs, 0, sizeof rs);
    if (!err && j->periods.nperiods)
        err = series_resampled_init(&rs, j, &spec);
    cf_series_output *out = NULL;
    series_csv *csv = NULL; /* -o OUT.csv: the same values as a tidy CSV */
    job_output_format fmt = JOB_OUTPUT_NETCDF;
    if (!err)
        err = job_output_format_of("series", req->job.output, &fmt);
    if (!err)
        err = fmt == JOB_OUTPUT_CSV ? series_csv_create(&spec, &csv)
                                    : cf_series_output_create(&spec, &out);
    /* rank 0's steps, then every other rank's in rank order, each rank's
     * one unit of the collection protocol (received even after an error:
     * no sender may be left waiting) */
    uint8_t *buf = NULL;
    size_t bufn = 0, e = j->res_esize;
    void *conv = NULL; /* a float32 output's values when results are double; a count's */
    for (int r = 0; r < mpi->size; r++) {
        size_t s0, s1;
        series_rank_steps(j->g.start[0], j->g.count[0], j->g.vars[0]->chunk_shape[0], mpi->size,
                          r, &s0, &s1);
        size_t n = j->nout * (s1 - s0) * j->nst;
        if (!n)
            continue;
        const uint8_t *vals = j->results;
        if (r != 0) {
            if (n > bufn) {
                uint8_t *p = realloc(buf, n * e);
                if (p)
                    buf = p, bufn = n;
            }
            if (n > bufn && !err)
                err = FLOE_ERR(FLOE_ENOMEM, "series values from rank %d", r);
            int ok = 0;
            floe_err er = floe_collect_recv_status(&j->collector, r, &ok);
            if (!er && ok) /* without room for them: received and dropped */
                er = floe_collect_recv_exact(&j->collector, r, n <= bufn ? buf : NULL, n * e);
            if (!er && !ok)
                er = FLOE_ERR(FLOE_EINTERNAL, "rank %d failed after the agreement", r);
            if (!err)
                err = er;
            else
                floe_err_free(&er);
            vals = buf;
        }
        size_t per = (s1 - s0) * j->nst;
        if (rs.nout) { /* kept until every rank's steps are in, whatever the format */
            for (size_t o = 0; o < j->nout && !err; o++)
                series_resampled_store(&rs, j, o, s0, s1 - s0, vals + o * per * e, e);
            continue;
        }
        if (csv) {
            if (!err)
                err = series_csv_put_steps(csv, s0, s1 - s0, vals, e);
            continue;
        }
        for (size_t o = 0; o < j->nout && !err; o++) {
            const void *ov = vals + o * per * e;
            int to_f32 = e == sizeof(double) && dtypes[o] == FLOE_DT_FLOAT32;
            if (to_f32 || dtypes[o] == FLOE_DT_INT32) {
                /* 4 bytes a value either way */
                void *p = realloc(conv, per * sizeof(float));
                if (!p) {
                    err = FLOE_ERR(FLOE_ENOMEM, "series values (%zu)", per);
                    break;
                }
                conv = p;
                if (to_f32) /* rounded once, here: the values were computed in double */
                    for (size_t i = 0; i < per; i++)
                        ((float *)conv)[i] = (float)((const double *)ov)[i];
                else /* counts are whole numbers below SERIES_MAX_COUNT: exact */
                    for (size_t i = 0; i < per; i++)
                        ((int32_t *)conv)[i] = (int32_t)(e == sizeof(double)
                                                             ? ((const double *)ov)[i]
                                                             : ((const float *)ov)[i]);
                ov = conv;
            }
            err = cf_series_output_put(out, o, s0, s1 - s0, ov);
        }
    }
    free(buf);
    free(conv);
    if (!err && rs.nout)
        err = series_resampled_put(&rs, j, out, csv);
    /* into temporaries: committed once every rank agreed (outputs.h) */
    if (!err)
        err = csv ? series_csv_finish(&csv, &j->outputs.tmp[JOB_OUT_DATA])
                  : cf_series_output_finish(&out, &j->outputs.tmp[JOB_OUT_DATA]);
    cf_series_output_abort(&out);
    series_csv_abort(&csv);
    if (!err) {
        stac_item_dest dest = job_outputs_item_dest(&j->outputs);
        dest.media_type = fmt == JOB_OUTPUT_CSV ? "text/csv" : NULL;
        err = stac_item_write_series_to(&spec, &dest, "series",
                                        stac_item_source_kind_of(spec.provenance->doc_kind));
    }
    series_resampled_free(&rs);
    free(tb);
    free(ids);
    free(slon);
    free(slat);
    free(clon);
    free(clat);
    return err;
}

/* Phase 3 on the other ranks: this rank's values, one unit of the
 * collection protocol (none when it has no steps). */
floe_err series_send_share(series_job *j, const floe_mpi *mpi)
{
    size_t n = j->nout * (j->s1 - j->s0) * j->nst;
    if (!n)
        return NULL;
    FLOE_CHECK(floe_collect_send_status(mpi, 0));
    return floe_collect_send(mpi, j->results, n * j->res_esize);
}

