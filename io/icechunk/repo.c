/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/repo.c - opening a repository: spec detection, refs (v1 ref.json
 * objects and tag tombstones, v2 `repo` file), the configuration and its
 * virtual chunk containers (v1 config.yaml, v2 Repo.config FlexBuffer).
 */
#include "io/fetch/prefetch.h"
#include "io/icechunk/format/flexbuf.h"
#include "io/icechunk/format/ids.h"
#include "io/icechunk/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

floe_err ic_repo_url(const ic_repo *r, const char *key, char **url)
{
    size_t a = strlen(r->root), b = strlen(key);
    *url = malloc(a + b + 1);
    if (!*url)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    memcpy(*url, r->root, a);
    memcpy(*url + a, key, b + 1);
    return NULL;
}

floe_err ic_repo_get(ic_repo *r, const char *key, size_t max, floe_buf *out, int *found)
{
    char *url;
    FLOE_CHECK(ic_repo_url(r, key, &url));
    floe_buf_init(out, max);
    floe_err err = floe_transport_get(r->t, url, 0, 0, NULL, out);
    if (found)
        *found = 1;
    if (err && found && floe_err_code(err) == FLOE_ENOTFOUND) {
        floe_err_free(&err);
        *found = 0;
    }
    if (err)
        err = floe_err_push(err, __FILE__, __LINE__, " reading %s", url);
    free(url);
    if (err)
        floe_buf_free(out);
    return err;
}

/* ---- v2: the repo file ----------------------------------------------------- */

/* Snapshot id bytes of Repo.snapshots[index]. */
static floe_err v2_snapshot_id(const ic_repo *r, uint32_t index, const uint8_t **id)
{
    fb_vector snaps;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_SNAPSHOTS, "snapshots", FB_REF_SIZE, 1,
                               &snaps));
    if (index >= snaps.n)
        return FLOE_ERR(FLOE_EFORMAT, "snapshot index %u is past the %u listed snapshots", index,
                        snaps.n);
    fb_table info;
    FLOE_CHECK(fb_vector_table(&snaps, index, &info), "snapshots");
    FLOE_CHECK(fb_field_struct(&info, SNAPINFO_ID, "id", 12, 1, id), "snapshot %u", index);
    return NULL;
}

/* Find `name` in the Ref vector at `slot` (branches or tags). */
static floe_err v2_find_ref(const ic_repo *r, unsigned slot, const char *what, const char *name,
                            int *found, char snapshot_id[IC_SNAPSHOT_ID_SIZE])
{
    *found = 0;
    fb_vector refs;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, slot, what, FB_REF_SIZE, 1, &refs));
    for (uint32_t i = 0; i < refs.n; i++) {
        fb_table ref;
        const char *n;
        FLOE_CHECK(fb_vector_table(&refs, i, &ref), "%s", what);
        FLOE_CHECK(fb_field_string(&ref, REF_NAME, "name", 1, &n, NULL), "%s %u", what, i);
        if (strcmp(n, name) != 0)
            continue;
        uint32_t index;
        const uint8_t *id;
        FLOE_CHECK(fb_field_u32(&ref, REF_SNAPSHOT_INDEX, "snapshot_index", 0, &index), "%s %s", what, name);
        FLOE_CHECK(v2_snapshot_id(r, index, &id), "%s %s", what, name);
        ic_id_encode(id, 12, snapshot_id);
        *found = 1;
        return NULL;
    }
    return NULL;
}

static floe_err v2_tag_was_deleted(const ic_repo *r, const char *name, int *deleted)
{
    *deleted = 0;
    fb_vector del;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_DELETED_TAGS, "deleted_tags", FB_REF_SIZE, 0,
                               &del));
    for (uint32_t i = 0; i < del.n; i++) {
        const char *n;
        FLOE_CHECK(fb_vector_string(&del, i, &n, NULL), "deleted_tags");
        if (!strcmp(n, name)) {
            *deleted = 1;
            break;
        }
    }
    return NULL;
}

