/*
 * cycles_bench.S — microbenchmarks of the cycle model (firmware-agent/qemu-plugin), each with
 * its Cortex-M4 cycle count worked out by hand from the Cortex-M4 TRM (r0p1) tables and the
 * model's documented choices (qemu-plugin/README.md):
 *   ALU, MUL, SMLAD, SMLAL, UMULL 1; MLA, MLS 2; SDIV/UDIV 7 (2..12: +-5); single LDR/STR 2,
 *   1 when it follows a single LDR without write-back whose result it does not address with;
 *   LDM/STM/PUSH/POP 1+N; LDRD/STRD 3; B, BL 1+P with P = 1 (direct); BX, POP {pc}, LDR pc
 *   1+P with P = 2 (indirect); TBB 2+P (P = 2); conditional branch 1, +P when taken; IT 1
 *   (may fold: -1); a skipped conditional instruction is charged in full (may be cost-1
 *   high); VADD/VMUL 1, VMLA/VFMA 3, VDIV/VSQRT 14, VLDR/VSTR 2, VPUSH/VPOP 1+N, VMOV 1;
 *   a 32-bit branch target at a halfword address +1.
 *
 * Each benchmark sits between two calls of tm_cycle_mark_user; the plugin writes a mark line
 * at each marker's entry. An interval therefore also holds the fixed marker overhead:
 *   marker body "bx lr" 1 + P(2) = 3, and the next "bl tm_cycle_mark_user" 1 + P(1) = 2:
 *   5 cycles, 2 instructions. Every benchmark's code is a multiple of 4 bytes, so every BL
 *   stays word aligned and every return lands on an aligned 32-bit BL or a 16-bit
 *   instruction (no alignment penalty); test_cycles.py checks the alignment in the ELF.
 *
 * test_cycles.py reads the "@ BENCH" lines below in order: name, expected cycles and
 * instructions of the interval, and, where the model is not exact, the low/high bounds.
 */
    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .thumb

    .section .vectors, "a"
    .word 0x20010000            @ initial SP
    .word reset + 1

    .bss
    .balign 8
data:
    .space 256

    .text
    .macro MARK
    bl tm_cycle_mark_user
    .endm

    .thumb_func
    .global reset
