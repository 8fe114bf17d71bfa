/* SPDX-License-Identifier: Apache-2.0 */
/* stac/pipeline.c - ZEP 8 pipeline hrefs: "URL|icechunk://tag.v5/group/|zarr3"
 * names the store, then optionally the version and group inside it and the
 * Zarr format. Only the segments floe reads are accepted. */
#include "stac/internal.h"

#include <stdlib.h>
#include <string.h>

void stac_pipeline_clear(stac_pipeline *pl)
{
    free(pl->store);
    free(pl->ref_name);
    free(pl->group);
    memset(pl, 0, sizeof *pl);
}

static floe_err parse_icechunk_segment(const char *key, const char *seg, size_t n,
                                       stac_pipeline *pl)
{
    /* seg is "icechunk://REF/GROUP" or "icechunk:REF/GROUP" */
    const char *s = seg + strlen("icechunk:");
    const char *end = seg + n;
    if (end - s >= 2 && s[0] == '/' && s[1] == '/')
        s += 2;
    const char *slash = memchr(s, '/', (size_t)(end - s));
    const char *ref_end = slash ? slash : end;
    if (ref_end > s) {
        static const struct {
            const char *word;
            stac_ref_kind kind;
        } kinds[] = {{"branch.", STAC_REF_BRANCH},
                     {"tag.", STAC_REF_TAG},
                     {"snapshot.", STAC_REF_SNAPSHOT}};
        size_t i;
        for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            size_t wl = strlen(kinds[i].word);
            if ((size_t)(ref_end - s) > wl && strncmp(s, kinds[i].word, wl) == 0)
                break;
        }
        if (i == sizeof kinds / sizeof kinds[0])
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href segment \"%.*s\": expected "
                            "icechunk://branch.NAME/, tag.NAME/ or snapshot.ID/", key, (int)n,
                            seg);
        size_t wl = strlen(kinds[i].word);
        pl->has_ref = 1;
        pl->ref_kind = kinds[i].kind;
        pl->ref_name = strndup(s + wl, (size_t)(ref_end - s) - wl);
        if (!pl->ref_name)
            return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
    }
    if (slash && slash + 1 < end) {
        pl->group = strndup(slash + 1, (size_t)(end - slash - 1));
        if (!pl->group)
            return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
    }
    return NULL;
}

floe_err stac_parse_pipeline(const char *key, const char *href, stac_pipeline *pl)
{
    memset(pl, 0, sizeof *pl);
    size_t n = strcspn(href, "|");
    pl->store = strndup(href, n);
    if (!pl->store)
        return FLOE_ERR(FLOE_ENOMEM, "asset %s", key);
    if (n == 0)
        return FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s has no store URL before '|'", key, href);
    const char *seg = href + n;
    while (*seg == '|') {
        seg++;
        size_t sl = strcspn(seg, "|");
        if (sl >= 9 && strncmp(seg, "icechunk:", 9) == 0) {
            if (pl->has_ref || pl->group)
                return FLOE_ERR(FLOE_EFORMAT, "asset %s: href %s has two icechunk: segments",
                                key, href);
            FLOE_CHECK(parse_icechunk_segment(key, seg, sl, pl));
        } else if ((sl == 5 || sl == 6) && strncmp(seg, "zarr3", 5) == 0 &&
                   (sl == 5 || seg[5] == ':')) {
            pl->zarr3 = 1;
        } else if ((sl == 5 || sl == 6) && strncmp(seg, "zarr2", 5) == 0 &&
                   (sl == 5 || seg[5] == ':')) {
            return FLOE_ERR(FLOE_EFORMAT, "asset %s: href segment \"zarr2\": an Icechunk "
                            "repository holds Zarr format 3", key);
        } else {
            return FLOE_ERR(FLOE_EUNSUPPORTED, "asset %s: href segment \"%.*s\" is not "
                            "supported (icechunk://, zarr3)", key, (int)sl, seg);
        }
        seg += sl;
    }
    return NULL;
}
