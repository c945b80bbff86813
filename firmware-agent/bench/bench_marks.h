/*
 * bench_marks.h — kernel-bench's measured intervals and the cycle model's marks.
 *
 * Every TIMER0 read of the benchmark first calls tm_cycle_mark_user(). Under the cycle-model
 * plugin (firmware-agent/qemu-plugin) each call appends a "mark kind=user" line with the
 * cumulative estimated cycles and instructions, so the host (kernel_bench_cycles.py) can
 * compute the estimated cycles of exactly the loops the guest timed. After each table row
 * the guest prints a "#cycles" line naming those marks (its recipe); without the plugin the
 * marks cost a call and a return and the recipe lines are the only difference.
 *
 *     #cycles ref <m0> <m1> <b0> <b1> <reps> opt <m0> <m1> <b0> <b1> <reps>
 *
 * m0/m1: the measured loop's user marks (0 = the image's first user mark); b0/b1: the
 * subtracted loop's marks, "-" when nothing is subtracted; per run = (m1 - m0 - (b1 - b0) +
 * reps / 2) / reps, the guest's own formula for its instruction counts.
 */
#ifndef BENCH_MARKS_H
#define BENCH_MARKS_H

#include <stdint.h>

#define TM_BENCH_NO_MARK 0xFFFFFFFFu

/** One table cell: instructions per run and how to get its estimated cycles. */
typedef struct {
    uint64_t instr;   /**< guest count per run (TIMER0, 40 per tick), overhead subtracted */
    uint32_t mark[2]; /**< user marks at the measured loop's two TIMER0 reads */
    uint32_t base[2]; /**< the subtracted loop's marks, TM_BENCH_NO_MARK when none */
    int32_t reps;
} tm_bench_count_t;

/** The cycle model's marker (noinline; the plugin finds it by name). */
void tm_cycle_mark_user(void);

/** Marks, then reads TIMER0 (up-counting, 25 MHz): *mark receives the mark's number. */
uint32_t tm_bench_ticks(uint32_t *mark);

/** c (reps runs, total instructions in c.instr) per run, with base's loop subtracted when
 *  base is not NULL. */
tm_bench_count_t tm_bench_per_run(tm_bench_count_t c, const tm_bench_count_t *base);

#endif /* BENCH_MARKS_H */
