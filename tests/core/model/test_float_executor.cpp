#include <gtest/gtest.h>

#include "ModelTestGraphs.h"
#include "model/FloatExecutor.h"

#include <cmath>

using namespace tinyml;
using namespace tinyml::model;
using tinyml::model::testing::makeNode;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

/// One-node graph around op with input x of the given shape and the extra constants.
struct OneOp {
    Graph g;
    int x = 0, y = 0;
    Node *node = nullptr;
    OneOp(OpType op, QVector<int> inShape, const QVector<TensorDesc> &constants = {})
    {
        x = g.addTensor(TensorDesc::activation("x", inShape));
        QVector<int> inputs{x};
        for (const TensorDesc &c : constants)
            inputs.append(g.addTensor(c));
        y = g.addTensor(TensorDesc::activation("y"));
        g.addNode(makeNode(op, "op", inputs, y));
        g.inputs = {x};
        g.outputs = {y};
        node = &g.nodes[0];
    }
    QVector<float> run(const QVector<float> &in)
    {
        FloatExecutor e;
        QString error;
        EXPECT_TRUE(e.prepare(g, &error)) << str(error);
        const auto out = e.run(in, &error);
        EXPECT_TRUE(out) << str(error);
        return out ? *out : QVector<float>{};
    }
};

