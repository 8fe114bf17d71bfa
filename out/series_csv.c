/* SPDX-License-Identifier: Apache-2.0 */
/* out/series_csv.c - see series_csv.h. */
#include "out/series_csv.h"

#include "cf/time.h"
#include "common/floe_buf.h"
#include "common/floe_file.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows are gathered in memory and handed to the file in pieces of about
 * CSV_FLUSH_BYTES (one block of steps may be years of a thousand
 * stations); one step's rows may take up to CSV_ROWS_MAX. */
enum { CSV_FLUSH_BYTES = 1 << 20, CSV_ROWS_MAX = 1 << 30, CSV_FIELD_MAX = 64 };

struct series_csv {
    const cf_series_spec *spec;
    floe_file *file;
    floe_buf rows;
    cf_time_units units;
    int has_units;  /* the time coordinate has CF units: dates, else numbers */
    size_t next_t;  /* the next step expected */
};

static size_t ncolumns_ids(const cf_series_spec *s)
{
    return s->nstations ? s->nstations : s->nregions ? s->nregions : 1;
}

/* A field as RFC 4180 writes it: quoted when it holds a comma, a quote or
 * a line break, its quotes doubled. */
static floe_err put_field(floe_buf *b, const char *text)
{
    if (!strpbrk(text, ",\"\r\n"))
        return floe_buf_append(b, text, strlen(text));
    FLOE_CHECK(floe_buf_append(b, "\"", 1));
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            FLOE_CHECK(floe_buf_append(b, "\"", 1));
        FLOE_CHECK(floe_buf_append(b, p, 1));
    }
    return floe_buf_append(b, "\"", 1);
}

static floe_err flush_rows(series_csv *c)
{
    floe_err err = floe_file_write(c->file, c->rows.data, c->rows.len);
    floe_buf_reset(&c->rows);
    return err;
}

floe_err series_csv_create(const cf_series_spec *spec, series_csv **out)
{
    *out = NULL;
    series_csv *c = calloc(1, sizeof *c);
    if (!c)
        return FLOE_ERR(FLOE_ENOMEM, "%s", spec->path);
    c->spec = spec;
    floe_buf_init(&c->rows, CSV_ROWS_MAX);
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(spec->time->attributes, "units");
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(spec->time->attributes, "calendar");
    floe_err err = NULL;
    if (cJSON_IsString(units)) {
        /* units that are not CF's: the raw numbers, as the NetCDF output
         * writes them */
        floe_err uerr = cf_time_units_parse(units->valuestring,
                                            cJSON_IsString(cal) ? cal->valuestring : NULL,
                                            &c->units);
        c->has_units = !uerr;
        floe_err_free(&uerr);
    }
    if (!err)
        err = floe_file_open(spec->path, &c->file);
    if (!err)
        err = floe_buf_append(&c->rows, "time,id", 7);
    for (size_t o = 0; o < spec->nvars && !err; o++) {
        const char *name = spec->out_names && spec->out_names[o] ? spec->out_names[o]
                                                                 : spec->vars[o]->name;
        err = floe_buf_append(&c->rows, ",", 1);
        if (!err)
            err = put_field(&c->rows, name);
    }
    if (!err)
        err = floe_buf_append(&c->rows, "\n", 1);
    if (err) {
        series_csv_abort(&c);
        FLOE_CHECK(err, "%s", spec->path);
    }
    *out = c;
    return NULL;
}

/* Output o's value i of a block, as text ("" when missing). */
static void value_text(const cf_series_spec *s, size_t o, const void *block, size_t esize,
                       size_t i, char buf[CSV_FIELD_MAX])
{
    double v = esize == sizeof(double) ? ((const double *)block)[i]
                                       : (double)((const float *)block)[i];
    floe_dtype t = s->dtypes ? s->dtypes[o] : FLOE_DT_FLOAT32;
    double miss = s->missing ? s->missing[o] : s->vars[o]->fill_value;
    buf[0] = '\0';
    if (t == FLOE_DT_INT32) { /* a count: every value is one */
        snprintf(buf, CSV_FIELD_MAX, "%lld", (long long)v);
    } else if (t == FLOE_DT_FLOAT64) {
        if (!isnan(v) && v != miss)
            snprintf(buf, CSV_FIELD_MAX, "%.17g", v);
    } else {
        float f = (float)v; /* rounded once, as the NetCDF file holds it */
        if (!isnan(f) && f != (float)miss)
            snprintf(buf, CSV_FIELD_MAX, "%.9g", (double)f);
    }
}

floe_err series_csv_put_steps(series_csv *c, size_t t0, size_t nt, const void *values,
                              size_t esize)
{
    const cf_series_spec *s = c->spec;
    if (t0 != c->next_t || t0 + nt > s->nt)
        return FLOE_ERR(FLOE_EINTERNAL, "%s: steps %zu..%zu out of order (expected %zu)", s->path,
                        t0, t0 + nt, c->next_t);
    size_t nid = ncolumns_ids(s), per = nt * nid;
    const uint8_t *bytes = values;
    for (size_t k = 0; k < nt; k++) {
        double tv = s->time_values[t0 + k];
        char tbuf[CSV_FIELD_MAX];
        if (c->has_units)
            FLOE_CHECK(cf_time_value_format(&c->units, tv, tbuf, sizeof tbuf), "%s: time step %zu",
                       s->path, t0 + k);
        else
            snprintf(tbuf, sizeof tbuf, "%.17g", tv);
        for (size_t st = 0; st < nid; st++) {
            FLOE_CHECK(floe_buf_append(&c->rows, tbuf, strlen(tbuf)), "%s", s->path);
            FLOE_CHECK(floe_buf_append(&c->rows, ",", 1), "%s", s->path);
            FLOE_CHECK(put_field(&c->rows, s->nstations  ? s->station_ids[st]
                                         : s->nregions ? s->region_ids[st]
                                                       : s->region_id),
                       "%s", s->path);
            for (size_t o = 0; o < s->nvars; o++) {
                char vbuf[CSV_FIELD_MAX];
                value_text(s, o, bytes + o * per * esize, esize, k * nid + st, vbuf);
                FLOE_CHECK(floe_buf_append(&c->rows, ",", 1), "%s", s->path);
                FLOE_CHECK(floe_buf_append(&c->rows, vbuf, strlen(vbuf)), "%s", s->path);
            }
            FLOE_CHECK(floe_buf_append(&c->rows, "\n", 1), "%s", s->path);
        }
        if (c->rows.len >= CSV_FLUSH_BYTES)
            FLOE_CHECK(flush_rows(c));
    }
    c->next_t = t0 + nt;
    return NULL;
}

floe_err series_csv_finish(series_csv **cp, char **tmp)
{
    *tmp = NULL;
    series_csv *c = *cp;
    floe_err err = c->next_t == c->spec->nt
                       ? NULL
                       : FLOE_ERR(FLOE_EINTERNAL, "%s: %zu of %zu steps written", c->spec->path,
                                  c->next_t, c->spec->nt);
    if (!err)
        err = flush_rows(c);
    if (!err)
        err = floe_file_finish(&c->file, tmp);
    if (err) {
        series_csv_abort(cp);
        return err;
    }
    floe_buf_free(&c->rows);
    free(c);
    *cp = NULL;
    return NULL;
}

void series_csv_abort(series_csv **cp)
{
    if (!cp || !*cp)
        return;
    floe_file_abort(&(*cp)->file);
    floe_buf_free(&(*cp)->rows);
    free(*cp);
    *cp = NULL;
}
