/*
 * tm_nn.h — int8 kernels of the firmware agent (portable C99).
 *
 * The same code runs on the device and is linked by the host, so an int8 model gives the
 * same bytes on both. The arithmetic is TFLite's int8 scheme, so results can be checked
 * against TFLite Micro / CMSIS-NN:
 *   - weights: int8, symmetric, per output channel, zero point 0;
 *   - activations: int8, asymmetric, one scale and zero point per tensor;
 *   - bias: int32 with scale input_scale * weight_scale[c], zero point 0;
 *   - requantization: acc * M with M = multiplier * 2^(shift - 31), computed by
 *     tm_nn_multiply_by_quantized_multiplier() exactly as TFLite's reference does;
 *   - int32 accumulation (bias + sum of products) and the output zero-point add wrap
 *     modulo 2^32, as TFLite Micro / CMSIS-NN do on two's-complement hardware.
 *
 * Layout is NHWC everywhere:
 *   activations      [N, H, W, C]
 *   conv weights     [C_OUT, KH, KW, C_IN]
 *   depthwise weights [1, KH, KW, C_OUT]     (C_OUT = C_IN * depth_multiplier)
 *   fully connected  [C_OUT, ACCUM_DEPTH]
 * A 1-D convolution (e.g. the motion CNN) is a conv2d with H = 1 and KH = 1.
 * Reshape and flatten do not move data in NHWC; the interpreter treats them as no-ops.
 *
 * Two implementations sit behind these names, chosen when the library is built
 * (tm_nn_variants.h): portable reference kernels, and optimized kernels that use the
 * Cortex-M4/M7 DSP instructions (SMLAD, SXTB16, SSUB8/SEL) and are bit-exact with them. The
 * Cortex-M images use the optimized set, the host library the reference set by default.
 *
 * Nothing here allocates. Kernels that may need scratch take a tm_nn_context_t whose
 * buffer the caller owns; ask its _get_buffer_size() partner for the size first. The
 * reference kernels need none (size 0). The optimized ones need, in bytes:
 *   conv2d          28 * C_OUT + 4 * K + F, K = KH * KW * C_IN (requantization table, two
 *                   accumulator rows, two int16 im2col columns) and F the int16 copy of the
 *                   filter, F = 2 * (K rounded down to a multiple of 4) * (C_OUT rounded up
 *                   to even) when that is at most 16384, else F = 0
 *   depthwise 3x3   4 * (H_IN + 2) * (W_IN + 2) + 2 * P * (H_IN + 4) * (W_IN + 5), P = 4
 *                   planes when C_IN >= 4 else 1, rounded up to a multiple of 4, with depth
 *                   multiplier 1 (other shapes: 0)
 *   fully connected 20 * C_OUT + 2 * ACCUM_DEPTH rounded up to a multiple of 4
 *   pooling, add, softmax: 0 (bounded stack blocks)
 *
 * Usage:
 *     int32_t mult[C_OUT], shift[C_OUT];
 *     for (c = 0; c < C_OUT; ++c)            // host side, when the model is compiled
 *         tm_nn_quantize_multiplier((double)s_in * s_w[c] / s_out, &mult[c], &shift[c]);
 *
 *     tm_nn_conv_params_t p = {0};
 *     p.input_zero_point = zp_in;  p.output_zero_point = zp_out;
 *     p.stride.h = p.stride.w = 1; p.dilation.h = p.dilation.w = 1;
 *     p.padding.h = p.padding.w = 1;           // top/left; "same" 3x3
 *     p.activation.min = zp_out; p.activation.max = 127;   // fused ReLU
 *     tm_nn_per_channel_quant_t q = { mult, shift };
 *     tm_nn_context_t ctx = { arena, tm_nn_conv2d_s8_get_buffer_size(&in_dims, &w_dims) };
 *     if (tm_nn_conv2d_s8(&ctx, &p, &q, &in_dims, in, &w_dims, w, bias, &out_dims, out)
 *             != TM_NN_OK) { ... }
 */
#ifndef TM_NN_H
#define TM_NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every kernel. Append-only: values may be reported over the agent protocol. */
typedef enum {
    TM_NN_OK = 0,
    TM_NN_ARG_ERROR = 1,     /**< null pointer, inconsistent shape or parameter out of range */
    TM_NN_BUFFER_ERROR = 2,  /**< scratch buffer missing or smaller than _get_buffer_size() */
} tm_nn_status_t;

