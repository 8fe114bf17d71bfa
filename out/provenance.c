/* SPDX-License-Identifier: Apache-2.0 */
/* out/provenance.c - see provenance.h. */
#include "out/provenance.h"

#include "common/floe_redact.h"
#include "common/floe_version.h"

#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every text attribute here may hold a URL the user gave (the command, the
 * source, the repository, a title naming them): written redacted
 * (common/floe_redact.h), never with passwords or signatures. */
static floe_err put_text(nc_writer *w, const char *name, const char *text)
{
    char *shown = floe_redact_dup(text);
    if (!shown)
        return FLOE_ERR(FLOE_ENOMEM, "attribute %s", name);
    floe_err err = nc_writer_put_att_text(w, NC_GLOBAL, name, shown);
    free(shown);
    return err;
}

static floe_err put_opt(nc_writer *w, const char *name, const char *text)
{
    return text ? put_text(w, name, text) : NULL;
}

/* Source global attributes floe writes itself (the conventions, the
 * title, history, the feature type) or that belong on variables. */
static const char *const source_skip[] = {"Conventions", "conventions", "title", "history",
                                          "featureType", "_FillValue", "missing_value", NULL};

static const char *source_text(const floe_provenance *p, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->global_attributes, key);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* "WHEN: COMMAND", then the source's history on the lines below (the
 * newest first, as NCO and CDO write it). */
static floe_err put_history(nc_writer *w, const floe_provenance *p, const char *command)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *old = source_text(p, "history");
    size_t n = strlen(when) + strlen(command) + (old ? strlen(old) : 0) + 4;
    char *text = malloc(n);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "attribute history");
    snprintf(text, n, "%s: %s%s%s", when, command, old ? "\n" : "", old ? old : "");
    floe_err err = put_text(w, "history", text);
    free(text);
    return err;
}

floe_err cf_provenance_put(nc_writer *w, const floe_provenance *p, const char *command,
                           const char *title)
{
    char text[4096];
    if (p->global_attributes)
        FLOE_CHECK(nc_writer_put_atts_json(w, NC_GLOBAL, p->global_attributes, 0, source_skip),
                   "the source's global attributes");
    FLOE_CHECK(nc_writer_put_att_text(w, NC_GLOBAL, "Conventions", "CF-1.8"));
    FLOE_CHECK(put_text(w, "title", title));
    FLOE_CHECK(put_history(w, p, command));
    snprintf(text, sizeof text, "floe %s", floe_version());
    FLOE_CHECK(nc_writer_put_att_text(w, NC_GLOBAL, "floe_version", text));
    FLOE_CHECK(put_text(w, "floe_command", command));
    if (!source_text(p, "source"))
        FLOE_CHECK(put_opt(w, "source", p->source));
    FLOE_CHECK(put_opt(w, "floe_source", p->source));
    FLOE_CHECK(put_opt(w, "floe_collection", p->collection_id));
    FLOE_CHECK(put_opt(w, "floe_asset", p->asset));
    FLOE_CHECK(put_opt(w, "floe_repository", p->repository));
    FLOE_CHECK(put_opt(w, "floe_snapshot_id", p->snapshot_id));
    FLOE_CHECK(put_opt(w, "floe_ref", p->ref_description));
    FLOE_CHECK(put_opt(w, "floe_anomaly_from", p->anomaly_from));
    double spec = p->spec_version;
    FLOE_CHECK(nc_writer_put_att_double(w, NC_GLOBAL, "floe_icechunk_spec_version", NC_INT, 1,
                                        &spec));
    return NULL;
}
