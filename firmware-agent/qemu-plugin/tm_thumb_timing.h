/*
 * tm_thumb_timing.h — Thumb/Thumb-2 (ARMv7-M, ARMv7E-M + FPv4/FPv5) instruction decoder and
 * per-block cycle tables of the cycle model (tinyml_cycles.c, the QEMU plugin).
 *
 * Pure C11 without QEMU: the plugin decodes each translation block once, the validation
 * (tests/firmware-agent/cycles) decodes whole agent images against objdump.
 *
 *     tm_insn_t in[64];
 *     size_t n = 0;
 *     for (off = 0; off < len; off += in[n++].size)
 *         tm_thumb_decode(code + off, len - off, &in[n]);
 *     tm_block_timing_t t;
 *     tm_block_timing(TM_CORE_M4, in, n, &t);   // t.cycles: one pass, branch at the end not taken
 *
 * Timings: Cortex-M4 Technical Reference Manual (r0p1, ARM DDI 0439), "Instruction set
 * summary" and "Load/store timings", and the FPU chapter's instruction table. The Cortex-M7
 * table is a rougher model (see README.md). All figures assume zero-wait-state memory.
 */
#ifndef TM_THUMB_TIMING_H
#define TM_THUMB_TIMING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The timing table to use. */
typedef enum {
    TM_CORE_M4 = 0, /**< Cortex-M4 TRM table (single issue, 3-stage pipeline). */
    TM_CORE_M7 = 1  /**< Cortex-M7, rough: single cycle issue, dual issue of some pairs. */
} tm_core_t;

/** Timing classes. Append only (the tests print them by name). */
typedef enum {
    TM_IC_UNKNOWN = 0,     /**< not recognised: costs 1 cycle and is counted */
    TM_IC_ALU,             /**< data processing, shifts, extends, bit fields, SIMD add/sub */
    TM_IC_MUL,             /**< MUL, SMULxy, SMLAxy, SMLAD, SMMUL, SMULL, UMLAL, ... */
    TM_IC_MLA,             /**< MLA, MLS */
    TM_IC_DIV,             /**< SDIV, UDIV */
    TM_IC_LOAD,            /**< one register: LDR, LDRB, LDRH, LDRSB, LDRSH, LDREX */
    TM_IC_STORE,           /**< one register: STR, STRB, STRH, STREX */
    TM_IC_LOAD_DUAL,       /**< LDRD */
    TM_IC_STORE_DUAL,      /**< STRD */
    TM_IC_LOAD_MULTI,      /**< LDM, POP */
    TM_IC_STORE_MULTI,     /**< STM, PUSH */
    TM_IC_BRANCH,          /**< B, BL (direct, unconditional) */
    TM_IC_BRANCH_COND,     /**< B<cond>, CBZ, CBNZ */
    TM_IC_BRANCH_IND,      /**< BX, BLX (register) */
    TM_IC_TABLE_BRANCH,    /**< TBB, TBH */
    TM_IC_IT,              /**< IT */
    TM_IC_HINT,            /**< NOP, YIELD, WFE, WFI, SEV, PLD, PLI */
    TM_IC_BARRIER,         /**< DMB, DSB, ISB, CLREX */
    TM_IC_SYSTEM,          /**< MRS, MSR, CPS, SVC, BKPT, UDF */
    TM_IC_VFP_ALU,         /**< VADD, VSUB, VMUL, VNMUL, VABS, VNEG, VCMP, VCVT, VMOV (imm/reg) */
    TM_IC_VFP_MAC,         /**< VMLA, VMLS, VNMLA, VNMLS, VFMA, VFMS, VFNMA, VFNMS */
    TM_IC_VFP_DIV,         /**< VDIV, VSQRT */
    TM_IC_VFP_LOAD,        /**< VLDR */
    TM_IC_VFP_STORE,       /**< VSTR */
    TM_IC_VFP_LOAD_MULTI,  /**< VLDM, VPOP */
    TM_IC_VFP_STORE_MULTI, /**< VSTM, VPUSH */
    TM_IC_VFP_XFER,        /**< VMOV core <-> single, VMRS, VMSR */
    TM_IC_VFP_XFER2,       /**< VMOV two core registers <-> two singles or one double */
    TM_IC_COUNT
} tm_iclass_t;

/** One decoded instruction. */
typedef struct {
    uint8_t size;       /**< 2 or 4 bytes */
    uint8_t iclass;     /**< tm_iclass_t */
    uint8_t nregs;      /**< words moved by LDM/STM/PUSH/POP/VLDM/VSTM (0 otherwise) */
    uint8_t writes_pc;  /**< writes the PC (LDR pc, POP {pc}, MOV pc, ADD pc, BX, B, BL, ...) */
    uint8_t rt;         /**< destination of a single load; 0xFF when none */
    uint8_t writeback;  /**< a load/store that updates its base register */
    uint8_t literal;    /**< a PC-relative load (literal pool) */
    uint8_t dbl;        /**< VFP double precision (.F64 data processing, .64 transfers) */
    uint8_t it_len;     /**< IT: how many following instructions it makes conditional (1..4) */
    uint8_t has_target; /**< a direct branch: target = address + 4 + branch_offset */
    uint16_t addr_regs; /**< bit mask of the registers a load/store address reads */
    int32_t branch_offset;
} tm_insn_t;

/** How a block ends, for the run-time taken/not-taken resolution. */
typedef enum {
    TM_END_NONE = 0,   /**< no control transfer: the next block starts at the fall-through */
    TM_END_COND = 1,   /**< conditional: taken when the next block is not the fall-through */
    TM_END_ALWAYS = 2  /**< unconditional branch or PC write: always taken */
} tm_block_end_t;

/** Timing of one block, summed at translation time. */
typedef struct {
    uint32_t cycles;      /**< one pass, a branch at the end counted as not taken (no refill) */
    uint32_t slack_low;   /**< the estimate may be high by up to this (skipped IT instructions,
                               IT folding, divide early termination) */
    uint32_t slack_high;  /**< ... or low by up to this (divides, literal-pool contention,
                               barriers) */
    uint32_t unknown;     /**< instructions the decoder did not recognise */
    uint32_t fetch_words; /**< 32-bit fetches of the block's code (flash wait states) */
    uint8_t end;          /**< tm_block_end_t */
    uint8_t refill;       /**< P of the branch at the end when taken, before target alignment */
} tm_block_timing_t;

/** Decodes the instruction at code[0..avail). Returns its size (2 or 4), or 0 when fewer
 *  bytes are available than the encoding needs. Little-endian halfwords. */
size_t tm_thumb_decode(const uint8_t *code, size_t avail, tm_insn_t *out);

/** Sums the cycles of a block of n decoded instructions for core. */
void tm_block_timing(tm_core_t core, const tm_insn_t *insns, size_t n, tm_block_timing_t *out);

/** Extra refill cycle when a taken branch lands on a 32-bit instruction that is not word
 *  aligned (it spans two fetch words): 0 or 1. */
uint32_t tm_target_align_penalty(uint64_t target_vaddr, uint8_t first_insn_size);

/** Cycles the core spends entering an exception (stacking), counted when a block starts at
 *  a discontinuity that no branch explains. */
uint32_t tm_exception_entry_cycles(tm_core_t core);

/** Lower-case class name ("load", "vfp_mac", ...). */
const char *tm_iclass_name(tm_iclass_t c);

/** Model name and version recorded in the side channel, e.g. "cortex-m4-trm-r0p1/1". */
const char *tm_core_model_name(tm_core_t core);

#ifdef __cplusplus
}
#endif

#endif
