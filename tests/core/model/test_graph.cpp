#include <gtest/gtest.h>

#include "ModelTestGraphs.h"
#include "model/Graph.h"

#include <QJsonDocument>

using namespace tinyml;
using namespace tinyml::model;
using tinyml::model::testing::makeNode;
using tinyml::model::testing::smallCnn;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

TEST(GraphNames, EveryOpRoundTripsThroughItsName)
{
    EXPECT_EQ(opName(OpType::Conv2D), "conv2d");
    EXPECT_EQ(opName(OpType::DepthwiseConv2D), "depthwise_conv2d");
    EXPECT_EQ(opName(OpType::GlobalAvgPool), "global_avg_pool");
    for (int i = 0; i <= int(OpType::Clip); ++i) {
        const auto back = opFromName(opName(OpType(i)));
        ASSERT_TRUE(back) << i;
        EXPECT_EQ(int(*back), i);
    }
    EXPECT_FALSE(opFromName("convolution"));
    EXPECT_FALSE(opFromName(""));
}

TEST(GraphTensor, ElementCountAndTypedAccess)
{
    EXPECT_EQ(TensorDesc::activation("a", {1, 5, 5, 2}).elementCount(), 50);
    EXPECT_EQ(TensorDesc::activation("a", {}).elementCount(), 0);
    EXPECT_EQ(TensorDesc::activation("a", {1, -1}).elementCount(), 0);
    const TensorDesc f = TensorDesc::constantFloat("f", {2}, {1.5f, -2.0f});
    EXPECT_TRUE(f.isConstant());
    EXPECT_EQ(f.floatValues(), (QVector<float>{1.5f, -2.0f}));
    EXPECT_TRUE(f.int8Values().isEmpty());  // wrong dtype
    const TensorDesc q = TensorDesc::constantInt8("q", {3}, {1, -2, 127}, {0.5f});
    EXPECT_EQ(q.int8Values(), (QVector<qint8>{1, -2, 127}));
    EXPECT_EQ(q.zeroPoints, (QVector<int>{0}));
    TensorDesc broken = f;
    broken.shape = {3};
    EXPECT_TRUE(broken.floatValues().isEmpty());  // bytes do not match the shape
}

TEST(GraphShapes, ConvDepthwiseFcAndReshapeAreInferred)
{
    Graph g = smallCnn();
    QString error;
    ASSERT_TRUE(g.inferShapes(&error)) << str(error);
    // conv: (5 + 1 + 1 - 3) / 2 + 1 = 3
    EXPECT_EQ(g.tensors[g.tensorIndex("h1")].shape, (QVector<int>{1, 3, 3, 4}));
    // depthwise 3x3, no padding: 1x1
    EXPECT_EQ(g.tensors[g.tensorIndex("h2")].shape, (QVector<int>{1, 1, 1, 4}));
    EXPECT_EQ(g.tensors[g.tensorIndex("flat")].shape, (QVector<int>{1, 4}));
    EXPECT_EQ(g.tensors[g.tensorIndex("logits")].shape, (QVector<int>{1, 3}));
    EXPECT_EQ(g.tensors[g.tensorIndex("probs")].shape, (QVector<int>{1, 3}));
    EXPECT_TRUE(g.validate(&error)) << str(error);

    // conv: 3*3*4 outputs x 3*3*2 taps = 648; depthwise 1*1*4 x 9 = 36; fc 4*3 = 12
    EXPECT_EQ(g.macs(), 648 + 36 + 12);
    EXPECT_EQ(g.parameterCount(), 72 + 4 + 36 + 4 + 12 + 3);
    EXPECT_EQ(g.weightBytes(), (72 + 4 + 36 + 4 + 12 + 3) * 4);
}

