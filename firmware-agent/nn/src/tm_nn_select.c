/*
 * tm_nn_select.c — tm_nn.h's kernel names, bound at build time to the reference or the
 * optimized set (tm_nn_variants.h says how the choice is made). A tail call each: the
 * compiler turns every forwarder into one branch.
 */
#include "tm_nn_internal.h"

#ifndef TM_NN_OPTIMIZED
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TM_NN_OPTIMIZED 1
#else
#define TM_NN_OPTIMIZED 0
#endif
#endif

#if TM_NN_OPTIMIZED
#define TM_NN_PICK(op) tm_nn_opt_##op
#else
#define TM_NN_PICK(op) tm_nn_ref_##op
#endif

int tm_nn_optimized(void)
{
    return TM_NN_OPTIMIZED;
}

int32_t tm_nn_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                        const tm_nn_dims_t *filter_dims)
{
    return TM_NN_PICK(conv2d_s8_get_buffer_size)(input_dims, filter_dims);
}

tm_nn_status_t tm_nn_conv2d_s8(const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,
                               const tm_nn_per_channel_quant_t *quant,
                               const tm_nn_dims_t *input_dims, const int8_t *input,
                               const tm_nn_dims_t *filter_dims, const int8_t *filter,
                               const int32_t *bias, const tm_nn_dims_t *output_dims, int8_t *output)
{
    return TM_NN_PICK(conv2d_s8)(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                 output_dims, output);
}

int32_t tm_nn_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                                  const tm_nn_dims_t *filter_dims)
{
    return TM_NN_PICK(depthwise_conv2d_s8_get_buffer_size)(input_dims, filter_dims);
}

tm_nn_status_t tm_nn_depthwise_conv2d_s8(const tm_nn_context_t *ctx,
                                         const tm_nn_conv_params_t *params,
                                         const tm_nn_per_channel_quant_t *quant,
                                         const tm_nn_dims_t *input_dims, const int8_t *input,
                                         const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const tm_nn_dims_t *output_dims,
                                         int8_t *output)
{
    return TM_NN_PICK(depthwise_conv2d_s8)(ctx, params, quant, input_dims, input, filter_dims,
                                           filter, bias, output_dims, output);
}

int32_t tm_nn_fully_connected_s8_get_buffer_size(const tm_nn_dims_t *filter_dims)
{
    return TM_NN_PICK(fully_connected_s8_get_buffer_size)(filter_dims);
}

tm_nn_status_t tm_nn_fully_connected_s8(const tm_nn_context_t *ctx, const tm_nn_fc_params_t *params,
                                        const tm_nn_per_channel_quant_t *quant,
                                        const tm_nn_dims_t *input_dims, const int8_t *input,
                                        const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const tm_nn_dims_t *output_dims,
                                        int8_t *output)
{
    return TM_NN_PICK(fully_connected_s8)(ctx, params, quant, input_dims, input, filter_dims,
                                          filter, bias, output_dims, output);
}

tm_nn_status_t tm_nn_max_pool_s8(const tm_nn_pool_params_t *params, const tm_nn_dims_t *input_dims,
                                 const int8_t *input, const tm_nn_dims_t *output_dims,
                                 int8_t *output)
{
    return TM_NN_PICK(max_pool_s8)(params, input_dims, input, output_dims, output);
}

int32_t tm_nn_avg_pool_s8_get_buffer_size(const tm_nn_dims_t *output_dims)
{
    return TM_NN_PICK(avg_pool_s8_get_buffer_size)(output_dims);
}

tm_nn_status_t tm_nn_avg_pool_s8(const tm_nn_context_t *ctx, const tm_nn_pool_params_t *params,
                                 const tm_nn_dims_t *input_dims, const int8_t *input,
                                 const tm_nn_dims_t *output_dims, int8_t *output)
{
    return TM_NN_PICK(avg_pool_s8)(ctx, params, input_dims, input, output_dims, output);
}

tm_nn_status_t tm_nn_add_s8(const tm_nn_add_params_t *params, const int8_t *input1,
                            const int8_t *input2, int8_t *output, int32_t size)
{
    return TM_NN_PICK(add_s8)(params, input1, input2, output, size);
}

tm_nn_status_t tm_nn_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                int32_t rows, int32_t row_size, int8_t *output)
{
    return TM_NN_PICK(softmax_s8)(params, input, rows, row_size, output);
}
