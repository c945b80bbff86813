#include <gtest/gtest.h>

#include "ModelTestGraphs.h"
#include "model/FloatExecutor.h"
#include "model/Int8Executor.h"
#include "model/QuantizationMath.h"

#include <QRandomGenerator>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

using namespace tinyml;
using namespace tinyml::model;
using tinyml::model::testing::makeNode;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

// --- QuantizationMath ------------------------------------------------------------------------

TEST(QuantizationMath, ChooseQuantParamsIncludesZero)
{
    QuantParams q = chooseQuantParams(-1.0f, 1.0f);
    EXPECT_FLOAT_EQ(q.scale, 2.0f / 255.0f);
    EXPECT_EQ(q.zeroPoint, -1);  // -128 + 127.5 = -0.5, rounded away from zero
    q = chooseQuantParams(0.5f, 2.0f);  // widened to [0, 2]
    EXPECT_FLOAT_EQ(q.scale, 2.0f / 255.0f);
    EXPECT_EQ(q.zeroPoint, -128);
    q = chooseQuantParams(-3.0f, -1.0f);  // widened to [-3, 0]
    EXPECT_FLOAT_EQ(q.scale, 3.0f / 255.0f);
    EXPECT_EQ(q.zeroPoint, 127);
    q = chooseQuantParams(0, 0);
    EXPECT_EQ(q.scale, 1.0f);
    EXPECT_EQ(q.zeroPoint, -128);
    // 0 is exactly representable
    q = chooseQuantParams(-0.7f, 2.3f);
    EXPECT_EQ(dequantizeValue(qint8(q.zeroPoint), q), 0.0f);
}

TEST(QuantizationMath, RoundingHalfAwayAndClamping)
{
    const QuantParams unit{1.0f, 0};
    EXPECT_EQ(quantizeValue(2.5f, unit), 3);
    EXPECT_EQ(quantizeValue(-2.5f, unit), -3);
    EXPECT_EQ(quantizeValue(2.49f, unit), 2);
    EXPECT_EQ(quantizeValue(200.0f, unit), 127);
    EXPECT_EQ(quantizeValue(-200.0f, unit), -128);
    EXPECT_EQ(quantizeValue(std::numeric_limits<float>::infinity(), unit), 127);
    const QuantParams q{0.5f, 10};
    EXPECT_EQ(quantizeValue(1.0f, q), 12);
    EXPECT_EQ(dequantizeValue(12, q), 1.0f);
    EXPECT_EQ(quantize({0.0f, -5.0f}, q), (QVector<qint8>{10, 0}));
    EXPECT_EQ(dequantize({10, 0}, q), (QVector<float>{0.0f, -5.0f}));
}

TEST(QuantizationMath, PerChannelWeightsAndBias)
{
    // Conv weights [2,1,1,2]: channel 0 = (0.6, -1.0), channel 1 = (0.25, 0.1)
    const QVector<float> w{0.6f, -1.0f, 0.25f, 0.1f};
    const QVector<int> shape{2, 1, 1, 2};
    const QVector<float> s = symmetricChannelScales(w, shape, weightChannelAxis(OpType::Conv2D));
    ASSERT_EQ(s.size(), 2);
    EXPECT_FLOAT_EQ(s[0], 1.0f / 127.0f);
    EXPECT_FLOAT_EQ(s[1], 0.25f / 127.0f);
    EXPECT_EQ(quantizePerChannel(w, shape, 0, s), (QVector<qint8>{76, -127, 127, 51}));  // 76.2 -> 76, 50.8 -> 51

    // Depthwise [1,1,2,2]: channels are the last axis.
    EXPECT_EQ(weightChannelAxis(OpType::DepthwiseConv2D), 3);
    const QVector<float> dws = symmetricChannelScales({1, -4, -2, 2}, {1, 1, 2, 2}, 3);
    EXPECT_FLOAT_EQ(dws[0], 2.0f / 127.0f);
    EXPECT_FLOAT_EQ(dws[1], 4.0f / 127.0f);
    EXPECT_EQ(symmetricChannelScales({0, 0}, {2, 1}, 0), (QVector<float>{1.0f, 1.0f}));

    EXPECT_EQ(quantizeBias({1.0f, -0.3f}, 0.5f, {0.25f, 0.1f}), (QVector<qint32>{8, -6}));
    EXPECT_EQ(biasScales(0.5f, {0.25f, 0.1f}), (QVector<float>{0.125f, 0.05f}));
}

