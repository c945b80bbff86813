/* Vector table and reset for the STM32L4R5 agent image. */
#include <stdint.h>

#include "stm32l4r5.h"

extern uint32_t __stack_top;

void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));
void LPUART1_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + LPUART1_IRQ + 1] = {
    (vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    [16 + LPUART1_IRQ] = LPUART1_Handler,
};

/* Reset_Handler: ports/cortex-m/cortexm_start.c. */

/* Faults stop here; a debugger (openocd + gdb) shows where from the stacked frame. */
void Default_Handler(void)
{
    for (;;)
        __asm__ volatile("wfi");
}
