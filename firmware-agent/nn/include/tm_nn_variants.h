/*
 * tm_nn_variants.h — both implementations of every kernel, under their own names.
 *
 * tm_nn.h's tm_nn_<op>() is one of these two, chosen when the library is built:
 *   tm_nn_ref_<op>()  portable reference kernels (plain loops, the arithmetic spelled out);
 *   tm_nn_opt_<op>()  optimized kernels: im2col into caller scratch and a 2x2 block (two
 *                     output channels x two pixels) of SMLAD dual multiply-accumulates for
 *                     convolution, two filter rows per pass for fully connected, a
 *                     per-channel sliding 3x3 window for depthwise, four channels per
 *                     SSUB8/SEL for max pooling. On a core with the DSP extension
 *                     (__ARM_FEATURE_DSP: Cortex-M4/M7) they use SMLAD/SMUAD/SXTB16/SSUB8/SEL
 *                     (and one inline-assembly loop, the stride-1 depthwise window);
 *                     elsewhere the same C runs with portable stand-ins of those
 *                     instructions (src/tm_nn_simd.h).
 * Both give identical bytes for every accepted call, and reject the same calls; the host
 * tests (tests/firmware-agent/nn) and the virtual-board probe check that.
 * The build picks the optimized set when TM_NN_OPTIMIZED is 1; left undefined, it is 1
 * exactly when the compiler targets the DSP extension (so the Cortex-M4/M7 images run the
 * optimized kernels and the host library the reference ones; CMake option
 * TINYML_NN_OPTIMIZED switches the host library too).
 *
 * Only tests and benchmarks need this header: everything else calls tm_nn.h's names.
 * Scratch sizes differ between the sets; ask the _get_buffer_size() of the set you call.
 */
#ifndef TM_NN_VARIANTS_H
#define TM_NN_VARIANTS_H

#include "tm_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_NN_DECLARE_VARIANT(v)                                                             \
    int32_t tm_nn_##v##_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,            \
                                                  const tm_nn_dims_t *filter_dims);          \
    tm_nn_status_t tm_nn_##v##_conv2d_s8(                                                    \
        const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,                       \
        const tm_nn_per_channel_quant_t *quant, const tm_nn_dims_t *input_dims,              \
        const int8_t *input, const tm_nn_dims_t *filter_dims, const int8_t *filter,          \
        const int32_t *bias, const tm_nn_dims_t *output_dims, int8_t *output);               \
    int32_t tm_nn_##v##_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,  \
                                                            const tm_nn_dims_t *filter_dims); \
    tm_nn_status_t tm_nn_##v##_depthwise_conv2d_s8(                                          \
        const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,                       \
        const tm_nn_per_channel_quant_t *quant, const tm_nn_dims_t *input_dims,              \
        const int8_t *input, const tm_nn_dims_t *filter_dims, const int8_t *filter,          \
        const int32_t *bias, const tm_nn_dims_t *output_dims, int8_t *output);               \
    int32_t tm_nn_##v##_fully_connected_s8_get_buffer_size(const tm_nn_dims_t *filter_dims); \
    tm_nn_status_t tm_nn_##v##_fully_connected_s8(                                           \
        const tm_nn_context_t *ctx, const tm_nn_fc_params_t *params,                         \
        const tm_nn_per_channel_quant_t *quant, const tm_nn_dims_t *input_dims,              \
        const int8_t *input, const tm_nn_dims_t *filter_dims, const int8_t *filter,          \
        const int32_t *bias, const tm_nn_dims_t *output_dims, int8_t *output);               \
    tm_nn_status_t tm_nn_##v##_max_pool_s8(const tm_nn_pool_params_t *params,                \
                                           const tm_nn_dims_t *input_dims,                   \
                                           const int8_t *input,                              \
                                           const tm_nn_dims_t *output_dims, int8_t *output); \
    int32_t tm_nn_##v##_avg_pool_s8_get_buffer_size(const tm_nn_dims_t *output_dims);        \
    tm_nn_status_t tm_nn_##v##_avg_pool_s8(                                                  \
        const tm_nn_context_t *ctx, const tm_nn_pool_params_t *params,                       \
        const tm_nn_dims_t *input_dims, const int8_t *input, const tm_nn_dims_t *output_dims, \
        int8_t *output);                                                                     \
    tm_nn_status_t tm_nn_##v##_add_s8(const tm_nn_add_params_t *params, const int8_t *input1, \
                                      const int8_t *input2, int8_t *output, int32_t size);   \
    tm_nn_status_t tm_nn_##v##_softmax_s8(const tm_nn_softmax_params_t *params,              \
                                          const int8_t *input, int32_t rows,                 \
                                          int32_t row_size, int8_t *output);

TM_NN_DECLARE_VARIANT(ref)
TM_NN_DECLARE_VARIANT(opt)

#undef TM_NN_DECLARE_VARIANT

/** 1 when this library's tm_nn_<op>() are the optimized kernels. */
int tm_nn_optimized(void);

#ifdef __cplusplus
}
#endif

#endif /* TM_NN_VARIANTS_H */
