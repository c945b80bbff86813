// Every int8 kernel against an independent float reference written here:
// dequantize -> float op in double -> quantize, within one LSB, on random shapes and seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tm_nn.h"

namespace {

using Rng = std::mt19937;

int randint(Rng &rng, int lo, int hi)
{
    return std::uniform_int_distribution<int>(lo, hi)(rng);
}

double randreal(Rng &rng, double lo, double hi)
{
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}

std::vector<int8_t> random_s8(Rng &rng, size_t n)
{
    std::vector<int8_t> v(n);
    for (auto &x : v) {
        x = static_cast<int8_t>(randint(rng, -128, 127));
    }
    return v;
}

int32_t quantize(double real, double scale, int32_t zero_point, const tm_nn_activation_t &act)
{
    const double q = std::round(real / scale) + zero_point;
    return static_cast<int32_t>(std::clamp(q, static_cast<double>(act.min),
                                           static_cast<double>(act.max)));
}

// One of: no activation, ReLU, ReLU6, expressed in the output's quantized domain.
tm_nn_activation_t random_activation(Rng &rng, double out_scale, int32_t out_zp)
{
    tm_nn_activation_t a{-128, 127};
    switch (randint(rng, 0, 2)) {
    case 1:
        a.min = std::max(-128, out_zp);
        break;
    case 2:
        a.min = std::max(-128, out_zp);
        a.max = std::min(127, out_zp + static_cast<int32_t>(std::lround(6.0 / out_scale)));
        if (a.max < a.min) {
            a.max = a.min;
        }
        break;
    default:
        break;
    }
    return a;
}

// TFLite's output size and top/left padding for SAME (same=true) or VALID.
bool conv_geometry(int in, int k, int stride, int dilation, bool same, int *out, int *pad)
{
    const int eff = (k - 1) * dilation + 1;
    if (same) {
        *out = (in + stride - 1) / stride;
        const int total = std::max(0, (*out - 1) * stride + eff - in);
        *pad = total / 2;
    } else {
        if (in < eff) {
            return false;
        }
        *out = (in - eff) / stride + 1;
        *pad = 0;
    }
    return true;
}

// Quantization of a random layer: input/weight scales, per-channel multipliers. The output
// scale is chosen from the float result so that the int8 range is actually exercised.
struct ChannelQuant {
    double in_scale;
    int32_t in_zp;
    std::vector<double> w_scale;
    double out_scale;
    int32_t out_zp;
    std::vector<int32_t> mult, shift;

    void finish(Rng &rng, const std::vector<double> &real_out)
    {
        double peak = 1e-6;
        for (double v : real_out) {
            peak = std::max(peak, std::fabs(v));
        }
        out_scale = peak / randreal(rng, 60.0, 140.0);  // > 127 saturates some outputs
        out_zp = randint(rng, -20, 20);
        mult.resize(w_scale.size());
        shift.resize(w_scale.size());
        for (size_t c = 0; c < w_scale.size(); ++c) {
            ASSERT_EQ(tm_nn_quantize_multiplier(in_scale * w_scale[c] / out_scale, &mult[c],
                                                &shift[c]),
                      TM_NN_OK);
        }
    }
};

ChannelQuant random_quant(Rng &rng, int channels)
{
    ChannelQuant q;
    q.in_scale = randreal(rng, 0.005, 0.1);
    q.in_zp = randint(rng, -128, 127);
    for (int c = 0; c < channels; ++c) {
        q.w_scale.push_back(randreal(rng, 0.001, 0.05));
    }
    return q;
}

void expect_within_one(const std::vector<int8_t> &got, const std::vector<int32_t> &want,
                       const char *what, int seed)
{
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_LE(std::abs(got[i] - want[i]), 1)
            << what << " seed " << seed << " element " << i << " got " << int(got[i])
            << " want " << want[i];
    }
}

// ---------------------------------------------------------------------------------------
// conv2d and depthwise conv2d
// ---------------------------------------------------------------------------------------

struct ConvCase {
    tm_nn_dims_t in, filter, out;
    tm_nn_conv_params_t params{};
};

