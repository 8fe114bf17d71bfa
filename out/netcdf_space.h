/* SPDX-License-Identifier: Apache-2.0 */
/* out/netcdf_space.h - disk space reserved ahead of HDF5, so that HDF5
 * never meets a full disk itself.
 *
 * Why: HDF5 1.10 (up to 1.14.0) cannot recover from a failed write. A
 * failed flush of its metadata leaves the file's cache in a state in which
 * every later flush and close fails; a failed close frees the file but
 * keeps its id, and the next use of that id (netCDF's report of open
 * objects, the library's shut-down at exit or at MPI_Finalize) crashes.
 * So the writer makes sure, before each call that lets HDF5 allocate or
 * write, that the space the call can take is already allocated to the
 * file: fallocate(FALLOC_FL_KEEP_SIZE) from HDF5's end of allocation (EOA)
 * on. A full disk then fails that fallocate, with HDF5's state intact, and
 * the file can be closed (netcdf_writer.c discards what it still writes).
 *
 * Everything HDF5 writes lies below its EOA, and a call grows the EOA by at
 * most what it writes new: a chunk, a contiguous variable's whole storage
 * on its first write, the chunks its cache holds dirty (allocated when they
 * are evicted or flushed), and metadata (object headers, attributes, chunk
 * index nodes: NC_SPACE_METADATA_ROOM). Reserving that much past the EOA
 * before every call keeps all of it allocated ahead. The writer does not
 * flush to keep that small (a flush part way through a chunk's writes
 * makes the file's layout depend on how the writes were split, hence on
 * the rank count): the chunks held dirty are at most each variable's chunk
 * cache, so a run needs at most the sum of its variables' chunk caches
 * (netCDF's default: 16 MiB each) more free space than its output takes,
 * and what is reserved past the end is returned (nc_space_release).
 *
 * What a flush may undo: HDF5 truncates the file to its EOA when it
 * flushes, and a truncation frees what was reserved past it; after a flush
 * (nc_space_flushed) the next call reserves again.
 *
 * Only for HDF5's POSIX driver (sec2: its handle is the descriptor) and on
 * file systems with fallocate; elsewhere nothing is reserved (EOPNOTSUPP,
 * or EINVAL where a file system supports only some of it: not asked
 * again) and a full disk is met by HDF5 as before.
 */
#ifndef FLOE_NETCDF_SPACE_H
#define FLOE_NETCDF_SPACE_H

#include <hdf5.h>
#include <stddef.h>

/* Room for the metadata one call can add. HDF5 allocates metadata in
 * blocks of 2 KiB; an output's definitions and attributes take tens of
 * KiB. */
#define NC_SPACE_METADATA_ROOM ((size_t)256 << 10)

/* Reserving ahead: a reservation that the file's EOA has not reached
 * yet is not asked for again; past it, the next reaches this much further
 * than the call needs, doubled each time up to NC_SPACE_AHEAD_MAX (one
 * fallocate, a server round trip on Lustre or NFS, per step rather than
 * per write). Where the step does not fit, only what the call needs is
 * reserved: a full disk fails exactly where it did. */
#define NC_SPACE_AHEAD_MIN ((size_t)64 << 20)
#define NC_SPACE_AHEAD_MAX ((size_t)1 << 30)

typedef struct nc_space_var {
    size_t storage;     /* contiguous: all of it, allocated on the first write; else 0 */
    size_t chunk_bytes; /* chunked: one chunk, uncompressed; else 0 */
    size_t cache_bytes; /* chunked: its chunk cache, the most it holds dirty */
    size_t dirty;       /* chunked: at most this much waits in its cache */
    int written;        /* contiguous: its storage is allocated */
} nc_space_var;

typedef struct nc_space {
    hid_t fid; /* the HDF5 file (borrowed); 0: nothing is reserved */
    int fd;    /* its descriptor (HDF5's); -1: nothing is reserved */
    nc_space_var *vars; /* by netCDF varid */
    size_t nvars;
    long long reserved_end; /* the furthest byte reserved, for nc_space_release */
    long long ahead_end;    /* reserved up to here since the last flush; 0: nothing */
    size_t ahead_step;      /* the last step reserved ahead (NC_SPACE_AHEAD_MIN..MAX) */
    int unsupported;        /* fallocate is not supported here: nothing is reserved */
} nc_space;

/* Follow HDF5 file fid (0 = none): its descriptor when its driver is the
 * POSIX one. The variables' bookkeeping is kept. */
void nc_space_follow(nc_space *s, hid_t fid);
/* Record variable varid; 0 or ENOMEM. */
int nc_space_add_var(nc_space *s, int varid, const nc_space_var *v);
/* The bytes of the chunks a write of count values from start touches
 * (chunked variable: ndims, dims' chunk shape `chunks`, chunk_bytes). */
size_t nc_space_touched(const size_t *chunks, int ndims, const size_t *start,
                        const size_t *count, size_t chunk_bytes);
/* Before a write of variable varid touching `touched` bytes of chunks
 * (0 for a flush or a definition: varid < 0): reserve what the call can
 * take. 0, or the errno of the failure (ENOSPC, EDQUOT, ...). */
int nc_space_reserve(nc_space *s, int varid, size_t touched);
/* Before a write that HDF5 sends straight to the file (a raw chunk of n
 * bytes): 0 or errno. */
int nc_space_reserve_bytes(nc_space *s, size_t n);
/* After a flush: the caches hold nothing dirty, and what was reserved
 * past the EOA may be gone (HDF5 truncated the file to it). */
void nc_space_flushed(nc_space *s);
/* Return what is reserved past the end of the closed file at path. */
void nc_space_release(const nc_space *s, const char *path);
void nc_space_free(nc_space *s);

#endif
