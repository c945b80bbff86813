/*
 * tm_nn_add.c — elementwise int8 ADD with TFLite's arithmetic.
 */
#include "tm_nn_internal.h"

tm_nn_status_t tm_nn_add_prepare(double input1_scale, int32_t input1_zero_point,
                                 double input2_scale, int32_t input2_zero_point,
                                 double output_scale, int32_t output_zero_point,
                                 tm_nn_add_params_t *params)
{
    TM_NN_PRECONDITION(params != NULL);
    TM_NN_PRECONDITION(input1_scale > 0.0 && input2_scale > 0.0 && output_scale > 0.0);
    TM_NN_PRECONDITION(tm_nn_zero_point_valid(input1_zero_point) &&
                       tm_nn_zero_point_valid(input2_zero_point) &&
                       tm_nn_zero_point_valid(output_zero_point));
    tm_nn_add_params_t p;
    p.input1_zero_point = input1_zero_point;
    p.input2_zero_point = input2_zero_point;
    p.output_zero_point = output_zero_point;
    p.left_shift = 20;
    const double twice_max = 2.0 * (input1_scale > input2_scale ? input1_scale : input2_scale);
    const double real_out = twice_max / ((double)(1L << p.left_shift) * output_scale);
    if (tm_nn_quantize_multiplier(input1_scale / twice_max, &p.input1_multiplier,
                                  &p.input1_shift) != TM_NN_OK ||
        tm_nn_quantize_multiplier(input2_scale / twice_max, &p.input2_multiplier,
                                  &p.input2_shift) != TM_NN_OK ||
        tm_nn_quantize_multiplier(real_out, &p.output_multiplier, &p.output_shift) != TM_NN_OK) {
        return TM_NN_ARG_ERROR;
    }
    /* TFLite's QuantizeMultiplierSmallerThanOneExp: the output scale may not be so small
     * that the output multiplier exceeds one. */
    TM_NN_PRECONDITION(p.output_shift <= 0);
    p.activation.min = -128;
    p.activation.max = 127;
    *params = p;
    return TM_NN_OK;
}

tm_nn_status_t tm_nn_check_add(const tm_nn_add_params_t *params, const int8_t *input1,
                               const int8_t *input2, const int8_t *output, int32_t size)
{
    TM_NN_PRECONDITION(params != NULL && input1 != NULL && input2 != NULL && output != NULL);
    TM_NN_PRECONDITION(size > 0);
    TM_NN_PRECONDITION(tm_nn_zero_point_valid(params->input1_zero_point) &&
                       tm_nn_zero_point_valid(params->input2_zero_point) &&
                       tm_nn_zero_point_valid(params->output_zero_point));
    /* |q - zp| <= 255 < 2^8, so up to 22 bits of left shift stays inside int32. */
    TM_NN_PRECONDITION(params->left_shift >= 0 && params->left_shift <= 22);
    TM_NN_PRECONDITION(params->input1_shift <= 0 && params->input1_shift >= -31);
    TM_NN_PRECONDITION(params->input2_shift <= 0 && params->input2_shift >= -31);
    TM_NN_PRECONDITION(params->output_shift <= 0 && params->output_shift >= -31);
    TM_NN_PRECONDITION(tm_nn_activation_valid(&params->activation));
    return TM_NN_OK;
}

tm_nn_status_t tm_nn_ref_add_s8(const tm_nn_add_params_t *params, const int8_t *input1,
                                const int8_t *input2, int8_t *output, int32_t size)
{
    const tm_nn_status_t st = tm_nn_check_add(params, input1, input2, output, size);
    if (st != TM_NN_OK) {
        return st;
    }
    const int32_t scale_up = (int32_t)1 << params->left_shift;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t a = ((int32_t)input1[i] - params->input1_zero_point) * scale_up;
        const int32_t b = ((int32_t)input2[i] - params->input2_zero_point) * scale_up;
        const int32_t sa = tm_nn_multiply_by_quantized_multiplier(a, params->input1_multiplier,
                                                                  params->input1_shift);
        const int32_t sb = tm_nn_multiply_by_quantized_multiplier(b, params->input2_multiplier,
                                                                  params->input2_shift);
        const int32_t raw = tm_nn_multiply_by_quantized_multiplier(
                                sa + sb, params->output_multiplier, params->output_shift) +
                            params->output_zero_point;
        output[i] = tm_nn_clamp_s8(raw, &params->activation);
    }
    return TM_NN_OK;
}
