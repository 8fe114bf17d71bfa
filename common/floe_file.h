/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_file.h - the one way floe writes an output file: atomically.
 *
 * The bytes go to a temporary next to the destination
 * ("OUT.floe-tmp-HOST-PID": the same folder, so the rename cannot cross
 * file systems, and a name that says what it is and whose it is if a
 * crash leaves it behind). It is created exclusively (O_EXCL|O_NOFOLLOW:
 * never through a planted link, never over someone else's file) and
 * registered with common/floe_interrupt.h, so an interrupt removes it.
 * Commit flushes it to disk (fsync), renames it over OUT and flushes the
 * folder, so that after a crash OUT is either the old file or the whole
 * new one, never a part. Until commit OUT is untouched; abort, or a failed
 * commit, removes the temporary.
 *
 *     floe_file *f;
 *     FLOE_CHECK(floe_file_open("out.json", &f));
 *     floe_err err = floe_file_write(f, text, len);
 *     if (err)
 *         floe_file_abort(&f);                 // f = NULL, no temporary left
 *     else
 *         err = floe_file_commit(&f);          // f = NULL either way
 *
 * A library that creates the file itself (netCDF) writes to
 * floe_file_temp_path and finishes with floe_file_commit_temp: the same
 * name, the same flushes, the same rename.
 *
 * A run that writes several files (data, STAC Item, report) finishes each
 * into its temporary (floe_file_finish, floe_file_sync_temp) and commits
 * them together with floe_file_commit_all: all of them or none.
 */
#ifndef FLOE_FILE_H
#define FLOE_FILE_H

#include "common/floe_error.h"

#include <stddef.h>

typedef struct floe_file floe_file;

/* Create the temporary for path. A folder that does not exist is one
 * FLOE_EIO naming it; other failures name the temporary and the reason. */
floe_err floe_file_open(const char *path, floe_file **out);
/* Append n bytes (n may be 0). On error f stays valid for floe_file_abort. */
floe_err floe_file_write(floe_file *f, const void *data, size_t n);
/* fsync, close, rename over the path, fsync the folder. Frees f and sets
 * *f = NULL whatever happens; on error the temporary is gone and the path
 * is as it was (unless only the folder flush failed: then the new file is
 * in place but may not survive a crash, which the error says). */
floe_err floe_file_commit(floe_file **f);
/* Close and remove the temporary; *f = NULL. Safe on NULL and *f == NULL. */
void floe_file_abort(floe_file **f);
/* The temporary's name (borrowed, valid until commit or abort). */
const char *floe_file_temp(const floe_file *f);

/* All of it at once: text followed by the newline that ends a text file. */
floe_err floe_file_write_text(const char *path, const char *text);

/* A write, flush, close or create that failed for want of space (errno
 * ENOSPC, or EDQUOT: over quota) is one message, whoever hit it: "no space
 * left on device writing PATH", PATH the file the user asked for (not the
 * temporary). floe_file's own errors say it; writers whose library hides
 * errno (netCDF) ask floe_file_no_space and build the same error. */
int floe_file_no_space(int err_no);
floe_err floe_file_no_space_err(const char *path, int err_no);

/* For writers whose library creates the file: *tmp = the temporary name
 * for path (owned, free()), registered for removal on an interrupt until
 * floe_file_commit_temp, floe_file_commit_all or floe_file_discard_temp.
 * The library must create it exclusively (netCDF: NC_NOCLOBBER). */
floe_err floe_file_temp_path(const char *path, char **tmp);
/* The commit of a finished temporary written by someone else (closed by
 * then): fsync it, rename it over path, fsync the folder. On error the
 * temporary is removed. */
floe_err floe_file_commit_temp(const char *tmp, const char *path);


/* Finish f without renaming it: flushed and closed, *tmp = its name
 * (owned), still registered. Frees f, *f = NULL; on error the temporary is
 * gone and *tmp = NULL. */
floe_err floe_file_finish(floe_file **f, char **tmp);
/* All of a text (plus its newline) into a finished temporary of path. */
floe_err floe_file_write_text_temp(const char *path, const char *text, char **tmp);
/* Flush a temporary a library wrote and closed (for floe_file_commit_all).
 * On error the temporary is removed. */
floe_err floe_file_sync_temp(const char *tmp, const char *path);
/* Remove a temporary that will not be committed, forget it, free *tmp and
 * set it to NULL. Safe on NULL and *tmp == NULL. */
void floe_file_discard_temp(char **tmp);

/* Rename the n finished temporaries tmps[i] over paths[i]: all of them or,
 * if one rename fails, none (the destinations renamed already get back
 * their old file, or are removed if they had none; an old file that
 * cannot be put back stays under its backup name, "PATH.floe-old-HOST-PID",
 * which the error names). Where the file system has no hard links an old
 * file replaced with -O cannot be kept aside, and a failed commit loses
 * it. Interrupts are held back meanwhile (floe_interrupt_hold). The
 * temporaries are consumed either way: on success they are the outputs,
 * on failure they are removed; the caller still frees the strings. A
 * folder that cannot be flushed after every rename succeeded is a warning,
 * not an error. */
floe_err floe_file_commit_all(size_t n, char *const *tmps, const char *const *paths);

/* Remove temporaries of path that a process of this host, now dead, left
 * behind (after SIGKILL or a power cut): "PATH.floe-tmp-HOST-PID" whose
 * HOST is this one (its whole name) and whose PID no longer runs.
 * Temporaries of other hosts (a shared file system) and of live processes
 * are left alone, and so are backups ("PATH.floe-old-..."): one may be the
 * only copy of an output whose replacement was killed half-way.
 * *removed = how many went. */
floe_err floe_file_remove_stale(const char *path, int *removed);

#endif
