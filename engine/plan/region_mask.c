/* SPDX-License-Identifier: Apache-2.0 */
/* engine/plan/region_mask.c - see region_mask.h. */
#include "engine/plan/region_mask.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ring {
    double *x, *y; /* closed: the last position repeats the first */
    size_t n;
} ring;

typedef struct polygon {
    ring *rings; /* [0] exterior, then holes */
    size_t nrings;
    double west, south, east, north;
} polygon;

enum { PATH_MAX_LEN = 256, NAME_MAX_LEN = 512 };

struct floe_region {
    polygon *polys;
    size_t npolys, cap;
    char name[NAME_MAX_LEN]; /* floe_region_name */
};

/* ---- point in polygon --------------------------------------------------- */

/* Where the edge (x0,y0)-(x1,y1) crosses the horizontal line at y, if it
 * does under the half-open rule lower <= y < upper (horizontal edges never
 * do). The endpoints are put in a fixed order first, so an edge shared by
 * two polygons (walked in opposite directions) gives both the same bits. */
static int edge_crossing(double x0, double y0, double x1, double y1, double y, double *xc)
{
    if (y0 > y1) {
        double t = x0;
        x0 = x1;
        x1 = t;
        t = y0;
        y0 = y1;
        y1 = t;
    }
    if (!(y0 <= y && y < y1))
        return 0;
    *xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0);
    return 1;
}

/* Even-odd over every ring: a ray to the east crosses the boundary an odd
 * number of times from inside. A point with x == crossing is not east of
 * it, so it counts as east of the edge: west sides are inside. */
static int polygon_contains(const polygon *p, double x, double y)
{
    if (x < p->west || x > p->east || y < p->south || y > p->north)
        return 0;
    int inside = 0;
    for (size_t r = 0; r < p->nrings; r++) {
        const ring *g = &p->rings[r];
        for (size_t i = 0; i + 1 < g->n; i++) {
            double xc;
            if (edge_crossing(g->x[i], g->y[i], g->x[i + 1], g->y[i + 1], y, &xc) && x < xc)
                inside = !inside;
        }
    }
    return inside;
}

static double wrap_lon(double lon)
{
    if (lon >= 180 || lon < -180)
        lon -= 360 * floor((lon + 180) / 360);
    return lon;
}

