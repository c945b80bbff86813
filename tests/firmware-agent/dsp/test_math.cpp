// The deterministic float approximations against double-precision libm: the error bounds
// stated in tm_dsp_math.h are the ones asserted here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "tm_dsp_math.h"

namespace {

// Measured worst errors go into the test report (--gtest_output=xml) in %g form.
std::string sci(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", v);
    return b;
}

float from_bits(uint32_t u)
{
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

TEST(DspMath, SinCosAbsoluteErrorInPrimaryRange)
{
    double worst_sin = 0.0, worst_cos = 0.0;
    for (int i = -2000000; i <= 2000000; ++i) {
        const float x = static_cast<float>(i) * 4e-6f;  // [-8, 8]
        float s, c;
        tm_dsp_sincosf(x, &s, &c);
        worst_sin = std::max(worst_sin, std::fabs(s - std::sin(double(x))));
        worst_cos = std::max(worst_cos, std::fabs(c - std::cos(double(x))));
        ASSERT_EQ(s, tm_dsp_sinf(x));
        ASSERT_EQ(c, tm_dsp_cosf(x));
    }
    RecordProperty("max_abs_error_sin", sci(worst_sin));
    RecordProperty("max_abs_error_cos", sci(worst_cos));
    EXPECT_LE(worst_sin, 1.2e-7);
    EXPECT_LE(worst_cos, 1.2e-7);
}

double worst_sincos_error(float lo, float hi, unsigned seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> xs(lo, hi);
    double worst = 0.0;
    for (int i = 0; i < 1000000; ++i) {
        const float x = xs(rng) * (i % 2 ? 1.0f : -1.0f);
        worst = std::max(worst, std::fabs(tm_dsp_sinf(x) - std::sin(double(x))));
        worst = std::max(worst, std::fabs(tm_dsp_cosf(x) - std::cos(double(x))));
    }
    return worst;
}

TEST(DspMath, SinCosAbsoluteErrorOverTheWholeDomain)
{
    const double float_path = worst_sincos_error(0.0f, 6000.0f, 3);
    const double double_path = worst_sincos_error(6000.0f, 1.0e6f, 4);
    RecordProperty("max_abs_error_sincos_6000", sci(float_path));
    RecordProperty("max_abs_error_sincos_1e6", sci(double_path));
    EXPECT_LE(float_path, 1.2e-7);
    EXPECT_LE(double_path, 1.2e-7);
}

TEST(DspMath, SinCosSpecialValues)
{
    EXPECT_EQ(tm_dsp_sinf(0.0f), 0.0f);
    EXPECT_EQ(tm_dsp_cosf(0.0f), 1.0f);
    EXPECT_TRUE(std::isnan(tm_dsp_sinf(NAN)));
    EXPECT_TRUE(std::isnan(tm_dsp_cosf(INFINITY)));
    EXPECT_TRUE(std::isnan(tm_dsp_sinf(1.5e6f)));  // outside the documented domain
    EXPECT_NEAR(tm_dsp_sinf(1e6f), std::sin(1e6), 1.2e-7);
    EXPECT_NEAR(tm_dsp_cosf(-1e6f), std::cos(-1e6), 1.2e-7);
}

TEST(DspMath, ExpRelativeError)
{
    double worst = 0.0;
    for (int i = 0; i <= 2000000; ++i) {
        const float x = -87.0f + static_cast<float>(i) * (175.72f / 2000000.0f);
        if (x > 88.72f) {
            break;
        }
        const double want = std::exp(double(x));
        worst = std::max(worst, std::fabs(tm_dsp_expf(x) - want) / want);
    }
    RecordProperty("max_rel_error_exp", sci(worst));
    EXPECT_LE(worst, 1.5e-7);
    EXPECT_EQ(tm_dsp_expf(0.0f), 1.0f);
    EXPECT_EQ(tm_dsp_expf(-100.0f), 0.0f);
    EXPECT_TRUE(std::isinf(tm_dsp_expf(89.0f)));
    EXPECT_TRUE(std::isnan(tm_dsp_expf(NAN)));
}

TEST(DspMath, LogErrorOverAllNormalFloats)
{
    // Every 3589th positive normal float: ~590 k values over the whole exponent range.
    double worst_abs_near_one = 0.0, worst_rel = 0.0;
    for (uint32_t u = 0x00800000u; u < 0x7f800000u; u += 3589u) {
        const float x = from_bits(u);
        const double want = std::log(double(x));
        const double err = std::fabs(tm_dsp_logf(x) - want);
        if (x >= 0.5f && x <= 2.0f) {
            worst_abs_near_one = std::max(worst_abs_near_one, err);
        } else {
            worst_rel = std::max(worst_rel, err / std::fabs(want));
        }
    }
    // Dense around 1, where the relative error of a log is hardest.
    for (int i = -1000000; i <= 1000000; ++i) {
        const float x = 1.0f + static_cast<float>(i) * 5e-7f;
        worst_abs_near_one =
            std::max(worst_abs_near_one, std::fabs(tm_dsp_logf(x) - std::log(double(x))));
    }
    RecordProperty("max_abs_error_log_near_1", sci(worst_abs_near_one));
    RecordProperty("max_rel_error_log", sci(worst_rel));
    EXPECT_LE(worst_abs_near_one, 6e-8);
    EXPECT_LE(worst_rel, 1.2e-7);
}

TEST(DspMath, LogSpecialValues)
{
    EXPECT_EQ(tm_dsp_logf(1.0f), 0.0f);
    EXPECT_TRUE(std::isinf(tm_dsp_logf(0.0f)) && tm_dsp_logf(0.0f) < 0.0f);
    EXPECT_TRUE(std::isnan(tm_dsp_logf(-1.0f)));
    EXPECT_TRUE(std::isnan(tm_dsp_logf(NAN)));
    EXPECT_TRUE(std::isinf(tm_dsp_logf(INFINITY)));
    const float sub = from_bits(0x00000100u);  // subnormal
    EXPECT_NEAR(tm_dsp_logf(sub), std::log(double(sub)), 1.2e-7 * 100.0);  // |ln| ~ 98
}

TEST(DspMath, Log10)
{
    double worst = 0.0;
    for (int i = 1; i <= 1000000; ++i) {
        const float x = static_cast<float>(i) * 0.01f;
        const double want = std::log10(double(x));
        worst = std::max(worst, std::fabs(tm_dsp_log10f(x) - want) /
                                    std::max(1.0, std::fabs(want)));
    }
    EXPECT_LE(worst, 2e-7);
    EXPECT_EQ(tm_dsp_log10f(1.0f), 0.0f);
}

TEST(DspMath, SqrtIsCorrectlyRounded)
{
    std::mt19937 rng(5);
    std::uniform_int_distribution<uint32_t> bits(0u, 0x7f7fffffu);
    for (int i = 0; i < 1000000; ++i) {
        const float x = from_bits(bits(rng));
        ASSERT_EQ(tm_dsp_sqrtf(x), std::sqrt(x)) << x;
    }
}

}  // namespace
