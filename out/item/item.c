/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/item.c - stac_item_write (item.h): the Item as cJSON (identity,
 * processing lineage and software, projection, links, the data asset with
 * its size and checksum) and its atomic write (common/floe_file.h).
 * The footprint and datacube parts are out/item/extent.c, the cJSON
 * builder out/item/json.c; the CF grid helper is out/item/grid.c, the
 * time-series one out/item/series.c, times out/item/time.c, hrefs
 * out/item/href.c, the checksum out/item/checksum.c. */
#include "out/item/item.h"

#include "common/floe_buf.h"
#include "common/floe_file.h"
#include "common/floe_redact.h"
#include "common/floe_version.h"
#include "out/item/checksum.h"
#include "out/item/extent.h"
#include "out/item/href.h"
#include "out/item/json.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STAC_VERSION "1.1.0"
#define EXT_PROCESSING "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
#define EXT_FILE "https://stac-extensions.github.io/file/v2.1.0/schema.json"
#define EXT_DATACUBE "https://stac-extensions.github.io/datacube/v2.3.0/schema.json"
#define EXT_PROJECTION "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
#define EXT_VERSION "https://stac-extensions.github.io/version/v1.2.0/schema.json"
#define ICECHUNK_TYPE "application/vnd.zarr+icechunk"
#define NETCDF_TYPE "application/netcdf"

enum { TEXT_MAX = 1 << 20, ID_HEX = 12 };

/* ---- pieces ------------------------------------------------------------- */

static void utc_now(char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Collection id, else the repository's last path segment (of the redacted
 * URL: never a password or signature), else "floe"; reduced to characters
 * safe in an id and a file name. */
static void source_name(const floe_provenance *p, char *out, size_t size)
{
    const char *name = p->collection_id;
    size_t n = name ? strlen(name) : 0;
    char *shown = NULL;
    if (!n && p->repository && (shown = floe_redact_dup(p->repository))) {
        const char *r = shown;
        size_t end = strlen(r);
        while (end && r[end - 1] == '/')
            end--;
        size_t start = end;
        while (start && r[start - 1] != '/')
            start--;
        name = r + start, n = end - start;
    }
    if (!n)
        name = "floe", n = 4;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < size; i++) {
        unsigned char c = (unsigned char)name[i];
        int safe = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   c == '-' || c == '_' || c == '.';
        out[k++] = safe ? (char)c : '-';
    }
    out[k] = '\0';
    free(shown);
}

