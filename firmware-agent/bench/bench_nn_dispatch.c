/*
 * bench_nn_dispatch.c — tm_nn.h's names for kernel-bench, forwarded at run time to the
 * reference or the optimized kernels (bench_nn_dispatch.h). Linked into the bench image in
 * place of nn/src/tm_nn_select.c; per call it costs a flag test and a record-pointer test
 * more than that file's single branch.
 */
#include "bench_nn_dispatch.h"

#include <string.h>

#include "tm_nn_variants.h"

volatile int tm_bench_nn_optimized;
tm_bench_nn_trace_t *tm_bench_nn_record;

#define PICK(op) (tm_bench_nn_optimized ? tm_nn_opt_##op : tm_nn_ref_##op)

static int32_t larger(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

/* A zeroed slot of the trace, or NULL when not recording or full. */
static tm_bench_nn_call_t *record(tm_bench_call_kind_t kind)
{
    tm_bench_nn_trace_t *t = tm_bench_nn_record;
    if (t == NULL) {
        return NULL;
    }
    if (t->count >= TM_BENCH_NN_TRACE_MAX) {
        t->overflow = 1;
        return NULL;
    }
    tm_bench_nn_call_t *c = &t->calls[t->count++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    return c;
}

static void record_weighted(tm_bench_call_kind_t kind, const tm_nn_context_t *ctx,
                            const tm_nn_per_channel_quant_t *quant, const tm_nn_dims_t *in,
                            const int8_t *input, const tm_nn_dims_t *filter, const int8_t *weights,
                            const int32_t *bias, const tm_nn_dims_t *out, int8_t *output,
                            const void *params, size_t params_size)
{
    tm_bench_nn_call_t *c = record(kind);
    if (c == NULL) {
        return;
    }
    memcpy(&c->p, params, params_size);
    c->ctx = *ctx;
    c->quant = *quant;
    c->in = *in;
    c->filter = *filter;
    c->out = *out;
    c->input = input;
    c->weights = weights;
    c->bias = bias;
    c->output = output;
}

int tm_nn_optimized(void)
{
    return tm_bench_nn_optimized != 0;
}

int32_t tm_nn_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                        const tm_nn_dims_t *filter_dims)
{
    return larger(tm_nn_ref_conv2d_s8_get_buffer_size(input_dims, filter_dims),
                  tm_nn_opt_conv2d_s8_get_buffer_size(input_dims, filter_dims));
}

tm_nn_status_t tm_nn_conv2d_s8(const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,
                               const tm_nn_per_channel_quant_t *quant,
                               const tm_nn_dims_t *input_dims, const int8_t *input,
                               const tm_nn_dims_t *filter_dims, const int8_t *filter,
                               const int32_t *bias, const tm_nn_dims_t *output_dims, int8_t *output)
{
    if (tm_bench_nn_record != NULL) {
        record_weighted(TM_BENCH_CALL_CONV, ctx, quant, input_dims, input, filter_dims, filter,
                        bias, output_dims, output, params, sizeof *params);
    }
    return PICK(conv2d_s8)(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                           output_dims, output);
}

int32_t tm_nn_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                                  const tm_nn_dims_t *filter_dims)
{
    return larger(tm_nn_ref_depthwise_conv2d_s8_get_buffer_size(input_dims, filter_dims),
                  tm_nn_opt_depthwise_conv2d_s8_get_buffer_size(input_dims, filter_dims));
}

tm_nn_status_t tm_nn_depthwise_conv2d_s8(const tm_nn_context_t *ctx,
                                         const tm_nn_conv_params_t *params,
                                         const tm_nn_per_channel_quant_t *quant,
                                         const tm_nn_dims_t *input_dims, const int8_t *input,
                                         const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const tm_nn_dims_t *output_dims,
                                         int8_t *output)
{
    if (tm_bench_nn_record != NULL) {
        record_weighted(TM_BENCH_CALL_DW, ctx, quant, input_dims, input, filter_dims, filter, bias,
                        output_dims, output, params, sizeof *params);
    }
    return PICK(depthwise_conv2d_s8)(ctx, params, quant, input_dims, input, filter_dims, filter,
                                     bias, output_dims, output);
}

int32_t tm_nn_fully_connected_s8_get_buffer_size(const tm_nn_dims_t *filter_dims)
{
    return larger(tm_nn_ref_fully_connected_s8_get_buffer_size(filter_dims),
                  tm_nn_opt_fully_connected_s8_get_buffer_size(filter_dims));
}

tm_nn_status_t tm_nn_fully_connected_s8(const tm_nn_context_t *ctx, const tm_nn_fc_params_t *params,
                                        const tm_nn_per_channel_quant_t *quant,
                                        const tm_nn_dims_t *input_dims, const int8_t *input,
                                        const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const tm_nn_dims_t *output_dims,
                                        int8_t *output)
{
    if (tm_bench_nn_record != NULL) {
        record_weighted(TM_BENCH_CALL_FC, ctx, quant, input_dims, input, filter_dims, filter, bias,
                        output_dims, output, params, sizeof *params);
    }
    return PICK(fully_connected_s8)(ctx, params, quant, input_dims, input, filter_dims, filter,
                                    bias, output_dims, output);
}

