/* Vector table and reset for the STM32L4R5 agent image. */
#include <stdint.h>

#include "stm32l4r5.h"

extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;

int main(void);
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

/* Naked: nothing may touch the FPU before CPACR grants access (-mfloat-abi=hard lets the
 * compiler use s-registers anywhere, even in a copy loop). */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =0xE000ED88\n" /* CPACR: full access to CP10 and CP11 */
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xF << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
        "b tm_stm32_c_start\n");
}

__attribute__((noreturn, used)) void tm_stm32_c_start(void)
{
    uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; dst < &__data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;)
        *dst++ = 0;
    main();
    for (;;)
        __asm__ volatile("wfi");
}

/* Faults stop here; a debugger (openocd + gdb) shows where from the stacked frame. */
void Default_Handler(void)
{
    for (;;)
        __asm__ volatile("wfi");
}