int floe_region_contains(const floe_region *r, double lon, double lat)
{
    lon = wrap_lon(lon);
    for (size_t k = 0; k < r->npolys; k++)
        if (polygon_contains(&r->polys[k], lon, lat))
            return 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The number of sorted crossings strictly east of x (xc > x). */
static size_t crossings_east_of(const double *xc, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (xc[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return n - lo;
}

floe_err floe_region_mask(const floe_region *r, const double *lat, size_t nlat,
                          const double *lon, size_t nlon, uint8_t *mask, size_t *ninside)
{
    size_t most_edges = 0, count = 0;
    for (size_t k = 0; k < r->npolys; k++) {
        size_t e = 0;
        for (size_t g = 0; g < r->polys[k].nrings; g++)
            e += r->polys[k].rings[g].n;
        most_edges = e > most_edges ? e : most_edges;
    }
    double *xc = malloc((most_edges ? most_edges : 1) * sizeof *xc);
    double *x = malloc((nlon ? nlon : 1) * sizeof *x);
    if (!xc || !x) {
        free(xc);
        free(x);
        return FLOE_ERR(FLOE_ENOMEM, "region mask of %zu x %zu cells: out of memory", nlat, nlon);
    }
    for (size_t j = 0; j < nlon; j++)
        x[j] = wrap_lon(lon[j]);
    memset(mask, 0, nlat * nlon);
    /* A scanline per row: the crossings of the row's latitude with every
     * edge, sorted, then each centre counts the crossings east of it with
     * the same arithmetic as polygon_contains. */
    for (size_t i = 0; i < nlat; i++) {
        double y = lat[i];
        uint8_t *row = mask + i * nlon;
        for (size_t k = 0; k < r->npolys; k++) {
            const polygon *p = &r->polys[k];
            if (y < p->south || y > p->north)
                continue;
            size_t n = 0;
            for (size_t g = 0; g < p->nrings; g++) {
                const ring *rg = &p->rings[g];
                for (size_t e = 0; e + 1 < rg->n; e++)
                    if (edge_crossing(rg->x[e], rg->y[e], rg->x[e + 1], rg->y[e + 1], y, &xc[n]))
                        n++;
            }
            if (n == 0)
                continue;
            qsort(xc, n, sizeof *xc, cmp_double);
            for (size_t j = 0; j < nlon; j++)
                if (!row[j] && x[j] >= p->west && x[j] <= p->east &&
                    crossings_east_of(xc, n, x[j]) % 2 == 1)
                    row[j] = 1;
        }
        for (size_t j = 0; j < nlon; j++)
            count += row[j];
    }
    free(xc);
    free(x);
    if (ninside)
        *ninside = count;
    return NULL;
}

/* ---- the region --------------------------------------------------------- */

static void polygon_free(polygon *p)
{
    for (size_t r = 0; r < p->nrings; r++) {
        free(p->rings[r].x);
        free(p->rings[r].y);
    }
    free(p->rings);
}

const char *floe_region_name(const floe_region *r)
{
    return r->name;
}

void floe_region_free(floe_region **r)
{
    if (!*r)
        return;
    for (size_t k = 0; k < (*r)->npolys; k++)
        polygon_free(&(*r)->polys[k]);
    free((*r)->polys);
    free(*r);
    *r = NULL;
}

size_t floe_region_polygon_count(const floe_region *r)
{
    return r->npolys;
}

size_t floe_region_ring_count(const floe_region *r, size_t k)
{
    return r->polys[k].nrings;
}

void floe_region_ring(const floe_region *r, size_t k, size_t g, const double **x,
                      const double **y, size_t *n)
{
    const ring *rg = &r->polys[k].rings[g];
    *x = rg->x, *y = rg->y, *n = rg->n;
}

floe_bbox floe_region_polygon_bbox(const floe_region *r, size_t k)
{
    const polygon *p = &r->polys[k];
    return (floe_bbox){p->west, p->south, p->east, p->north};
}

floe_bbox floe_region_bbox(const floe_region *r)
{
    floe_bbox b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t k = 0; k < r->npolys; k++) {
        const polygon *p = &r->polys[k];
        b.west = fmin(b.west, p->west);
        b.south = fmin(b.south, p->south);
        b.east = fmax(b.east, p->east);
        b.north = fmax(b.north, p->north);
    }
    return b;
}

/* ---- GeoJSON ------------------------------------------------------------ */

/* A path too long for the buffer (absurd nesting) ends in "...". */
static void path_mark_truncated(char *out, int n)
{
    if (n < 0 || n >= PATH_MAX_LEN)
        memcpy(out + PATH_MAX_LEN - 4, "...", 4);
}

/* "parent.name", or "name" at the top. */
static void path_field(char *out, const char *parent, const char *name)
{
    path_mark_truncated(out, snprintf(out, PATH_MAX_LEN, "%s%s%s", parent, *parent ? "." : "",
                                      name));
}

static void path_index(char *out, const char *parent, size_t i)
{
    path_mark_truncated(out, snprintf(out, PATH_MAX_LEN, "%s[%zu]", parent, i));
}

static floe_err parse_ring(const cJSON *j, const char *path, ring *out)
{
    if (!cJSON_IsArray(j))
        return FLOE_ERR(FLOE_EFORMAT, "%s: expected a ring (an array of positions)", path);
    size_t n = (size_t)cJSON_GetArraySize(j);
    if (n < 4)
        return FLOE_ERR(FLOE_EFORMAT, "%s: a ring needs at least 4 positions, has %zu", path, n);
    out->x = malloc(n * sizeof *out->x);
    out->y = malloc(n * sizeof *out->y);
    out->n = n;
    if (!out->x || !out->y)
        return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", path);
    size_t i = 0;
    const cJSON *pos;
    cJSON_ArrayForEach(pos, j) {
        const cJSON *lon = cJSON_GetArrayItem(pos, 0), *lat = cJSON_GetArrayItem(pos, 1);
        if (!cJSON_IsArray(pos) || !cJSON_IsNumber(lon) || !cJSON_IsNumber(lat) ||
            !isfinite(lon->valuedouble) || !isfinite(lat->valuedouble))
            return FLOE_ERR(FLOE_EFORMAT, "%s[%zu]: expected a position [lon, lat]", path, i);
        double x = lon->valuedouble, y = lat->valuedouble;
        if (x < -180 || x > 180)
            return FLOE_ERR(FLOE_EINVAL,
                            "%s[%zu]: longitude %g is outside [-180, 180] (regions across the "
                            "antimeridian are not supported: split them at 180 degrees)",
                            path, i, x);
        if (y < -90 || y > 90)
            return FLOE_ERR(FLOE_EINVAL, "%s[%zu]: latitude %g is outside [-90, 90]", path, i, y);
        if (i > 0 && fabs(x - out->x[i - 1]) > 180)
            return FLOE_ERR(FLOE_EUNSUPPORTED,
                            "%s[%zu]: the ring crosses the antimeridian (longitude %g to %g); "
                            "split it at 180 degrees (RFC 7946 section 3.1.9)",
                            path, i, out->x[i - 1], x);
        out->x[i] = x;
        out->y[i] = y;
        i++;
    }
    if (out->x[0] != out->x[n - 1] || out->y[0] != out->y[n - 1])
        return FLOE_ERR(FLOE_EFORMAT,
                        "%s: the ring is not closed (first position [%g, %g], last [%g, %g])", path,
                        out->x[0], out->y[0], out->x[n - 1], out->y[n - 1]);
    return NULL;
}

static floe_err add_polygon(floe_region *r, const cJSON *j, const char *path)
{
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) < 1)
        return FLOE_ERR(FLOE_EFORMAT, "%s: expected a polygon (an array of one or more rings)",
                        path);
    if (r->npolys == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 4;
        polygon *p = realloc(r->polys, cap * sizeof *p);
        if (!p)
            return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", path);
        r->polys = p;
        r->cap = cap;
    }
    polygon *p = &r->polys[r->npolys++];
    memset(p, 0, sizeof *p);
    size_t n = (size_t)cJSON_GetArraySize(j);
    p->rings = calloc(n, sizeof *p->rings);
    if (!p->rings)
        return FLOE_ERR(FLOE_ENOMEM, "%s: out of memory", path);
    const cJSON *rj;
    cJSON_ArrayForEach(rj, j) {
        char sub[PATH_MAX_LEN];
        path_index(sub, path, p->nrings);
        ring *g = &p->rings[p->nrings++];
        FLOE_CHECK(parse_ring(rj, sub, g));
    }
    /* The exterior bounds the polygon; holes lie inside it. */
    const ring *ext = &p->rings[0];
    p->west = p->east = ext->x[0];
    p->south = p->north = ext->y[0];
    for (size_t i = 1; i < ext->n; i++) {
        p->west = fmin(p->west, ext->x[i]);
        p->east = fmax(p->east, ext->x[i]);
        p->south = fmin(p->south, ext->y[i]);
        p->north = fmax(p->north, ext->y[i]);
    }
    return NULL;
}

