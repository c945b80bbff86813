#include <cstdio>
#include <gtest/gtest.h>

#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "model/tflite/TfliteImporter.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace tinyml;
using namespace tinyml::model;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

const QString kMlperfDir = QStringLiteral(TINYML_MLPERF_TINY_DIR);
const QString kFixturesDir = QStringLiteral(TINYML_FIXTURES_DIR);
const QString kFixturesBin = QStringLiteral(TINYML_TFLITE_FIXTURES_BIN);

/// The path of an MLPerf Tiny reference model, from $TINYML_MLPERF_TINY_DIR or the folder beside
/// the repository (../shared/mlperf-tiny). The models are test data kept outside the repository:
/// when they are absent the tests that need them say so plainly and are reported as skipped
/// (never as passed); every other test here runs without them.
QString mlperfModel(const QString &file)
{
    const QString env = qEnvironmentVariable("TINYML_MLPERF_TINY_DIR");
    const QString path = (env.isEmpty() ? kMlperfDir : env) + QLatin1Char('/') + file;
    if (!QFileInfo::exists(path)) {
        std::fprintf(stderr, "MLPerf Tiny reference model not found: %s (expected the mlperf-tiny folder beside the "
                             "repository, ../shared/mlperf-tiny, or TINYML_MLPERF_TINY_DIR)\n",
                     str(path).c_str());
        return {};
    }
    return path;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

// --- facts read independently from the flatbuffer (tflite_raw_facts.py) -----------------------

struct FactOp {
    int code = -1, version = 0;
    QVector<int> inputs, outputs;
    QVector<int> options;           ///< the numbers after "options", see tflite_raw_facts.py
};
struct FactTensor {
    QVector<int> shape;
    int type = -1;
    int bytes = 0;
    int scales = 0;
    float scale0 = 0;
    int zp0 = 0;
    int qdim = 0;
    QVector<int> head;              ///< first values of the constant data
    QString name;
};
struct Facts {
    QVector<FactOp> ops;
    QVector<FactTensor> tensors;
    int input = -1, output = -1;
};

QVector<int> ints(const QString &list)
{
    QVector<int> v;
    for (const QString &p : list.split(QRegularExpression(QStringLiteral("[\\[\\], ]+")), Qt::SkipEmptyParts))
        v.append(p.toInt());
    return v;
}

Facts readFacts(const QString &model)
{
    Facts f;
    QFile file(kFixturesDir + QLatin1Char('/') + model + QStringLiteral(".facts"));
    EXPECT_TRUE(file.open(QIODevice::ReadOnly | QIODevice::Text)) << str(file.fileName());
    static const QRegularExpression opRe(QStringLiteral(R"(^op (\d+) code (\d+) v (\d+) in (\[.*\]) out (\[.*\]) options (.*)$)"));
    static const QRegularExpression ioRe(QStringLiteral(R"(^inputs \[(\d+)\] outputs \[(\d+)\])"));
    static const QRegularExpression tRe(QStringLiteral(
        R"(^tensor (\d+) shape (\[.*\]) type (-?\d+) bytes (\d+) nscales (\d+) scale0 (\S+) zp0 (\S+) qdim (\d+) data (.*) name (.*)$)"));
    QTextStream in(&file);
    while (!in.atEnd()) {
        const QString line = in.readLine();
        if (auto m = ioRe.match(line); m.hasMatch()) {
            f.input = m.captured(1).toInt();
            f.output = m.captured(2).toInt();
        } else if (auto m = opRe.match(line); m.hasMatch()) {
            QVector<int> options;
            for (const QString &p : m.captured(6).split(QLatin1Char(' '), Qt::SkipEmptyParts))
                if (bool ok = false; p.toInt(&ok), ok)
                    options.append(p.toInt());
            f.ops.append({m.captured(2).toInt(), m.captured(3).toInt(), ints(m.captured(4)), ints(m.captured(5)), options});
        } else if (auto m = tRe.match(line); m.hasMatch()) {
            FactTensor t;
            t.shape = ints(m.captured(2));
            t.type = m.captured(3).toInt();
            t.bytes = m.captured(4).toInt();
            t.scales = m.captured(5).toInt();
            if (t.scales > 0)
                t.scale0 = std::strtof(m.captured(6).toLatin1().constData(), nullptr);   // hex float: exact
            t.zp0 = m.captured(7).toInt();
            t.qdim = m.captured(8).toInt();
            if (m.captured(9) != QStringLiteral("-"))
                t.head = ints(m.captured(9));
            t.name = m.captured(10);
            f.tensors.append(t);
        }
    }
    return f;
}

OpType expectedOp(int code)
{
    switch (code) {
    case 0: return OpType::Add;
    case 1: return OpType::AvgPool2D;
    case 2: return OpType::Concat;
    case 3: return OpType::Conv2D;
    case 4: return OpType::DepthwiseConv2D;
    case 9: return OpType::FullyConnected;
    case 17: return OpType::MaxPool2D;
    case 22: return OpType::Reshape;
    case 25: return OpType::Softmax;
    }
    ADD_FAILURE() << "facts name op code " << code << " that the test does not map";
    return OpType::Relu;
}

Activation expectedActivation(int tfliteCode)
{
    switch (tfliteCode) {
    case 0: return Activation::None;
    case 1: return Activation::Relu;
    case 3: return Activation::Relu6;
    }
    ADD_FAILURE() << "unexpected fused activation " << tfliteCode;
    return Activation::None;
}

/// TFLite's padding rule, written here independently of the importer: SAME pads
/// (out - 1) * stride + window - in in total, the smaller half before; VALID pads nothing.
std::pair<int, int> tflitePadding(bool same, int in, int window, int stride)
{
    if (!same)
        return {0, 0};
    const int out = (in + stride - 1) / stride;
    const int total = std::max(0, (out - 1) * stride + window - in);
    return {total / 2, total - total / 2};
}

/// Strides, paddings, windows and fused activations of node n against the file's options.
void checkOptions(const Graph &g, const Node &n, const FactOp &op)
{
    const QVector<int> &o = op.options;
    const QVector<int> x = g.tensors[n.inputs[0]].shape;
    if (op.code == 3 || op.code == 4) {        // pad, stride h w, act, dil h w
        ASSERT_EQ(o.size(), 6);
        const QVector<int> w = g.tensors[n.inputs[1]].shape;
        EXPECT_EQ(n.strideH, o[1]);
        EXPECT_EQ(n.strideW, o[2]);
        EXPECT_EQ(n.activation, expectedActivation(o[3]));
        EXPECT_EQ(o[4], 1);
        EXPECT_EQ(o[5], 1);
        EXPECT_EQ(std::make_pair(n.padTop, n.padBottom), tflitePadding(o[0] == 0, x[1], w[1], o[1]));
        EXPECT_EQ(std::make_pair(n.padLeft, n.padRight), tflitePadding(o[0] == 0, x[2], w[2], o[2]));
    } else if (op.code == 1 || op.code == 17) {   // pad, stride h w, filter h w, act
        ASSERT_EQ(o.size(), 6);
        EXPECT_EQ(n.strideH, o[1]);
        EXPECT_EQ(n.strideW, o[2]);
        EXPECT_EQ(n.kernelH, o[3]);
        EXPECT_EQ(n.kernelW, o[4]);
        EXPECT_EQ(o[5], 0);   // no fused activation in these models (else a Relu node follows)
        EXPECT_EQ(std::make_pair(n.padTop, n.padBottom), tflitePadding(o[0] == 0, x[1], o[3], o[1]));
        EXPECT_EQ(std::make_pair(n.padLeft, n.padRight), tflitePadding(o[0] == 0, x[2], o[4], o[2]));
    } else if (op.code == 0 || op.code == 9) {
        ASSERT_EQ(o.size(), 1);
        EXPECT_EQ(n.activation, expectedActivation(o[0]));
    }
}

// --- a float reference of one int8 node, from its recorded int8 inputs -----------------------

int clampQ(double v, int lo, int hi) { return int(std::clamp<double>(std::round(v), lo, hi)); }

std::pair<int, int> actRange(Activation a, const TensorDesc &y)
{
    const int zp = y.zeroPoints[0];
    if (a == Activation::Relu)
        return {std::max(-128, zp), 127};
    if (a == Activation::Relu6)
        return {std::max(-128, zp), std::min(127, zp + int(std::round(6.0 / y.scales[0])))};
    return {-128, 127};
}

/// Largest |int8 output - float reference| of node i (the reference uses the node's own recorded
/// int8 inputs, so errors do not compound from layer to layer). -1 for ops it does not model.
int nodeDeviation(const Graph &g, const Int8Executor &e, int i)
{
    const Node &n = g.nodes[i];
    const auto &vals = e.tensorValues();
    const TensorDesc &xt = g.tensors[n.inputs[0]];
    const TensorDesc &yt = g.tensors[n.outputs[0]];
    const QVector<qint8> x = xt.isConstant() ? xt.int8Values() : vals[n.inputs[0]];
    const QVector<qint8> y = vals[n.outputs[0]];
    const double sx = xt.scales[0], sy = yt.scales[0];
    const int zx = xt.zeroPoints[0], zy = yt.zeroPoints[0];
    const auto [lo, hi] = actRange(n.activation, yt);
    QVector<int> ref(y.size());
    switch (n.op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D: {
        const TensorDesc &wt = g.tensors[n.inputs[1]];
        const QVector<qint8> w = wt.int8Values();
        const QVector<qint32> b = n.inputs.size() > 2 ? g.tensors[n.inputs[2]].int32Values() : QVector<qint32>();
        const QVector<float> bs = n.inputs.size() > 2 ? g.tensors[n.inputs[2]].scales : QVector<float>();
        const int H = xt.shape[1], W = xt.shape[2], C = xt.shape[3];
        const int OH = yt.shape[1], OW = yt.shape[2], OC = yt.shape[3];
        const int KH = wt.shape[1], KW = wt.shape[2];
        const bool dw = n.op == OpType::DepthwiseConv2D;
        const int mult = dw ? OC / C : 1;
        for (int oy = 0; oy < OH; ++oy)
            for (int ox = 0; ox < OW; ++ox)
                for (int oc = 0; oc < OC; ++oc) {
                    const double sw = wt.scales.size() == 1 ? wt.scales[0] : wt.scales[oc];
                    double acc = b.isEmpty() ? 0.0 : double(b[oc]) * (bs.size() == 1 ? bs[0] : bs[oc]);
                    for (int ky = 0; ky < KH; ++ky)
                        for (int kx = 0; kx < KW; ++kx) {
                            const int iy = oy * n.strideH - n.padTop + ky, ix = ox * n.strideW - n.padLeft + kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue;
                            if (dw) {
                                const int ic = oc / mult;
                                acc += (x[(iy * W + ix) * C + ic] - zx) * sx * w[(ky * KW + kx) * OC + oc] * sw;
                            } else {
                                for (int ic = 0; ic < C; ++ic)
                                    acc += (x[(iy * W + ix) * C + ic] - zx) * sx
                                           * w[((oc * KH + ky) * KW + kx) * C + ic] * sw;
                            }
                        }
                    ref[(oy * OW + ox) * OC + oc] = clampQ(acc / sy + zy, lo, hi);
                }
        break;
    }
    case OpType::FullyConnected: {
        const TensorDesc &wt = g.tensors[n.inputs[1]];
        const QVector<qint8> w = wt.int8Values();
        const QVector<qint32> b = n.inputs.size() > 2 ? g.tensors[n.inputs[2]].int32Values() : QVector<qint32>();
        const QVector<float> bs = n.inputs.size() > 2 ? g.tensors[n.inputs[2]].scales : QVector<float>();
        const int cin = int(x.size()), cout = wt.shape[0];
        for (int o = 0; o < cout; ++o) {
            const double sw = wt.scales.size() == 1 ? wt.scales[0] : wt.scales[o];
            double acc = b.isEmpty() ? 0.0 : double(b[o]) * (bs.size() == 1 ? bs[0] : bs[o]);
            for (int k = 0; k < cin; ++k)
                acc += (x[k] - zx) * sx * w[o * cin + k] * sw;
            ref[o] = clampQ(acc / sy + zy, lo, hi);
        }
        break;
    }
    case OpType::AvgPool2D:
    case OpType::MaxPool2D: {
        const int H = xt.shape[1], W = xt.shape[2], C = xt.shape[3], OH = yt.shape[1], OW = yt.shape[2];
        for (int oy = 0; oy < OH; ++oy)
            for (int ox = 0; ox < OW; ++ox)
                for (int c = 0; c < C; ++c) {
                    double sum = 0;
                    int count = 0, mx = -128;
                    for (int ky = 0; ky < n.kernelH; ++ky)
                        for (int kx = 0; kx < n.kernelW; ++kx) {
                            const int iy = oy * n.strideH - n.padTop + ky, ix = ox * n.strideW - n.padLeft + kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue;
                            const int v = x[(iy * W + ix) * C + c];
                            sum += v;
                            mx = std::max(mx, v);
                            ++count;
                        }
                    ref[(oy * OW + ox) * C + c] = n.op == OpType::MaxPool2D ? mx : clampQ(sum / count, -128, 127);
                }
        break;
    }
    case OpType::Add: {
        const TensorDesc &bt = g.tensors[n.inputs[1]];
        const QVector<qint8> xb = vals[n.inputs[1]];
        for (int k = 0; k < y.size(); ++k)
            ref[k] = clampQ(((x[k] - zx) * sx + (xb[k] - bt.zeroPoints[0]) * double(bt.scales[0])) / sy + zy, lo, hi);
        break;
    }
    case OpType::Reshape:
        for (int k = 0; k < y.size(); ++k)
            ref[k] = x[k];
        break;
    case OpType::Relu:
    case OpType::Relu6: {
        const auto [rlo, rhi] = actRange(n.op == OpType::Relu ? Activation::Relu : Activation::Relu6, yt);
        for (int k = 0; k < y.size(); ++k)
            ref[k] = std::clamp<int>(x[k], rlo, rhi);
        break;
    }
    case OpType::Softmax: {
        double mx = -1e30, sum = 0;
        for (qint8 v : x)
            mx = std::max(mx, (v - zx) * sx);
        for (qint8 v : x)
            sum += std::exp((v - zx) * sx - mx);
        for (int k = 0; k < y.size(); ++k)
            ref[k] = clampQ(std::exp((x[k] - zx) * sx - mx) / sum / sy + zy, -128, 127);
        break;
    }
    default:
        return -1;
    }
    int worst = 0;
    for (int k = 0; k < y.size(); ++k)
        worst = std::max(worst, std::abs(int(y[k]) - ref[k]));
    return worst;
}

QVector<qint8> pseudoRandomInput(qint64 n, quint32 seed)
{
    QVector<qint8> v(static_cast<int>(n));
    quint32 s = seed;
    for (auto &e : v) {
        s = s * 1664525u + 1013904223u;
        e = qint8(int(s >> 24) - 128);
    }
    return v;
}

/// Runs the graph, checks determinism and every node against its float reference (1 LSB).
void checkRuns(const Graph &g, const QString &what)
{
    Int8Executor e;
    QString error;
    ASSERT_TRUE(e.prepare(g, &error)) << str(what) << ": " << str(error);
    e.setRecordIntermediates(true);
    const qint64 n = g.tensors[g.inputs[0]].elementCount();
    const QVector<qint8> input = pseudoRandomInput(n, 14);
    const auto first = e.run(input, &error);
    ASSERT_TRUE(first) << str(what) << ": " << str(error);
    EXPECT_EQ(first->size(), g.tensors[g.outputs[0]].elementCount());
    for (int i = 0; i < g.nodes.size(); ++i) {
        const int dev = nodeDeviation(g, e, i);
        EXPECT_GE(dev, 0) << str(what) << " node " << i << " op " << str(opName(g.nodes[i].op)) << " not modelled";
        EXPECT_LE(dev, 1) << str(what) << " node " << i << " \"" << str(g.nodes[i].name) << "\" ("
                          << str(opName(g.nodes[i].op)) << ") differs from its float reference by " << dev << " LSB";
    }
    const auto second = e.run(input, &error);
    ASSERT_TRUE(second);
    EXPECT_EQ(*first, *second) << str(what) << ": the same input gave different outputs";
    if (g.nodes.last().op == OpType::Softmax) {
        // Probabilities in units of 1/256 from -128: they sum to 256 up to one unit of rounding each.
        int sum = 0;
        for (qint8 v : *first)
            sum += int(v) + 128;
        EXPECT_NEAR(sum, 256, first->size()) << str(what);
    }
}

// --- the MLPerf Tiny reference models --------------------------------------------------------

struct MlperfCase {
    const char *file;
    const char *facts;
    int nodes;
    qint64 macs;          ///< the MAC counts published with the models, rounded (3 % tolerance)
};

void PrintTo(const MlperfCase &c, std::ostream *os) { *os << c.file; }

class MlperfModels : public ::testing::TestWithParam<MlperfCase>
{
};

TEST_P(MlperfModels, ImportMatchesAnIndependentReadingOfTheFile)
{
    const MlperfCase c = GetParam();
    const QString path = mlperfModel(QString::fromLatin1(c.file));
    if (path.isEmpty())
        GTEST_SKIP() << "MLPerf Tiny reference models absent (see the line above)";
    QString error;
    const auto g = tflite::importTfliteFile(path, &error);
    ASSERT_TRUE(g) << str(error);
    const Facts facts = readFacts(QString::fromLatin1(c.facts));
    ASSERT_FALSE(facts.ops.isEmpty());
    EXPECT_TRUE(g->quantized);
    EXPECT_EQ(g->nodes.size(), c.nodes);
    ASSERT_EQ(g->nodes.size(), facts.ops.size());
    EXPECT_NEAR(double(g->macs()), double(c.macs), 0.03 * double(c.macs));

    // Tensors: by name (the names are unique in these files).
    QHash<QString, int> factIndex;
    for (int i = 0; i < facts.tensors.size(); ++i)
        factIndex.insert(facts.tensors[i].name, i);
    ASSERT_EQ(factIndex.size(), facts.tensors.size());
    int compared = 0;
    for (const TensorDesc &t : g->tensors) {
        ASSERT_TRUE(factIndex.contains(t.name)) << "imported tensor \"" << str(t.name) << "\" is not in the file";
        const FactTensor &f = facts.tensors[factIndex[t.name]];
        SCOPED_TRACE(str(t.name));
        EXPECT_EQ(t.shape, f.shape);
        EXPECT_EQ(t.dtype, f.type == 9 ? DType::Int8 : DType::Int32);
        EXPECT_EQ(t.data.size(), f.bytes);
        ASSERT_EQ(t.scales.size(), f.scales);
        EXPECT_EQ(t.scales[0], f.scale0);            // exact: the same float32 bits
        EXPECT_EQ(t.zeroPoints[0], f.zp0);
        if (!f.head.isEmpty()) {
            if (t.dtype == DType::Int8) {
                const QVector<qint8> v = t.int8Values();
                for (int k = 0; k < f.head.size(); ++k)
                    EXPECT_EQ(int(v[k]), f.head[k]);
            } else {
                const QVector<qint32> v = t.int32Values();
                for (int k = 0; k < f.head.size(); ++k)
                    EXPECT_EQ(int(v[k]), f.head[k]);
            }
        }
        if (f.scales > 1) // per-channel weights / biases: the quantized axis is the IR's channel axis
            EXPECT_EQ(t.shape[f.qdim], f.scales);
        ++compared;
    }
    EXPECT_GE(compared, facts.tensors.size() - 1);   // all but RESHAPE's shape operand

    // Operators: same order, op, inputs and output.
    for (int i = 0; i < facts.ops.size(); ++i) {
        const FactOp &op = facts.ops[i];
        const Node &n = g->nodes[i];
        SCOPED_TRACE("operator " + std::to_string(i));
        EXPECT_EQ(n.op, expectedOp(op.code));
        checkOptions(*g, n, op);
        EXPECT_EQ(str(g->tensors[n.outputs[0]].name), str(facts.tensors[op.outputs[0]].name));
        const int dataInputs = op.code == 22 ? 1 : int(op.inputs.size());
        ASSERT_EQ(n.inputs.size(), dataInputs);
        for (int k = 0; k < dataInputs; ++k)
            EXPECT_EQ(str(g->tensors[n.inputs[k]].name), str(facts.tensors[op.inputs[k]].name));
    }
    EXPECT_EQ(str(g->tensors[g->inputs[0]].name), str(facts.tensors[facts.input].name));
    EXPECT_EQ(str(g->tensors[g->outputs[0]].name), str(facts.tensors[facts.output].name));

    // The model survives the project store's serialization.
    const auto back = Graph::deserialize(g->serialize(), &error);
    ASSERT_TRUE(back) << str(error);
    EXPECT_EQ(back->serialize(), g->serialize());
}

TEST_P(MlperfModels, RunsInTheInt8ExecutorWithinOneLsbOfAFloatReferencePerLayer)
{
    const MlperfCase c = GetParam();
    const QString path = mlperfModel(QString::fromLatin1(c.file));
    if (path.isEmpty())
        GTEST_SKIP() << "MLPerf Tiny reference models absent (see the line above)";
    QString error;
    const auto g = tflite::importTfliteFile(path, &error);
    ASSERT_TRUE(g) << str(error);
    checkRuns(*g, QString::fromLatin1(c.file));
}

INSTANTIATE_TEST_SUITE_P(
    Reference, MlperfModels,
    ::testing::Values(MlperfCase{"ad01_int8.tflite", "ad01_int8", 10, 270000},
                      MlperfCase{"kws_ref_model.tflite", "kws_ref_model", 13, 2700000},
                      MlperfCase{"pretrainedResnet_quant.tflite", "pretrainedResnet_quant", 16, 12500000},
                      MlperfCase{"vww_96_int8.tflite", "vww_96_int8", 31, 7500000}),
    [](const ::testing::TestParamInfo<MlperfCase> &info) { return std::string(info.param.facts); });

// --- small models written for the test --------------------------------------------------------

TEST(TfliteImport, TinyModelMapsOptionsAndRuns)
{
    QString error;
    const auto g = tflite::importTfliteFile(kFixturesBin + QStringLiteral("/tiny_int8.tflite"), &error);
    ASSERT_TRUE(g) << str(error);
    ASSERT_EQ(g->nodes.size(), 6);   // the pool's fused RELU6 becomes its own node
    const Node &conv = g->nodes[0];
    EXPECT_EQ(conv.op, OpType::Conv2D);
    EXPECT_EQ(conv.activation, Activation::Relu);
    // SAME, 3x3, stride 1 on 4x4: one row/column of padding on each side.
    EXPECT_EQ(conv.padTop, 1);
    EXPECT_EQ(conv.padBottom, 1);
    EXPECT_EQ(conv.padLeft, 1);
    EXPECT_EQ(conv.padRight, 1);
    const TensorDesc &w = g->tensors[conv.inputs[1]];
    EXPECT_EQ(w.scales, (QVector<float>{0.01f, 0.02f, 0.03f}));
    EXPECT_EQ(g->tensors[conv.inputs[2]].dtype, DType::Int32);
    EXPECT_EQ(g->tensors[conv.inputs[2]].scales, (QVector<float>{0.005f, 0.01f, 0.015f}));
    EXPECT_EQ(g->nodes[1].op, OpType::MaxPool2D);
    EXPECT_EQ(g->nodes[1].kernelH, 2);
    EXPECT_EQ(g->nodes[1].strideW, 2);
    EXPECT_EQ(g->nodes[1].padTop + g->nodes[1].padBottom, 0);
    EXPECT_EQ(g->nodes[2].op, OpType::Relu6);
    EXPECT_EQ(g->nodes[3].op, OpType::Reshape);
    EXPECT_EQ(g->nodes[3].inputs.size(), 1);
    EXPECT_EQ(g->nodes[4].op, OpType::FullyConnected);
    EXPECT_EQ(g->nodes[5].op, OpType::Softmax);
    const TensorDesc &in = g->tensors[g->inputs[0]];
    EXPECT_EQ(in.shape, (QVector<int>{1, 4, 4, 2}));
    EXPECT_EQ(in.scales, QVector<float>{0.5f});
    EXPECT_EQ(in.zeroPoints, QVector<int>{-10});
    EXPECT_EQ(g->meta.value(QStringLiteral("source")).toString(), QStringLiteral("tflite"));
    checkRuns(*g, QStringLiteral("tiny_int8"));
}

TEST(TfliteImport, UnsupportedOpIsRefusedWithNameIndexAndVersion)
{
    QString error;
    const QString path = kFixturesBin + QStringLiteral("/unsupported_logistic.tflite");
    const auto g = tflite::importTfliteFile(path, &error);
    ASSERT_FALSE(g);
    EXPECT_TRUE(error.startsWith(path)) << str(error);
    EXPECT_TRUE(error.contains(QStringLiteral("operator 1 (LOGISTIC, version 2)"))) << str(error);
}

TEST(TfliteImport, FloatInterfaceStaysOutsideTheInt8Graph)
{
    QString error;
    const auto g = tflite::importTfliteFile(kFixturesBin + QStringLiteral("/tiny_float_io.tflite"), &error);
    ASSERT_TRUE(g) << str(error);
    const auto plain = tflite::importTfliteFile(kFixturesBin + QStringLiteral("/tiny_int8.tflite"), &error);
    ASSERT_TRUE(plain) << str(error);
    EXPECT_EQ(g->nodes.size(), plain->nodes.size());
    EXPECT_EQ(g->tensors[g->inputs[0]].name, QStringLiteral("input"));
    EXPECT_EQ(g->tensors[g->outputs[0]].name, QStringLiteral("softmax/out"));
    EXPECT_EQ(g->meta.value(QStringLiteral("tflite_input_type")).toString(), QStringLiteral("float32"));
    EXPECT_EQ(g->meta.value(QStringLiteral("tflite_output_type")).toString(), QStringLiteral("float32"));
    EXPECT_EQ(plain->meta.value(QStringLiteral("tflite_input_type")).toString(), QStringLiteral("int8"));
    Int8Executor a, b;
    ASSERT_TRUE(a.prepare(*g, &error)) << str(error);
    ASSERT_TRUE(b.prepare(*plain, &error)) << str(error);
    const QVector<float> x(32, 1.25f);
    EXPECT_EQ(*a.runFloat(x), *b.runFloat(x));
}

TEST(TfliteImport, QuantizeInsideTheGraphIsRefused)
{
    QString error;
    EXPECT_FALSE(tflite::importTfliteFile(kFixturesBin + QStringLiteral("/quantize_inside.tflite"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("operator 1 (QUANTIZE, version 1)"))) << str(error);
}

TEST(TfliteImport, PadInFrontOfAConvolutionFoldsIntoItsPadding)
{
    QString error;
    const auto g = tflite::importTfliteFile(kFixturesBin + QStringLiteral("/pad_conv.tflite"), &error);
    ASSERT_TRUE(g) << str(error);
    ASSERT_EQ(g->nodes.size(), 6);            // no node for the PAD
    const Node &conv = g->nodes[0];
    ASSERT_EQ(conv.op, OpType::Conv2D);
    EXPECT_EQ(g->tensors[conv.inputs[0]].name, QStringLiteral("input"));
    EXPECT_EQ(conv.padTop, 1);
    EXPECT_EQ(conv.padBottom, 1);
    EXPECT_EQ(conv.padLeft, 2);
    EXPECT_EQ(conv.padRight, 0);
    checkRuns(*g, QStringLiteral("pad_conv"));
}

TEST(TfliteImport, PadInFrontOfAPoolIsRefused)
{
    QString error;
    EXPECT_FALSE(tflite::importTfliteFile(kFixturesBin + QStringLiteral("/pad_maxpool.tflite"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("operator 2 (MAX_POOL_2D, version 2)"))) << str(error);
    EXPECT_TRUE(error.contains(QStringLiteral("operator 1 (PAD, version 2)"))) << str(error);
}

TEST(TfliteImport, OperatorNames)
{
    EXPECT_EQ(tflite::builtinOperatorName(3), QStringLiteral("CONV_2D"));
    EXPECT_EQ(tflite::builtinOperatorName(14), QStringLiteral("LOGISTIC"));
    EXPECT_EQ(tflite::builtinOperatorName(40), QStringLiteral("MEAN"));
    EXPECT_EQ(tflite::builtinOperatorName(114), QStringLiteral("QUANTIZE"));
    EXPECT_EQ(tflite::builtinOperatorName(145), QStringLiteral("BROADCAST_ARGS"));
    EXPECT_EQ(tflite::builtinOperatorName(400), QStringLiteral("BUILTIN_400"));
}

TEST(TfliteImport, DamagedFilesGiveClearErrorsNamingTheFile)
{
    const QString path = kFixturesBin + QStringLiteral("/tiny_int8.tflite");
    const QByteArray good = readAll(path);
    ASSERT_GT(good.size(), 100);
    QString error;
    ASSERT_TRUE(tflite::importTflite(good, QStringLiteral("tiny.tflite"), &error)) << str(error);

    struct Damage {
        const char *what;
        QByteArray bytes;
        const char *expect;
    };
    QByteArray badRoot = good;
    badRoot[0] = char(0xF0);
    badRoot[1] = char(0xFF);
    QByteArray badIdentifier = good;
    badIdentifier[6] = 'X';
    const QVector<Damage> damages = {
        {"empty", QByteArray(), "too short"},
        {"truncated to half", good.left(good.size() / 2), "corrupt or truncated"},
        {"truncated by one byte", good.left(good.size() - 1), "corrupt or truncated"},
        {"root offset past the end", badRoot, "corrupt or truncated"},
        {"identifier", badIdentifier, "TFL3"},
    };
    for (const Damage &d : damages) {
        error.clear();
        EXPECT_FALSE(tflite::importTflite(d.bytes, QStringLiteral("damaged.tflite"), &error)) << d.what;
        EXPECT_TRUE(error.startsWith(QStringLiteral("damaged.tflite: "))) << d.what << ": " << str(error);
        EXPECT_TRUE(error.contains(QLatin1String(d.expect))) << d.what << ": " << str(error);
    }
    // Every single-byte flip of the file either imports or fails with a message.
    int refused = 0;
    for (int k = 0; k < good.size(); ++k) {
        QByteArray flipped = good;
        flipped[k] = char(flipped[k] ^ 0x5A);
        error.clear();
        if (!tflite::importTflite(flipped, QStringLiteral("flip.tflite"), &error)) {
            ++refused;
            EXPECT_TRUE(error.startsWith(QStringLiteral("flip.tflite: "))) << "byte " << k << ": " << str(error);
        }
    }
    EXPECT_GT(refused, good.size() / 4);

    error.clear();
    EXPECT_FALSE(tflite::importTfliteFile(QStringLiteral("/nonexistent/model.tflite"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("/nonexistent/model.tflite"))) << str(error);
}

TEST(TfliteImport, TruncatedReferenceModelIsRefused)
{
    const QString path = mlperfModel(QStringLiteral("kws_ref_model.tflite"));
    if (path.isEmpty())
        GTEST_SKIP() << "MLPerf Tiny reference models absent (see the line above)";
    const QByteArray bytes = readAll(path);
    QString error;
    EXPECT_FALSE(tflite::importTflite(bytes.left(bytes.size() - 4096), QStringLiteral("kws_ref_model.tflite"), &error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("kws_ref_model.tflite: corrupt or truncated"))) << str(error);
}

} // namespace
