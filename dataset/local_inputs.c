/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/local_inputs.c - floe_dataset_local_inputs: which local files and
 * folders a dataset reads, so that a run can refuse an output that would
 * replace one of them (out/output_paths.h). Only the dataset knows them
 * all: a local STAC document may name a file:// repository, and its
 * containers may be local folders. */
#include "dataset/internal.h"

#include "io/transport/url.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct input_list {
    floe_local_input *v;
    size_t n, cap;
} input_list;

/* Add url's local path when url is local (a path or file://); anything
 * else (s3://, http(s)://, a file:// URL of another host) is not local
 * and is skipped. */
static floe_err add_local(input_list *l, const char *url, floe_input_kind kind, const char *what)
{
    floe_url_kind k;
    const char *path;
    if (!url || !*url)
        return NULL;
    floe_err err = floe_url_kind_of(url, &k);
    if (err || k != FLOE_URL_FILE || (err = floe_url_file_path(url, &path))) {
        floe_err_free(&err); /* not local: nothing of ours to protect */
        return NULL;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        floe_local_input *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return FLOE_ERR(FLOE_ENOMEM, "the inputs of %s", url);
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return FLOE_ERR(FLOE_ENOMEM, "the inputs of %s", url);
    l->v[l->n++] = (floe_local_input){copy, kind, what};
    return NULL;
}

floe_err floe_dataset_local_inputs(const floe_dataset *ds, const floe_open_request *req,
                                   floe_local_input **inputs, size_t *n)
{
    *inputs = NULL;
    *n = 0;
    input_list l = {0};
    floe_err err = NULL;
    if (ds) {
        const floe_provenance *p = &ds->prov;
        if (p->doc_kind)
            err = add_local(&l, p->source, FLOE_INPUT_FILE, "the STAC document");
        if (!err)
            err = add_local(&l, p->repository, FLOE_INPUT_REPOSITORY, "the repository");
    } else {
        /* before the open: a local SOURCE is a repository if it is a folder */
        const char *path;
        floe_url_kind k;
        struct stat st;
        floe_err e = floe_url_kind_of(req->source, &k);
        if (!e && k == FLOE_URL_FILE)
            e = floe_url_file_path(req->source, &path);
        int folder = !e && k == FLOE_URL_FILE && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        floe_err_free(&e);
        err = add_local(&l, req->source, folder ? FLOE_INPUT_REPOSITORY : FLOE_INPUT_FILE,
                        folder ? "the repository" : "the STAC document");
    }
    for (size_t i = 0; !err && ds && i < floe_dataset_container_count(ds); i++)
        err = add_local(&l, floe_dataset_container(ds, i), FLOE_INPUT_SOURCES,
                        "a virtual chunk container");
    for (size_t i = 0; !err && i < req->nallow; i++)
        err = add_local(&l, req->allow[i], FLOE_INPUT_SOURCES, "an --allow folder");
    for (size_t i = 0; !err && i < req->nremap; i++) {
        const char *eq = strchr(req->remap[i], '=');
        if (eq)
            err = add_local(&l, eq + 1, FLOE_INPUT_SOURCES, "a --remap target");
    }
    if (err) {
        floe_local_inputs_free(&l.v, l.n);
        return err;
    }
    *inputs = l.v;
    *n = l.n;
    return NULL;
}

void floe_local_inputs_free(floe_local_input **inputs, size_t n)
{
    if (!inputs || !*inputs)
        return;
    for (size_t i = 0; i < n; i++)
        free((*inputs)[i].path);
    free(*inputs);
    *inputs = NULL;
}
