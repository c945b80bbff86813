// Quantizer unit tests: BatchNorm folding against an independent computation, activation
// fusion, per-channel weight scales, int32 bias scales, shared / fixed output quantization and
// percentile calibration. No libtorch: hand-built graphs only.
#include "GraphEvaluation.h"
#include "Quantizer.h"

#include "model/FloatExecutor.h"
#include "model/Int8Executor.h"
#include "model/QuantizationMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace tinyml;
using namespace tinyml::training;
using model::Graph;
using model::Node;
using model::OpType;
using model::TensorDesc;

namespace {

QVector<float> randomVector(int n, std::mt19937 &rng, float scale = 1.0f)
{
    std::normal_distribution<float> d(0.0f, scale);
    QVector<float> v(n);
    for (float &x : v)
        x = d(rng);
    return v;
}

int addTensor(Graph &g, const QString &name, QVector<int> shape, const QVector<float> &data = {})
{
    TensorDesc t;
    t.name = name;
    t.shape = shape;
    if (!data.isEmpty())
        t.data = QByteArray(reinterpret_cast<const char *>(data.constData()), int(data.size() * 4));
    g.tensors.append(t);
    return g.tensors.size() - 1;
}

QVector<float> floats(const TensorDesc &t)
{
    QVector<float> v(int(t.data.size() / 4));
    std::memcpy(v.data(), t.data.constData(), t.data.size());
    return v;
}

struct TestGraph {
    Graph g;
    QVector<float> w, b, gamma, beta, mean, var;
};

/// input [1,5,5,2] -> conv 3x3 (3 out, pad 1) -> BN -> ReLU -> GAP -> FC (3->4) -> softmax
TestGraph convBnGraph(std::uint32_t seed)
{
    std::mt19937 rng(seed);
    TestGraph t;
    Graph &g = t.g;
    t.w = randomVector(3 * 3 * 3 * 2, rng, 0.5f);
    t.b = randomVector(3, rng, 0.1f);
    t.gamma = {1.5f, 0.5f, -0.8f};
    t.beta = {0.2f, -0.1f, 0.3f};
    t.mean = {0.1f, -0.3f, 0.05f};
    t.var = {0.5f, 2.0f, 1.2f};
    const int in = addTensor(g, "input", {1, 5, 5, 2});
    const int w = addTensor(g, "conv.w", {3, 3, 3, 2}, t.w);
    const int b = addTensor(g, "conv.b", {3}, t.b);
    const int c = addTensor(g, "conv.out", {1, 5, 5, 3});
    const int bn = addTensor(g, "bn.out", {1, 5, 5, 3});
    const int r = addTensor(g, "relu.out", {1, 5, 5, 3});
    const int gap = addTensor(g, "gap.out", {1, 3});
    const int fw = addTensor(g, "fc.w", {4, 3}, randomVector(12, rng));
    const int fb = addTensor(g, "fc.b", {4}, randomVector(4, rng, 0.1f));
    const int fc = addTensor(g, "fc.out", {1, 4});
    const int sm = addTensor(g, "probabilities", {1, 4});
    Node n;
    n.op = OpType::Conv2D; n.name = "conv"; n.inputs = {in, w, b}; n.outputs = {c};
    n.padTop = n.padLeft = n.padBottom = n.padRight = 1;
    g.nodes << n;
    Node bnn;
    bnn.op = OpType::BatchNorm; bnn.name = "bn"; bnn.epsilon = 1e-3f;
    bnn.inputs = {c, addTensor(g, "g", {3}, t.gamma), addTensor(g, "be", {3}, t.beta), addTensor(g, "m", {3}, t.mean),
                  addTensor(g, "v", {3}, t.var)};
    bnn.outputs = {bn};
    g.nodes << bnn;
    Node rn; rn.op = OpType::Relu; rn.name = "relu"; rn.inputs = {bn}; rn.outputs = {r}; g.nodes << rn;
    Node gn; gn.op = OpType::GlobalAvgPool; gn.name = "gap"; gn.inputs = {r}; gn.outputs = {gap}; g.nodes << gn;
    Node fn; fn.op = OpType::FullyConnected; fn.name = "fc"; fn.inputs = {gap, fw, fb}; fn.outputs = {fc}; g.nodes << fn;
    Node sn; sn.op = OpType::Softmax; sn.name = "softmax"; sn.inputs = {fc}; sn.outputs = {sm}; g.nodes << sn;
    g.inputs = {in};
    g.outputs = {sm};
    g.labels = {"a", "b", "c", "d"};
    return t;
}

TrainingData randomData(const Graph &g, int n, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    TrainingData d;
    d.inputShape = g.tensors[g.inputs[0]].shape.mid(1);
    d.labels = g.labels;
    for (int i = 0; i < n; ++i) {
        d.x += randomVector(d.inputSize(), rng);
        d.y.append(i % g.labels.size());
    }
    return d;
}

QVector<float> runFloat(const Graph &g, const QVector<float> &in, bool recordName = false, const QString &tensor = {})
{
    model::FloatExecutor e;
    QString err;
    EXPECT_TRUE(e.prepare(g, &err)) << err.toStdString();
    e.setRecordIntermediates(recordName);
    auto out = e.run(in, &err);
    EXPECT_TRUE(out.has_value()) << err.toStdString();
    if (recordName)
        for (int t = 0; t < e.graph().tensors.size(); ++t)
            if (e.graph().tensors[t].name == tensor)
                return e.tensorValues()[t];
    return out.value_or(QVector<float>{});
}

} // namespace

