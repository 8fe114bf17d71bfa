/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/virtual_access.c - see virtual_access.h. Prefix lists are short (a few
 * containers, a few --allow/--remap rules), so linear scans are fine; the
 * per-chunk cost is one canonical form (io/transport/url.h) and a handful
 * of strncmp calls, plus a realpath for a local file. Every prefix is kept
 * in canonical form, so that one comparison of canonical strings decides.
 * A location is redacted for a refusal only (show). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "io/icechunk/virtual_access.h"

#include "common/floe_buf.h"
#include "io/transport/url.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A canonical URL fits here (locations are paths and keys; longer ones are
 * refused rather than truncated). */
enum { CANONICAL_MAX = 8192 };

typedef struct prefix_list {
    char **items; /* canonical */
    int *flags;   /* allow: 1 = from the command line */
    char **real;  /* allow, file:// from the command line: the folder's real path (symlinks
                     resolved), else NULL */
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
    prefix_list trusted; /* endpoints the user named (canonical) */
    char *s3_endpoint;   /* where s3:// locations are fetched; NULL: AWS */
    floe_host_kind s3_kind; /* its address kind (host_kind_of), kept up to date by the
                               two setters: every s3:// chunk asks, and the answer
                               only changes with them */
};

static floe_err list_add(prefix_list *l, const char *s, int flag, const char *real)
{
    char **items = realloc(l->items, (l->n + 1) * sizeof *items);
    if (!items)
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    l->items = items;
    int *flags = realloc(l->flags, (l->n + 1) * sizeof *flags);
    if (!flags)
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    l->flags = flags;
    char **reals = realloc(l->real, (l->n + 1) * sizeof *reals);
    if (!reals)
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    l->real = reals;
    l->real[l->n] = NULL;
    if (!(l->items[l->n] = strdup(s)) || (real && !(l->real[l->n] = strdup(real)))) {
        free(l->items[l->n]);
        return FLOE_ERR(FLOE_ENOMEM, "prefix list");
    }
    l->flags[l->n++] = flag;
    return NULL;
}

static void list_free(prefix_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i]);
        free(l->real[i]);
    }
    free(l->items);
    free(l->flags);
    free(l->real);
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
    list_free(&p->trusted);
    free(p->s3_endpoint);
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

/* The canonical form of url (a prefix when prefix is set) into buf
 * (CANONICAL_MAX bytes). On refusal *why is the reason (the caller frees
 * it) and buf is "". */
static void canonical(const char *url, int prefix, char *buf, floe_err *why)
{
    floe_buf b;
    floe_buf_init(&b, CANONICAL_MAX - 1);
    *why = floe_url_canonical(url, prefix, &b);
    if (!*why && b.len)
        memcpy(buf, b.data, b.len);
    buf[*why ? 0 : b.len] = 0;
    floe_buf_free(&b);
}

/* The real path of a local path that need not exist: the real path of its
 * longest existing ancestor (symlinks resolved), then the rest as written
 * (nothing there to resolve). out has PATH_MAX bytes. 0 when it cannot be
 * resolved (then nothing under it is read). */
static int real_path(const char *path, char *out)
{
    char head[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof head || path[0] != '/')
        return 0;
    memcpy(head, path, n + 1);
    for (;;) {
        if (realpath(head[0] ? head : "/", out)) {
            const char *rest = path + strlen(head);
            size_t k = strlen(out);
            if (k + strlen(rest) + 1 >= PATH_MAX)
                return 0;
            /* out has no trailing '/' (unless it is "/"), rest starts with one */
            memcpy(out + (k == 1 ? 0 : k), rest, strlen(rest) + 1);
            if (!out[0])
                strcpy(out, "/");
            return 1;
        }
        if (errno != ENOENT && errno != ENOTDIR)
            return 0;
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            if (!head[0] || slash != head)
                return 0;
            head[0] = 0; /* "/x": the ancestor is "/" */
            continue;
        }
        *slash = 0;
    }
}

/* Is the real path p in the real folder dir (or dir itself)? */
static int path_in(const char *dir, const char *p)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return 1;
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == 0);
}

floe_err virtual_policy_declare(virtual_policy *p, const char *prefix)
{
    if (!prefix || !*prefix)
        return FLOE_ERR(FLOE_EFORMAT, "empty virtual chunk container prefix");
    char c[CANONICAL_MAX];
    floe_err why;
    canonical(prefix, 1, c, &why);
    if (why) {
        /* A container with a dot segment (or the like) cannot cover any
         * canonical location: it authorises nothing, and the repository
         * stays readable for the rest. */
        floe_err_free(&why);
        return NULL;
    }
    return list_add(&p->declared, c, 0, NULL);
}

