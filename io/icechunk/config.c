/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/config.c - the repository configuration: spec-v1 config.yaml
 * (libyaml) and the virtual chunk containers it declares (also used for
 * the spec-v2 FlexBuffer config, decoded to the same JSON shape).
 *
 * Both stores are Rust serde encodings of the same struct, so one JSON
 * shape serves both: YAML's local tags (`store: !s3_compatible {...}`)
 * are turned into the one-entry map FlexBuffers uses for enum variants
 * ({"s3_compatible": {...}}).
 */
#include "common/floe_log.h"
#include "io/icechunk/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 100000

/* ---- YAML to JSON ---------------------------------------------------------- */

typedef struct yj {
    yaml_document_t *doc;
    size_t budget; /* nodes still allowed (aliases can repeat sub-trees) */
} yj;

/* A plain (unquoted, untagged) scalar, typed as YAML 1.2 core schema does. */
static cJSON *plain_scalar(const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && (!strncmp(s, "null", 4) ||
                                                         !strncmp(s, "Null", 4) ||
                                                         !strncmp(s, "NULL", 4))))
        return cJSON_CreateNull();
    if ((n == 4 && !strncasecmp(s, "true", 4)))
        return cJSON_CreateTrue();
    if ((n == 5 && !strncasecmp(s, "false", 5)))
        return cJSON_CreateFalse();
    /* A number only if all of it parses (strtod accepts what YAML's
     * int/float forms are, plus a few forms Icechunk never writes). */
    char *end = NULL;
    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.') {
        double d = strtod(s, &end);
        if (end == s + n)
            return cJSON_CreateNumber(d);
    }
    return cJSON_CreateString(s);
}

static floe_err yaml_node(yj *y, yaml_node_t *node, int depth, cJSON **out)
{
    *out = NULL;
    if (!node)
        return FLOE_ERR(FLOE_EFORMAT, "YAML: dangling node reference");
    if (depth > YAML_MAX_DEPTH)
        return FLOE_ERR(FLOE_EFORMAT, "YAML: nested deeper than %d levels", YAML_MAX_DEPTH);
    if (y->budget == 0)
        return FLOE_ERR(FLOE_EFORMAT, "YAML: more than %d nodes", YAML_MAX_NODES);
    y->budget--;
    const char *tag = (const char *)node->tag;
    int local_tag = tag && tag[0] == '!';
    cJSON *v = NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE: {
        const char *s = (const char *)node->data.scalar.value;
        size_t n = node->data.scalar.length;
        if (memchr(s, '\0', n))
            return FLOE_ERR(FLOE_EFORMAT, "YAML: scalar with a NUL byte at line %lu",
                            (unsigned long)node->start_mark.line + 1);
        if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (local_tag || !tag || !strcmp(tag, YAML_DEFAULT_SCALAR_TAG)))
            v = plain_scalar(s, n);
        else
            v = cJSON_CreateString(s);
        break;
    }
    case YAML_SEQUENCE_NODE:
        v = cJSON_CreateArray();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             v && it < node->data.sequence.items.top; it++) {
            cJSON *item;
            floe_err err = yaml_node(y, yaml_document_get_node(y->doc, *it), depth + 1, &item);
            if (err) {
                cJSON_Delete(v);
                return err;
            }
            cJSON_AddItemToArray(v, item);
        }
        break;
    case YAML_MAPPING_NODE:
        v = cJSON_CreateObject();
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             v && pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(y->doc, pair->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                cJSON_Delete(v);
                return FLOE_ERR(FLOE_EUNSUPPORTED, "YAML: mapping key that is not a scalar at line %lu",
                                (unsigned long)node->start_mark.line + 1);
            }
            cJSON *item;
            floe_err err = yaml_node(y, yaml_document_get_node(y->doc, pair->value), depth + 1, &item);
            if (err) {
                cJSON_Delete(v);
                return err;
            }
            cJSON_AddItemToObject(v, (const char *)k->data.scalar.value, item);
        }
        break;
    default:
        return FLOE_ERR(FLOE_EFORMAT, "YAML: empty node");
    }
    if (!v)
        return FLOE_ERR(FLOE_ENOMEM, "YAML: out of memory");
    if (local_tag && tag[1] != '!') {
        /* `!variant value` is serde's externally tagged enum: {variant: value}. */
        cJSON *wrap = cJSON_CreateObject();
        if (!wrap) {
            cJSON_Delete(v);
            return FLOE_ERR(FLOE_ENOMEM, "YAML: out of memory");
        }
        cJSON_AddItemToObject(wrap, tag + 1, v);
        v = wrap;
    }
    *out = v;
    return NULL;
}

