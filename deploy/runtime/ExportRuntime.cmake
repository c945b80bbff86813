# The firmware runtime that CLibraryExporter copies verbatim into C-library and Arduino zips:
# the package reader/interpreter (tm_model), the CRC it checks (tm_frame), and every int8
# kernel the firmware build compiles. The files are embedded into tinyml_deploy as a Qt
# resource so an installed application needs no source tree.
#
# The kernel list is the firmware build's own TINYML_NN_SOURCES (firmware-agent/nn) and the
# headers found next to them, read at configure time: a kernel file added there is exported
# without touching this file. Included from deploy/CMakeLists.txt after tinyml_deploy exists.

set(_tm_fw ${PROJECT_SOURCE_DIR}/firmware-agent)
get_directory_property(_tm_nn_sources DIRECTORY ${_tm_fw}/nn DEFINITION TINYML_NN_SOURCES)
get_directory_property(_tm_nn_options DIRECTORY ${_tm_fw} DEFINITION TINYML_NN_COMPILE_OPTIONS)
if(NOT _tm_nn_sources)
  message(FATAL_ERROR "ExportRuntime.cmake: firmware-agent/nn did not define TINYML_NN_SOURCES")
endif()

# The interpreter and what it includes; the agent's protocol core is not part of a library.
set(_tm_runtime_sources ${_tm_fw}/src/tm_model.c ${_tm_fw}/src/tm_frame.c ${_tm_nn_sources})
file(GLOB_RECURSE _tm_nn_headers CONFIGURE_DEPENDS ${_tm_fw}/nn/*.h)
set(_tm_runtime_headers
  ${_tm_fw}/include/tm_model.h ${_tm_fw}/include/tm_frame.h ${_tm_fw}/include/tm_protocol.h
  ${_tm_nn_headers})
list(REMOVE_DUPLICATES _tm_runtime_headers)

set(_tm_qrc_dir ${CMAKE_CURRENT_BINARY_DIR}/export-runtime)
set(_tm_qrc_entries "")
set(_tm_manifest_sources "")
set(_tm_manifest_headers "")
set(_tm_manifest_dirs "")
foreach(kind sources headers)
  foreach(abs IN LISTS _tm_runtime_${kind})
    cmake_path(RELATIVE_PATH abs BASE_DIRECTORY ${_tm_fw} OUTPUT_VARIABLE rel)
    if(rel MATCHES "^\\.\\.")
      message(FATAL_ERROR "ExportRuntime.cmake: ${abs} is outside firmware-agent/")
    endif()
    string(APPEND _tm_qrc_entries "    <file alias=\"runtime/${rel}\">${abs}</file>\n")
    string(APPEND _tm_manifest_${kind} "    \"${rel}\",\n")
    if(kind STREQUAL "headers")
      cmake_path(GET rel PARENT_PATH dir)
      list(APPEND _tm_manifest_dir_list ${dir})
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _tm_manifest_dir_list)
foreach(dir IN LISTS _tm_manifest_dir_list)
  string(APPEND _tm_manifest_dirs "    \"${dir}\",\n")
endforeach()
set(_tm_manifest_options "")
foreach(opt IN LISTS _tm_nn_options)
  string(APPEND _tm_manifest_options "    \"${opt}\",\n")
endforeach()
# JSON arrays without the trailing comma
foreach(part sources headers dirs options)
  string(REGEX REPLACE ",\n$" "\n" _tm_manifest_${part} "${_tm_manifest_${part}}")
endforeach()

file(CONFIGURE OUTPUT ${_tm_qrc_dir}/manifest.json CONTENT
"{
  \"sources\": [
${_tm_manifest_sources}  ],
  \"headers\": [
${_tm_manifest_headers}  ],
  \"include_dirs\": [
${_tm_manifest_dirs}  ],
  \"compile_options\": [
${_tm_manifest_options}  ]
}
" @ONLY)
file(CONFIGURE OUTPUT ${_tm_qrc_dir}/export_runtime.qrc CONTENT
"<!DOCTYPE RCC><RCC version=\"1.0\">
<qresource prefix=\"/tinyml-export\">
${_tm_qrc_entries}    <file alias=\"runtime/manifest.json\">${_tm_qrc_dir}/manifest.json</file>
</qresource>
</RCC>
" @ONLY)

qt_add_resources(_tm_export_runtime_rcc ${_tm_qrc_dir}/export_runtime.qrc)
target_sources(tinyml_deploy PRIVATE ${_tm_export_runtime_rcc})
# The tests compare the embedded copies with these files byte for byte.
set(TINYML_EXPORT_RUNTIME_FILES ${_tm_runtime_sources} ${_tm_runtime_headers}
    CACHE INTERNAL "Firmware files embedded into the C-library export")
