/* Arm MPS2 with the AN386 FPGA image, as QEMU's `-M mps2-an386` models it. */
#include "mps2.h"

const tm_mps2_board_t tm_mps2_board = {"qemu-m4", "cortex-m4f"};
