/* Thumb/Thumb-2 decoder and cycle tables of the cycle model; see tm_thumb_timing.h.
 * Encodings: ARMv7-M Architecture Reference Manual, chapter A5 (Thumb instruction set
 * encoding) and A6.4-A6.6 (floating-point). */
#include "tm_thumb_timing.h"

#include <string.h>

enum { REG_SP = 13, REG_PC = 15, NO_REG = 0xFF };

static unsigned popcount16(unsigned v)
{
    unsigned n = 0;
    for (v &= 0xFFFFu; v != 0; v &= v - 1u)
        ++n;
    return n;
}

static void set_class(tm_insn_t *in, tm_iclass_t c)
{
    in->iclass = (uint8_t)c;
}

static int32_t sign_extend(uint32_t v, unsigned bits)
{
    const uint32_t m = 1u << (bits - 1u);
    return (int32_t)((v ^ m) - m);
}

static void direct_target(tm_insn_t *in, int32_t offset)
{
    in->has_target = 1;
    in->branch_offset = offset;
}

/* A single load or store: its address registers, its loaded register, write-back. */
static void mem_single(tm_insn_t *in, tm_iclass_t c, unsigned rt, unsigned rn, int rm, int wb)
{
    set_class(in, c);
    in->addr_regs = (uint16_t)(1u << rn);
    if (rm >= 0)
        in->addr_regs |= (uint16_t)(1u << rm);
    in->writeback = (uint8_t)(wb != 0);
    in->literal = (uint8_t)(rn == REG_PC);
    if (c == TM_IC_LOAD) {
        in->rt = (uint8_t)rt;
        in->writes_pc = (uint8_t)(rt == REG_PC);
    }
}

