/*
 * tm_nn_opt_elementwise.c — optimized pooling, add and softmax, bit-exact with tm_nn_pool.c,
 * tm_nn_add.c and tm_nn_softmax.c. Pooling walks each window tap by tap over whole channel
 * rows (contiguous in NHWC) instead of channel by channel over the window: four channels
 * per SSUB8/SEL for the maximum, int32 sums in a bounded stack block for the average.
 * Add keeps its three requantizations per element but with the shifts decoded once.
 * Softmax computes each exponential once per row instead of twice.
 */
#include "tm_nn_simd.h"

/* ---- pooling -------------------------------------------------------------------------------- */

tm_nn_status_t tm_nn_opt_max_pool_s8(const tm_nn_pool_params_t *params,
                                     const tm_nn_dims_t *input_dims, const int8_t *input,
                                     const tm_nn_dims_t *output_dims, int8_t *output)
{
    const tm_nn_status_t st = tm_nn_check_pool(params, input_dims, input, output_dims, output);
    if (st != TM_NN_OK) {
        return st;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t ch4 = ch & ~3;
    const int clamp = params->activation.min > -128 || params->activation.max < 127;
    int8_t *o = output;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const tm_nn_pool_span_t ys =
                tm_nn_pool_span(params->stride.h, params->padding.h, params->filter.h, in_h, oy);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, o += ch) {
                const tm_nn_pool_span_t xs = tm_nn_pool_span(params->stride.w, params->padding.w,
                                                             params->filter.w, in_w, ox);
                int first = 1;
                for (int32_t ky = ys.k0; ky < ys.k1; ++ky) {
                    for (int32_t kx = xs.k0; kx < xs.k1; ++kx) {
                        const int8_t *px =
                            in_b + ((size_t)(ys.start + ky) * in_w + (xs.start + kx)) * ch;
                        if (first) {
                            memcpy(o, px, (size_t)ch);
                            first = 0;
                            continue;
                        }
                        int32_t c = 0;
                        for (; c < ch4; c += 4) {
                            tm_nn_write_u32(o + c, tm_nn_max_s8x4(tm_nn_read_u32(o + c),
                                                                  tm_nn_read_u32(px + c)));
                        }
                        for (; c < ch; ++c) {
                            o[c] = (int8_t)tm_nn_max_i32(o[c], px[c]);
                        }
                    }
                }
                if (clamp) {
                    for (int32_t c = 0; c < ch; ++c) {
                        o[c] = tm_nn_clamp_s8(o[c], &params->activation);
                    }
                }
            }
        }
    }
    return TM_NN_OK;
}

int32_t tm_nn_opt_avg_pool_s8_get_buffer_size(const tm_nn_dims_t *output_dims)
{
    (void)output_dims;
    return 0;
}

/* Channels summed per pass: the sums live on the stack, so the kernel needs no scratch. */
#define AVG_BLOCK 64

tm_nn_status_t tm_nn_opt_avg_pool_s8(const tm_nn_context_t *ctx, const tm_nn_pool_params_t *params,
                                     const tm_nn_dims_t *input_dims, const int8_t *input,
                                     const tm_nn_dims_t *output_dims, int8_t *output)
{
    (void)ctx;
    const tm_nn_status_t st = tm_nn_check_pool(params, input_dims, input, output_dims, output);
    if (st != TM_NN_OK) {
        return st;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    int32_t sums[AVG_BLOCK];
    int8_t *o = output;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const tm_nn_pool_span_t ys =
                tm_nn_pool_span(params->stride.h, params->padding.h, params->filter.h, in_h, oy);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, o += ch) {
                const tm_nn_pool_span_t xs = tm_nn_pool_span(params->stride.w, params->padding.w,
                                                             params->filter.w, in_w, ox);
                const int32_t count = (ys.k1 - ys.k0) * (xs.k1 - xs.k0);
                for (int32_t c0 = 0; c0 < ch; c0 += AVG_BLOCK) {
                    const int32_t n = tm_nn_min_i32(AVG_BLOCK, ch - c0);
                    for (int32_t c = 0; c < n; ++c) {
                        sums[c] = 0;
                    }
                    for (int32_t ky = ys.k0; ky < ys.k1; ++ky) {
                        const int8_t *px =
                            in_b + ((size_t)(ys.start + ky) * in_w + (xs.start + xs.k0)) * ch + c0;
                        for (int32_t kx = xs.k0; kx < xs.k1; ++kx, px += ch) {
                            for (int32_t c = 0; c < n; ++c) {
                                sums[c] += px[c];
                            }
                        }
                    }
                    for (int32_t c = 0; c < n; ++c) {
                        const int32_t sum = sums[c];
                        const int32_t avg = tm_nn_pool_average(sum, count);
                        o[c0 + c] = tm_nn_clamp_s8(avg, &params->activation);
                    }
                }
            }
        }
    }
    return TM_NN_OK;
}

/* ---- add ------------------------------------------------------------------------------------ */

tm_nn_status_t tm_nn_opt_add_s8(const tm_nn_add_params_t *params, const int8_t *input1,
                                const int8_t *input2, int8_t *output, int32_t size)
{
    const tm_nn_status_t st = tm_nn_check_add(params, input1, input2, output, size);
    if (st != TM_NN_OK) {
        return st;
    }
    if (params->input1_multiplier == INT32_MIN || params->input2_multiplier == INT32_MIN ||
        params->output_multiplier == INT32_MIN) {
        return tm_nn_ref_add_s8(params, input1, input2, output, size);
    }
    const tm_nn_requant_t q1 = tm_nn_requant_make(params->input1_multiplier, params->input1_shift);
    const tm_nn_requant_t q2 = tm_nn_requant_make(params->input2_multiplier, params->input2_shift);
    const tm_nn_requant_t qo = tm_nn_requant_make(params->output_multiplier, params->output_shift);
    const int32_t ls = params->left_shift;
    const int32_t zp1 = params->input1_zero_point, zp2 = params->input2_zero_point;
    const int32_t zpo = params->output_zero_point;
    const tm_nn_activation_t act = params->activation;
    for (int32_t i = 0; i < size; ++i) {
        /* |q - zp| <= 255, so the shifted values and the sum stay inside int32. */
        const int32_t a = tm_nn_requant((input1[i] - zp1) * (1 << ls), &q1);
        const int32_t b = tm_nn_requant((input2[i] - zp2) * (1 << ls), &q2);
        output[i] = tm_nn_clamp_s8(tm_nn_requant(a + b, &qo) + zpo, &act);
    }
    return TM_NN_OK;
}

/* ---- softmax -------------------------------------------------------------------------------- */

/* Softmax is integer arithmetic on a few values per row (TFLite's definition, see
 * tm_nn_softmax.c): the reference is the optimized kernel too. */
tm_nn_status_t tm_nn_opt_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                    int32_t rows, int32_t row_size, int8_t *output)
{
    return tm_nn_ref_softmax_s8(params, input, rows, row_size, output);
}
