// The real FFT against a naive DFT computed in double.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <vector>

#include "tm_dsp_fft.h"

namespace {

std::vector<std::complex<double>> naive_dft(const std::vector<float> &x)
{
    const size_t n = x.size();
    std::vector<std::complex<double>> out(n / 2 + 1);
    for (size_t k = 0; k <= n / 2; ++k) {
        std::complex<double> acc = 0.0;
        for (size_t j = 0; j < n; ++j) {
            const double a = -2.0 * M_PI * double((j * k) % n) / double(n);
            acc += double(x[j]) * std::complex<double>(std::cos(a), std::sin(a));
        }
        out[k] = acc;
    }
    return out;
}

class RfftSize : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RfftSize, MatchesNaiveDft)
{
    const uint32_t n = GetParam();
    std::mt19937 rng(n);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> x(n);
    double l1 = 0.0;
    for (auto &v : x) {
        v = dist(rng);
        l1 += std::fabs(v);
    }
    const auto want = naive_dft(x);

    std::vector<float> tw(tm_dsp_rfft_twiddle_count(n));
    ASSERT_EQ(tw.size(), n);
    ASSERT_EQ(tm_dsp_rfft_twiddles(n, tw.data()), TM_DSP_OK);
    std::vector<float> buf = x;
    ASSERT_EQ(tm_dsp_rfft(buf.data(), n, tw.data()), TM_DSP_OK);

    // Float FFT error grows like log2(n) roundings on values bounded by the L1 norm.
    const double tol = 4e-7 * (std::log2(double(n)) + 1.0) * l1;
    EXPECT_NEAR(buf[0], want[0].real(), tol);
    EXPECT_NEAR(buf[1], want[n / 2].real(), tol);
    for (uint32_t k = 1; k < n / 2; ++k) {
        ASSERT_NEAR(buf[2 * k], want[k].real(), tol) << "k=" << k;
        ASSERT_NEAR(buf[2 * k + 1], want[k].imag(), tol) << "k=" << k;
    }

    ASSERT_EQ(tm_dsp_rfft_power(buf.data(), n), TM_DSP_OK);
    for (uint32_t k = 0; k <= n / 2; ++k) {
        const double p = std::norm(want[k]);
        ASSERT_NEAR(buf[k], p, 2.0 * tol * std::sqrt(p) + tol * tol) << "k=" << k;
    }
}

INSTANTIATE_TEST_SUITE_P(PowersOfTwo, RfftSize,
                         ::testing::Values(2u, 4u, 8u, 16u, 32u, 64u, 128u, 256u, 512u, 1024u,
                                           2048u, 4096u));

TEST(Rfft, PureToneLandsInItsBin)
{
    const uint32_t n = 256;
    std::vector<float> tw(n), buf(n);
    ASSERT_EQ(tm_dsp_rfft_twiddles(n, tw.data()), TM_DSP_OK);
    for (uint32_t j = 0; j < n; ++j) {
        buf[j] = static_cast<float>(std::cos(2.0 * M_PI * 10.0 * j / n));
    }
    ASSERT_EQ(tm_dsp_rfft(buf.data(), n, tw.data()), TM_DSP_OK);
    ASSERT_EQ(tm_dsp_rfft_power(buf.data(), n), TM_DSP_OK);
    for (uint32_t k = 0; k <= n / 2; ++k) {
        if (k == 10) {
            EXPECT_NEAR(buf[k], (n / 2.0) * (n / 2.0), 1.0);
        } else {
            EXPECT_LT(buf[k], 1e-6) << k;
        }
    }
}

TEST(Rfft, RejectsBadLengths)
{
    std::vector<float> tw(64), buf(64);
    EXPECT_EQ(tm_dsp_rfft_twiddle_count(48), 0u);
    EXPECT_EQ(tm_dsp_rfft_twiddles(48, tw.data()), TM_DSP_ARG_ERROR);
    EXPECT_EQ(tm_dsp_rfft_twiddles(1, tw.data()), TM_DSP_ARG_ERROR);
    EXPECT_EQ(tm_dsp_rfft_twiddles(2 * TM_DSP_FFT_MAX_LENGTH, tw.data()), TM_DSP_ARG_ERROR);
    EXPECT_EQ(tm_dsp_rfft(buf.data(), 0, tw.data()), TM_DSP_ARG_ERROR);
    EXPECT_EQ(tm_dsp_rfft(nullptr, 64, tw.data()), TM_DSP_ARG_ERROR);
    EXPECT_EQ(tm_dsp_rfft(buf.data(), 64, nullptr), TM_DSP_ARG_ERROR);
}

}  // namespace
