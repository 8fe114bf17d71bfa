/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_file_place.c - see floe_file_place.h. */
#include "common/floe_file_place.h"

#include "common/floe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The error of a failed system call on path: a full disk is floe_file's
 * one message, anything else names the call and the reason. */
static floe_err failed(const char *path, const char *shown, const char *what, int err_no)
{
    if (floe_file_no_space(err_no))
        return floe_file_no_space_err(shown, err_no);
    return FLOE_ERR(FLOE_EIO, "%s: %s %s: %s", shown, what, path, strerror(err_no));
}

/* All n bytes at off, however the kernel splits the write. */
static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0)
            return EIO;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

floe_err floe_file_place(const char *path, const char *shown, const uint64_t *offsets,
                         const size_t *lens, size_t n, const uint8_t *bytes)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return failed(path, shown, "cannot open", errno);
    struct stat st;
    floe_err err = fstat(fd, &st) ? failed(path, shown, "cannot stat", errno) : NULL;
    size_t at = 0;
    for (size_t k = 0; k < n && !err; k++) {
        if (S_ISREG(st.st_mode) && (offsets[k] > (uint64_t)st.st_size ||
                                    lens[k] > (uint64_t)st.st_size - offsets[k])) {
            err = FLOE_ERR(FLOE_EINTERNAL, "%s: a chunk of %zu bytes at %llu lies past the end "
                           "of %s (%lld bytes)", shown, lens[k],
                           (unsigned long long)offsets[k], path, (long long)st.st_size);
            break;
        }
        int e = pwrite_all(fd, bytes + at, lens[k], offsets[k]);
        if (e)
            err = failed(path, shown, "writing", e);
        at += lens[k];
    }
    if (!err && fdatasync(fd))
        err = failed(path, shown, "flushing", errno);
    if (close(fd) && !err)
        err = failed(path, shown, "closing", errno);
    return err;
}

floe_err floe_file_probe_write(const char *path, const void *nonce, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return failed(path, path, "cannot create", errno);
    int e = pwrite_all(fd, nonce, n, 0);
    floe_err err = e ? failed(path, path, "writing", e) : NULL;
    if (close(fd) && !err)
        err = failed(path, path, "closing", errno);
    if (err)
        unlink(path);
    return err;
}

int floe_file_probe_holds(const char *path, const void *nonce, size_t n)
{
    /* read-write: a rank that may read the output's folder but not write
     * there (a read-only mount, another uid) must say no, or its chunks
     * would fail to land where gathering them works */
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    uint8_t *got = malloc(n + 1);
    size_t have = 0;
    /* one byte more than the nonce: a longer file is another file */
    while (got && have < n + 1) {
        ssize_t k = read(fd, got + have, n + 1 - have);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    int same = got && have == n && !memcmp(got, nonce, n);
    free(got);
    close(fd);
    return same;
}
