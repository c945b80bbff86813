/*
 * tm_nn_conv.c — reference conv2d and depthwise conv2d, int8 (TFLite arithmetic).
 */
#include "tm_nn_internal.h"

/* Shared shape and parameter checks of both convolutions, reference and optimized. */
tm_nn_status_t tm_nn_check_conv(const tm_nn_conv_params_t *p, const tm_nn_per_channel_quant_t *q,
                                const tm_nn_dims_t *in, const tm_nn_dims_t *f,
                                 const tm_nn_dims_t *out)
{
    TM_NN_PRECONDITION(p != NULL && q != NULL && q->multiplier != NULL && q->shift != NULL);
    TM_NN_PRECONDITION(tm_nn_dims_valid(in) && tm_nn_dims_valid(f) && tm_nn_dims_valid(out));
    TM_NN_PRECONDITION(tm_nn_dims_count_ok(in) && tm_nn_dims_count_ok(f) &&
                       tm_nn_dims_count_ok(out));
    TM_NN_PRECONDITION(out->n == in->n);
    TM_NN_PRECONDITION(p->stride.h >= 1 && p->stride.w >= 1);
    TM_NN_PRECONDITION(p->dilation.h >= 1 && p->dilation.w >= 1);
    TM_NN_PRECONDITION(p->padding.h >= 0 && p->padding.w >= 0);
    TM_NN_PRECONDITION(tm_nn_zero_point_valid(p->input_zero_point) &&
                       tm_nn_zero_point_valid(p->output_zero_point));
    TM_NN_PRECONDITION(tm_nn_activation_valid(&p->activation));

    /* Every output window must start inside the input and reach past the padding;
     * otherwise the output dims do not belong to these input dims. */
    const int64_t eff_kh = (int64_t)(f->h - 1) * p->dilation.h + 1;
    const int64_t eff_kw = (int64_t)(f->w - 1) * p->dilation.w + 1;
    TM_NN_PRECONDITION(p->padding.h < eff_kh && p->padding.w < eff_kw);
    TM_NN_PRECONDITION((int64_t)(out->h - 1) * p->stride.h - p->padding.h <= in->h - 1);
    TM_NN_PRECONDITION((int64_t)(out->w - 1) * p->stride.w - p->padding.w <= in->w - 1);

    for (int32_t c = 0; c < out->c; ++c) {
        TM_NN_PRECONDITION(q->shift[c] >= -31 && q->shift[c] <= 31);
    }
    return TM_NN_OK;
}

int32_t tm_nn_ref_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                        const tm_nn_dims_t *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

tm_nn_status_t tm_nn_ref_conv2d_s8(const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,
                               const tm_nn_per_channel_quant_t *quant,
                               const tm_nn_dims_t *input_dims, const int8_t *input,
                               const tm_nn_dims_t *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const tm_nn_dims_t *output_dims, int8_t *output)
{
    TM_NN_PRECONDITION(input != NULL && filter != NULL && output != NULL);
    const tm_nn_status_t st = tm_nn_check_conv(params, quant, input_dims, filter_dims, output_dims);
    if (st != TM_NN_OK) {
        return st;
    }
    TM_NN_PRECONDITION(filter_dims->c == input_dims->c && output_dims->c == filter_dims->n);
    TM_NN_PRECONDITION_BUFFER(ctx, tm_nn_ref_conv2d_s8_get_buffer_size(input_dims, filter_dims));

    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t zp_in = params->input_zero_point;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    /* Sum modulo 2^32 (tm_nn_internal.h); each product fits in int32. */
                    uint32_t sum = bias != NULL ? (uint32_t)bias[oc] : 0u;
                    const int8_t *f_oc = filter + (size_t)oc * k_h * k_w * in_c;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t iy = y0 + ky * params->dilation.h;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t ix = x0 + kx * params->dilation.w;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int8_t *px = in_b + ((size_t)iy * in_w + ix) * in_c;
                            const int8_t *fk = f_oc + ((size_t)ky * k_w + kx) * in_c;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                sum += (uint32_t)(((int32_t)px[ic] - zp_in) * (int32_t)fk[ic]);
                            }
                        }
                    }
                    int32_t acc = tm_nn_multiply_by_quantized_multiplier(
                        tm_nn_s32_from_u32(sum), quant->multiplier[oc], quant->shift[oc]);
                    acc = tm_nn_add_wrap_s32(acc, params->output_zero_point);
                    output[(((size_t)b * out_h + oy) * out_w + ox) * out_c + oc] =
                        tm_nn_clamp_s8(acc, &params->activation);
                }
            }
        }
    }
    return TM_NN_OK;
}

int32_t tm_nn_ref_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                                  const tm_nn_dims_t *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

tm_nn_status_t tm_nn_ref_depthwise_conv2d_s8(const tm_nn_context_t *ctx,
                                         const tm_nn_conv_params_t *params,
                                         const tm_nn_per_channel_quant_t *quant,
                                         const tm_nn_dims_t *input_dims, const int8_t *input,
                                         const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                         const int32_t *bias,
                                         const tm_nn_dims_t *output_dims, int8_t *output)
{
    TM_NN_PRECONDITION(input != NULL && filter != NULL && output != NULL);
    const tm_nn_status_t st = tm_nn_check_conv(params, quant, input_dims, filter_dims, output_dims);
    if (st != TM_NN_OK) {
        return st;
    }
    TM_NN_PRECONDITION(params->depth_multiplier >= 1 && filter_dims->n == 1);
    TM_NN_PRECONDITION((int64_t)input_dims->c * params->depth_multiplier == filter_dims->c);
    TM_NN_PRECONDITION(output_dims->c == filter_dims->c);
    TM_NN_PRECONDITION_BUFFER(ctx,
                              tm_nn_ref_depthwise_conv2d_s8_get_buffer_size(input_dims, filter_dims));

    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t zp_in = params->input_zero_point;
    const int32_t dm = params->depth_multiplier;

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t ic = oc / dm;
                    uint32_t sum = bias != NULL ? (uint32_t)bias[oc] : 0u;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t iy = y0 + ky * params->dilation.h;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t ix = x0 + kx * params->dilation.w;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int32_t v = in_b[((size_t)iy * in_w + ix) * in_c + ic];
                            const int32_t w = filter[((size_t)ky * k_w + kx) * out_c + oc];
                            sum += (uint32_t)((v - zp_in) * w);
                        }
                    }
                    int32_t acc = tm_nn_multiply_by_quantized_multiplier(
                        tm_nn_s32_from_u32(sum), quant->multiplier[oc], quant->shift[oc]);
                    acc = tm_nn_add_wrap_s32(acc, params->output_zero_point);
                    output[(((size_t)b * out_h + oy) * out_w + ox) * out_c + oc] =
                        tm_nn_clamp_s8(acc, &params->activation);
                }
            }
        }
    }
    return TM_NN_OK;
}
