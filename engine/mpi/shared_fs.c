/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/shared_fs.c - see shared_fs.h. */
#include "engine/mpi/shared_fs.h"

#include "common/floe_file.h"
#include "common/floe_file_place.h"
#include "common/floe_log.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Bytes of the nonce: enough that another file of the same name holding
 * them by chance is out of the question. */
#define PROBE_NONCE_BYTES 16
/* The probe's name beside the output: OUT + this, then floe_file's
 * temporary suffix (host and pid), so that it is removed on an interrupt. */
#define PROBE_SUFFIX ".floe-probe"

/* A nonce that differs between runs: the kernel's random bytes, else the
 * clock and the pid (enough to tell two files apart). */
static void make_nonce(uint8_t *nonce)
{
    if (getrandom(nonce, PROBE_NONCE_BYTES, GRND_NONBLOCK) == PROBE_NONCE_BYTES)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t v[2] = {(uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32), (uint64_t)ts.tv_nsec};
    memcpy(nonce, v, PROBE_NONCE_BYTES);
}

/* Rank 0: the probe's path (owned) and nonce, created; NULL when it cannot
 * be (no probe: the answer is no). */
static char *create_probe(const char *output, uint8_t *nonce)
{
    size_t n = strlen(output) + sizeof PROBE_SUFFIX;
    char *base = malloc(n), *tmp = NULL;
    if (!base)
        return NULL;
    snprintf(base, n, "%s%s", output, PROBE_SUFFIX);
    floe_err err = floe_file_temp_path(base, &tmp);
    free(base);
    make_nonce(nonce);
    if (!err)
        err = floe_file_probe_write(tmp, nonce, PROBE_NONCE_BYTES);
    if (err) {
        char line[512];
        FLOE_DEBUG("no probe of the output's file system: %s",
                   floe_err_line(err, line, sizeof line));
        floe_err_free(&err);
        floe_file_discard_temp(&tmp);
    }
    return tmp;
}

floe_err floe_mpi_shared_fs(const floe_mpi *mpi, const char *output, int *shared)
{
    *shared = 0;
    if (mpi->size == 1) {
        *shared = 1;
        return NULL;
    }
    uint8_t nonce[PROBE_NONCE_BYTES] = {0};
    char *probe = mpi->rank == 0 ? create_probe(output, nonce) : NULL;
    /* the path's length with its NUL (0: no probe), then the path and the
     * nonce; a path longer than PATH_MAX could not be opened anyway */
    char path[PATH_MAX];
    int len = probe && strlen(probe) < sizeof path ? (int)strlen(probe) + 1 : 0;
    if (len)
        memcpy(path, probe, (size_t)len);
    floe_err err = FLOE_CHECK_MPI(MPI_Bcast(&len, 1, MPI_INT, 0, mpi->comm),
                                  "the probe of the output's file system");
    if (!err && len > 0)
        err = FLOE_CHECK_MPI(MPI_Bcast(path, len, MPI_CHAR, 0, mpi->comm), "the probe's path");
    if (!err && len > 0)
        err = FLOE_CHECK_MPI(MPI_Bcast(nonce, PROBE_NONCE_BYTES, MPI_BYTE, 0, mpi->comm),
                             "the probe's nonce");
    /* rank 0 wrote it; the others read it back */
    int mine = !err && len > 0 &&
               (mpi->rank == 0 || floe_file_probe_holds(path, nonce, PROBE_NONCE_BYTES));
    int all = 0;
    if (!err)
        err = FLOE_CHECK_MPI(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, mpi->comm),
                             "agreeing on the output's file system");
    floe_file_discard_temp(&probe);
    *shared = !err && all;
    return err;
}