TEST(Quantizer, FoldsBatchNormLikeAnIndependentComputation)
{
    TestGraph t = convBnGraph(1);
    QString err;
    auto folded = foldBatchNorm(t.g, &err);
    ASSERT_TRUE(folded) << err.toStdString();
    for (const Node &n : folded->nodes)
        EXPECT_NE(n.op, OpType::BatchNorm);
    const Node &conv = folded->nodes[0];
    ASSERT_EQ(conv.op, OpType::Conv2D);
    const QVector<float> w = floats(folded->tensors[conv.inputs[1]]);
    const QVector<float> b = floats(folded->tensors[conv.inputs[2]]);
    // Independent: per output channel o (axis 0 of [O, KH, KW, I]) in double.
    for (int o = 0; o < 3; ++o) {
        const double s = t.gamma[o] / std::sqrt(double(t.var[o]) + 1e-3);
        for (int k = 0; k < 18; ++k)
            EXPECT_NEAR(w[o * 18 + k], t.w[o * 18 + k] * s, 1e-6);
        EXPECT_NEAR(b[o], (t.b[o] - t.mean[o]) * s + t.beta[o], 1e-6);
    }
    // Same function.
    const TrainingData d = randomData(t.g, 4, 2);
    for (int i = 0; i < d.count(); ++i) {
        const QVector<float> in(d.sample(i), d.sample(i) + d.inputSize());
        const QVector<float> a = runFloat(t.g, in), c = runFloat(*folded, in);
        for (int k = 0; k < a.size(); ++k)
            EXPECT_NEAR(a[k], c[k], 1e-5);
    }
}

TEST(Quantizer, FoldsDepthwiseBatchNormPerLastAxis)
{
    Graph g;
    std::mt19937 rng(3);
    const QVector<float> w = randomVector(3 * 3 * 4, rng);
    const int in = addTensor(g, "input", {1, 4, 4, 4});
    const int wt = addTensor(g, "dw.w", {1, 3, 3, 4}, w);
    const int c = addTensor(g, "dw.out", {1, 4, 4, 4});
    const int o = addTensor(g, "bn.out", {1, 4, 4, 4});
    Node n; n.op = OpType::DepthwiseConv2D; n.name = "dw"; n.inputs = {in, wt}; n.outputs = {c};
    n.padTop = n.padLeft = n.padBottom = n.padRight = 1;
    g.nodes << n;
    const QVector<float> gamma{2, 1, 0.5f, -1}, zero{0, 0, 0, 0}, one{1, 1, 1, 1};
    Node bn; bn.op = OpType::BatchNorm; bn.name = "bn"; bn.epsilon = 0;
    bn.inputs = {c, addTensor(g, "g", {4}, gamma), addTensor(g, "b", {4}, zero), addTensor(g, "m", {4}, zero),
                 addTensor(g, "v", {4}, one)};
    bn.outputs = {o};
    g.nodes << bn;
    g.inputs = {in};
    g.outputs = {o};
    QString err;
    auto folded = foldBatchNorm(g, &err);
    ASSERT_TRUE(folded) << err.toStdString();
    const QVector<float> fw = floats(folded->tensors[folded->nodes[0].inputs[1]]);
    for (int k = 0; k < fw.size(); ++k)
        EXPECT_FLOAT_EQ(fw[k], w[k] * gamma[k % 4]);   // channel = last axis
    EXPECT_EQ(folded->nodes[0].inputs.size(), 3);      // a bias was added
}

