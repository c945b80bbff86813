// Golden cases for TFLite's fixed-point requantization as tm_nn implements it.
// Every expected value below is worked out by hand in the comment next to it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "tm_nn.h"

namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kHalf = 1 << 30;  // 0.5 in Q31

TEST(SatRoundingDoublingHighMul, ExactProducts)
{
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(kHalf, kHalf), 1 << 29);  // 0.5 * 0.5
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(0, kMax), 0);
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(-8, kHalf), -4);
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(8, kHalf), 4);
}

TEST(SatRoundingDoublingHighMul, TiesGoTowardsPlusInfinity)
{
    // x * 0.5 lands on .5: gemmlowp's truncating division with a sign-dependent nudge.
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(1, kHalf), 1);    //  0.5 ->  1
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(3, kHalf), 2);    //  1.5 ->  2
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(-1, kHalf), 0);   // -0.5 ->  0
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(-3, kHalf), -1);  // -1.5 -> -1
    // Just past the tie rounds to nearest as usual: -0.5 - 2^-31 -> -1.
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(-1, kHalf + 1), -1);
}

TEST(SatRoundingDoublingHighMul, SaturatesOnlyAtMinTimesMin)
{
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(kMin, kMin), kMax);
    // (2^31 - 1)^2 / 2^31 = 2^31 - 2 + (1 + 2^30) / 2^31 -> 2^31 - 2.
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(kMax, kMax), kMax - 1);
    // -2^31 * (2^31 - 1) / 2^31 = -(2^31 - 1) exactly.
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(kMin, kMax), -kMax);
    EXPECT_EQ(tm_nn_sat_rounding_doubling_high_mul(kMin, kHalf), -(1 << 30));
}

TEST(RoundingDivideByPot, TiesAwayFromZero)
{
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(5, 1), 3);    //  2.5  ->  3
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-5, 1), -3);  // -2.5  -> -3
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(3, 1), 2);    //  1.5  ->  2
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-3, 1), -2);  // -1.5  -> -2
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(6, 2), 2);    //  1.5  ->  2
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-6, 2), -2);  // -1.5  -> -2
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-5, 2), -1);  // -1.25 -> -1
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-7, 2), -2);  // -1.75 -> -2
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(5, 2), 1);    //  1.25 ->  1
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-2, 2), -1);  // -0.5  -> -1
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(2, 2), 1);    //  0.5  ->  1
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(1, 2), 0);    //  0.25 ->  0
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-1, 2), 0);   // -0.25 ->  0
}

TEST(RoundingDivideByPot, ExtremeExponents)
{
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(12345, 0), 12345);
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(kMax, 31), 1);   // 0.99999... -> 1
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(kMin, 31), -1);  // -1 exactly
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(1 << 30, 31), 1);     //  0.5 ->  1
    EXPECT_EQ(tm_nn_rounding_divide_by_pot(-(1 << 30), 31), -1); // -0.5 -> -1
}

TEST(MultiplyByQuantizedMultiplier, RightShiftRounding)
{
    // 10 * 0.5 / 4 = 1.25: SRDHM gives 5 exactly, then 5 / 4 -> 1.
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(10, kHalf, -2), 1);
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(-10, kHalf, -2), -1);
    // 6 * 0.5 / 2 = 1.5 -> 2 and -1.5 -> -2: the tie is in the divide, away from zero.
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(6, kHalf, -1), 2);
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(-6, kHalf, -1), -2);
    // 3 * 0.5 = 1.5 with shift 0: the tie is in SRDHM, so -1.5 -> -1 (TFLite does the same).
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(3, kHalf, 0), 2);
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(-3, kHalf, 0), -1);
    // Two roundings: 7 * 0.5 = 3.5 -> 4 in SRDHM, then 4 / 8 = 0.5 -> 1 (exact: 0.4375 -> 0).
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(7, kHalf, -3), 1);
}

TEST(MultiplyByQuantizedMultiplier, LeftShift)
{
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(100, kHalf, 2), 200);   // 100 * 4 * 0.5
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(-100, kHalf, 2), -200);
    // 0.75 * 2^3 = 6: 5 * 6 = 30.
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(5, 3 << 29, 3), 30);
    // Near the top: (2^28 - 1) * 4 * 0.5 = 2^29 - 2.
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier((1 << 28) - 1, kHalf, 2), (1 << 29) - 2);
}

TEST(MultiplyByQuantizedMultiplier, SaturationAtInt32Limits)
{
    // Largest multiplier at shift 0 keeps INT32_MAX within one LSB of itself...
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(kMax, kMax, 0), kMax - 1);
    // ...and the SRDHM saturation reaches the result only through INT32_MIN * INT32_MIN,
    // which a non-negative multiplier never produces: INT32_MIN * ~1.0 stays INT32_MIN + 1.
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(kMin, kMax, 0), kMin + 1);
    EXPECT_EQ(tm_nn_multiply_by_quantized_multiplier(kMin, kMax, -31), -1);
}

