# SPDX-License-Identifier: Apache-2.0
# cmake/FloeDependencies.cmake - find floe's dependencies by names that work
# on Debian and elsewhere (Spack, conda, a hand-built netCDF/HDF5).
#
# Each dependency becomes an imported target floe::NAME, so the rest of the
# build never spells include paths or library names. A dependency is looked
# up by its upstream pkg-config module names and, where upstream installs
# one, its CMake package config; Debian's own names are tried first where
# Debian renames things. Nothing fails half-way: every dependency that is
# missing is collected, and one FATAL_ERROR at the end (floe_require_found)
# names each one, the names tried, and the Debian package that provides it.
# Point the search at a non-system install with CMAKE_PREFIX_PATH (CMake
# configs, and pkg-config files under PREFIX/lib/pkgconfig) or PKG_CONFIG_PATH.
include_guard(GLOBAL)

find_package(PkgConfig QUIET)
set(FLOE_MISSING_DEPS "")

# floe_missing(what tried debian): record one missing dependency.
function(floe_missing what tried debian)
  set(FLOE_MISSING_DEPS "${FLOE_MISSING_DEPS}\n  - ${what}: tried ${tried}; on Debian: apt-get install ${debian}"
      PARENT_SCOPE)
endfunction()

# floe_find(NAME PKG mod... [CONFIG pkg target] DEBIAN deb...): floe::NAME from
# the first pkg-config module found, else from a CMake package config.
function(floe_find name)
  cmake_parse_arguments(A "" "" "PKG;CONFIG;DEBIAN" ${ARGN})
  if(TARGET floe::${name})
    return()
  endif()
  set(tried "")
  foreach(mod IN LISTS A_PKG)
    list(APPEND tried "pkg-config ${mod}")
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(floe_pc_${name} QUIET IMPORTED_TARGET GLOBAL ${mod})
      if(floe_pc_${name}_FOUND)
        add_library(floe::${name} ALIAS PkgConfig::floe_pc_${name})
        message(STATUS "floe: ${name} from pkg-config ${mod} ${floe_pc_${name}_VERSION}")
        return()
      endif()
    endif()
  endforeach()
  if(A_CONFIG)
    list(GET A_CONFIG 0 pkg)
    list(GET A_CONFIG 1 target)
    list(APPEND tried "CMake config ${pkg}")
    find_package(${pkg} CONFIG QUIET)
    if(TARGET ${target})
      get_target_property(aliased ${target} ALIASED_TARGET)
      if(aliased)
        set(target ${aliased})
      endif()
      add_library(floe::${name} ALIAS ${target})
      message(STATUS "floe: ${name} from CMake config ${pkg} (${${pkg}_DIR})")
      return()
    endif()
  endif()
  list(JOIN tried ", " tried)
  list(JOIN A_DEBIAN " " debian)
  floe_missing("${name}" "${tried}" "${debian}")
  set(FLOE_MISSING_DEPS "${FLOE_MISSING_DEPS}" PARENT_SCOPE)
endfunction()

# floe_header_says(out dirs header regex): TRUE when `header`, in the first
# of `dirs` that holds it, has a line matching `regex`.
function(floe_header_says out dirs header regex)
  set(${out} FALSE PARENT_SCOPE)
  foreach(d IN LISTS dirs)
    if(EXISTS "${d}/${header}")
      file(STRINGS "${d}/${header}" hits REGEX "${regex}")
      if(hits)
        set(${out} TRUE PARENT_SCOPE)
      endif()
      return()
    endif()
  endforeach()
endfunction()

# floe_require_found(): stop with one message naming everything missing.
function(floe_require_found)
  if(FLOE_MISSING_DEPS)
    message(FATAL_ERROR "floe: missing dependencies:${FLOE_MISSING_DEPS}\n"
            "Install them (scripts/setup does, on Debian), or point CMake at them with "
            "-DCMAKE_PREFIX_PATH=PREFIX or PKG_CONFIG_PATH=PREFIX/lib/pkgconfig.")
  endif()
endfunction()

# --- MPI: CMake's own FindMPI (mpicc, or MPI_HOME) ----------------------------
find_package(MPI COMPONENTS C)
if(MPI_C_FOUND)
  add_library(floe::mpi ALIAS MPI::MPI_C)
else()
  floe_missing("MPI (C bindings)" "CMake FindMPI (mpicc; set MPI_HOME)" "libopenmpi-dev openmpi-bin")
endif()

