/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/var_suggest.h - the names to suggest for a variable that is
 * not there ("tair" -> Tair, "Rainfall" -> Rainf): those at the smallest
 * edit distance, compared case-insensitively, when that distance is small
 * enough to be a slip (at most half the longer name, and at most
 * VAR_SUGGEST_MAX_EDITS edits). Pure functions: no I/O. */
#ifndef FLOE_PLAN_VAR_SUGGEST_H
#define FLOE_PLAN_VAR_SUGGEST_H

#include <stddef.h>

/* A name further than this from every candidate gets no suggestion. */
enum { VAR_SUGGEST_MAX_EDITS = 3 };

/* Levenshtein distance (insertions, deletions, substitutions), ASCII
 * letters compared without case. Names longer than 255 characters are
 * compared on their first 255. */
size_t floe_edit_distance_nocase(const char *a, const char *b);

/* The candidates closest to name (see the top), in the candidates' order,
 * at most max_out of them, into out (borrowed from names). Returns how
 * many. */
size_t floe_closest_names(const char *name, const char *const *names, size_t n,
                          const char **out, size_t max_out);

#endif