static void decode16(unsigned hw, tm_insn_t *in)
{
    const unsigned top5 = hw >> 11;
    if (top5 <= 0x07u) {                      /* 00xxx: shift, add, sub, mov, cmp */
        set_class(in, TM_IC_ALU);
    } else if ((hw >> 10) == 0x10u) {         /* 010000: data processing */
        set_class(in, ((hw >> 6) & 0xFu) == 0xDu ? TM_IC_MUL : TM_IC_ALU);
    } else if ((hw >> 10) == 0x11u) {         /* 010001: special data, BX, BLX */
        const unsigned op = (hw >> 8) & 3u;
        const unsigned rd = (hw & 7u) | ((hw >> 4) & 8u);
        if (op == 3u) {
            set_class(in, TM_IC_BRANCH_IND);
            in->writes_pc = 1;
        } else {
            set_class(in, TM_IC_ALU);
            in->writes_pc = (uint8_t)(op != 1u && rd == REG_PC);   /* ADD/MOV pc */
        }
    } else if (top5 == 0x09u) {               /* 01001: LDR literal */
        mem_single(in, TM_IC_LOAD, (hw >> 8) & 7u, REG_PC, -1, 0);
    } else if ((hw >> 12) == 0x5u) {          /* 0101: load/store register offset */
        const unsigned opb = (hw >> 9) & 7u;
        mem_single(in, opb <= 2u ? TM_IC_STORE : TM_IC_LOAD, hw & 7u, (hw >> 3) & 7u,
                   (int)((hw >> 6) & 7u), 0);
    } else if ((hw >> 13) == 0x3u || (hw >> 12) == 0x8u) {   /* 011xx, 1000x: imm5 */
        mem_single(in, (hw >> 11) & 1u ? TM_IC_LOAD : TM_IC_STORE, hw & 7u, (hw >> 3) & 7u, -1, 0);
    } else if ((hw >> 12) == 0x9u) {          /* 1001x: SP relative */
        mem_single(in, (hw >> 11) & 1u ? TM_IC_LOAD : TM_IC_STORE, (hw >> 8) & 7u, REG_SP, -1, 0);
    } else if ((hw >> 12) == 0xAu) {          /* 1010x: ADR, ADD Rd, SP, #imm */
        set_class(in, TM_IC_ALU);
    } else if ((hw >> 12) == 0xBu) {          /* 1011: miscellaneous */
        const unsigned op = (hw >> 8) & 0xFu;
        switch (op) {
        case 0x0: case 0x2: case 0xA:         /* ADD/SUB SP; extend; REV */
            set_class(in, TM_IC_ALU);
            break;
        case 0x1: case 0x3: case 0x9: case 0xB:
            set_class(in, TM_IC_BRANCH_COND); /* CBZ, CBNZ */
            direct_target(in, (int32_t)((((hw >> 9) & 1u) << 6) | (((hw >> 3) & 0x1Fu) << 1)));
            break;
        case 0x4: case 0x5:                   /* PUSH */
            set_class(in, TM_IC_STORE_MULTI);
            in->nregs = (uint8_t)(popcount16(hw & 0xFFu) + ((hw >> 8) & 1u));
            break;
        case 0xC: case 0xD:                   /* POP */
            set_class(in, TM_IC_LOAD_MULTI);
            in->nregs = (uint8_t)(popcount16(hw & 0xFFu) + ((hw >> 8) & 1u));
            in->writes_pc = (uint8_t)((hw >> 8) & 1u);
            break;
        case 0x6:                             /* CPS */
            set_class(in, (hw & 0xFFE0u) == 0xB660u ? TM_IC_SYSTEM : TM_IC_UNKNOWN);
            break;
        case 0xE:                             /* BKPT (semihosting on the virtual boards) */
            set_class(in, TM_IC_SYSTEM);
            break;
        case 0xF:
            if ((hw & 0xFu) != 0u) {          /* IT: the mask's lowest set bit ends it */
                const unsigned mask = hw & 0xFu;
                set_class(in, TM_IC_IT);
                in->it_len = (uint8_t)(mask & 1u ? 4 : mask & 2u ? 3 : mask & 4u ? 2 : 1);
            } else {
                set_class(in, TM_IC_HINT);
            }
            break;
        default:
            set_class(in, TM_IC_UNKNOWN);
            break;
        }
    } else if (top5 == 0x18u) {               /* STM */
        set_class(in, TM_IC_STORE_MULTI);
        in->nregs = (uint8_t)popcount16(hw & 0xFFu);
        in->writeback = 1;
    } else if (top5 == 0x19u) {               /* LDM */
        set_class(in, TM_IC_LOAD_MULTI);
        in->nregs = (uint8_t)popcount16(hw & 0xFFu);
        in->writeback = (uint8_t)!((hw >> ((hw >> 8) & 7u)) & 1u);
    } else if ((hw >> 12) == 0xDu) {          /* B<cond>, UDF, SVC */
        const unsigned cond = (hw >> 8) & 0xFu;
        if (cond < 0xEu) {
            set_class(in, TM_IC_BRANCH_COND);
            in->writes_pc = 1;
            direct_target(in, sign_extend((hw & 0xFFu) << 1, 9));
        } else {
            set_class(in, TM_IC_SYSTEM);
        }
    } else if (top5 == 0x1Cu) {               /* B */
        set_class(in, TM_IC_BRANCH);
        in->writes_pc = 1;
        direct_target(in, sign_extend((hw & 0x7FFu) << 1, 12));
    } else {
        set_class(in, TM_IC_UNKNOWN);
    }
    if (in->iclass == TM_IC_BRANCH_COND)
        in->writes_pc = 1;
}

