/*
 * tm_nn_softmax.c — int8 softmax with TFLite's integer definition (the reference kernel of
 * TensorFlow Lite for Microcontrollers, which CMSIS-NN's arm_softmax_s8 also reproduces):
 * exp() and 1/x in gemmlowp-style fixed point, so every target computes the same bits with
 * integer operations only.
 *
 * Parameters (TFLite's PreprocessSoftmaxScaling with 5 integer bits for the scaled
 * difference): real = beta * input_scale * 2^26, split into a Q0.31 multiplier in
 * [2^30, 2^31) and a left shift; diff_min = -floor(31 * 2^26 / 2^left_shift).
 * Per row: diff = q - max; entries with diff < diff_min give exp = 0 and output -128;
 * the others x = SRDHM(diff << left_shift, multiplier) (Q5.26), e = exp(x) (Q0.31),
 * sum = sum of RDBPOT(e, 12) (Q12.19); 1/sum from the reciprocal of a value in [1, 2)
 * by Newton-Raphson; out = RDBPOT(SRDHM(1/sum, e), bits_over_unit + 23) - 128, clamped.
 * SRDHM = saturating rounding doubling high multiply, RDBPOT = rounding divide by a power
 * of two (tm_nn_quant.c).
 */
#include <string.h>

#include "tm_nn_internal.h"

/* Saturating x * 2^exponent for exponent in 1..30 (gemmlowp's SaturatingRoundingMultiplyByPOT
 * for a positive exponent). */
