/* Vector table, reset and fault handlers for the MPS2 images. */
#include <stdint.h>
#include <string.h>

#include "mps2.h"

extern uint32_t __stack_top;

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);
/* The agent's port defines these; a program without them (the bit-exactness probe) gets
 * the default handler. */
void UART0RX_Handler(void) __attribute__((weak, alias("Default_Handler")));
void TIMER1_Handler(void) __attribute__((weak, alias("Default_Handler")));

volatile int tm_mps2_no_semihosting;

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + 32] = {
    (vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    Default_Handler,   /* MemManage */
    Default_Handler,   /* BusFault */
    Default_Handler,   /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    HardFault_Handler, /* DebugMonitor: a BKPT may land here instead */
    0,
    Default_Handler,   /* PendSV */
    Default_Handler,   /* SysTick */
    [16 + MPS2_IRQ_UART0_RX] = UART0RX_Handler,
    [16 + MPS2_IRQ_TIMER1] = TIMER1_Handler,
};

/* Reset_Handler: ports/cortex-m/cortexm_start.c. */

/* A semihosting BKPT without a debugger (QEMU run without -semihosting-config) escalates
 * to HardFault: make the call return -1 and remember not to try again. Anything else is
 * a real fault: stop here (a debugger shows the stacked frame in r0). */
__attribute__((used)) void tm_mps2_fault(uint32_t *frame)
{
    uint16_t insn = *(const uint16_t *)(uintptr_t)frame[6];
    if (insn == 0xBEABu) {
        tm_mps2_no_semihosting = 1;
        frame[0] = (uint32_t)-1;
        frame[6] += 2u;
        SCB_HFSR = SCB_HFSR;      /* write-one-to-clear */
        SCB_DFSR = SCB_DFSR;
        return;
    }
    for (;;)
        __asm__ volatile("wfi");
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b tm_mps2_fault\n");
}

void Default_Handler(void)
{
    for (;;)
        __asm__ volatile("wfi");
}
