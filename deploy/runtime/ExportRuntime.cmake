# The firmware runtime that CLibraryExporter copies verbatim into C-library and Arduino zips:
# the package reader/interpreter (tm_model), the CRC it checks (tm_frame), and every int8
# kernel the firmware build compiles; and, for models exported with their impulse, the
# impulse (firmware-agent/impulse) and the DSP blocks it runs (firmware-agent/dsp). The files
# are embedded into tinyml_deploy as a Qt resource so an installed application needs no
# source tree.
#
# The lists are the firmware build's own TINYML_NN_SOURCES, TINYML_DSP_SOURCES and
# TINYML_IMPULSE_SOURCES and the headers found next to them, read at configure time: a file
# added there is exported without touching this file. The manifest keeps the two groups apart
# ("sources"... for every export, "impulse_sources"... only with an impulse). Included from
# deploy/CMakeLists.txt after tinyml_deploy exists.

set(_tm_fw ${PROJECT_SOURCE_DIR}/firmware-agent)
get_directory_property(_tm_nn_sources DIRECTORY ${_tm_fw}/nn DEFINITION TINYML_NN_SOURCES)
get_directory_property(_tm_nn_options DIRECTORY ${_tm_fw} DEFINITION TINYML_NN_COMPILE_OPTIONS)
get_directory_property(_tm_dsp_sources DIRECTORY ${_tm_fw} DEFINITION TINYML_DSP_SOURCES)
get_directory_property(_tm_dsp_options DIRECTORY ${_tm_fw} DEFINITION TINYML_DSP_COMPILE_OPTIONS)
get_directory_property(_tm_impulse_only_sources DIRECTORY ${_tm_fw} DEFINITION TINYML_IMPULSE_SOURCES)
if(NOT _tm_nn_sources)
  message(FATAL_ERROR "ExportRuntime.cmake: firmware-agent/nn did not define TINYML_NN_SOURCES")
endif()
if(NOT _tm_dsp_sources OR NOT _tm_impulse_only_sources OR NOT _tm_dsp_options)
  message(FATAL_ERROR "ExportRuntime.cmake: firmware-agent did not define TINYML_DSP_SOURCES, "
                      "TINYML_DSP_COMPILE_OPTIONS or TINYML_IMPULSE_SOURCES")
endif()

# The interpreter and what it includes; the agent's protocol core is not part of a library.
set(_tm_runtime_sources ${_tm_fw}/src/tm_model.c ${_tm_fw}/src/tm_frame.c ${_tm_nn_sources})
file(GLOB_RECURSE _tm_nn_headers CONFIGURE_DEPENDS ${_tm_fw}/nn/*.h)
set(_tm_runtime_headers
  ${_tm_fw}/include/tm_model.h ${_tm_fw}/include/tm_frame.h ${_tm_fw}/include/tm_protocol.h
  ${_tm_nn_headers})
list(REMOVE_DUPLICATES _tm_runtime_headers)

# The impulse: tm_impulse.c and every DSP block (tm_impulse.c dispatches to raw, spectral, mfe
# and mfcc; the DSP library is exported whole, as the firmware compiles it).
set(_tm_impulse_sources ${_tm_impulse_only_sources} ${_tm_dsp_sources})
file(GLOB_RECURSE _tm_impulse_headers CONFIGURE_DEPENDS ${_tm_fw}/impulse/*.h ${_tm_fw}/dsp/*.h)
list(REMOVE_DUPLICATES _tm_impulse_headers)

set(_tm_qrc_dir ${CMAKE_CURRENT_BINARY_DIR}/export-runtime)
set(_tm_qrc_entries "")
set(_tm_manifest_sources "")
set(_tm_manifest_headers "")
set(_tm_manifest_dirs "")
set(_tm_manifest_impulse_sources "")
set(_tm_manifest_impulse_headers "")
set(_tm_manifest_impulse_dirs "")
set(_tm_manifest_dir_list "")
set(_tm_manifest_impulse_dir_list "")
set(_tm_files_sources ${_tm_runtime_sources})
set(_tm_files_headers ${_tm_runtime_headers})
set(_tm_files_impulse_sources ${_tm_impulse_sources})
set(_tm_files_impulse_headers ${_tm_impulse_headers})
foreach(kind sources headers impulse_sources impulse_headers)
  # group: "" for the model runtime, "_impulse" for the impulse's files
  string(REGEX REPLACE "_?(sources|headers)$" "" group "${kind}")
  if(group)
    set(group "_${group}")
  endif()
  foreach(abs IN LISTS _tm_files_${kind})
    cmake_path(RELATIVE_PATH abs BASE_DIRECTORY ${_tm_fw} OUTPUT_VARIABLE rel)
    if(rel MATCHES "^\\.\\.")
      message(FATAL_ERROR "ExportRuntime.cmake: ${abs} is outside firmware-agent/")
    endif()
    string(APPEND _tm_qrc_entries "    <file alias=\"runtime/${rel}\">${abs}</file>\n")
    string(APPEND _tm_manifest_${kind} "    \"${rel}\",\n")
    if(kind MATCHES "headers$")
      cmake_path(GET rel PARENT_PATH dir)
      list(APPEND _tm_manifest${group}_dir_list ${dir})
    endif()
  endforeach()
endforeach()
foreach(prefix _tm_manifest _tm_manifest_impulse)
  list(REMOVE_DUPLICATES ${prefix}_dir_list)
  foreach(dir IN LISTS ${prefix}_dir_list)
    string(APPEND ${prefix}_dirs "    \"${dir}\",\n")
  endforeach()
endforeach()
set(_tm_manifest_options "")
foreach(opt IN LISTS _tm_nn_options)
  string(APPEND _tm_manifest_options "    \"${opt}\",\n")
endforeach()
# The DSP's numeric options (-ffp-contract=off -fno-math-errno) for the impulse's float code.
set(_tm_manifest_impulse_options "")
foreach(opt IN LISTS _tm_dsp_options)
  string(APPEND _tm_manifest_impulse_options "    \"${opt}\",\n")
endforeach()
# JSON arrays without the trailing comma
foreach(part sources headers dirs options impulse_sources impulse_headers impulse_dirs
        impulse_options)
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
${_tm_manifest_options}  ],
  \"impulse_sources\": [
${_tm_manifest_impulse_sources}  ],
  \"impulse_headers\": [
${_tm_manifest_impulse_headers}  ],
  \"impulse_include_dirs\": [
${_tm_manifest_impulse_dirs}  ],
  \"impulse_compile_options\": [
${_tm_manifest_impulse_options}  ]
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
    ${_tm_impulse_sources} ${_tm_impulse_headers}
    CACHE INTERNAL "Firmware files embedded into the C-library export")