static floe_err add_object(floe_region *r, const cJSON *j, const char *path, int depth);

static floe_err add_array_items(floe_region *r, const cJSON *obj, const char *path,
                                const char *member, int depth, int polygons)
{
    char sub[PATH_MAX_LEN];
    path_field(sub, path, member);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, member);
    if (!cJSON_IsArray(arr))
        return FLOE_ERR(FLOE_EFORMAT, "%s: missing or not an array", sub);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        char at[PATH_MAX_LEN];
        path_index(at, sub, i++);
        if (polygons)
            FLOE_CHECK(add_polygon(r, item, at));
        else
            FLOE_CHECK(add_object(r, item, at, depth + 1));
    }
    return NULL;
}

/* A feature's name: properties name, NAME or id, else its own id. */
static void add_feature_name(floe_region *r, const cJSON *feature)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(feature, "properties");
    static const char *const keys[] = {"name", "NAME", "id"};
    const cJSON *v = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof *keys && !v; i++) {
        v = cJSON_GetObjectItemCaseSensitive(props, keys[i]);
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v))
            v = NULL;
    }
    if (!v)
        v = cJSON_GetObjectItemCaseSensitive(feature, "id");
    char text[128];
    if (cJSON_IsString(v) && *v->valuestring)
        snprintf(text, sizeof text, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(text, sizeof text, "%.17g", v->valuedouble);
    else
        return;
    size_t n = strlen(r->name);
    snprintf(r->name + n, sizeof r->name - n, "%s%s", n ? "+" : "", text);
}