void expectNear(const QVector<float> &got, const QVector<float> &want, float tol = 1e-5f)
{
    ASSERT_EQ(got.size(), want.size());
    for (int i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

const QVector<float> k1to9{1, 2, 3, 4, 5, 6, 7, 8, 9};

TEST(FloatExecutor, Conv2DValidAndPadded)
{
    {
        // 3x3 input 1..9, 2x2 kernel of ones, bias 1: sums of each 2x2 block + 1.
        OneOp t(OpType::Conv2D, {1, 3, 3, 1},
                {TensorDesc::constantFloat("w", {1, 2, 2, 1}, {1, 1, 1, 1}),
                 TensorDesc::constantFloat("b", {1}, {1})});
        expectNear(t.run(k1to9), {13, 17, 25, 29});
    }
    {
        // 3x3 kernel of ones, padding 1: corners sum 4 pixels, centre all 9; stride 2 keeps corners.
        OneOp t(OpType::Conv2D, {1, 3, 3, 1}, {TensorDesc::constantFloat("w", {1, 3, 3, 1}, QVector<float>(9, 1))});
        t.node->padTop = t.node->padLeft = t.node->padBottom = t.node->padRight = 1;
        expectNear(t.run(k1to9), {12, 21, 16, 27, 45, 33, 24, 39, 28});
        t.node->strideH = t.node->strideW = 2;
        expectNear(t.run(k1to9), {12, 16, 24, 28});
    }
    {
        // Two input channels, two output channels: out[c] = sum_ic w[c, ic] * x[ic] (1x1 kernel).
        OneOp t(OpType::Conv2D, {1, 1, 2, 2}, {TensorDesc::constantFloat("w", {2, 1, 1, 2}, {1, 2, -1, 0.5f})});
        t.node->activation = Activation::Relu;
        // pixel 0: x = (3, 4): c0 = 3 + 8 = 11, c1 = -3 + 2 = -1 -> relu 0
        // pixel 1: x = (-2, 1): c0 = -2 + 2 = 0, c1 = 2 + 0.5 = 2.5
        expectNear(t.run({3, 4, -2, 1}), {11, 0, 0, 2.5f});
    }
}

TEST(FloatExecutor, DepthwiseKeepsChannelsApart)
{
    // x [1,2,2,2]: channel 0 = 1,2,3,4; channel 1 = 10,20,30,40. 2x2 kernels: ch0 all 1, ch1 (1,0,0,-1).
    OneOp t(OpType::DepthwiseConv2D, {1, 2, 2, 2},
            {TensorDesc::constantFloat("w", {1, 2, 2, 2}, {1, 1, 1, 0, 1, 0, 1, -1}),
             TensorDesc::constantFloat("b", {2}, {0.5f, 0})});
    expectNear(t.run({1, 10, 2, 20, 3, 30, 4, 40}), {10.5f, -30});
}

TEST(FloatExecutor, FullyConnectedWithRelu6)
{
    OneOp t(OpType::FullyConnected, {1, 1, 1, 3},
            {TensorDesc::constantFloat("w", {2, 3}, {1, 1, 1, -1, 0, 2}), TensorDesc::constantFloat("b", {2}, {0, 1})});
    t.node->activation = Activation::Relu6;
    expectNear(t.run({1, 2, 3}), {6, 6});          // 6 -> 6; -1 + 6 + 1 = 6
    expectNear(t.run({1, 2, -3}), {0, 0});         // 0; -1 - 6 + 1 = -6 -> 0
    expectNear(t.run({0.5f, 0, 1}), {1.5f, 2.5f});
}

TEST(FloatExecutor, PoolsSkipPaddedTaps)
{
    OneOp m(OpType::MaxPool2D, {1, 3, 3, 1});
    m.node->kernelH = m.node->kernelW = 2;
    m.node->strideH = m.node->strideW = 2;
    m.node->padBottom = m.node->padRight = 1;
    expectNear(m.run(k1to9), {5, 6, 8, 9});

    OneOp a(OpType::AvgPool2D, {1, 3, 3, 1});
    a.node->kernelH = a.node->kernelW = 2;
    a.node->strideH = a.node->strideW = 2;
    a.node->padBottom = a.node->padRight = 1;
    // (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1: only in-bounds taps count.
    expectNear(a.run(k1to9), {3, 4.5f, 7.5f, 9});

    OneOp g(OpType::GlobalAvgPool, {1, 2, 2, 2});
    expectNear(g.run({1, 10, 2, 20, 3, 30, 4, 40}), {2.5f, 25});
}

TEST(FloatExecutor, ElementwiseSoftmaxBatchNormClipConcat)
{
    OneOp add(OpType::Add, {1, 3}, {TensorDesc::constantFloat("b", {1, 3}, {1, -5, 10})});
    add.node->activation = Activation::Relu6;
    expectNear(add.run({1, 2, 3}), {2, 0, 6});

    OneOp relu(OpType::Relu, {1, 3});
    expectNear(relu.run({-1, 0.5f, 7}), {0, 0.5f, 7});
    OneOp relu6(OpType::Relu6, {1, 3});
    expectNear(relu6.run({-1, 0.5f, 7}), {0, 0.5f, 6});
    OneOp clip(OpType::Clip, {1, 3});
    clip.node->clipMin = -0.5f;
    clip.node->clipMax = 1.0f;
    expectNear(clip.run({-1, 0.5f, 7}), {-0.5f, 0.5f, 1});

    OneOp sm(OpType::Softmax, {2, 3});
    // e^k / (e + e^2 + e^3), and a row of equal values gives 1/3 each.
    expectNear(sm.run({1, 2, 3, 5, 5, 5}), {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.f, 1 / 3.f, 1 / 3.f});

    OneOp bn(OpType::BatchNorm, {1, 1, 2, 2},
             {TensorDesc::constantFloat("gamma", {2}, {2, 1}), TensorDesc::constantFloat("beta", {2}, {1, 0}),
              TensorDesc::constantFloat("mean", {2}, {3, 0}), TensorDesc::constantFloat("var", {2}, {4, 1})});
    bn.node->epsilon = 0;
    // channel 0: 2 * (x - 3) / 2 + 1; channel 1: x
    expectNear(bn.run({5, 7, 3, -1}), {3, 7, 1, -1});

    Graph g;
    const int x = g.addTensor(TensorDesc::activation("x", {1, 2, 1}));
    const int c = g.addTensor(TensorDesc::constantFloat("c", {1, 2, 2}, {10, 11, 20, 21}));
    const int y = g.addTensor(TensorDesc::activation("y"));
    g.addNode(makeNode(OpType::Concat, "cat", {x, c}, y));
    g.inputs = {x};
    g.outputs = {y};
    FloatExecutor e;
    QString error;
    ASSERT_TRUE(e.prepare(g, &error)) << str(error);
    EXPECT_EQ(e.graph().tensors[y].shape, (QVector<int>{1, 2, 3}));
    const auto out = e.run({1, 2}, &error);
    ASSERT_TRUE(out) << str(error);
    expectNear(*out, {1, 10, 11, 2, 20, 21});
}

TEST(FloatExecutor, RecordsIntermediatesOnlyWhenAsked)
{
    Graph g = tinyml::model::testing::smallCnn();
    FloatExecutor e;
    QString error;
    ASSERT_TRUE(e.prepare(g, &error)) << str(error);
    QVector<float> in(50);
    for (int i = 0; i < in.size(); ++i)
        in[i] = std::sin(0.3f * i);
    const auto out = e.run(in, &error);
    ASSERT_TRUE(out) << str(error);
    ASSERT_EQ(out->size(), 3);
    EXPECT_NEAR((*out)[0] + (*out)[1] + (*out)[2], 1.0f, 1e-6f);
    const int h1 = e.graph().tensorIndex("h1");
    EXPECT_TRUE(e.tensorValues()[h1].isEmpty());

    e.setRecordIntermediates(true);
    const auto again = e.run(in, &error);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *out);
    ASSERT_EQ(e.tensorValues()[h1].size(), 36);
    for (float v : e.tensorValues()[h1])
        EXPECT_GE(v, 0.0f);  // fused ReLU
    for (float v : e.tensorValues()[e.graph().tensorIndex("h2")]) {
        EXPECT_GE(v, 0.0f);
        EXPECT_LE(v, 6.0f);  // fused ReLU6
    }
    // flatten is a copy of h2
    EXPECT_EQ(e.tensorValues()[e.graph().tensorIndex("flat")], e.tensorValues()[e.graph().tensorIndex("h2")]);
}

TEST(FloatExecutor, RefusesWrongInputsAndQuantizedGraphs)
{
    FloatExecutor e;
    QString error;
    EXPECT_FALSE(e.run({1, 2}, &error));
    Graph g = tinyml::model::testing::smallCnn();
    ASSERT_TRUE(e.prepare(g, &error));
    EXPECT_FALSE(e.run(QVector<float>(49), &error));
    EXPECT_TRUE(error.contains("50")) << str(error);
    g.quantized = true;
    EXPECT_FALSE(e.prepare(g, &error));
    EXPECT_TRUE(error.contains("quantized")) << str(error);
}

} // namespace
