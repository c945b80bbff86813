# Toolchain file for the bare-metal Cortex-M images (Debian: gcc-arm-none-eabi,
# libnewlib-arm-none-eabi). CPU flags are per image target (ports/CMakeLists.txt).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

if(NOT TINYML_ARM_GCC)
  find_program(TINYML_ARM_GCC arm-none-eabi-gcc REQUIRED)
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TINYML_ARM_GCC)
get_filename_component(_tm_arm_bin ${TINYML_ARM_GCC} DIRECTORY)

set(CMAKE_C_COMPILER ${TINYML_ARM_GCC})
set(CMAKE_ASM_COMPILER ${TINYML_ARM_GCC})
# no operating system to link a test program against
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
find_program(TINYML_ARM_SIZE arm-none-eabi-size HINTS ${_tm_arm_bin} REQUIRED)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
