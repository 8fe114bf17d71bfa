/* SPDX-License-Identifier: Apache-2.0 */
/* out/output_paths.c - see output_paths.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "out/output_paths.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* An output resolved: its canonical name and whether something is there. */
typedef struct resolved {
    char canon[PATH_MAX];
    int exists;
} resolved;

/* The folder path lies in ("." for a bare name, "/" at the root) into
 * dir; 0 if it does not fit. */
static int folder_of(const char *path, char dir[PATH_MAX])
{
    const char *slash = strrchr(path, '/');
    size_t nd = slash ? (size_t)(slash - path) : 0;
    if (nd >= PATH_MAX)
        return 0;
    if (!slash)
        strcpy(dir, ".");
    else if (nd == 0)
        strcpy(dir, "/");
    else
        memcpy(dir, path, nd), dir[nd] = '\0';
    return 1;
}

/* The canonical name of output o: the real path of its folder plus its
 * own name (which need not exist yet). */
static floe_err resolve_output(const floe_output_path *o, resolved *r)
{
    const char *slash = strrchr(o->path, '/');
    const char *base = slash ? slash + 1 : o->path;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return FLOE_ERR(FLOE_EINVAL, "%s %s names no file", o->what, o->path);
    char dir[PATH_MAX], real[PATH_MAX];
    if (!folder_of(o->path, dir))
        return FLOE_ERR(FLOE_EINVAL, "%s %s: path too long", o->what, o->path);
    if (!realpath(dir, real)) {
        if (errno == ENOENT || errno == ENOTDIR)
            return FLOE_ERR(FLOE_EINVAL, "%s %s: the folder %s does not exist", o->what,
                            o->path, dir);
        return FLOE_ERR(FLOE_EINVAL, "%s %s: cannot reach the folder %s: %s", o->what, o->path,
                        dir, strerror(errno));
    }
    int n = snprintf(r->canon, sizeof r->canon, "%s%s%s", real, strcmp(real, "/") ? "/" : "",
                     base);
    if (n < 0 || (size_t)n >= sizeof r->canon)
        return FLOE_ERR(FLOE_EINVAL, "%s %s: path too long", o->what, o->path);
    struct stat st;
    r->exists = lstat(r->canon, &st) == 0;
    if (r->exists && S_ISDIR(st.st_mode))
        return FLOE_ERR(FLOE_EINVAL, "%s %s is a folder: give a file name", o->what, o->path);
    return NULL;
}

/* The canonical location of input in (0 if it cannot be resolved: then it
 * does not exist, and nothing can replace it). A prefix that does not end
 * in '/' ("file:///mirror/NLDAS_") stands for the folder it lies in. */
static int resolve_input(const floe_local_input *in, char real[PATH_MAX])
{
    if (realpath(in->path, real))
        return 1;
    size_t n = strlen(in->path);
    if (in->kind != FLOE_INPUT_SOURCES || !n || in->path[n - 1] == '/')
        return 0;
    char dir[PATH_MAX];
    return folder_of(in->path, dir) && realpath(dir, real) != NULL;
}

/* Whether canonical path p lies inside folder dir (both canonical). */
static int inside(const char *p, const char *dir)
{
    size_t n = strlen(dir);
    if (!strcmp(dir, "/"))
        return 1;
    return !strncmp(p, dir, n) && p[n] == '/';
}

/* The name by which the input is read: the real path of its folder plus
 * its own name (a link named as the input is itself an input name: an
 * output renamed over it would take the input's place). 0 if none. */
static int input_name(const floe_local_input *in, char named[PATH_MAX])
{
    floe_output_path as_output = {in->path, "", ""};
    resolved r;
    floe_err err = resolve_output(&as_output, &r);
    if (err) {
        floe_err_free(&err);
        return 0;
    }
    memcpy(named, r.canon, strlen(r.canon) + 1);
    return 1;
}

/* JSON files larger than this are not floe's Items or reports. */
#define MAX_OWN_JSON ((long)16 << 20)

