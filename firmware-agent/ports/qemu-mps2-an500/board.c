/* Arm MPS2 with the AN500 FPGA image, as QEMU's `-M mps2-an500` models it. */
#include "mps2.h"

const tm_mps2_board_t tm_mps2_board = {"qemu-m7", "cortex-m7"};