TEST(QuantizationMath, ActivationRangeAndSqnr)
{
    EXPECT_EQ(activationRange(Activation::None, {0.1f, 5}), std::make_pair(-128, 127));
    EXPECT_EQ(activationRange(Activation::Relu, {0.1f, 5}), std::make_pair(5, 127));
    EXPECT_EQ(activationRange(Activation::Relu6, {0.05f, -100}), std::make_pair(-100, 20));
    EXPECT_EQ(activationRange(Activation::Relu6, {0.01f, -100}), std::make_pair(-100, 127));

    EXPECT_TRUE(std::isinf(sqnrDb({1, 2}, {1, 2})));
    EXPECT_NEAR(sqnrDb({3, 4}, {3, 4.5f}), 20.0, 1e-9);     // 25 / 0.25 = 100
    EXPECT_NEAR(sqnrDb({1, 0}, {0, 0}), 0.0, 1e-12);
    EXPECT_TRUE(std::isnan(sqnrDb({1}, {1, 2})));
}

// --- hand-quantized graphs ----------------------------------------------------------------------

TensorDesc int8Act(const QString &name, float scale, int zp, QVector<int> shape = {})
{
    TensorDesc t = TensorDesc::activation(name, std::move(shape), DType::Int8);
    t.scales = {scale};
    t.zeroPoints = {zp};
    return t;
}

