// The optimized kernels' requantization (tm_nn_simd.h: tm_nn_requant with its fast one-SMLAL
// form and its general form) against tm_nn_multiply_by_quantized_multiplier, TFLite's
// SRDHM + RoundingDivideByPOT, over the whole int32 accumulator range: the edges, the
// rounding ties of every shift, and random values, for every shift in [-31, 31] and
// multipliers over the whole non-negative Q31 range plus negative ones. On the host this is
// the portable C of the fast form; the device's inline assembly is checked by kernel-bench
// (firmware-agent/bench) and by the kernels' hashes in the QEMU probe.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

extern "C" {
#include "tm_nn_simd.h"
}

namespace
{

std::vector<int32_t> accumulators(int32_t shift)
{
    std::vector<int32_t> v = {INT32_MIN,
                              INT32_MIN + 1,
                              INT32_MIN + 2,
                              -(1 << 30) - 1,
                              -(1 << 30),
                              -(1 << 30) + 1,
                              -65536,
                              -257,
                              -2,
                              -1,
                              0,
                              1,
                              2,
                              255,
                              65536,
                              (1 << 30) - 1,
                              1 << 30,
                              (1 << 30) + 1,
                              INT32_MAX - 1,
                              INT32_MAX};
    // Every power of two and its neighbours, both signs.
    for (int e = 0; e <= 31; ++e) {
        for (int d = -2; d <= 2; ++d) {
            const int64_t p = ((int64_t)1 << e) + d;
            if (p <= INT32_MAX && -p >= INT32_MIN) {
                v.push_back((int32_t)p);
                v.push_back((int32_t)-p);
            }
        }
    }
    std::mt19937 rng(1234u + (uint32_t)(shift + 40));
    std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
    std::uniform_int_distribution<int32_t> small(-100000, 100000);
    for (int i = 0; i < 400; ++i) {
        v.push_back(any(rng));
        v.push_back(small(rng));
    }
    return v;
}

std::vector<int32_t> multipliers()
{
    std::vector<int32_t> m = {
        0,         1,  2,          (1 << 30) - 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1,
        INT32_MAX, -1, -(1 << 30), INT32_MIN + 1};
    std::mt19937 rng(99u);
    std::uniform_int_distribution<int32_t> q31(1 << 30, INT32_MAX);
    for (int i = 0; i < 24; ++i)
        m.push_back(q31(rng));
    return m;
}

TEST(RequantFast, EqualsTfliteRequantizationOverTheInt32Range)
{
    long fast = 0, general = 0;
    for (int32_t shift = -31; shift <= 31; ++shift) {
        const std::vector<int32_t> xs = accumulators(shift);
        for (const int32_t m : multipliers()) {
            const tm_nn_requant_t q = tm_nn_requant_make(m, shift);
            (q.fast_shift >= 0 ? fast : general) += 1;
            for (const int32_t x : xs) {
                const int32_t want = tm_nn_multiply_by_quantized_multiplier(x, m, shift);
                ASSERT_EQ(tm_nn_requant(x, &q), want)
                    << "x " << x << " multiplier " << m << " shift " << shift;
            }
        }
    }
    // Both forms ran: the fast one for m >= 0 and shift <= -1, the general one otherwise.
    EXPECT_EQ(fast, 31L * 33);
    EXPECT_EQ(general, 63L * 36 - 31L * 33);
}

TEST(RequantFast, FastFormOnlyWhereItsProofHolds)
{
    EXPECT_GE(tm_nn_requant_make(1 << 30, -1).fast_shift, 0);
    EXPECT_EQ(tm_nn_requant_make(1 << 30, -31).fast_shift, 30);
    EXPECT_EQ(tm_nn_requant_make(1 << 30, 0).fast_shift, -1);
    EXPECT_EQ(tm_nn_requant_make(1 << 30, 5).fast_shift, -1);
    EXPECT_EQ(tm_nn_requant_make(-5, -3).fast_shift, -1);
    // Every multiplier the quantizer makes for a scale in (0, 0.5) takes the fast form.
    for (double real = 1e-9; real < 0.5; real *= 1.37) {
        int32_t m = 0, s = 0;
        ASSERT_EQ(tm_nn_quantize_multiplier(real, &m, &s), TM_NN_OK);
        EXPECT_GE(tm_nn_requant_make(m, s).fast_shift, 0) << real;
    }
}

TEST(RequantFast, RowMatchesPerOutputRequantization)
{
    const int32_t mult[3] = {1 << 30, 1860000000, 0};
    const int32_t shift[3] = {-1, -9, -4};
    const tm_nn_per_channel_quant_t quant = {mult, shift};
    tm_nn_requant_t table[3];
    ASSERT_EQ(tm_nn_requant_table(&quant, 3, table), 1);
    const int32_t acc[3] = {INT32_MAX, INT32_MIN, 77};
    for (const int32_t bias : {0, 1000, INT32_MAX, INT32_MIN}) {
        for (const int32_t zp : {-128, 0, 127}) {
            for (const int32_t lo : {-128, -100}) {
                int8_t out[3];
                tm_nn_requant_row(acc, bias, table, 1, 1, 3, zp, lo, 127, out, 1);
                for (int c = 0; c < 3; ++c) {
                    const uint32_t a = (uint32_t)acc[c] + (uint32_t)bias;
                    int64_t v = (int64_t)tm_nn_multiply_by_quantized_multiplier((int32_t)a, mult[c],
                                                                                shift[c]);
                    v = (int32_t)(uint32_t)(v + zp);
                    v = v < lo ? lo : (v > 127 ? 127 : v);
                    EXPECT_EQ(out[c], v) << c << " bias " << bias << " zp " << zp;
                }
            }
        }
    }
}

// The output form (requantization, zero point and clamp in one; tm_nn_requant_mm_t) against
// TFLite's requantization + zero point + clamp, for every shift it accepts, multipliers over
// its whole range, every kind of zero point and several activation ranges. Before the clamp
// the two may differ (for |x| >= 2^30), after it they may not.
TEST(RequantFast, OutputFormEqualsTfliteAfterTheClamp)
{
    const int32_t zps[] = {-128, -127, -1, 0, 1, 37, 126, 127};
    const int32_t ranges[][2] = {{-128, 127}, {-128, -100}, {0, 127}, {-5, 6}, {127, 127}};
    long cases = 0;
    for (int32_t shift = -21; shift <= -1; ++shift) {
        const std::vector<int32_t> xs = accumulators(shift);
        for (const int32_t m : multipliers()) {
            for (const int32_t zp : zps) {
                tm_nn_requant_mm_t q;
                if (!tm_nn_requant_mm_make(m, shift, zp, &q)) {
                    ASSERT_LT(m, 1 << 30) << "shift " << shift;
                    continue;
                }
                for (const auto &range : ranges) {
                    for (const int32_t x : xs) {
                        const int64_t ref =
                            (int32_t)(uint32_t)((int64_t)tm_nn_multiply_by_quantized_multiplier(
                                                    x, m, shift) +
                                                zp);
                        const int32_t want = ref < range[0] ? range[0]
                                                            : (ref > range[1] ? range[1] : (int32_t)ref);
                        int32_t got = tm_nn_requant_mm(x, &q);
                        got = got < range[0] ? range[0] : (got > range[1] ? range[1] : got);
                        ASSERT_EQ(got, want) << "x " << x << " multiplier " << m << " shift "
                                             << shift << " zp " << zp << " range " << range[0]
                                             << ".." << range[1];
                        ++cases;
                    }
                }
            }
        }
    }
    // Every shift in [-21, -1] with every multiplier in [2^30, 2^31) of the list ran.
    EXPECT_GT(cases, 21L * 20 * 8 * 5 * 500);
}

TEST(RequantFast, OutputFormOnlyWhereItsProofHolds)
{
    tm_nn_requant_mm_t q;
    EXPECT_EQ(tm_nn_requant_mm_make(1 << 30, -1, 0, &q), 1);
    EXPECT_EQ(tm_nn_requant_mm_make(INT32_MAX, -21, -128, &q), 1);
    EXPECT_EQ(tm_nn_requant_mm_make(1 << 30, -22, 0, &q), 0);
    EXPECT_EQ(tm_nn_requant_mm_make(1 << 30, 0, 0, &q), 0);
    EXPECT_EQ(tm_nn_requant_mm_make((1 << 30) - 1, -5, 0, &q), 0);
    EXPECT_EQ(tm_nn_requant_mm_make(0, -5, 0, &q), 0);
    EXPECT_EQ(tm_nn_requant_mm_make(INT32_MIN, -5, 0, &q), 0);
    // Every scale in [2^-22, 0.5) the quantizer turns into a multiplier has the output form.
    for (double real = 1.0 / (1 << 22); real < 0.5; real *= 1.37) {
        int32_t m = 0, s = 0;
        ASSERT_EQ(tm_nn_quantize_multiplier(real, &m, &s), TM_NN_OK);
        EXPECT_EQ(tm_nn_requant_mm_make(m, s, 3, &q), 1) << real;
    }
}

TEST(RequantFast, OutputFormRowMatchesPerOutputRequantization)
{
    const int32_t mult[3] = {1 << 30, 1860000000, INT32_MAX};
    const int32_t shift[3] = {-1, -9, -21};
    const tm_nn_per_channel_quant_t quant = {mult, shift};
    const int32_t acc[3] = {INT32_MAX, INT32_MIN, 77};
    for (const int32_t bias : {0, 1000, INT32_MAX, INT32_MIN}) {
        for (const int32_t zp : {-128, 0, 127}) {
            tm_nn_requant_mm_t table[3];
            ASSERT_EQ(tm_nn_requant_mm_table(&quant, 3, zp, table), 1);
            for (const int32_t lo : {-128, -100}) {
                int8_t out[3];
                tm_nn_requant_mm_row(acc, bias, table, 1, 3, lo, 127, out, 1);
                for (int c = 0; c < 3; ++c) {
                    const uint32_t a = (uint32_t)acc[c] + (uint32_t)bias;
                    int64_t v = (int64_t)tm_nn_multiply_by_quantized_multiplier((int32_t)a, mult[c],
                                                                                shift[c]);
                    v = (int32_t)(uint32_t)(v + zp);
                    v = v < lo ? lo : (v > 127 ? 127 : v);
                    EXPECT_EQ(out[c], v) << c << " bias " << bias << " zp " << zp;
                }
            }
        }
    }
}

} // namespace
