/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_file.c - the atomic file writer (see floe_file.h): temporary
 * in the same folder, fsync, rename, fsync of the folder. */
#include "common/floe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct floe_file {
    char *path; /* the destination */
    char *tmp;  /* being written */
    int fd;
};

floe_err floe_file_temp_path(const char *path, char **tmp)
{
    long pid = (long)getpid();
    int n = snprintf(NULL, 0, "%s.floe-tmp-%ld", path, pid);
    *tmp = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!*tmp)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the temporary's name", path);
    snprintf(*tmp, (size_t)n + 1, "%s.floe-tmp-%ld", path, pid);
    return NULL;
}

/* The folder path lies in ("." for a bare name); owned. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int floe_file_no_space(int err_no)
{
    return err_no == ENOSPC || err_no == EDQUOT;
}

floe_err floe_file_no_space_err(const char *path, int err_no)
{
    return FLOE_ERR(FLOE_EIO, "no space left on device writing %s%s", path,
                    err_no == EDQUOT ? " (disk quota exceeded)" : "");
}

/* "PATH: DOING TMP: reason", or the one message of a full disk. */
static floe_err io_failed(const char *path, const char *doing, const char *tmp, int err_no)
{
    if (floe_file_no_space(err_no))
        return floe_file_no_space_err(path, err_no);
    return FLOE_ERR(FLOE_EIO, "%s: %s %s: %s", path, doing, tmp, strerror(err_no));
}

/* Why creating the temporary failed: a missing folder is said plainly
 * (the usual mistake, e.g. -o results/out.nc before results/ exists). */
static floe_err create_failed(const char *path, const char *tmp, int err_no)
{
    char *dir = folder_of(path);
    struct stat st;
    floe_err err;
    if (floe_file_no_space(err_no))
        err = floe_file_no_space_err(path, err_no);
    else if (dir && (err_no == ENOENT || err_no == ENOTDIR) &&
        (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        err = FLOE_ERR(FLOE_EIO, "%s: cannot create: the folder %s does not exist", path, dir);
    else
        err = FLOE_ERR(FLOE_EIO, "%s: cannot create %s: %s", path, tmp, strerror(err_no));
    free(dir);
    return err;
}

/* Flush the folder so that the rename in it survives a crash. A file
 * system that cannot flush a folder says EINVAL: the rename is then as
 * durable as it makes it, which is not an error of floe's. */
static floe_err sync_folder(const char *path)
{
    char *dir = folder_of(path);
    if (!dir)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the folder's name", path);
    floe_err err = NULL;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        err = FLOE_ERR(FLOE_EIO, "%s: written, but its folder %s cannot be opened to flush it: %s",
                       path, dir, strerror(errno));
    } else {
        if (fsync(fd) != 0 && errno != EINVAL)
            err = FLOE_ERR(FLOE_EIO, "%s: written, but flushing its folder %s failed: %s", path,
                           dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return err;
}

/* Rename the flushed temporary over path (removing it if that fails), then
 * flush the folder. */
static floe_err rename_into_place(const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        int err_no = errno;
        floe_err err = floe_file_no_space(err_no)
                           ? floe_file_no_space_err(path, err_no)
                           : FLOE_ERR(FLOE_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                                      strerror(err_no));
        unlink(tmp);
        return err;
    }
    return sync_folder(path);
}

static void file_free(floe_file *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

floe_err floe_file_open(const char *path, floe_file **out)
{
    *out = NULL;
    floe_file *f = calloc(1, sizeof *f);
    if (!f)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the writer", path);
    f->fd = -1;
    f->path = strdup(path);
    floe_err err = f->path ? floe_file_temp_path(path, &f->tmp)
                           : FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the writer", path);
    if (err) {
        file_free(f);
        return err;
    }
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (f->fd < 0) {
        err = create_failed(path, f->tmp, errno);
        file_free(f);
        return err;
    }
    *out = f;
    return NULL;
}

floe_err floe_file_write(floe_file *f, const void *data, size_t n)
{
    const char *p = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(f->fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return io_failed(f->path, "writing", f->tmp, errno);
        if (w == 0)
            return FLOE_ERR(FLOE_EIO, "%s: writing %s: no progress", f->path, f->tmp);
        done += (size_t)w;
    }
    return NULL;
}

floe_err floe_file_commit(floe_file **fp)
{
    floe_file *f = *fp;
    *fp = NULL;
    floe_err err = NULL;
    if (fsync(f->fd) != 0)
        err = io_failed(f->path, "flushing", f->tmp, errno);
    if (close(f->fd) != 0 && !err)
        err = io_failed(f->path, "closing", f->tmp, errno);
    if (err)
        unlink(f->tmp);
    else
        err = rename_into_place(f->tmp, f->path);
    file_free(f);
    return err;
}

void floe_file_abort(floe_file **fp)
{
    floe_file *f = fp ? *fp : NULL;
    if (!f)
        return;
    close(f->fd); /* its status no longer matters: the file goes */
    unlink(f->tmp);
    file_free(f);
    *fp = NULL;
}

const char *floe_file_temp(const floe_file *f)
{
    return f->tmp;
}

floe_err floe_file_write_text(const char *path, const char *text)
{
    floe_file *f;
    FLOE_CHECK(floe_file_open(path, &f));
    floe_err err = floe_file_write(f, text, strlen(text));
    if (!err)
        err = floe_file_write(f, "\n", 1);
    if (err) {
        floe_file_abort(&f);
        return err;
    }
    return floe_file_commit(&f);
}

floe_err floe_file_commit_temp(const char *tmp, const char *path)
{
    int fd = open(tmp, O_RDWR | O_CLOEXEC);
    floe_err err = NULL;
    if (fd < 0) {
        err = FLOE_ERR(FLOE_EIO, "%s: cannot open %s to flush it: %s", path, tmp,
                       strerror(errno));
    } else {
        if (fsync(fd) != 0)
            err = io_failed(path, "flushing", tmp, errno);
        if (close(fd) != 0 && !err)
            err = io_failed(path, "closing", tmp, errno);
    }
    if (err) {
        unlink(tmp);
        return err;
    }
    return rename_into_place(tmp, path);
}