tm_nn_status_t tm_nn_max_pool_s8(const tm_nn_pool_params_t *params, const tm_nn_dims_t *input_dims,
                                 const int8_t *input, const tm_nn_dims_t *output_dims,
                                 int8_t *output)
{
    tm_bench_nn_call_t *c = tm_bench_nn_record != NULL ? record(TM_BENCH_CALL_MAXPOOL) : NULL;
    if (c != NULL) {
        c->p.pool = *params;
        c->in = *input_dims;
        c->out = *output_dims;
        c->input = input;
        c->output = output;
    }
    return PICK(max_pool_s8)(params, input_dims, input, output_dims, output);
}

int32_t tm_nn_avg_pool_s8_get_buffer_size(const tm_nn_dims_t *output_dims)
{
    return larger(tm_nn_ref_avg_pool_s8_get_buffer_size(output_dims),
                  tm_nn_opt_avg_pool_s8_get_buffer_size(output_dims));
}

tm_nn_status_t tm_nn_avg_pool_s8(const tm_nn_context_t *ctx, const tm_nn_pool_params_t *params,
                                 const tm_nn_dims_t *input_dims, const int8_t *input,
                                 const tm_nn_dims_t *output_dims, int8_t *output)
{
    tm_bench_nn_call_t *c = tm_bench_nn_record != NULL ? record(TM_BENCH_CALL_AVGPOOL) : NULL;
    if (c != NULL) {
        c->p.pool = *params;
        c->ctx = *ctx;
        c->in = *input_dims;
        c->out = *output_dims;
        c->input = input;
        c->output = output;
    }
    return PICK(avg_pool_s8)(ctx, params, input_dims, input, output_dims, output);
}

tm_nn_status_t tm_nn_add_s8(const tm_nn_add_params_t *params, const int8_t *input1,
                            const int8_t *input2, int8_t *output, int32_t size)
{
    tm_bench_nn_call_t *c = tm_bench_nn_record != NULL ? record(TM_BENCH_CALL_ADD) : NULL;
    if (c != NULL) {
        c->p.add = *params;
        c->input = input1;
        c->input2 = input2;
        c->output = output;
        c->size = size;
    }
    return PICK(add_s8)(params, input1, input2, output, size);
}

tm_nn_status_t tm_nn_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                int32_t rows, int32_t row_size, int8_t *output)
{
    tm_bench_nn_call_t *c = tm_bench_nn_record != NULL ? record(TM_BENCH_CALL_SOFTMAX) : NULL;
    if (c != NULL) {
        c->p.softmax = *params;
        c->input = input;
        c->output = output;
        c->rows = rows;
        c->row_size = row_size;
    }
    return PICK(softmax_s8)(params, input, rows, row_size, output);
}

/* One recorded call with the chosen set, named directly (no flag, no record test): what a
 * hand-written kernel sequence costs. */
static tm_nn_status_t replay_one(const tm_bench_nn_call_t *c, int optimized)
{
    switch (c->kind) {
    case TM_BENCH_CALL_CONV:
        return (optimized ? tm_nn_opt_conv2d_s8 : tm_nn_ref_conv2d_s8)(
            &c->ctx, &c->p.conv, &c->quant, &c->in, c->input, &c->filter, c->weights, c->bias,
            &c->out, c->output);
    case TM_BENCH_CALL_DW:
        return (optimized ? tm_nn_opt_depthwise_conv2d_s8 : tm_nn_ref_depthwise_conv2d_s8)(
            &c->ctx, &c->p.conv, &c->quant, &c->in, c->input, &c->filter, c->weights, c->bias,
            &c->out, c->output);
    case TM_BENCH_CALL_FC:
        return (optimized ? tm_nn_opt_fully_connected_s8 : tm_nn_ref_fully_connected_s8)(
            &c->ctx, &c->p.fc, &c->quant, &c->in, c->input, &c->filter, c->weights, c->bias,
            &c->out, c->output);
    case TM_BENCH_CALL_MAXPOOL:
        return (optimized ? tm_nn_opt_max_pool_s8 : tm_nn_ref_max_pool_s8)(
            &c->p.pool, &c->in, c->input, &c->out, c->output);
    case TM_BENCH_CALL_AVGPOOL:
        return (optimized ? tm_nn_opt_avg_pool_s8 : tm_nn_ref_avg_pool_s8)(
            &c->ctx, &c->p.pool, &c->in, c->input, &c->out, c->output);
    case TM_BENCH_CALL_ADD:
        return (optimized ? tm_nn_opt_add_s8 : tm_nn_ref_add_s8)(&c->p.add, c->input, c->input2,
                                                                 c->output, c->size);
    case TM_BENCH_CALL_SOFTMAX:
        return (optimized ? tm_nn_opt_softmax_s8 : tm_nn_ref_softmax_s8)(
            &c->p.softmax, c->input, c->rows, c->row_size, c->output);
    }
    return TM_NN_ARG_ERROR;
}

tm_nn_status_t tm_bench_nn_replay(const tm_bench_nn_trace_t *trace, int optimized)
{
    for (int i = 0; i < trace->count; ++i) {
        const tm_nn_status_t s = replay_one(&trace->calls[i], optimized);
        if (s != TM_NN_OK) {
            return s;
        }
    }
    return TM_NN_OK;
}