/* Floating-point (coprocessor 10/11) encodings, both the 0xEC.. and 0xFC.. spaces. */
static void decode_vfp(unsigned hw1, unsigned hw2, tm_insn_t *in)
{
    const unsigned op1 = (hw1 >> 4) & 0x3Fu;
    const unsigned sz = (hw2 >> 8) & 1u;
    if (((hw2 >> 9) & 7u) != 5u) {
        set_class(in, TM_IC_UNKNOWN);          /* other coprocessors */
        return;
    }
    if ((hw1 >> 12) == 0xFu) {
        /* FPv5 (Cortex-M7): VSEL, VMAXNM/VMINNM, VRINTA/N/P/M, VCVTA/N/P/M */
        in->dbl = (uint8_t)sz;
        set_class(in, (hw1 >> 8) == 0xFEu && ((hw2 >> 4) & 1u) == 0u ? TM_IC_VFP_ALU
                                                                     : TM_IC_UNKNOWN);
        return;
    }
    if ((op1 & 0x3Eu) == 0x04u) {              /* VMOV two core registers */
        set_class(in, TM_IC_VFP_XFER2);
        return;
    }
    if ((op1 & 0x20u) == 0u) {                 /* extension register load/store */
        const unsigned p = (hw1 >> 8) & 1u, w = (hw1 >> 5) & 1u, l = (hw1 >> 4) & 1u;
        const unsigned rn = hw1 & 0xFu;
        in->addr_regs = (uint16_t)(1u << rn);
        in->dbl = (uint8_t)sz;
        if ((op1 & 0x3Au) == 0u) {
            set_class(in, TM_IC_UNKNOWN);
        } else if (p == 1u && w == 0u) {       /* VLDR, VSTR */
            set_class(in, l ? TM_IC_VFP_LOAD : TM_IC_VFP_STORE);
            in->literal = (uint8_t)(rn == REG_PC);
        } else {                               /* VLDM, VSTM, VPUSH, VPOP: imm8 words */
            set_class(in, l ? TM_IC_VFP_LOAD_MULTI : TM_IC_VFP_STORE_MULTI);
            in->nregs = (uint8_t)(hw2 & 0xFFu);
            in->writeback = (uint8_t)w;
        }
        return;
    }
    if ((op1 & 0x30u) != 0x20u) {
        set_class(in, TM_IC_UNKNOWN);
        return;
    }
    if ((hw2 >> 4) & 1u) {                     /* VMOV core <-> single/scalar, VMRS, VMSR */
        set_class(in, TM_IC_VFP_XFER);
        return;
    }
    /* data processing: opc1 = bits 23, 21:20; opc2 = bits 19:16; opc3 = bits 7:6 */
    const unsigned opc1 = ((hw1 >> 5) & 4u) | ((hw1 >> 4) & 3u);
    const unsigned opc2 = hw1 & 0xFu;
    const unsigned opc3 = (hw2 >> 6) & 3u;
    in->dbl = (uint8_t)sz;
    switch (opc1) {
    case 0: case 1: case 5: case 6:            /* VMLA/VMLS, VNMLA/VNMLS, VFNMA/S, VFMA/S */
        set_class(in, TM_IC_VFP_MAC);
        break;
    case 2: case 3:                            /* VMUL/VNMUL, VADD/VSUB */
        set_class(in, TM_IC_VFP_ALU);
        break;
    case 4:                                    /* VDIV */
        set_class(in, TM_IC_VFP_DIV);
        break;
    default:                                   /* 7: other data processing */
        if ((opc3 & 1u) == 0u)
            set_class(in, TM_IC_VFP_ALU);      /* VMOV immediate */
        else if (opc2 == 1u && opc3 == 3u)
            set_class(in, TM_IC_VFP_DIV);      /* VSQRT */
        else if (opc2 == 6u || opc2 == 9u)
            set_class(in, TM_IC_UNKNOWN);      /* unallocated in ARMv7-M */
        else
            set_class(in, TM_IC_VFP_ALU);      /* VMOV reg, VABS, VNEG, VCMP, VCVT* */
        break;
    }
}

