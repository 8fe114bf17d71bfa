/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_file.c - the atomic file writer (see floe_file.h): temporary
 * in the same folder, fsync, rename, fsync of the folder; several files
 * committed all or none; stale temporaries of dead processes removed. */
#include "common/floe_file.h"

#include "common/floe_interrupt.h"
#include "common/floe_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a temporary's name says after the destination's: what it is, then
 * whose ("-HOST-PID"). A backup of an output being replaced is "old". */
#define TEMP_TAG ".floe-tmp-"
#define BACKUP_TAG ".floe-old-"
/* Host names are cut to this many characters (a whole name: two clusters
 * sharing a file system may both have a "node01"). */
#define HOST_CHARS 255

struct floe_file {
    char *path; /* the destination */
    char *tmp;  /* being written */
    int fd;
};

/* This host's name, in characters safe in a file name. */
static void host_name(char out[HOST_CHARS + 1])
{
    char h[HOST_CHARS + 2] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0])
        strcpy(h, "localhost");
    size_t n = 0;
    for (const char *c = h; *c && n < HOST_CHARS; c++)
        out[n++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                           (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'
                       ? *c : '_';
    out[n] = '\0';
}

/* path + tag + "HOST-PID" (owned), or NULL without memory. */
static char *owned_name(const char *path, const char *tag)
{
    char host[HOST_CHARS + 1];
    host_name(host);
    long pid = (long)getpid();
    int n = snprintf(NULL, 0, "%s%s%s-%ld", path, tag, host, pid);
    char *name = n < 0 ? NULL : malloc((size_t)n + 1);
    if (name)
        snprintf(name, (size_t)n + 1, "%s%s%s-%ld", path, tag, host, pid);
    return name;
}

floe_err floe_file_temp_path(const char *path, char **tmp)
{
    *tmp = owned_name(path, TEMP_TAG);
    if (!*tmp)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the temporary's name", path);
    floe_err err = floe_interrupt_add_path(*tmp);
    if (err) {
        free(*tmp);
        *tmp = NULL;
    }
    return err;
}

void floe_file_discard_temp(char **tmp)
{
    if (!tmp || !*tmp)
        return;
    unlink(*tmp);
    floe_interrupt_remove_path(*tmp);
    free(*tmp);
    *tmp = NULL;
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

/* Whether paths a and b name entries of the same folder (as written: the
 * text before their last '/'). */
static int same_folder(const char *a, const char *b)
{
    const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
    size_t na = sa ? (size_t)(sa - a) : 0, nb = sb ? (size_t)(sb - b) : 0;
    return (!sa) == (!sb) && na == nb && !strncmp(a, b, na);
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
    else if (err_no == EEXIST || err_no == ELOOP)
        err = FLOE_ERR(FLOE_EIO, "%s: cannot create %s: something is already there (another "
                       "run writing the same output?)", path, tmp);
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
    floe_err err = NULL;
    if (rename(tmp, path) != 0) {
        int err_no = errno;
        err = floe_file_no_space(err_no)
                  ? floe_file_no_space_err(path, err_no)
                  : FLOE_ERR(FLOE_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                             strerror(err_no));
        unlink(tmp);
    }
    floe_interrupt_remove_path(tmp);
    return err ? err : sync_folder(path);
}

static void file_free(floe_file *f)
{
    if (f->tmp)
        floe_interrupt_remove_path(f->tmp);
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
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
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

/* Flush and close f's descriptor; on error the temporary is removed. */
static floe_err flush_and_close(floe_file *f)
{
    floe_err err = NULL;
    if (fsync(f->fd) != 0)
        err = io_failed(f->path, "flushing", f->tmp, errno);
    if (close(f->fd) != 0 && !err)
        err = io_failed(f->path, "closing", f->tmp, errno);
    f->fd = -1;
    if (err)
        unlink(f->tmp);
    return err;
}

floe_err floe_file_commit(floe_file **fp)
{
    floe_file *f = *fp;
    *fp = NULL;
    floe_err err = flush_and_close(f);
    if (!err)
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

floe_err floe_file_finish(floe_file **fp, char **tmp)
{
    floe_file *f = *fp;
    *fp = NULL;
    *tmp = NULL;
    floe_err err = flush_and_close(f);
    if (!err) {
        *tmp = f->tmp; /* handed over, still registered */
        f->tmp = NULL;
    }
    file_free(f);
    return err;
}

/* Write text and its newline into f; on error f is aborted (*fp = NULL). */
static floe_err write_text_to(floe_file **fp, const char *text)
{
    floe_err err = floe_file_write(*fp, text, strlen(text));
    if (!err)
        err = floe_file_write(*fp, "\n", 1);
    if (err)
        floe_file_abort(fp);
    return err;
}

floe_err floe_file_write_text(const char *path, const char *text)
{
    floe_file *f;
    FLOE_CHECK(floe_file_open(path, &f));
    FLOE_CHECK(write_text_to(&f, text));
    return floe_file_commit(&f);
}

floe_err floe_file_write_text_temp(const char *path, const char *text, char **tmp)
{
    *tmp = NULL;
    floe_file *f;
    FLOE_CHECK(floe_file_open(path, &f));
    FLOE_CHECK(write_text_to(&f, text));
    return floe_file_finish(&f, tmp);
}

floe_err floe_file_sync_temp(const char *tmp, const char *path)
{
    int fd = open(tmp, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
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
        floe_interrupt_remove_path(tmp);
    }
    return err;
}

floe_err floe_file_commit_temp(const char *tmp, const char *path)
{
    FLOE_CHECK(floe_file_sync_temp(tmp, path));
    return rename_into_place(tmp, path);
}

/* Undo the first k renames of commit_all: each destination gets its old
 * file back from its backup, or goes if it had none. A backup that cannot
 * be put back stays (kept[j] set), and err says where it is. */
static void undo_renames(size_t k, const char *const *paths, char **backups, int *kept,
                         floe_err *err)
{
    for (size_t j = 0; j < k; j++) {
        if (!backups[j]) {
            unlink(paths[j]);
        } else if (rename(backups[j], paths[j]) != 0) {
            kept[j] = 1;
            *err = floe_err_push(*err, __FILE__, __LINE__, " the old %s could not be put "
                                 "back: it is %s", paths[j], backups[j]);
        }
    }
}

floe_err floe_file_commit_all(size_t n, char *const *tmps, const char *const *paths)
{
    char **backups = calloc(n ? n : 1, sizeof *backups);
    int *kept = calloc(n ? n : 1, sizeof *kept);
    if (!backups || !kept) {
        free(backups);
        free(kept);
        for (size_t i = 0; i < n; i++)
            if (tmps[i]) {
                unlink(tmps[i]);
                floe_interrupt_remove_path(tmps[i]);
            }
        return FLOE_ERR(FLOE_ENOMEM, "%s: committing %zu files", n ? paths[0] : "", n);
    }
    floe_err err = NULL;
    floe_interrupt_hold();
    /* An output being replaced (-O) keeps a second name until every rename
     * has succeeded, so that a failed commit can give it back. Where hard
     * links are not possible the old file is simply replaced. */
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (lstat(paths[i], &st) == 0 && S_ISREG(st.st_mode)) {
            backups[i] = owned_name(paths[i], BACKUP_TAG);
            if (backups[i] && link(paths[i], backups[i]) != 0) {
                free(backups[i]);
                backups[i] = NULL;
            }
        }
    }
    size_t done = 0;
    for (; done < n; done++)
        if (rename(tmps[done], paths[done]) != 0) {
            err = io_failed(paths[done], "cannot rename into place", tmps[done], errno);
            break;
        }
    if (err) {
        undo_renames(done, paths, backups, kept, &err);
        for (size_t j = done; j < n; j++)
            unlink(tmps[j]);
    }
    for (size_t i = 0; i < n; i++) {
        floe_interrupt_remove_path(tmps[i]);
        if (backups[i] && !kept[i])
            unlink(backups[i]);
        free(backups[i]);
    }
    free(backups);
    free(kept);
    /* Every output is in place: a folder that cannot be flushed makes them
     * less durable against a crash, not wrong, so it is a warning. Each
     * folder once: one flush makes every rename done in it before durable
     * (an output, its Item and its report share one; each flush costs
     * milliseconds on the one-day query). */
    for (size_t i = 0; i < n && !err; i++) {
        int flushed = 0;
        for (size_t j = 0; j < i && !flushed; j++)
            flushed = same_folder(paths[j], paths[i]);
        if (flushed)
            continue;
        floe_err w = sync_folder(paths[i]);
        if (w) {
            char line[1024];
            FLOE_WARN("%s", floe_err_line(w, line, sizeof line));
            floe_err_free(&w);
        }
    }
    floe_interrupt_release(done == n);
    return err;
}

/* Whether name (an entry of the destination's folder) is a temporary of
 * base left by a dead process of this host. A backup (".floe-old-") is
 * never removed: it may be the only copy of an output replaced by a
 * commit that was killed half-way. */
static int stale_entry(const char *name, const char *base, const char *host)
{
    size_t nb = strlen(base);
    if (strncmp(name, base, nb) != 0)
        return 0;
    const char *tag = name + nb;
    if (strncmp(tag, TEMP_TAG, strlen(TEMP_TAG)) != 0)
        return 0;
    const char *owner = tag + strlen(TEMP_TAG);
    const char *dash = strrchr(owner, '-');
    size_t nh = strlen(host);
    if (!dash || (size_t)(dash - owner) != nh || strncmp(owner, host, nh) != 0)
        return 0; /* another host's, or not floe's naming */
    char *end;
    errno = 0;
    long pid = strtol(dash + 1, &end, 10);
    if (errno || *end || end == dash + 1 || pid <= 0)
        return 0;
    /* This process has written nothing for this path yet (the caller's
     * promise), so a temporary under its own pid is a dead namesake's. */
    if (pid == (long)getpid())
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

floe_err floe_file_remove_stale(const char *path, int *removed)
{
    *removed = 0;
    char *dir = folder_of(path);
    if (!dir)
        return FLOE_ERR(FLOE_ENOMEM, "%s: no memory for the folder's name", path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char host[HOST_CHARS + 1];
    host_name(host);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return NULL; /* nothing to clean; a missing folder is reported by the writer */
    }
    floe_err err = NULL;
    for (struct dirent *e; (e = readdir(d)) && !err;) {
        if (!stale_entry(e->d_name, base, host))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            err = FLOE_ERR(FLOE_EIO, "%s: cannot remove the stale temporary %s/%s: %s", path,
                           dir, e->d_name, strerror(errno));
    }
    closedir(d);
    free(dir);
    return err;
}