# --- libraries with stable upstream pkg-config names ---------------------------
floe_find(curl   PKG libcurl    CONFIG "CURL;CURL::libcurl"      DEBIAN libcurl4-openssl-dev)
floe_find(cjson  PKG libcjson   CONFIG "cJSON;cjson"             DEBIAN libcjson-dev)
floe_find(zstd   PKG libzstd    CONFIG "zstd;zstd::libzstd_shared" DEBIAN libzstd-dev)
floe_find(deflate PKG libdeflate CONFIG "libdeflate;libdeflate::libdeflate_shared" DEBIAN libdeflate-dev)
floe_find(zlib   PKG zlib       CONFIG "ZLIB;ZLIB::ZLIB"         DEBIAN zlib1g-dev)
floe_find(blosc  PKG blosc      CONFIG "Blosc;Blosc::blosc_shared" DEBIAN libblosc-dev)
floe_find(yaml   PKG yaml-0.1   CONFIG "yaml;yaml"               DEBIAN libyaml-dev)

# --- parallel netCDF-4 and the HDF5 under it ------------------------------------
# floe writes its outputs with nc_create_par, so it needs a netCDF built with
# parallel I/O (netcdf_par.h, NC_HAS_PARALLEL4 1), and it calls HDF5 itself
# (H5Dwrite_chunk) on the same parallel HDF5 (H5_HAVE_PARALLEL 1). A candidate
# that is serial is refused, with the reason in the message.
#
# Debian trap (see shared/docs/testbed.md): `pkg-config netcdf-mpi` points at
# /usr/include, which holds the SERIAL headers (NC_HAS_PARALLEL4 0, no
# netcdf_par.h); the parallel headers live under the module's `prefix`
# (/usr/lib/x86_64-linux-gnu/netcdf/mpi/include), so that directory is
# searched first and put first on the include path. The CMake config Debian
# installs for netcdf-mpi (cmake/netCDF_mpi) names /usr/include too, so it is
# checked the same way. Elsewhere (Spack, conda, a hand-built netCDF) the one
# netCDF is the parallel one: found by `find_package(netCDF CONFIG)` or
# `pkg-config netcdf`, with netcdf_par.h in its own include directory.
function(floe_find_netcdf_par)
  set(tried "")
  set(refused "")
  # Candidates: pkg-config modules, then the CMake config.
  foreach(cand pc:netcdf-mpi config:netCDF pc:netcdf)
    string(REGEX REPLACE "^([a-z]+):(.*)$" "\\1" kind "${cand}")
    string(REGEX REPLACE "^([a-z]+):(.*)$" "\\2" mod "${cand}")
    set(dirs "")
    set(link "")
    if(kind STREQUAL "pc")
      list(APPEND tried "pkg-config ${mod}")
      if(NOT PKG_CONFIG_FOUND)
        continue()
      endif()
      string(MAKE_C_IDENTIFIER "floe_nc_${mod}" pfx)
      pkg_check_modules(${pfx} QUIET IMPORTED_TARGET GLOBAL ${mod})
      if(NOT ${pfx}_FOUND)
        continue()
      endif()
      pkg_get_variable(mod_prefix ${mod} prefix)
      pkg_get_variable(mod_incdir ${mod} includedir)
      set(dirs ${mod_prefix}/include ${${pfx}_INCLUDE_DIRS} ${mod_incdir})
      set(link PkgConfig::${pfx})
      set(where "pkg-config ${mod}")
    else()
      list(APPEND tried "CMake config ${mod}")
      find_package(${mod} CONFIG QUIET)
      if(NOT TARGET netCDF::netcdf)
        continue()
      endif()
      get_target_property(dirs netCDF::netcdf INTERFACE_INCLUDE_DIRECTORIES)
      list(PREPEND dirs ${netCDF_INCLUDE_DIR})
      set(link netCDF::netcdf)
      set(where "CMake config ${mod} (${${mod}_DIR})")
    endif()
    list(REMOVE_DUPLICATES dirs)
    # The first directory with netcdf_par.h; its netcdf_meta.h must agree.
    set(par_dir "")
    foreach(d IN LISTS dirs)
      if(EXISTS "${d}/netcdf_par.h")
        set(par_dir "${d}")
        break()
      endif()
    endforeach()
    if(NOT par_dir)
      list(APPEND refused "${where}: serial (no netcdf_par.h in ${dirs})")
      continue()
    endif()
    floe_header_says(parallel4 "${par_dir}" netcdf_meta.h "^#define[ \t]+NC_HAS_PARALLEL4[ \t]+1")
    if(NOT parallel4)
      list(APPEND refused "${where}: ${par_dir}/netcdf_meta.h says NC_HAS_PARALLEL4 is not 1")
      continue()
    endif()
    add_library(floe_netcdf_par INTERFACE)
    target_include_directories(floe_netcdf_par BEFORE INTERFACE ${par_dir})
    target_link_libraries(floe_netcdf_par INTERFACE ${link})
    add_library(floe::netcdf_par ALIAS floe_netcdf_par)
    message(STATUS "floe: parallel netCDF from ${where}, headers ${par_dir}")
    return()
  endforeach()
  list(JOIN tried ", " tried)
  if(refused)
    list(JOIN refused "; " refused)
    set(tried "${tried} (refused: ${refused})")
  endif()
  floe_missing("netCDF-C with parallel I/O (netcdf_par.h, NC_HAS_PARALLEL4 1)" "${tried}"
               "libnetcdf-mpi-dev")
  set(FLOE_MISSING_DEPS "${FLOE_MISSING_DEPS}" PARENT_SCOPE)
