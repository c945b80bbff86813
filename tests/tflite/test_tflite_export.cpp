// TfliteExporter against TfliteImporter: an int8 graph exported to .tflite and imported back
// keeps every constant's bytes and quantization, every activation's quantization, and runs
// bit for bit like the original in Int8Executor (outputs and every shared intermediate).
// The graphs: a hand-built one with every op the exporter maps (SAME / VALID / PAD-folded
// convolutions, depthwise, pools with a fused Relu, global average pool, add, concat, reshape,
// fully connected, softmax) and the four MLPerf Tiny reference models when present (skipped,
// and saying so, when ../shared/mlperf-tiny is absent).
#include <gtest/gtest.h>

#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "model/tflite/TfliteExporter.h"
#include "model/tflite/TfliteImporter.h"

#include <QFileInfo>
#include <QHash>
#include <QRandomGenerator>

using namespace tinyml;
using namespace tinyml::model;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

TensorDesc int8Act(const QString &name, float scale, int zp, QVector<int> shape = {})
{
    TensorDesc t = TensorDesc::activation(name, std::move(shape), DType::Int8);
    t.scales = {scale};
    t.zeroPoints = {zp};
    return t;
}

Node node(OpType op, const QString &name, QVector<int> inputs, int output)
{
    Node n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    return n;
}

/// Weights [cout, ...] (per-channel scales on axis) and an int32 bias with scale in * w[c].
struct Layer {
    int w = -1, b = -1;
};
Layer addWeights(Graph &g, QRandomGenerator &rng, const QString &name, const QVector<int> &shape, int axis,
                 float inScale)
{
    qint64 n = 1;
    for (int d : shape)
        n *= d;
    QVector<qint8> w;
    w.resize(n);
    for (qint8 &v : w)
        v = qint8(rng.bounded(-127, 128));
    const int cout = shape[axis];
    QVector<float> ws(cout), bs(cout);
    QVector<qint32> b(cout);
    for (int c = 0; c < cout; ++c) {
        ws[c] = 0.004f + 0.001f * float(c % 5);
        bs[c] = inScale * ws[c];
        b[c] = qint32(rng.bounded(-600, 600));
    }
    return {g.addTensor(TensorDesc::constantInt8(name + "/w", shape, w, ws)),
            g.addTensor(TensorDesc::constantInt32(name + "/b", {cout}, b, bs))};
}

