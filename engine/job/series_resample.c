/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series_resample.c - `floe series --resample month|season|year`:
 * per-period statistics of the series, computed on rank 0 once every
 * rank's steps are in (the series are small: steps x points or regions),
 * so the bytes do not depend on the rank count; written to whichever file
 * the run writes, NetCDF or CSV (-o OUT.csv: the same values, as rows).
 *
 * Each output of the series (a point's VAR, or a region's VAR_STAT)
 * becomes one output per temporal statistic, named NAME_RSTAT (Tair_mean,
 * Rainf_mean_max: the region's area mean, then its maximum over each
 * period). Values are accumulated in double with the stats kernels
 * (engine/reduce/accum.h: missing values skipped, std the population one),
 * a period's steps in time order. cell_methods: the series' own (the
 * source's, then the area method), then "time: STAT" (CF 7.3: in the
 * order applied). A count over time is int32 ("number of valid values
 * of ..."); a region's count of valid cells (--stat count) is not
 * resampled (refused: it is per step).
 */
#include "engine/job/series_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NAME_MAX_LEN = 128, METHOD_MAX_LEN = 320, LONG_MAX_LEN = 200,
       TEXT_PER_OUT = NAME_MAX_LEN + METHOD_MAX_LEN + LONG_MAX_LEN };

floe_err series_resample_plan(series_job *j, const char *by_text, const char *stats)
{
    if (!by_text) {
        if (stats)
            return FLOE_ERR(FLOE_EINVAL, "--resample-stat needs --resample month|season|year");
        return NULL;
    }
    floe_resample_by by;
    FLOE_CHECK(floe_resample_by_parse(by_text, &by));
    unsigned mask;
    FLOE_CHECK(floe_stat_parse_list(stats ? stats : "mean", FLOE_STAT_ALL, &mask),
               "--resample-stat");
    j->nrstat = 0;
    for (unsigned b = 0; b < 6; b++)
        if (mask & (1u << b))
            j->rstat_list[j->nrstat++] = 1u << b;
    if (!j->g.ti)
        return FLOE_ERR(FLOE_EFORMAT, "resampling by %s: time coordinate %s has values that "
                        "are not CF times", by_text, j->g.time->name);
    FLOE_CHECK(floe_resample_periods_build(&j->periods, by, j->g.tunits.calendar,
                                           j->g.ti + j->g.start[0], j->g.count[0]),
               "resampling by %s", by_text);
    /* a region's count of valid cells is per step (an int32 with units 1);
     * its mean over a month would be another quantity in the source's units */
    if (j->stats & FLOE_STAT_COUNT)
        return FLOE_ERR(FLOE_EINVAL, "--resample with --stat count: the count of valid cells "
                        "is per step; --resample-stat count counts the valid steps of each "
                        "period");
    if (j->nout * j->nrstat > MAX_OUT)
        return FLOE_ERR(FLOE_EINVAL, "resampling: %zu outputs x %zu statistics (at most %d)",
                        j->nout, j->nrstat, MAX_OUT);
    return NULL;
}

void series_resampled_free(series_resampled *r)
{
    free(r->in);
    free(r->names);
    free(r->methods);
    free(r->long_names);
    free(r->vars);
    free(r->dtypes);
    free(r->missing);
    free(r->in_missing);
    free(r->in_dtypes);
    free(r->text);
    free(r->time_values);
    free(r->time_bounds);
    memset(r, 0, sizeof *r);
}

static const char *time_method(unsigned stat)
{
    return stat == FLOE_STAT_MEAN ? "mean" : stat == FLOE_STAT_MIN ? "minimum"
                                        : stat == FLOE_STAT_MAX   ? "maximum"
                                        : stat == FLOE_STAT_SUM   ? "sum"
                                                                  : "standard_deviation";
}