endfunction()

# HDF5 with MPI-IO: Debian names it per MPI (hdf5-openmpi, hdf5-mpich; plain
# `hdf5` means whichever is installed), upstream installs `hdf5` pkg-config and
# an hdf5 CMake config (target hdf5::hdf5-shared). Refused when its
# H5pubconf.h lacks H5_HAVE_PARALLEL 1.
function(floe_find_hdf5_par)
  set(tried "")
  set(refused "")
  foreach(cand pc:hdf5-openmpi pc:hdf5-mpich pc:hdf5 config:hdf5)
    string(REGEX REPLACE "^([a-z]+):(.*)$" "\\1" kind "${cand}")
    string(REGEX REPLACE "^([a-z]+):(.*)$" "\\2" mod "${cand}")
    if(kind STREQUAL "pc")
      list(APPEND tried "pkg-config ${mod}")
      if(NOT PKG_CONFIG_FOUND)
        continue()
      endif()
      string(MAKE_C_IDENTIFIER "floe_h5_${mod}" pfx)
      pkg_check_modules(${pfx} QUIET IMPORTED_TARGET GLOBAL ${mod})
      if(NOT ${pfx}_FOUND)
        continue()
      endif()
      set(dirs ${${pfx}_INCLUDE_DIRS})
      pkg_get_variable(mod_incdir ${mod} includedir)
      list(APPEND dirs ${mod_incdir})
      set(target PkgConfig::${pfx})
      set(where "pkg-config ${mod}")
    else()
      list(APPEND tried "CMake config ${mod}")
      find_package(${mod} CONFIG QUIET)
      set(target "")
      foreach(t hdf5::hdf5-shared hdf5::hdf5-static hdf5-shared hdf5-static)
        if(TARGET ${t})
          set(target ${t})
          break()
        endif()
      endforeach()
      if(NOT target)
        continue()
      endif()
      get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
      set(where "CMake config ${mod} (${${mod}_DIR})")
    endif()
    floe_header_says(parallel "${dirs}" H5pubconf.h "^#define[ \t]+H5_HAVE_PARALLEL[ \t]+1")
    if(NOT parallel)
      list(APPEND refused "${where}: serial (no H5_HAVE_PARALLEL 1 in H5pubconf.h)")
      continue()
    endif()
    add_library(floe_hdf5_par INTERFACE)
    target_link_libraries(floe_hdf5_par INTERFACE ${target})
    add_library(floe::hdf5_par ALIAS floe_hdf5_par)
    message(STATUS "floe: parallel HDF5 from ${where}")
    return()
  endforeach()
  list(JOIN tried ", " tried)
  if(refused)
    list(JOIN refused "; " refused)
    set(tried "${tried} (refused: ${refused})")
  endif()
  floe_missing("HDF5 with parallel I/O (H5_HAVE_PARALLEL)" "${tried}" "libhdf5-openmpi-dev")
  set(FLOE_MISSING_DEPS "${FLOE_MISSING_DEPS}" PARENT_SCOPE)
endfunction()

floe_find_netcdf_par()
floe_find_hdf5_par()
if(TARGET floe::netcdf_par AND TARGET floe::hdf5_par AND TARGET floe::mpi)
  add_library(floe_netcdf_mpi INTERFACE)
  target_link_libraries(floe_netcdf_mpi INTERFACE floe::netcdf_par floe::hdf5_par floe::mpi)
  add_library(floe::netcdf_mpi ALIAS floe_netcdf_mpi)
endif()

# --- only for what is built on request --------------------------------------
# The unit tests need cmocka; the test-bed generator (tests/testbed) writes its
# archive with the SERIAL netCDF/HDF5 (each worker process writes whole files;
# Debian: hdf5-serial, since plain `hdf5` means the MPI build there). With
# -DFLOE_BUILD_TESTS=OFF -DFLOE_BUILD_TESTBED=OFF none of them is looked up.
# (node/npm are used by scripts/testbed only, never by CMake.)
if(FLOE_BUILD_TESTS)
  floe_find(cmocka PKG cmocka CONFIG "cmocka;cmocka::cmocka" DEBIAN libcmocka-dev)
endif()
if(FLOE_BUILD_TESTBED)
  floe_find(netcdf_serial PKG netcdf CONFIG "netCDF;netCDF::netcdf" DEBIAN libnetcdf-dev)
  floe_find(hdf5_serial PKG hdf5-serial hdf5 CONFIG "hdf5;hdf5::hdf5-shared" DEBIAN libhdf5-dev)
endif()

floe_require_found()
