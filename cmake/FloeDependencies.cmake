# Dependencies, all from Debian, found the pkg-config / CMake way.
# Each is exposed as an imported target floe::NAME so the rest of the build
# never spells include paths or library names.
find_package(PkgConfig REQUIRED)
find_package(MPI REQUIRED COMPONENTS C)
add_library(floe::mpi ALIAS MPI::MPI_C)

function(floe_pkg name module)
  pkg_check_modules(${name} REQUIRED IMPORTED_TARGET ${module})
  add_library(floe::${name} ALIAS PkgConfig::${name})
endfunction()

floe_pkg(curl libcurl)
floe_pkg(cjson libcjson)
floe_pkg(zstd libzstd)
floe_pkg(deflate libdeflate)
floe_pkg(zlib zlib)
floe_pkg(blosc blosc)
floe_pkg(yaml yaml-0.1)
# Serial netCDF + HDF5: only the test bed generator uses them (it reads HDF5
# chunk addresses with H5Dget_chunk_info from the files it writes).
floe_pkg(netcdf_serial netcdf)
floe_pkg(hdf5_serial hdf5-serial)

# Parallel netCDF. Trap (see shared/docs/testbed.md): `pkg-config netcdf-mpi`
# points at /usr/include, which holds the SERIAL headers (NC_HAS_PARALLEL4 0,
# no netcdf_par.h). The parallel headers live under the netcdf-mpi prefix, so
# that include directory must come first; link -lnetcdf_mpi and the openmpi
# HDF5 (named explicitly: plain `hdf5` silently means whichever is installed).
pkg_get_variable(FLOE_NETCDF_MPI_PREFIX netcdf-mpi prefix)
find_path(FLOE_NETCDF_PAR_INCLUDE netcdf_par.h
          HINTS ${FLOE_NETCDF_MPI_PREFIX}/include NO_DEFAULT_PATH REQUIRED)
find_library(FLOE_NETCDF_MPI_LIB netcdf_mpi REQUIRED)
pkg_check_modules(hdf5_openmpi REQUIRED IMPORTED_TARGET hdf5-openmpi)
add_library(floe_netcdf_mpi INTERFACE)
target_include_directories(floe_netcdf_mpi BEFORE INTERFACE ${FLOE_NETCDF_PAR_INCLUDE})
target_link_libraries(floe_netcdf_mpi INTERFACE ${FLOE_NETCDF_MPI_LIB}
                      PkgConfig::hdf5_openmpi MPI::MPI_C)
add_library(floe::netcdf_mpi ALIAS floe_netcdf_mpi)

find_package(PkgConfig)
pkg_check_modules(cmocka IMPORTED_TARGET cmocka)