/** Tensor shape. Format: [N, H, W, C]; unused leading dimensions are 1. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tm_nn_dims_t;

/** A (height, width) pair used for strides, padding, dilation and pooling windows. */
typedef struct {
    int32_t h;
    int32_t w;
} tm_nn_tile_t;

/** Fused activation as a clamp in the int8 *output* domain (zero point included):
 *  none = [-128, 127], ReLU = [zp_out, 127], ReLU6 = [zp_out, zp_out + round(6/s_out)]
 *  (each clamped to [-128, 127]). Must satisfy -128 <= min <= max <= 127. */
typedef struct {
    int32_t min;
    int32_t max;
} tm_nn_activation_t;

/** Caller-owned scratch memory. buf must be 4-byte aligned; size in bytes. */
typedef struct {
    void *buf;
    int32_t size;
} tm_nn_context_t;

/** Per-output-channel requantization: arrays of C_OUT entries. Channel c computes
 *  round(acc * multiplier[c] * 2^(shift[c] - 31)); shift > 0 is a left shift. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} tm_nn_per_channel_quant_t;

/* ---------------------------------------------------------------------------------------
 * Fixed-point arithmetic (TFLite / gemmlowp semantics)
 * ------------------------------------------------------------------------------------- */

/** gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2) / 2^32 rounded to nearest,
 *  computed as (a*b + nudge) / 2^31 with C's truncating division and nudge = 2^30 for
 *  a non-negative product, 1 - 2^30 otherwise. Ties therefore go towards +infinity
 *  (0.5 -> 1, -0.5 -> 0, -1.5 -> -1), which is what TFLite and CMSIS-NN compute.
 *  The only overflowing case, a = b = INT32_MIN, saturates to INT32_MAX. */
int32_t tm_nn_sat_rounding_doubling_high_mul(int32_t a, int32_t b);

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero
 *  (2.5 -> 3, -2.5 -> -3). exponent in [0, 31]. */
int32_t tm_nn_rounding_divide_by_pot(int32_t x, int32_t exponent);

/** TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31).
 *  shift > 0: x is shifted left first (wrapping modulo 2^32 like TFLite's int arithmetic
 *  on two's-complement targets), then SRDHM; shift <= 0: SRDHM then RoundingDivideByPOT.
 *  shift in [-31, 31]. */
int32_t tm_nn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);

/** Host-side helper (TFLite QuantizeMultiplier): split real >= 0 into a Q31 multiplier in
 *  [2^30, 2^31) and a shift so that real ~= multiplier * 2^(shift - 31). Uses frexp; the
 *  significand is rounded half away from zero and the 2^31 carry bumps the shift. real = 0
 *  or real < 2^-32 (shift < -31) gives multiplier 0, shift 0 (TFLite's flush to zero).
 *  Returns TM_NN_ARG_ERROR for negative, non-finite or >= 2^30 values, or null pointers. */
tm_nn_status_t tm_nn_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);

/* ---------------------------------------------------------------------------------------
 * Convolution
 * ------------------------------------------------------------------------------------- */

/** Parameters of conv2d and depthwise conv2d. padding is the top/left padding; the
 *  bottom/right padding follows from the output size (TFLite SAME/VALID both fit). */
typedef struct {
    int32_t input_zero_point;   /**< int8 zero point of the input, [-128, 127] */
    int32_t output_zero_point;  /**< int8 zero point of the output, [-128, 127] */
    tm_nn_tile_t stride;        /**< >= 1 */
    tm_nn_tile_t padding;       /**< >= 0 */
    tm_nn_tile_t dilation;      /**< >= 1 */
    int32_t depth_multiplier;   /**< depthwise only: C_OUT = C_IN * depth_multiplier, >= 1 */
    tm_nn_activation_t activation;
} tm_nn_conv_params_t;

/** Scratch bytes tm_nn_conv2d_s8() needs for these shapes (0 for the reference kernel). */
int32_t tm_nn_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                        const tm_nn_dims_t *filter_dims);

