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

static int32_t max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

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
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky0 = max_i32(0, -y0), ky1 = min_i32(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, o += ch) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx0 = max_i32(0, -x0), kx1 = min_i32(params->filter.w, in_w - x0);
                int first = 1;
                for (int32_t ky = ky0; ky < ky1; ++ky) {
                    for (int32_t kx = kx0; kx < kx1; ++kx) {
                        const int8_t *px = in_b + ((size_t)(y0 + ky) * in_w + (x0 + kx)) * ch;
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
                            o[c] = (int8_t)max_i32(o[c], px[c]);
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
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky0 = max_i32(0, -y0), ky1 = min_i32(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, o += ch) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx0 = max_i32(0, -x0), kx1 = min_i32(params->filter.w, in_w - x0);
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                for (int32_t c0 = 0; c0 < ch; c0 += AVG_BLOCK) {
                    const int32_t n = min_i32(AVG_BLOCK, ch - c0);
                    for (int32_t c = 0; c < n; ++c) {
                        sums[c] = 0;
                    }
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *px = in_b + ((size_t)(y0 + ky) * in_w + (x0 + kx0)) * ch + c0;
                        for (int32_t kx = kx0; kx < kx1; ++kx, px += ch) {
                            for (int32_t c = 0; c < n; ++c) {
                                sums[c] += px[c];
                            }
                        }
                    }
                    for (int32_t c = 0; c < n; ++c) {
                        const int32_t sum = sums[c];
                        const int32_t avg =
                            sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
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
    TM_NN_PRECONDITION(params != NULL && input1 != NULL && input2 != NULL && output != NULL);
    TM_NN_PRECONDITION(size > 0);
    TM_NN_PRECONDITION(tm_nn_zero_point_valid(params->input1_zero_point) &&
                       tm_nn_zero_point_valid(params->input2_zero_point) &&
                       tm_nn_zero_point_valid(params->output_zero_point));
    TM_NN_PRECONDITION(params->left_shift >= 0 && params->left_shift <= 22);
    TM_NN_PRECONDITION(params->input1_shift <= 0 && params->input1_shift >= -31);
    TM_NN_PRECONDITION(params->input2_shift <= 0 && params->input2_shift >= -31);
    TM_NN_PRECONDITION(params->output_shift <= 0 && params->output_shift >= -31);
    TM_NN_PRECONDITION(tm_nn_activation_valid(&params->activation));
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

/* Rows up to this length keep their exponentials on the stack; longer rows use the
 * reference, which computes each twice. */
#define SOFTMAX_CACHE 256

tm_nn_status_t tm_nn_opt_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                    int32_t rows, int32_t row_size, int8_t *output)
{
    TM_NN_PRECONDITION(params != NULL && input != NULL && output != NULL);
    TM_NN_PRECONDITION(rows > 0 && row_size > 0);
    TM_NN_PRECONDITION((int64_t)rows * row_size <= TM_NN_MAX_ELEMENTS);
    TM_NN_PRECONDITION(!(params->input_scale <= 0.0f) && !(params->beta <= 0.0f));
    const float coeff = params->beta * params->input_scale;
    TM_NN_PRECONDITION(coeff < 1.0e30f);
    if (row_size > SOFTMAX_CACHE) {
        return tm_nn_ref_softmax_s8(params, input, rows, row_size, output);
    }
    float e[SOFTMAX_CACHE];
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *in = input + (size_t)r * row_size;
        int8_t *out = output + (size_t)r * row_size;
        int32_t max_q = -128;
        for (int32_t i = 0; i < row_size; ++i) {
            max_q = max_i32(max_q, in[i]);
        }
        /* The same additions in the same order as the reference: the same sum. */
        float sum = 0.0f;
        for (int32_t i = 0; i < row_size; ++i) {
            e[i] = tm_nn_softmax_expf(coeff * (float)((int32_t)in[i] - max_q));
            sum += e[i];
        }
        for (int32_t i = 0; i < row_size; ++i) {
            const int32_t q = (int32_t)(e[i] / sum * 256.0f + 0.5f) - 128;
            out[i] = (int8_t)(q > 127 ? 127 : q);
        }
    }
    return TM_NN_OK;
}
