// The optimized kernels (tm_nn_opt_*, here with the portable stand-ins of the DSP
// instructions) against the reference kernels (tm_nn_ref_*), bit for bit, over random shapes
// and parameters: strides, padding, dilation, channel counts that are not multiples of 4, odd
// sizes, extreme multipliers, shifts, zero points and biases. The same C runs on the Cortex-M
// images with the real instructions; the QEMU probe (tests/firmware-agent/dsp) checks those.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tm_nn_variants.h"

namespace
{

using Rng = std::mt19937;

int randint(Rng &rng, int lo, int hi)
{
    return std::uniform_int_distribution<int>(lo, hi)(rng);
}

std::vector<int8_t> random_s8(Rng &rng, size_t n)
{
    std::vector<int8_t> v(n);
    for (auto &x : v)
        x = static_cast<int8_t>(randint(rng, -128, 127));
    return v;
}

// Multipliers over the whole Q31 range (including 0 and values < 2^30 that no
// tm_nn_quantize_multiplier gives) and shifts over [-31, 31] with a bias towards the
// realistic [-12, 2].
void random_quant(Rng &rng, int n, std::vector<int32_t> &mult, std::vector<int32_t> &shift)
{
    mult.resize(n);
    shift.resize(n);
    for (int c = 0; c < n; ++c) {
        switch (randint(rng, 0, 5)) {
        case 0:
            mult[c] = INT32_MAX;
            break;
        case 1:
            mult[c] = randint(rng, 0, 3) == 0 ? 0 : randint(rng, 1, 1 << 20);
            break;
        default:
            mult[c] = randint(rng, 1 << 30, INT32_MAX);
            break;
        }
        shift[c] = randint(rng, 0, 3) == 0 ? randint(rng, -31, 31) : randint(rng, -12, 2);
    }
}

std::vector<int32_t> random_bias(Rng &rng, int n)
{
    std::vector<int32_t> b(n);
    for (auto &x : b) {
        switch (randint(rng, 0, 7)) {
        case 0:
            x = INT32_MAX - randint(rng, 0, 1000);
            break;
        case 1:
            x = INT32_MIN + randint(rng, 0, 1000);
            break;
        default:
            x = randint(rng, -100000, 100000);
            break;
        }
    }
    return b;
}

tm_nn_activation_t random_act(Rng &rng)
{
    tm_nn_activation_t a{-128, 127};
    if (randint(rng, 0, 2) == 0) {
        a.min = randint(rng, -128, 60);
        a.max = randint(rng, a.min, 127);
    }
    return a;
}

int out_size(int in, int k, int stride, int pad, int dil)
{
    const int eff = (k - 1) * dil + 1;
    return (in + 2 * pad - eff) / stride + 1;
}

struct ConvCase {
    tm_nn_conv_params_t p{};
    tm_nn_dims_t in{}, f{}, out{};
};

// A random valid conv/depthwise geometry; fast-path shapes (1x1, 3x3) are over-represented.
bool random_geometry(Rng &rng, ConvCase &cc, bool depthwise)
{
    const int shape = randint(rng, 0, 3);
    int kh = randint(rng, 1, 5), kw = randint(rng, 1, 5);
    if (shape == 0)
        kh = kw = 1;
    if (shape == 1)
        kh = kw = 3;
    auto &p = cc.p;
    p.stride.h = randint(rng, 1, 3);
    p.stride.w = randint(rng, 1, 3);
    p.dilation.h = randint(rng, 0, 3) == 0 ? randint(rng, 1, 3) : 1;
    p.dilation.w = randint(rng, 0, 3) == 0 ? randint(rng, 1, 3) : 1;
    p.padding.h = randint(rng, 0, (kh - 1) * p.dilation.h);
    p.padding.w = randint(rng, 0, (kw - 1) * p.dilation.w);
    const int ih = randint(rng, 1, 14), iw = randint(rng, 1, 14);
    const int oh = out_size(ih, kh, p.stride.h, p.padding.h, p.dilation.h);
    const int ow = out_size(iw, kw, p.stride.w, p.padding.w, p.dilation.w);
    if (oh < 1 || ow < 1)
        return false;
    const int n = randint(rng, 1, 2);
    const int cin = randint(rng, 1, 19);
    p.depth_multiplier = depthwise ? (randint(rng, 0, 2) == 0 ? randint(rng, 2, 3) : 1) : 1;
    const int cout = depthwise ? cin * p.depth_multiplier : randint(rng, 1, 19);
    p.input_zero_point =
        randint(rng, 0, 3) == 0 ? (randint(rng, 0, 1) ? 127 : -128) : randint(rng, -128, 127);
    p.output_zero_point = randint(rng, -128, 127);
    p.activation = random_act(rng);
    cc.in = {n, ih, iw, cin};
    cc.f = depthwise ? tm_nn_dims_t{1, kh, kw, cout} : tm_nn_dims_t{cout, kh, kw, cin};
    cc.out = {n, oh, ow, cout};
    return true;
}

int64_t count(const tm_nn_dims_t &d)
{
    return int64_t(d.n) * d.h * d.w * d.c;
}

TEST(OptimizedKernels, ConvMatchesReferenceOnRandomShapes)
{
    Rng rng(7001);
    int run = 0, fast1x1 = 0;
    while (run < 1500) {
        ConvCase cc;
        if (!random_geometry(rng, cc, false))
            continue;
        const auto x = random_s8(rng, size_t(count(cc.in)));
        const auto w = random_s8(rng, size_t(count(cc.f)));
        std::vector<int32_t> mult, shift;
        random_quant(rng, cc.out.c, mult, shift);
        const auto bias = random_bias(rng, cc.out.c);
        const bool with_bias = randint(rng, 0, 4) != 0;
        const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};

        std::vector<int8_t> ref(size_t(count(cc.out)), 0x55), opt(ref.size(), 0x2a);
        ASSERT_EQ(tm_nn_ref_conv2d_s8(nullptr, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      with_bias ? bias.data() : nullptr, &cc.out, ref.data()),
                  TM_NN_OK);
        const int32_t bytes = tm_nn_opt_conv2d_s8_get_buffer_size(&cc.in, &cc.f);
        ASSERT_GT(bytes, 0);
        std::vector<int32_t> scratch((bytes + 3) / 4);
        const tm_nn_context_t ctx{scratch.data(), bytes};
        ASSERT_EQ(tm_nn_opt_conv2d_s8(&ctx, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      with_bias ? bias.data() : nullptr, &cc.out, opt.data()),
                  TM_NN_OK);
        ASSERT_EQ(opt, ref) << "run " << run << " in " << cc.in.n << "x" << cc.in.h << "x"
                            << cc.in.w << "x" << cc.in.c << " filter " << cc.f.n << "x" << cc.f.h
                            << "x" << cc.f.w << " stride " << cc.p.stride.h << "," << cc.p.stride.w
                            << " pad " << cc.p.padding.h << "," << cc.p.padding.w << " dil "
                            << cc.p.dilation.h << "," << cc.p.dilation.w;
        fast1x1 += cc.f.h == 1 && cc.f.w == 1;
        ++run;
    }
    EXPECT_GT(fast1x1, 100);
}