TEST(Int8Executor, FullyConnectedMatchesHandComputedRequantization)
{
    // input scale 0.5, weights [[1,2],[3,-4]] with channel scales 0.25 / 0.5, bias (4, 0),
    // output scale 1, zero point 0.
    // acc0 = 2*1 + 4*2 + 4 = 14, M0 = 0.125 -> 1.75 -> 2
    // acc1 = 2*3 - 4*4 = -10,     M1 = 0.25  -> -2.5 -> -3 (ties away from zero)
    Graph g;
    const int x = g.addTensor(int8Act("x", 0.5f, 0, {1, 2}));
    const int w = g.addTensor(TensorDesc::constantInt8("w", {2, 2}, {1, 2, 3, -4}, {0.25f, 0.5f}));
    const int b = g.addTensor(TensorDesc::constantInt32("b", {2}, {4, 0}, {0.125f, 0.25f}));
    const int y = g.addTensor(int8Act("y", 1.0f, 0));
    g.addNode(makeNode(OpType::FullyConnected, "fc", {x, w, b}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    Int8Executor e;
    QString error;
    ASSERT_TRUE(e.prepare(g, &error)) << str(error);
    auto out = e.run({2, 4}, &error);
    ASSERT_TRUE(out) << str(error);
    EXPECT_EQ(*out, (QVector<qint8>{2, -3}));

    // Fused ReLU clamps at the output zero point.
    g.nodes[0].activation = Activation::Relu;
    ASSERT_TRUE(e.prepare(g, &error)) << str(error);
    out = e.run({2, 4}, &error);
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, (QVector<qint8>{2, 0}));

    EXPECT_EQ(e.quantizeInput({1.0f, -0.26f}), (QVector<qint8>{2, -1}));
    EXPECT_EQ(e.dequantizeOutput({2, -3}), (QVector<float>{2.0f, -3.0f}));
    EXPECT_FALSE(e.run({1, 2, 3}, &error));

    // A bias near the int32 limit could overflow the accumulator: refused up front.
    g.tensors[b] = TensorDesc::constantInt32("b", {2}, {INT32_MAX - 1, 0}, {0.125f, 0.25f});
    EXPECT_FALSE(e.prepare(g, &error));
    EXPECT_TRUE(error.contains("\"fc\"") && error.contains("overflow")) << str(error);
}

TEST(Int8Executor, AnomalyScoresMatchHandComputedIntegers)
{
    QString error;
    // x_q = {3, 1} (scale 0.5, zero point 0); tables in x's integer domain.
    auto base = [](Graph &g) {
        const int x = g.addTensor(int8Act("x", 0.5f, 0, {1, 2}));
        TensorDesc c = TensorDesc::constantInt32("c", {2, 2}, {2, 4, 10, 0}, {0.5f});
        c.zeroPoints = {0};
        return std::pair<int, int>{x, g.addTensor(c)};
    };
    {
        // K-means: k0 (3-2)^2 + (1-4)^2 = 10, k1 49 + 1 = 50 -> S = 10; u = 0.25, output scale 0.5
        // -> 10 * 0.5 = 5 -> -128 + 5 = -123 (real score 2.5).
        Graph g;
        const auto [x, c] = base(g);
        const int y = g.addTensor(int8Act("y", 0.5f, -128));
        g.addNode(makeNode(OpType::KMeansScore, "km", {x, c}, y));
        g.inputs = {x};
        g.outputs = {y};
        g.quantized = true;
        Int8Executor e;
        ASSERT_TRUE(e.prepare(g, &error)) << str(error);
        auto out = e.run({3, 1}, &error);
        ASSERT_TRUE(out) << str(error);
        EXPECT_EQ(*out, (QVector<qint8>{-123}));
        EXPECT_EQ(e.dequantizeOutput(*out), (QVector<float>{2.5f}));
        // A centroid past the 2^20 bound, or in another domain than x, is refused by name.
        g.tensors[c] = TensorDesc::constantInt32("c", {2, 2}, {2, 4, (1 << 20) + 1, 0}, {0.5f});
        g.tensors[c].zeroPoints = {0};
        EXPECT_FALSE(e.prepare(g, &error));
        EXPECT_TRUE(error.contains("centroids \"c\"[2]")) << str(error);
        g.tensors[c] = TensorDesc::constantInt32("c", {2, 2}, {2, 4, 10, 0}, {0.25f});
        g.tensors[c].zeroPoints = {0};
        EXPECT_FALSE(e.prepare(g, &error));
        EXPECT_TRUE(error.contains("input's scale")) << str(error);
    }
    {
        // GMM: iv = {1, 2; 1, 1} (s_iv 0.5), u = 0.25 * 0.5 / 2 = 0.0625, offsets {16, -100}:
        // k0 16 + 1 + 9*2 = 35, k1 -100 + 49 + 1 = -50 -> S = -50 (real -3.125); output scale
        // 0.25: -12.5 -> -13 (TFLite: SRDHM -25, then -12.5 rounded away from zero).
        Graph g;
        const auto [x, c] = base(g);
        const int iv = g.addTensor(TensorDesc::constantInt32("iv", {2, 2}, {1, 2, 1, 1}, {0.5f}));
        const int off = g.addTensor(TensorDesc::constantInt32("off", {2}, {16, -100}, {0.0625f}));
        const int y = g.addTensor(int8Act("y", 0.25f, 0));
        g.addNode(makeNode(OpType::GmmScore, "gmm", {x, c, iv, off}, y));
        g.inputs = {x};
        g.outputs = {y};
        g.quantized = true;
        Int8Executor e;
        ASSERT_TRUE(e.prepare(g, &error)) << str(error);
        auto out = e.run({3, 1}, &error);
        ASSERT_TRUE(out) << str(error);
        EXPECT_EQ(*out, (QVector<qint8>{-13}));
        // Negative inverse variances are refused.
        g.tensors[iv] = TensorDesc::constantInt32("iv", {2, 2}, {1, -2, 1, 1}, {0.5f});
        EXPECT_FALSE(e.prepare(g, &error));
        EXPECT_TRUE(error.contains("inverse variances")) << str(error);
    }
    {
        // Reconstruction error of x = {-3, 5, -1, 0} against relu(x) = {0, 5, 0, 0}: S = 10,
        // u = 0.25 / 4, output scale 0.125, zero point 3 -> 10 * 0.5 = 5 -> 8.
        Graph g;
        const int x = g.addTensor(int8Act("x", 0.5f, 0, {1, 4}));
        const int r = g.addTensor(int8Act("r", 0.5f, 0));
        const int y = g.addTensor(int8Act("y", 0.125f, 3));
        g.addNode(makeNode(OpType::Relu, "relu", {x}, r));
        g.addNode(makeNode(OpType::SquaredError, "se", {r, x}, y));
        g.inputs = {x};
        g.outputs = {y};
        g.quantized = true;
        Int8Executor e;
        ASSERT_TRUE(e.prepare(g, &error)) << str(error);
        auto out = e.run({-3, 5, -1, 0}, &error);
        ASSERT_TRUE(out) << str(error);
        EXPECT_EQ(*out, (QVector<qint8>{8}));
        // The two inputs must share one quantization.
        g.nodes[1].inputs[0] = g.addTensor(TensorDesc::constantInt8("b", {1, 4}, {0, 5, 0, 0}, {0.25f}));
        EXPECT_FALSE(e.prepare(g, &error));
        EXPECT_TRUE(error.contains("same scale and zero point")) << str(error);
    }
}

TEST(Int8Executor, ConcatRequantizesMismatchedInputs)
{
    Graph g;
    const int x = g.addTensor(int8Act("x", 0.1f, 0, {1, 2}));
    TensorDesc c = TensorDesc::constantInt8("c", {1, 2}, {15, -10}, {0.2f}, {10});
    const int ci = g.addTensor(c);
    const int y = g.addTensor(int8Act("y", 0.1f, 0));
    g.addNode(makeNode(OpType::Concat, "cat", {x, ci}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    Int8Executor e;
    QString error;
    ASSERT_TRUE(e.prepare(g, &error)) << str(error);
    const auto out = e.run({7, -128}, &error);
    ASSERT_TRUE(out) << str(error);
    // x copied; c: 0.2 * (15 - 10) = 1.0 -> 10; 0.2 * (-10 - 10) = -4.0 -> -40
    EXPECT_EQ(*out, (QVector<qint8>{7, -128, 10, -40}));
}

TEST(Int8Executor, SoftmaxNeedsItsFixedOutputQuantization)
{
    Graph g;
    const int x = g.addTensor(int8Act("x", 0.1f, 0, {1, 3}));
    const int y = g.addTensor(int8Act("y", 1.0f / 256.0f, -128));
    g.addNode(makeNode(OpType::Softmax, "sm", {x}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    Int8Executor e;
    QString error;
    ASSERT_TRUE(e.prepare(g, &error)) << str(error);
    const auto out = e.runFloat({1.0f, 2.0f, 3.0f}, &error);
    ASSERT_TRUE(out) << str(error);
    const float expected[] = {0.09003057f, 0.24472847f, 0.66524096f};
    for (int i = 0; i < 3; ++i)
        EXPECT_NEAR((*out)[i], expected[i], 1.0f / 256.0f) << i;

    g.tensors[y].zeroPoints = {0};
    EXPECT_FALSE(e.prepare(g, &error));
    EXPECT_TRUE(error.contains("\"sm\"") && error.contains("1/256")) << str(error);
}

// --- int8 against float --------------------------------------------------------------------------

/// Quantizes a float graph the TFLite way, using ranges observed on calibration inputs.
/// Deliberately written here, independent of the training-side quantizer.
Graph quantizeForTest(const Graph &floatGraph, const QVector<QVector<float>> &calibration)
{
    FloatExecutor fe;
    QString error;
    EXPECT_TRUE(fe.prepare(floatGraph, &error)) << str(error);
    fe.setRecordIntermediates(true);
    const Graph &fg = fe.graph();
    QVector<float> lo(fg.tensors.size(), 0.f), hi(fg.tensors.size(), 0.f);
    for (const auto &in : calibration) {
        EXPECT_TRUE(fe.run(in, &error)) << str(error);
        for (int t = 0; t < fg.tensors.size(); ++t)
            for (float v : fe.tensorValues()[t]) {
                lo[t] = std::min(lo[t], v);
                hi[t] = std::max(hi[t], v);
            }
    }
    Graph q = fg;
    q.quantized = true;
    auto setAct = [&](int t, QuantParams p) {
        q.tensors[t].dtype = DType::Int8;
        q.tensors[t].scales = {p.scale};
        q.tensors[t].zeroPoints = {p.zeroPoint};
    };
    setAct(fg.inputs[0], chooseQuantParams(lo[fg.inputs[0]], hi[fg.inputs[0]]));
    for (const Node &n : fg.nodes) {
        const int out = n.outputs[0];
        const TensorDesc &xin = q.tensors[n.inputs[0]];
        switch (n.op) {
        case OpType::Softmax:
            setAct(out, {1.0f / 256.0f, -128});
            break;
        case OpType::Reshape:
        case OpType::MaxPool2D:
        case OpType::AvgPool2D:
        case OpType::GlobalAvgPool:
            setAct(out, {xin.scales[0], xin.zeroPoints[0]});
            break;
        default:
            setAct(out, chooseQuantParams(lo[out], hi[out]));
            break;
        }
        if (n.op == OpType::Conv2D || n.op == OpType::DepthwiseConv2D || n.op == OpType::FullyConnected) {
            const TensorDesc &wf = fg.tensors[n.inputs[1]];
            const int axis = weightChannelAxis(n.op);
            const QVector<float> ws = symmetricChannelScales(wf.floatValues(), wf.shape, axis);
            q.tensors[n.inputs[1]] = TensorDesc::constantInt8(
                wf.name, wf.shape, quantizePerChannel(wf.floatValues(), wf.shape, axis, ws), ws);
            if (n.inputs.size() > 2) {
                const TensorDesc &bf = fg.tensors[n.inputs[2]];
                q.tensors[n.inputs[2]] = TensorDesc::constantInt32(
                    bf.name, bf.shape, quantizeBias(bf.floatValues(), xin.scales[0], ws),
                    biasScales(xin.scales[0], ws));
            }
        }
    }
    return q;
}

QVector<float> randomInput(QRandomGenerator &rng, int n)
{
    QVector<float> v(n);
    for (float &e : v)
        e = float(rng.generateDouble() * 4.0 - 2.0);
    return v;
}

TEST(Int8Executor, SmallCnnTracksTheFloatModel)
{
    const Graph fg = tinyml::model::testing::smallCnn();
    QRandomGenerator rng(1234);
    QVector<QVector<float>> calibration;
    for (int i = 0; i < 32; ++i)
        calibration.append(randomInput(rng, 50));
    const Graph qg = quantizeForTest(fg, calibration);

    FloatExecutor fe;
    Int8Executor ie;
    QString error;
    ASSERT_TRUE(fe.prepare(fg, &error)) << str(error);
    ASSERT_TRUE(ie.prepare(qg, &error)) << str(error);
    fe.setRecordIntermediates(true);
    ie.setRecordIntermediates(true);
    const int logits = qg.tensorIndex("logits");
    const float logitScale = qg.tensors[logits].scales[0];
    QVector<float> allRef, allTest;
    // Tested on the calibration inputs: no activation is clipped, so the only error is
    // rounding, which the scales bound. (Inputs outside the calibrated range clip, and the
    // error then is not a function of the scales.)
    for (int k = 0; k < calibration.size(); ++k) {
        const QVector<float> &in = calibration[k];
        const auto f = fe.run(in, &error);
        const auto q = ie.runFloat(in, &error);
        ASSERT_TRUE(f && q) << str(error);
        // Probabilities: softmax output LSB is 1/256; a few LSBs of logit error propagate.
        for (int i = 0; i < 3; ++i)
            EXPECT_NEAR((*q)[i], (*f)[i], 8.0f / 256.0f) << "sample " << k << " class " << i;
        // Logits: rounding of input, weights, two hidden layers and the output, each at most
        // half an LSB of its tensor, amplified by the layers: bounded here by 8 output LSBs.
        const QVector<float> ref = fe.tensorValues()[logits];
        const QVector<float> got = ie.dequantizedTensor(logits);
        ASSERT_EQ(got.size(), 3);
        for (int i = 0; i < 3; ++i)
            EXPECT_NEAR(got[i], ref[i], 8.0f * logitScale) << "sample " << k << " logit " << i;
        allRef += ref;
        allTest += got;
    }
    EXPECT_GT(sqnrDb(allRef, allTest), 25.0);
    // Per-layer comparison works on every recorded activation.
    const int h1 = qg.tensorIndex("h1");
    EXPECT_EQ(ie.dequantizedTensor(h1).size(), fe.tensorValues()[h1].size());
    EXPECT_GT(sqnrDb(fe.tensorValues()[h1], ie.dequantizedTensor(h1)), 25.0);
}

/// Each int8 kernel against float arithmetic on the *dequantized* operands: the only error
/// left is the final requantization, so outputs agree to 1 LSB.
TEST(Int8Executor, KernelsAgreeWithFloatOnDequantizedOperandsToOneLsb)
{
    QRandomGenerator rng(99);
    for (OpType op : {OpType::Conv2D, OpType::DepthwiseConv2D, OpType::FullyConnected, OpType::AvgPool2D,
                      OpType::MaxPool2D, OpType::GlobalAvgPool, OpType::Add}) {
        SCOPED_TRACE(str(opName(op)));
        Graph fg;
        const int x = fg.addTensor(TensorDesc::activation("x", {1, 5, 4, 3}));
        const int y = fg.addTensor(TensorDesc::activation("y"));
        Node n = makeNode(op, "op", {x}, y);
        if (op == OpType::Conv2D || op == OpType::DepthwiseConv2D || op == OpType::FullyConnected) {
            QVector<int> wshape = op == OpType::Conv2D ? QVector<int>{2, 3, 3, 3}
                                  : op == OpType::DepthwiseConv2D ? QVector<int>{1, 3, 3, 3}
                                                                  : QVector<int>{4, 60};
            qint64 count = 1;
            for (int dd : wshape)
                count *= dd;
            const int cout = op == OpType::DepthwiseConv2D ? 3 : wshape[0];
            n.inputs.append(fg.addTensor(TensorDesc::constantFloat("w", wshape, randomInput(rng, int(count)))));
            n.inputs.append(fg.addTensor(TensorDesc::constantFloat("b", {cout}, randomInput(rng, cout))));
            n.strideH = 2;
            n.padTop = n.padLeft = n.padBottom = n.padRight = op == OpType::FullyConnected ? 0 : 1;
        } else if (op == OpType::AvgPool2D || op == OpType::MaxPool2D) {
            n.kernelH = 3;
            n.kernelW = 2;
            n.strideH = n.strideW = 2;
            n.padTop = n.padBottom = 1;
        } else if (op == OpType::Add) {
            n.inputs.append(fg.addTensor(TensorDesc::constantFloat("c", {1, 5, 4, 3}, randomInput(rng, 60))));
            n.activation = Activation::Relu;
        }
        fg.addNode(n);
        fg.inputs = {x};
        fg.outputs = {y};
        QVector<QVector<float>> calibration;
        for (int i = 0; i < 8; ++i)
            calibration.append(randomInput(rng, 60));
        Graph qg = quantizeForTest(fg, calibration);
        if (op == OpType::Add) {
            // The second operand as an int8 constant
            const int c = n.inputs[1];
            const QuantParams qc = chooseQuantParams(-2, 2);
            qg.tensors[c] = TensorDesc::constantInt8("c", {1, 5, 4, 3}, quantize(fg.tensors[c].floatValues(), qc),
                                                     {qc.scale}, {qc.zeroPoint});
        }
        Int8Executor ie;
        QString error;
        ASSERT_TRUE(ie.prepare(qg, &error)) << str(error);

        // The float reference on exactly the quantized operands.
        Graph deq = fg;
        for (int t = 0; t < qg.tensors.size(); ++t) {
            const TensorDesc &qt = qg.tensors[t];
            if (!qt.isConstant())
                continue;
            QVector<float> v;
            if (qt.dtype == DType::Int8) {
                const QVector<qint8> raw = qt.int8Values();
                const int axis = op == OpType::DepthwiseConv2D ? 3 : 0;
                qint64 inner = 1;
                for (int k = axis + 1; k < qt.shape.size(); ++k)
                    inner *= qt.shape[k];
                for (int i = 0; i < raw.size(); ++i) {
                    const int ch = qt.scales.size() == 1 ? 0 : int((i / inner) % qt.shape[axis]);
                    v.append(qt.scales[ch] * float(raw[i] - qt.zeroPoints[ch]));
                }
            } else {
                const QVector<qint32> raw = qt.int32Values();
                for (int i = 0; i < raw.size(); ++i)
                    v.append(float(double(qt.scales[i]) * raw[i]));
            }
            deq.tensors[t] = TensorDesc::constantFloat(qt.name, qt.shape, v);
        }
        FloatExecutor fe;
        ASSERT_TRUE(fe.prepare(deq, &error)) << str(error);
        const QuantParams outQ{qg.tensors[y].scales[0], qg.tensors[y].zeroPoints[0]};
        for (int k = 0; k < 8; ++k) {
            const QVector<qint8> qin = ie.quantizeInput(randomInput(rng, 60));
            const auto got = ie.run(qin, &error);
            ASSERT_TRUE(got) << str(error);
            const auto ref = fe.run(dequantize(qin, ie.inputQuant()), &error);
            ASSERT_TRUE(ref) << str(error);
            ASSERT_EQ(got->size(), ref->size());
            for (int i = 0; i < got->size(); ++i) {
                const int want = quantizeValue((*ref)[i], outQ);
                EXPECT_LE(std::abs(int((*got)[i]) - want), 1) << "element " << i;
            }
        }
    }
}

TEST(Int8Executor, RefusesFloatGraphsAndBatchNorm)
{
    Int8Executor e;
    QString error;
    EXPECT_FALSE(e.prepare(tinyml::model::testing::smallCnn(), &error));
    EXPECT_TRUE(error.contains("float")) << str(error);
    Graph g;
    const int x = g.addTensor(int8Act("x", 0.1f, 0, {1, 2}));
    QVector<int> in{x};
    for (const char *name : {"g", "b", "m", "v"})
        in.append(g.addTensor(TensorDesc::constantInt8(name, {2}, {1, 1}, {1.0f})));
    const int y = g.addTensor(int8Act("y", 0.1f, 0));
    g.addNode(makeNode(OpType::BatchNorm, "bn", in, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    EXPECT_FALSE(e.prepare(g, &error));
    EXPECT_TRUE(error.contains("\"bn\"") && error.contains("BatchNorm")) << str(error);
}

} // namespace