TEST(Quantizer, RefusesBatchNormWithoutFoldableProducer)
{
    Graph g;
    const QVector<float> one{1, 1}, zero{0, 0};
    const int in = addTensor(g, "input", {1, 2, 2, 2});
    const int o = addTensor(g, "bn.out", {1, 2, 2, 2});
    Node bn; bn.op = OpType::BatchNorm; bn.name = "lonely_bn";
    bn.inputs = {in, addTensor(g, "g", {2}, one), addTensor(g, "b", {2}, zero), addTensor(g, "m", {2}, zero),
                 addTensor(g, "v", {2}, one)};
    bn.outputs = {o};
    g.nodes << bn;
    g.inputs = {in};
    g.outputs = {o};
    QString err;
    EXPECT_FALSE(foldBatchNorm(g, &err).has_value());
    EXPECT_TRUE(err.contains(QStringLiteral("lonely_bn"))) << err.toStdString();
}

TEST(Quantizer, FusesReluIntoProducerKeepingTensorNames)
{
    TestGraph t = convBnGraph(4);
    QString err;
    auto folded = foldBatchNorm(t.g, &err);
    ASSERT_TRUE(folded);
    const Graph fused = fuseActivations(*folded);
    ASSERT_EQ(fused.nodes.size(), 4);
    EXPECT_EQ(fused.nodes[0].activation, model::Activation::Relu);
    EXPECT_EQ(fused.tensors[fused.nodes[0].outputs[0]].name, QStringLiteral("relu.out"));
    const TrainingData d = randomData(t.g, 3, 5);
    for (int i = 0; i < d.count(); ++i) {
        const QVector<float> in(d.sample(i), d.sample(i) + d.inputSize());
        const QVector<float> a = runFloat(t.g, in), c = runFloat(fused, in);
        for (int k = 0; k < a.size(); ++k)
            EXPECT_NEAR(a[k], c[k], 1e-5);
    }
}