static floe_err add_object(floe_region *r, const cJSON *j, const char *path, int depth)
{
    const char *where = *path ? path : "the document";
    if (depth > 16)
        return FLOE_ERR(FLOE_EFORMAT, "%s: geometries nested too deeply", where);
    if (!cJSON_IsObject(j))
        return FLOE_ERR(FLOE_EFORMAT, "%s: expected a GeoJSON object", where);
    char sub[PATH_MAX_LEN];
    path_field(sub, path, "type");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(type))
        return FLOE_ERR(FLOE_EFORMAT, "%s: missing or not a string", sub);
    const char *t = type->valuestring;
    if (strcmp(t, "FeatureCollection") == 0)
        return add_array_items(r, j, path, "features", depth, 0);
    if (strcmp(t, "GeometryCollection") == 0)
        return add_array_items(r, j, path, "geometries", depth, 0);
    if (strcmp(t, "MultiPolygon") == 0)
        return add_array_items(r, j, path, "coordinates", depth, 1);
    if (strcmp(t, "Feature") == 0) {
        char g[PATH_MAX_LEN];
        path_field(g, path, "geometry");
        const cJSON *geom = cJSON_GetObjectItemCaseSensitive(j, "geometry");
        if (!geom)
            return FLOE_ERR(FLOE_EFORMAT, "%s: missing", g);
        if (cJSON_IsNull(geom))
            return FLOE_ERR(FLOE_EINVAL, "%s: null (a feature without geometry encloses no cells)",
                            g);
        add_feature_name(r, j);
        return add_object(r, geom, g, depth + 1);
    }
    if (strcmp(t, "Polygon") == 0) {
        char c[PATH_MAX_LEN];
        path_field(c, path, "coordinates");
        return add_polygon(r, cJSON_GetObjectItemCaseSensitive(j, "coordinates"), c);
    }
    if (strcmp(t, "Point") == 0 || strcmp(t, "MultiPoint") == 0 ||
        strcmp(t, "LineString") == 0 || strcmp(t, "MultiLineString") == 0)
        return FLOE_ERR(FLOE_EUNSUPPORTED,
                        "%s: '%s' encloses no cells (a region needs Polygon or MultiPolygon "
                        "geometries; for points use --points)", sub, t);
    return FLOE_ERR(FLOE_EFORMAT, "%s: '%s' is not a GeoJSON type", sub, t);
}

/* r from the object j at path (the caller names the document). */
static floe_err region_from(const cJSON *j, const char *path, const char *source,
                            floe_region **out)
{
    floe_region *r = calloc(1, sizeof *r);
    floe_err err = NULL;
    if (!r)
        err = FLOE_ERR(FLOE_ENOMEM, "region %s: out of memory", source);
    else
        err = add_object(r, j, path, 0);
    if (!err && r->npolys == 0)
        err = FLOE_ERR(FLOE_EINVAL, "%s%sno polygon in the document", path, *path ? ": " : "");
    if (!err && !r->name[0]) { /* no named feature: the file's name less its extension */
        const char *base = strrchr(source, '/') ? strrchr(source, '/') + 1 : source;
        const char *dot = strrchr(base, '.');
        int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
        snprintf(r->name, sizeof r->name, "%.*s", n, base);
    }
    if (err) {
        floe_region_free(&r);
        return err;
    }
    *out = r;
    return NULL;
}

floe_err floe_region_parse_object(const void *cjson, const char *path, const char *source,
                                  floe_region **out)
{
    *out = NULL;
    floe_err err = region_from(cjson, path, source, out);
    if (err)
        return floe_err_push(err, __FILE__, __LINE__, " region %s", source);
    return NULL;
}

floe_err floe_region_parse(const char *json, size_t len, const char *source,
                           floe_region **out)
{
    *out = NULL;
    cJSON *doc = cJSON_ParseWithLength(json, len);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
        return FLOE_ERR(FLOE_EFORMAT, "region %s: not valid JSON (near byte %zu)", source, off);
    }
    floe_err err = region_from(doc, "", source, out);
    cJSON_Delete(doc);
    if (err)
        return floe_err_push(err, __FILE__, __LINE__, " region %s", source);
    return NULL;
}