floe_err series_resampled_init(series_resampled *r, const series_job *j, cf_series_spec *spec)
{
    memset(r, 0, sizeof *r);
    const floe_resample_periods *p = &j->periods;
    size_t nin = spec->nvars, nout = nin * j->nrstat, nt = j->g.count[0], np = p->nperiods;
    r->nin = nin;
    r->nout = nout;
    r->in = malloc((nin * nt * j->nst > 0 ? nin * nt * j->nst : 1) * sizeof *r->in);
    r->names = calloc(nout, sizeof *r->names);
    r->methods = calloc(nout, sizeof *r->methods);
    r->long_names = calloc(nout, sizeof *r->long_names);
    r->vars = calloc(nout, sizeof *r->vars);
    r->dtypes = calloc(nout, sizeof *r->dtypes);
    r->missing = calloc(nout, sizeof *r->missing);
    r->in_missing = calloc(nin, sizeof *r->in_missing);
    r->in_dtypes = calloc(nin, sizeof *r->in_dtypes);
    r->text = calloc(nout, TEXT_PER_OUT);
    r->time_values = calloc(np ? np : 1, sizeof *r->time_values);
    r->time_bounds = calloc(np ? 2 * np : 1, sizeof *r->time_bounds);
    if (!r->in || !r->names || !r->methods || !r->long_names || !r->vars || !r->dtypes ||
        !r->missing || !r->in_missing || !r->in_dtypes || !r->text || !r->time_values ||
        !r->time_bounds) {
        series_resampled_free(r);
        return FLOE_ERR(FLOE_ENOMEM, "resampled series (%zu outputs x %zu steps)", nin, nt);
    }
    const char *by = floe_resample_by_name(p->by);
    for (size_t o = 0; o < nin; o++) {
        const floe_array *a = spec->vars[o];
        floe_dtype in_t = spec->dtypes ? spec->dtypes[o] : FLOE_DT_FLOAT32;
        r->in_dtypes[o] = in_t;
        r->in_missing[o] = spec->missing ? spec->missing[o] : a->fill_value;
        const char *name = spec->out_names && spec->out_names[o] ? spec->out_names[o] : a->name;
        const char *ln = spec->long_names ? spec->long_names[o] : NULL;
        /* what the series' values already are: the caller's cell_methods,
         * else the source's (as out/series_output.h writes them) */
        const char *before = spec->cell_methods ? spec->cell_methods[o] : NULL;
        if (!before && !ln) {
            const cJSON *src = cJSON_GetObjectItemCaseSensitive(a->attributes, "cell_methods");
            before = cJSON_IsString(src) ? src->valuestring : NULL;
        }
        for (size_t k = 0; k < j->nrstat; k++) {
            size_t q = o * j->nrstat + k;
            unsigned st = j->rstat_list[k];
            char *nb = r->text + q * TEXT_PER_OUT, *mb = nb + NAME_MAX_LEN,
                 *lb = mb + METHOD_MAX_LEN;
            snprintf(nb, NAME_MAX_LEN, "%s_%s", name, floe_stat_name(st));
            r->names[q] = nb;
            r->vars[q] = a;
            r->missing[q] = r->in_missing[o];
            if (st == FLOE_STAT_COUNT) { /* another quantity: its own long name, no method */
                snprintf(lb, LONG_MAX_LEN, "number of valid values of %s in each %s", name, by);
                r->long_names[q] = lb;
                r->dtypes[q] = FLOE_DT_INT32;
                continue;
            }
            r->long_names[q] = ln;
            r->dtypes[q] = in_t;
            snprintf(mb, METHOD_MAX_LEN, "%s%stime: %s", before ? before : "",
                     before && *before ? " " : "", time_method(st));
            r->methods[q] = mb;
        }
    }
    for (size_t k = 0; k < np; k++) {
        r->time_values[k] = cf_time_instant_to_value(&j->g.tunits, p->time[k]);
        r->time_bounds[2 * k] = cf_time_instant_to_value(&j->g.tunits, p->bounds[k].lo);
        r->time_bounds[2 * k + 1] = cf_time_instant_to_value(&j->g.tunits, p->bounds[k].hi);
    }
    spec->time_values = r->time_values;
    spec->time_bounds = r->time_bounds;
    spec->nt = np;
    spec->vars = r->vars;
    spec->nvars = nout;
    spec->out_names = r->names;
    spec->cell_methods = r->methods;
    spec->long_names = r->long_names;
    spec->dtypes = r->dtypes;
    spec->missing = r->missing;
    return NULL;
}

