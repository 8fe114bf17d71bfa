/* SPDX-License-Identifier: Apache-2.0 */
/* stac/zarr_flags.c - what the asset says about Zarr: zarr:zarr_format
 * must be 3 when present (an Icechunk repository holds Zarr format 3);
 * zarr:consolidated true does not apply to Icechunk (a note and a warning,
 * not an error). */
#include "stac/internal.h"

#include "common/floe_log.h"

#include <stdlib.h>

floe_err stac_check_zarr(const char *key, const cJSON *asset, const stac_pipeline *pl,
                         stac_open_params *p)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(asset, "zarr:zarr_format");
    p->zarr_format = pl->zarr3 ? 3 : 0;
    if (fmt && !cJSON_IsNull(fmt)) {
        if (!cJSON_IsNumber(fmt)) {
            char *text = cJSON_PrintUnformatted(fmt);
            floe_err err = FLOE_ERR(FLOE_EFORMAT, "asset %s: zarr:zarr_format is %s, not a "
                                    "number", key, text ? text : "?");
            free(text);
            return err;
        }
        if (fmt->valuedouble != 3.0)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: zarr:zarr_format is %g, but an Icechunk "
                            "repository holds Zarr format 3", key, fmt->valuedouble);
        p->zarr_format = 3;
    }
    p->consolidated = -1;
    const cJSON *cons = cJSON_GetObjectItemCaseSensitive(asset, "zarr:consolidated");
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(asset, "xarray:open_kwargs");
    const char *field = "zarr:consolidated";
    if (!cons || cJSON_IsNull(cons)) {
        cons = cJSON_GetObjectItemCaseSensitive(kw, "consolidated");
        field = "xarray:open_kwargs.consolidated";
    }
    if (cons && !cJSON_IsNull(cons)) {
        if (!cJSON_IsBool(cons))
            return stac_add_note(p, "asset %s: %s is not true or false (ignored)", key, field);
        p->consolidated = cJSON_IsTrue(cons);
        if (p->consolidated) {
            if (floe_log_rank() <= 0)
                FLOE_WARN("asset %s: %s is true, which does not apply to Icechunk (its "
                          "metadata is never consolidated); ignored", key, field);
            FLOE_CHECK(stac_add_note(p, "asset %s: %s is true, which does not apply to Icechunk; "
                                     "ignored", key, field));
        }
    }
    return NULL;
}
