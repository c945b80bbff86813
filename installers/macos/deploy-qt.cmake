# Install-time step for the DragNDrop disk image (include()d from install(CODE), macOS only;
# not tested here). Inputs: TINYML_MACDEPLOYQT, TINYML_BUNDLE.
# macdeployqt copies the Qt frameworks and plugins (cocoa platform, qsqlite, SVG) and every
# non-system dylib (libtorch, protobuf) into the bundle and rewrites the install names; the
# CLI in Contents/MacOS is passed as an extra executable so it uses the same copies.
set(_bundle "${CMAKE_INSTALL_PREFIX}/${TINYML_BUNDLE}")
execute_process(
  COMMAND "${TINYML_MACDEPLOYQT}" "${_bundle}"
          "-executable=${_bundle}/Contents/MacOS/tinyml"
          -always-overwrite
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "macdeployqt failed (${_rc})")
endif()
