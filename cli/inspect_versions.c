/* SPDX-License-Identifier: Apache-2.0 */
/* cli/inspect_versions.c - see inspect_versions.h. The text reads like
 * `git branch -v` and `git log --oneline --decorate`: each snapshot of the
 * history with its time and message, and the branches and tags that name
 * it in brackets. */
#include "cli/inspect_versions.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* "branch main, tag v1" for the refs naming snapshot id, or "" */
static void print_names_of(FILE *out, const floe_versions *v, const char *id)
{
    int first = 1;
    for (size_t i = 0; i < v->nrefs; i++) {
        if (strcmp(v->refs[i].snapshot_id, id) != 0)
            continue;
        fprintf(out, "%s%s %s", first ? "  [" : ", ", v->refs[i].is_tag ? "tag" : "branch",
                v->refs[i].name);
        first = 0;
    }
    if (!first)
        fputs("]", out);
}

static void print_refs_text(FILE *out, const floe_versions *v, int tags)
{
    size_t n = 0, width = 0;
    for (size_t i = 0; i < v->nrefs; i++)
        if (v->refs[i].is_tag == tags) {
            n++;
            size_t w = strlen(v->refs[i].name);
            width = w > width ? w : width;
        }
    fprintf(out, "%s (%zu):\n", tags ? "Tags" : "Branches", n);
    for (size_t i = 0; i < v->nrefs; i++)
        if (v->refs[i].is_tag == tags)
            fprintf(out, "  %-*s  %s\n", (int)width, v->refs[i].name, v->refs[i].snapshot_id);
}

static void print_text(const floe_provenance *p, const floe_versions *v, FILE *out)
{
    fprintf(out, "Repository: %s (Icechunk spec %d)\n", p->repository, p->spec_version);
    if (strstr(p->ref_description, p->snapshot_id))
        fprintf(out, "Opened:     %s\n\n", p->ref_description);
    else
        fprintf(out, "Opened:     %s = snapshot %s\n\n", p->ref_description, p->snapshot_id);
    if (v->refs_unlisted) {
        fprintf(out, "Branches and tags: not listed (%s)\n", v->refs_unlisted);
    } else {
        print_refs_text(out, v, 0);
        print_refs_text(out, v, 1);
    }
    fprintf(out, "\nHistory of snapshot %s, newest first (%zu snapshot%s):\n", p->snapshot_id,
            v->nhistory, v->nhistory == 1 ? "" : "s");
    for (size_t i = 0; i < v->nhistory; i++) {
        const floe_version_snapshot *s = &v->history[i];
        fprintf(out, "  %s  %s  %s", s->id, s->time, s->message);
        print_names_of(out, v, s->id);
        fputs("\n", out);
    }
}

static cJSON *refs_json(const floe_versions *v, int tags)
{
    if (v->refs_unlisted)
        return cJSON_CreateNull();
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < v->nrefs; i++) {
        if (v->refs[i].is_tag != tags)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v->refs[i].name);
        cJSON_AddStringToObject(o, "snapshot", v->refs[i].snapshot_id);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* cJSON_Add* return NULL on allocation failure; the printed text is
 * checked, so a failure anywhere is one FLOE_ENOMEM. */
static floe_err print_json(const floe_provenance *p, const floe_versions *v, FILE *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "repository", p->repository);
    cJSON_AddNumberToObject(o, "spec_version", p->spec_version);
    cJSON_AddStringToObject(o, "snapshot", p->snapshot_id);
    cJSON_AddStringToObject(o, "version", p->ref_description);
    cJSON_AddItemToObject(o, "branches", refs_json(v, 0));
    cJSON_AddItemToObject(o, "tags", refs_json(v, 1));
    cJSON_AddItemToObject(o, "refs_unlisted", v->refs_unlisted ? cJSON_CreateString(v->refs_unlisted)
                                                                : cJSON_CreateNull());
    cJSON *h = cJSON_CreateArray();
    for (size_t i = 0; i < v->nhistory; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "id", v->history[i].id);
        cJSON_AddStringToObject(s, "time", v->history[i].time);
        cJSON_AddStringToObject(s, "message", v->history[i].message);
        cJSON_AddItemToArray(h, s);
    }
    cJSON_AddItemToObject(o, "history", h);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return FLOE_ERR(FLOE_ENOMEM, "inspect --versions --json");
    int bad = fprintf(out, "%s\n", text) < 0;
    free(text);
    return bad ? FLOE_ERR(FLOE_EIO, "writing the output") : NULL;
}

floe_err inspect_print_versions(const floe_provenance *p, const floe_versions *v, int json,
                                FILE *out)
{
    if (json)
        return print_json(p, v, out);
    print_text(p, v, out);
    return ferror(out) ? FLOE_ERR(FLOE_EIO, "writing the output") : NULL;
}
