/* SPDX-License-Identifier: Apache-2.0 */
/* out/netcdf_space.c - see netcdf_space.h. */
#define _GNU_SOURCE /* fallocate, FALLOC_FL_* */
#include "out/netcdf_space.h"

#include "common/floe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void nc_space_follow(nc_space *s, hid_t fid)
{
    s->fid = 0;
    s->fd = -1;
    s->ahead_end = 0; /* another handle: its EOA, not the last one's */
    if (fid <= 0)
        return;
    hid_t fapl = H5Fget_access_plist(fid);
    int posix = fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2;
    if (fapl >= 0)
        H5Pclose(fapl);
    void *handle = NULL;
    if (!posix || H5Fget_vfd_handle(fid, H5P_DEFAULT, &handle) < 0 || !handle)
        return;
    s->fid = fid;
    s->fd = *(int *)handle;
}

int nc_space_add_var(nc_space *s, int varid, const nc_space_var *v)
{
    if (varid < 0)
        return EINVAL;
    if ((size_t)varid >= s->nvars) {
        nc_space_var *p = realloc(s->vars, ((size_t)varid + 1) * sizeof *p);
        if (!p)
            return ENOMEM;
        memset(p + s->nvars, 0, ((size_t)varid + 1 - s->nvars) * sizeof *p);
        s->vars = p;
        s->nvars = (size_t)varid + 1;
    }
    s->vars[varid] = *v;
    return 0;
}

size_t nc_space_touched(const size_t *chunks, int ndims, const size_t *start,
                        const size_t *count, size_t chunk_bytes)
{
    size_t n = chunk_bytes;
    for (int d = 0; d < ndims; d++) {
        if (!count[d])
            return 0;
        size_t c = chunks[d] ? chunks[d] : 1;
        n *= (start[d] + count[d] - 1) / c - start[d] / c + 1;
    }
    return n;
}

static size_t add_capped(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Allocate [off, off + len) to the file, its size unchanged: 0, or the
 * errno of the failure. An interrupted call is asked again. */
static int allocate(int fd, long long off, long long len)
{
    int r;
    do
        r = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
    while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : errno;
}

/* A file system that does not reserve: without fallocate (EOPNOTSUPP,
 * ENOSYS) or with only part of it (EINVAL: some modes or file types). */
static int not_supported(int err_no)
{
    return err_no == EOPNOTSUPP || err_no == ENOSYS || err_no == EINVAL;
}

static long long max_ll(long long a, long long b)
{
    return a > b ? a : b;
}

/* Make sure [EOA, EOA + room + metadata) is allocated to the file, its
 * size unchanged: nothing to do while an earlier reservation covers it,
 * else a step further (NC_SPACE_AHEAD_MIN, doubling), or only what is
 * needed where the step does not fit. */
static int reserve_past_eoa(nc_space *s, size_t room)
{
    haddr_t eoa = 0;
    if (s->fd < 0 || s->unsupported || H5Fget_eoa(s->fid, &eoa) < 0)
        return 0;
    room = add_capped(room, NC_SPACE_METADATA_ROOM);
    if (eoa > (haddr_t)INT64_MAX || room > (size_t)INT64_MAX - eoa)
        return EFBIG;
    long long start = (long long)eoa, need = start + (long long)room;
    if (need <= s->ahead_end)
        return 0;
    size_t step = s->ahead_step ? s->ahead_step * 2 : NC_SPACE_AHEAD_MIN;
    if (step > NC_SPACE_AHEAD_MAX)
        step = NC_SPACE_AHEAD_MAX;
    long long end = step > (size_t)(INT64_MAX - need) ? need : need + (long long)step;
    int err = allocate(s->fd, start, end - start);
    /* even a failed call may have allocated part: returned at the end */
    s->reserved_end = max_ll(s->reserved_end, end);
    if (err && end > need && floe_file_no_space(err)) {
        end = need; /* the step does not fit: what the call needs may */
        err = allocate(s->fd, start, end - start);
    } else if (!err) {
        s->ahead_step = step;
    }
    if (!err) {
        s->ahead_end = end;
        return 0;
    }
    /* A file system that cannot reserve: HDF5 meets a full disk itself
     * there, as it always did. */
    if (not_supported(err)) {
        s->unsupported = 1;
        return 0;
    }
    return err;
}

int nc_space_reserve(nc_space *s, int varid, size_t touched)
{
    nc_space_var *v = varid >= 0 && (size_t)varid < s->nvars ? &s->vars[varid] : NULL;
    size_t room = 0, first = 0;
    if (v && v->storage && !v->written)
        first = v->storage;
    if (v && v->chunk_bytes) {
        room = touched; /* written now, or held dirty (counted below) */
        v->dirty = add_capped(v->dirty, touched);
        if (v->dirty > v->cache_bytes)
            v->dirty = v->cache_bytes;
    }
    for (size_t i = 0; i < s->nvars; i++)
        room = add_capped(room, s->vars[i].dirty);
    int err = reserve_past_eoa(s, add_capped(room, first));
    if (!err && v && first)
        v->written = 1;
    return err;
}

int nc_space_reserve_bytes(nc_space *s, size_t n)
{
    return reserve_past_eoa(s, n);
}

void nc_space_flushed(nc_space *s)
{
    for (size_t i = 0; i < s->nvars; i++)
        s->vars[i].dirty = 0;
    s->ahead_end = 0;
}

void nc_space_release(const nc_space *s, const char *path)
{
    struct stat st;
    int fd = s->reserved_end > 0 ? open(path, O_RDWR | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    /* Blocks allocated past the end of the file go with a truncation to
     * its own size (ext4, xfs and tmpfs drop them; ext4 ignores a hole
     * punched past the end). The size and the bytes are unchanged; a
     * failure leaves them allocated, which costs space, not data. */
    if (fstat(fd, &st) == 0 && s->reserved_end > (long long)st.st_size)
        (void)ftruncate(fd, st.st_size);
    close(fd);
}

void nc_space_free(nc_space *s)
{
    free(s->vars);
    s->vars = NULL;
    s->nvars = 0;
    s->fid = 0;
    s->fd = -1;
    s->reserved_end = 0;
    s->ahead_end = 0;
    s->ahead_step = 0;
    s->unsupported = 0;
}