/// x [1,8,8,3] -> conv 3x3 SAME relu -> conv 2x2 with pads (1,1,0,0) (a PAD) -> add -> depthwise
/// 3x3 stride 2 SAME relu6 -> { maxpool 2x2 -> relu -> reshape [1,24] ; avgpool 3x3 SAME ->
/// global avg pool [1,6] } -> concat [1,30] -> fc 4 -> softmax.
Graph everyOpGraph()
{
    QRandomGenerator rng(14);
    Graph g;
    const int x = g.addTensor(int8Act("x", 0.05f, -3, {1, 8, 8, 3}));
    const Layer l1 = addWeights(g, rng, "conv1", {6, 3, 3, 3}, 0, 0.05f);
    const int h1 = g.addTensor(int8Act("h1", 0.04f, -128));
    Node conv1 = node(OpType::Conv2D, "conv1", {x, l1.w, l1.b}, h1);
    conv1.padTop = conv1.padBottom = conv1.padLeft = conv1.padRight = 1;
    conv1.activation = Activation::Relu;
    g.addNode(conv1);
    const Layer l2 = addWeights(g, rng, "conv2", {6, 2, 2, 6}, 0, 0.04f);
    const int h2 = g.addTensor(int8Act("h2", 0.06f, 5));
    Node conv2 = node(OpType::Conv2D, "conv2", {h1, l2.w, l2.b}, h2);
    conv2.padTop = conv2.padLeft = 1;   // TFLite's SAME would pad bottom / right: needs a PAD
    g.addNode(conv2);
    const int h3 = g.addTensor(int8Act("h3", 0.07f, -10));
    g.addNode(node(OpType::Add, "add", {h1, h2}, h3));
    const Layer l3 = addWeights(g, rng, "dw", {1, 3, 3, 6}, 3, 0.07f);
    const int h4 = g.addTensor(int8Act("h4", 0.03f, -20));
    Node dw = node(OpType::DepthwiseConv2D, "dw", {h3, l3.w, l3.b}, h4);
    dw.strideH = dw.strideW = 2;
    dw.padBottom = dw.padRight = 1;
    dw.activation = Activation::Relu6;
    g.addNode(dw);
    const int mp = g.addTensor(int8Act("mp", 0.03f, -20));
    Node maxpool = node(OpType::MaxPool2D, "maxpool", {h4}, mp);
    maxpool.kernelH = maxpool.kernelW = maxpool.strideH = maxpool.strideW = 2;
    g.addNode(maxpool);
    const int r = g.addTensor(int8Act("r", 0.03f, -20));
    g.addNode(node(OpType::Relu, "relu", {mp}, r));
    const int flat = g.addTensor(int8Act("flat", 0.03f, -20, {1, -1}));
    g.addNode(node(OpType::Reshape, "flatten", {r}, flat));
    const int ap = g.addTensor(int8Act("ap", 0.03f, -20));
    Node avgpool = node(OpType::AvgPool2D, "avgpool", {h4}, ap);
    avgpool.kernelH = avgpool.kernelW = 3;
    avgpool.padTop = avgpool.padBottom = avgpool.padLeft = avgpool.padRight = 1;
    g.addNode(avgpool);
    const int gap = g.addTensor(int8Act("gap", 0.03f, -20));
    g.addNode(node(OpType::GlobalAvgPool, "gap", {ap}, gap));
    const int cat = g.addTensor(int8Act("cat", 0.03f, -20));
    g.addNode(node(OpType::Concat, "concat", {flat, gap}, cat));
    const Layer l4 = addWeights(g, rng, "fc", {4, 30}, 0, 0.03f);
    const int logits = g.addTensor(int8Act("logits", 0.1f, 2));
    g.addNode(node(OpType::FullyConnected, "fc", {cat, l4.w, l4.b}, logits));
    const int probs = g.addTensor(int8Act("probs", 1.0f / 256.0f, -128));
    g.addNode(node(OpType::Softmax, "softmax", {logits}, probs));
    g.inputs = {x};
    g.outputs = {probs};
    g.quantized = true;
    return g;
}

