# Install-time step for the NSIS installer (include()d from install(CODE), Windows only;
# not tested here). Inputs: TINYML_WINDEPLOYQT, TINYML_BINDIR, TINYML_SEARCH_DIRS.
#  1. windeployqt copies the Qt DLLs and the plugins the programs load at run time
#     (platforms/qwindows, sqldrivers/qsqlite, imageformats and iconengines for SVG,
#     the serial port module).
#  2. Every other DLL the programs import (libtorch, protobuf, onnx, the compiler
#     runtime) is copied next to them, found along TINYML_SEARCH_DIRS.
set(_bindir "${CMAKE_INSTALL_PREFIX}/${TINYML_BINDIR}")
set(_programs "${_bindir}/tinyml-workbench.exe" "${_bindir}/tinyml.exe")

execute_process(
  COMMAND "${TINYML_WINDEPLOYQT}" --release --compiler-runtime --no-translations
          --no-system-d3d-compiler --no-opengl-sw ${_programs}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "windeployqt failed (${_rc})")
endif()

file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES ${_programs}
  RESOLVED_DEPENDENCIES_VAR _resolved
  UNRESOLVED_DEPENDENCIES_VAR _unresolved
  DIRECTORIES ${TINYML_SEARCH_DIRS}
  PRE_EXCLUDE_REGEXES "api-ms-.*" "ext-ms-.*"
  POST_EXCLUDE_REGEXES ".*[/\\\\][Ss]ystem32[/\\\\].*")
foreach(_dll IN LISTS _resolved)
  file(INSTALL "${_dll}" DESTINATION "${_bindir}")
endforeach()
if(_unresolved)
  message(WARNING "DLLs not found, the installer will lack them: ${_unresolved}")
endif()
