/* SPDX-License-Identifier: Apache-2.0 */
/* cli/var_list.c - see var_list.h. */
#include "cli/var_list.h"

#include <ctype.h>
#include <string.h>

/* Is the name (n characters) in the list already? */
static int listed(const char *list, const char *name, size_t n)
{
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, ",");
        if (m == n && !strncmp(p, name, n))
            return 1;
        p += m + (p[m] == ',');
    }
    return 0;
}

floe_err cmd_var_list_add(char list[CMD_VAR_LIST_SIZE], const char *value)
{
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, ",");
        const char *a = p, *b = p + n;
        p = *b ? b + 1 : b;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        size_t len = (size_t)(b - a), have = strlen(list);
        if (!len || listed(list, a, len))
            continue;
        if (have + !!have + len >= CMD_VAR_LIST_SIZE)
            return FLOE_ERR(FLOE_EINVAL, "-v: the variable list is longer than %d characters",
                            CMD_VAR_LIST_SIZE - 1);
        if (have)
            list[have++] = ',';
        memcpy(list + have, a, len);
        list[have + len] = '\0';
    }
    return NULL;
}
