/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/json.h - building cJSON without checking every call (internal
 * to out/item/): cJSON reports allocation failure by returning NULL/false;
 * item_jb records it once and the finished tree is checked at the end.
 * Each call adds item under key to an object parent, or appends it to an
 * array parent when key is NULL, and returns it (NULL after a failure,
 * with b->oom set; a NULL parent is such a failure, so calls chain).
 *
 *     item_jb b = {0};
 *     cJSON *o = item_put_obj(&b, root, "properties");
 *     item_put_str(&b, o, "title", title);
 *     if (b.oom) ... FLOE_ENOMEM ...
 */
#ifndef FLOE_ITEM_JSON_H
#define FLOE_ITEM_JSON_H

#include <cjson/cJSON.h>

typedef struct item_jb {
    int oom;
} item_jb;

/* Attach item (which this takes over: freed on failure). */
cJSON *item_put(item_jb *b, cJSON *parent, const char *key, cJSON *item);
/* A JSON string; NULL s is JSON null. Text that is not well-formed UTF-8
 * (JSON requires it) has each byte that starts no valid sequence written
 * as '?'. */
cJSON *item_put_str(item_jb *b, cJSON *parent, const char *key, const char *s);
cJSON *item_put_num(item_jb *b, cJSON *parent, const char *key, double v);
cJSON *item_put_obj(item_jb *b, cJSON *parent, const char *key);
cJSON *item_put_arr(item_jb *b, cJSON *parent, const char *key);

#endif
