/* SPDX-License-Identifier: Apache-2.0 */
/* stac/version.c - which branch, tag or snapshot to open: the command
 * line, the ZEP 8 href, icechunk:branch/tag/snapshot_id and the version
 * extension's "version", in that order of precedence (stac/open.h). The
 * sources that lose and disagree are told in notes. */
#include "stac/internal.h"

#include "io/icechunk/format/ids.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int is_snapshot_id(const char *s)
{
    uint8_t id[IC_ID12_BYTES];
    return ic_id_parse(s, strlen(s), id, sizeof id);
}

typedef struct ref_choice {
    const char *origin;
    stac_ref_kind kind;
    const char *name;
} ref_choice;

floe_err stac_resolve_version(const char *key, const cJSON *asset, const stac_request *req,
                              const stac_pipeline *pl, stac_open_params *p)
{
    ref_choice c[6];
    size_t n = 0;
    if (req && req->cli_ref) {
        static const char *flags[] = {"--branch", "--tag", "--snapshot"};
        if ((unsigned)req->cli_ref_kind > STAC_REF_SNAPSHOT)
            return FLOE_ERR(FLOE_EINTERNAL, "stac_request: ref kind %d", (int)req->cli_ref_kind);
        const char *flag = flags[req->cli_ref_kind];
        if (!*req->cli_ref)
            return FLOE_ERR(FLOE_EINVAL, "%s: empty name", flag);
        if (req->cli_ref_kind == STAC_REF_SNAPSHOT && !is_snapshot_id(req->cli_ref))
            return FLOE_ERR(FLOE_EINVAL, "--snapshot %s: not an Icechunk snapshot id (20 "
                            "characters of Crockford base32)", req->cli_ref);
        c[n++] = (ref_choice){flag, req->cli_ref_kind, req->cli_ref};
    }
    if (pl->has_ref) {
        if (!*pl->ref_name)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: the href names an empty %s", key,
                            stac_ref_kind_name(pl->ref_kind));
        if (pl->ref_kind == STAC_REF_SNAPSHOT && !is_snapshot_id(pl->ref_name))
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href snapshot \"%s\" is not an Icechunk "
                            "snapshot id", key, pl->ref_name);
        c[n++] = (ref_choice){"href", pl->ref_kind, pl->ref_name};
    }
    static const struct {
        const char *field;
        stac_ref_kind kind;
    } fields[] = {{"icechunk:branch", STAC_REF_BRANCH},
                  {"icechunk:tag", STAC_REF_TAG},
                  {"icechunk:snapshot_id", STAC_REF_SNAPSHOT},
                  {"version", STAC_REF_SNAPSHOT}};
    char where[300];
    snprintf(where, sizeof where, "asset %s", key);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v;
        FLOE_CHECK(stac_get_string(asset, fields[i].field, where, &v));
        if (!v)
            continue;
        if (!*v)
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: %s is empty", key, fields[i].field);
        stac_ref_kind kind = fields[i].kind;
        if (strcmp(fields[i].field, "icechunk:snapshot_id") == 0 && !is_snapshot_id(v))
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: icechunk:snapshot_id \"%s\" is not an "
                            "Icechunk snapshot id (20 characters of Crockford base32)", key, v);
        /* The version extension's "version" is free text; xpystac writes
         * the snapshot id there. Anything else can only be a tag. */
        if (strcmp(fields[i].field, "version") == 0 && !is_snapshot_id(v)) {
            kind = STAC_REF_TAG;
            if (n == 0)
                FLOE_CHECK(stac_add_note(p, "asset %s: version \"%s\" is not a snapshot id: "
                                         "opened as a tag", key, v));
        }
        c[n++] = (ref_choice){fields[i].field, kind, v};
    }
    if (n == 0)
        c[n++] = (ref_choice){"default", STAC_REF_BRANCH, "main"};
    for (size_t i = 1; i < n; i++) {
        if (c[i].kind == c[0].kind && strcmp(c[i].name, c[0].name) == 0)
            continue;
        FLOE_CHECK(stac_add_note(p, "%s %s not used: %s %s %s takes precedence", c[i].origin,
                                 c[i].name, c[0].origin, stac_ref_kind_name(c[0].kind), c[0].name));
    }
    p->ref_kind = c[0].kind;
    FLOE_CHECK(stac_dup(c[0].name, &p->ref_name));
    FLOE_CHECK(stac_dup(c[0].origin, &p->ref_origin));
    return NULL;
}