static void decode32(unsigned hw1, unsigned hw2, tm_insn_t *in)
{
    const unsigned op1 = (hw1 >> 11) & 3u;
    const unsigned op2 = (hw1 >> 4) & 0x7Fu;
    const unsigned rn = hw1 & 0xFu;
    const unsigned rt = (hw2 >> 12) & 0xFu;
    if (op1 == 1u) {
        if ((op2 & 0x64u) == 0x00u) {          /* load/store multiple */
            const unsigned opc = (hw1 >> 7) & 3u, l = (hw1 >> 4) & 1u;
            if (opc == 0u || opc == 3u) {      /* SRS, RFE: not in M profile */
                set_class(in, TM_IC_UNKNOWN);
                return;
            }
            set_class(in, l ? TM_IC_LOAD_MULTI : TM_IC_STORE_MULTI);
            in->nregs = (uint8_t)popcount16(hw2);
            in->writeback = (uint8_t)((hw1 >> 5) & 1u);
            in->writes_pc = (uint8_t)(l && (hw2 >> 15));
        } else if ((op2 & 0x64u) == 0x04u) {   /* dual, exclusive, table branch */
            const unsigned a = (hw1 >> 7) & 3u, b = (hw1 >> 4) & 3u, c = (hw2 >> 4) & 0xFu;
            if (a == 0u && b == 0u) {
                mem_single(in, TM_IC_STORE, rt, rn, -1, 0);        /* STREX */
            } else if (a == 0u && b == 1u) {
                mem_single(in, TM_IC_LOAD, rt, rn, -1, 0);         /* LDREX */
            } else if (((a & 2u) == 0u && b == 2u) || ((a & 2u) && (b & 1u) == 0u)) {
                set_class(in, TM_IC_STORE_DUAL);
                in->addr_regs = (uint16_t)(1u << rn);
                in->writeback = (uint8_t)((hw1 >> 5) & 1u);
            } else if (((a & 2u) == 0u && b == 3u) || ((a & 2u) && (b & 1u))) {
                set_class(in, TM_IC_LOAD_DUAL);
                in->addr_regs = (uint16_t)(1u << rn);
                in->writeback = (uint8_t)((hw1 >> 5) & 1u);
                in->literal = (uint8_t)(rn == REG_PC);
            } else if (a == 1u && b == 0u && (c == 4u || c == 5u)) {
                mem_single(in, TM_IC_STORE, rt, rn, -1, 0);        /* STREXB/H */
            } else if (a == 1u && b == 1u && (c == 0u || c == 1u)) {
                set_class(in, TM_IC_TABLE_BRANCH);                  /* TBB, TBH */
                in->writes_pc = 1;
            } else if (a == 1u && b == 1u && (c == 4u || c == 5u)) {
                mem_single(in, TM_IC_LOAD, rt, rn, -1, 0);         /* LDREXB/H */
            } else {
                set_class(in, TM_IC_UNKNOWN);
            }
        } else if ((op2 & 0x60u) == 0x20u) {   /* data processing (shifted register) */
            set_class(in, TM_IC_ALU);
        } else {                               /* coprocessor */
            decode_vfp(hw1, hw2, in);
        }
        return;
    }
    if (op1 == 2u) {
        if ((hw2 >> 15) == 0u) {               /* data processing (immediates) */
            set_class(in, TM_IC_ALU);
            return;
        }
        const unsigned opb = (hw2 >> 12) & 5u; /* bits 14, 12 */
        if (opb == 0u) {
            if ((op2 & 0x38u) != 0x38u) {      /* B<cond>.W */
                set_class(in, TM_IC_BRANCH_COND);
                in->writes_pc = 1;
                const uint32_t imm = (((hw1 >> 10) & 1u) << 20) | (((hw2 >> 11) & 1u) << 19) |
                                     (((hw2 >> 13) & 1u) << 18) | ((hw1 & 0x3Fu) << 12) |
                                     ((hw2 & 0x7FFu) << 1);   /* S:J2:J1:imm6:imm11:0 */
                direct_target(in, sign_extend(imm, 21));
            } else if (op2 == 0x3Au) {         /* NOP.W, WFI.W, ... */
                set_class(in, TM_IC_HINT);
            } else if (op2 == 0x3Bu) {         /* DSB, DMB, ISB, CLREX */
                set_class(in, TM_IC_BARRIER);
            } else if (op2 == 0x38u || op2 == 0x39u || op2 == 0x3Eu || op2 == 0x3Fu) {
                set_class(in, TM_IC_SYSTEM);   /* MSR, MRS */
            } else {
                set_class(in, TM_IC_UNKNOWN);
            }
        } else if (opb == 1u || opb == 5u) {   /* B.W, BL */
            const unsigned s = (hw1 >> 10) & 1u;
            const unsigned i1 = !(((hw2 >> 13) & 1u) ^ s), i2 = !(((hw2 >> 11) & 1u) ^ s);
            set_class(in, TM_IC_BRANCH);
            in->writes_pc = 1;
            const uint32_t imm = (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3FFu) << 12) |
                                 ((hw2 & 0x7FFu) << 1);   /* S:I1:I2:imm10:imm11:0 */
            direct_target(in, sign_extend(imm, 25));
        } else {
            set_class(in, op2 == 0x7Fu && ((hw2 >> 12) & 7u) == 2u ? TM_IC_SYSTEM /* UDF.W */
                                                                  : TM_IC_UNKNOWN);
        }
        return;
    }
    /* op1 == 3 */
    if ((op2 & 0x71u) == 0x00u || (op2 & 0x67u) == 0x01u || (op2 & 0x67u) == 0x03u ||
        (op2 & 0x67u) == 0x05u) {
        /* single load/store: bit 23 (hw1 bit 7) = 12-bit immediate form; else bit 11 of
         * hw2 selects the 8-bit immediate forms (P U W in hw2 bits 10:8), else register */
        const int load = (op2 & 1u) != 0u;
        const unsigned size = (op2 >> 1) & 3u;   /* 0 byte, 1 half, 2 word */
        int rm = -1, wb = 0;
        if (size == 3u) {
            set_class(in, TM_IC_UNKNOWN);
            return;
        }
        if (rn != REG_PC && !((hw1 >> 7) & 1u)) {
            if ((hw2 >> 11) & 1u)
                wb = (int)((hw2 >> 8) & 1u);     /* W; P=0 post-index always writes back */
            if (((hw2 >> 11) & 1u) && !((hw2 >> 10) & 1u))
                wb = 1;
            if (((hw2 >> 6) & 0x3Fu) == 0u && !((hw2 >> 11) & 1u))
                rm = (int)(hw2 & 0xFu);
        }
        if (load && rt == REG_PC && size != 2u) {
            set_class(in, TM_IC_HINT);           /* PLD, PLI */
            return;
        }
        mem_single(in, load ? TM_IC_LOAD : TM_IC_STORE, rt, rn, rm, wb);
        return;
    }
    if ((op2 & 0x70u) == 0x20u) {              /* data processing (register), SIMD, misc */
        set_class(in, TM_IC_ALU);
        return;
    }
    if ((op2 & 0x78u) == 0x30u) {              /* multiply, multiply-accumulate */
        const unsigned o = (hw1 >> 4) & 7u;
        const unsigned ra = rt;
        if (o == 0u && ((hw2 >> 4) & 3u) == 0u && ra == 0xFu)
            set_class(in, TM_IC_MUL);             /* MUL */
        else if (o == 0u)
            set_class(in, TM_IC_MLA);             /* MLA, MLS */
        else
            set_class(in, TM_IC_MUL);             /* SMLAxy, SMLAD, SMMLA, USADA8, ... */
        return;
    }
    if ((op2 & 0x78u) == 0x38u) {              /* long multiply, divide */
        const unsigned o = (hw1 >> 4) & 7u;
        set_class(in, (o == 1u || o == 3u) ? TM_IC_DIV : TM_IC_MUL);
        return;
    }
    if (op2 & 0x40u) {
        decode_vfp(hw1, hw2, in);
        return;
    }
    set_class(in, TM_IC_UNKNOWN);
}

