/* SPDX-License-Identifier: Apache-2.0 */
/* io/transport/file.c - the local-file back end: pread of a byte range, the
 * mtime and ETag conditions, and existence by stat. */
#include "common/floe_log.h"
#include "io/transport/internal.h"
#include "io/transport/url.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Map an errno of open/stat to a floe code: a missing file is a missing
 * object, a forbidden one an unauthorised location. */
static floe_err errno_error(int e, const char *what, const char *name, const char *range)
{
    floe_code code = FLOE_EIO;
    if (e == ENOENT || e == ENOTDIR)
        code = FLOE_ENOTFOUND;
    else if (e == EACCES || e == EPERM)
        code = FLOE_EAUTH;
    return FLOE_ERR(code, "%s%s: cannot %s: %s", name, range, what, strerror(e));
}

/* The ETag object_store (and so Icechunk) gives a local file: inode, mtime
 * in microseconds and size, in hex. */
static void file_etag(const struct stat *st, char *buf, size_t size)
{
    uint64_t mtime_us = 0;
    if (st->st_mtim.tv_sec >= 0)
        mtime_us = (uint64_t)st->st_mtim.tv_sec * 1000000u + (uint64_t)st->st_mtim.tv_nsec / 1000u;
    snprintf(buf, size, "%" PRIx64 "-%" PRIx64 "-%" PRIx64, (uint64_t)st->st_ino, mtime_us,
             (uint64_t)st->st_size);
}

/* An ETag without W/ and quotes, as (pointer, length) into etag. */
static floe_err check_condition(const struct stat *st, const floe_condition *cond,
                                const char *name, const char *range)
{
    if (!cond)
        return NULL;
    if (cond->unmodified_since && (int64_t)st->st_mtim.tv_sec > cond->unmodified_since) {
        char mtime[30], since[30];
        return FLOE_ERR(FLOE_ECHECKSUM,
                        "%s%s: changed since the snapshot (modified %s, after "
                        "If-Unmodified-Since %s)",
                        name, range, floe_http_date(st->st_mtim.tv_sec, mtime),
                        floe_http_date(cond->unmodified_since, since));
    }
    if (cond->etag) {
        char mine[64];
        file_etag(st, mine, sizeof mine);
        size_t n;
        const char *want = floe_etag_bare(cond->etag, &n);
        if (n != strlen(mine) || strncmp(want, mine, n) != 0)
            return FLOE_ERR(FLOE_ECHECKSUM,
                            "%s%s: changed since the snapshot (ETag \"%s\", If-Match \"%.*s\")",
                            name, range, mine, (int)n, want);
    }
    return NULL;
}

/* Read exactly n bytes at offset into dst; *got says how many arrived
 * before end of file. */
static floe_err read_at(int fd, uint8_t *dst, size_t n, uint64_t offset, size_t *got,
                        const char *name, const char *range)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        if (want > ((size_t)1 << 30))
            want = (size_t)1 << 30; /* some kernels cap a single read anyway */
        ssize_t r = pread(fd, dst + *got, want, (off_t)(offset + *got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return FLOE_ERR(FLOE_EIO, "%s%s: read failed: %s", name, range, strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return NULL;
}

floe_err floe_file_get(floe_transport *t, const char *url, uint64_t offset, uint64_t length,
                       const floe_condition *cond, floe_buf *out)
{
    const char *path;
    FLOE_CHECK(floe_url_file_path(url, &path));
    char range[64];
    floe_range_text(offset, length, range);
    t->stats.requests++;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno_error(errno, "open", url, range);
    floe_err err = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = errno_error(errno, "stat", url, range);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        err = FLOE_ERR(FLOE_EIO, "%s%s: not a regular file", url, range);
        goto done;
    }
    if ((err = check_condition(&st, cond, url, range)))
        goto done;

    uint64_t size = (uint64_t)st.st_size;
    if (offset > size || (offset == size && length)) {
        err = FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: the range starts beyond the end of the "
                       "file (%" PRIu64 " bytes)", url, range, size);
        goto done;
    }
    if (length && offset + length > size) {
        err = FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: %" PRIu64 " of %" PRIu64
                       " bytes (the file has %" PRIu64 ")", url, range, size - offset, length,
                       size);
        goto done;
    }
    uint64_t n = length ? length : size - offset;
    if (!length && n > t->max_object_bytes) {
        err = FLOE_ERR(FLOE_ENOMEM, "%s%s: %" PRIu64 " bytes, over the cap of %zu bytes for "
                       "a whole-object read", url, range, n, t->max_object_bytes);
        goto done;
    }
    if (n > SIZE_MAX) {
        err = FLOE_ERR(FLOE_ENOMEM, "%s%s: %" PRIu64 " bytes do not fit in memory", url, range,
                       n);
        goto done;
    }
    uint8_t *dst;
    if ((err = floe_buf_reserve(out, (size_t)n, &dst))) {
        err = floe_err_push(err, __FILE__, __LINE__, " %s%s", url, range);
        goto done;
    }
    size_t got;
    if ((err = read_at(fd, dst, (size_t)n, offset, &got, url, range)))
        goto done;
    if (got < n) { /* the file shrank since fstat */
        err = FLOE_ERR(FLOE_EFORMAT, "%s%s: short read: %zu of %" PRIu64 " bytes", url, range,
                       got, n);
        goto done;
    }
    floe_buf_commit(out, (size_t)n);
    t->stats.bytes += n;
    FLOE_DEBUG("read %s%s: %" PRIu64 " bytes", url, range, n);
done:
    close(fd);
    return err;
}

floe_err floe_file_exists(floe_transport *t, const char *url, int *exists)
{
    const char *path;
    FLOE_CHECK(floe_url_file_path(url, &path));
    t->stats.requests++;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *exists = 0;
            return NULL;
        }
        return errno_error(errno, "stat", url, "");
    }
    /* Like an object store: a directory is a prefix, not an object. */
    *exists = S_ISREG(st.st_mode) ? 1 : 0;
    return NULL;
}
