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

// Multipliers in [2^30, 2^31), shifts in [-21, -1] and the whole int8 range on every
// channel: the requantization then runs inside the MAC loop (its output form) wherever the
// filter copy is made and K is a multiple of 4 (1x1 and 3x3 layers with 4k channels).
TEST(OptimizedKernels, ConvWithTheOutputFormMatchesReference)
{
    Rng rng(7011);
    int run = 0, four = 0;
    while (run < 800) {
        ConvCase cc;
        if (!random_geometry(rng, cc, false))
            continue;
        if (randint(rng, 0, 1) == 0) { // over-represent whole groups of 4 channels
            cc.in.c = cc.f.c = 4 * randint(rng, 1, 5);
        }
        cc.p.activation = {-128, 127};
        std::vector<int32_t> mult(size_t(cc.out.c)), shift(size_t(cc.out.c));
        for (int c = 0; c < cc.out.c; ++c) {
            mult[size_t(c)] = randint(rng, 1 << 30, INT32_MAX);
            shift[size_t(c)] =
                randint(rng, 0, 9) == 0 ? randint(rng, -21, -1) : randint(rng, -12, -4);
        }
        const auto x = random_s8(rng, size_t(count(cc.in)));
        const auto w = random_s8(rng, size_t(count(cc.f)));
        const auto bias = random_bias(rng, cc.out.c);
        const bool with_bias = randint(rng, 0, 4) != 0;
        const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};
        std::vector<int8_t> ref(size_t(count(cc.out)), 0x55), opt(ref.size(), 0x2a);
        ASSERT_EQ(tm_nn_ref_conv2d_s8(nullptr, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      with_bias ? bias.data() : nullptr, &cc.out, ref.data()),
                  TM_NN_OK);
        const int32_t bytes = tm_nn_opt_conv2d_s8_get_buffer_size(&cc.in, &cc.f);
        std::vector<int32_t> scratch((size_t(bytes) + 3) / 4);
        for (auto &s : scratch)
            s = int32_t(rng());
        const tm_nn_context_t ctx{scratch.data(), bytes};
        ASSERT_EQ(tm_nn_opt_conv2d_s8(&ctx, &cc.p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      with_bias ? bias.data() : nullptr, &cc.out, opt.data()),
                  TM_NN_OK);
        ASSERT_EQ(opt, ref) << "run " << run << " in " << cc.in.n << "x" << cc.in.h << "x"
                            << cc.in.w << "x" << cc.in.c << " filter " << cc.f.n << "x" << cc.f.h
                            << "x" << cc.f.w << " stride " << cc.p.stride.h << "," << cc.p.stride.w
                            << " pad " << cc.p.padding.h << "," << cc.p.padding.w << " dil "
                            << cc.p.dilation.h << "," << cc.p.dilation.w;
        four += cc.in.c % 4 == 0;
        ++run;
    }
    EXPECT_GT(four, 300);
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

// Scratch of a conv2d call that takes the padded-input path (input channels not a multiple
// of 4, not 1x1, copies small enough): requantization entries and accumulator rows, two
// columns of KH * row4 values (row4 = KW * C_IN rounded up to 4), the filter copy of as many
// values per channel (C_OUT rounded up to even), and the padded input bounded by
// (IN_H + 2 (KH - 1)) x (IN_W + 2 (KW - 1)) x C_IN + 4 int16 values. -1: not that path.
int64_t padded_path_bytes(const tm_nn_dims_t &in, const tm_nn_dims_t &f)
{
    if (in.c % 4 == 0 || (f.h == 1 && f.w == 1))
        return -1;
    const int64_t kp = int64_t(f.h) * ((f.w * f.c + 3) & ~3);
    const int64_t fcopy = 2 * kp * ((f.n + 1) & ~1);
    const int64_t pad =
        (2 * ((int64_t(in.h) + 2 * (f.h - 1)) * (int64_t(in.w) + 2 * (f.w - 1)) * in.c + 4) + 3) &
        ~int64_t(3);
    if (fcopy > 16384 || pad > 4096)
        return -1;
    return (20 + 8) * int64_t(f.n) + 4 * kp + fcopy + pad;
}