floe_err ic_repo_v2_parent(const ic_repo *r, const uint8_t id[12], uint8_t parent[12], int *has)
{
    *has = 0;
    if (r->spec != 2)
        return NULL;
    fb_vector snaps;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_SNAPSHOTS, "snapshots", FB_REF_SIZE, 1,
                               &snaps));
    for (uint32_t i = 0; i < snaps.n; i++) {
        fb_table info;
        const uint8_t *sid;
        FLOE_CHECK(fb_vector_table(&snaps, i, &info), "snapshots");
        FLOE_CHECK(fb_field_struct(&info, SNAPINFO_ID, "id", 12, 1, &sid), "snapshot %u", i);
        if (memcmp(sid, id, 12) != 0)
            continue;
        /* parent_offset is an absolute index despite its name; -1 is the root
         * and an absent field means 0 (the flatbuffers default). */
        int32_t p;
        FLOE_CHECK(fb_field_i32(&info, SNAPINFO_PARENT, "parent_offset", 0, &p), "snapshot %u", i);
        if (p < 0)
            return NULL;
        if ((uint32_t)p == i)
            return FLOE_ERR(FLOE_EFORMAT, "snapshot %u is its own parent", i);
        const uint8_t *pid;
        FLOE_CHECK(v2_snapshot_id(r, (uint32_t)p, &pid), "parent of snapshot %u", i);
        memcpy(parent, pid, 12);
        *has = 1;
        return NULL;
    }
    return NULL;
}

static floe_err open_v2(ic_repo *r, floe_buf *raw)
{
    if (!r->zds && !(r->zds = ZSTD_createDStream()))
        return FLOE_ERR(FLOE_ENOMEM, "zstd: cannot create a decompression stream");
    FLOE_CHECK(ic_file_decode(raw->data, raw->len, IC_FILE_REPO_INFO, r->memory_budget, r->zds,
                              &r->repo_file));
    if (r->repo_file.spec != 2)
        return FLOE_ERR(FLOE_EFORMAT, "a repo file with spec version %d (expected 2)",
                        r->repo_file.spec);
    /* Check the parts every read needs now, so a corrupt file fails at open. */
    fb_vector v;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_BRANCHES, "branches", FB_REF_SIZE, 1, &v));
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_TAGS, "tags", FB_REF_SIZE, 1, &v));
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_SNAPSHOTS, "snapshots", FB_REF_SIZE, 1, &v));
    fb_vector config;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_CONFIG, "config", 1, 0, &config));
    if (config.present && config.n > 0) {
        cJSON *json = NULL;
        FLOE_CHECK(flexbuf_to_json(fb_vector_elem(&config, 0), config.n, &json), "config");
        floe_err err = ic_config_load_containers(r, json);
        cJSON_Delete(json);
        FLOE_CHECK(err, "config");
    }
    return NULL;
}

/* ---- v1: ref.json objects and config.yaml ---------------------------------- */

static floe_err open_v1_config(ic_repo *r)
{
    floe_buf text;
    int found;
    FLOE_CHECK(ic_repo_get(r, "config.yaml", IC_MAX_SMALL_OBJECT_BYTES, &text, &found));
    if (!found)
        return NULL; /* optional: default configuration, no containers */
    cJSON *json = NULL;
    floe_err err = ic_yaml_to_json((const char *)text.data, text.len, &json);
    if (!err)
        err = ic_config_load_containers(r, json);
    cJSON_Delete(json);
    floe_buf_free(&text);
    FLOE_CHECK(err, "%sconfig.yaml", r->root);
    return NULL;
}

/* Parse {"snapshot":"<id>"} of the ref object at key. */
static floe_err parse_ref_json(const char *url, const floe_buf *b,
                               char snapshot_id[IC_SNAPSHOT_ID_SIZE])
{
    cJSON *json = cJSON_ParseWithLength((const char *)b->data, b->len);
    if (!json)
        return FLOE_ERR(FLOE_EFORMAT, "%s: not JSON", url);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "snapshot"));
    uint8_t bytes[12];
    floe_err err = NULL;
    if (!id)
        err = FLOE_ERR(FLOE_EFORMAT, "%s: no \"snapshot\" string", url);
    else if (!ic_id_parse(id, strlen(id), bytes, 12))
        err = FLOE_ERR(FLOE_EFORMAT, "%s: \"%.40s\" is not a snapshot id", url, id);
    else
        ic_id_encode(bytes, 12, snapshot_id);
    cJSON_Delete(json);
    return err;
}

/* v1: refs/<prefix>.<name>/ref.json -> snapshot id; *found = 0 if absent. */
static floe_err v1_read_ref(ic_repo *r, const char *prefix, const char *name, int *found,
                            char snapshot_id[IC_SNAPSHOT_ID_SIZE])
{
    size_t n = strlen(prefix) + strlen(name) + 32;
    char *key = malloc(n);
    if (!key)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    snprintf(key, n, "refs/%s.%s/ref.json", prefix, name);
    floe_buf b;
    floe_err err = ic_repo_get(r, key, IC_MAX_SMALL_OBJECT_BYTES, &b, found);
    if (!err && *found) {
        char *url = NULL;
        err = ic_repo_url(r, key, &url);
        if (!err)
            err = parse_ref_json(url, &b, snapshot_id);
        free(url);
        floe_buf_free(&b);
    }
    free(key);
    return err;
}

