/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_inspect.c - `floe inspect`: what a user needs to know before a big
 * run. Like xarray's repr, plus what xarray does not show: the snapshot,
 * where the version choice came from, manifests and chunk references, the
 * codecs and the virtual chunk containers; with --versions the branches,
 * tags and history. This file parses the command and gathers the data;
 * cli/inspect_print.c and cli/inspect_versions.c format it. */
#include "cli/cmd_inspect.h"

#include "common/floe_interrupt.h"

#include "cli/inspect_print.h"
#include "cli/inspect_stac_cube.h"
#include "cli/inspect_versions.h"
#include "cli/options.h"
#include "common/floe_redact.h"
#include "dataset/dataset.h"
#include "stac/doc.h"
#include "stac/open.h"

#include <stdlib.h>
#include <string.h>

typedef struct inspect_args {
    cmd_source src;
    int json;
    int stac_only;
    int versions;
} inspect_args;

void cmd_inspect_help(FILE *out)
{
    fprintf(out,
            "usage: floe inspect SOURCE [--json] [--stac-only | --versions] [source options]\n"
            "\n"
            "Prints the dataset a STAC document or repository leads to: the snapshot\n"
            "and why it was chosen, dimensions, coordinates with ranges and steps,\n"
            "variables with dtype, shape, chunks, codecs, attributes and chunk\n"
            "references, and the virtual chunk containers.\n"
            "\n"
            "Options:\n"
            "  --json        machine-readable output\n"
            "  --stac-only   only read the STAC document: the open parameters\n"
            "                (repository, version, containers) and, without --json,\n"
            "                what it says of the data (extents, cube:dimensions,\n"
            "                cube:variables); no network access\n"
            "  --versions    the repository's branches and tags (and the snapshot\n"
            "                each names), and the history of the version opened:\n"
            "                snapshot ids, times (UTC) and messages, newest first\n"
            "                (a spec-1 repository's refs cannot be listed)\n"
            "\n");
    cmd_source_help(out);
}

/* --json, --stac-only, --versions */
static floe_err own_option(cmd_scan *s, void *args, int *taken)
{
    inspect_args *a = args;
    *taken = 1;
    if (cmd_is(s, "--json", NULL))
        a->json = 1;
    else if (cmd_is(s, "--stac-only", NULL))
        a->stac_only = 1;
    else if (cmd_is(s, "--versions", NULL))
        a->versions = 1;
    else
        *taken = 0;
    return NULL;
}

static floe_err parse_args(int argc, char **argv, inspect_args *a)
{
    memset(a, 0, sizeof *a);
    FLOE_CHECK(cmd_parse(argc, argv, &a->src, NULL, own_option, a));
    if (a->versions && a->stac_only)
        return FLOE_ERR(FLOE_EINVAL, "--versions reads the repository; --stac-only reads only "
                        "the STAC document: give one of them");
    return NULL;
}

/* What inspect prints passes through the one redaction
 * (common/floe_redact.h): the source, repository and container URLs may
 * carry "user:password@" or a pre-signed query. The printers write to
 * memory; the redacted text then goes to stdout. */
typedef struct capture {
    FILE *mem;
    char *text;
    size_t len;
} capture;

static floe_err capture_begin(capture *c)
{
    memset(c, 0, sizeof *c);
    c->mem = open_memstream(&c->text, &c->len);
    return c->mem ? NULL : FLOE_ERR(FLOE_ENOMEM, "inspect output");
}

/* Print what was captured, redacted, unless err; returns err or this step's. */
static floe_err capture_end(capture *c, floe_err err)
{
    if (fclose(c->mem) != 0 && !err)
        err = FLOE_ERR(FLOE_ENOMEM, "inspect output");
    char *safe = err ? NULL : floe_redact_dup(c->text);
    if (!err && !safe)
        err = FLOE_ERR(FLOE_ENOMEM, "inspect output");
    if (safe)
        fputs(safe, stdout);
    free(safe);
    free(c->text);
    return err;
}

static floe_err stac_only(const inspect_args *a)
{
    stac_request req = {.asset = a->src.req.asset};
    if (a->src.req.ref_kind != FLOE_REF_DEFAULT) {
        req.cli_ref_kind = a->src.req.ref_kind == FLOE_REF_TAG ? STAC_REF_TAG
                           : a->src.req.ref_kind == FLOE_REF_SNAPSHOT ? STAC_REF_SNAPSHOT
                                                                      : STAC_REF_BRANCH;
        req.cli_ref = a->src.req.ref;
    }
    stac_open_params p;
    /* No transport: a local document only, and nothing else is touched. */
    FLOE_CHECK(stac_open_resolve(NULL, a->src.req.source, &req, &p));
    /* the human form also says what the document says of its data (the
     * JSON form stays the open parameters, as before) */
    stac_doc *doc = NULL;
    floe_err err = a->json ? NULL : stac_doc_load(NULL, a->src.req.source, &doc);
    capture c;
    if (!err)
        err = capture_begin(&c);
    if (!err) {
        floe_err perr = inspect_print_stac(&p, a->json, c.mem);
        if (!perr && doc) {
            fputs("\n", c.mem);
            inspect_print_stac_cube(doc->root, c.mem);
        }
        err = capture_end(&c, perr);
    }
    stac_doc_free(&doc);
    stac_open_params_clear(&p);
    return err;
}

/* --versions: only the repository's refs and history, so no array's
 * manifests are read (arrays ""). */
static floe_err versions(const inspect_args *a)
{
    floe_open_request req = a->src.req;
    req.arrays = "";
    floe_dataset *ds = NULL;
    FLOE_CHECK(floe_dataset_open(&req, &ds), "%s", req.source);
    floe_versions v;
    floe_err err = floe_dataset_versions(ds, &v);
    capture c;
    if (!err)
        err = capture_begin(&c);
    if (!err)
        err = capture_end(&c, inspect_print_versions(floe_dataset_provenance(ds), &v, a->json,
                                                     c.mem));
    floe_versions_clear(&v);
    floe_dataset_free(&ds);
    return err;
}

floe_err cmd_inspect_run(int argc, char **argv)
{
    /* It writes nothing: an interrupt just ends it, silently (main blocked
     * the signals until a command takes them: common/floe_interrupt.h). */
    FLOE_CHECK(floe_interrupt_install(0));
    inspect_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));
    a.src.req.allow = a.src.allow;
    a.src.req.remap = a.src.remap;
    if (a.stac_only)
        return stac_only(&a);
    if (a.versions)
        return versions(&a);

    floe_dataset *ds = NULL;
    FLOE_CHECK(floe_dataset_open(&a.src.req, &ds), "%s", a.src.req.source);
    size_t n = floe_dataset_array_count(ds);
    double **coords = calloc(n ? n : 1, sizeof *coords);
    floe_err err = NULL;
    if (!coords) {
        err = FLOE_ERR(FLOE_ENOMEM, "inspect");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const floe_array *c = floe_dataset_array(ds, i);
        if (inspect_is_coordinate(c) && !c->unreadable)
            FLOE_CHECK_GOTO(err, done, floe_dataset_read_1d(ds, c, &coords[i]),
                            "coordinate %s", c->name);
    }
    capture c;
    err = capture_begin(&c);
    if (!err)
        err = capture_end(&c, inspect_print_dataset(ds, coords, a.json, c.mem));
done:
    for (size_t i = 0; coords && i < n; i++)
        free(coords[i]);
    free(coords);
    floe_dataset_free(&ds);
    return err;
}