TEST(Quantizer, QuantizesWithTfliteScheme)
{
    TestGraph t = convBnGraph(7);
    const TrainingData d = randomData(t.g, 64, 8);
    QString err;
    QuantizeOptions opt;
    opt.calibrationSamples = 64;
    auto q = quantizeGraph(t.g, d, opt, &err);
    ASSERT_TRUE(q) << err.toStdString();
    EXPECT_TRUE(q->quantized);
    ASSERT_TRUE(q->validate(&err)) << err.toStdString();

    // Calibrated ranges as the quantizer saw them.
    auto folded = foldBatchNorm(t.g, &err);
    const Graph fused = fuseActivations(*folded);
    auto ranges = calibrateRanges(fused, d, opt, &err);
    ASSERT_TRUE(ranges);

    const Node &conv = q->nodes[0];
    const TensorDesc &in = q->tensors[conv.inputs[0]];
    const TensorDesc &w = q->tensors[conv.inputs[1]];
    const TensorDesc &b = q->tensors[conv.inputs[2]];
    const model::QuantParams inQ = model::chooseQuantParams((*ranges)["input"].min, (*ranges)["input"].max);
    EXPECT_EQ(in.dtype, DType::Int8);
    EXPECT_FLOAT_EQ(in.scales[0], inQ.scale);
    EXPECT_EQ(in.zeroPoints[0], inQ.zeroPoint);

    // Weights: symmetric per output channel, scale = max|w_c| / 127 of the folded weights.
    const QVector<float> fw = floats(folded->tensors[folded->nodes[0].inputs[1]]);
    const QVector<float> fb = floats(folded->tensors[folded->nodes[0].inputs[2]]);
    ASSERT_EQ(w.dtype, DType::Int8);
    ASSERT_EQ(w.scales.size(), 3);
    for (int o = 0; o < 3; ++o) {
        float mx = 0;
        for (int k = 0; k < 18; ++k)
            mx = std::max(mx, std::abs(fw[o * 18 + k]));
        EXPECT_FLOAT_EQ(w.scales[o], mx / 127.0f);
        EXPECT_EQ(w.zeroPoints[o], 0);
        const qint8 *wq = reinterpret_cast<const qint8 *>(w.data.constData());
        for (int k = 0; k < 18; ++k) {
            EXPECT_LE(std::abs(int(wq[o * 18 + k])), 127);
            EXPECT_NEAR(wq[o * 18 + k] * w.scales[o], fw[o * 18 + k], w.scales[o] / 2 + 1e-7);
        }
        // Bias: int32 at scale input_scale * weight_scale[c].
        ASSERT_EQ(b.dtype, DType::Int32);
        EXPECT_FLOAT_EQ(b.scales[o], inQ.scale * w.scales[o]);
        const qint32 *bq = reinterpret_cast<const qint32 *>(b.data.constData());
        EXPECT_EQ(bq[o], qint32(std::lround(double(fb[o]) / (double(inQ.scale) * w.scales[o]))));
    }
    // ReLU fused; GAP shares its input's quantization; softmax output 1/256, -128.
    EXPECT_EQ(conv.activation, model::Activation::Relu);
    const Node &gap = q->nodes[1];
    EXPECT_EQ(q->tensors[gap.outputs[0]].scales, q->tensors[gap.inputs[0]].scales);
    EXPECT_EQ(q->tensors[gap.outputs[0]].zeroPoints, q->tensors[gap.inputs[0]].zeroPoints);
    const TensorDesc &sm = q->tensors[q->outputs[0]];
    EXPECT_FLOAT_EQ(sm.scales[0], 1.0f / 256.0f);
    EXPECT_EQ(sm.zeroPoints[0], -128);
    // ReLU output range starts at 0: zero point -128.
    EXPECT_EQ(q->tensors[conv.outputs[0]].zeroPoints[0], -128);

    // Int8 (firmware kernels) close to float.
    auto fo = runGraph(t.g, d, &err);
    auto qo = runGraph(*q, d, &err);
    ASSERT_TRUE(fo && qo) << err.toStdString();
    double maxDiff = 0;
    for (int k = 0; k < fo->size(); ++k)
        maxDiff = std::max(maxDiff, double(std::abs((*fo)[k] - (*qo)[k])));
    EXPECT_LT(maxDiff, 0.05);
    auto sq = layerSqnr(t.g, *q, d, 16, &err);
    ASSERT_TRUE(sq) << err.toStdString();
    ASSERT_FALSE(sq->isEmpty());
    for (const LayerSqnr &l : *sq)
        EXPECT_GT(l.sqnrDb, 20) << l.tensor.toStdString();
}

TEST(Quantizer, PercentileCalibrationClipsOutliers)
{
    TestGraph t = convBnGraph(9);
    TrainingData d = randomData(t.g, 100, 10);
    d.x[3] = 80.0f;                     // one outlier in the input
    QString err;
    QuantizeOptions mm, pc;
    mm.calibrationSamples = pc.calibrationSamples = 100;
    pc.calibration = Calibration::Percentile;
    pc.percentile = 99.9;
    auto a = calibrateRanges(t.g, d, mm, &err);
    auto b = calibrateRanges(t.g, d, pc, &err);
    ASSERT_TRUE(a && b) << err.toStdString();
    EXPECT_FLOAT_EQ((*a)["input"].max, 80.0f);
    EXPECT_LT((*b)["input"].max, 10.0f);
    EXPECT_GT((*b)["input"].max, 2.0f);
    EXPECT_LT((*b)["input"].min, -2.0f);
}