/// Exports, imports back, and checks tensors and execution against the original.
void expectRoundTrip(const Graph &original, const QString &what, int inputs = 12)
{
    QString error;
    tflite::TfliteExportInfo info;
    const auto bytes = tflite::exportTflite(original, QStringLiteral("round trip"), &error, &info);
    ASSERT_TRUE(bytes) << str(what) << ": " << str(error);
    const auto back = tflite::importTflite(*bytes, what + QStringLiteral(" (exported)"), &error);
    ASSERT_TRUE(back) << str(what) << ": " << str(error);

    Int8Executor a, b;
    ASSERT_TRUE(a.prepare(original, &error)) << str(error);
    ASSERT_TRUE(b.prepare(*back, &error)) << str(error);
    const Graph &ga = a.graph(), &gb = b.graph();   // shapes inferred

    QHash<QString, int> byName;
    for (int i = 0; i < gb.tensors.size(); ++i)
        byName.insert(gb.tensors[i].name, i);
    int constants = 0, activations = 0;
    for (int i = 0; i < ga.tensors.size(); ++i) {
        const TensorDesc &t = ga.tensors[i];
        const int j = byName.value(t.name, -1);
        if (t.isConstant()) {
            ASSERT_GE(j, 0) << str(what) << ": constant \"" << str(t.name) << "\" is missing after the round trip";
            ++constants;
        } else if (j < 0) {
            continue;   // e.g. a pool output whose Relu was fused into the pool
        } else {
            ++activations;
        }
        const TensorDesc &u = gb.tensors[j];
        EXPECT_EQ(u.dtype, t.dtype) << str(t.name);
        EXPECT_EQ(u.shape, t.shape) << str(t.name);
        EXPECT_EQ(u.scales, t.scales) << str(t.name);   // float equality: copied bit for bit
        QVector<int> zps = t.zeroPoints.isEmpty() ? QVector<int>(t.scales.size(), 0) : t.zeroPoints;
        EXPECT_EQ(u.zeroPoints, zps) << str(t.name);
        EXPECT_TRUE(u.data == t.data) << str(what) << ": data of \"" << str(t.name) << "\" differs";
    }
    EXPECT_GT(activations, 1) << str(what);
    EXPECT_GT(constants, 0) << str(what);

    const int n = int(ga.tensors[ga.inputs[0]].elementCount());
    QRandomGenerator rng(7);
    a.setRecordIntermediates(true);
    b.setRecordIntermediates(true);
    for (int k = 0; k < inputs; ++k) {
        QVector<qint8> in(n);
        for (qint8 &v : in)
            v = qint8(rng.bounded(-128, 128));
        const auto ya = a.run(in, &error);
        ASSERT_TRUE(ya) << str(error);
        const auto yb = b.run(in, &error);
        ASSERT_TRUE(yb) << str(error);
        ASSERT_EQ(*ya, *yb) << str(what) << ": outputs differ on input " << k;
        for (int i = 0; i < ga.tensors.size(); ++i) {
            const int j = byName.value(ga.tensors[i].name, -1);
            if (j >= 0 && !ga.tensors[i].isConstant() && !a.tensorValues()[i].isEmpty() && !b.tensorValues()[j].isEmpty())
                ASSERT_EQ(a.tensorValues()[i], b.tensorValues()[j])
                    << str(what) << ": tensor \"" << str(ga.tensors[i].name) << "\" differs on input " << k;
        }
    }
}

} // namespace

TEST(TfliteExport, EveryMappedOpRoundTripsBitForBit)
{
    const Graph g = everyOpGraph();
    QString error;
    tflite::TfliteExportInfo info;
    const auto bytes = tflite::exportTflite(g, {}, &error, &info);
    ASSERT_TRUE(bytes) << str(error);
    // The PAD in front of conv2, the Relu fused into the max pool, the global pool as pool + reshape.
    EXPECT_EQ(info.operators, 13);
    for (const char *code : {"CONV_2D v3", "PAD v2", "ADD v2", "DEPTHWISE_CONV_2D v3", "MAX_POOL_2D v2",
                             "RESHAPE v1", "AVERAGE_POOL_2D v2", "CONCATENATION v2", "FULLY_CONNECTED v4",
                             "SOFTMAX v2"})
        EXPECT_TRUE(info.operatorCodes.contains(QString::fromLatin1(code))) << code << " in "
                                                                             << str(info.operatorCodes.join(", "));
    EXPECT_EQ(info.operatorCodes.size(), 10);
    EXPECT_FALSE(info.floatInput);
    EXPECT_EQ(bytes->mid(4, 4), QByteArray("TFL3"));
    const auto back = tflite::importTflite(*bytes, QStringLiteral("every-op.tflite"), &error);
    ASSERT_TRUE(back) << str(error);
    // conv2's PAD folds back into its pads; the fused Relu comes back as its own node.
    const auto conv2 = std::find_if(back->nodes.begin(), back->nodes.end(), [](const Node &n) { return n.name == "h2"; });
    ASSERT_NE(conv2, back->nodes.end());
    EXPECT_EQ(QVector<int>({conv2->padTop, conv2->padLeft, conv2->padBottom, conv2->padRight}), QVector<int>({1, 1, 0, 0}));
    expectRoundTrip(g, QStringLiteral("every-op graph"), 24);
}