/** 2-D convolution, int8 in / int8 out, int32 accumulation.
 *  - input:  Format [N, H_IN, W_IN, C_IN], int8, zero point params->input_zero_point
 *  - filter: Format [C_OUT, KH, KW, C_IN], int8, symmetric per channel (zero point 0)
 *  - bias:   Format [C_OUT], int32, may be NULL (all zero)
 *  - output: Format [N, H_OUT, W_OUT, C_OUT], int8, clamped to params->activation
 *  Output dims are the caller's: output_dims->n must equal input_dims->n and c must equal
 *  filter_dims->n. Input taps falling into padding contribute nothing (they equal the
 *  input zero point). ctx may be NULL when the buffer size is 0. */
tm_nn_status_t tm_nn_conv2d_s8(const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,
                               const tm_nn_per_channel_quant_t *quant,
                               const tm_nn_dims_t *input_dims, const int8_t *input,
                               const tm_nn_dims_t *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const tm_nn_dims_t *output_dims, int8_t *output);

/** Scratch bytes tm_nn_depthwise_conv2d_s8() needs (0 for the reference kernel). */
int32_t tm_nn_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                                  const tm_nn_dims_t *filter_dims);

/** Depthwise 2-D convolution. Output channel oc reads input channel oc / depth_multiplier.
 *  - input:  Format [N, H_IN, W_IN, C_IN], int8
 *  - filter: Format [1, KH, KW, C_OUT], int8, symmetric per channel (zero point 0)
 *  - bias:   Format [C_OUT], int32, may be NULL
 *  - output: Format [N, H_OUT, W_OUT, C_OUT], int8; C_OUT = C_IN * depth_multiplier */
tm_nn_status_t tm_nn_depthwise_conv2d_s8(const tm_nn_context_t *ctx,
                                         const tm_nn_conv_params_t *params,
                                         const tm_nn_per_channel_quant_t *quant,
                                         const tm_nn_dims_t *input_dims, const int8_t *input,
                                         const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                         const int32_t *bias,
                                         const tm_nn_dims_t *output_dims, int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Fully connected
 * ------------------------------------------------------------------------------------- */

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    tm_nn_activation_t activation;
} tm_nn_fc_params_t;

/** Scratch bytes tm_nn_fully_connected_s8() needs (0 for the reference kernel). */
int32_t tm_nn_fully_connected_s8_get_buffer_size(const tm_nn_dims_t *filter_dims);

/** Fully connected layer: out[b, o] = requant(sum_i (in[b, i] - zp_in) * w[o, i] + bias[o]).
 *  - input:  batches x ACCUM_DEPTH int8, where ACCUM_DEPTH = filter_dims->c and
 *            batches = input_dims->n * h * w * c / ACCUM_DEPTH (a flattened NHWC tensor)
 *  - filter: Format [C_OUT, 1, 1, ACCUM_DEPTH] (filter_dims->n = C_OUT), int8, per channel
 *  - bias:   Format [C_OUT], int32, may be NULL
 *  - output: Format [batches, C_OUT] (output_dims->n = batches, c = C_OUT), int8
 *  A per-tensor weight scale is passed as C_OUT equal multiplier/shift entries. */