TEST(GraphShapes, PoolsGapConcatAndAsymmetricPadding)
{
    Graph g;
    const int x = g.addTensor(TensorDesc::activation("x", {1, 7, 6, 3}));
    const int mp = g.addTensor(TensorDesc::activation("mp"));
    const int ap = g.addTensor(TensorDesc::activation("ap"));
    const int cat = g.addTensor(TensorDesc::activation("cat"));
    const int gap = g.addTensor(TensorDesc::activation("gap"));
    Node m = makeNode(OpType::MaxPool2D, "mp", {x}, mp);
    m.kernelH = m.kernelW = 2;
    m.strideH = m.strideW = 2;
    m.padBottom = 1;  // (7 + 1 - 2) / 2 + 1 = 4 rows; (6 - 2) / 2 + 1 = 3 cols
    g.addNode(m);
    Node a = makeNode(OpType::AvgPool2D, "ap", {x}, ap);
    a.kernelH = 3;
    a.kernelW = 2;
    a.strideH = 2;
    a.strideW = 2;
    a.padTop = 1;
    a.padBottom = 2;  // (7 + 1 + 2 - 3) / 2 + 1 = 4 rows, like mp, so the two concatenate
    g.addNode(a);
    g.addNode(makeNode(OpType::Concat, "cat", {mp, ap}, cat));
    g.addNode(makeNode(OpType::GlobalAvgPool, "gap", {cat}, gap));
    g.inputs = {x};
    g.outputs = {gap};
    QString error;
    ASSERT_TRUE(g.inferShapes(&error)) << str(error);
    EXPECT_EQ(g.tensors[mp].shape, (QVector<int>{1, 4, 3, 3}));
    EXPECT_EQ(g.tensors[ap].shape, (QVector<int>{1, 4, 3, 3}));
    EXPECT_EQ(g.tensors[cat].shape, (QVector<int>{1, 4, 3, 6}));
    EXPECT_EQ(g.tensors[gap].shape, (QVector<int>{1, 6}));
    EXPECT_EQ(g.macs(), 0);
}

TEST(GraphValidate, ErrorsNameTheNodeAndTheField)
{
    QString error;
    {
        Graph g = smallCnn();
        g.tensors[g.tensorIndex("w1")] = TensorDesc::constantFloat("w1", {4, 3, 3, 3}, QVector<float>(108, 0.f));
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"conv\"")) << str(error);
        EXPECT_TRUE(error.contains("weights")) << str(error);
    }
    {
        Graph g = smallCnn();
        g.nodes[3].inputs[2] = 99;
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"fc\"")) << str(error);
        EXPECT_TRUE(error.contains("inputs[2]")) << str(error);
    }
    {
        Graph g = smallCnn();
        std::swap(g.nodes[0], g.nodes[1]);  // no longer topologically ordered
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"dw\"")) << str(error);
        EXPECT_TRUE(error.contains("not computed before")) << str(error);
    }
    {
        Graph g = smallCnn();
        g.tensors[g.tensorIndex("flat")].shape = {1, 5};  // reshape must keep 4 elements
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"flatten\"")) << str(error);
        EXPECT_TRUE(error.contains("element count")) << str(error);
    }
    {
        Graph g = smallCnn();
        ASSERT_TRUE(g.inferShapes(&error));
        g.tensors[g.tensorIndex("logits")].shape = {1, 4};  // stale shape
        EXPECT_FALSE(g.validate(&error));
        EXPECT_TRUE(error.contains("\"fc\"")) << str(error);
        EXPECT_TRUE(error.contains("logits")) << str(error);
    }
    {
        Graph g = smallCnn();
        g.nodes[0].strideH = 0;
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"conv\"")) << str(error);
        EXPECT_TRUE(error.contains("stride")) << str(error);
    }
    {
        Graph g = smallCnn();
        g.tensors[g.tensorIndex("b1")].data.chop(4);
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"b1\"")) << str(error);
    }
    {
        // Add without broadcasting
        Graph g;
        const int a = g.addTensor(TensorDesc::activation("a", {1, 4}));
        const int b = g.addTensor(TensorDesc::constantFloat("b", {1, 3}, {1, 2, 3}));
        const int y = g.addTensor(TensorDesc::activation("y"));
        g.addNode(makeNode(OpType::Add, "sum", {a, b}, y));
        g.inputs = {a};
        g.outputs = {y};
        EXPECT_FALSE(g.inferShapes(&error));
        EXPECT_TRUE(error.contains("\"sum\"")) << str(error);
        EXPECT_TRUE(error.contains("shape")) << str(error);
    }
}

