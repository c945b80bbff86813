/*
 * model_rows.h — kernel-bench's whole-model rows for the trainer's model packages.
 *
 * Each package in firmware-agent/bench/models/ (made by models/regenerate.sh with the real
 * trainer, embedded into the image at build time by model_rows.cmake) is loaded with
 * tm_model_load() and run with tm_model_invoke() on its example input, once with the
 * reference kernels and once with the optimized ones (bench_nn_dispatch.h), then the same
 * kernel calls are replayed without the interpreter. Usage from kernel_bench.c's main():
 *     status |= tm_bench_model_rows(print_row, &all_same);
 */
#ifndef BENCH_MODEL_ROWS_H
#define BENCH_MODEL_ROWS_H

#include <stdint.h>

#include "bench_marks.h"

/** One embedded package with its example input and the host int8 reference's output
 *  (model::Int8Executor at export). Generated: bench_models.c in the build tree. */
typedef struct {
    const char *name; /**< file stem in models/, e.g. "kws-dscnn" */
    const uint8_t *package;
    uint32_t package_bytes;
    const uint8_t *input;
    uint32_t input_bytes;
    const uint8_t *expected;
    uint32_t expected_bytes;
} tm_bench_model_t;

extern const tm_bench_model_t tm_bench_models[];
extern const int tm_bench_model_count;

/** kernel_bench.c's table row printer: name, MACs, instructions per run with each kernel set
 *  (with their cycle-model marks, bench_marks.h), and whether both sets wrote the same bytes. */
typedef void (*tm_bench_print_row_fn)(const char *name, int64_t macs, const tm_bench_count_t *ref,
                                      const tm_bench_count_t *opt, int same);

/** Prints two rows per package (interpreter, kernels alone) and, after them, one line per
 *  package with the interpreter's overhead and the comparison with the host reference.
 *  *all_same is cleared when the two kernel sets disagree. Returns 0 when every package
 *  loaded, ran and matched the host reference, and the replay matched the interpreter. */
int tm_bench_model_rows(tm_bench_print_row_fn print_row, int *all_same);

#endif /* BENCH_MODEL_ROWS_H */