tm_nn_status_t tm_nn_fully_connected_s8(const tm_nn_context_t *ctx,
                                        const tm_nn_fc_params_t *params,
                                        const tm_nn_per_channel_quant_t *quant,
                                        const tm_nn_dims_t *input_dims, const int8_t *input,
                                        const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                        const int32_t *bias,
                                        const tm_nn_dims_t *output_dims, int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Pooling (input and output share scale and zero point, as TFLite requires)
 * ------------------------------------------------------------------------------------- */

typedef struct {
    tm_nn_tile_t stride;   /**< >= 1 */
    tm_nn_tile_t padding;  /**< top/left, >= 0; padded taps are skipped, not counted */
    tm_nn_tile_t filter;   /**< window size, >= 1 */
    tm_nn_activation_t activation;
} tm_nn_pool_params_t;

/** Max pooling. input Format [N, H_IN, W_IN, C], output Format [N, H_OUT, W_OUT, C], int8.
 *  A window lying entirely in the padding returns TM_NN_ARG_ERROR. */
tm_nn_status_t tm_nn_max_pool_s8(const tm_nn_pool_params_t *params,
                                 const tm_nn_dims_t *input_dims, const int8_t *input,
                                 const tm_nn_dims_t *output_dims, int8_t *output);

/** Scratch bytes tm_nn_avg_pool_s8() needs (0 for the reference kernel). */
int32_t tm_nn_avg_pool_s8_get_buffer_size(const tm_nn_dims_t *output_dims);

/** Average pooling with TFLite's rounding: sum of the in-bounds taps divided by their
 *  count, rounded half away from zero ((sum +/- count/2) / count, truncating), then
 *  clamped. Global average pooling is this kernel with filter = (H_IN, W_IN), stride 1,
 *  padding 0 and a 1x1 output.
 *  input Format [N, H_IN, W_IN, C], output Format [N, H_OUT, W_OUT, C], int8. */
tm_nn_status_t tm_nn_avg_pool_s8(const tm_nn_context_t *ctx, const tm_nn_pool_params_t *params,
                                 const tm_nn_dims_t *input_dims, const int8_t *input,
                                 const tm_nn_dims_t *output_dims, int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Elementwise add
 * ------------------------------------------------------------------------------------- */

/** TFLite int8 ADD parameters. Fill with tm_nn_add_prepare() from the three scales. */
typedef struct {
    int32_t input1_zero_point;
    int32_t input2_zero_point;
    int32_t output_zero_point;
    int32_t left_shift;          /**< 20 for int8, as TFLite */
    int32_t input1_multiplier;
    int32_t input1_shift;        /**< <= 0 */
    int32_t input2_multiplier;
    int32_t input2_shift;        /**< <= 0 */
    int32_t output_multiplier;
    int32_t output_shift;        /**< <= 0 */
    tm_nn_activation_t activation;
} tm_nn_add_params_t;

/** Host-side helper: TFLite's int8 ADD preparation. With m = 2 * max(s1, s2):
 *  input k multiplier = s_k / m, output multiplier = m / (2^20 * s_out). Sets left_shift
 *  to 20 and the activation to [-128, 127]; zero points are copied. */
tm_nn_status_t tm_nn_add_prepare(double input1_scale, int32_t input1_zero_point,
                                 double input2_scale, int32_t input2_zero_point,
                                 double output_scale, int32_t output_zero_point,
                                 tm_nn_add_params_t *params);

/** out[i] = requant(in1[i], in2[i]) for i < size, TFLite's int8 ADD arithmetic:
 *  each input (q - zp) << left_shift is scaled by its multiplier, the sum is scaled by the
 *  output multiplier, the output zero point added and the result clamped. Shapes must match
 *  (no broadcasting); size = N * H * W * C. */
tm_nn_status_t tm_nn_add_s8(const tm_nn_add_params_t *params, const int8_t *input1,
                            const int8_t *input2, int8_t *output, int32_t size);

/* ---------------------------------------------------------------------------------------
 * Softmax
 * ------------------------------------------------------------------------------------- */

typedef struct {
    float input_scale;  /**< scale of the int8 input, > 0 */
    float beta;         /**< softmax temperature, usually 1, > 0 */
} tm_nn_softmax_params_t;

/** TFLite's integer form of the parameters (PreprocessSoftmaxScaling with 5 integer bits):
 *  beta * input_scale * 2^26 = multiplier * 2^(left_shift - 31), multiplier in
 *  [2^30, 2^31); diff_min = -floor(31 * 2^26 / 2^left_shift). */
typedef struct {
    int32_t multiplier;
    int32_t left_shift;
    int32_t diff_min;
} tm_nn_softmax_quant_t;

/** Derives the integer parameters from input_scale and beta, exactly (integer arithmetic on
 *  the two floats' bits, no FPU or libm). TM_NN_ARG_ERROR unless both are positive and
 *  finite and 2^-27 <= beta * input_scale < 32 (outside, TFLite's own arithmetic fails). */
tm_nn_status_t tm_nn_softmax_quantize(const tm_nn_softmax_params_t *params,
                                      tm_nn_softmax_quant_t *out);

/** Softmax over the last dimension with integer parameters (what CMSIS-NN's
 *  arm_softmax_s8 takes): int8 in, int8 out with scale 1/256 and zero point -128. TFLite's
 *  integer definition (the reference kernel of TFLite Micro): fixed-point exp of
 *  (q - max) * beta * input_scale, a Q12.19 sum, its reciprocal by Newton-Raphson, entries
 *  below diff_min give -128. Integer operations only: the same bits on every target.
 *  row_size < 4096. input, output: rows x row_size int8, row-major. */
tm_nn_status_t tm_nn_softmax_s8_quantized(const tm_nn_softmax_quant_t *q, const int8_t *input,
                                          int32_t rows, int32_t row_size, int8_t *output);

/** tm_nn_softmax_quantize, then tm_nn_softmax_s8_quantized. The input zero point cancels
 *  and is not needed. */
tm_nn_status_t tm_nn_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                int32_t rows, int32_t row_size, int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Anomaly scores (model::OpType KMeansScore, GmmScore, SquaredError)
 *
 * Integers only, no FPU: the host reference and every device compute the same bits by
 * construction. Each kernel forms an exact integer score S (int64, in units u that the
 * caller chose when quantizing), then one requantization gives the int8 output:
 *   L = INT32_MAX >> max(shift, 0)                  (so the MBQM's left shift cannot wrap)
 *   y = clamp(output_zero_point + MBQM(clamp(S, -L, L), multiplier, shift), -128, 127)
 * with multiplier/shift = tm_nn_quantize_multiplier(u / output_scale). Whenever
 * L * u / output_scale >= 256 (the quantizer sees to it) the saturation at L never changes
 * y. Sums stop early once they pass L (their terms are >= 0), which gives the same y.
 * ------------------------------------------------------------------------------------- */

/** Requantization of an integer score to the int8 output (see above). */
typedef struct {
    int32_t output_zero_point;  /**< [-128, 127] */
    int32_t multiplier;         /**< Q31, >= 0 */
    int32_t shift;              /**< [-31, 31] */
} tm_nn_score_params_t;

/** L of the section comment: scores are saturated to [-L, L] before the requantization. */
int64_t tm_nn_score_limit(const tm_nn_score_params_t *params);
/** The shared last step: y = clamp(zp + MBQM(clamp(score, -L, L), multiplier, shift)). */
int8_t tm_nn_score_requantize_s8(int64_t score, const tm_nn_score_params_t *params);

/** K-means score: S = min_k sum_d (x_d - c_kd)^2, in units u = s_x^2.
 *  - input:     [depth] int8 (scale s_x, zero point z_x)
 *  - centroids: [clusters, depth] int32 in the input's integer domain, c_q = round(c / s_x) + z_x,
 *               each in [-2^20, 2^20] (not clamped to int8: a centroid outside the input's
 *               range keeps its true distance)
 *  - output:    one int8. Returns TM_NN_ARG_ERROR for out-of-range table entries. */
tm_nn_status_t tm_nn_kmeans_score_s8(const tm_nn_score_params_t *params, const int8_t *input,
                                     int32_t depth, const int32_t *centroids, int32_t clusters,
                                     int8_t *output);

/** Hard Gaussian-mixture NLL: S = min_k (offset_k + sum_d (x_d - mu_kd)^2 * iv_kd), in units
 *  u = s_x^2 * s_iv / 2 (the 1/2 of the NLL's quadratic form is in u).
 *  - means:    [components, depth] int32 as the K-means centroids, each in [-2^20, 2^20]
 *  - inv_vars: [components, depth] int32, iv = round(1 / var / s_iv), each in [0, 2^20]
 *  - offsets:  [components] int32, round(offset_k / u)
 *  - output:   one int8. */
tm_nn_status_t tm_nn_gmm_score_s8(const tm_nn_score_params_t *params, const int8_t *input,
                                  int32_t depth, const int32_t *means, const int32_t *inv_vars,
                                  const int32_t *offsets, int32_t components, int8_t *output);

/** Reconstruction error: S = sum_i (a_i - b_i)^2 over size int8 elements that share one scale
 *  s and zero point (the zero point cancels), in units u = s^2 / size (the mean).
 *  Output: one int8. */
tm_nn_status_t tm_nn_squared_error_s8(const tm_nn_score_params_t *params, const int8_t *a,
                                      const int8_t *b, int32_t size, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TM_NN_H */