size_t tm_thumb_decode(const uint8_t *code, size_t avail, tm_insn_t *out)
{
    memset(out, 0, sizeof *out);
    out->rt = NO_REG;
    if (avail < 2)
        return 0;
    const unsigned hw1 = (unsigned)code[0] | ((unsigned)code[1] << 8);
    if ((hw1 >> 11) >= 0x1Du) {
        if (avail < 4)
            return 0;
        const unsigned hw2 = (unsigned)code[2] | ((unsigned)code[3] << 8);
        out->size = 4;
        decode32(hw1, hw2, out);
    } else {
        out->size = 2;
        decode16(hw1, out);
    }
    return out->size;
}

/* ---- timing ----------------------------------------------------------------------------- */

/* Refill P (TRM: 1 to 3). A direct branch's target is computed in decode and fetched early
 * (P = 1); an indirect one (BX, POP/LDM/LDR pc, MOV/ADD pc, TBB/TBH) is known only at
 * execute (P = 2). A 32-bit target at a halfword address adds 1 (tm_target_align_penalty). */
enum { P_DIRECT = 1, P_INDIRECT = 2 };

/* Cortex-M4 cycles of one instruction, not counting a refill. prev: the instruction before
 * in the same block (NULL at the block start: a block starts after a branch, whose refill
 * breaks load pipelining). */
