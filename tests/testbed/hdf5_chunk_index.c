/* SPDX-License-Identifier: Apache-2.0 */
/* tests/testbed/hdf5_chunk_index.c - where HDF5 put each chunk of some datasets
 *
 * usage: floe-hdf5-chunks FILE DATASET...
 *
 * Prints one JSON object on stdout: for each DATASET, the list of its
 * allocated chunks as {"offset": [element offsets], "addr": byte offset in
 * FILE, "size": stored bytes, "mask": filter mask}. Chunks never written
 * are not listed (they read as the fill value). The same query the test-bed
 * generator makes (H5Dget_chunk_info), for tests that write their own
 * NetCDF-4 files with netCDF4-python and reference them virtually (h5py, the
 * usual way to ask this from Python, is not installed here).
 */
#include <hdf5.h>
#include <stdio.h>

/* Rank of the datasets this tool describes at most (netCDF allows more;
 * the tests use at most 4). */
#define MAX_RANK 8

static int describe(hid_t file, const char *name, int first)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) {
        fprintf(stderr, "floe-hdf5-chunks: no dataset %s\n", name);
        return -1;
    }
    /* HDF5 1.10 wants the dataset's own space here, not H5S_ALL. */
    hid_t space = H5Dget_space(ds);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    hsize_t n = 0;
    if (rank < 1 || rank > MAX_RANK || H5Dget_num_chunks(ds, space, &n) < 0) {
        fprintf(stderr, "floe-hdf5-chunks: %s is not a chunked dataset of rank 1..%d\n", name,
                MAX_RANK);
        if (space >= 0)
            H5Sclose(space);
        H5Dclose(ds);
        return -1;
    }
    printf("%s\"%s\": [", first ? "" : ", ", name);
    int rc = 0;
    for (hsize_t k = 0; k < n; k++) {
        hsize_t off[MAX_RANK];
        unsigned mask = 0;
        haddr_t addr;
        hsize_t size;
        if (H5Dget_chunk_info(ds, space, k, off, &mask, &addr, &size) < 0) {
            fprintf(stderr, "floe-hdf5-chunks: H5Dget_chunk_info(%s, %llu) failed\n", name,
                    (unsigned long long)k);
            rc = -1;
            break;
        }
        printf("%s{\"offset\": [", k ? ", " : "");
        for (int d = 0; d < rank; d++)
            printf("%s%llu", d ? ", " : "", (unsigned long long)off[d]);
        printf("], \"addr\": %llu, \"size\": %llu, \"mask\": %u}", (unsigned long long)addr,
               (unsigned long long)size, mask);
    }
    printf("]");
    H5Sclose(space);
    H5Dclose(ds);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: floe-hdf5-chunks FILE DATASET...\n");
        return 2;
    }
    hid_t file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "floe-hdf5-chunks: HDF5 cannot open %s\n", argv[1]);
        return 1;
    }
    int rc = 0;
    printf("{");
    for (int i = 2; i < argc && rc == 0; i++)
        rc = describe(file, argv[i], i == 2);
    printf("}\n");
    H5Fclose(file);
    return rc ? 1 : 0;
}
