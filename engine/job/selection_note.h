/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/selection_note.h - the one line a data run prints on a
 * terminal to say what it selected, before anything is fetched:
 *
 *   floe: selected 7 x 11 cells (lat x lon), lon -71.05..-69.95, lat
 *   40.95..42.05 (cell edges), 7 steps 2001-01-03T00:00:00..2001-01-09T00:00:00
 *
 * (one line). The box is that of the selected cells' edges, not the
 * --bbox given: a box in the wrong order (CDO's lon1,lon2,lat1,lat2
 * that also reads as W,S,E,N, engine/plan/selection.h) or one that
 * misses the grid shows at once. Printed by rank 0 only, on stderr, when
 * it is a terminal and the run is not --quiet (like the progress line). */
#ifndef FLOE_JOB_SELECTION_NOTE_H
#define FLOE_JOB_SELECTION_NOTE_H

#include "engine/job/request.h"
#include "engine/mpi/comm.h"
#include "engine/plan/grid_select.h"

/* Print the line for g (see the top) when q is not quiet, this is rank 0
 * and stderr is a terminal. Never fails: a line that cannot be made is
 * left out. */
void job_selection_note(const floe_mpi *mpi, const floe_job_request *q, const floe_grid_select *g);
/* The same for series at points ("3 points") and of GeoJSON regions
 * ("2 regions, 3751 cells, lon W..E, lat S..N (cell edges)": the cells
 * they weigh and the box of those cells' edges), whose grid selection is
 * the whole grid they are found on. */
void job_selection_note_points(const floe_mpi *mpi, const floe_job_request *q,
                               const floe_grid_select *g, size_t npoints);
void job_selection_note_regions(const floe_mpi *mpi, const floe_job_request *q,
                                const floe_grid_select *g, size_t nregions, size_t ncells,
                                const double edges_wsen[4]);

#endif
