/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_file_place.h - writing bytes at given offsets of a file
 * another process created: the output chunks a rank places into the
 * temporary rank 0 finished (engine/job/stats_place.h), and the probe that
 * tells whether the ranks see the same file system at all
 * (engine/mpi/shared_fs.h).
 *
 * The file is never created or extended here: every offset lies inside
 * it (rank 0 wrote placeholders there first), so a placed write that
 * would reach past the end of a regular file is refused. A write that fails for want of
 * space is floe_file's one message (floe_file_no_space_err) naming the
 * output the user asked for; the caller's job removes the temporary. */
#ifndef FLOE_FILE_PLACE_H
#define FLOE_FILE_PLACE_H

#include "common/floe_error.h"

#include <stddef.h>
#include <stdint.h>

/* Write n pieces into the existing file at path (shown: the output's name
 * in errors): piece k is lens[k] bytes at offset offsets[k], taken from
 * bytes one after the other (piece 0 first). Flushed to disk (fdatasync)
 * before it returns. */
floe_err floe_file_place(const char *path, const char *shown, const uint64_t *offsets,
                         const size_t *lens, size_t n, const uint8_t *bytes);

/* The probe: create path exclusively holding the n bytes of nonce. */
floe_err floe_file_probe_write(const char *path, const void *nonce, size_t n);
/* 1 when path opens for reading AND writing and holds exactly the n bytes
 * of nonce, else 0 (it cannot be opened so, or holds anything else:
 * another file system, or another file of the same name). */
int floe_file_probe_holds(const char *path, const void *nonce, size_t n);

#endif
