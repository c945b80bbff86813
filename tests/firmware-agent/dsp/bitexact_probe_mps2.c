/*
 * bitexact_probe_mps2.c — main() of bitexact-probe.elf, the device half of the host/device
 * bit-exactness test, for the MPS2 boards under QEMU (ports/qemu-mps2-common startup and
 * linker script). Prints one line per probe entry and a status line over Arm semihosting,
 * then ends QEMU with SYS_EXIT:
 *     bitexact <name> 0x<8 hex digits>
 *     bitexact kernels <optimized | reference>
 *     bitexact status <0 | -1>
 * QEMU exits 0 on ADP_Stopped_ApplicationExit and 1 on any other reason, so a probe error
 * shows in the exit status as well. Needs -semihosting-config enable=on.
 */
#include <stdint.h>

#include "bitexact_probe.h"
#include "tm_nn_variants.h"

enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
enum { ADP_STOPPED_APPLICATION_EXIT = 0x20026, ADP_STOPPED_RUN_TIME_ERROR = 0x20023 };

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Appends s to the line at *pos; the line buffer is large enough for one entry. */
static void put(char *line, int *pos, const char *s)
{
    while (*s != '\0') {
        line[(*pos)++] = *s++;
    }
}

static void put_hex(char *line, int *pos, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    put(line, pos, "0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        line[(*pos)++] = digits[(v >> shift) & 0xFu];
    }
}

int main(void)
{
    uint32_t hashes[BITEXACT_COUNT];
    const int status = bitexact_probe(hashes);
    char line[64];
    for (int i = 0; i < BITEXACT_COUNT; ++i) {
        int pos = 0;
        put(line, &pos, "bitexact ");
        put(line, &pos, bitexact_probe_name(i));
        put(line, &pos, " ");
        put_hex(line, &pos, hashes[i]);
        put(line, &pos, "\n");
        line[pos] = '\0';
        semihost(SYS_WRITE0, line);
    }
    /* Which kernel set tm_nn.h's names are bound to in this image (the Cortex-M builds pick
     * the optimized one: the host test insists on it). */
    semihost(SYS_WRITE0, tm_nn_optimized() ? "bitexact kernels optimized\n"
                                           : "bitexact kernels reference\n");
    semihost(SYS_WRITE0, status == 0 ? "bitexact status 0\n" : "bitexact status -1\n");
    /* On 32-bit Arm the reason code is the argument itself, not a pointer to a block. */
    semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                             : ADP_STOPPED_RUN_TIME_ERROR));
    return status;
}
