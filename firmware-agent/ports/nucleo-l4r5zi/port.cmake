# Agent image for the ST NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F at 120 MHz). Compile-checked
# only: not verified on hardware. Included by ports/CMakeLists.txt after the virtual boards;
# the int8 kernels and DSP blocks are the AN386 board's libraries (the same CPU flags).
set(_tm_nucleo_dir ${CMAKE_CURRENT_LIST_DIR})
set(_tm_nucleo_cpu -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
add_executable(agent-nucleo-l4r5zi
  ${AGENT_DIR}/src/tm_frame.c
  ${TINYML_AGENT_CORE_SOURCES}
  ${_tm_nucleo_dir}/startup.c
  ${CORTEXM_START}
  ${_tm_nucleo_dir}/port.c)
target_include_directories(agent-nucleo-l4r5zi PRIVATE ${AGENT_DIR}/include ${_tm_nucleo_dir})
tinyml_device_flags(agent-nucleo-l4r5zi ${_tm_nucleo_cpu})
# 640 KB of RAM: a smaller classification ring (1.5 s of 16 kHz mono) and impulse work buffer
# (an MFCC over 1 s at 16 kHz with 40 filters), so that the tensor arena keeps its 64 KB.
target_compile_definitions(agent-nucleo-l4r5zi PRIVATE TM_AGENT_RING_VALUES=24000u
                           TM_AGENT_IMPULSE_WORK_BYTES=86016u)
target_link_libraries(agent-nucleo-l4r5zi PRIVATE tinyml_nn-qemu-mps2-an386 tinyml_dsp-qemu-mps2-an386 m)
target_link_options(agent-nucleo-l4r5zi PRIVATE ${_tm_nucleo_cpu} -mthumb
  --specs=nano.specs --specs=nosys.specs -nostartfiles
  -T ${_tm_nucleo_dir}/nucleo_l4r5zi.ld -Wl,--gc-sections
  -Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/agent-nucleo-l4r5zi.map)
set_target_properties(agent-nucleo-l4r5zi PROPERTIES
  C_STANDARD 99
  SUFFIX .elf
  OUTPUT_NAME tinyml-agent
  RUNTIME_OUTPUT_DIRECTORY ${TINYML_IMAGE_DIR}/nucleo-l4r5zi
  LINK_DEPENDS ${_tm_nucleo_dir}/nucleo_l4r5zi.ld)