// TFLite's SAME padding: output ceil(in / stride), the extra row or column at the end.
void same_padding(int in, int k, int stride, int &out, int &before)
{
    out = (in + stride - 1) / stride;
    const int total = std::max((out - 1) * stride + k - in, 0);
    before = total / 2;
}

// The padded-input path (first layers: 1 to 3 input channels, SAME padding): the input is
// copied once per call as int16 and every filter row is padded to whole groups of 4 with
// zero weights. Shapes like the KWS (49x10x1, 10x4 stride 2) and motion (1x125x3, 1x5) first
// layers, then random ones with 1, 2, 3, 5, 6 and 7 channels, strides 1 and 2, SAME or other
// padding, K not a multiple of 4, odd C_OUT and pixel counts, batch 2, requantization in and
// out of the output form, narrow clamps, no bias, dilation 2 (which takes the other path), and
// scratch filled with garbage first.
TEST(OptimizedKernels, ConvPaddedInputPathMatchesReference)
{
    Rng rng(7010);
    struct Fixed {
        int ih, iw, c, kh, kw, cout, sh, sw;
    };
    const Fixed fixed[] = {{49, 10, 1, 10, 4, 64, 2, 2}, {1, 125, 3, 1, 5, 16, 1, 1},
                           {1, 125, 3, 1, 5, 15, 1, 1},  {9, 7, 3, 3, 3, 8, 2, 2},
                           {6, 6, 1, 3, 3, 5, 1, 1},     {1, 40, 2, 1, 7, 6, 1, 2}};
    int run = 0, padded = 0, output_form = 0, ones = 0, threes = 0, same = 0;
    const int fixed_n = int(sizeof fixed / sizeof fixed[0]);
    while (run < 1200) {
        ConvCase cc;
        auto &p = cc.p;
        p.depth_multiplier = 1;
        p.dilation = {1, 1};
        int ih, iw, c, kh, kw, cout;
        if (run < 2 * fixed_n) { // each fixed shape with SAME padding, then valid padding
            const Fixed &s = fixed[run % fixed_n];
            ih = s.ih, iw = s.iw, c = s.c, kh = s.kh, kw = s.kw, cout = s.cout;
            p.stride = {s.sh, s.sw};
        } else {
            static const int channels[] = {1, 2, 3, 5, 6, 7};
            c = channels[randint(rng, 0, 5)];
            kh = randint(rng, 1, 6);
            kw = randint(rng, 1, 6);
            ih = randint(rng, 1, 14);
            iw = randint(rng, 1, 14);
            cout = randint(rng, 1, 20);
            p.stride = {randint(rng, 1, 2), randint(rng, 1, 2)};
            if (randint(rng, 0, 9) == 0)
                p.dilation = {randint(rng, 1, 2), randint(rng, 1, 2)};
        }
        int oh, ow;
        const bool use_same = run < fixed_n || (run >= 2 * fixed_n && randint(rng, 0, 2) != 0);
        if (use_same && p.dilation.h == 1 && p.dilation.w == 1) {
            same_padding(ih, kh, p.stride.h, oh, p.padding.h);
            same_padding(iw, kw, p.stride.w, ow, p.padding.w);
            if (p.padding.h >= kh || p.padding.w >= kw)
                continue;
        } else {
            p.padding.h = randint(rng, 0, (kh - 1) * p.dilation.h);
            p.padding.w = randint(rng, 0, (kw - 1) * p.dilation.w);
            if (run < 2 * fixed_n)
                p.padding = {0, 0};
            oh = out_size(ih, kh, p.stride.h, p.padding.h, p.dilation.h);
            ow = out_size(iw, kw, p.stride.w, p.padding.w, p.dilation.w);
        }
        if (oh < 1 || ow < 1)
            continue;
        const int n = run >= 2 * fixed_n && randint(rng, 0, 3) == 0 ? 2 : 1;
        p.input_zero_point =
            randint(rng, 0, 3) == 0 ? (randint(rng, 0, 1) ? 127 : -128) : randint(rng, -128, 127);
        p.output_zero_point = randint(rng, -128, 127);
        // The output form needs a multiplier in [2^30, 2^31), a shift in [-21, -1] and the
        // whole int8 range; half the runs have it.
        const bool realistic = run < 2 * fixed_n || randint(rng, 0, 1) == 0;
        p.activation = realistic ? tm_nn_activation_t{-128, 127} : random_act(rng);
        cc.in = {n, ih, iw, c};
        cc.f = {cout, kh, kw, c};
        cc.out = {n, oh, ow, cout};

        std::vector<int32_t> mult, shift;
        if (realistic) {
            mult.resize(size_t(cout));
            shift.resize(size_t(cout));
            for (int k = 0; k < cout; ++k) {
                mult[size_t(k)] = randint(rng, 1 << 30, INT32_MAX);
                shift[size_t(k)] = randint(rng, -12, -5);
            }
        } else {
            random_quant(rng, cout, mult, shift);
        }
        const auto x = random_s8(rng, size_t(count(cc.in)));
        const auto w = random_s8(rng, size_t(count(cc.f)));
        const auto bias = random_bias(rng, cout);
        const bool with_bias = randint(rng, 0, 4) != 0;
        const tm_nn_per_channel_quant_t q{mult.data(), shift.data()};
        std::vector<int8_t> ref(size_t(count(cc.out)), 0x55), opt(ref.size(), 0x2a);
        ASSERT_EQ(tm_nn_ref_conv2d_s8(nullptr, &p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      with_bias ? bias.data() : nullptr, &cc.out, ref.data()),
                  TM_NN_OK);
        const int32_t bytes = tm_nn_opt_conv2d_s8_get_buffer_size(&cc.in, &cc.f);
        const int64_t expect = padded_path_bytes(cc.in, cc.f);
        if (expect >= 0)
            ASSERT_EQ(bytes, expect) << "run " << run;
        std::vector<int32_t> scratch((size_t(bytes) + 3) / 4);
        for (auto &s : scratch)
            s = int32_t(rng());
        tm_nn_context_t ctx{scratch.data(), bytes};
        if (expect >= 0 && run < 2 * fixed_n) { // a short scratch is refused, not overrun
            ctx.size = bytes - 4;
            ASSERT_EQ(tm_nn_opt_conv2d_s8(&ctx, &p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                          bias.data(), &cc.out, opt.data()),
                      TM_NN_BUFFER_ERROR);
            ctx.size = bytes;
        }
        ASSERT_EQ(tm_nn_opt_conv2d_s8(&ctx, &p, &q, &cc.in, x.data(), &cc.f, w.data(),
                                      with_bias ? bias.data() : nullptr, &cc.out, opt.data()),
                  TM_NN_OK);
        ASSERT_EQ(opt, ref) << "run " << run << " in " << n << "x" << ih << "x" << iw << "x" << c
                            << " filter " << cout << "x" << kh << "x" << kw << " stride "
                            << p.stride.h << "," << p.stride.w << " pad " << p.padding.h << ","
                            << p.padding.w << " dil " << p.dilation.h << "," << p.dilation.w;
        const bool on_path = expect >= 0 && p.dilation.h == 1 && p.dilation.w == 1;
        padded += on_path;
        output_form += on_path && realistic;
        ones += on_path && c == 1;
        threes += on_path && c == 3;
        same += on_path && use_same;
        ++run;
    }
    // Each kind of case really ran on the padded path.
    EXPECT_GT(padded, 600);
    EXPECT_GT(output_form, 250);
    EXPECT_GT(ones, 100);
    EXPECT_GT(threes, 100);
    EXPECT_GT(same, 300);
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
