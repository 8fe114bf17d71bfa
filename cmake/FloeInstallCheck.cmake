# SPDX-License-Identifier: Apache-2.0
# cmake/FloeInstallCheck.cmake - the test unit.install, run with cmake -P:
# install the build at BUILD_DIR into PREFIX (emptied first), then check that
# PREFIX/BINDIR/floe --version runs and names floe, and that the manual page
# and the licence were installed. Fails with the step that went wrong.
foreach(v BUILD_DIR PREFIX BINDIR MANDIR DOCDIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "FloeInstallCheck: -D${v}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}):\n${out}")
endif()
execute_process(COMMAND "${PREFIX}/${BINDIR}/floe" --version
                RESULT_VARIABLE rc OUTPUT_VARIABLE version ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT version MATCHES "^floe [0-9]")
  message(FATAL_ERROR "installed ${PREFIX}/${BINDIR}/floe --version failed (${rc}): ${version}${err}")
endif()
foreach(f "${MANDIR}/man1/floe.1" "${DOCDIR}/LICENSE")
  if(NOT EXISTS "${PREFIX}/${f}")
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
string(REGEX REPLACE "\n.*" "" first "${version}")
message(STATUS "installed into ${PREFIX}: ${first}")
file(REMOVE_RECURSE "${PREFIX}")
