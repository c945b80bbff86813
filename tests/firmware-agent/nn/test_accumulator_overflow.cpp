// Biases at the int32 limits: the accumulator + bias sum of conv2d, depthwise conv2d and
// fully connected wraps modulo 2^32, as TFLite's WrappingAdd and CMSIS-NN's SMLAD/ADD do,
// and is well-defined C on every target. This suite compiles the kernel sources itself
// with UBSan (-fno-sanitize-recover), so any signed overflow left in them aborts it.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "tm_nn.h"

namespace {

// The int32 a two's-complement adder produces for an exact sum (independent of the kernels).
int32_t wrap32(int64_t exact)
{
    const uint64_t u = static_cast<uint64_t>(exact) & 0xFFFFFFFFull;
    return u < 0x80000000ull ? static_cast<int32_t>(u)
                             : static_cast<int32_t>(static_cast<int64_t>(u) - (int64_t{1} << 32));
}

// M = 2^-25: INT32_MAX maps to 64, INT32_MIN to -64, far from the int8 clamp.
constexpr int32_t kMultiplier = 1 << 30;
constexpr int32_t kShift = -24;

int8_t requantize(int32_t acc, int32_t out_zp)
{
    int32_t v = tm_nn_multiply_by_quantized_multiplier(acc, kMultiplier, kShift) + out_zp;
    return static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
}

struct Case {
    int32_t bias;
    int8_t input;    // every input value
    int8_t weight;   // every weight
    int32_t input_zp;
};

// Input taps 4, so the exact sum is bias + 4 * (input - zp) * weight.
const Case kCases[] = {
    {INT32_MAX, 1, 1, 0},          // one over: wraps to INT32_MIN + 3
    {INT32_MAX, -1, 1, 0},         // stays in range just below the limit
    {INT32_MAX, 127, 127, -128},   // 4 * 255 * 127 past the limit
    {INT32_MIN, -128, 127, 127},   // 4 * -255 * 127 past the other limit
    {INT32_MIN, 1, 1, 0},          // stays in range just above it
    {-INT32_MAX, -1, 1, 0},        // the TFLite converter's lowest bias, one below
};

void PrintTo(const Case &c, std::ostream *os)
{
    *os << "bias " << c.bias << " in " << int(c.input) << " w " << int(c.weight) << " zp "
        << c.input_zp;
}

class AccumulatorOverflow : public ::testing::TestWithParam<Case> {};

int8_t expected(const Case &c, int32_t out_zp)
{
    const int64_t exact = int64_t{c.bias} + 4 * (int64_t{c.input} - c.input_zp) * c.weight;
    return requantize(wrap32(exact), out_zp);
}

TEST_P(AccumulatorOverflow, FullyConnectedWraps)
{
    const Case c = GetParam();
    const std::vector<int8_t> in(4, c.input), w(4, c.weight);
    const int32_t bias = c.bias, mult = kMultiplier, shift = kShift;
    const tm_nn_per_channel_quant_t q{&mult, &shift};
    tm_nn_fc_params_t p{};
    p.input_zero_point = c.input_zp;
    p.output_zero_point = 3;
    p.activation = {-128, 127};
    const tm_nn_dims_t in_dims{1, 1, 1, 4}, f_dims{1, 1, 1, 4}, out_dims{1, 1, 1, 1};
    int8_t out = 0;
    ASSERT_EQ(tm_nn_fully_connected_s8(nullptr, &p, &q, &in_dims, in.data(), &f_dims, w.data(),
                                       &bias, &out_dims, &out),
              TM_NN_OK);
    EXPECT_EQ(out, expected(c, 3));
}

TEST_P(AccumulatorOverflow, Conv2dWraps)
{
    const Case c = GetParam();
    // 2x2 input, 2x2 kernel, one channel, VALID: one output over 4 taps
    const std::vector<int8_t> in(4, c.input), w(4, c.weight);
    const int32_t bias = c.bias, mult = kMultiplier, shift = kShift;
    const tm_nn_per_channel_quant_t q{&mult, &shift};
    tm_nn_conv_params_t p{};
    p.input_zero_point = c.input_zp;
    p.output_zero_point = -2;
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.depth_multiplier = 1;
    p.activation = {-128, 127};
    const tm_nn_dims_t in_dims{1, 2, 2, 1}, f_dims{1, 2, 2, 1}, out_dims{1, 1, 1, 1};
    int8_t out = 0;
    ASSERT_EQ(tm_nn_conv2d_s8(nullptr, &p, &q, &in_dims, in.data(), &f_dims, w.data(), &bias,
                              &out_dims, &out),
              TM_NN_OK);
    EXPECT_EQ(out, expected(c, -2));
}

TEST_P(AccumulatorOverflow, DepthwiseConv2dWraps)
{
    const Case c = GetParam();
    const std::vector<int8_t> in(4, c.input), w(4, c.weight);
    const int32_t bias = c.bias, mult = kMultiplier, shift = kShift;
    const tm_nn_per_channel_quant_t q{&mult, &shift};
    tm_nn_conv_params_t p{};
    p.input_zero_point = c.input_zp;
    p.output_zero_point = 0;
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.depth_multiplier = 1;
    p.activation = {-128, 127};
    const tm_nn_dims_t in_dims{1, 2, 2, 1}, f_dims{1, 2, 2, 1}, out_dims{1, 1, 1, 1};
    int8_t out = 0;
    ASSERT_EQ(tm_nn_depthwise_conv2d_s8(nullptr, &p, &q, &in_dims, in.data(), &f_dims, w.data(),
                                        &bias, &out_dims, &out),
              TM_NN_OK);
    EXPECT_EQ(out, expected(c, 0));
}

INSTANTIATE_TEST_SUITE_P(Int32LimitBiases, AccumulatorOverflow, ::testing::ValuesIn(kCases));

// The values the cases pin, spelled out: a bias of INT32_MAX plus one tap of +1 is
// INT32_MIN + 3 after the 4 taps, i.e. about -64 after M = 2^-25, not the saturated +64.
TEST(AccumulatorOverflowValues, BiasAtInt32MaxWrapsToTheNegativeEnd)
{
    const Case c{INT32_MAX, 1, 1, 0};
    EXPECT_EQ(expected(c, 0), -64);
    const Case below{INT32_MAX, -1, 1, 0};
    EXPECT_EQ(expected(below, 0), 64);
}

// The requantized value plus the output zero point wraps too, as in TFLite and CMSIS-NN:
// bias INT32_MAX times a multiplier of almost 1 is 2^31 - 2, plus a zero point of 127 lands
// on the negative end, which the activation clamps to -128 (saturating would give +127).
TEST(AccumulatorOverflowValues, OutputZeroPointAddWraps)
{
    const std::vector<int8_t> in(4, 0), w(4, 77);
    const int32_t bias = INT32_MAX, mult = INT32_MAX, shift = 0;
    ASSERT_EQ(tm_nn_multiply_by_quantized_multiplier(bias, mult, shift), INT32_MAX - 1);
    const tm_nn_per_channel_quant_t q{&mult, &shift};
    tm_nn_fc_params_t p{};
    p.input_zero_point = 0;
    p.output_zero_point = 127;
    p.activation = {-128, 127};
    const tm_nn_dims_t in_dims{1, 1, 1, 4}, f_dims{1, 1, 1, 4}, out_dims{1, 1, 1, 1};
    int8_t out = 0;
    ASSERT_EQ(tm_nn_fully_connected_s8(nullptr, &p, &q, &in_dims, in.data(), &f_dims, w.data(),
                                       &bias, &out_dims, &out),
              TM_NN_OK);
    EXPECT_EQ(out, -128);
}

}  // namespace
