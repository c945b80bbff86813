/*
 * tm_nn_fully_connected.c — reference fully connected layer, int8 (TFLite arithmetic).
 */
#include "tm_nn_internal.h"

tm_nn_status_t tm_nn_check_fc(const tm_nn_fc_params_t *params, const tm_nn_per_channel_quant_t *quant,
                              const tm_nn_dims_t *input_dims, const int8_t *input,
                              const tm_nn_dims_t *filter_dims, const int8_t *filter,
                              const tm_nn_dims_t *output_dims, const int8_t *output,
                              int32_t *batches_out)
{
    TM_NN_PRECONDITION(params != NULL && quant != NULL && quant->multiplier != NULL &&
                       quant->shift != NULL);
    TM_NN_PRECONDITION(input != NULL && filter != NULL && output != NULL);
    TM_NN_PRECONDITION(tm_nn_dims_valid(input_dims) && tm_nn_dims_valid(filter_dims) &&
                       tm_nn_dims_valid(output_dims));
    TM_NN_PRECONDITION(tm_nn_dims_count_ok(input_dims) && tm_nn_dims_count_ok(filter_dims) &&
                       tm_nn_dims_count_ok(output_dims));
    TM_NN_PRECONDITION(filter_dims->h == 1 && filter_dims->w == 1);
    TM_NN_PRECONDITION(tm_nn_zero_point_valid(params->input_zero_point) &&
                       tm_nn_zero_point_valid(params->output_zero_point));
    TM_NN_PRECONDITION(tm_nn_activation_valid(&params->activation));

    const int32_t depth = filter_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t in_count = input_dims->n * input_dims->h * input_dims->w * input_dims->c;
    TM_NN_PRECONDITION(in_count % depth == 0);
    const int32_t batches = in_count / depth;
    TM_NN_PRECONDITION(output_dims->c == out_c &&
                       output_dims->n * output_dims->h * output_dims->w == batches);
    /* Every shift in [-31, 31]: s + 31 and 31 - s both >= 0, so their OR over all channels
     * has the sign bit clear; one pass without a branch per channel (it runs on every call). */
    uint32_t out_of_range = 0;
    const int32_t *s = quant->shift;
    const int32_t *const pairs_end = s + (out_c & ~1);
    for (; s < pairs_end; s += 2) {
        const uint32_t a = (uint32_t)s[0], b = (uint32_t)s[1];
        out_of_range |= ((a + 31u) | (31u - a)) | ((b + 31u) | (31u - b));
    }
    if (out_c & 1) {
        out_of_range |= ((uint32_t)*s + 31u) | (31u - (uint32_t)*s);
    }
    TM_NN_PRECONDITION((out_of_range & 0x80000000u) == 0);
    *batches_out = batches;
    return TM_NN_OK;
}

int32_t tm_nn_ref_fully_connected_s8_get_buffer_size(const tm_nn_dims_t *filter_dims)
{
    (void)filter_dims;
    return 0;
}

tm_nn_status_t tm_nn_ref_fully_connected_s8(const tm_nn_context_t *ctx,
                                        const tm_nn_fc_params_t *params,
                                        const tm_nn_per_channel_quant_t *quant,
                                        const tm_nn_dims_t *input_dims, const int8_t *input,
                                        const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                        const int32_t *bias,
                                        const tm_nn_dims_t *output_dims, int8_t *output)
{
    int32_t batches = 0;
    const tm_nn_status_t st = tm_nn_check_fc(params, quant, input_dims, input, filter_dims, filter,
                                             output_dims, output, &batches);
    if (st != TM_NN_OK) {
        return st;
    }
    const int32_t depth = filter_dims->c;
    const int32_t out_c = filter_dims->n;
    TM_NN_PRECONDITION_BUFFER(ctx, tm_nn_ref_fully_connected_s8_get_buffer_size(filter_dims));

    const int32_t zp_in = params->input_zero_point;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_b = input + (size_t)b * depth;
        for (int32_t o = 0; o < out_c; ++o) {
            const int8_t *w = filter + (size_t)o * depth;
            /* Sum modulo 2^32 (tm_nn_internal.h); each product fits in int32. */
            uint32_t sum = bias != NULL ? (uint32_t)bias[o] : 0u;
            for (int32_t i = 0; i < depth; ++i) {
                sum += (uint32_t)(((int32_t)in_b[i] - zp_in) * (int32_t)w[i]);
            }
            int32_t acc = tm_nn_multiply_by_quantized_multiplier(
                tm_nn_s32_from_u32(sum), quant->multiplier[o], quant->shift[o]);
            acc = tm_nn_add_wrap_s32(acc, params->output_zero_point);
            output[(size_t)b * out_c + o] = tm_nn_clamp_s8(acc, &params->activation);
        }
    }
    return TM_NN_OK;
}