static uint32_t m4_cycles(const tm_insn_t *in, const tm_insn_t *prev, tm_block_timing_t *t)
{
    switch ((tm_iclass_t)in->iclass) {
    case TM_IC_MLA:
        return 2;
    case TM_IC_DIV:
        /* 2..12 with early termination on the operands' leading zeros/ones: the midpoint */
        t->slack_low += 5;
        t->slack_high += 5;
        return 7;
    case TM_IC_LOAD:
    case TM_IC_STORE: {
        /* Neighbouring single loads/stores pipeline their address and data phases: the
         * second takes one cycle. Not after a store (nothing pipelines after STR), not
         * after a base write-back, not when the address needs the previous load's result. */
        if (in->literal)
            t->slack_high += 1;   /* LDR [pc] may contend with instruction fetch */
        if (prev && prev->iclass == TM_IC_LOAD && !prev->writeback && !prev->writes_pc &&
            !(prev->rt != NO_REG && (in->addr_regs >> prev->rt) & 1u))
            return 1;
        return 2;
    }
    case TM_IC_LOAD_DUAL:
    case TM_IC_STORE_DUAL:
        return 3;                 /* 1 + N, N = 2 */
    case TM_IC_LOAD_MULTI:
    case TM_IC_STORE_MULTI:
    case TM_IC_VFP_LOAD_MULTI:
    case TM_IC_VFP_STORE_MULTI:
        return 1u + in->nregs;    /* 1 + N (N words: a D register is two) */
    case TM_IC_TABLE_BRANCH:
        return 2;                 /* 2 + P */
    case TM_IC_IT:
        t->slack_low += 1;        /* may fold into the preceding 16-bit instruction */
        return 1;
    case TM_IC_BARRIER:
        t->slack_high += 2;       /* 1 + B, B depends on outstanding memory traffic */
        return 1;
    case TM_IC_VFP_MAC:
        return 3;
    case TM_IC_VFP_DIV:
        return 14;
    case TM_IC_VFP_LOAD:
    case TM_IC_VFP_STORE:
        return in->dbl ? 3 : 2;
    case TM_IC_VFP_XFER2:
        return 2;
    default:                      /* ALU, MUL (all 1 on the M4), branches (1 + P), hints */
        return 1;
    }
}

/* Cortex-M7, rough: one issue slot per instruction, loads and MACs pipelined, 64-bit
 * load/store path, a branch predictor (a taken, predicted branch costs about one cycle). */
static uint32_t m7_cycles(const tm_insn_t *in, tm_block_timing_t *t)
{
    switch ((tm_iclass_t)in->iclass) {
    case TM_IC_DIV:
        t->slack_low += 5;
        t->slack_high += 5;
        return 7;
    case TM_IC_LOAD_MULTI:
    case TM_IC_STORE_MULTI:
    case TM_IC_VFP_LOAD_MULTI:
    case TM_IC_VFP_STORE_MULTI:
        return 1u + (in->nregs + 1u) / 2u;
    case TM_IC_TABLE_BRANCH:
        return 2;
    case TM_IC_VFP_DIV:
        return in->dbl ? 30 : 14;
    case TM_IC_BARRIER:
        t->slack_high += 4;
        return 1;
    default:
        return 1;
    }
}

/* Cortex-M7 dual issue: a second instruction issues with the first when they use different
 * pipelines (one memory access at most, one multiply at most, one FP data-processing at
 * most), neither is a multi-cycle or serialising instruction, and the second does not
 * address memory through the first's loaded register. Register dependencies between ALU
 * instructions are not checked (optimistic). */
static int m7_single_slot(const tm_insn_t *in)
{
    switch ((tm_iclass_t)in->iclass) {
    case TM_IC_ALU: case TM_IC_MUL: case TM_IC_MLA: case TM_IC_LOAD: case TM_IC_STORE:
    case TM_IC_VFP_ALU: case TM_IC_VFP_MAC: case TM_IC_VFP_LOAD: case TM_IC_VFP_STORE:
    case TM_IC_VFP_XFER: case TM_IC_HINT: case TM_IC_BRANCH: case TM_IC_BRANCH_COND:
        return !in->writes_pc || in->iclass == TM_IC_BRANCH || in->iclass == TM_IC_BRANCH_COND;
    default:
        return 0;
    }
}

