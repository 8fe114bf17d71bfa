/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/selection_note.c - see selection_note.h. */
#include "engine/job/selection_note.h"

#include "cf/time.h"

#include <stdio.h>
#include <unistd.h>

/* The outer edges of cells [i0, i0 + n) of an axis of len centres:
 * halfway to the neighbouring centre, or half a spacing beyond the
 * axis' end (a one-cell axis has no spacing: its centre). */
static void edges(const double *c, size_t len, size_t i0, size_t n, double *lo, double *hi)
{
    size_t i1 = i0 + n - 1;
    double step = len > 1 ? c[1] - c[0] : 0;
    double a = i0 > 0 ? (c[i0 - 1] + c[i0]) / 2 : c[i0] - step / 2;
    double b = i1 + 1 < len ? (c[i1] + c[i1 + 1]) / 2 : c[i1] + step / 2;
    *lo = a < b ? a : b;
    *hi = a < b ? b : a;
}

/* A step's time as ISO 8601 in the source calendar, else its number. */
static void step_text(const floe_grid_select *g, size_t k, char *buf, size_t size)
{
    double v = g->tv[k];
    floe_err err = g->ti ? cf_time_value_format(&g->tunits, v, buf, size)
                         : FLOE_ERR(FLOE_EINVAL, "no calendar");
    if (err)
        snprintf(buf, size, "%g", v);
    floe_err_free(&err);
}

/* The line, with `what` (the cells part) given or made from g's box. */
static void note(const floe_mpi *mpi, const floe_job_request *q, const floe_grid_select *g,
                 const char *what)
{
    if (q->quiet || mpi->rank != 0 || !isatty(STDERR_FILENO))
        return;
    size_t ny = g->count[1], nx = g->count[2], nt = g->count[0];
    if (!ny || !nx || !nt)
        return;
    char box[256];
    if (!what) {
        double w, e, s, n;
        edges(g->xv, (size_t)g->lon->shape[0], g->start[2], nx, &w, &e);
        edges(g->yv, (size_t)g->lat->shape[0], g->start[1], ny, &s, &n);
        snprintf(box, sizeof box, "%zu x %zu cells (%s x %s), lon %g..%g, lat %g..%g (cell edges)",
                 ny, nx, g->lat->name, g->lon->name, w, e, s, n);
        what = box;
    }
    char t0[40], t1[40];
    step_text(g, g->start[0], t0, sizeof t0);
    step_text(g, g->start[0] + nt - 1, t1, sizeof t1);
    fprintf(stderr, "floe: selected %s, %zu steps %s..%s\n", what, nt, t0, t1);
    fflush(stderr);
}

void job_selection_note(const floe_mpi *mpi, const floe_job_request *q, const floe_grid_select *g)
{
    note(mpi, q, g, NULL);
}

void job_selection_note_points(const floe_mpi *mpi, const floe_job_request *q,
                               const floe_grid_select *g, size_t npoints)
{
    char what[64];
    snprintf(what, sizeof what, "%zu point%s", npoints, npoints == 1 ? "" : "s");
    note(mpi, q, g, what);
}

void job_selection_note_regions(const floe_mpi *mpi, const floe_job_request *q,
                                const floe_grid_select *g, size_t nregions, size_t ncells,
                                const double edges_wsen[4])
{
    char what[256];
    snprintf(what, sizeof what, "%zu region%s, %zu cells, lon %g..%g, lat %g..%g (cell edges)",
             nregions, nregions == 1 ? "" : "s", ncells, edges_wsen[0], edges_wsen[2],
             edges_wsen[1], edges_wsen[3]);
    note(mpi, q, g, what);
}