// Past 16 KiB the int16 filter copy is not made (the scratch stays small) and the MAC loop
// reads the int8 filter: that path against the reference, with odd K and C_OUT.
TEST(OptimizedKernels, ConvWithoutFilterCopyMatchesReference)
{
    Rng rng(7002);
    for (const int c_out : {72, 71}) {
        ConvCase cc;
        cc.p = tm_nn_conv_params_t{};
        cc.p.stride = {1, 1};
        cc.p.padding = {1, 1};
        cc.p.dilation = {1, 1};
        cc.p.depth_multiplier = 1;
        cc.p.input_zero_point = -3;
        cc.p.output_zero_point = 5;
        cc.p.activation = {-128, 127};
        cc.in = {1, 6, 5, 63};
        cc.f = {c_out, 3, 3, 63};
        cc.out = {1, 6, 5, c_out};
        const int64_t k = 3 * 3 * 63;
        const int32_t bytes = tm_nn_opt_conv2d_s8_get_buffer_size(&cc.in, &cc.f);
        ASSERT_EQ(bytes, (20 + 8) * c_out + 4 * k); // no copy: 2 * 564 * 72 > 16384
        const auto x = random_s8(rng, size_t(count(cc.in)));
        const auto w = random_s8(rng, size_t(count(cc.f)));
        std::vector<int32_t> mult, shift;
        random_quant(rng, c_out, mult, shift);
        const auto bias = random_bias(rng, c_out);
        const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};
        std::vector<int8_t> ref(size_t(count(cc.out)), 0x55), opt(ref.size(), 0x2a);
        ASSERT_EQ(tm_nn_ref_conv2d_s8(nullptr, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      bias.data(), &cc.out, ref.data()),
                  TM_NN_OK);
        std::vector<int32_t> scratch((bytes + 3) / 4);
        const tm_nn_context_t ctx{scratch.data(), bytes};
        ASSERT_EQ(tm_nn_opt_conv2d_s8(&ctx, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      bias.data(), &cc.out, opt.data()),
                  TM_NN_OK);
        EXPECT_EQ(opt, ref) << c_out;
    }
}

