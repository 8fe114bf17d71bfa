/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/series_regions.c - phase 1 of the series job for regions: the
 * GeoJSON's regions (one per feature of a FeatureCollection, or one) or
 * the --bbox box, their weighted cells and the tiles that hold them
 * (engine/plan/region_cells.h), the statistics asked for, and what the
 * output says about each region. */
#include "engine/job/series_internal.h"

#include "common/floe_log.h"
#include "engine/reduce/area_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

floe_err series_read_regions(const floe_series_request *req, series_job *j)
{
    char *text = NULL;
    size_t len = 0;
    FLOE_CHECK(series_read_file(req->region, &text, &len), "--region");
    floe_err err = floe_region_set_parse(text, len, req->region, req->region_id, &j->regions);
    free(text);
    return err;
}

/* The box's outer cells' edges (for the output's bounds), computed like
 * the weights from the full axes. */
static floe_err box_edges(const floe_grid_select *g, double edges[4])
{
    size_t nlat = g->lat->shape[0], nlon = g->lon->shape[0];
    size_t ny = g->count[1], nx = g->count[2];
    double *ye = malloc((nlat + 1) * sizeof *ye), *xe = malloc((nlon + 1) * sizeof *xe);
    floe_err err = NULL;
    if (!ye || !xe)
        err = FLOE_ERR(FLOE_ENOMEM, "cell edges");
    if (!err)
        err = floe_cell_edges("lat", g->yv, nlat, ye);
    if (!err)
        err = floe_cell_edges("lon", g->xv, nlon, xe);
    if (!err) {
        double y0 = ye[g->start[1]], y1 = ye[g->start[1] + ny];
        double x0 = xe[g->start[2]], x1 = xe[g->start[2] + nx];
        edges[0] = x0 < x1 ? x0 : x1, edges[2] = x0 < x1 ? x1 : x0;
        edges[1] = y0 < y1 ? y0 : y1, edges[3] = y0 < y1 ? y1 : y0;
    }
    free(ye);
    free(xe);
    return err;
}

/* Phase 1 for regions (series_internal.h). */
floe_err series_prepare_regions(const floe_series_request *req, int rank, series_job *j)
{
    FLOE_CHECK(floe_stat_parse_list(req->stat ? req->stat : "mean",
                                    FLOE_STAT_MEAN | FLOE_STAT_MIN | FLOE_STAT_MAX |
                                        FLOE_STAT_SUM | FLOE_STAT_COUNT,
                                    &j->stats),
               "--stat");
    for (unsigned b = 0; b < 6; b++)
        if (j->stats & (1u << b))
            j->stat_list[j->nstat++] = 1u << b;
    floe_region_weights how;
    FLOE_CHECK(floe_region_weights_parse(req->weights, &how));
    const floe_grid_select *g = &j->g;
    const floe_array *v0 = g->vars[0];
    const floe_region_set *set = req->region ? &j->regions : NULL;
    FLOE_CHECK(region_cells_make(set, how, g->yv, g->lat->shape[0], g->xv, g->lon->shape[0],
                                 g->start[1], g->count[1], g->start[2], g->count[2],
                                 v0->chunk_shape[1], v0->chunk_shape[2], &j->rc),
               "%s", req->region ? req->region : "--bbox");
    size_t nreg = j->rc.nregions, nempty = 0;
    j->region_cells = 0;
    for (size_t k = 0; k < nreg; k++) {
        j->region_cells += j->rc.ncells[k];
        nempty += j->rc.ncells[k] == 0;
        if ((j->stats & FLOE_STAT_COUNT) && j->rc.ncells[k] > SERIES_MAX_COUNT)
            return FLOE_ERR(FLOE_EINVAL, "--stat count: region '%s' holds %zu cells, more than "
                            "an int32 count holds (%d)", set ? set->ids[k] : "bbox",
                            j->rc.ncells[k], SERIES_MAX_COUNT);
    }
    const char *none = how == FLOE_WEIGHTS_CENTRE
                           ? "no grid cell centre lies inside the region"
                           : "the region covers no grid cell";
    if (nempty == nreg)
        return FLOE_ERR(FLOE_EINVAL, "%s: %s%s", req->region ? req->region : "--bbox", none,
                        nreg > 1 ? " (in any feature)" : "");
    for (size_t k = 0; k < nreg && rank == 0; k++)
        if (!j->rc.ncells[k])
            FLOE_WARN("%s: region '%s' (features[%zu]): %s: its series is missing%s", req->region,
                      set->ids[k], k, none,
                      how == FLOE_WEIGHTS_CENTRE ? " (--weights fraction weighs the cells it "
                                                   "covers part of)" : "");
    /* the tiles: the plan's, as for points */
    series_plan_free(&j->plan);
    j->plan.tiles = j->rc.tiles, j->plan.ntiles = j->rc.ntiles;
    j->rc.tiles = NULL;
    if (req->region) {
        snprintf(j->region_desc, sizeof j->region_desc, "%s", req->region);
        snprintf(j->region_id, sizeof j->region_id, "%s", set->ids[0]);
        memcpy(j->region_edges, j->rc.edges[0], sizeof j->region_edges);
    } else {
        FLOE_CHECK(box_edges(g, j->region_edges));
        snprintf(j->region_desc, sizeof j->region_desc, "bbox %s", req->job.bbox);
        snprintf(j->region_id, sizeof j->region_id, "%s", j->region_desc);
    }
    j->nst = nreg;
    return NULL;
}