void series_resampled_store(series_resampled *r, const series_job *j, size_t o, size_t s0,
                            size_t n, const void *vals, size_t esize)
{
    double *dst = r->in + (o * j->g.count[0] + s0) * j->nst;
    /* missing values become NaN, which the accumulators skip; a count is
     * never missing */
    double miss = r->in_missing[o];
    int count = r->in_dtypes[o] == FLOE_DT_INT32;
    /* a float32 output's steps are rounded to float first: its statistics
     * are of the values the series holds, whether they came as float or,
     * beside a float64 output, as double (series.c res_esize) */
    int f32 = r->in_dtypes[o] == FLOE_DT_FLOAT32;
    if (f32)
        miss = (double)(float)miss;
    for (size_t i = 0; i < n * j->nst; i++) {
        double x = esize == sizeof(double) ? ((const double *)vals)[i]
                                           : (double)((const float *)vals)[i];
        if (f32)
            x = (double)(float)x;
        dst[i] = !count && x == miss ? NAN : x;
    }
}

/* Output q's values as the NetCDF variable holds them: float32 rounded
 * once, here; a count (whole numbers, at most a period's steps) as int32. */
static const void *as_stored(floe_dtype t, const double *v, size_t n, void *conv)
{
    if (t == FLOE_DT_FLOAT32) {
        for (size_t i = 0; i < n; i++)
            ((float *)conv)[i] = (float)v[i];
        return conv;
    }
    if (t == FLOE_DT_INT32) {
        for (size_t i = 0; i < n; i++)
            ((int32_t *)conv)[i] = (int32_t)v[i];
        return conv;
    }
    return v;
}

floe_err series_resampled_put(series_resampled *r, const series_job *j, cf_series_output *out,
                              series_csv *csv)
{
    const floe_resample_periods *p = &j->periods;
    size_t nst = j->nst, np = p->nperiods;
    unsigned mask = FLOE_ACCUM_F64;
    for (size_t k = 0; k < j->nrstat; k++)
        mask |= j->rstat_list[k];
    /* every output's periods, [nout][np][nst]: the CSV takes a block of
     * steps of every output at once (out/series_csv.h) */
    size_t cells = np * nst > 0 ? np * nst : 1;
    double *res = malloc(r->nout * cells * sizeof *res);
    void *conv = malloc(cells * sizeof(double));
    floe_accum acc;
    memset(&acc, 0, sizeof acc);
    floe_err err = !res || !conv ? FLOE_ERR(FLOE_ENOMEM, "resampled series") : NULL;
    if (!err)
        err = floe_accum_init(&acc, nst, mask);
    for (size_t o = 0; o < r->nin && !err; o++) {
        for (size_t k = 0; k < j->nrstat && !err; k++) {
            size_t q = o * j->nrstat + k, s = 0;
            double *rq = res + q * cells;
            for (size_t per = 0; per < np && !err; per++) {
                /* a period's steps are consecutive (resample_periods.h) */
                floe_accum_reset(&acc);
                for (size_t n = 0; n < p->nsteps_in[per] && !err; n++, s++)
                    err = floe_accum_add_cells_f64(&acc, 0,
                                                   r->in + (o * j->g.count[0] + s) * nst, nst);
                if (!err)
                    err = floe_accum_result_f64(&acc, j->rstat_list[k], rq + per * nst,
                                                r->missing[q]);
            }
            if (!err && out)
                err = cf_series_output_put(out, q, 0, np,
                                           as_stored(r->dtypes[q], rq, np * nst, conv));
        }
    }
    /* the CSV rounds a float32 output's values and writes counts whole,
     * as the NetCDF holds them (series_csv.h) */
    if (!err && csv)
        err = series_csv_put_steps(csv, 0, np, res, sizeof *res);
    floe_accum_free(&acc);
    free(res);
    free(conv);
    return err;
}
