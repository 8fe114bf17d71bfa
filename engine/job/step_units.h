/* SPDX-License-Identifier: Apache-2.0 */
/* engine/job/step_units.h - the saved units of the jobs that go step by
 * step (extract, series): a unit is what one rank computed for a run of
 * selected steps [t0, t1) of one variable (a batch), saved atomically into
 * a checkpoint store (out/checkpoint_store.h) by that rank when the batch
 * is done, and read back instead of fetching those steps again.
 *
 * Units are keyed by their content (the job's letter, the variable, the
 * absolute steps), not by the rank or piece that saved them: any run of
 * steps is assembled from whatever units cover it, even units of another
 * rank count or of several pieces (`--piece`, `floe merge`), so a resumed
 * or merged job writes its output in the same order, from the same values,
 * as an uninterrupted one.
 *
 * A unit's blob: five uint64 (variable, t0, t1, planes, bytes per step of
 * a plane), then `planes` blocks of (t1 - t0) steps. A plane is one output
 * of the variable (extract: its slices, one plane; series: one output per
 * statistic, each [steps][series]).
 *
 *     job_units u;
 *     err = job_units_index(&u, "x", dirs, ndirs);   // what the stores hold
 *     if (job_units_covered(&u, v, t0, t1))
 *         err = job_units_load(&u, v, t0, t1, 1, step_bytes, 0, slices);
 *     else { ... compute ...;
 *            err = job_units_save(dir, "x", v, t0, t1, 1, step_bytes, 0, slices); }
 *     job_units_free(&u);
 */
#ifndef FLOE_JOB_STEP_UNITS_H
#define FLOE_JOB_STEP_UNITS_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

/* One saved unit: which store holds it. */
typedef struct job_unit_ref {
    uint64_t v, t0, t1;
    size_t dir;  /* index into job_units.dirs */
} job_unit_ref;

typedef struct job_units {
    char prefix[8];      /* the job's letter and '-': "x-" extract, "s-" series */
    char **dirs;         /* the stores read (owned copies) */
    size_t ndirs;
    job_unit_ref *refs;  /* sorted by variable, then t0 */
    size_t n;
} job_units;

/* The units with this job letter in the stores dirs[0..ndirs) (each a
 * checkpoint store folder; one that does not exist holds none). */
floe_err job_units_index(job_units *u, const char *letter, const char *const *dirs, size_t ndirs);

/* Whether every step of [t0, t1) of variable v is in some unit. */
int job_units_covered(const job_units *u, uint64_t v, uint64_t t0, uint64_t t1);

/* The first step of [t0, t1) of variable v in no unit (t1 if none). */
uint64_t job_units_first_missing(const job_units *u, uint64_t v, uint64_t t0, uint64_t t1);

/* Steps [t0, t1) of variable v, all covered, into dst: plane p's step t at
 * dst + p * plane_stride + (t - t0) * step_bytes. A unit of another shape
 * (planes, step_bytes) is an error naming it. A unit whose blob does not
 * read (FLOE_ECHECKSUM: torn or corrupt; FLOE_ENOTFOUND: gone) is that
 * error, with the unit in *bad when bad is not NULL (job_units_drop). */
floe_err job_units_load(const job_units *u, uint64_t v, uint64_t t0, uint64_t t1, size_t planes,
                        size_t step_bytes, size_t plane_stride, void *dst, job_unit_ref *bad);

/* Unit r's blob name ("x-V-T0-T1") into buf. */
void job_units_name(const job_units *u, const job_unit_ref *r, char *buf, size_t size);

/* Forget unit r (one that did not read) and remove its blob from its
 * store: its steps are missing again, to be computed. */
floe_err job_units_drop(job_units *u, const job_unit_ref *r);

/* Save steps [t0, t1) of variable v (laid out as job_units_load's dst)
 * into the store dir, atomically. */
floe_err job_units_save(const char *dir, const char *letter, uint64_t v, uint64_t t0,
                        uint64_t t1, size_t planes, size_t step_bytes, size_t plane_stride,
                        const void *src);

void job_units_free(job_units *u);

#endif
