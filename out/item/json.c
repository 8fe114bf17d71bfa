/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/json.c - building the Item's cJSON tree without checking every
 * call (json.h), and the one place that makes outside text valid UTF-8 and
 * redacts secrets in URLs (common/floe_redact.h). */
#include "out/item/json.h"

#include "common/floe_redact.h"

#include <stdlib.h>
#include <string.h>

cJSON *item_put(item_jb *b, cJSON *parent, const char *key, cJSON *item)
{
    int ok = item && parent &&
             (key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item));
    if (!ok) {
        cJSON_Delete(item);
        b->oom = 1;
        return NULL;
    }
    return item;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if none. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (n && (p[1] < lo || p[1] > hi))
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Text from outside (the command line, paths, commit
 * messages) need not be UTF-8, which JSON requires: a byte that does not
 * start a well-formed sequence is written as '?'. URLs in it (the command,
 * hrefs, titles) may carry passwords or signatures: redacted. */
cJSON *item_put_str(item_jb *b, cJSON *parent, const char *key, const char *s)
{
    if (!s)
        return item_put(b, parent, key, cJSON_CreateNull());
    char *clean = floe_redact_dup(s);
    if (!clean) {
        b->oom = 1;
        return NULL;
    }
    const unsigned char *u = (const unsigned char *)clean;
    size_t n;
    for (size_t i = 0; u[i]; i += n)
        if (!(n = utf8_len(u + i)))
            clean[i] = '?', n = 1;
    cJSON *item = item_put(b, parent, key, cJSON_CreateString(clean));
    free(clean);
    return item;
}

cJSON *item_put_num(item_jb *b, cJSON *parent, const char *key, double v)
{
    return item_put(b, parent, key, cJSON_CreateNumber(v));
}

cJSON *item_put_obj(item_jb *b, cJSON *parent, const char *key)
{
    return item_put(b, parent, key, cJSON_CreateObject());
}

cJSON *item_put_arr(item_jb *b, cJSON *parent, const char *key)
{
    return item_put(b, parent, key, cJSON_CreateArray());
}