reset:
    ldr r0, =0xE000ED88         @ CPACR: CP10/CP11 full access (FPU on)
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
    ldr r0, =data
    str r0, [r0]                @ data[0] = &data (for the dependent load)
    movs r1, #7
    str r1, [r0, #4]
    movs r1, #9
    str r1, [r0, #8]
    movs r2, #3
    .balign 4
    MARK

@ BENCH empty cycles=5 insns=2
@   the marker overhead alone: bx lr 1+2, bl 1+1
    MARK

@ BENCH alu cycles=12 insns=9
@   7 single-cycle instructions (6 ALU + nop) + 5
    adds r0, r0, #0
    eors r3, r3
    lsls r4, r4, #2
    add.w r5, r6, r7, lsl #3
    mov r8, r9
    subs r1, #1
    nop
    MARK

@ BENCH ldr_pipelined cycles=10 insns=6
@   4 independent loads back to back: 2 + 1 + 1 + 1 = 5, + 5
    ldr r1, [r0]
    ldr r2, [r0, #4]
    ldr r3, [r0, #8]
    ldr r4, [r0, #12]
    MARK

@ BENCH ldr_dependent_str cycles=17 insns=10
@   ldr r1 2; ldr via r1 (needs the previous result) 2; ldr 1 (pipelined); str after ldr 1;
@   ldr after str 2 (nothing pipelines after a store); str after ldr 1; str after str 2;
@   nop 1: 12, + 5
    ldr r1, [r0]
    ldr r6, [r1]
    ldr r3, [r0, #4]
    str r3, [r0, #16]
    ldr r4, [r0, #8]
    str r4, [r0, #20]
    str r4, [r0, #24]
    nop
    MARK

@ BENCH ldr_writeback cycles=14 insns=8
@   ldr [r0,#4]! 2; ldr after a write-back 2; subs 1; ldr.w post-index 2; subs 1; nop 1: 9, + 5
    ldr r1, [r0, #4]!
    ldr r2, [r0]
    subs r0, #4
    ldr.w r3, [r0], #4
    subs r0, #4
    nop
    MARK

@ BENCH multiple_dual cycles=25 insns=7
@   push 4 regs 1+4; pop 4 regs 1+4; ldm.w 3 regs 1+3; strd 3; ldrd 3: 20, + 5
    push {r4-r7}
    pop {r4-r7}
    ldm.w r0, {r1, r6, r7}
    strd r1, r2, [r0, #32]
    ldrd r1, r6, [r0, #32]
    MARK

@ BENCH multiply cycles=15 insns=10
@   muls 1; mla 2; mls 2; smlad 1; smlal 1; umull 1; smulbb 1; nop 1: 10, + 5
    muls r1, r2, r1
    mla r3, r1, r2, r3
    mls r4, r1, r2, r3
    smlad r5, r1, r2, r5
    smlal r6, r7, r1, r2
    umull r6, r7, r1, r2
    smulbb r8, r1, r2
    nop
    MARK

@ BENCH divide cycles=19 insns=4 low=9 high=29
@   sdiv 7 (2..12), udiv 7 (2..12): 14 +- 10, + 5
    sdiv r3, r1, r2
    udiv r4, r1, r2
    MARK

@ BENCH loop_bne cycles=36 insns=24
@   movs 1; 10 x (subs 1 + bne 1); 9 taken: +P(1) each; the last falls through; nop 1:
@   1 + 20 + 9 + 1 = 31, + 5. Instructions: 1 + 20 + 1 = 22, + 2
    movs r1, #10
1:  subs r1, #1
    bne 1b
    nop
    MARK

@ BENCH cbz_b cycles=13 insns=8
@   movs 1; cbz taken 1+1; movs 1; cbz not taken 1; b 1+1; nop 1: 8, + 5 (6 + 2 instructions)
    movs r1, #0
    cbz r1, 1f
    nop
1:  movs r1, #1
    cbz r1, 2f
    b.n 3f
2:  nop
3:  nop
    MARK

@ BENCH it_block cycles=14 insns=10 low=12 high=14
@   movs 1; cmp 1; ite 1 (may fold: -1); moveq 1; ldrne 2 (its condition fails: really 1,
@   -1); 3 nops 3: 9, + 5. Bounds 12..14
    movs r1, #1
    cmp r1, #1
    ite eq
    moveq r2, #3
    ldrne r3, [r0]
    nop
    nop
    nop
    MARK

@ BENCH vfp cycles=59 insns=15
@   vldr 2; vldr 2; vadd 1; vmul 1; vmla 3; vfma 3; vdiv 14; vsqrt 14; vstr 2; vmov r<-s 1;
@   vmov s<-r 1; vpush 4 regs 1+4; vpop 1+4: 54, + 5
    vldr s0, [r0]
    vldr s1, [r0, #4]
    vadd.f32 s2, s0, s1
    vmul.f32 s3, s0, s1
    vmla.f32 s4, s0, s1
    vfma.f32 s5, s0, s1
    vdiv.f32 s6, s0, s1
    vsqrt.f32 s7, s0
    vstr s2, [r0, #40]
    vmov r1, s3
    vmov s8, r1
    vpush {s16-s19}
    vpop {s16-s19}
    MARK

@ BENCH tbb cycles=11 insns=5
@   movs 1; tbb 2+P(2) (to case 1, a 16-bit nop); nop 1: 6, + 5
    movs r1, #1
    tbb [pc, r1]
2:  .byte (3f - 2b) / 2
    .byte (4f - 2b) / 2
3:  nop
4:  nop
    MARK

@ BENCH ldr_literal cycles=8 insns=4 low=8 high=9
@   ldr from the literal pool 2 (may contend with fetch: +1); ldr [r0] pipelined 1: 3, + 5
    ldr r1, =0x12345678
    ldr r2, [r0]
    MARK

@ BENCH call_bx cycles=10 insns=4
@   bl 1+P(1); leaf "bx lr" 1+P(2): 5, + 5
    bl leaf
    MARK

@ BENCH call_pop_pc cycles=13 insns=5
@   bl 1+1; push {lr} 1+1; pop {pc} 1+1+P(2): 8, + 5
    bl nonleaf
    MARK

@ TAIL cycles=7 insns=4 high=8
@   after the last mark: its bx lr 1+2; movs 1; ldr literal 2 (+1); bkpt (semihosting exit) 1
    movs r0, #0x18              @ SYS_EXIT
    ldr r1, =0x20026            @ ADP_Stopped_ApplicationExit
    bkpt 0xab
1:  b 1b

    .balign 4
    .thumb_func
    .global tm_cycle_mark_user
tm_cycle_mark_user:
    bx lr

    .thumb_func
leaf:
    bx lr

    .thumb_func
nonleaf:
    push {lr}
    pop {pc}

    .ltorg
