/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/href.c - see href.h. */
#include "out/item/href.h"

#include "common/floe_buf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HREF_MAX = 64 << 10 };

/* RFC 3986 scheme followed by "://". */
static int is_url(const char *s)
{
    if (!isalpha((unsigned char)*s))
        return 0;
    const char *p = s + 1;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    return strncmp(p, "://", 3) == 0;
}

static int is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

/* Characters a URI reference holds as they are: ASCII unreserved,
 * sub-delims, ':', '@', '/'; with url set, also '?', '#' and existing %XX
 * escapes. Non-ASCII bytes are escaped too: the result is then a URI (so
 * also an IRI) whatever the bytes, even a file name that is not UTF-8. */
static int keep(const char *p, int url)
{
    unsigned char c = (unsigned char)*p;
    if (c < 0x80 && isalnum(c))
        return 1;
    if (strchr("-._~!$&'()*+,;=:@/", c))
        return 1;
    if (url && (c == '?' || c == '#'))
        return 1;
    if (url && c == '%' && is_hex(p[1]) && is_hex(p[2]))
        return 1;
    return 0;
}

static floe_err encode(floe_buf *b, const char *s, int url)
{
    static const char digits[] = "0123456789ABCDEF";
    for (const char *p = s; *p; p++) {
        if (keep(p, url)) {
            FLOE_CHECK(floe_buf_append(b, p, 1));
        } else {
            unsigned char c = (unsigned char)*p;
            char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
            FLOE_CHECK(floe_buf_append(b, esc, 3));
        }
    }
    return NULL;
}

/* The absolute form of a local path: the working folder + path, with
 * "." and ".." segments and repeated slashes removed lexically (realpath
 * is XSI, outside the POSIX 2008 base floe builds against, and the path
 * need not exist). Symlinks are kept as written. */
static floe_err absolute(const char *path, char **out)
{
    *out = NULL;
    char cwd[PATH_MAX] = "";
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        return FLOE_ERR(FLOE_EIO, "%s: cannot make the path absolute: %s", path, strerror(errno));
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *joined = malloc(n), *res = malloc(n + 1);
    if (!joined || !res) {
        free(joined);
        free(res);
        return FLOE_ERR(FLOE_ENOMEM, "%s", path);
    }
    snprintf(joined, n, "%s/%s", cwd, path);
    size_t len = 0;
    char *save = NULL;
    for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            while (len > 0 && res[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the slash before the dropped segment */
            continue;
        }
        res[len++] = '/';
        size_t k = strlen(seg);
        memcpy(res + len, seg, k);
        len += k;
    }
    if (len == 0)
        res[len++] = '/';
    res[len] = '\0';
    free(joined);
    *out = res;
    return NULL;
}

floe_err stac_href_uri(const char *location, char **out)
{
    *out = NULL;
    floe_buf b;
    floe_buf_init(&b, HREF_MAX);
    floe_err err = NULL;
    char *abs = NULL;
    if (is_url(location)) {
        FLOE_CHECK_GOTO(err, fail, encode(&b, location, 1), "href of %s", location);
    } else {
        FLOE_CHECK_GOTO(err, fail, absolute(location, &abs));
        size_t n = strlen(location), m = strlen(abs);
        FLOE_CHECK_GOTO(err, fail, floe_buf_append(&b, "file://", 7), "href of %s", location);
        FLOE_CHECK_GOTO(err, fail, encode(&b, abs, 0), "href of %s", location);
        if (n && location[n - 1] == '/' && m && abs[m - 1] != '/')
            FLOE_CHECK_GOTO(err, fail, floe_buf_append(&b, "/", 1), "href of %s", location);
    }
    FLOE_CHECK_GOTO(err, fail, floe_buf_append(&b, "", 0), "href of %s", location);
    free(abs);
    *out = (char *)floe_buf_take(&b, NULL);
    return NULL;
fail:
    free(abs);
    floe_buf_free(&b);
    return err;
}

/* Do a and b lie in the same existing folder? (Compared by device and
 * inode, so "out/x.nc" and "./out/../out/x.json" agree.) */
/* The folder part of path ("." when it names none; "/" for "/x"). */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int same_folder(const char *a, const char *b)
{
    struct stat sa, sb;
    char *da = folder_of(a), *db = folder_of(b);
    int same = da && db && stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
    free(da);
    free(db);
    return same;
}

int stac_href_is_url(const char *location)
{
    return is_url(location);
}

floe_err stac_href_from_item(const char *item_path, const char *location, char **out)
{
    return is_url(location) ? stac_href_uri(location, out)
                            : stac_href_relative_data(item_path, location, out);
}

floe_err stac_href_relative_data(const char *item_path, const char *data_path, char **out)
{
    *out = NULL;
    if (!same_folder(item_path, data_path))
        return stac_href_uri(data_path, out);
    const char *slash = strrchr(data_path, '/');
    const char *name = slash ? slash + 1 : data_path;
    floe_buf buf;
    floe_buf_init(&buf, HREF_MAX);
    floe_err err = floe_buf_append(&buf, "./", 2);
    if (!err)
        err = encode(&buf, name, 0);
    if (!err)
        err = floe_buf_append(&buf, "", 0);
    if (err) {
        floe_buf_free(&buf);
        return floe_err_push(err, __FILE__, __LINE__, " href of %s", data_path);
    }
    *out = (char *)floe_buf_take(&buf, NULL);
    return NULL;
}