floe_err virtual_policy_allow(virtual_policy *p, const char *prefix, int from_cli)
{
    if (!prefix || !has_scheme(prefix))
        return FLOE_ERR(FLOE_EINVAL,
                        "--allow '%s': give a URL prefix with its scheme, e.g. "
                        "s3://bucket/path/ or file:///data/", prefix ? prefix : "");
    char c[CANONICAL_MAX], shown[512];
    floe_err why;
    canonical(prefix, 1, c, &why);
    if (why) {
        floe_err err = FLOE_ERR(FLOE_EINVAL, "%s '%s': %s", from_cli ? "--allow" : "container",
                                floe_url_redact(prefix, shown, sizeof shown),
                                floe_err_message(why));
        floe_err_free(&why);
        return err;
    }
    char real[PATH_MAX];
    const char *folder = NULL;
    if (from_cli && strncmp(c, "file://", 7) == 0) {
        if (!real_path(c + 7, real))
            return FLOE_ERR(FLOE_EINVAL, "--allow '%s': cannot resolve the folder", prefix);
        folder = real;
    }
    return list_add(&p->allowed, c, from_cli, folder);
}

floe_err virtual_policy_remap(virtual_policy *p, const char *rule)
{
    const char *eq = strchr(rule, '=');
    if (!eq || eq == rule || !eq[1])
        return FLOE_ERR(FLOE_EINVAL, "--remap '%s': expected FROM=TO (two URL prefixes)", rule);
    char *from = strndup(rule, (size_t)(eq - rule));
    if (!from)
        return FLOE_ERR(FLOE_ENOMEM, "remap rules");
    char cf[CANONICAL_MAX], ct[CANONICAL_MAX];
    floe_err why;
    canonical(from, 1, cf, &why);
    free(from);
    if (!why)
        canonical(eq + 1, 1, ct, &why);
    if (why) {
        floe_err err = FLOE_ERR(FLOE_EINVAL, "--remap '%s': %s", rule, floe_err_message(why));
        floe_err_free(&why);
        return err;
    }
    remap_rule *r = realloc(p->remaps, (p->nremaps + 1) * sizeof *r);
    if (!r)
        return FLOE_ERR(FLOE_ENOMEM, "remap rules");
    p->remaps = r;
    remap_rule *n = &p->remaps[p->nremaps];
    n->from = strdup(cf);
    n->to = strdup(ct);
    if (!n->from || !n->to) {
        free(n->from);
        free(n->to);
        return FLOE_ERR(FLOE_ENOMEM, "remap rules");
    }
    p->nremaps++;
    return NULL;
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

/* A refusal of loc (shown redacted): FLOE_EAUTH, one line. */
#define REFUSE(...) FLOE_ERR(FLOE_EAUTH, __VA_ARGS__)

/* How a refusal names a location: redacted (floe_url_redact) and, when a
 * --remap rule rewrote it, what it became. Built only when a refusal is:
 * redaction is about a third of the cost of resolving a location, and a
 * location that is resolved (every chunk of a read) is never shown. */
typedef struct shown_location {
    char loc[1024];
    char remapped[CANONICAL_MAX + 32]; /* " (remapped to ...)", or "" */
} shown_location;

/* joined: the location after remapping, or NULL when no rule applied. */
static const shown_location *show(shown_location *s, const char *loc, const char *joined)
{
    floe_url_redact(loc, s->loc, sizeof s->loc);
    s->remapped[0] = 0;
    if (joined) {
        char shown_joined[1024];
        snprintf(s->remapped, sizeof s->remapped, " (remapped to %s)",
                 floe_url_redact(joined, shown_joined, sizeof shown_joined));
    }
    return s;
}

/* The kind of target's address: its host's, or public when the user named
 * that endpoint (trusted). */
static floe_host_kind host_kind_of(const virtual_policy *p, const char *target)
{
    floe_host_kind k = floe_url_host_kind(target);
    for (size_t i = 0; k != FLOE_HOST_PUBLIC && i < p->trusted.n; i++)
        if (floe_url_same_origin(p->trusted.items[i], target))
            k = FLOE_HOST_PUBLIC;
    return k;
}

static void update_s3_kind(virtual_policy *p)
{
    p->s3_kind = p->s3_endpoint ? host_kind_of(p, p->s3_endpoint) : FLOE_HOST_PUBLIC; /* AWS */
}

floe_err virtual_policy_trust_endpoint(virtual_policy *p, const char *endpoint)
{
    char c[CANONICAL_MAX];
    floe_err why;
    canonical(endpoint, 1, c, &why);
    if (why) { /* not a URL floe can compare: it vouches for nothing (the transport says
                  what is wrong with it when it is used) */
        floe_err_free(&why);
        return NULL;
    }
    FLOE_CHECK(list_add(&p->trusted, c, 1, NULL));
    update_s3_kind(p);
    return NULL;
}

floe_err virtual_policy_s3_endpoint(virtual_policy *p, const char *endpoint)
{
    free(p->s3_endpoint);
    p->s3_endpoint = NULL;
    if (endpoint && !(p->s3_endpoint = strdup(endpoint)))
        return FLOE_ERR(FLOE_ENOMEM, "S3 endpoint");
    update_s3_kind(p);
    return NULL;
}

/* The address url (canonical, not file://) is fetched from, when it is not
 * a public one the document may authorise: its http(s) host, or for s3://
 * the S3 endpoint; an endpoint the user named counts as public. *via: the
 * endpoint for s3:// (NULL otherwise). */
static floe_host_kind address_kind(const virtual_policy *p, const char *url, const char **via)
{
    *via = NULL;
    if (strncmp(url, "s3://", 5) == 0) {
        *via = p->s3_endpoint;
        return p->s3_kind;
    }
    return host_kind_of(p, url);
}

/* The prefixes that cover url (canonical, not file://): *cli one given
 * with --allow, *doc one a document gave (NULL: none of that kind). */
static void covering(const virtual_policy *p, const char *url, const char **cli,
                     const char **doc)
{
    *cli = *doc = NULL;
    for (size_t i = 0; i < p->allowed.n; i++) {
        if (strncmp(p->allowed.items[i], "file://", 7) == 0 || !covers(p->allowed.items[i], url))
            continue;
        if (p->allowed.flags[i])
            *cli = p->allowed.items[i];
        else if (!*doc)
            *doc = p->allowed.items[i];
    }
}

/* Is url (canonical, not file://) authorised? NULL if a --allow covers it,
 * or a document's prefix does and its address is public (or the user's
 * endpoint); otherwise the refusal, naming loc (and joined: show). */
static floe_err authorised(const virtual_policy *p, const char *url, const char *loc,
                           const char *joined)
{
    const char *cli, *doc, *via;
    covering(p, url, &cli, &doc);
    if (cli)
        return NULL;
    shown_location s;
    show(&s, loc, joined);
    if (!doc)
        return REFUSE("virtual chunk location %s%s is not authorised: pass --allow with a "
                      "prefix of it", s.loc, s.remapped);
    floe_host_kind k = address_kind(p, url, &via);
    if (k == FLOE_HOST_PUBLIC)
        return NULL;
    char shown_via[512], where[600];
    if (via)
        snprintf(where, sizeof where, "%s (the S3 endpoint %s)", floe_host_kind_name(k),
                 floe_url_redact(via, shown_via, sizeof shown_via));
    else
        snprintf(where, sizeof where, "%s", floe_host_kind_name(k));
    return REFUSE("virtual chunk location %s%s is not authorised: it is on %s, which only an "
                  "explicit --allow may authorise, not the STAC document that authorises %s: "
                  "pass --allow %s yourself if you trust it", s.loc, s.remapped, where, doc, doc);
}

/* The local file url (canonical file://) may be read: its real path lies in
 * a folder the user allowed with --allow. On success *fetch_url is
 * "file://REAL". loc and joined name the location in a refusal (show). */
static floe_err resolve_file(const virtual_policy *p, const char *loc, const char *joined,
                             const char *url, char **fetch_url)
{
    shown_location s;
    char real[PATH_MAX];
    if (!real_path(url + strlen("file://"), real)) {
        show(&s, loc, joined);
        return REFUSE("virtual chunk location %s%s: cannot resolve its real path", s.loc,
                      s.remapped);
    }
    const char *doc = NULL, *cli = NULL;
    for (size_t i = 0; i < p->allowed.n; i++) {
        if (p->allowed.real[i] && path_in(p->allowed.real[i], real)) {
            size_t n = strlen("file://") + strlen(real) + 1;
            if (!(*fetch_url = malloc(n)))
                return FLOE_ERR(FLOE_ENOMEM, "virtual chunk URL");
            snprintf(*fetch_url, n, "file://%s", real);
            return NULL;
        }
        if (covers(p->allowed.items[i], url)) {
            if (p->allowed.flags[i])
                cli = p->allowed.items[i];
            else
                doc = p->allowed.items[i];
        }
    }
    show(&s, loc, joined);
    if (cli)
        return REFUSE("virtual chunk location %s%s is refused: it resolves to %s, outside the "
                      "folder --allow %s authorises (symbolic links are followed)",
                      s.loc, s.remapped, real, cli);
    if (doc)
        return REFUSE("virtual chunk location %s%s is not authorised: the STAC document "
                      "authorises %s, but only an explicit --allow may authorise local files: "
                      "pass --allow %s yourself", s.loc, s.remapped, doc, doc);
    return REFUSE("virtual chunk location %s%s is not authorised: local files need an explicit "
                  "--allow (e.g. --allow file:///folder/), and none covers it", s.loc,
                  s.remapped);
}

floe_err virtual_policy_resolve(const virtual_policy *p, const char *loc, char **fetch_url)
{
    *fetch_url = NULL;
    shown_location s; /* filled by show() for a refusal only */
    char c[CANONICAL_MAX];
    floe_err why;
    canonical(loc, 0, c, &why);
    if (why) {
        floe_err err = REFUSE("virtual chunk location %s is refused: %s",
                              show(&s, loc, NULL)->loc, floe_err_message(why));
        floe_err_free(&why);
        return err;
    }
    int declared = 0;
    for (size_t i = 0; i < p->declared.n && !declared; i++)
        declared = covers(p->declared.items[i], c);
    if (!declared)
        return REFUSE("virtual chunk location %s is not under any virtual chunk container "
                      "the repository declares (%zu declared%s%s)",
                      show(&s, loc, NULL)->loc, p->declared.n, p->declared.n ? ", e.g. " : "",
                      p->declared.n ? p->declared.items[0] : "");

    /* The longest matching FROM wins, so specific rules beat general ones. */
    const remap_rule *best = NULL;
    for (size_t i = 0; i < p->nremaps; i++)
        if (covers(p->remaps[i].from, c) &&
            (!best || strlen(p->remaps[i].from) > strlen(best->from)))
            best = &p->remaps[i];
    char url[CANONICAL_MAX], joined[CANONICAL_MAX];
    const char *remapped = NULL; /* joined, once a rule applied */
    if (best) {
        if (snprintf(joined, sizeof joined, "%s%s", best->to, c + strlen(best->from)) >=
            (int)sizeof joined)
            return REFUSE("virtual chunk location %s: too long once remapped",
                          show(&s, loc, NULL)->loc);
        remapped = joined;
        canonical(joined, 0, url, &why);
        if (why) {
            show(&s, loc, remapped);
            floe_err err = REFUSE("virtual chunk location %s%s is refused: %s", s.loc,
                                  s.remapped, floe_err_message(why));
            floe_err_free(&why);
            return err;
        }
    } else {
        memcpy(url, c, strlen(c) + 1);
    }

    if (strncmp(url, "file://", 7) == 0)
        return resolve_file(p, loc, remapped, url, fetch_url);
    FLOE_CHECK(authorised(p, url, loc, remapped));
    if (!(*fetch_url = strdup(url)))
        return FLOE_ERR(FLOE_ENOMEM, "virtual chunk URL");
    return NULL;
}

floe_err virtual_policy_check_target(const virtual_policy *p, const char *url)
{
    char c[CANONICAL_MAX], shown[1024];
    floe_url_redact(url, shown, sizeof shown);
    floe_err why;
    canonical(url, 0, c, &why);
    if (why) {
        floe_err err = REFUSE("%s: %s", shown, floe_err_message(why));
        floe_err_free(&why);
        return err;
    }
    const char *cli, *doc;
    if (strncmp(c, "file://", 7) != 0) {
        covering(p, c, &cli, &doc);
        if (cli || doc)
            return authorised(p, c, url, NULL);
    }
    return REFUSE("%s is not under a container the STAC document or --allow authorises", shown);
}

floe_host_kind virtual_policy_address_kind(const virtual_policy *p, const char *url,
                                           const char **via)
{
    *via = NULL;
    char c[CANONICAL_MAX];
    floe_err why;
    canonical(url, 1, c, &why);
    if (why) {
        floe_err_free(&why);
        return FLOE_HOST_UNCLEAR;
    }
    if (strncmp(c, "file://", 7) == 0 || virtual_policy_user_allows(p, url))
        return FLOE_HOST_PUBLIC;
    return address_kind(p, c, via);
}

int virtual_policy_user_allows(const virtual_policy *p, const char *url)
{
    char c[CANONICAL_MAX], real[PATH_MAX];
    floe_err why;
    canonical(url, 1, c, &why);
    if (why) {
        floe_err_free(&why);
        return 0;
    }
    int file = strncmp(c, "file://", 7) == 0;
    if (file && !real_path(c + 7, real))
        return 0;
    const char *auth = strstr(c, "://") + 3;
    if (!file && !strchr(auth, '/') && strlen(c) + 1 < sizeof c)
        strcat(c, "/"); /* an endpoint "http://host:port" is the prefix "http://host:port/" */
    for (size_t i = 0; i < p->allowed.n; i++) {
        if (!p->allowed.flags[i])
            continue;
        if (file ? p->allowed.real[i] && path_in(p->allowed.real[i], real)
                 : strncmp(p->allowed.items[i], "file://", 7) != 0 &&
                       covers(p->allowed.items[i], c))
            return 1;
    }
    return 0;
}