// Real-valued conv (or depthwise conv) in double on dequantized data. Padded taps are
// skipped, which is the same as reading the input zero point.
std::vector<double> reference_conv(const ConvCase &cc, const ChannelQuant &q,
                                   const std::vector<int8_t> &in, const std::vector<int8_t> &w,
                                   const std::vector<int32_t> &bias, bool depthwise)
{
    const auto &p = cc.params;
    std::vector<double> out;
    for (int b = 0; b < cc.out.n; ++b)
        for (int oy = 0; oy < cc.out.h; ++oy)
            for (int ox = 0; ox < cc.out.w; ++ox)
                for (int oc = 0; oc < cc.out.c; ++oc) {
                    double acc = bias[oc] * q.in_scale * q.w_scale[oc];
                    for (int ky = 0; ky < cc.filter.h; ++ky)
                        for (int kx = 0; kx < cc.filter.w; ++kx) {
                            const int iy = oy * p.stride.h - p.padding.h + ky * p.dilation.h;
                            const int ix = ox * p.stride.w - p.padding.w + kx * p.dilation.w;
                            if (iy < 0 || iy >= cc.in.h || ix < 0 || ix >= cc.in.w) {
                                continue;
                            }
                            const int ic_begin = depthwise ? oc / p.depth_multiplier : 0;
                            const int ic_end = depthwise ? ic_begin + 1 : cc.in.c;
                            for (int ic = ic_begin; ic < ic_end; ++ic) {
                                const double x =
                                    q.in_scale *
                                    (in[((b * cc.in.h + iy) * cc.in.w + ix) * cc.in.c + ic] -
                                     q.in_zp);
                                const int wi =
                                    depthwise
                                        ? (ky * cc.filter.w + kx) * cc.filter.c + oc
                                        : ((oc * cc.filter.h + ky) * cc.filter.w + kx) *
                                                  cc.filter.c +
                                              ic;
                                acc += x * q.w_scale[oc] * w[wi];
                            }
                        }
                    out.push_back(acc);
                }
    return out;
}

void run_conv_case(Rng &rng, ConvCase cc, bool depthwise, int seed)
{
    const size_t in_n = size_t(cc.in.n) * cc.in.h * cc.in.w * cc.in.c;
    const size_t w_n = size_t(cc.filter.n) * cc.filter.h * cc.filter.w * cc.filter.c;
    const auto input = random_s8(rng, in_n);
    auto weights = random_s8(rng, w_n);
    for (auto &w : weights) {
        w = static_cast<int8_t>(std::max<int>(w, -127));  // symmetric weights: no -128
    }
    ChannelQuant q = random_quant(rng, cc.out.c);
    cc.params.input_zero_point = q.in_zp;
    std::vector<int32_t> bias(cc.out.c);
    for (auto &b : bias) {
        b = randint(rng, -5000, 5000);
    }
    const auto real = reference_conv(cc, q, input, weights, bias, depthwise);
    q.finish(rng, real);
    cc.params.output_zero_point = q.out_zp;
    cc.params.activation = random_activation(rng, q.out_scale, q.out_zp);

    std::vector<int32_t> want;
    for (double v : real) {
        want.push_back(quantize(v, q.out_scale, q.out_zp, cc.params.activation));
    }
    std::vector<int8_t> got(want.size());
    const tm_nn_per_channel_quant_t pq{q.mult.data(), q.shift.data()};
    std::vector<int32_t> scratch(
        (depthwise ? tm_nn_depthwise_conv2d_s8_get_buffer_size(&cc.in, &cc.filter)
                   : tm_nn_conv2d_s8_get_buffer_size(&cc.in, &cc.filter)) / 4 + 1);
    const tm_nn_context_t ctx{scratch.data(), static_cast<int32_t>(scratch.size() * 4)};
    const tm_nn_status_t st =
        depthwise ? tm_nn_depthwise_conv2d_s8(&ctx, &cc.params, &pq, &cc.in, input.data(),
                                              &cc.filter, weights.data(), bias.data(), &cc.out,
                                              got.data())
                  : tm_nn_conv2d_s8(&ctx, &cc.params, &pq, &cc.in, input.data(), &cc.filter,
                                    weights.data(), bias.data(), &cc.out, got.data());
    ASSERT_EQ(st, TM_NN_OK) << "seed " << seed;
    expect_within_one(got, want, depthwise ? "depthwise" : "conv2d", seed);
}

bool random_conv_case(Rng &rng, bool depthwise, ConvCase *cc)
{
    cc->in = {randint(rng, 1, 2), randint(rng, 1, 9), randint(rng, 1, 9), randint(rng, 1, 6)};
    const int kh = randint(rng, 1, 3), kw = randint(rng, 1, 3);
    auto &p = cc->params;
    p.stride = {randint(rng, 1, 2), randint(rng, 1, 2)};
    p.dilation = {randint(rng, 1, 2), randint(rng, 1, 2)};
    p.depth_multiplier = depthwise ? randint(rng, 1, 3) : 1;
    const bool same = randint(rng, 0, 1) == 1;
    int oh, ow;
    if (!conv_geometry(cc->in.h, kh, p.stride.h, p.dilation.h, same, &oh, &p.padding.h) ||
        !conv_geometry(cc->in.w, kw, p.stride.w, p.dilation.w, same, &ow, &p.padding.w)) {
        return false;
    }
    const int out_c = depthwise ? cc->in.c * p.depth_multiplier : randint(rng, 1, 6);
    cc->filter = depthwise ? tm_nn_dims_t{1, kh, kw, out_c}
                           : tm_nn_dims_t{out_c, kh, kw, cc->in.c};
    cc->out = {cc->in.n, oh, ow, out_c};
    return true;
}