TEST(OptimizedKernels, DepthwiseMatchesReferenceOnRandomShapes)
{
    Rng rng(7002);
    int run = 0, fast3x3 = 0;
    while (run < 1500) {
        ConvCase cc;
        if (!random_geometry(rng, cc, true))
            continue;
        const auto x = random_s8(rng, size_t(count(cc.in)));
        const auto w = random_s8(rng, size_t(count(cc.f)));
        std::vector<int32_t> mult, shift;
        random_quant(rng, cc.out.c, mult, shift);
        const auto bias = random_bias(rng, cc.out.c);
        const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};
        std::vector<int8_t> ref(size_t(count(cc.out)), 0x55), opt(ref.size(), 0x2a);
        ASSERT_EQ(tm_nn_ref_depthwise_conv2d_s8(nullptr, &cc.p, &q, &cc.in, x.data(), &cc.f,
                                                w.data(), bias.data(), &cc.out, ref.data()),
                  TM_NN_OK);
        const int32_t bytes = tm_nn_opt_depthwise_conv2d_s8_get_buffer_size(&cc.in, &cc.f);
        ASSERT_GE(bytes, 0);
        std::vector<int32_t> scratch((bytes + 3) / 4 + 1);
        const tm_nn_context_t ctx{scratch.data(), bytes};
        ASSERT_EQ(tm_nn_opt_depthwise_conv2d_s8(&ctx, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                                bias.data(), &cc.out, opt.data()),
                  TM_NN_OK);
        ASSERT_EQ(opt, ref) << "run " << run << " in " << cc.in.h << "x" << cc.in.w << "x"
                            << cc.in.c << " k " << cc.f.h << "x" << cc.f.w << " dm "
                            << cc.p.depth_multiplier << " stride " << cc.p.stride.h << ","
                            << cc.p.stride.w << " pad " << cc.p.padding.h << "," << cc.p.padding.w
                            << " dil " << cc.p.dilation.h << "," << cc.p.dilation.w;
        fast3x3 += cc.f.h == 3 && cc.f.w == 3 && cc.p.depth_multiplier == 1 &&
                   cc.p.dilation.h == 1 && cc.p.dilation.w == 1;
        ++run;
    }
    EXPECT_GT(fast3x3, 100);
}

TEST(OptimizedKernels, FullyConnectedMatchesReference)
{
    Rng rng(7003);
    for (int run = 0; run < 1500; ++run) {
        const int depth = randint(rng, 1, 300), out_c = randint(rng, 1, 23);
        const int batches = randint(rng, 1, 3);
        tm_nn_fc_params_t p{};
        p.input_zero_point = randint(rng, -128, 127);
        p.output_zero_point = randint(rng, -128, 127);
        p.activation = random_act(rng);
        const tm_nn_dims_t in{batches, 1, 1, depth}, f{out_c, 1, 1, depth},
            out{batches, 1, 1, out_c};
        const auto x = random_s8(rng, size_t(batches) * depth);
        const auto w = random_s8(rng, size_t(out_c) * depth);
        std::vector<int32_t> mult, shift;
        random_quant(rng, out_c, mult, shift);
        const auto bias = random_bias(rng, out_c);
        const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};
        std::vector<int8_t> ref(size_t(batches) * out_c, 0x55), opt(ref.size(), 0x2a);
        ASSERT_EQ(tm_nn_ref_fully_connected_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(),
                                               bias.data(), &out, ref.data()),
                  TM_NN_OK);
        const int32_t bytes = tm_nn_opt_fully_connected_s8_get_buffer_size(&f);
        std::vector<int32_t> scratch((bytes + 3) / 4);
        const tm_nn_context_t ctx{scratch.data(), bytes};
        ASSERT_EQ(tm_nn_opt_fully_connected_s8(&ctx, &p, &q, &in, x.data(), &f, w.data(),
                                               run % 5 ? bias.data() : nullptr, &out, opt.data()),
                  TM_NN_OK);
        if (run % 5 == 0) {
            ASSERT_EQ(tm_nn_ref_fully_connected_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(),
                                                   nullptr, &out, ref.data()),
                      TM_NN_OK);
        }
        ASSERT_EQ(opt, ref) << "run " << run << " depth " << depth << " out " << out_c;
    }
}

