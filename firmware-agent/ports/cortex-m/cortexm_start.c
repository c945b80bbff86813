/*
 * cortexm_start.c — the reset path every Cortex-M4F/M7 image of the agent shares: enable the
 * FPU, copy .data, clear .bss, run main(). Each port keeps its own vector table (which names
 * Reset_Handler) and linker script (which defines the symbols below).
 */
#include <stdint.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;

int main(void);
void Reset_Handler(void);

/* Naked: nothing may touch the FPU before CPACR grants access (-mfloat-abi=hard lets the
 * compiler use s-registers anywhere, even in a copy loop or a memcpy). */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =0xE000ED88\n" /* CPACR: full access to CP10 and CP11 */
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xF << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
        "b tm_cortexm_c_start\n");
}

__attribute__((noreturn, used)) void tm_cortexm_c_start(void)
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
