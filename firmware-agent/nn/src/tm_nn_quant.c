/*
 * tm_nn_quant.c — TFLite's fixed-point requantization and the host-side multiplier split.
 */
#include <math.h>

#include "tm_nn_internal.h"

int32_t tm_nn_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* Truncating division, not an arithmetic shift: that is what makes -0.5 round to 0
     * in gemmlowp, and the tests pin it. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t tm_nn_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    if (exponent <= 0) {
        return x;
    }
    /* In uint32: 1 << 31 on int is undefined behaviour. */
    const int32_t mask = (int32_t)(((uint32_t)1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* >> on a negative int32 is implementation-defined in C99; gcc and clang shift
     * arithmetically on every target we build for. */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t tm_nn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    /* TFLite writes x * (1 << left_shift); signed overflow is undefined in C, so shift in
     * uint32 and wrap, which is what two's-complement hardware does with TFLite's code. */
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return tm_nn_rounding_divide_by_pot(tm_nn_sat_rounding_doubling_high_mul(shifted, multiplier),
                                        right_shift);
}

tm_nn_status_t tm_nn_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    TM_NN_PRECONDITION(multiplier != NULL && shift != NULL);
    /* real == real rejects NaN; below 2^30 the shift stays <= 31 even after the carry. */
    TM_NN_PRECONDITION(real == real && real >= 0.0 && real < 1073741824.0);
    if (real == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return TM_NN_OK;
    }
    int exponent = 0;
    const double q = frexp(real, &exponent); /* real = q * 2^exponent, q in [0.5, 1) */
    /* q * 2^31 is exact (a power-of-two scaling); rounding half away from zero of a
     * positive value is floor(v + 0.5), and v + 0.5 is exact because v < 2^31. */
    int64_t q_fixed = (int64_t)(q * 2147483648.0 + 0.5);
    if (q_fixed == ((int64_t)1 << 31)) {
        q_fixed /= 2;
        ++exponent;
    }
    if (exponent < -31) {
        /* Every bit would be shifted out: TFLite flushes such multipliers to zero. */
        q_fixed = 0;
        exponent = 0;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = exponent;
    return TM_NN_OK;
}