static int32_t sat_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)(((uint32_t)1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

static int32_t mul(int32_t a, int32_t b)
{
    return tm_nn_sat_rounding_doubling_high_mul(a, b);
}

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31: exp(-1/8) * exp(a + 1/8) with the
 * Taylor polynomial of degree 4 around 0 for the second factor. */
static int32_t exp_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;              /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                  /* a + 1/8 */
    const int32_t x2 = mul(x, x);
    const int32_t x3 = mul(x2, x);
    const int32_t x4 = mul(x2, x2);
    const int32_t x4_over_4 = tm_nn_rounding_divide_by_pot(x4, 2);
    /* (x^4/4 + x^3) / 3 + x^2, halved: x^4/24 + x^3/6 + x^2/2 */
    const int32_t poly = tm_nn_rounding_divide_by_pot(mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 in Q5.26; the result in Q0.31. a = (a mod 1/4) - 1/4 - r, with r a
 * sum of powers of two from 1/4 to 16; each bit of r multiplies by its exp(-2^k). */
static int32_t exp_negative_q5_26(int32_t a)
{
    static const int32_t exp_minus_pot[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242,        /* exp(-16)  */
    };
    if (a == 0) {
        return INT32_MAX; /* one, as close as Q0.31 gets */
    }
    const int32_t quarter = 1 << 24; /* 1/4 in Q5.26 */
    const int32_t mod_minus_quarter = (a & (quarter - 1)) - quarter;
    /* Q5.26 -> Q0.31: five bits left; the value lies in [-1/4, 0), no saturation. */
    int32_t result = exp_quarter_interval(sat_shift_left(mod_minus_quarter, 5));
    const int32_t remainder = mod_minus_quarter - a;
    for (int k = 0; k < 7; ++k) {
        if (remainder & (1 << (24 + k))) {
            result = mul(result, exp_minus_pot[k]);
        }
    }
    return result;
}

/* 1 / (1 + x) for x in [0, 1), x and the result in Q0.31: three Newton-Raphson steps for
 * the reciprocal of d = (1 + x) / 2 in Q2.29, from 48/17 - 32/17 d, then halved. */
static int32_t one_over_one_plus_x(int32_t x)
{
    /* (x + one) / 2, rounded half away from zero */
    const int64_t sum = (int64_t)x + INT32_MAX;
    const int32_t half_d = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810;      /* 48/17 in Q2.29 */
    const int32_t c_neg32_17 = -1010580540; /* -32/17 in Q2.29 */
    int32_t r = c48_17 + mul(half_d, c_neg32_17);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_d_r = (1 << 29) - mul(half_d, r); /* Q2.29 */
        r = r + sat_shift_left(mul(r, one_minus_d_r), 2);      /* Q4.27 -> Q2.29 */
    }
    return sat_shift_left(r, 1); /* r / 2 in Q1.30, as Q0.31 */
}

static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    while (n < 32 && !(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* A positive finite float as m * 2^e with an integer mantissa m < 2^24. */
static int float_parts(float f, uint32_t *m, int32_t *e)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    const uint32_t biased = (bits >> 23) & 0xFFu;
    if ((bits >> 31) != 0 || biased == 0xFFu) {
        return 0;
    }
    if (biased == 0) {
        *m = bits & 0x7FFFFFu;
        *e = -126 - 23;
    } else {
        *m = (bits & 0x7FFFFFu) | 0x800000u;
        *e = (int32_t)biased - 127 - 23;
    }
    return *m != 0;
}

tm_nn_status_t tm_nn_softmax_quantize(const tm_nn_softmax_params_t *params, tm_nn_softmax_quant_t *out)
{
    TM_NN_PRECONDITION(params != NULL && out != NULL);
    uint32_t m1, m2;
    int32_t e1, e2;
    TM_NN_PRECONDITION(float_parts(params->input_scale, &m1, &e1) && float_parts(params->beta, &m2, &e2));
    /* real = beta * input_scale * 2^26 = p * 2^x exactly (two 24-bit mantissas). */
    const uint64_t p = (uint64_t)m1 * m2;
    const int32_t x = e1 + e2 + 26;
    int32_t n = 0; /* bit length of p */
    while (n < 64 && (p >> n) != 0) {
        ++n;
    }
    /* real = (p / 2^n) * 2^(n + x) with p / 2^n in [1/2, 1) */
    int32_t shift = n + x;
    /* TFLite needs real >= 1/2 (a left shift >= 0) and clamps real to 2^31 - 1, where its
     * own arithmetic overflows: refuse beta * input_scale outside [2^-27, 32). */
    TM_NN_PRECONDITION(shift >= 0 && shift <= 31);
    int64_t q;
    if (n <= 31) {
        q = (int64_t)(p << (31 - n));
    } else {
        /* round half away from zero (positive) of p / 2^(n - 31) */
        q = (int64_t)((p + ((uint64_t)1 << (n - 32))) >> (n - 31));
    }
    if (q == ((int64_t)1 << 31)) {
        q /= 2;
        ++shift;
    }
    TM_NN_PRECONDITION(shift <= 31);
    out->multiplier = (int32_t)q;
    out->left_shift = shift;
    out->diff_min = -(int32_t)(((int64_t)31 << 26) >> shift);
    return TM_NN_OK;
}

tm_nn_status_t tm_nn_softmax_s8_quantized(const tm_nn_softmax_quant_t *q, const int8_t *input,
                                          int32_t rows, int32_t row_size, int8_t *output)
{
    TM_NN_PRECONDITION(q != NULL && input != NULL && output != NULL);
    TM_NN_PRECONDITION(rows > 0 && row_size > 0);
    TM_NN_PRECONDITION((int64_t)rows * row_size <= TM_NN_MAX_ELEMENTS);
    TM_NN_PRECONDITION(q->multiplier >= (1 << 30) && q->left_shift >= 0 && q->left_shift <= 31);
    TM_NN_PRECONDITION(q->diff_min <= 0);
    /* The Q12.19 sum holds at most 4095 ones. */
    TM_NN_PRECONDITION(row_size < 4096);
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *in = input + (size_t)r * row_size;
        int8_t *out = output + (size_t)r * row_size;
        int32_t max_q = -128;
        for (int32_t i = 0; i < row_size; ++i) {
            max_q = tm_nn_max_i32(max_q, in[i]);
        }
        int32_t sum = 0; /* Q12.19 */
        for (int32_t i = 0; i < row_size; ++i) {
            const int32_t diff = (int32_t)in[i] - max_q;
            if (diff >= q->diff_min) {
                const int32_t x = mul((int32_t)((uint32_t)diff << q->left_shift), q->multiplier);
                sum += tm_nn_rounding_divide_by_pot(exp_negative_q5_26(x), 12);
            }
        }
        /* sum >= 1 (the maximum's exp): sum = 2^bits_over_unit * (1 + f), f in [0, 1). */
        const int headroom = count_leading_zeros((uint32_t)sum);
        const int bits_over_unit = 12 - headroom;
        const int32_t f = tm_nn_s32_from_u32(((uint32_t)sum << headroom) - 0x80000000u);
        const int32_t reciprocal = one_over_one_plus_x(f);
        const int32_t exponent = bits_over_unit + 31 - 8;
        for (int32_t i = 0; i < row_size; ++i) {
            const int32_t diff = (int32_t)in[i] - max_q;
            int32_t v = -128;
            if (diff >= q->diff_min) {
                const int32_t x = mul((int32_t)((uint32_t)diff << q->left_shift), q->multiplier);
                v = tm_nn_rounding_divide_by_pot(mul(reciprocal, exp_negative_q5_26(x)), exponent) - 128;
            }
            out[i] = (int8_t)tm_nn_min_i32(tm_nn_max_i32(v, -128), 127);
        }
    }
    return TM_NN_OK;
}

tm_nn_status_t tm_nn_ref_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                    int32_t rows, int32_t row_size, int8_t *output)
{
    tm_nn_softmax_quant_t q;
    const tm_nn_status_t s = tm_nn_softmax_quantize(params, &q);
    if (s != TM_NN_OK) {
        return s;
    }
    return tm_nn_softmax_s8_quantized(&q, input, rows, row_size, output);
}
