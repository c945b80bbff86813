/* The agent on the ST NUCLEO-L4R5ZI: STM32L4R5ZI at 120 MHz (PLL from HSI16, range 1 boost
 * mode), LPUART1 on PG7/PG8, which the board wires to the ST-LINK's virtual COM port
 * (/dev/ttyACM*), interrupt-driven receive into a ring and polled transmit; DWT->CYCCNT
 * extended to 64 bits as the cycle counter; SysTick every 100 ms wakes the main loop so the
 * extension never misses a wrap (every 35.8 s). Model slots live in RAM: a reset forgets the
 * model (INFO does not claim persistent slots). The board has no sensors.
 *
 * Compile-checked only: not verified on hardware. */
#include <stdint.h>
#include <string.h>

#include "stm32l4r5.h"
#include "tm_agent.h"

#define BAUD 115200u
#define SLOT_SIZE (128u * 1024u)
#define RX_RING 4096u /* power of two */

extern uint8_t __arena_start[], __arena_end[];

static tm_agent_t agent;
static tm_port_t port;
static uint8_t slots[TM_MODEL_SLOTS][SLOT_SIZE] __attribute__((aligned(16)));

static void irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static void irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }

/* ---- clock --------------------------------------------------------------------------- */

static void clock_init(void)
{
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_RANGE1;
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
    /* 120 MHz needs 5 flash wait states in range 1; set them before the clock rises */
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | 5u | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN |
                FLASH_ACR_DCEN;
    while ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != 5u) {
    }
    RCC_CR |= RCC_CR_HSION;
    while (!(RCC_CR & RCC_CR_HSIRDY)) {
    }
    /* HSI16 / M=1 * N=15 = 240 MHz VCO, / R=2 = 120 MHz */
    RCC_PLLCFGR = RCC_PLLCFGR_PLLSRC_HSI16 | (0u << RCC_PLLCFGR_PLLM_SHIFT) |
                  (15u << RCC_PLLCFGR_PLLN_SHIFT) | (0u << RCC_PLLCFGR_PLLR_SHIFT) |
                  RCC_PLLCFGR_PLLREN;
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    /* Above 80 MHz: boost mode, entered with the AHB clock halved for the switch and
     * restored after at least 1 us (the reference manual's sequence). */
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_HPRE_MASK) | RCC_CFGR_HPRE_DIV2;
    PWR_CR5 &= ~PWR_CR5_R1MODE;
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL) {
    }
    for (volatile uint32_t i = 0; i < 200u; ++i) {
    }
    RCC_CFGR &= ~RCC_CFGR_HPRE_MASK;
}

/* ---- LPUART1 ------------------------------------------------------------------------- */

static uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* head: written by the ISR */
static volatile uint32_t rx_overruns;

void LPUART1_Handler(void)
{
    uint32_t isr = LPUART1_ISR;
    if (isr & LPUART_ISR_ORE) {
        LPUART1_ICR = LPUART_ICR_ORECF; /* a lost byte: the frame's CRC makes the host resend */
        rx_overruns++;
    }
    while (LPUART1_ISR & LPUART_ISR_RXNE) {
        uint8_t b = (uint8_t)LPUART1_RDR;
        uint32_t h = rx_head;
        if (h - rx_tail < RX_RING) {
            rx_ring[h & (RX_RING - 1u)] = b;
            rx_head = h + 1u;
        }
    }
}

static size_t uart_read(uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && rx_tail != rx_head) {
        out[n++] = rx_ring[rx_tail & (RX_RING - 1u)];
        rx_tail++;
    }
    return n;
}

static void uart_write(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; ++i) {
        while (!(LPUART1_ISR & LPUART_ISR_TXE)) {
        }
        LPUART1_TDR = d[i];
    }
}