TEST(GraphValidate, QuantizedGraphsNeedScales)
{
    Graph g;
    const int x = g.addTensor(TensorDesc::activation("x", {1, 2}, DType::Int8));
    const int w = g.addTensor(TensorDesc::constantInt8("w", {2, 2}, {1, 2, 3, 4}, {0.1f, 0.2f}));
    const int y = g.addTensor(TensorDesc::activation("y", {}, DType::Int8));
    g.addNode(makeNode(OpType::FullyConnected, "fc", {x, w}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    QString error;
    EXPECT_FALSE(g.inferShapes(&error));
    EXPECT_TRUE(error.contains("\"x\"")) << str(error);
    g.tensors[x].scales = {0.5f};
    g.tensors[x].zeroPoints = {3};
    EXPECT_FALSE(g.inferShapes(&error));
    EXPECT_TRUE(error.contains("\"fc\"") && error.contains("\"y\"")) << str(error);
    g.tensors[y].scales = {0.25f};
    g.tensors[y].zeroPoints = {-1};
    EXPECT_TRUE(g.inferShapes(&error)) << str(error);
    g.tensors[w].zeroPoints = {0, 1};
    EXPECT_FALSE(g.validate(&error));
    EXPECT_TRUE(error.contains("symmetric")) << str(error);
}

TEST(GraphSerialize, RoundTripKeepsEverything)
{
    Graph g = smallCnn();
    QString error;
    ASSERT_TRUE(g.inferShapes(&error)) << str(error);
    g.nodes[0].clipMin = -1.25f;
    g.nodes[0].epsilon = 1e-3f;
    const QByteArray bytes = g.serialize();
    ASSERT_EQ(bytes.left(4), QByteArray("TMGR"));
    const auto back = Graph::deserialize(bytes, &error);
    ASSERT_TRUE(back) << str(error);
    EXPECT_EQ(back->serialize(), bytes);
    EXPECT_EQ(back->labels, g.labels);
    EXPECT_EQ(back->meta, g.meta);
    ASSERT_EQ(back->tensors.size(), g.tensors.size());
    for (int i = 0; i < g.tensors.size(); ++i) {
        EXPECT_EQ(back->tensors[i].name, g.tensors[i].name);
        EXPECT_EQ(back->tensors[i].shape, g.tensors[i].shape);
        EXPECT_EQ(back->tensors[i].data, g.tensors[i].data);
    }
    ASSERT_EQ(back->nodes.size(), g.nodes.size());
    EXPECT_EQ(back->nodes[0].strideH, 2);
    EXPECT_EQ(back->nodes[0].padRight, 1);
    EXPECT_EQ(back->nodes[0].activation, Activation::Relu);
    EXPECT_EQ(back->nodes[0].clipMin, -1.25f);
    EXPECT_EQ(back->nodes[0].epsilon, 1e-3f);
    EXPECT_EQ(back->nodes[1].activation, Activation::Relu6);
    EXPECT_EQ(back->inputs, g.inputs);
    EXPECT_EQ(back->outputs, g.outputs);
    EXPECT_EQ(back->macs(), g.macs());
}

TEST(GraphSerialize, BadInputFailsCleanly)
{
    Graph g = smallCnn();
    QString error;
    ASSERT_TRUE(g.inferShapes(&error));
    const QByteArray bytes = g.serialize();
    // Every truncation is an error, never a crash.
    for (int n = 0; n < bytes.size(); ++n) {
        error.clear();
        EXPECT_FALSE(Graph::deserialize(bytes.left(n), &error)) << n;
        EXPECT_FALSE(error.isEmpty()) << n;
    }
    EXPECT_FALSE(Graph::deserialize(bytes + QByteArray(1, '\0'), &error));
    EXPECT_TRUE(error.contains("after the graph")) << str(error);

    QByteArray wrongMagic = bytes;
    wrongMagic[0] = 'X';
    EXPECT_FALSE(Graph::deserialize(wrongMagic, &error));
    EXPECT_TRUE(error.contains("magic")) << str(error);

    QByteArray future = bytes;
    future[4] = char(Graph::kFormatVersion + 1);
    EXPECT_FALSE(Graph::deserialize(future, &error));
    EXPECT_TRUE(error.contains("version")) << str(error);

    // A huge tensor count must not allocate, just fail.
    QByteArray hugeCount = bytes;
    const int tensorCountOffset = 4 + 4 + 4 + 4 + int(QJsonDocument(g.meta).toJson(QJsonDocument::Compact).size())
                                  + 4 + 3 * (4 + 1);
    hugeCount[tensorCountOffset + 3] = char(0x7f);
    EXPECT_FALSE(Graph::deserialize(hugeCount, &error));

    // Structurally readable but semantically wrong: validation runs.
    Graph broken = g;
    broken.nodes[3].inputs[1] = broken.tensorIndex("x");
    EXPECT_FALSE(Graph::deserialize(broken.serialize(), &error));
    EXPECT_TRUE(error.contains("\"fc\"")) << str(error);
}

} // namespace
