// ONNX import (training/OnnxImporter, importOnnx) on arbitrary bytes: a user's .onnx file is
// outside input. It must fail with a message or return a graph that validates and runs through
// the float executor without fault.
//
// Seeds are written by our own exporter (training/OnnxExporter) from small float graphs that
// cover every op both sides know: run the target with TINYML_FUZZ_WRITE_SEEDS=DIR and it writes
// them there and exits (tests/fuzz/make-corpora.sh does).
#include "OnnxExporter.h"
#include "OnnxImporter.h"

#include "model/FloatExecutor.h"
#include "model/Graph.h"

#include <QDir>
#include <QFile>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace tinyml;
using namespace tinyml::model;

namespace {

int act(Graph &g, const QString &name, QVector<int> shape)
{
    return g.addTensor(TensorDesc::activation(name, std::move(shape)));
}

int constant(Graph &g, const QString &name, QVector<int> shape)
{
    qint64 n = 1;
    for (int d : shape)
        n *= d;
    QVector<float> v(static_cast<int>(n));
    for (int i = 0; i < v.size(); ++i)
        v[i] = float((i * 37) % 19 - 9) / 16.0f;
    return g.addTensor(TensorDesc::constantFloat(name, std::move(shape), v));
}

Node node(OpType op, const QString &name, QVector<int> inputs, int output, Activation a = Activation::None)
{
    Node n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    n.activation = a;
    return n;
}

/// conv 3x3 + ReLU, max pool, depthwise 3x3 + ReLU6, average pool, global average pool, fc, softmax.
Graph cnn()
{
    Graph g;
    const int x = act(g, "x", {1, 8, 8, 2});
    const int c = act(g, "c", {1, 8, 8, 4});
    Node conv = node(OpType::Conv2D, "conv", {x, constant(g, "w", {4, 3, 3, 2}), constant(g, "b", {4})}, c, Activation::Relu);
    conv.padTop = conv.padLeft = conv.padBottom = conv.padRight = 1;
    g.addNode(conv);
    const int m = act(g, "m", {1, 4, 4, 4});
    Node pool = node(OpType::MaxPool2D, "maxpool", {c}, m);
    pool.kernelH = pool.kernelW = pool.strideH = pool.strideW = 2;
    g.addNode(pool);
    const int d = act(g, "d", {1, 4, 4, 4});
    Node dw = node(OpType::DepthwiseConv2D, "dw", {m, constant(g, "wd", {1, 3, 3, 4}), constant(g, "bd", {4})}, d,
                   Activation::Relu6);
    dw.padTop = dw.padLeft = dw.padBottom = dw.padRight = 1;
    g.addNode(dw);
    const int a = act(g, "a", {1, 2, 2, 4});
    Node avg = node(OpType::AvgPool2D, "avgpool", {d}, a);
    avg.kernelH = avg.kernelW = avg.strideH = avg.strideW = 2;
    g.addNode(avg);
    const int gap = act(g, "gap", {1, 4});
    g.addNode(node(OpType::GlobalAvgPool, "gap", {a}, gap));
    const int y = act(g, "y", {1, 3});
    g.addNode(node(OpType::FullyConnected, "fc", {gap, constant(g, "wf", {3, 4}), constant(g, "bf", {3})}, y));
    const int p = act(g, "p", {1, 3});
    g.addNode(node(OpType::Softmax, "softmax", {y}, p));
    g.inputs = {x};
    g.outputs = {p};
    g.labels = QStringList{"idle", "wave", "shake"};
    return g;
}

/// A residual add, a flatten of a spatial tensor into fc (the column permutation), ReLU.
Graph residual()
{
    Graph g;
    const int x = act(g, "x", {1, 4, 4, 2});
    const int c = act(g, "c", {1, 4, 4, 2});
    Node conv = node(OpType::Conv2D, "conv", {x, constant(g, "w", {2, 3, 3, 2}), constant(g, "b", {2})}, c);
    conv.padTop = conv.padLeft = conv.padBottom = conv.padRight = 1;
    g.addNode(conv);
    const int s = act(g, "s", {1, 4, 4, 2});
    g.addNode(node(OpType::Add, "add", {x, c}, s));
    const int r = act(g, "r", {1, 4, 4, 2});
    g.addNode(node(OpType::Relu, "relu", {s}, r));
    const int flat = act(g, "flat", {1, 32});
    g.addNode(node(OpType::Reshape, "flatten", {r}, flat));
    const int y = act(g, "y", {1, 2});
    g.addNode(node(OpType::FullyConnected, "fc", {flat, constant(g, "wf", {2, 32}), constant(g, "bf", {2})}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"a", "b"};
    return g;
}

/// A 1-D model ([N, C, L] on the ONNX side): conv 1x5 stride 2, fc.
Graph conv1d()
{
    Graph g;
    const int x = act(g, "x", {1, 1, 16, 3});
    const int c = act(g, "c", {1, 1, 8, 4});
    Node conv = node(OpType::Conv2D, "conv", {x, constant(g, "w", {4, 1, 5, 3}), constant(g, "b", {4})}, c, Activation::Relu);
    conv.strideW = 2;
    conv.padLeft = 2;
    conv.padRight = 1;
    g.addNode(conv);
    const int flat = act(g, "flat", {1, 32});
    g.addNode(node(OpType::Reshape, "flatten", {c}, flat));
    const int y = act(g, "y", {1, 2});
    g.addNode(node(OpType::FullyConnected, "fc", {flat, constant(g, "wf", {2, 32}), constant(g, "bf", {2})}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"on", "off"};
    return g;
}

/// A multilayer perceptron on [1, F] with a Clip.
Graph mlp()
{
    Graph g;
    const int x = act(g, "x", {1, 6});
    const int h = act(g, "h", {1, 5});
    g.addNode(node(OpType::FullyConnected, "fc1", {x, constant(g, "w1", {5, 6}), constant(g, "b1", {5})}, h, Activation::Relu));
    const int k = act(g, "k", {1, 5});
    Node clip = node(OpType::Clip, "clip", {h}, k);
    clip.clipMin = -1;
    clip.clipMax = 2;
    g.addNode(clip);
    const int y = act(g, "y", {1, 3});
    g.addNode(node(OpType::FullyConnected, "fc2", {k, constant(g, "w2", {3, 5}), constant(g, "b2", {3})}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"x", "y", "z"};
    return g;
}

int writeSeeds(const char *dirName)
{
    const QDir dir(QString::fromLocal8Bit(dirName));
    if (!QDir().mkpath(dir.path()))
        return 1;
    int failed = 0;
    const std::pair<const char *, Graph> graphs[] = {{"cnn", cnn()}, {"residual", residual()},
                                                     {"conv1d", conv1d()}, {"mlp", mlp()}};
    for (const auto &[name, graph] : graphs) {
        Graph g = graph;
        QString error;
        std::optional<QByteArray> bytes;
        if (g.inferShapes(&error))
            bytes = training::exportOnnx(g, &error);
        // A seed the importer refuses only reaches its first checks: say so, but keep it.
        if (bytes && !training::importOnnx(*bytes, {}, &error))
            std::fprintf(stderr, "fuzz_onnx_import: seed %s does not import back: %s\n", name, qPrintable(error));
        QFile f(dir.filePath(QString::fromLatin1(name) + QStringLiteral(".onnx")));
        if (!bytes || !f.open(QIODevice::WriteOnly) || f.write(*bytes) != bytes->size()) {
            std::fprintf(stderr, "fuzz_onnx_import: seed %s: %s\n", name, qPrintable(error));
            ++failed;
        }
    }
    return failed ? 1 : 0;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    if (const char *dir = std::getenv("TINYML_FUZZ_WRITE_SEEDS"))
        std::exit(writeSeeds(dir));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    auto g = training::importOnnx(bytes, {}, &error);
    if (!g) {
        if (error.isEmpty())
            std::abort(); // every refusal explains itself
        return 0;
    }
    if (!g->validate(&error)) {
        std::fprintf(stderr, "imported graph does not validate: %s\n", qPrintable(error));
        std::abort();
    }
    // Running costs about macs() plus pooling taps; keep big graphs out of the hot loop.
    double work = double(g->macs());
    for (const Node &n : g->nodes)
        if (n.op == OpType::MaxPool2D || n.op == OpType::AvgPool2D || n.op == OpType::GlobalAvgPool)
            work += double(g->tensors[n.inputs[0]].elementCount()) * n.kernelH * n.kernelW;
    if (work > 4'000'000 || g->nodes.size() > 64)
        return 0;
    FloatExecutor e;
    if (e.prepare(*g, &error))
        (void)e.run(QVector<float>(int(g->tensors[g->inputs[0]].elementCount()), 0.5f), &error);
    return 0;
}