TEST(MultiplyByQuantizedMultiplier, AgreesWithRealArithmeticWithinOne)
{
    std::mt19937 rng(7);
    std::uniform_int_distribution<int32_t> xs(-(1 << 24), 1 << 24);
    std::uniform_real_distribution<double> reals(-20.0, 0.0);
    for (int i = 0; i < 20000; ++i) {
        const double real = std::exp2(reals(rng));
        int32_t m = 0, s = 0;
        ASSERT_EQ(tm_nn_quantize_multiplier(real, &m, &s), TM_NN_OK);
        const int32_t x = xs(rng);
        const double exact = static_cast<double>(x) * m * std::exp2(s - 31);
        const int32_t got = tm_nn_multiply_by_quantized_multiplier(x, m, s);
        ASSERT_LE(std::fabs(got - exact), 1.0) << "x=" << x << " m=" << m << " s=" << s;
    }
}

TEST(QuantizeMultiplier, PowersOfTwoAndFractions)
{
    int32_t m = -1, s = -1;
    ASSERT_EQ(tm_nn_quantize_multiplier(0.5, &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf);
    EXPECT_EQ(s, 0);
    ASSERT_EQ(tm_nn_quantize_multiplier(0.25, &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf);
    EXPECT_EQ(s, -1);
    ASSERT_EQ(tm_nn_quantize_multiplier(1.0, &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf);
    EXPECT_EQ(s, 1);
    ASSERT_EQ(tm_nn_quantize_multiplier(0.75, &m, &s), TM_NN_OK);
    EXPECT_EQ(m, 3 << 29);
    EXPECT_EQ(s, 0);
    ASSERT_EQ(tm_nn_quantize_multiplier(6.0, &m, &s), TM_NN_OK);
    EXPECT_EQ(m, 3 << 29);
    EXPECT_EQ(s, 3);
    ASSERT_EQ(tm_nn_quantize_multiplier(0.0, &m, &s), TM_NN_OK);
    EXPECT_EQ(m, 0);
    EXPECT_EQ(s, 0);
}

TEST(QuantizeMultiplier, RoundsSignificandHalfAwayFromZero)
{
    // With exponent 0, real * 2^31 is the Q31 significand before rounding.
    int32_t m = 0, s = 0;
    // 2^30 + 0.5 (2^-32 * 2^31 = 0.5): a tie, away from zero -> 2^30 + 1 (half-even: 2^30).
    ASSERT_EQ(tm_nn_quantize_multiplier(0.5 + std::ldexp(1.0, -32), &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf + 1);
    EXPECT_EQ(s, 0);
    // 2^30 + 1.5 -> 2^30 + 2 (half-even agrees here; pins the upward direction).
    ASSERT_EQ(tm_nn_quantize_multiplier(0.5 + 3.0 * std::ldexp(1.0, -32), &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf + 2);
    // 2^30 + 0.75 -> 2^30 + 1; 2^30 + 0.25 -> 2^30.
    ASSERT_EQ(tm_nn_quantize_multiplier(0.5 + std::ldexp(1.0, -32) + std::ldexp(1.0, -33), &m, &s),
              TM_NN_OK);
    EXPECT_EQ(m, kHalf + 1);
    ASSERT_EQ(tm_nn_quantize_multiplier(0.5 + std::ldexp(1.0, -33), &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf);
}

TEST(QuantizeMultiplier, CarryInto2Pow31BumpsTheShift)
{
    int32_t m = 0, s = 0;
    // 1 - 2^-40: significand * 2^31 = 2^31 - 2^-9 rounds to 2^31, which does not fit.
    ASSERT_EQ(tm_nn_quantize_multiplier(1.0 - std::ldexp(1.0, -40), &m, &s), TM_NN_OK);
    EXPECT_EQ(m, kHalf);
    EXPECT_EQ(s, 1);
}

TEST(QuantizeMultiplier, TinyValuesFlushToZero)
{
    int32_t m = -1, s = -1;
    ASSERT_EQ(tm_nn_quantize_multiplier(std::ldexp(1.0, -32), &m, &s), TM_NN_OK);  // shift -31
    EXPECT_EQ(m, kHalf);
    EXPECT_EQ(s, -31);
    ASSERT_EQ(tm_nn_quantize_multiplier(std::ldexp(1.0, -33), &m, &s), TM_NN_OK);  // shift -32
    EXPECT_EQ(m, 0);
    EXPECT_EQ(s, 0);
}

TEST(QuantizeMultiplier, RejectsBadInput)
{
    int32_t m = 0, s = 0;
    EXPECT_EQ(tm_nn_quantize_multiplier(-0.5, &m, &s), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_quantize_multiplier(std::nan(""), &m, &s), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_quantize_multiplier(INFINITY, &m, &s), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_quantize_multiplier(std::ldexp(1.0, 30), &m, &s), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_quantize_multiplier(0.5, nullptr, &s), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_quantize_multiplier(0.5, &m, nullptr), TM_NN_ARG_ERROR);
}

TEST(QuantizeMultiplier, RepresentsTheRealWithin2Pow31)
{
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> reals(-30.0, 29.0);
    for (int i = 0; i < 10000; ++i) {
        const double real = std::exp2(reals(rng));
        int32_t m = 0, s = 0;
        ASSERT_EQ(tm_nn_quantize_multiplier(real, &m, &s), TM_NN_OK);
        ASSERT_GE(m, kHalf);
        const double back = m * std::exp2(s - 31);
        ASSERT_LE(std::fabs(back - real) / real, std::ldexp(1.0, -31)) << real;
    }
}

}  // namespace
