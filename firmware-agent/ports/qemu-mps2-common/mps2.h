/*
 * mps2.h — the parts of the Arm MPS2 FPGA images (AN386 Cortex-M4F, AN500 Cortex-M7) that
 * the agent uses, as QEMU models them (hw/arm/mps2.c): 4 MB code SSRAM at 0x00000000,
 * 4 MB data SSRAM at 0x20000000, CMSDK APB timers at 0x40000000 / 0x40001000 and UART0
 * at 0x40004000, all peripherals clocked by the 25 MHz SYSCLK.
 */
#ifndef TM_MPS2_H
#define TM_MPS2_H

#include <stdint.h>

#define MPS2_SYSCLK_HZ 25000000u

typedef struct {
    volatile uint32_t DATA;       /* 0x00 */
    volatile uint32_t STATE;      /* 0x04: bit0 TX full, bit1 RX full, bits 2/3 overrun W1C */
    volatile uint32_t CTRL;       /* 0x08: TX en, RX en, TX int en, RX int en, ... */
    volatile uint32_t INTSTATUS;  /* 0x0C: read status, write 1 to clear (INTCLEAR) */
    volatile uint32_t BAUDDIV;    /* 0x10: >= 16 */
} cmsdk_uart_t;

#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TXEN (1u << 0)
#define UART_CTRL_RXEN (1u << 1)
#define UART_CTRL_RXINTEN (1u << 3)
#define UART_INT_RX (1u << 1)

typedef struct {
    volatile uint32_t CTRL;       /* 0x00: bit0 enable, bit3 interrupt enable */
    volatile uint32_t VALUE;      /* 0x04: current down-count */
    volatile uint32_t RELOAD;     /* 0x08 */
    volatile uint32_t INTSTATUS;  /* 0x0C: write 1 to clear (INTCLEAR) */
} cmsdk_timer_t;

#define TIMER_CTRL_EN (1u << 0)
#define TIMER_CTRL_IRQEN (1u << 3)

#define MPS2_UART0 ((cmsdk_uart_t *)0x40004000u)
#define MPS2_TIMER0 ((cmsdk_timer_t *)0x40000000u)
#define MPS2_TIMER1 ((cmsdk_timer_t *)0x40001000u)

/* IRQ numbers (AN386 / AN500) */
#define MPS2_IRQ_UART0_RX 0u
#define MPS2_IRQ_TIMER1 9u

/* System control block and NVIC */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_DFSR (*(volatile uint32_t *)0xE000ED30u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)

/** Board constants that differ between the images (ports/<board>/board.c). */
typedef struct {
    const char *board_id;
    const char *cpu;
} tm_mps2_board_t;

extern const tm_mps2_board_t tm_mps2_board;

/** Set by the HardFault handler when a semihosting call faulted (QEMU without
 *  -semihosting-config enable=on): semihosting is then not used again. */
extern volatile int tm_mps2_no_semihosting;

#endif /* TM_MPS2_H */
