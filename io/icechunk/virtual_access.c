/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/virtual_access.c - see virtual_access.h. Prefix lists are short (a few
 * containers, a few --allow/--remap rules), so linear scans are fine; the
 * per-chunk cost is a handful of strncmp calls. */
#include "io/icechunk/virtual_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct prefix_list {
    char **items;
    int *flags; /* allow: 1 = from the command line */
    size_t n;
} prefix_list;

typedef struct remap_rule {
    char *from, *to;
} remap_rule;

struct virtual_policy {
    prefix_list declared;
    prefix_list allowed;
    remap_rule *remaps;
    size_t nremaps;
};

static floe_err list_add(prefix_list *l, const char *s, int flag)
{
    char **items = realloc(l->items, (l->n + 1) * sizeof *items);
    if (!items)
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    l->items = items;
    int *flags = realloc(l->flags, (l->n + 1) * sizeof *flags);
    if (!flags)
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    l->flags = flags;
    if (!(l->items[l->n] = strdup(s)))
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    l->flags[l->n++] = flag;
    return NULL;
}

static void list_free(prefix_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    free(l->flags);
    memset(l, 0, sizeof *l);
}

floe_err virtual_policy_new(virtual_policy **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? NULL : FLOE_ERR(FLOE_ENOMEM, "virtual access policy");
}

void virtual_policy_free(virtual_policy **pp)
{
    virtual_policy *p = pp ? *pp : NULL;
    if (!p)
        return;
    list_free(&p->declared);
    list_free(&p->allowed);
    for (size_t i = 0; i < p->nremaps; i++) {
        free(p->remaps[i].from);
        free(p->remaps[i].to);
    }
    free(p->remaps);
    free(p);
    *pp = NULL;
}

static int has_scheme(const char *s)
{
    const char *colon = strstr(s, "://");
    return colon && colon > s;
}

floe_err virtual_policy_declare(virtual_policy *p, const char *prefix)
{
    if (!prefix || !*prefix)
        return FLOE_ERR(FLOE_EFORMAT, "empty virtual chunk container prefix");
    return list_add(&p->declared, prefix, 0);
}

floe_err virtual_policy_allow(virtual_policy *p, const char *prefix, int from_cli)
{
    if (!prefix || !has_scheme(prefix))
        return FLOE_ERR(FLOE_EINVAL,
                        "--allow '%s': give a URL prefix with its scheme, e.g. "
                        "s3://bucket/path/ or file:///data/", prefix ? prefix : "");
    return list_add(&p->allowed, prefix, from_cli);
}

floe_err virtual_policy_remap(virtual_policy *p, const char *rule)
{
    const char *eq = strchr(rule, '=');
    if (!eq || eq == rule || !eq[1])
        return FLOE_ERR(FLOE_EINVAL, "--remap '%s': expected FROM=TO (two URL prefixes)", rule);
    remap_rule *r = realloc(p->remaps, (p->nremaps + 1) * sizeof *r);
    if (!r)
        return FLOE_ERR(FLOE_ENOMEM, "remap rules");
    p->remaps = r;
    remap_rule *n = &p->remaps[p->nremaps];
    n->from = strndup(rule, (size_t)(eq - rule));
    n->to = strdup(eq + 1);
    if (!n->from || !n->to) {
        free(n->from);
        free(n->to);
        return FLOE_ERR(FLOE_ENOMEM, "remap rules");
    }
    p->nremaps++;
    return NULL;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A prefix covers a location if it is a leading substring that ends at a
 * path boundary: "s3://b/data" must not cover "s3://b/database/x". */
static int covers(const char *prefix, const char *loc)
{
    size_t n = strlen(prefix);
    if (strncmp(loc, prefix, n) != 0)
        return 0;
    return n == 0 || prefix[n - 1] == '/' || loc[n] == '\0' || loc[n] == '/';
}

floe_err virtual_policy_resolve(const virtual_policy *p, const char *loc, char **fetch_url)
{
    *fetch_url = NULL;
    int declared = 0;
    for (size_t i = 0; i < p->declared.n && !declared; i++)
        declared = covers(p->declared.items[i], loc);
    if (!declared)
        return FLOE_ERR(FLOE_EAUTH,
                        "virtual chunk location %s is not under any virtual chunk container "
                        "the repository declares (%zu declared%s%s)",
                        loc, p->declared.n, p->declared.n ? ", e.g. " : "",
                        p->declared.n ? p->declared.items[0] : "");

    /* The longest matching FROM wins, so specific rules beat general ones. */
    const remap_rule *best = NULL;
    for (size_t i = 0; i < p->nremaps; i++)
        if (starts_with(loc, p->remaps[i].from) &&
            (!best || strlen(p->remaps[i].from) > strlen(best->from)))
            best = &p->remaps[i];
    size_t n = strlen(loc) + 1 + (best ? strlen(best->to) : 0);
    char *url = malloc(n);
    if (!url)
        return FLOE_ERR(FLOE_ENOMEM, "virtual chunk URL");
    if (best)
        snprintf(url, n, "%s%s", best->to, loc + strlen(best->from));
    else
        snprintf(url, n, "%s", loc);

    int is_file = starts_with(url, "file://") || url[0] == '/' || !has_scheme(url);
    for (size_t i = 0; i < p->allowed.n; i++) {
        if (is_file && !p->allowed.flags[i])
            continue; /* only the user, on the command line, may open the local disk */
        if (covers(p->allowed.items[i], url)) {
            *fetch_url = url;
            return NULL;
        }
    }
    char remapped[1024] = "";
    if (best)
        snprintf(remapped, sizeof remapped, " (remapped to %s)", url);
    floe_err err = FLOE_ERR(FLOE_EAUTH,
                            "virtual chunk location %s%s is not authorised: pass --allow with "
                            "a prefix of it%s",
                            loc, remapped,
                            is_file ? " (local files need an explicit --allow)" : "");
    free(url);
    return err;
}
