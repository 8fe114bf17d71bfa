/* SPDX-License-Identifier: Apache-2.0 */
/* out/provenance.c - see provenance.h. */
#include "out/provenance.h"

#include "common/floe_redact.h"
#include "common/floe_version.h"

#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
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

floe_err cf_provenance_put(nc_writer *w, const floe_provenance *p, const char *command,
                           const char *title)
{
    char text[4096];
    FLOE_CHECK(nc_writer_put_att_text(w, NC_GLOBAL, "Conventions", "CF-1.8"));
    FLOE_CHECK(put_text(w, "title", title));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(text, sizeof text, "%s: %s", when, command);
    FLOE_CHECK(put_text(w, "history", text));
    snprintf(text, sizeof text, "floe %s", floe_version());
    FLOE_CHECK(nc_writer_put_att_text(w, NC_GLOBAL, "floe_version", text));
    FLOE_CHECK(put_text(w, "floe_command", command));
    FLOE_CHECK(put_opt(w, "source", p->source));
    FLOE_CHECK(put_opt(w, "floe_collection", p->collection_id));
    FLOE_CHECK(put_opt(w, "floe_asset", p->asset));
    FLOE_CHECK(put_opt(w, "floe_repository", p->repository));
    FLOE_CHECK(put_opt(w, "floe_snapshot_id", p->snapshot_id));
    FLOE_CHECK(put_opt(w, "floe_ref", p->ref_description));
    double spec = p->spec_version;
    FLOE_CHECK(nc_writer_put_att_double(w, NC_GLOBAL, "floe_icechunk_spec_version", NC_INT, 1,
                                        &spec));
    return NULL;
}