TEST(Conv2dS8, MatchesFloatReferenceOnRandomShapes)
{
    for (int seed = 0; seed < 300; ++seed) {
        Rng rng(seed);
        ConvCase cc;
        if (!random_conv_case(rng, false, &cc)) {
            continue;
        }
        run_conv_case(rng, cc, false, seed);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(Conv2dS8, OneDimensionalMotionConv)
{
    // 1-D conv over a 3-axis accelerometer window: H = 1, KH = 1.
    for (int seed = 1000; seed < 1020; ++seed) {
        Rng rng(seed);
        ConvCase cc;
        cc.in = {1, 1, 64, 3};
        cc.params.stride = {1, randint(rng, 1, 3)};
        cc.params.dilation = {1, 1};
        cc.params.depth_multiplier = 1;
        int ow;
        ASSERT_TRUE(conv_geometry(64, 5, cc.params.stride.w, 1, seed % 2 == 0, &ow,
                                  &cc.params.padding.w));
        cc.params.padding.h = 0;
        cc.filter = {8, 1, 5, 3};
        cc.out = {1, 1, ow, 8};
        run_conv_case(rng, cc, false, seed);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(Conv2dS8, NullBiasMeansZero)
{
    const tm_nn_dims_t in{1, 1, 2, 1}, f{1, 1, 1, 1}, out{1, 1, 2, 1};
    const int8_t x[2] = {10, -10};
    const int8_t w[1] = {3};
    int32_t m = 0, s = 0;
    ASSERT_EQ(tm_nn_quantize_multiplier(0.5, &m, &s), TM_NN_OK);
    const tm_nn_per_channel_quant_t q{&m, &s};
    tm_nn_conv_params_t p{};
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.activation = {-128, 127};
    p.input_zero_point = 0;
    p.output_zero_point = 1;
    int8_t y[2] = {0, 0};
    ASSERT_EQ(tm_nn_conv2d_s8(nullptr, &p, &q, &in, x, &f, w, nullptr, &out, y), TM_NN_OK);
    EXPECT_EQ(y[0], 16);   // 30 * 0.5 + 1
    EXPECT_EQ(y[1], -14);  // -30 * 0.5 + 1
}

TEST(Conv2dS8, RejectsBadArguments)
{
    const tm_nn_dims_t in{1, 4, 4, 2}, f{3, 3, 3, 2}, out{1, 4, 4, 3};
    std::vector<int8_t> x(32), w(54), y(48);
    int32_t m[3] = {1 << 30, 1 << 30, 1 << 30}, s[3] = {0, 0, 0};
    const tm_nn_per_channel_quant_t q{m, s};
    tm_nn_conv_params_t p{};
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.padding = {1, 1};
    p.activation = {-128, 127};
    auto call = [&](const tm_nn_conv_params_t &pp, const tm_nn_dims_t &i, const tm_nn_dims_t &ff,
                    const tm_nn_dims_t &o) {
        return tm_nn_conv2d_s8(nullptr, &pp, &q, &i, x.data(), &ff, w.data(), nullptr, &o,
                               y.data());
    };
    EXPECT_EQ(call(p, in, f, out), TM_NN_OK);
    EXPECT_EQ(tm_nn_conv2d_s8(nullptr, &p, &q, &in, nullptr, &f, w.data(), nullptr, &out,
                              y.data()),
              TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_conv2d_s8(nullptr, nullptr, &q, &in, x.data(), &f, w.data(), nullptr, &out,
                              y.data()),
              TM_NN_ARG_ERROR);
    EXPECT_EQ(call(p, in, tm_nn_dims_t{3, 3, 3, 1}, out), TM_NN_ARG_ERROR);  // C_IN mismatch
    EXPECT_EQ(call(p, in, f, tm_nn_dims_t{1, 4, 4, 2}), TM_NN_ARG_ERROR);    // C_OUT mismatch
    EXPECT_EQ(call(p, in, f, tm_nn_dims_t{2, 4, 4, 3}), TM_NN_ARG_ERROR);    // batch mismatch
    EXPECT_EQ(call(p, in, f, tm_nn_dims_t{1, 6, 4, 3}), TM_NN_ARG_ERROR);    // output too tall
    EXPECT_EQ(call(p, tm_nn_dims_t{1, 0, 4, 2}, f, out), TM_NN_ARG_ERROR);   // empty dim
    auto bad = p;
    bad.stride.h = 0;
    EXPECT_EQ(call(bad, in, f, out), TM_NN_ARG_ERROR);
    bad = p;
    bad.dilation.w = 0;
    EXPECT_EQ(call(bad, in, f, out), TM_NN_ARG_ERROR);
    bad = p;
    bad.padding.h = 3;  // a whole window in the padding
    EXPECT_EQ(call(bad, in, f, out), TM_NN_ARG_ERROR);
    bad = p;
    bad.activation = {10, 5};
    EXPECT_EQ(call(bad, in, f, out), TM_NN_ARG_ERROR);
    bad = p;
    bad.input_zero_point = 128;
    EXPECT_EQ(call(bad, in, f, out), TM_NN_ARG_ERROR);
    s[1] = 32;
    EXPECT_EQ(call(p, in, f, out), TM_NN_ARG_ERROR);
    s[1] = 0;
}

TEST(DepthwiseConv2dS8, MatchesFloatReferenceOnRandomShapes)
{
    for (int seed = 0; seed < 300; ++seed) {
        Rng rng(seed + 5000);
        ConvCase cc;
        if (!random_conv_case(rng, true, &cc)) {
            continue;
        }
        run_conv_case(rng, cc, true, seed);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(DepthwiseConv2dS8, RejectsBadArguments)
{
    const tm_nn_dims_t in{1, 4, 4, 2}, f{1, 3, 3, 4}, out{1, 4, 4, 4};
    std::vector<int8_t> x(32), w(36), y(64);
    int32_t m[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, s[4] = {0, 0, 0, 0};
    const tm_nn_per_channel_quant_t q{m, s};
    tm_nn_conv_params_t p{};
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.padding = {1, 1};
    p.depth_multiplier = 2;
    p.activation = {-128, 127};
    EXPECT_EQ(tm_nn_depthwise_conv2d_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr,
                                        &out, y.data()),
              TM_NN_OK);
    p.depth_multiplier = 1;  // 2 * 1 != 4
    EXPECT_EQ(tm_nn_depthwise_conv2d_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr,
                                        &out, y.data()),
              TM_NN_ARG_ERROR);
    p.depth_multiplier = 0;
    EXPECT_EQ(tm_nn_depthwise_conv2d_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr,
                                        &out, y.data()),
              TM_NN_ARG_ERROR);
}

// ---------------------------------------------------------------------------------------
// fully connected
// ---------------------------------------------------------------------------------------

TEST(FullyConnectedS8, MatchesFloatReferenceOnRandomShapes)
{
    for (int seed = 0; seed < 300; ++seed) {
        Rng rng(seed + 9000);
        const int batches = randint(rng, 1, 3), depth = randint(rng, 1, 80),
                  out_c = randint(rng, 1, 16);
        const auto input = random_s8(rng, size_t(batches) * depth);
        auto weights = random_s8(rng, size_t(out_c) * depth);
        for (auto &w : weights) {
            w = static_cast<int8_t>(std::max<int>(w, -127));
        }
        std::vector<int32_t> bias(out_c);
        for (auto &b : bias) {
            b = randint(rng, -3000, 3000);
        }
        ChannelQuant q = random_quant(rng, out_c);
        std::vector<double> real;
        for (int b = 0; b < batches; ++b)
            for (int o = 0; o < out_c; ++o) {
                double acc = bias[o] * q.in_scale * q.w_scale[o];
                for (int i = 0; i < depth; ++i) {
                    acc += q.in_scale * (input[b * depth + i] - q.in_zp) * q.w_scale[o] *
                           weights[o * depth + i];
                }
                real.push_back(acc);
            }
        q.finish(rng, real);
        tm_nn_fc_params_t p{};
        p.input_zero_point = q.in_zp;
        p.output_zero_point = q.out_zp;
        p.activation = random_activation(rng, q.out_scale, q.out_zp);
        std::vector<int32_t> want;
        for (double v : real) {
            want.push_back(quantize(v, q.out_scale, q.out_zp, p.activation));
        }
        // The input arrives as a flattened NHWC tensor.
        const tm_nn_dims_t in{batches, 1, 1, depth}, f{out_c, 1, 1, depth},
            out{batches, 1, 1, out_c};
        const tm_nn_per_channel_quant_t pq{q.mult.data(), q.shift.data()};
        std::vector<int8_t> got(want.size());
        ASSERT_EQ(tm_nn_fully_connected_s8(nullptr, &p, &pq, &in, input.data(), &f,
                                           weights.data(), bias.data(), &out, got.data()),
                  TM_NN_OK);
        expect_within_one(got, want, "fully_connected", seed);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(FullyConnectedS8, AcceptsAFlattenedFeatureMap)
{
    // [1, 2, 3, 4] flattened = one batch of 24.
    const tm_nn_dims_t in{1, 2, 3, 4}, f{2, 1, 1, 24}, out{1, 1, 1, 2};
    std::vector<int8_t> x(24, 1), w(48, 1), y(2);
    int32_t m[2] = {1 << 30, 1 << 30}, s[2] = {0, 0};
    const tm_nn_per_channel_quant_t q{m, s};
    tm_nn_fc_params_t p{};
    p.activation = {-128, 127};
    ASSERT_EQ(tm_nn_fully_connected_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr,
                                       &out, y.data()),
              TM_NN_OK);
    EXPECT_EQ(y[0], 12);  // 24 * 0.5
    const tm_nn_dims_t bad_f{2, 1, 1, 25};  // 24 is not a multiple of 25
    EXPECT_EQ(tm_nn_fully_connected_s8(nullptr, &p, &q, &in, x.data(), &bad_f, w.data(),
                                       nullptr, &out, y.data()),
              TM_NN_ARG_ERROR);
    const tm_nn_dims_t bad_out{1, 1, 1, 3};
    EXPECT_EQ(tm_nn_fully_connected_s8(nullptr, &p, &q, &in, x.data(), &f, w.data(), nullptr,
                                       &bad_out, y.data()),
              TM_NN_ARG_ERROR);
}

// ---------------------------------------------------------------------------------------
// pooling
// ---------------------------------------------------------------------------------------

struct PoolCase {
    tm_nn_dims_t in, out;
    tm_nn_pool_params_t params{};
};

bool random_pool_case(Rng &rng, PoolCase *pc)
{
    pc->in = {randint(rng, 1, 2), randint(rng, 1, 9), randint(rng, 1, 9), randint(rng, 1, 5)};
    auto &p = pc->params;
    p.filter = {randint(rng, 1, 3), randint(rng, 1, 3)};
    p.stride = {randint(rng, 1, 3), randint(rng, 1, 3)};
    const bool same = randint(rng, 0, 1) == 1;
    int oh, ow;
    if (!conv_geometry(pc->in.h, p.filter.h, p.stride.h, 1, same, &oh, &p.padding.h) ||
        !conv_geometry(pc->in.w, p.filter.w, p.stride.w, 1, same, &ow, &p.padding.w)) {
        return false;
    }
    p.activation = {-128, 127};
    if (randint(rng, 0, 1)) {
        p.activation = {randint(rng, -128, 0), randint(rng, 1, 127)};
    }
    pc->out = {pc->in.n, oh, ow, pc->in.c};
    return true;
}

// Pooling over the in-bounds taps in double; average rounded half away from zero.
std::vector<int32_t> reference_pool(const PoolCase &pc, const std::vector<int8_t> &in, bool avg)
{
    const auto &p = pc.params;
    std::vector<int32_t> out;
    for (int b = 0; b < pc.out.n; ++b)
        for (int oy = 0; oy < pc.out.h; ++oy)
            for (int ox = 0; ox < pc.out.w; ++ox)
                for (int c = 0; c < pc.out.c; ++c) {
                    double sum = 0.0, mx = -1e9;
                    int count = 0;
                    for (int ky = 0; ky < p.filter.h; ++ky)
                        for (int kx = 0; kx < p.filter.w; ++kx) {
                            const int iy = oy * p.stride.h - p.padding.h + ky;
                            const int ix = ox * p.stride.w - p.padding.w + kx;
                            if (iy < 0 || iy >= pc.in.h || ix < 0 || ix >= pc.in.w) {
                                continue;
                            }
                            const int v = in[((b * pc.in.h + iy) * pc.in.w + ix) * pc.in.c + c];
                            sum += v;
                            mx = std::max(mx, double(v));
                            ++count;
                        }
                    const double r = avg ? std::round(sum / count) : mx;  // round: half away
                    out.push_back(static_cast<int32_t>(
                        std::clamp(r, double(p.activation.min), double(p.activation.max))));
                }
    return out;
}

TEST(PoolS8, MaxAndAverageMatchReferenceExactly)
{
    int tested = 0;
    for (int seed = 0; seed < 400; ++seed) {
        Rng rng(seed + 20000);
        PoolCase pc;
        if (!random_pool_case(rng, &pc)) {
            continue;
        }
        const auto input =
            random_s8(rng, size_t(pc.in.n) * pc.in.h * pc.in.w * pc.in.c);
        const size_t out_n = size_t(pc.out.n) * pc.out.h * pc.out.w * pc.out.c;
        std::vector<int8_t> got(out_n);
        ASSERT_EQ(tm_nn_max_pool_s8(&pc.params, &pc.in, input.data(), &pc.out, got.data()),
                  TM_NN_OK);
        auto want = reference_pool(pc, input, false);
        for (size_t i = 0; i < out_n; ++i) {
            ASSERT_EQ(got[i], want[i]) << "max seed " << seed << " i " << i;
        }
        ASSERT_EQ(tm_nn_avg_pool_s8(nullptr, &pc.params, &pc.in, input.data(), &pc.out,
                                    got.data()),
                  TM_NN_OK);
        want = reference_pool(pc, input, true);
        for (size_t i = 0; i < out_n; ++i) {
            ASSERT_EQ(got[i], want[i]) << "avg seed " << seed << " i " << i;
        }
        ++tested;
    }
    EXPECT_GT(tested, 200);
}

// One 2x2 window (stride 2, no padding) over the four given values.
int8_t avg2x2(int8_t a, int8_t b, int8_t c, int8_t d)
{
    const tm_nn_dims_t in{1, 2, 2, 1}, out{1, 1, 1, 1};
    tm_nn_pool_params_t p{};
    p.filter = {2, 2};
    p.stride = {2, 2};
    p.activation = {-128, 127};
    const int8_t x[4] = {a, b, c, d};
    int8_t y = 99;
    EXPECT_EQ(tm_nn_avg_pool_s8(nullptr, &p, &in, x, &out, &y), TM_NN_OK);
    return y;
}

TEST(AvgPoolS8, RoundsHalfAwayFromZero)
{
    EXPECT_EQ(avg2x2(1, 1, 0, 0), 1);     //  0.5  ->  1
    EXPECT_EQ(avg2x2(-1, -1, 0, 0), -1);  // -0.5  -> -1
    EXPECT_EQ(avg2x2(3, 3, 0, 0), 2);     //  1.5  ->  2
    EXPECT_EQ(avg2x2(-3, -3, 0, 0), -2);  // -1.5  -> -2
    EXPECT_EQ(avg2x2(1, 0, 0, 0), 0);     //  0.25 ->  0
    EXPECT_EQ(avg2x2(-1, 0, 0, 0), 0);    // -0.25 ->  0
    EXPECT_EQ(avg2x2(3, 0, 0, 0), 1);     //  0.75 ->  1
    EXPECT_EQ(avg2x2(-3, 0, 0, 0), -1);   // -0.75 -> -1
    EXPECT_EQ(avg2x2(127, 127, 127, 126), 127);      // 126.75 -> 127
    EXPECT_EQ(avg2x2(-128, -128, -128, -127), -128); // -127.75 -> -128
}

TEST(AvgPoolS8, CountsOnlyInBoundsTaps)
{
    // 3x3 window, padding 1, on a 2x2 input: the corner window sees 4 real pixels.
    const tm_nn_dims_t in{1, 2, 2, 1}, out{1, 1, 1, 1};
    tm_nn_pool_params_t p{};
    p.filter = {3, 3};
    p.stride = {2, 2};
    p.padding = {1, 1};
    p.activation = {-128, 127};
    const int8_t x[4] = {10, 20, 30, 41};  // 101 / 4 = 25.25
    int8_t y = 0;
    ASSERT_EQ(tm_nn_avg_pool_s8(nullptr, &p, &in, x, &out, &y), TM_NN_OK);
    EXPECT_EQ(y, 25);
}

TEST(AvgPoolS8, GlobalAveragePoolIsAFullWindow)
{
    const tm_nn_dims_t in{1, 3, 5, 2}, out{1, 1, 1, 2};
    std::vector<int8_t> x(30);
    for (int i = 0; i < 15; ++i) {
        x[2 * i] = static_cast<int8_t>(i);        // mean 7
        x[2 * i + 1] = static_cast<int8_t>(-i - 1); // sum -120, mean -8
    }
    tm_nn_pool_params_t p{};
    p.filter = {3, 5};
    p.stride = {1, 1};
    p.activation = {-128, 127};
    int8_t y[2];
    ASSERT_EQ(tm_nn_avg_pool_s8(nullptr, &p, &in, x.data(), &out, y), TM_NN_OK);
    EXPECT_EQ(y[0], 7);
    EXPECT_EQ(y[1], -8);
}

TEST(PoolS8, RejectsBadArguments)
{
    const tm_nn_dims_t in{1, 4, 4, 2}, out{1, 2, 2, 2};
    std::vector<int8_t> x(32), y(8);
    tm_nn_pool_params_t p{};
    p.filter = {2, 2};
    p.stride = {2, 2};
    p.activation = {-128, 127};
    EXPECT_EQ(tm_nn_max_pool_s8(&p, &in, x.data(), &out, y.data()), TM_NN_OK);
    EXPECT_EQ(tm_nn_max_pool_s8(nullptr, &in, x.data(), &out, y.data()), TM_NN_ARG_ERROR);
    const tm_nn_dims_t wrong_c{1, 2, 2, 3};
    EXPECT_EQ(tm_nn_max_pool_s8(&p, &in, x.data(), &wrong_c, y.data()), TM_NN_ARG_ERROR);
    auto bad = p;
    bad.padding = {2, 0};  // first window entirely in the padding
    EXPECT_EQ(tm_nn_avg_pool_s8(nullptr, &bad, &in, x.data(), &out, y.data()), TM_NN_ARG_ERROR);
    bad = p;
    bad.filter.w = 0;
    EXPECT_EQ(tm_nn_avg_pool_s8(nullptr, &bad, &in, x.data(), &out, y.data()), TM_NN_ARG_ERROR);
    const tm_nn_dims_t too_wide{1, 2, 3, 2};  // last window would start past the input
    EXPECT_EQ(tm_nn_max_pool_s8(&p, &in, x.data(), &too_wide, y.data()), TM_NN_ARG_ERROR);
}

// ---------------------------------------------------------------------------------------
// add
// ---------------------------------------------------------------------------------------

TEST(AddS8, MatchesFloatReference)
{
    for (int seed = 0; seed < 200; ++seed) {
        Rng rng(seed + 30000);
        const double s1 = randreal(rng, 0.005, 0.2), s2 = randreal(rng, 0.005, 0.2);
        const int32_t z1 = randint(rng, -128, 127), z2 = randint(rng, -128, 127);
        const double so = (s1 * 128 + s2 * 128) / randreal(rng, 100.0, 260.0);
        const int32_t zo = randint(rng, -30, 30);
        tm_nn_add_params_t p;
        ASSERT_EQ(tm_nn_add_prepare(s1, z1, s2, z2, so, zo, &p), TM_NN_OK);
        EXPECT_EQ(p.left_shift, 20);
        if (seed % 2) {
            p.activation = {std::max(-128, zo), 127};  // fused ReLU
        }
        const int n = randint(rng, 1, 300);
        const auto a = random_s8(rng, n), b = random_s8(rng, n);
        std::vector<int8_t> got(n);
        ASSERT_EQ(tm_nn_add_s8(&p, a.data(), b.data(), got.data(), n), TM_NN_OK);
        std::vector<int32_t> want;
        for (int i = 0; i < n; ++i) {
            want.push_back(quantize(s1 * (a[i] - z1) + s2 * (b[i] - z2), so, zo, p.activation));
        }
        expect_within_one(got, want, "add", seed);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(AddS8, RejectsBadArguments)
{
    tm_nn_add_params_t p;
    EXPECT_EQ(tm_nn_add_prepare(0.0, 0, 0.1, 0, 0.1, 0, &p), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_add_prepare(0.1, 0, 0.1, 200, 0.1, 0, &p), TM_NN_ARG_ERROR);
    // Output scale so small that the output multiplier exceeds one.
    EXPECT_EQ(tm_nn_add_prepare(0.1, 0, 0.1, 0, 1e-9, 0, &p), TM_NN_ARG_ERROR);
    ASSERT_EQ(tm_nn_add_prepare(0.1, 0, 0.1, 0, 0.2, 0, &p), TM_NN_OK);
    int8_t a[1] = {1}, b[1] = {1}, y[1];
    EXPECT_EQ(tm_nn_add_s8(&p, a, b, y, 0), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_add_s8(&p, nullptr, b, y, 1), TM_NN_ARG_ERROR);
    p.output_shift = 1;
    EXPECT_EQ(tm_nn_add_s8(&p, a, b, y, 1), TM_NN_ARG_ERROR);
}

// ---------------------------------------------------------------------------------------
// softmax
// ---------------------------------------------------------------------------------------

TEST(SoftmaxS8, MatchesFloatReference)
{
    for (int seed = 0; seed < 300; ++seed) {
        Rng rng(seed + 40000);
        const int rows = randint(rng, 1, 4), cols = randint(rng, 1, 40);
        const float scale = static_cast<float>(randreal(rng, 0.01, 0.5));
        const float beta = seed % 3 == 0 ? static_cast<float>(randreal(rng, 0.5, 2.0)) : 1.0f;
        const auto in = random_s8(rng, size_t(rows) * cols);
        std::vector<int8_t> got(in.size());
        const tm_nn_softmax_params_t p{scale, beta};
        ASSERT_EQ(tm_nn_softmax_s8(&p, in.data(), rows, cols, got.data()), TM_NN_OK);
        std::vector<int32_t> want;
        for (int r = 0; r < rows; ++r) {
            double sum = 0.0;
            for (int i = 0; i < cols; ++i) {
                sum += std::exp(double(beta) * scale * in[r * cols + i]);
            }
            for (int i = 0; i < cols; ++i) {
                const double prob = std::exp(double(beta) * scale * in[r * cols + i]) / sum;
                want.push_back(quantize(prob, 1.0 / 256.0, -128, tm_nn_activation_t{-128, 127}));
            }
        }
        expect_within_one(got, want, "softmax", seed);
        if (HasFatalFailure()) {
            return;
        }
    }
}

// Vectors of CMSIS-NN's unit tests for arm_softmax_s8, whose expected outputs were made with
// TFLite's reference kernel: integer parameters given directly.
TEST(SoftmaxS8, TfliteReferenceVectors)
{
    {
        const tm_nn_softmax_quant_t q{1077952640, 19, -3968};
        const int8_t in[10] = {101, 49, 6, -34, -75, -79, -38, 120, -55, 115};
        const int8_t want[10] = {-57, -70, -79, -86, -92, -94, -88, -54, -91, -56};
        int8_t got[10];
        ASSERT_EQ(tm_nn_softmax_s8_quantized(&q, in, 2, 5, got), TM_NN_OK);
        for (int i = 0; i < 10; ++i)
            EXPECT_EQ(got[i], want[i]) << "element " << i;
    }
    {
        const tm_nn_softmax_quant_t q{1077952576, 23, -248};
        const int8_t in[5] = {-80, -48, 16, 0, -96};
        const int8_t want[5] = {-128, -125, 56, -60, -128};
        int8_t got[5];
        ASSERT_EQ(tm_nn_softmax_s8_quantized(&q, in, 1, 5, got), TM_NN_OK);
        for (int i = 0; i < 5; ++i)
            EXPECT_EQ(got[i], want[i]) << "element " << i;
    }
}

// PreprocessSoftmaxScaling by hand: beta * scale * 2^26 = multiplier * 2^(shift - 31).
TEST(SoftmaxS8, IntegerParametersFromScaleAndBeta)
{
    tm_nn_softmax_quant_t q{};
    // 1/16 * 2^26 = 2^22 = 2^30 * 2^(23 - 31): multiplier 2^30, shift 23, diff_min -31 * 8.
    const tm_nn_softmax_params_t exact{0.0625f, 1.0f};
    ASSERT_EQ(tm_nn_softmax_quantize(&exact, &q), TM_NN_OK);
    EXPECT_EQ(q.multiplier, 1 << 30);
    EXPECT_EQ(q.left_shift, 23);
    EXPECT_EQ(q.diff_min, -248);
    // 0.1f = 13421773 * 2^-27, times 2^26 = 6710886.5 = (6710886.5 / 2^23) * 2^23:
    // multiplier = round(6710886.5 * 2^8) = 1717986944, shift 23.
    const tm_nn_softmax_params_t tenth{0.1f, 1.0f};
    ASSERT_EQ(tm_nn_softmax_quantize(&tenth, &q), TM_NN_OK);
    EXPECT_EQ(q.multiplier, 1717986944);
    EXPECT_EQ(q.left_shift, 23);
    // Outside [2^-27, 32) TFLite's arithmetic fails: refused.
    const tm_nn_softmax_params_t huge{8.0f, 4.0f}, tiny{1e-6f, 1e-3f}, negative{-0.1f, 1.0f};
    EXPECT_EQ(tm_nn_softmax_quantize(&huge, &q), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_softmax_quantize(&tiny, &q), TM_NN_ARG_ERROR);
    EXPECT_EQ(tm_nn_softmax_quantize(&negative, &q), TM_NN_ARG_ERROR);
}

TEST(SoftmaxS8, OneHotAndUniform)
{
    const tm_nn_softmax_params_t p{1.0f, 1.0f};
    const int8_t peaked[4] = {127, -128, -128, -128};  // e^-255: all mass on one class
    int8_t y[4];
    ASSERT_EQ(tm_nn_softmax_s8(&p, peaked, 1, 4, y), TM_NN_OK);
    EXPECT_EQ(y[0], 127);  // 256 / 256 saturates
    EXPECT_EQ(y[1], -128);
    const int8_t flat[4] = {5, 5, 5, 5};
    ASSERT_EQ(tm_nn_softmax_s8(&p, flat, 1, 4, y), TM_NN_OK);
    for (int8_t v : y) {
        EXPECT_EQ(v, -64);  // 0.25 * 256 - 128
    }
    EXPECT_EQ(tm_nn_softmax_s8(&p, flat, 0, 4, y), TM_NN_ARG_ERROR);
    const tm_nn_softmax_params_t bad{0.0f, 1.0f};
    EXPECT_EQ(tm_nn_softmax_s8(&bad, flat, 1, 4, y), TM_NN_ARG_ERROR);
}

}  // namespace