TEST(OptimizedKernels, PoolingMatchesReference)
{
    Rng rng(7004);
    int run = 0;
    while (run < 1500) {
        tm_nn_pool_params_t p{};
        p.filter.h = randint(rng, 1, 5);
        p.filter.w = randint(rng, 1, 5);
        p.stride.h = randint(rng, 1, 3);
        p.stride.w = randint(rng, 1, 3);
        p.padding.h = randint(rng, 0, p.filter.h - 1);
        p.padding.w = randint(rng, 0, p.filter.w - 1);
        p.activation = random_act(rng);
        const int ih = randint(rng, 1, 12), iw = randint(rng, 1, 12);
        const int oh = out_size(ih, p.filter.h, p.stride.h, p.padding.h, 1);
        const int ow = out_size(iw, p.filter.w, p.stride.w, p.padding.w, 1);
        if (oh < 1 || ow < 1)
            continue;
        const int ch = randint(rng, 0, 4) == 0 ? randint(rng, 60, 140) : randint(rng, 1, 19);
        const tm_nn_dims_t in{randint(rng, 1, 2), ih, iw, ch}, out{in.n, oh, ow, ch};
        const auto x = random_s8(rng, size_t(count(in)));
        std::vector<int8_t> ref(size_t(count(out)), 0x55), opt(ref.size(), 0x2a);
        const tm_nn_status_t s_ref = tm_nn_ref_max_pool_s8(&p, &in, x.data(), &out, ref.data());
        ASSERT_EQ(tm_nn_opt_max_pool_s8(&p, &in, x.data(), &out, opt.data()), s_ref);
        if (s_ref == TM_NN_OK)
            ASSERT_EQ(opt, ref) << "max pool run " << run;
        ASSERT_EQ(tm_nn_ref_avg_pool_s8(nullptr, &p, &in, x.data(), &out, ref.data()), s_ref);
        ASSERT_EQ(tm_nn_opt_avg_pool_s8(nullptr, &p, &in, x.data(), &out, opt.data()), s_ref);
        if (s_ref == TM_NN_OK)
            ASSERT_EQ(opt, ref) << "avg pool run " << run;
        ++run;
    }
}

TEST(OptimizedKernels, AddMatchesReference)
{
    Rng rng(7005);
    for (int run = 0; run < 500; ++run) {
        tm_nn_add_params_t p{};
        const double s1 = std::ldexp(1.0, randint(rng, -12, 2)) * randint(rng, 1, 100) / 37.0;
        const double s2 = std::ldexp(1.0, randint(rng, -12, 2)) * randint(rng, 1, 100) / 37.0;
        const double so = (s1 + s2) * randint(rng, 1, 300) / 100.0;
        if (tm_nn_add_prepare(s1, randint(rng, -128, 127), s2, randint(rng, -128, 127), so,
                              randint(rng, -128, 127), &p) != TM_NN_OK)
            continue;
        p.activation = random_act(rng);
        const int n = randint(rng, 1, 700);
        const auto a = random_s8(rng, size_t(n)), b = random_s8(rng, size_t(n));
        std::vector<int8_t> ref(static_cast<size_t>(n)), opt(static_cast<size_t>(n));
        ASSERT_EQ(tm_nn_ref_add_s8(&p, a.data(), b.data(), ref.data(), n), TM_NN_OK);
        ASSERT_EQ(tm_nn_opt_add_s8(&p, a.data(), b.data(), opt.data(), n), TM_NN_OK);
        ASSERT_EQ(opt, ref) << "run " << run;
    }
}

TEST(OptimizedKernels, SoftmaxMatchesReference)
{
    Rng rng(7006);
    for (int run = 0; run < 400; ++run) {
        const int rows = randint(rng, 1, 4);
        const int row = randint(rng, 0, 5) == 0 ? randint(rng, 250, 300) : randint(rng, 1, 40);
        const tm_nn_softmax_params_t p{float(randint(rng, 1, 4000)) / 1000.0f,
                                       float(randint(rng, 1, 20)) / 10.0f};
        const auto x = random_s8(rng, size_t(rows) * row);
        std::vector<int8_t> ref(x.size()), opt(x.size());
        ASSERT_EQ(tm_nn_ref_softmax_s8(&p, x.data(), rows, row, ref.data()), TM_NN_OK);
        ASSERT_EQ(tm_nn_opt_softmax_s8(&p, x.data(), rows, row, opt.data()), TM_NN_OK);
        ASSERT_EQ(opt, ref) << "run " << run;
    }
}

