/*
 * bench_nn_dispatch.h — tm_nn.h's kernel names for the kernel-bench image, bound at run time.
 *
 * The agent images bind tm_nn_<op>() to one kernel set when they are built
 * (nn/src/tm_nn_select.c). kernel-bench links bench_nn_dispatch.c instead, so that one image
 * can run a model package through the device interpreter (tm_model_invoke) with the
 * reference kernels and then with the optimized ones:
 *     tm_bench_nn_optimized = 0;   ... tm_model_invoke(...) runs tm_nn_ref_*()
 *     tm_bench_nn_optimized = 1;   ... tm_model_invoke(...) runs tm_nn_opt_*()
 * Every _get_buffer_size() answers the larger of the two sets' sizes, so the arena
 * tm_model_load() asks for serves both.
 *
 * Recording: with tm_bench_nn_record pointing at a tm_bench_nn_trace_t, every kernel call is
 * also stored with copies of its arguments (the pointers are the interpreter's: package
 * constants and arena offsets, valid while the same package and arena are used).
 * tm_bench_nn_replay() then calls the same kernels with the same arguments directly, which
 * is the bare kernel sequence the interpreter's overhead is measured against.
 */
#ifndef BENCH_NN_DISPATCH_H
#define BENCH_NN_DISPATCH_H

#include <stdint.h>

#include "tm_nn.h"

/** 0: tm_nn_<op>() runs tm_nn_ref_<op>(); otherwise tm_nn_opt_<op>(). */
extern volatile int tm_bench_nn_optimized;

typedef enum {
    TM_BENCH_CALL_CONV,
    TM_BENCH_CALL_DW,
    TM_BENCH_CALL_FC,
    TM_BENCH_CALL_MAXPOOL,
    TM_BENCH_CALL_AVGPOOL,
    TM_BENCH_CALL_ADD,
    TM_BENCH_CALL_SOFTMAX
} tm_bench_call_kind_t;

/** One kernel call with its arguments by value (pointers stay the caller's). */
typedef struct {
    tm_bench_call_kind_t kind;
    union {
        tm_nn_conv_params_t conv;
        tm_nn_fc_params_t fc;
        tm_nn_pool_params_t pool;
        tm_nn_add_params_t add;
        tm_nn_softmax_params_t softmax;
    } p;
    tm_nn_context_t ctx;
    tm_nn_per_channel_quant_t quant;
    tm_nn_dims_t in, filter, out;
    const int8_t *input, *input2, *weights;
    const int32_t *bias;
    int8_t *output;
    int32_t size, rows, row_size; /* add: size; softmax: rows x row_size */
} tm_bench_nn_call_t;

#define TM_BENCH_NN_TRACE_MAX 64

typedef struct {
    tm_bench_nn_call_t calls[TM_BENCH_NN_TRACE_MAX];
    int count;
    int overflow; /**< more calls than TM_BENCH_NN_TRACE_MAX: the trace is incomplete */
} tm_bench_nn_trace_t;

/** Where kernel calls are recorded; NULL (the default) records nothing. */
extern tm_bench_nn_trace_t *tm_bench_nn_record;

/** Runs the recorded calls in order with tm_nn_ref_*() (optimized == 0) or tm_nn_opt_*();
 *  returns the first kernel status that is not TM_NN_OK. */
tm_nn_status_t tm_bench_nn_replay(const tm_bench_nn_trace_t *trace, int optimized);

#endif /* BENCH_NN_DISPATCH_H */
