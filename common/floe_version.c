/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_version.c - version strings, read from the libraries at run time so
 * that they describe what actually ran, not what the headers said. */
#include "common/floe_version.h"

#include <blosc.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <hdf5.h>
#include <libdeflate.h>
#include <mpi.h>
#include <netcdf.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include <zlib.h>
#include <zstd.h>

#ifndef FLOE_VERSION_STRING
#define FLOE_VERSION_STRING "unknown"
#endif

const char *floe_version(void)
{
    return FLOE_VERSION_STRING;
}

char *floe_library_versions(char *buf, size_t size)
{
    unsigned h5maj = 0, h5min = 0, h5rel = 0;
    H5get_libversion(&h5maj, &h5min, &h5rel);
    /* nc_inq_libvers() gives "4.9.0 of ..." : keep the number only. */
    char ncv[32];
    snprintf(ncv, sizeof ncv, "%s", nc_inq_libvers());
    ncv[strcspn(ncv, " ")] = '\0';
    char mpiv[MPI_MAX_LIBRARY_VERSION_STRING];
    int mpilen = 0;
    MPI_Get_library_version(mpiv, &mpilen);
    mpiv[strcspn(mpiv, ",\n")] = '\0';
    snprintf(buf, size,
             "netCDF %s, HDF5 %u.%u.%u, libcurl %s, %s, zstd %s, libdeflate %s, zlib %s, "
             "blosc %s, cJSON %s, libyaml %s",
             ncv, h5maj, h5min, h5rel, curl_version_info(CURLVERSION_NOW)->version, mpiv,
             ZSTD_versionString(), LIBDEFLATE_VERSION_STRING, zlibVersion(),
             blosc_get_version_string(), cJSON_Version(), yaml_get_version_string());
    return buf;
}