TEST(TfliteExport, MlperfTinyReferenceModelsRoundTrip)
{
    const QString env = qEnvironmentVariable("TINYML_MLPERF_TINY_DIR");
    const QString dir = env.isEmpty() ? QStringLiteral(TINYML_MLPERF_TINY_DIR) : env;
    int found = 0;
    for (const char *file : {"kws_ref_model.tflite", "vww_96_int8.tflite", "pretrainedResnet_quant.tflite", "ad01_int8.tflite"}) {
        const QString path = dir + QLatin1Char('/') + QLatin1String(file);
        if (!QFileInfo::exists(path))
            continue;
        ++found;
        QString error;
        const auto g = tflite::importTfliteFile(path, &error);
        ASSERT_TRUE(g) << str(error);
        expectRoundTrip(*g, QLatin1String(file), 3);
        // The file's interface is kept (a float input / output stays float).
        tflite::TfliteExportInfo info;
        ASSERT_TRUE(tflite::exportTflite(*g, {}, &error, &info)) << str(error);
        EXPECT_EQ(info.floatInput, g->meta.value("tflite_input_type").toString() == "float32") << file;
        EXPECT_EQ(info.floatOutput, g->meta.value("tflite_output_type").toString() == "float32") << file;
    }
    if (found == 0)
        GTEST_SKIP() << "no MLPerf Tiny reference model in " << str(dir)
                     << " (expected ../shared/mlperf-tiny beside the repository or TINYML_MLPERF_TINY_DIR)";
}

TEST(TfliteExport, ImporterFixturesRoundTripKeepingAFloatInterface)
{
    // Built by flatc from tests/core/model/tflite/fixtures (a dependency of this test).
    const QString dir = QStringLiteral(TINYML_TFLITE_FIXTURES_BIN);
    for (const char *file : {"tiny_int8.tflite", "tiny_float_io.tflite", "pad_conv.tflite"}) {
        QString error;
        const auto g = tflite::importTfliteFile(dir + QLatin1Char('/') + QLatin1String(file), &error);
        ASSERT_TRUE(g) << str(error);
        expectRoundTrip(*g, QLatin1String(file), 8);
        tflite::TfliteExportInfo info;
        const auto bytes = tflite::exportTflite(*g, {}, &error, &info);
        ASSERT_TRUE(bytes) << str(error);
        const bool floatIo = QLatin1String(file) == QLatin1String("tiny_float_io.tflite");
        EXPECT_EQ(info.floatInput, floatIo) << file;
        EXPECT_EQ(info.floatOutput, floatIo) << file;
        if (floatIo) {
            EXPECT_EQ(info.operatorCodes.first(), "QUANTIZE v2");
            EXPECT_EQ(info.operatorCodes.last(), "DEQUANTIZE v2");
            const auto back = tflite::importTflite(*bytes, QStringLiteral("again.tflite"), &error);
            ASSERT_TRUE(back) << str(error);
            EXPECT_EQ(back->meta.value("tflite_input_type").toString(), "float32");
            EXPECT_EQ(back->meta.value("tflite_output_type").toString(), "float32");
        }
    }
}