static int m7_pairs(const tm_insn_t *a, const tm_insn_t *b)
{
    if (!m7_single_slot(a) || !m7_single_slot(b) || a->writes_pc)
        return 0;
    const int mem_a = a->iclass == TM_IC_LOAD || a->iclass == TM_IC_STORE ||
                      a->iclass == TM_IC_VFP_LOAD || a->iclass == TM_IC_VFP_STORE;
    const int mem_b = b->iclass == TM_IC_LOAD || b->iclass == TM_IC_STORE ||
                      b->iclass == TM_IC_VFP_LOAD || b->iclass == TM_IC_VFP_STORE;
    const int mul_a = a->iclass == TM_IC_MUL || a->iclass == TM_IC_MLA;
    const int mul_b = b->iclass == TM_IC_MUL || b->iclass == TM_IC_MLA;
    const int fp_a = a->iclass == TM_IC_VFP_ALU || a->iclass == TM_IC_VFP_MAC;
    const int fp_b = b->iclass == TM_IC_VFP_ALU || b->iclass == TM_IC_VFP_MAC;
    if ((mem_a && mem_b) || (mul_a && mul_b) || (fp_a && fp_b))
        return 0;
    if (a->rt != NO_REG && (b->addr_regs >> a->rt) & 1u)
        return 0;
    return 1;
}

static uint32_t refill_of(const tm_insn_t *in)
{
    if (in->iclass == TM_IC_BRANCH || in->iclass == TM_IC_BRANCH_COND)
        return P_DIRECT;
    return P_INDIRECT;
}

void tm_block_timing(tm_core_t core, const tm_insn_t *insns, size_t n, tm_block_timing_t *out)
{
    memset(out, 0, sizeof *out);
    unsigned it_left = 0;
    int paired = 0;   /* M7: the previous instruction already issued as a pair's second */
    uint32_t bytes = 0;
    for (size_t i = 0; i < n; ++i) {
        const tm_insn_t *in = &insns[i];
        const tm_insn_t *prev = i > 0 ? &insns[i - 1] : NULL;
        const int in_it = it_left > 0;
        if (it_left > 0)
            --it_left;
        bytes += in->size;
        if (in->iclass == TM_IC_UNKNOWN)
            ++out->unknown;
        uint32_t c;
        if (core == TM_CORE_M7) {
            c = m7_cycles(in, out);
            if (prev && !paired && c == 1u && m7_cycles(prev, &(tm_block_timing_t){0}) == 1u &&
                m7_pairs(prev, in) && !in_it) {
                c = 0;   /* issues with prev */
                paired = 1;
            } else {
                paired = 0;
            }
        } else {
            c = m4_cycles(in, prev, out);
        }
        /* A conditional instruction whose condition fails still takes a cycle: counted at
         * full cost, the estimate may be high by the rest. */
        if (in_it && c > 1u)
            out->slack_low += c - 1u;
        out->cycles += c;
        if (in->iclass == TM_IC_IT)
            it_left = in->it_len;
        if (i + 1 == n && in->writes_pc) {
            const int cond = in->iclass == TM_IC_BRANCH_COND || in_it;
            out->end = (uint8_t)(cond ? TM_END_COND : TM_END_ALWAYS);
            out->refill = (uint8_t)(core == TM_CORE_M7 ? 1u : refill_of(in));
        }
    }
    out->fetch_words = (bytes + 3u) / 4u;
}

uint32_t tm_target_align_penalty(uint64_t target_vaddr, uint8_t first_insn_size)
{
    return first_insn_size == 4u && (target_vaddr & 2u) ? 1u : 0u;
}

uint32_t tm_exception_entry_cycles(tm_core_t core)
{
    return core == TM_CORE_M7 ? 12u : 12u;   /* both TRMs: 12 cycles with zero wait states */
}

const char *tm_iclass_name(tm_iclass_t c)
{
    static const char *const names[TM_IC_COUNT] = {
        "unknown", "alu", "mul", "mla", "div", "load", "store", "load_dual", "store_dual",
        "load_multi", "store_multi", "branch", "branch_cond", "branch_ind", "table_branch", "it",
        "hint", "barrier", "system", "vfp_alu", "vfp_mac", "vfp_div", "vfp_load", "vfp_store",
        "vfp_load_multi", "vfp_store_multi", "vfp_xfer", "vfp_xfer2"};
    return (unsigned)c < TM_IC_COUNT ? names[c] : "invalid";
}

const char *tm_core_model_name(tm_core_t core)
{
    return core == TM_CORE_M7 ? "cortex-m7-rough/1" : "cortex-m4-trm-r0p1/1";
}
