/* The few STM32L4R5 registers the agent port uses (RM0432, STM32L4+ reference manual), as
 * plain addresses: no vendor headers are needed to build the image. */
#ifndef TM_STM32L4R5_H
#define TM_STM32L4R5_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* Flash interface */
#define FLASH_ACR REG32(0x40022000u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

/* Reset and clock control */
#define RCC_CR REG32(0x40021000u)
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR REG32(0x40021008u)
#define RCC_CFGR_SW_MASK 0x3u
#define RCC_CFGR_SW_PLL 0x3u
#define RCC_CFGR_SWS_MASK (0x3u << 2)
#define RCC_CFGR_SWS_PLL (0x3u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4)
#define RCC_CFGR_HPRE_DIV2 (0x8u << 4)
#define RCC_PLLCFGR REG32(0x4002100Cu)
#define RCC_PLLCFGR_PLLSRC_HSI16 0x2u
#define RCC_PLLCFGR_PLLM_SHIFT 4     /* M = field + 1 */
#define RCC_PLLCFGR_PLLN_SHIFT 8
#define RCC_PLLCFGR_PLLREN (1u << 24)
#define RCC_PLLCFGR_PLLR_SHIFT 25    /* 0: /2 */
#define RCC_AHB2ENR REG32(0x4002104Cu)
#define RCC_AHB2ENR_GPIOGEN (1u << 6)
#define RCC_APB1ENR1 REG32(0x40021058u)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_APB1ENR2 REG32(0x4002105Cu)
#define RCC_APB1ENR2_LPUART1EN (1u << 0)
#define RCC_CCIPR REG32(0x40021088u)
#define RCC_CCIPR_LPUART1SEL_SHIFT 10
#define RCC_CCIPR_LPUART1SEL_HSI16 0x2u

/* Power control */
#define PWR_CR1 REG32(0x40007000u)
#define PWR_CR1_VOS_MASK (0x3u << 9)
#define PWR_CR1_VOS_RANGE1 (0x1u << 9)
#define PWR_CR2 REG32(0x40007004u)
#define PWR_CR2_IOSV (1u << 9)       /* VDDIO2 valid: port G pins 2..15 */
#define PWR_SR2 REG32(0x40007014u)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR5 REG32(0x40007080u)
#define PWR_CR5_R1MODE (1u << 8)     /* 0: range 1 boost mode (above 80 MHz) */

/* GPIO port G */
#define GPIOG_MODER REG32(0x48001800u)
#define GPIOG_OSPEEDR REG32(0x48001808u)
#define GPIOG_PUPDR REG32(0x4800180Cu)
#define GPIOG_AFRL REG32(0x48001820u)
#define GPIOG_AFRH REG32(0x48001824u)

/* LPUART1 */
#define LPUART1_CR1 REG32(0x40008000u)
#define LPUART_CR1_UE (1u << 0)
#define LPUART_CR1_RE (1u << 2)
#define LPUART_CR1_TE (1u << 3)
#define LPUART_CR1_RXNEIE (1u << 5)
#define LPUART1_BRR REG32(0x4000800Cu)
#define LPUART1_ISR REG32(0x4000801Cu)
#define LPUART_ISR_ORE (1u << 3)
#define LPUART_ISR_RXNE (1u << 5)
#define LPUART_ISR_TC (1u << 6)
#define LPUART_ISR_TXE (1u << 7)
#define LPUART1_ICR REG32(0x40008020u)
#define LPUART_ICR_ORECF (1u << 3)
#define LPUART1_RDR REG32(0x40008024u)
#define LPUART1_TDR REG32(0x40008028u)
#define LPUART1_IRQ 70u

/* Cortex-M4 core */
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define DEMCR REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT REG32(0xE0001004u)
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))

#define SYSCLK_HZ 120000000u
#define HSI16_HZ 16000000u

#endif /* TM_STM32L4R5_H */