static floe_err appendf(floe_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static floe_err appendf(floe_buf *b, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    floe_err err = NULL;
    uint8_t *space;
    if (n < 0)
        err = FLOE_ERR(FLOE_EINTERNAL, "formatting '%s'", fmt);
    else if (!(err = floe_buf_reserve(b, (size_t)n, &space))) {
        vsnprintf((char *)space, (size_t)n + 1, fmt, aq);
        floe_buf_commit(b, (size_t)n);
    }
    va_end(aq);
    return err;
}

stac_item_source_kind stac_item_source_kind_of(const char *doc_kind)
{
    if (!doc_kind)
        return STAC_ITEM_SOURCE_REPOSITORY;
    return strcmp(doc_kind, "Collection") == 0 ? STAC_ITEM_SOURCE_COLLECTION
                                               : STAC_ITEM_SOURCE_ITEM;
}

static const char *source_kind_name(stac_item_source_kind k)
{
    return k == STAC_ITEM_SOURCE_COLLECTION ? "STAC Collection"
           : k == STAC_ITEM_SOURCE_ITEM     ? "STAC Item"
                                            : "repository";
}

static floe_err var_list(const stac_item_spec *s, floe_buf *b)
{
    for (size_t i = 0; i < s->nvars; i++)
        FLOE_CHECK(appendf(b, "%s%s", i ? ", " : "", s->vars[i].name));
    return NULL;
}

/* "floe extract of Rainf over W,S,E,N -71.05,41,-69.95,42.55 (cell edges,
 * EPSG:4326), 2001-01-16T00:00:00Z to 2001-01-31T00:00:00Z, from snapshot X
 * (tag v2001-01 (--tag), written T: "message") of Icechunk repository R
 * (spec 2), through STAC Collection nldas-3 (asset A) at SOURCE". */
static floe_err lineage(const stac_item_spec *s, floe_buf *b)
{
    const floe_provenance *p = s->prov;
    FLOE_CHECK(appendf(b, "floe %s of ", s->operation));
    FLOE_CHECK(var_list(s, b));
    if (s->npoints)
        FLOE_CHECK(appendf(b, " at %zu point%s within W,S,E,N %.9g,%.9g,%.9g,%.9g (EPSG:4326), %s",
                           s->npoints, s->npoints == 1 ? "" : "s", s->bbox[0], s->bbox[1],
                           s->bbox[2], s->bbox[3], s->start_datetime));
    else
        FLOE_CHECK(appendf(b, " over W,S,E,N %.9g,%.9g,%.9g,%.9g (cell edges, EPSG:4326), %s",
                           s->bbox[0], s->bbox[1], s->bbox[2], s->bbox[3], s->start_datetime));
    if (s->end_datetime && strcmp(s->end_datetime, s->start_datetime))
        FLOE_CHECK(appendf(b, " to %s", s->end_datetime));
    FLOE_CHECK(appendf(b, ", from snapshot %s", p->snapshot_id));
    if (p->ref_description || p->snapshot_time) {
        FLOE_CHECK(appendf(b, " (%s%s%s", p->ref_description ? p->ref_description : "",
                           p->ref_description && p->snapshot_time ? ", " : "",
                           p->snapshot_time ? "written " : ""));
        if (p->snapshot_time)
            FLOE_CHECK(appendf(b, "%s", p->snapshot_time));
        if (p->snapshot_message && *p->snapshot_message)
            FLOE_CHECK(appendf(b, ": \"%s\"", p->snapshot_message));
        FLOE_CHECK(appendf(b, ")"));
    }
    FLOE_CHECK(appendf(b, " of Icechunk repository %s", p->repository));
    if (p->spec_version)
        FLOE_CHECK(appendf(b, " (spec %d)", p->spec_version));
    if (s->source_kind != STAC_ITEM_SOURCE_REPOSITORY && p->source) {
        FLOE_CHECK(appendf(b, ", through %s", source_kind_name(s->source_kind)));
        if (p->collection_id)
            FLOE_CHECK(appendf(b, " %s%s", s->source_kind == STAC_ITEM_SOURCE_ITEM
                                               ? "of collection " : "", p->collection_id));
        if (p->asset)
            FLOE_CHECK(appendf(b, " (asset %s)", p->asset));
        FLOE_CHECK(appendf(b, " at %s", p->source));
    }
    return NULL;
}

/* processing:software: floe and every library it runs with, parsed from
 * floe_library_versions() ("netCDF 4.9.0, HDF5 1.10.8, Open MPI v4.1.4"):
 * the name is what precedes the last space. */
static void software(item_jb *b, cJSON *props)
{
    cJSON *sw = item_put_obj(b, props, "processing:software");
    item_put_str(b, sw, "floe", floe_version());
    char libs[1024];
    floe_library_versions(libs, sizeof libs);
    char *save = NULL;
    for (char *tok = strtok_r(libs, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *sp = strrchr(tok, ' ');
        if (!*tok)
            continue;
        if (sp)
            *sp = '\0';
        if (!cJSON_GetObjectItemCaseSensitive(sw, tok))
            item_put_str(b, sw, tok, sp ? sp + 1 : "unknown");
    }
}

static void add_link(item_jb *b, cJSON *links, const char *rel, const char *href,
                     const char *type, const char *title)
{
    cJSON *l = item_put_obj(b, links, NULL);
    item_put_str(b, l, "rel", rel);
    item_put_str(b, l, "href", href);
    if (type)
        item_put_str(b, l, "type", type);
    if (title)
        item_put_str(b, l, "title", title);
}

/* A --collection value that names a document (a URL, or a local path:
 * it holds a '/' or ends in ".json"), not an id. */
static int collection_is_href(const char *c)
{
    size_t n = strlen(c);
    return strchr(c, '/') || stac_href_is_url(c) || (n > 5 && !strcmp(c + n - 5, ".json"));
}

/* The "id" of the local STAC document at path. */
static floe_err document_id(const char *path, char *id, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return FLOE_ERR(FLOE_ENOTFOUND, "--collection %s: cannot read it", path);
    floe_buf b;
    floe_buf_init(&b, TEXT_MAX * 16);
    char chunk[8192];
    size_t n;
    floe_err err = NULL;
    while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        err = floe_buf_append(&b, chunk, n);
    if (!err && ferror(f))
        err = FLOE_ERR(FLOE_EIO, "--collection %s: reading failed", path);
    fclose(f);
    cJSON *doc = err ? NULL : cJSON_ParseWithLength((const char *)b.data, b.len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!err && (!cJSON_IsString(v) || !*v->valuestring))
        err = FLOE_ERR(FLOE_EINVAL, "--collection %s: not a STAC document with an id", path);
    if (!err)
        snprintf(id, size, "%s", v->valuestring);
    cJSON_Delete(doc);
    floe_buf_free(&b);
    return err;
}

/* The last path segment of a URL, less ".json"; for ".../collection.json"
 * (how static catalogs name every collection) the folder's name. */
static void id_from_url(const char *url, char *id, size_t size)
{
    size_t end = strcspn(url, "?#");
    while (end && url[end - 1] == '/')
        end--;
    size_t start = end;
    while (start && url[start - 1] != '/')
        start--;
    if (end - start == strlen("collection.json") &&
        !strncmp(url + start, "collection.json", end - start) && start > 1) {
        end = start - 1;
        start = end;
        while (start && url[start - 1] != '/')
            start--;
    }
    if (end - start > 5 && !strncmp(url + end - 5, ".json", 5))
        end -= 5;
    snprintf(id, size, "%.*s", (int)(end - start), url + start);
}

/* The target collection (stac_item_spec.collection): its id and the
 * href of its link (owned). */
static floe_err target_collection(const stac_item_spec *s, char *id, size_t size, char **href)
{
    const char *c = s->collection;
    *href = NULL;
    if (!collection_is_href(c)) {
        snprintf(id, size, "%s", c);
        *href = strdup("../collection.json");
        return *href ? NULL : FLOE_ERR(FLOE_ENOMEM, "STAC Item %s", s->item_path);
    }
    if (stac_href_is_url(c))
        id_from_url(c, id, size);
    else
        FLOE_CHECK(document_id(c, id, size));
    if (!*id)
        return FLOE_ERR(FLOE_EINVAL, "--collection %s: no collection id in it", c);
    return stac_href_from_item(s->item_path, c, href);
}

static floe_err check_spec(const stac_item_spec *s)
{
    const char *missing = !s->item_path              ? "item_path"
                          : !s->data_path            ? "data_path"
                          : !s->operation            ? "operation"
                          : !s->prov                 ? "prov"
                          : !s->prov->repository     ? "prov->repository"
                          : !s->prov->snapshot_id    ? "prov->snapshot_id"
                          : !s->start_datetime       ? "start_datetime"
                          : (s->nvars && !s->vars)   ? "vars"
                          : (s->ndims && !s->dims)   ? "dims"
                          : (s->npoints && (!s->point_lon || !s->point_lat)) ? "points"
                                                     : NULL;
    if (missing)
        return FLOE_ERR(FLOE_EINVAL, "STAC Item %s: %s is not given",
                        s->item_path ? s->item_path : "(no path)", missing);
    if (strcmp(s->item_path, s->data_path) == 0)
        return FLOE_ERR(FLOE_EINVAL, "STAC Item %s: the same path as the data file",
                        s->item_path);
    for (int i = 0; i < 4; i++)
        if (!isfinite(s->bbox[i]))
            return FLOE_ERR(FLOE_EINVAL, "STAC Item %s: bbox[%d] is not a finite number",
                            s->item_path, i);
    for (size_t i = 0; i < s->npoints; i++)
        if (!isfinite(s->point_lon[i]) || !isfinite(s->point_lat[i]))
            return FLOE_ERR(FLOE_EINVAL, "STAC Item %s: point %zu is not a finite position",
                            s->item_path, i);
    return NULL;
}

/* Everything but the data file's facts, which the caller passes in. */
static floe_err build(const stac_item_spec *s, uint64_t size, const char *multihash,
                      const char *data_href, cJSON **out)
{
    *out = NULL;
    const floe_provenance *p = s->prov;
    floe_err err = NULL;
    item_jb b = {0};
    char name[128], id[256], now[32], target_id[256];
    char *src_uri = NULL, *repo_uri = NULL, *via = NULL, *self_uri = NULL, *target_href = NULL;
    floe_buf text, title;
    floe_buf_init(&text, TEXT_MAX);
    floe_buf_init(&title, TEXT_MAX);
    cJSON *item = cJSON_CreateObject();
    if (!item)
        return FLOE_ERR(FLOE_ENOMEM, "STAC Item %s", s->item_path);

    source_name(p, name, sizeof name);
    snprintf(id, sizeof id, "%s-%s-%.*s", name, s->operation, ID_HEX, multihash + 4);
    /* the source document, relative where it sits beside the Item */
    if (s->source_kind != STAC_ITEM_SOURCE_REPOSITORY && p->source)
        FLOE_CHECK_GOTO(err, done, stac_href_from_item(s->item_path, p->source, &src_uri),
                        "source");
    FLOE_CHECK_GOTO(err, done, stac_href_uri(s->item_path, &self_uri), "STAC Item");
    if (s->collection)
        FLOE_CHECK_GOTO(err, done, target_collection(s, target_id, sizeof target_id,
                                                     &target_href));
    FLOE_CHECK_GOTO(err, done, stac_href_uri(p->repository, &repo_uri), "repository");
    size_t vn = strlen(repo_uri) + strlen(p->snapshot_id) + 16;
    if (!(via = malloc(vn))) {
        err = FLOE_ERR(FLOE_ENOMEM, "STAC Item %s", s->item_path);
        goto done;
    }
    snprintf(via, vn, "%s%csnapshot=%s", repo_uri, strchr(repo_uri, '#') ? '&' : '#',
             p->snapshot_id);
    if (s->lineage)
        FLOE_CHECK_GOTO(err, done, appendf(&text, "%s", s->lineage));
    else
        FLOE_CHECK_GOTO(err, done, lineage(s, &text), "STAC Item %s: lineage", s->item_path);
    if (s->title) {
        FLOE_CHECK_GOTO(err, done, appendf(&title, "%s", s->title));
    } else {
        FLOE_CHECK_GOTO(err, done, appendf(&title, "floe %s of ", s->operation));
        FLOE_CHECK_GOTO(err, done, var_list(s, &title));
        FLOE_CHECK_GOTO(err, done, appendf(&title, " from %s", name));
    }
    utc_now(now);

    item_put_str(&b, item, "type", "Feature");
    item_put_str(&b, item, "stac_version", STAC_VERSION);
    cJSON *exts = item_put_arr(&b, item, "stac_extensions");
    const char *ext_urls[] = {EXT_PROCESSING, EXT_FILE, EXT_DATACUBE, EXT_PROJECTION, EXT_VERSION};
    for (size_t i = 0; i < sizeof ext_urls / sizeof *ext_urls; i++)
        item_put_str(&b, exts, NULL, ext_urls[i]);
    item_put_str(&b, item, "id", s->id ? s->id : id);
    if (target_href)
        item_put_str(&b, item, "collection", target_id);
    item_geometry(&b, item, s);

    cJSON *props = item_put_obj(&b, item, "properties");
    item_put_str(&b, props, "title", (const char *)title.data);
    int one = !s->end_datetime || strcmp(s->start_datetime, s->end_datetime) == 0;
    item_put_str(&b, props, "datetime", one ? s->start_datetime : NULL);
    if (!one) {
        item_put_str(&b, props, "start_datetime", s->start_datetime);
        item_put_str(&b, props, "end_datetime", s->end_datetime);
    }
    item_put_str(&b, props, "processing:level", s->processing_level ? s->processing_level : "L4");
    item_put_str(&b, props, "processing:lineage", (const char *)text.data);
    software(&b, props);
    item_put_str(&b, props, "processing:datetime", now);
    if (s->command) {
        cJSON *ex = item_put_obj(&b, props, "processing:expression");
        item_put_str(&b, ex, "format", "floe-command-line");
        item_put_str(&b, ex, "expression", s->command);
    }
    item_put_str(&b, props, "version", p->snapshot_id);
    if (s->nseries) {
        cJSON *ids = item_put_arr(&b, props, "floe:series_ids");
        for (size_t i = 0; i < s->nseries; i++)
            item_put_str(&b, ids, NULL, s->series_ids[i]);
    }
    item_datacube(&b, props, s);
    item_put_str(&b, props, "proj:code", "EPSG:4326");
    if (s->proj_shape[0] || s->proj_shape[1]) {
        cJSON *shape = item_put_arr(&b, props, "proj:shape");
        item_put_num(&b, shape, NULL, (double)s->proj_shape[0]);
        item_put_num(&b, shape, NULL, (double)s->proj_shape[1]);
    }
    if (s->has_transform) {
        cJSON *tr = item_put_arr(&b, props, "proj:transform");
        for (int i = 0; i < 6; i++)
            item_put_num(&b, tr, NULL, s->proj_transform[i]);
    }

    cJSON *links = item_put_arr(&b, item, "links");
    char ltitle[512];
    add_link(&b, links, "self", self_uri, "application/geo+json", NULL);
    if (target_href) {
        snprintf(ltitle, sizeof ltitle, "STAC Collection %s", target_id);
        add_link(&b, links, "collection", target_href, "application/json", ltitle);
    }
    snprintf(ltitle, sizeof ltitle, "Icechunk repository %s at snapshot %s", p->repository,
             p->snapshot_id);
    if (src_uri) {
        char dtitle[512];
        snprintf(dtitle, sizeof dtitle, "%s %s", source_kind_name(s->source_kind),
                 p->collection_id ? p->collection_id : p->source);
        add_link(&b, links, "derived_from", src_uri,
                 s->source_kind == STAC_ITEM_SOURCE_ITEM ? "application/geo+json"
                                                         : "application/json",
                 dtitle);
    } else {
        add_link(&b, links, "derived_from", via, ICECHUNK_TYPE, ltitle);
    }
    add_link(&b, links, "via", via, ICECHUNK_TYPE, ltitle);

    cJSON *assets = item_put_obj(&b, item, "assets");
    cJSON *data = item_put_obj(&b, assets, "data");
    item_put_str(&b, data, "href", data_href);
    item_put_str(&b, data, "type", s->media_type ? s->media_type : NETCDF_TYPE);
    item_put_str(&b, data, "title", (const char *)title.data);
    cJSON *roles = item_put_arr(&b, data, "roles");
    item_put_str(&b, roles, NULL, "data");
    item_put_num(&b, data, "file:size", (double)size);
    item_put_str(&b, data, "file:checksum", multihash);

    if (b.oom)
        err = FLOE_ERR(FLOE_ENOMEM, "STAC Item %s", s->item_path);
done:
    free(src_uri);
    free(self_uri);
    free(target_href);
    free(repo_uri);
    free(via);
    floe_buf_free(&text);
    floe_buf_free(&title);
    if (err)
        cJSON_Delete(item);
    else
        *out = item;
    return err;
}

floe_err stac_item_write(const stac_item_spec *s)
{
    FLOE_CHECK(check_spec(s));
    uint64_t size;
    char multihash[STAC_MULTIHASH_SIZE];
    FLOE_CHECK(stac_file_multihash(s->data_file ? s->data_file : s->data_path, &size, multihash),
               "STAC Item %s", s->item_path);
    char *href = NULL, *text = NULL;
    cJSON *item = NULL;
    floe_err err = NULL;
    if (s->data_href) {
        if (!(href = strdup(s->data_href))) {
            err = FLOE_ERR(FLOE_ENOMEM, "STAC Item %s", s->item_path);
            goto done;
        }
    } else {
        FLOE_CHECK_GOTO(err, done, stac_href_relative_data(s->item_path, s->data_path, &href),
                        "STAC Item %s", s->item_path);
    }
    FLOE_CHECK_GOTO(err, done, build(s, size, multihash, href, &item));
    text = cJSON_Print(item);
    if (!text) {
        err = FLOE_ERR(FLOE_ENOMEM, "STAC Item %s: printing", s->item_path);
        goto done;
    }
    if (s->item_tmp)
        FLOE_CHECK_GOTO(err, done, floe_file_write_text_temp(s->item_path, text, s->item_tmp),
                        "STAC Item");
    else
        FLOE_CHECK_GOTO(err, done, floe_file_write_text(s->item_path, text), "STAC Item");
done:
    cJSON_free(text);
    cJSON_Delete(item);
    free(href);
    return err;
}

floe_err stac_item_default_path(const char *data_path, char **out)
{
    *out = NULL;
    const char *slash = strrchr(data_path, '/');
    const char *base = slash ? slash + 1 : data_path;
    const char *dot = strrchr(base, '.');
    if (!*base)
        return FLOE_ERR(FLOE_EINVAL, "%s: no file name to name the STAC Item after", data_path);
    size_t keep = dot && dot != base ? (size_t)(dot - data_path) : strlen(data_path);
    char *p = malloc(keep + 6);
    if (!p)
        return FLOE_ERR(FLOE_ENOMEM, "%s", data_path);
    memcpy(p, data_path, keep);
    memcpy(p + keep, ".json", 6);
    if (strcmp(p, data_path) == 0) {
        free(p);
        return FLOE_ERR(FLOE_EINVAL, "%s: the STAC Item would overwrite the output; give its "
                        "path (--item PATH)", data_path);
    }
    *out = p;
    return NULL;
}
