// The anomaly-score kernels (tm_nn_anomaly.c) against a reference written here: the exact
// score in int64 without early exit, then (a) the documented requantization bit for bit and
// (b) round(score * real) + zp in double to within one LSB, on random tables and inputs that
// include saturating sums, negative GMM offsets and out-of-range table entries.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tm_nn.h"

namespace {

using Rng = std::mt19937;

int randint(Rng &rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

int8_t documented(int64_t score, const tm_nn_score_params_t &p)
{
    const int64_t limit = INT32_MAX >> std::max(p.shift, 0);
    const int64_t s = std::clamp<int64_t>(score, -limit, limit);
    const int64_t y = p.output_zero_point + tm_nn_multiply_by_quantized_multiplier(int32_t(s), p.multiplier, p.shift);
    return int8_t(std::clamp<int64_t>(y, -128, 127));
}

int roundedReal(int64_t score, double real, int zp)
{
    return int(std::clamp(std::round(double(score) * real) + zp, -128.0, 127.0));
}

tm_nn_score_params_t params(double real, int zp)
{
    tm_nn_score_params_t p{zp, 0, 0};
    EXPECT_EQ(tm_nn_quantize_multiplier(real, &p.multiplier, &p.shift), TM_NN_OK);
    return p;
}

TEST(AnomalyKernels, KMeansAndGmmEqualTheExactIntegerScore)
{
    Rng rng(42);
    for (int trial = 0; trial < 400; ++trial) {
        const bool gmm = trial % 2 == 1;
        const int depth = randint(rng, 1, 40), k = randint(rng, 1, 6);
        std::vector<int8_t> x(static_cast<size_t>(depth));
        for (auto &v : x)
            v = int8_t(randint(rng, -128, 127));
        std::vector<int32_t> c(static_cast<size_t>(depth * k)), iv(static_cast<size_t>(depth * k)), off(static_cast<size_t>(k));
        const int spread = trial % 5 == 0 ? (1 << 20) : 400;   // some centres far away: saturation
        for (auto &v : c)
            v = randint(rng, -spread, spread);
        for (auto &v : iv)
            v = randint(rng, 0, trial % 7 == 0 ? (1 << 20) : 5000);
        for (auto &v : off)
            v = trial % 9 == 0 ? INT32_MIN + randint(rng, 0, 10) : randint(rng, -50000000, 50000000);
        // Units chosen so the typical score spans the output range, sometimes with a left shift.
        const double real = std::ldexp(1.0, randint(rng, gmm ? -34 : -20, gmm ? -22 : 2)) * (1 + randint(rng, 0, 99) / 100.0);
        const tm_nn_score_params_t p = params(real, randint(rng, -128, 127));

        int64_t best = INT64_MAX;
        for (int j = 0; j < k; ++j) {
            // exact: at most 40 terms of 2^42 * 2^20 fit in int64 comfortably
            int64_t acc = gmm ? off[size_t(j)] : 0;
            for (int d = 0; d < depth; ++d) {
                const int64_t diff = int64_t(x[size_t(d)]) - c[size_t(j * depth + d)];
                acc += diff * diff * (gmm ? iv[size_t(j * depth + d)] : 1);
            }
            best = std::min(best, acc);
        }
        int8_t y = 0;
        const tm_nn_status_t s = gmm ? tm_nn_gmm_score_s8(&p, x.data(), depth, c.data(), iv.data(), off.data(), k, &y)
                                     : tm_nn_kmeans_score_s8(&p, x.data(), depth, c.data(), k, &y);
        ASSERT_EQ(s, TM_NN_OK) << trial;
        EXPECT_EQ(y, documented(best, p)) << "trial " << trial;
        // Whenever the saturation cannot matter (L * real >= 256), within one LSB of the real score.
        if (double(tm_nn_score_limit(&p)) * real >= 256.0)
            EXPECT_LE(std::abs(int(y) - roundedReal(best, real, p.output_zero_point)), 1) << "trial " << trial;
    }
}

TEST(AnomalyKernels, SquaredErrorHandComputedAndRandom)
{
    // a - b = {3, -4}: S = 25; real 0.5 / 2 (mean over 2) = 0.25 = 2^30 * 2^(-1 - 31): TFLite's
    // two roundings, SRDHM 25 * 2^30 / 2^31 = 12.5 -> 13, then 13 / 2 = 6.5 -> 7; + zp 10 = 17.
    const int8_t a[2] = {5, -6}, b[2] = {2, -2};
    tm_nn_score_params_t p = params(0.25, 10);
    int8_t y = 0;
    ASSERT_EQ(tm_nn_squared_error_s8(&p, a, b, 2, &y), TM_NN_OK);
    EXPECT_EQ(y, 17);
    // 12.5 -> 13 (ties up): S = 25, real 0.5
    p = params(0.5, 0);
    ASSERT_EQ(tm_nn_squared_error_s8(&p, a, b, 2, &y), TM_NN_OK);
    EXPECT_EQ(y, 13);

    Rng rng(7);
    for (int trial = 0; trial < 300; ++trial) {
        const int n = randint(rng, 1, 3000);
        std::vector<int8_t> u(static_cast<size_t>(n)), v(static_cast<size_t>(n));
        int64_t exact = 0;
        for (int i = 0; i < n; ++i) {
            u[size_t(i)] = int8_t(randint(rng, -128, 127));
            v[size_t(i)] = int8_t(randint(rng, -128, 127));
            const int64_t d = int64_t(u[size_t(i)]) - v[size_t(i)];
            exact += d * d;
        }
        const double real = std::ldexp(1.0, randint(rng, -30, 3)) * (1 + randint(rng, 0, 99) / 100.0);
        p = params(real, randint(rng, -128, 127));
        ASSERT_EQ(tm_nn_squared_error_s8(&p, u.data(), v.data(), n, &y), TM_NN_OK);
        EXPECT_EQ(y, documented(exact, p)) << trial;
        EXPECT_LE(std::abs(int(y) - roundedReal(exact, real, p.output_zero_point)), 1) << trial;
    }
}

TEST(AnomalyKernels, BadArgumentsAndTablesAreRefused)
{
    const int8_t x[2] = {0, 0};
    int32_t c[2] = {0, 0}, iv[2] = {1, 1}, off[1] = {0};
    tm_nn_score_params_t p = params(0.5, 0);
    int8_t y = 0;
    EXPECT_EQ(tm_nn_kmeans_score_s8(&p, x, 2, c, 1, &y), TM_NN_OK);
    EXPECT_EQ(tm_nn_kmeans_score_s8(&p, x, 0, c, 1, &y), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_kmeans_score_s8(&p, x, 2, c, 0, &y), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_kmeans_score_s8(nullptr, x, 2, c, 1, &y), TM_NN_ARG_ERROR);
    c[1] = (1 << 20) + 1;
    EXPECT_EQ(tm_nn_kmeans_score_s8(&p, x, 2, c, 1, &y), TM_NN_ARG_ERROR);
    c[1] = 0;
    iv[0] = -1;
    EXPECT_EQ(tm_nn_gmm_score_s8(&p, x, 2, c, iv, off, 1, &y), TM_NN_ARG_ERROR);
    iv[0] = 1;
    EXPECT_EQ(tm_nn_gmm_score_s8(&p, x, 2, c, iv, nullptr, 1, &y), TM_NN_ARG_ERROR);
    p.output_zero_point = 128;
    EXPECT_EQ(tm_nn_squared_error_s8(&p, x, x, 2, &y), TM_NN_ARG_ERROR);
    p.output_zero_point = 0;
    p.shift = 32;
    EXPECT_EQ(tm_nn_squared_error_s8(&p, x, x, 2, &y), TM_NN_ARG_ERROR);
}

} // namespace
