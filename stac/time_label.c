/* SPDX-License-Identifier: Apache-2.0 */
/* stac/time_label.c - the document's time-label hint: which span each
 * time stamp of the data stands for (engine/plan/time_intervals.h), so
 * that users of a described archive (NLDAS-3 stamps each day at its END)
 * get intervals without `--time-label`.
 *
 * The field: "floe:time_label" ("point", "start" or "end") on the
 * temporal dimension (type "temporal") of the datacube extension's
 * cube:dimensions, of the Collection, or of the Item's properties. No
 * STAC extension defines such a field, so it carries floe's prefix, as
 * STAC asks of custom fields; the datacube dimension is where a reader
 * looks for what the time axis means. The value is checked where it is
 * used (the job), which names this field. */
#include "stac/internal.h"

#include <stdio.h>
#include <string.h>

floe_err stac_read_time_label(const cJSON *owner, stac_open_params *p)
{
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(owner, "cube:dimensions");
    if (!dims) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(owner, "properties");
        dims = cJSON_IsObject(props) ? cJSON_GetObjectItemCaseSensitive(props, "cube:dimensions")
                                     : NULL;
    }
    if (!cJSON_IsObject(dims))
        return NULL;
    const cJSON *d;
    cJSON_ArrayForEach(d, dims) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(d, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "temporal") != 0)
            continue;
        char where[300];
        snprintf(where, sizeof where, "cube:dimensions %s", d->string ? d->string : "?");
        const char *label;
        FLOE_CHECK(stac_get_string(d, "floe:time_label", where, &label));
        if (!label)
            continue;
        if (p->time_label && strcmp(p->time_label, label) != 0)
            return FLOE_ERR(FLOE_EFORMAT, "%s: floe:time_label '%s' differs from another temporal "
                            "dimension's '%s'", where, label, p->time_label);
        if (!p->time_label)
            FLOE_CHECK(stac_dup(label, &p->time_label));
    }
    return NULL;
}
