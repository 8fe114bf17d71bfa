/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/var_suggest.c - see var_suggest.h. */
#include "engine/plan/var_suggest.h"

#include <ctype.h>
#include <string.h>

/* Compared characters per name (the distance table's row). */
enum { NAME_MAX_COMPARED = 255 };

size_t floe_edit_distance_nocase(const char *a, const char *b)
{
    size_t na = strnlen(a, NAME_MAX_COMPARED), nb = strnlen(b, NAME_MAX_COMPARED);
    size_t row[NAME_MAX_COMPARED + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0]; /* d[i-1][j-1] */
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j]; /* d[i-1][j] */
            size_t sub = diag + (tolower((unsigned char)a[i - 1]) !=
                                 tolower((unsigned char)b[j - 1]));
            size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[nb];
}

size_t floe_closest_names(const char *name, const char *const *names, size_t n,
                          const char **out, size_t max_out)
{
    size_t best = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = floe_edit_distance_nocase(name, names[i]);
        size_t len = strlen(name) > strlen(names[i]) ? strlen(name) : strlen(names[i]);
        if (d <= VAR_SUGGEST_MAX_EDITS && 2 * d <= len && d < best)
            best = d;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < max_out && best != (size_t)-1; i++)
        if (floe_edit_distance_nocase(name, names[i]) == best)
            out[k++] = names[i];
    return k;
}