/* Whether the file at canonical path p is one that floe wrote: a NetCDF
 * file with floe's global floe_version attribute, a derived STAC Item
 * (processing:software names floe) or a --report (floe_version). Such a
 * file in a folder chunks come from is a previous run's output, which -O
 * may replace (the check for existing outputs still asks for -O);
 * anything else there may be a source. */
static int floe_wrote(const char *p)
{
    int ncid;
    if (nc_open(p, NC_NOWRITE, &ncid) == NC_NOERR) {
        size_t len;
        int ours = nc_inq_attlen(ncid, NC_GLOBAL, "floe_version", &len) == NC_NOERR;
        nc_close(ncid);
        return ours;
    }
    FILE *f = fopen(p, "rb");
    if (!f)
        return 0;
    char *text = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && n <= MAX_OWN_JSON && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)n + 1)) && fread(text, 1, (size_t)n, f) == (size_t)n)
        text[n] = '\0';
    else {
        free(text);
        text = NULL;
    }
    fclose(f);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(j, "properties");
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(props, "processing:software");
    int ours = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "floe_version")) ||
               cJSON_GetObjectItemCaseSensitive(sw, "floe") != NULL;
    cJSON_Delete(j);
    return ours;
}

static floe_err against_input(const floe_output_path *o, const resolved *r,
                              const floe_local_input *in)
{
    char real[PATH_MAX], named[PATH_MAX];
    if (in->kind == FLOE_INPUT_FILE && input_name(in, named) && !strcmp(r->canon, named))
        return FLOE_ERR(FLOE_EINVAL, "%s %s would replace %s %s: inputs are never replaced, "
                        "not even with -O; give %s another path", o->what, o->path, in->what,
                        in->path, o->hint);
    if (!resolve_input(in, real))
        return NULL;
    int clash = !strcmp(r->canon, real) ||
                (in->kind == FLOE_INPUT_REPOSITORY && inside(r->canon, real)) ||
                (in->kind == FLOE_INPUT_SOURCES && r->exists && inside(r->canon, real) &&
                 !floe_wrote(r->canon));
    if (!clash)
        return NULL;
    if (!strcmp(r->canon, real))
        return FLOE_ERR(FLOE_EINVAL, "%s %s would replace %s %s: inputs are never replaced, "
                        "not even with -O; give %s another path", o->what, o->path, in->what,
                        in->path, o->hint);
    if (in->kind == FLOE_INPUT_REPOSITORY)
        return FLOE_ERR(FLOE_EINVAL, "%s %s lies inside %s %s, which this run reads: give %s "
                        "a path outside it", o->what, o->path, in->what, in->path, o->hint);
    return FLOE_ERR(FLOE_EINVAL, "%s %s exists in %s %s, where chunks may be read from, and "
                    "floe did not write it: it may be an input, which is never replaced; give "
                    "%s another path", o->what, o->path, in->what, in->path, o->hint);
}

floe_err floe_output_paths_check(const floe_output_path *outs, size_t nouts,
                                 const floe_local_input *ins, size_t nins, int overwrite)
{
    resolved *r = calloc(nouts ? nouts : 1, sizeof *r);
    if (!r)
        return FLOE_ERR(FLOE_ENOMEM, "checking %zu output paths", nouts);
    floe_err err = NULL;
    for (size_t i = 0; i < nouts && !err; i++)
        err = resolve_output(&outs[i], &r[i]);
    for (size_t i = 0; i < nouts && !err; i++)
        for (size_t j = 0; j < i && !err; j++)
            if (!strcmp(r[i].canon, r[j].canon))
                err = FLOE_ERR(FLOE_EINVAL, "%s %s and %s %s are the same file: give %s "
                               "another path", outs[j].what, outs[j].path, outs[i].what,
                               outs[i].path, outs[i].hint);
    for (size_t i = 0; i < nouts && !err; i++)
        for (size_t k = 0; k < nins && !err; k++)
            err = against_input(&outs[i], &r[i], &ins[k]);
    for (size_t i = 0; i < nouts && !err; i++)
        if (r[i].exists && !overwrite)
            err = FLOE_ERR(FLOE_EINVAL, "%s %s exists: give -O (--overwrite) to replace it",
                           outs[i].what, outs[i].path);
    free(r);
    return err;
}
