/*
 * tm_nn_pool.c — reference max and average pooling, int8 (TFLite arithmetic).
 */
#include "tm_nn_internal.h"

/* With these checks every window holds at least one in-bounds tap, so the average never
 * divides by zero and the maximum is always defined. */
tm_nn_status_t tm_nn_check_pool(const tm_nn_pool_params_t *p, const tm_nn_dims_t *in,
                                const int8_t *input, const tm_nn_dims_t *out, const int8_t *output)
{
    TM_NN_PRECONDITION(p != NULL && input != NULL && output != NULL);
    TM_NN_PRECONDITION(tm_nn_dims_valid(in) && tm_nn_dims_valid(out));
    TM_NN_PRECONDITION(tm_nn_dims_count_ok(in) && tm_nn_dims_count_ok(out));
    TM_NN_PRECONDITION(out->n == in->n && out->c == in->c);
    TM_NN_PRECONDITION(p->stride.h >= 1 && p->stride.w >= 1);
    TM_NN_PRECONDITION(p->filter.h >= 1 && p->filter.w >= 1);
    TM_NN_PRECONDITION(p->padding.h >= 0 && p->padding.w >= 0);
    TM_NN_PRECONDITION(p->padding.h < p->filter.h && p->padding.w < p->filter.w);
    TM_NN_PRECONDITION((int64_t)(out->h - 1) * p->stride.h - p->padding.h <= in->h - 1);
    TM_NN_PRECONDITION((int64_t)(out->w - 1) * p->stride.w - p->padding.w <= in->w - 1);
    TM_NN_PRECONDITION(tm_nn_activation_valid(&p->activation));
    return TM_NN_OK;
}

tm_nn_status_t tm_nn_ref_max_pool_s8(const tm_nn_pool_params_t *params,
                                     const tm_nn_dims_t *input_dims, const int8_t *input,
                                     const tm_nn_dims_t *output_dims, int8_t *output)
{
    const tm_nn_status_t st = tm_nn_check_pool(params, input_dims, input, output_dims, output);
    if (st != TM_NN_OK) {
        return st;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const tm_nn_pool_span_t ys =
                tm_nn_pool_span(params->stride.h, params->padding.h, params->filter.h, in_h, oy);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const tm_nn_pool_span_t xs = tm_nn_pool_span(params->stride.w, params->padding.w,
                                                             params->filter.w, in_w, ox);
                for (int32_t c = 0; c < ch; ++c) {
                    int32_t m = -128;
                    for (int32_t ky = ys.k0; ky < ys.k1; ++ky) {
                        for (int32_t kx = xs.k0; kx < xs.k1; ++kx) {
                            m = tm_nn_max_i32(
                                m,
                                in_b[((size_t)(ys.start + ky) * in_w + (xs.start + kx)) * ch + c]);
                        }
                    }
                    output[(((size_t)b * out_h + oy) * out_w + ox) * ch + c] =
                        tm_nn_clamp_s8(m, &params->activation);
                }
            }
        }
    }
    return TM_NN_OK;
}

int32_t tm_nn_ref_avg_pool_s8_get_buffer_size(const tm_nn_dims_t *output_dims)
{
    (void)output_dims;
    return 0;
}

tm_nn_status_t tm_nn_ref_avg_pool_s8(const tm_nn_context_t *ctx, const tm_nn_pool_params_t *params,
                                     const tm_nn_dims_t *input_dims, const int8_t *input,
                                     const tm_nn_dims_t *output_dims, int8_t *output)
{
    const tm_nn_status_t st = tm_nn_check_pool(params, input_dims, input, output_dims, output);
    if (st != TM_NN_OK) {
        return st;
    }
    TM_NN_PRECONDITION_BUFFER(ctx, tm_nn_ref_avg_pool_s8_get_buffer_size(output_dims));
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const tm_nn_pool_span_t ys =
                tm_nn_pool_span(params->stride.h, params->padding.h, params->filter.h, in_h, oy);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const tm_nn_pool_span_t xs = tm_nn_pool_span(params->stride.w, params->padding.w,
                                                             params->filter.w, in_w, ox);
                const int32_t count = (ys.k1 - ys.k0) * (xs.k1 - xs.k0);
                for (int32_t c = 0; c < ch; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = ys.k0; ky < ys.k1; ++ky) {
                        for (int32_t kx = xs.k0; kx < xs.k1; ++kx) {
                            sum +=
                                in_b[((size_t)(ys.start + ky) * in_w + (xs.start + kx)) * ch + c];
                        }
                    }
                    output[(((size_t)b * out_h + oy) * out_w + ox) * ch + c] =
                        tm_nn_clamp_s8(tm_nn_pool_average(sum, count), &params->activation);
                }
            }
        }
    }
    return TM_NN_OK;
}