static floe_err v1_tag_was_deleted(ic_repo *r, const char *name, int *deleted)
{
    size_t n = strlen(name) + 40;
    char *key = malloc(n);
    if (!key)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    snprintf(key, n, "refs/tag.%s/ref.json.deleted", name);
    char *url = NULL;
    floe_err err = ic_repo_url(r, key, &url);
    if (!err) {
        err = floe_transport_exists(r->t, url, deleted);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " checking %s", url);
    }
    free(url);
    free(key);
    return err;
}

/* ---- open / free -------------------------------------------------------------- */

floe_err ic_repo_open(floe_transport *t, const char *root_url, ic_repo **out)
{
    return ic_repo_open_budget(t, root_url, 0, out);
}

floe_err ic_repo_open_budget(floe_transport *t, const char *root_url, uint64_t memory_budget,
                             ic_repo **out)
{
    *out = NULL;
    if (!t || !root_url || !*root_url)
        return FLOE_ERR(FLOE_EINVAL, "icechunk: no transport or repository URL");
    ic_repo *r = calloc(1, sizeof *r);
    if (!r)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    r->t = t;
    ic_repo_set_memory_budget(r, memory_budget);
    size_t n = strlen(root_url);
    r->root = malloc(n + 2);
    if (!r->root) {
        free(r);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    memcpy(r->root, root_url, n + 1);
    if (r->root[n - 1] != '/')
        memcpy(r->root + n, "/", 2);

    floe_err err = NULL;
    floe_buf raw;
    int found;
    FLOE_CHECK_GOTO(err, fail, ic_repo_get(r, "repo", r->memory_budget, &raw, &found),
                    "opening repository %s", r->root);
    if (found) {
        r->spec = 2;
        err = open_v2(r, &raw);
        floe_buf_free(&raw);
        if (err) {
            err = floe_err_push(err, __FILE__, __LINE__, " repo file %srepo", r->root);
            goto fail;
        }
    } else {
        /* Spec 1: the branch that proves it and the configuration, at once. */
        char *v1[2] = {NULL, NULL};
        err = ic_repo_url(r, "refs/branch.main/ref.json", &v1[0]);
        if (!err)
            err = ic_repo_url(r, "config.yaml", &v1[1]);
        if (!err)
            err = floe_prefetch(r->t, (const char *const *)v1, 2);
        free(v1[0]);
        free(v1[1]);
        if (err)
            goto fail;
        char main_id[IC_SNAPSHOT_ID_SIZE];
        FLOE_CHECK_GOTO(err, fail, v1_read_ref(r, "branch", "main", &found, main_id),
                        "opening repository %s", r->root);
        if (!found) {
            err = FLOE_ERR(FLOE_ENOTFOUND,
                           "%s is not an Icechunk repository (neither a repo object nor refs/branch.main/ref.json)",
                           r->root);
            goto fail;
        }
        r->spec = 1;
        FLOE_CHECK_GOTO(err, fail, open_v1_config(r), "repository %s", r->root);
    }
    *out = r;
    return NULL;
fail:
    ic_repo_free(&r);
    return err;
}

floe_err ic_repo_prefetch(floe_transport *t, const char *root_url, ic_ref_kind kind,
                          const char *name_or_id)
{
    if (!t || !root_url || !*root_url)
        return NULL; /* ic_repo_open reports it */
    size_t n = strlen(root_url);
    const char *sep = root_url[n - 1] == '/' ? "" : "/";
    char *urls[2] = {NULL, NULL};
    size_t nurls = 0;
    uint8_t id[12];
    floe_err err = NULL;
    size_t size = n + 64;
    if (!(urls[nurls++] = malloc(size)))
        err = FLOE_ERR(FLOE_ENOMEM, "out of memory");
    else
        snprintf(urls[0], size, "%s%srepo", root_url, sep);
    if (!err && kind == IC_REF_SNAPSHOT && name_or_id &&
        ic_id_parse(name_or_id, strlen(name_or_id), id, 12)) {
        char canon[IC_SNAPSHOT_ID_SIZE];
        ic_id_encode(id, 12, canon); /* upper case, as ic_repo_resolve asks */
        if (!(urls[nurls++] = malloc(size)))
            err = FLOE_ERR(FLOE_ENOMEM, "out of memory");
        else
            snprintf(urls[1], size, "%s%ssnapshots/%s", root_url, sep, canon);
    }
    if (!err)
        err = floe_prefetch(t, (const char *const *)urls, nurls);
    free(urls[0]);
    free(urls[1]);
    return err;
}

void ic_repo_free(ic_repo **rp)
{
    if (!rp || !*rp)
        return;
    ic_repo *r = *rp;
    ic_repo_drop_manifests(r);
    free(r->manifests);
    ic_file_free(&r->repo_file);
    ZSTD_freeDStream(r->zds);
    for (size_t i = 0; i < r->n_strings; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->containers);
    free(r->root);
    free(r);
    *rp = NULL;
}

int ic_repo_spec_version(const ic_repo *r)
{
    return r->spec;
}

const char *ic_repo_root(const ic_repo *r)
{
    return r->root;
}

size_t ic_repo_container_count(const ic_repo *r)
{
    return r->n_containers;
}

const ic_container *ic_repo_container(const ic_repo *r, size_t i)
{
    return i < r->n_containers ? &r->containers[i] : NULL;
}

/* ---- resolving refs ------------------------------------------------------------ */

/* Branch and tag names become one path element: no '/', not empty. */
static floe_err check_ref_name(const char *what, const char *name)
{
    if (!name || !*name)
        return FLOE_ERR(FLOE_EINVAL, "empty %s name", what);
    if (strchr(name, '/'))
        return FLOE_ERR(FLOE_EINVAL, "%s name \"%s\" contains '/'", what, name);
    return NULL;
}

/* The error for a branch or tag that does not exist names those that do
 * (spec 2: the repo file lists them), the first REFS_NAMED of them, so
 * that a typo is seen at once. */
enum { REFS_NAMED = 20, REFS_TEXT = 1024 };

static floe_err ref_not_found(ic_repo *r, ic_ref_kind kind, const char *what, const char *name)
{
    char names[REFS_TEXT] = "";
    size_t len = 0, shown = 0, total = 0;
    int full = 0;
    ic_ref_info *refs = NULL;
    size_t n = 0;
    const char *whats = kind == IC_REF_BRANCH ? "branches" : "tags";
    if (r->spec != 2)
        return FLOE_ERR(FLOE_ENOTFOUND, "%s \"%s\" not found in %s (the %s of a spec-1 "
                        "repository cannot be listed: that needs an object listing)",
                        what, name, r->root, whats);
    floe_err err = ic_repo_list_refs(r, &refs, &n);
    if (err) { /* the repo file is checked at open: not expected */
        floe_err_free(&err);
        return FLOE_ERR(FLOE_ENOTFOUND, "%s \"%s\" not found in %s", what, name, r->root);
    }
    for (size_t i = 0; i < n; i++) {
        if (refs[i].kind != kind)
            continue;
        total++;
        int w = !full && shown < REFS_NAMED ? snprintf(names + len, sizeof names - len, "%s\"%s\"",
                                              shown ? ", " : "", refs[i].name)
                                   : -1;
        if (w >= 0 && (size_t)w < sizeof names - len) {
            len += (size_t)w;
            shown++;
        } else {
            names[len] = '\0'; /* the rest is "..." */
            full = 1;
        }
    }
    ic_ref_list_free(&refs, n);
    if (!total)
        return FLOE_ERR(FLOE_ENOTFOUND, "%s \"%s\" not found in %s: it has no %s", what, name,
                        r->root, whats);
    return FLOE_ERR(FLOE_ENOTFOUND, "%s \"%s\" not found in %s: its %s are %s%s", what, name,
                    r->root, whats, names, shown < total ? ", ..." : "");
}

floe_err ic_repo_resolve(ic_repo *r, ic_ref_kind kind, const char *name,
                         char snapshot_id[IC_SNAPSHOT_ID_SIZE])
{
    snapshot_id[0] = '\0';
    int found = 0;
    if (kind == IC_REF_SNAPSHOT) {
        uint8_t bytes[12];
        FLOE_CHECK(ic_id_decode(name, bytes, 12), "snapshot id");
        char canon[IC_SNAPSHOT_ID_SIZE], key[40], *url;
        ic_id_encode(bytes, 12, canon); /* upper case, as stored */
        snprintf(key, sizeof key, "snapshots/%s", canon);
        FLOE_CHECK(ic_repo_url(r, key, &url));
        floe_err err = floe_transport_exists(r->t, url, &found);
        if (err)
            err = floe_err_push(err, __FILE__, __LINE__, " checking %s", url);
        free(url);
        FLOE_CHECK(err);
        if (!found)
            return FLOE_ERR(FLOE_ENOTFOUND, "snapshot %s not found in %s", canon, r->root);
        memcpy(snapshot_id, canon, IC_SNAPSHOT_ID_SIZE);
        return NULL;
    }
    const char *what = kind == IC_REF_BRANCH ? "branch" : "tag";
    if (kind != IC_REF_BRANCH && kind != IC_REF_TAG)
        return FLOE_ERR(FLOE_EINVAL, "unknown ref kind %d", (int)kind);
    FLOE_CHECK(check_ref_name(what, name));
    int deleted = 0;
    if (r->spec == 2) {
        FLOE_CHECK(v2_find_ref(r, kind == IC_REF_BRANCH ? REPO_BRANCHES : REPO_TAGS,
                               kind == IC_REF_BRANCH ? "branches" : "tags", name, &found, snapshot_id),
                   "repository %s", r->root);
        if (!found && kind == IC_REF_TAG)
            FLOE_CHECK(v2_tag_was_deleted(r, name, &deleted), "repository %s", r->root);
    } else {
        FLOE_CHECK(v1_read_ref(r, what, name, &found, snapshot_id));
        if (found && kind == IC_REF_TAG) {
            /* A deleted tag keeps its ref.json beside the tombstone. */
            FLOE_CHECK(v1_tag_was_deleted(r, name, &deleted));
            if (deleted)
                found = 0;
        }
    }
    if (deleted) {
        snapshot_id[0] = '\0';
        return FLOE_ERR(FLOE_ENOTFOUND, "tag \"%s\" not found in %s: it was deleted", name, r->root);
    }
    if (!found)
        return ref_not_found(r, kind, what, name);
    return NULL;
}

/* ---- listing refs ----------------------------------------------------------------- */

void ic_ref_list_free(ic_ref_info **refs, size_t n)
{
    if (!refs || !*refs)
        return;
    for (size_t i = 0; i < n; i++)
        free((*refs)[i].name);
    free(*refs);
    *refs = NULL;
}

static floe_err list_v2(const ic_repo *r, unsigned slot, const char *what, ic_ref_kind kind,
                        ic_ref_info *out, size_t *n)
{
    fb_vector refs;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, slot, what, FB_REF_SIZE, 1, &refs));
    for (uint32_t i = 0; i < refs.n; i++) {
        fb_table ref;
        const char *name;
        uint32_t index;
        const uint8_t *id;
        FLOE_CHECK(fb_vector_table(&refs, i, &ref), "%s", what);
        FLOE_CHECK(fb_field_string(&ref, REF_NAME, "name", 1, &name, NULL), "%s %u", what, i);
        FLOE_CHECK(fb_field_u32(&ref, REF_SNAPSHOT_INDEX, "snapshot_index", 0, &index), "%s %s", what, name);
        FLOE_CHECK(v2_snapshot_id(r, index, &id), "%s %s", what, name);
        ic_ref_info *info = &out[(*n)++];
        info->kind = kind;
        info->name = strdup(name);
        if (!info->name)
            return FLOE_ERR(FLOE_ENOMEM, "out of memory");
        ic_id_encode(id, 12, info->snapshot_id);
    }
    return NULL;
}

floe_err ic_repo_list_refs(ic_repo *r, ic_ref_info **refs, size_t *n)
{
    *refs = NULL;
    *n = 0;
    if (r->spec != 2)
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "listing the refs of spec-v1 repository %s needs an object listing of refs/; "
                        "name a branch or tag instead", r->root);
    fb_vector b, t;
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_BRANCHES, "branches", FB_REF_SIZE, 1, &b));
    FLOE_CHECK(fb_field_vector(&r->repo_file.root, REPO_TAGS, "tags", FB_REF_SIZE, 1, &t));
    ic_ref_info *list = calloc((size_t)b.n + t.n + 1, sizeof *list);
    if (!list)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    size_t count = 0;
    floe_err err = list_v2(r, REPO_BRANCHES, "branches", IC_REF_BRANCH, list, &count);
    if (!err)
        err = list_v2(r, REPO_TAGS, "tags", IC_REF_TAG, list, &count);
    if (err) {
        ic_ref_list_free(&list, count);
        return floe_err_push(err, __FILE__, __LINE__, " repository %s", r->root);
    }
    *refs = list;
    *n = count;
    return NULL;
}
