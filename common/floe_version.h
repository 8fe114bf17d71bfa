/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_version.h - floe's version and the versions of the libraries it runs
 * with (for --version, output provenance and derived STAC Items). */
#ifndef FLOE_VERSION_H
#define FLOE_VERSION_H

#include <stddef.h>

const char *floe_version(void);
/* "netCDF 4.9.0, HDF5 1.10.8, libcurl 7.88.1, ..." into buf; returns buf. */
char *floe_library_versions(char *buf, size_t size);

#endif
