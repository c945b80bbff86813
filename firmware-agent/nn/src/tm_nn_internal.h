/*
 * tm_nn_internal.h — shared by the kernel sources, not installed.
 */
#ifndef TM_NN_INTERNAL_H
#define TM_NN_INTERNAL_H

#include "tm_nn.h"
#include "tm_nn_variants.h"

/** Return TM_NN_ARG_ERROR from the calling kernel when cond is false. Cheap enough to keep
 *  in release builds: it runs once per kernel call, never per element. */
#define TM_NN_PRECONDITION(cond)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return TM_NN_ARG_ERROR;                                                                \
        }                                                                                          \
    } while (0)

/** Like TM_NN_PRECONDITION but reports a missing or short scratch buffer. */
#define TM_NN_PRECONDITION_BUFFER(ctx, needed)                                                     \
    do {                                                                                           \
        if ((needed) > 0 && ((ctx) == NULL || (ctx)->buf == NULL || (ctx)->size < (needed))) {     \
            return TM_NN_BUFFER_ERROR;                                                             \
        }                                                                                          \
    } while (0)

static inline int tm_nn_dims_valid(const tm_nn_dims_t *d)
{
    return d != NULL && d->n > 0 && d->h > 0 && d->w > 0 && d->c > 0;
}

static inline int tm_nn_activation_valid(const tm_nn_activation_t *a)
{
    return a->min >= -128 && a->max <= 127 && a->min <= a->max;
}

static inline int tm_nn_zero_point_valid(int32_t zp)
{
    return zp >= -128 && zp <= 127;
}

static inline int8_t tm_nn_clamp_s8(int32_t v, const tm_nn_activation_t *a)
{
    if (v < a->min) {
        v = a->min;
    }
    if (v > a->max) {
        v = a->max;
    }
    return (int8_t)v;
}

/* int32 accumulation (bias + products, then + output zero point) wraps modulo 2^32: that
 * is what TFLite Micro's and CMSIS-NN's int32 adds give on two's-complement hardware
 * (SMLAD and ADD wrap, and TFLite removes its own signed-overflow UB by adding in the
 * unsigned type). In C a signed overflow is undefined, so the kernels sum in uint32, where
 * wrapping is defined, and convert back with tm_nn_s32_from_u32. A bias near the int32
 * limits (tiny weight scales) thus gives the same bytes on the host, on every device and,
 * for an optimized kernel built on CMSIS-NN, in the bit-for-bit comparison. */

/** The int32 whose two's-complement bits are u (C99 leaves the plain cast of an
 *  out-of-range value implementation-defined; this compiles to nothing). */
static inline int32_t tm_nn_s32_from_u32(uint32_t u)
{
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 2147483648u) - INT32_MAX - 1;
}

/** a + b modulo 2^32. */
static inline int32_t tm_nn_add_wrap_s32(int32_t a, int32_t b)
{
    return tm_nn_s32_from_u32((uint32_t)a + (uint32_t)b);
}

/** Largest element count a kernel accepts, so that index arithmetic in int32 cannot
 *  overflow: 2^30 elements is far beyond any microcontroller tensor. */
#define TM_NN_MAX_ELEMENTS (1L << 30)

/* For dims that tm_nn_dims_valid accepted (all positive): the product, checked step by step
 * so that no multiplication overflows (a 64-bit product of four int32 could). */
static inline int tm_nn_dims_count_ok(const tm_nn_dims_t *d)
{
    uint32_t n;
    return !__builtin_mul_overflow((uint32_t)d->n, (uint32_t)d->h, &n) &&
           !__builtin_mul_overflow(n, (uint32_t)d->w, &n) &&
           !__builtin_mul_overflow(n, (uint32_t)d->c, &n) && n <= (uint32_t)TM_NN_MAX_ELEMENTS;
}

/* Parameter and shape checks shared by the reference and the optimized kernels, so both
 * accept exactly the same calls. */
tm_nn_status_t tm_nn_check_conv(const tm_nn_conv_params_t *p, const tm_nn_per_channel_quant_t *q,
                                const tm_nn_dims_t *in, const tm_nn_dims_t *f,
                                const tm_nn_dims_t *out);
static inline int32_t tm_nn_max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static inline int32_t tm_nn_min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/** The taps of a pooling window inside the input along one axis: input positions
 *  start + [k0, k1) for output position o (tm_nn_check_pool makes the range non-empty). */
typedef struct {
    int32_t start, k0, k1;
} tm_nn_pool_span_t;

static inline tm_nn_pool_span_t tm_nn_pool_span(int32_t stride, int32_t padding, int32_t filter,
                                                int32_t in, int32_t o)
{
    tm_nn_pool_span_t s;
    s.start = o * stride - padding;
    s.k0 = tm_nn_max_i32(0, -s.start);
    s.k1 = tm_nn_min_i32(filter, in - s.start);
    return s;
}

/* TFLite's average: round half away from zero with truncating division. */
static inline int32_t tm_nn_pool_average(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

tm_nn_status_t tm_nn_check_pool(const tm_nn_pool_params_t *p, const tm_nn_dims_t *in,
                                const int8_t *input, const tm_nn_dims_t *out, const int8_t *output);
/** *batches_out receives the number of input rows of filter_dims->c values. */
tm_nn_status_t tm_nn_check_add(const tm_nn_add_params_t *params, const int8_t *input1,
                               const int8_t *input2, const int8_t *output, int32_t size);
tm_nn_status_t tm_nn_check_fc(const tm_nn_fc_params_t *params,
                              const tm_nn_per_channel_quant_t *quant,
                              const tm_nn_dims_t *input_dims, const int8_t *input,
                              const tm_nn_dims_t *filter_dims, const int8_t *filter,
                              const tm_nn_dims_t *output_dims, const int8_t *output,
                              int32_t *batches_out);

#endif /* TM_NN_INTERNAL_H */