TEST(TfliteExport, FloatGraphBecomesFloat32OpsWithBatchNormAsMulAdd)
{
    // x [1,4,4,2] -> conv 3x3 SAME -> batch norm -> relu -> global avg pool -> fc 3 -> softmax.
    Graph g;
    const int x = g.addTensor(TensorDesc::activation("x", {1, 4, 4, 2}));
    QVector<float> w(3 * 3 * 3 * 2);
    for (int i = 0; i < w.size(); ++i)
        w[i] = float((i * 7) % 11 - 5) / 8.0f;
    const int tw = g.addTensor(TensorDesc::constantFloat("w", {3, 3, 3, 2}, w));
    const int tb = g.addTensor(TensorDesc::constantFloat("b", {3}, {0.1f, -0.2f, 0.0f}));
    const int h = g.addTensor(TensorDesc::activation("h"));
    Node conv = node(OpType::Conv2D, "conv", {x, tw, tb}, h);
    conv.padTop = conv.padBottom = conv.padLeft = conv.padRight = 1;
    g.addNode(conv);
    const int gamma = g.addTensor(TensorDesc::constantFloat("gamma", {3}, {1.0f, 0.5f, 2.0f}));
    const int beta = g.addTensor(TensorDesc::constantFloat("beta", {3}, {0.0f, 0.1f, -0.1f}));
    const int mean = g.addTensor(TensorDesc::constantFloat("mean", {3}, {0.2f, 0.0f, -0.3f}));
    const int var = g.addTensor(TensorDesc::constantFloat("var", {3}, {1.0f, 4.0f, 0.25f}));
    const int bn = g.addTensor(TensorDesc::activation("bn"));
    g.addNode(node(OpType::BatchNorm, "bn", {h, gamma, beta, mean, var}, bn));
    const int r = g.addTensor(TensorDesc::activation("r"));
    g.addNode(node(OpType::Relu, "relu", {bn}, r));
    const int gap = g.addTensor(TensorDesc::activation("gap"));
    g.addNode(node(OpType::GlobalAvgPool, "gap", {r}, gap));
    const int fw = g.addTensor(TensorDesc::constantFloat("fw", {3, 3}, {1, 0, -1, 0.5f, 0.5f, 0, -1, 1, 0.25f}));
    const int logits = g.addTensor(TensorDesc::activation("logits"));
    g.addNode(node(OpType::FullyConnected, "fc", {gap, fw}, logits));
    const int probs = g.addTensor(TensorDesc::activation("probs"));
    g.addNode(node(OpType::Softmax, "softmax", {logits}, probs));
    g.inputs = {x};
    g.outputs = {probs};
    QString error;
    tflite::TfliteExportInfo info;
    const auto bytes = tflite::exportTflite(g, {}, &error, &info);
    ASSERT_TRUE(bytes) << str(error);
    EXPECT_EQ(info.operatorCodes, QStringList({"CONV_2D v1", "MUL v1", "ADD v1", "RELU v1", "AVERAGE_POOL_2D v1",
                                               "RESHAPE v1", "FULLY_CONNECTED v1", "SOFTMAX v1"}));
    EXPECT_EQ(info.operators, 8);
    EXPECT_FALSE(info.floatInput);   // float throughout, no QUANTIZE / DEQUANTIZE
    // Our importer reads int8 models only, and says so naming the first float tensor.
    EXPECT_FALSE(tflite::importTflite(*bytes, QStringLiteral("float.tflite"), &error));
    EXPECT_TRUE(error.contains("FLOAT32") && error.contains("int8")) << str(error);
    // TFLite itself runs it: tflite_export_runs_in_tflite compares it with the float executor.
}

TEST(TfliteExport, RefusesWhatTfliteCannotExpressByNodeAndOp)
{
    QString error;
    // Pool pads that are neither SAME nor VALID.
    Graph p = everyOpGraph();
    for (Node &n : p.nodes)
        if (n.name == "maxpool")
            n.padTop = 1;
    EXPECT_FALSE(tflite::exportTflite(p, {}, &error));
    EXPECT_TRUE(error.contains("\"maxpool\"")) << str(error);
    EXPECT_TRUE(error.contains("SAME")) << str(error);

    // An anomaly score.
    Graph k;
    const int x = k.addTensor(int8Act("x", 0.5f, 0, {1, 2}));
    TensorDesc c = TensorDesc::constantInt32("c", {2, 2}, {2, 4, 10, 0}, {0.5f});
    c.zeroPoints = {0};
    const int ct = k.addTensor(c);
    const int y = k.addTensor(int8Act("score", 0.5f, -128));
    k.addNode(node(OpType::KMeansScore, "km", {x, ct}, y));
    k.inputs = {x};
    k.outputs = {y};
    k.quantized = true;
    EXPECT_FALSE(tflite::exportTflite(k, {}, &error));
    EXPECT_TRUE(error.contains("node 0 \"km\"") && error.contains(opName(OpType::KMeansScore))) << str(error);

    // A Clip other than [0, 6].
    Graph q = everyOpGraph();
    for (Node &n : q.nodes)
        if (n.name == "relu") {
            n.op = OpType::Clip;
            n.clipMin = -1.0f;
            n.clipMax = 1.0f;
        }
    // The max pool no longer fuses it: the Clip is refused on its own.
    EXPECT_FALSE(tflite::exportTflite(q, {}, &error));
    EXPECT_TRUE(error.contains("\"relu\"") && error.contains("clip")) << str(error);
}