static void uart_init(void)
{
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOGEN;
    PWR_CR2 |= PWR_CR2_IOSV; /* PG7/PG8 are supplied by VDDIO2 */
    /* PG7 = LPUART1_TX, PG8 = LPUART1_RX: alternate function 8, RX pulled up */
    GPIOG_MODER = (GPIOG_MODER & ~((3u << 14) | (3u << 16))) | (2u << 14) | (2u << 16);
    GPIOG_OSPEEDR |= (2u << 14);
    GPIOG_PUPDR = (GPIOG_PUPDR & ~(3u << 16)) | (1u << 16);
    GPIOG_AFRL = (GPIOG_AFRL & ~(0xFu << 28)) | (8u << 28);
    GPIOG_AFRH = (GPIOG_AFRH & ~0xFu) | 8u;

    RCC_CCIPR = (RCC_CCIPR & ~(3u << RCC_CCIPR_LPUART1SEL_SHIFT)) |
                (RCC_CCIPR_LPUART1SEL_HSI16 << RCC_CCIPR_LPUART1SEL_SHIFT);
    RCC_APB1ENR2 |= RCC_APB1ENR2_LPUART1EN;
    (void)RCC_APB1ENR2;
    LPUART1_CR1 = 0;
    /* LPUART: BRR = 256 * f_ck / baud, rounded */
    LPUART1_BRR = (uint32_t)((256ull * HSI16_HZ + BAUD / 2u) / BAUD);
    LPUART1_CR1 = LPUART_CR1_TE | LPUART_CR1_RE | LPUART_CR1_RXNEIE | LPUART_CR1_UE;
    NVIC_ISER(LPUART1_IRQ / 32u) = 1u << (LPUART1_IRQ % 32u);
}

/* ---- cycle counter -------------------------------------------------------------------- */

static uint32_t cyc_last;
static uint64_t cyc_total;

static uint64_t counter_now(void *ctx)
{
    (void)ctx;
    uint32_t c = DWT_CYCCNT;
    cyc_total += (uint32_t)(c - cyc_last);
    cyc_last = c;
    return cyc_total;
}

void SysTick_Handler(void) {}

static void counter_init(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    SYST_RVR = SYSCLK_HZ / 10u - 1u; /* 100 ms, within SysTick's 24 bits */
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

/* ---- model slots (RAM) ----------------------------------------------------------------- */

static tm_error_t slot_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *d, uint32_t n)
{
    (void)ctx;
    if (slot >= TM_MODEL_SLOTS || off > SLOT_SIZE || n > SLOT_SIZE - off)
        return TM_ERR_BAD_ARGUMENT;
    memcpy(&slots[slot][off], d, n);
    return TM_OK;
}

static const uint8_t *slot_data(void *ctx, uint8_t slot)
{
    (void)ctx;
    return slot < TM_MODEL_SLOTS ? slots[slot] : NULL;
}

static void board_reset(void *ctx)
{
    (void)ctx;
    while (!(LPUART1_ISR & LPUART_ISR_TC)) { /* the reply's last byte leaves first */
    }
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}

int main(void)
{
    clock_init();
    uart_init();
    counter_init();

    port.ctx = NULL;
    port.board.board_id = "nucleo-l4r5zi";
    port.board.cpu = "cortex-m4f";
    port.board.clock_hz = SYSCLK_HZ;
    port.board.ram_bytes = 640u * 1024u;
    port.board.flash_bytes = 2048u * 1024u;
    port.board.ram_free = (uint32_t)(__arena_end - __arena_start);
    port.arena = __arena_start; /* 16-aligned by the linker script */
    port.arena_size = port.board.ram_free;
    port.board.counter_kind = TM_COUNTER_CYCLES;
    port.board.counter_resolution = 1u;
    port.board.counter_hz = SYSCLK_HZ;
    port.board.capabilities = 0u;
    port.write = uart_write;
    port.tx_ready = NULL;
    port.now = counter_now;
    port.paced = 1;
    port.reset = board_reset;
    port.slot_size = SLOT_SIZE;
    port.slot_write = slot_write;
    port.slot_data = slot_data;
    port.slot_persist = NULL;
    port.slot_load = NULL;
    port.sensor_count = 0;
    tm_agent_init(&agent, &port);
    irq_enable();

    uint8_t buf[64];
    for (;;) {
        size_t n;
        while ((n = uart_read(buf, sizeof buf)) > 0) {
            tm_agent_feed(&agent, buf, n);
            tm_agent_poll(&agent);
        }
        (void)counter_now(NULL);
        tm_agent_poll(&agent);
        /* sleep until a byte or the next SysTick; checked with interrupts masked so a byte
         * arriving now still wakes the WFI */
        irq_disable();
        if (rx_tail == rx_head)
            __asm__ volatile("wfi");
        irq_enable();
    }
}