floe_err ic_yaml_to_json(const char *text, size_t len, cJSON **out)
{
    *out = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return FLOE_ERR(FLOE_ENOMEM, "YAML: cannot create a parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    floe_err err = NULL;
    if (!yaml_parser_load(&parser, &doc)) {
        err = FLOE_ERR(FLOE_EFORMAT, "YAML: %s at line %lu column %lu",
                       parser.problem ? parser.problem : "syntax error",
                       (unsigned long)parser.problem_mark.line + 1,
                       (unsigned long)parser.problem_mark.column + 1);
        yaml_parser_delete(&parser);
        return err;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        *out = cJSON_CreateNull(); /* an empty document */
        if (!*out)
            err = FLOE_ERR(FLOE_ENOMEM, "YAML: out of memory");
    } else {
        yj y = {&doc, YAML_MAX_NODES};
        err = yaml_node(&y, root, 0, out);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return err;
}

/* ---- virtual chunk containers --------------------------------------------- */

static floe_err keep(ic_repo *r, const char *s, const char **out)
{
    *out = NULL;
    if (!s)
        return NULL;
    char **grown = realloc(r->strings, (r->n_strings + 1) * sizeof *grown);
    if (!grown)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    r->strings = grown;
    char *copy = strdup(s);
    if (!copy)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    r->strings[r->n_strings++] = copy;
    *out = copy;
    return NULL;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static int json_bool(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* Why Icechunk would refuse this prefix for this store kind, or NULL if it
 * is valid (icechunk/src/virtual_chunks.rs, VirtualChunkContainer::create). */
static const char *invalid_reason(const char *prefix, const char *kind, const char *name)
{
    if (name && (!*name || strchr(name, '/')))
        return "a container name must be non-empty without '/'";
    size_t slen = strcspn(prefix, ":");
    if (slen == 0 || prefix[slen] != ':' || strncmp(prefix + slen, "://", 3) != 0)
        return "the prefix is not a URL";
    for (size_t i = 0; i < slen; i++) {
        char c = prefix[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!ok)
            return "the prefix is not a URL";
    }
    const char *host = prefix + slen + 3;
    size_t hlen = strcspn(host, "/?#");
    const char *path = host + hlen;
    int s3like = !strcmp(kind, "s3") || !strcmp(kind, "s3_compatible") || !strcmp(kind, "tigris");
#define SCHEME(x) (slen == strlen(x) && !strncasecmp(prefix, x, slen))
    int fits = (SCHEME("s3") && s3like) || (SCHEME("tigris") && !strcmp(kind, "tigris")) ||
               ((SCHEME("gcs") || SCHEME("gs")) && !strcmp(kind, "gcs")) ||
               ((SCHEME("az") || SCHEME("azure") || SCHEME("abfs")) && !strcmp(kind, "azure")) ||
               ((SCHEME("http") || SCHEME("https")) && !strcmp(kind, "http")) ||
               (SCHEME("file") && !strcmp(kind, "local_file_system"));
    if (!fits)
        return "the URL scheme does not suit the store kind";
    if (SCHEME("file")) {
        if (hlen == 0 && strlen(path) < 2)
            return "a file:// prefix needs a path";
        /* No "." or ".." segment: the prefix must be canonical. */
        for (const char *seg = path; *seg;) {
            seg += *seg == '/';
            size_t n = strcspn(seg, "/");
            if ((n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
                return "a file:// prefix must be canonical (no . or .. segments)";
            seg += n;
        }
        return NULL;
    }
#undef SCHEME
    if (hlen == 0)
        return "the prefix has no host (bucket)";
    return NULL;
}

static int by_prefix_length_desc(const void *a, const void *b)
{
    const ic_container *x = a, *y = b;
    size_t lx = strlen(x->url_prefix), ly = strlen(y->url_prefix);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return strcmp(x->url_prefix, y->url_prefix); /* deterministic order for ties */
}

/* One container entry (its map key only names it in messages). */
static floe_err add_container(ic_repo *r, const char *key, const cJSON *c)
{
    const char *prefix = json_str(c, "url_prefix");
    const cJSON *name_j = cJSON_GetObjectItemCaseSensitive(c, "name");
    const char *name = cJSON_GetStringValue(name_j);
    const cJSON *store = cJSON_GetObjectItemCaseSensitive(c, "store");
    const char *kind = NULL;
    const cJSON *opts = NULL;
    if (cJSON_IsString(store)) {
        kind = store->valuestring; /* a unit variant such as "in_memory" */
    } else if (cJSON_IsObject(store) && store->child && !store->child->next) {
        kind = store->child->string;
        opts = store->child;
    }
    if (!prefix || !kind || (name_j && !name && !cJSON_IsNull(name_j))) {
        FLOE_DEBUG("icechunk: ignoring virtual chunk container %s: no url_prefix or store", key);
        return NULL;
    }
    size_t plen = strlen(prefix);
    char *norm = malloc(plen + 2);
    if (!norm)
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    memcpy(norm, prefix, plen + 1);
    if (plen == 0 || norm[plen - 1] != '/')
        memcpy(norm + plen, "/", 2);
    const char *why = invalid_reason(norm, kind, name);
    if (why) {
        FLOE_DEBUG("icechunk: ignoring virtual chunk container %s (%s, %s): %s", key, norm, kind, why);
        free(norm);
        return NULL;
    }
    ic_container *grown = realloc(r->containers, (r->n_containers + 1) * sizeof *grown);
    if (!grown) {
        free(norm);
        return FLOE_ERR(FLOE_ENOMEM, "out of memory");
    }
    r->containers = grown;
    ic_container *out = &r->containers[r->n_containers];
    memset(out, 0, sizeof *out);
    floe_err err = keep(r, norm, &out->url_prefix);
    free(norm);
    FLOE_CHECK(err);
    r->n_containers++;
    FLOE_CHECK(keep(r, name, &out->name));
    FLOE_CHECK(keep(r, kind, &out->store_kind));
    if (cJSON_IsObject(opts)) {
        FLOE_CHECK(keep(r, json_str(opts, "region"), &out->region));
        FLOE_CHECK(keep(r, json_str(opts, "endpoint_url"), &out->endpoint_url));
        out->anonymous = json_bool(opts, "anonymous");
        out->allow_http = json_bool(opts, "allow_http");
        out->force_path_style = json_bool(opts, "force_path_style");
        out->requester_pays = json_bool(opts, "requester_pays");
    } else if (cJSON_IsString(opts)) {
        FLOE_CHECK(keep(r, opts->valuestring, &out->store_path));
    }
    return NULL;
}

floe_err ic_config_load_containers(ic_repo *r, const cJSON *config)
{
    if (!config || cJSON_IsNull(config))
        return NULL;
    if (!cJSON_IsObject(config))
        return FLOE_ERR(FLOE_EFORMAT, "the repository configuration is not a map");
    const cJSON *vcc = cJSON_GetObjectItemCaseSensitive(config, "virtual_chunk_containers");
    if (!vcc || cJSON_IsNull(vcc))
        return NULL;
    if (!cJSON_IsObject(vcc))
        return FLOE_ERR(FLOE_EFORMAT, "virtual_chunk_containers is not a map");
    for (const cJSON *c = vcc->child; c; c = c->next) {
        if (!cJSON_IsObject(c)) {
            FLOE_DEBUG("icechunk: ignoring virtual chunk container %s: not a map", c->string);
            continue;
        }
        FLOE_CHECK(add_container(r, c->string ? c->string : "?", c), "virtual chunk container %s",
                   c->string ? c->string : "?");
    }
    if (r->n_containers > 1)
        qsort(r->containers, r->n_containers, sizeof *r->containers, by_prefix_length_desc);
    return NULL;
}
