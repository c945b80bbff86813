# kernel-bench's whole-model rows for the trainer's packages (model_rows.h), included by
# ports/CMakeLists.txt inside the firmware cross build.
#
# tinyml_bench_model_rows(<target> <cpu flags...>) adds to the bench image target:
#  - the device interpreter (tm_model.c, tm_frame.c), built as in the agent images;
#  - the packages of models/ as C arrays, generated at build time (embed_models.cmake);
#  - the int8 kernels without nn/src/tm_nn_select.c, and bench_nn_dispatch.c in its place,
#    which binds tm_nn.h's names at run time so one image runs a package with both kernel
#    sets. The kernels are compiled with the same flags as tinyml_nn-<board>.
# Only the bench uses these; the agent images keep tm_nn_select.c.
# The same function adds package-bench.elf (package_bench.c): any package, read over
# semihosting, through both kernel sets (tests/bench/device/bench_mlperf_models.py runs it).

# Stems in models/, in table order (the hand-written rows' order: DS-CNN, motion, MLP).
set(TINYML_BENCH_MODELS kws-dscnn motion-cnn1d motion-mlp)

function(tinyml_bench_model_rows target)
  set(cpu_flags ${ARGN})
  set(bench_dir ${CMAKE_CURRENT_FUNCTION_LIST_DIR})

  set(kernels ${TINYML_NN_SOURCES})
  list(FILTER kernels EXCLUDE REGEX "/tm_nn_select\\.c$")
  add_library(${target}-nn STATIC ${kernels})
  target_include_directories(${target}-nn PUBLIC ${TINYML_NN_INCLUDE_DIR})
  tinyml_device_flags(${target}-nn ${cpu_flags})
  target_compile_options(${target}-nn PRIVATE ${TINYML_NN_COMPILE_OPTIONS})
  target_link_libraries(${target}-nn PUBLIC m)
  set_target_properties(${target}-nn PROPERTIES C_STANDARD 99)

  set(files)
  foreach(name IN LISTS TINYML_BENCH_MODELS)
    foreach(suffix .tmpk .input.bin .expected.bin)
      list(APPEND files ${bench_dir}/models/${name}${suffix})
    endforeach()
  endforeach()
  list(JOIN TINYML_BENCH_MODELS "," names)
  set(generated ${CMAKE_CURRENT_BINARY_DIR}/${target}-models.c)
  add_custom_command(OUTPUT ${generated}
    COMMAND ${CMAKE_COMMAND} -DMODELS_DIR=${bench_dir}/models -DNAMES=${names}
            -DOUTPUT=${generated} -P ${bench_dir}/embed_models.cmake
    DEPENDS ${files} ${bench_dir}/embed_models.cmake
    COMMENT "Embedding the benchmark's model packages"
    VERBATIM)

  target_sources(${target} PRIVATE
    ${bench_dir}/model_rows.c
    ${bench_dir}/bench_nn_dispatch.c
    ${generated}
    ${AGENT_DIR}/src/tm_model.c
    ${AGENT_DIR}/src/tm_frame.c)
  target_include_directories(${target} PRIVATE ${bench_dir} ${AGENT_DIR}/include)
  target_link_libraries(${target} PRIVATE ${target}-nn m)

  # package-bench.elf (package_bench.c): one package read over semihosting, through the same
  # interpreter and both kernel sets. Made here because ports/CMakeLists.txt includes only
  # this file for the benchmark images; it shares the kernel library built above.
  add_executable(package-bench-qemu-mps2-an386
    ${bench_dir}/package_bench.c
    ${bench_dir}/bench_nn_dispatch.c
    ${AGENT_DIR}/src/tm_model.c
    ${AGENT_DIR}/src/tm_frame.c
    ${MPS2_COMMON}/mps2_startup.c ${CORTEXM_START})
  target_include_directories(package-bench-qemu-mps2-an386 PRIVATE
    ${bench_dir} ${AGENT_DIR}/include ${MPS2_COMMON})
  tinyml_device_flags(package-bench-qemu-mps2-an386 ${cpu_flags})
  target_link_libraries(package-bench-qemu-mps2-an386 PRIVATE ${target}-nn m)
  tinyml_mps2_link(package-bench-qemu-mps2-an386 qemu-mps2-an386 ${cpu_flags})
  set_target_properties(package-bench-qemu-mps2-an386 PROPERTIES OUTPUT_NAME package-bench)
endfunction()