// Both sets reject the same bad calls; the optimized ones also a missing or short scratch.
TEST(OptimizedKernels, RejectsWhatTheReferenceRejectsAndShortScratch)
{
    tm_nn_conv_params_t p{};
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.depth_multiplier = 1;
    p.activation = {-128, 127};
    int32_t mult[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {0, 0, 0, 0};
    const tm_nn_per_channel_quant_t q{mult, shift};
    const tm_nn_dims_t in{1, 4, 4, 4}, f{4, 3, 3, 4}, out{1, 2, 2, 4};
    std::vector<int8_t> x(64), w(144), y(16);
    const int32_t bytes = tm_nn_opt_conv2d_s8_get_buffer_size(&in, &f);
    // per output channel a requantization entry and two int32 accumulators; two int16
    // columns of 3 * 3 * 4; the int16 copy of the filter (4 channels of 36)
    EXPECT_EQ(bytes, 4 * (20 + 8) + 4 * 36 + 2 * 36 * 4);
    std::vector<int32_t> scratch(size_t(bytes) / 4);
    tm_nn_context_t ctx{scratch.data(), bytes};
    EXPECT_EQ(
        tm_nn_opt_conv2d_s8(&ctx, &p, &q, &in, x.data(), &f, w.data(), nullptr, &out, y.data()),
        TM_NN_OK);
    EXPECT_EQ(
        tm_nn_opt_conv2d_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr, &out, y.data()),
        TM_NN_BUFFER_ERROR);
    ctx.size = bytes - 4;
    EXPECT_EQ(
        tm_nn_opt_conv2d_s8(&ctx, &p, &q, &in, x.data(), &f, w.data(), nullptr, &out, y.data()),
        TM_NN_BUFFER_ERROR);
    ctx.size = bytes;
    const tm_nn_dims_t bad_out{1, 5, 2, 4}; // the last output row would start past the input
    EXPECT_EQ(tm_nn_ref_conv2d_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr, &bad_out,
                                  y.data()),
              TM_NN_ARG_ERROR);
    EXPECT_EQ(
        tm_nn_opt_conv2d_s8(&ctx, &p, &q, &in, x.data(), &f, w.data(), nullptr, &bad_out, y.data()),
        TM_NN_ARG_ERROR);
    // A multiplier of INT32_MIN (never produced by tm_nn_quantize_multiplier) still gives
    // the reference's bytes: the saturating SRDHM case.
    mult[1] = INT32_MIN;
    std::vector<int8_t> ref(16);
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = int8_t(i * 37);
    for (size_t i = 0; i < w.size(); ++i)
        w[i] = int8_t(i * 11 + 3);
    ASSERT_EQ(tm_nn_ref_conv2d_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr, &out,
                                  ref.data()),
              TM_NN_OK);
    ASSERT_EQ(
        tm_nn_opt_conv2d_s8(&ctx, &p, &q, &in, x.data(), &f, w.data(), nullptr, &out, y.data()),
        TM_NN_OK);
    EXPECT_EQ(y, ref);
}

TEST(OptimizedKernels, FullyConnectedWithAnInt32MinMultiplierMatchesReference)
{
    // Channel 1's accumulator is exactly INT32_MIN (inputs at the zero point, bias INT32_MIN)
    // and its multiplier is INT32_MIN: the reference's SRDHM saturates there, which the
    // table's general form does not reproduce, so the kernel must hand the call over.
    const int depth = 8, out_c = 5;
    tm_nn_fc_params_t p{};
    p.input_zero_point = 9;
    p.output_zero_point = -3;
    p.activation = {-128, 127};
    const tm_nn_dims_t in{1, 1, 1, depth}, f{out_c, 1, 1, depth}, out{1, 1, 1, out_c};
    const std::vector<int8_t> x(depth, 9);
    std::vector<int8_t> w(size_t(out_c) * depth);
    for (size_t i = 0; i < w.size(); ++i)
        w[i] = int8_t(i * 29 + 5);
    std::vector<int32_t> mult(out_c, 1 << 30), shift(out_c, -3);
    mult[1] = INT32_MIN;
    const std::vector<int32_t> bias(out_c, INT32_MIN);
    const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};
    std::vector<int8_t> ref(out_c, 0x55), opt(out_c, 0x2a);
    ASSERT_EQ(tm_nn_ref_fully_connected_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(),
                                           bias.data(), &out, ref.data()),
              TM_NN_OK);
    EXPECT_EQ(ref[1], 127); // the saturated product, not a wrapped one
    const int32_t bytes = tm_nn_opt_fully_connected_s8_get_buffer_size(&f);
    std::vector<int32_t> scratch((bytes + 3) / 4);
    const tm_nn_context_t ctx{scratch.data(), bytes};
    ASSERT_EQ(tm_nn_opt_fully_connected_s8(&ctx, &p, &q, &in, x.data(), &f, w.data(), bias.data(),
                                           &out, opt.data()),
              TM_NN_OK);
    EXPECT_EQ(opt, ref);
}

} // namespace
