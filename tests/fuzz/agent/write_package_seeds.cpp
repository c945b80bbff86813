// Writes version-1 model packages (a model without an impulse section, deploy/MODEL_PACKAGE.md)
// with the host's ModelPackageWriter, as seeds of fuzz_model_package: without a valid package
// the fuzzer never gets past the header checks into the interpreter and the kernels.
//     write_package_seeds DIR     (tests/fuzz/make-corpora.sh runs it)
// Each seed is the target's mode byte 0x01 (recompute the CRC, so mutations reach the checks
// after it) followed by the package.
#include "../../deploy/DeployTestGraphs.h"
#include "ModelPackageWriter.h"

#include <QDir>
#include <QFile>

#include <cstdio>

using namespace tinyml;
using namespace tinyml::model;
using namespace tinyml::deploy::testing;

namespace {

/// x[1,8,8,2] -depthwise 3x3 relu6-> [1,8,8,2] -max pool 2-> [1,4,4,2] -avg pool 2-> [1,2,2,2]
///   -global average pool-> [1,2] -fc-> [1,4]: the ops chain() and branch() do not have.
Graph pools()
{
    Graph g;
    const int x = act(g, "x", {1, 8, 8, 2});
    const int d = act(g, "d", {1, 8, 8, 2}, 0.04f, -128);
    Node dw = node(OpType::DepthwiseConv2D, "dw", {x, weights(g, "w_dw", {1, 3, 3, 2}, 2), bias(g, "b_dw", 2)}, d);
    dw.kernelH = dw.kernelW = 3;
    dw.padTop = dw.padLeft = dw.padBottom = dw.padRight = 1;
    dw.activation = Activation::Relu6;
    g.addNode(dw);
    const int m = act(g, "m", {1, 4, 4, 2}, 0.04f, -128);
    Node max = node(OpType::MaxPool2D, "maxpool", {d}, m);
    max.kernelH = max.kernelW = max.strideH = max.strideW = 2;
    g.addNode(max);
    const int a = act(g, "a", {1, 2, 2, 2}, 0.04f, -128);
    Node avg = node(OpType::AvgPool2D, "avgpool", {m}, a);
    avg.kernelH = avg.kernelW = avg.strideH = avg.strideW = 2;
    g.addNode(avg);
    const int gap = act(g, "gap", {1, 2}, 0.04f, -128);
    g.addNode(node(OpType::GlobalAvgPool, "gap", {a}, gap));
    const int y = act(g, "y", {1, 4}, 0.1f, 0);
    g.addNode(node(OpType::FullyConnected, "fc", {gap, weights(g, "w_fc", {4, 2}, 4), bias(g, "b_fc", 4)}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"n", "e", "s", "w"};
    g.quantized = true;
    return g;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const QDir dir(QString::fromLocal8Bit(argv[1]));
    if (!QDir().mkpath(dir.path()))
        return 1;
    int failed = 0;
    const std::pair<const char *, Graph> graphs[] = {{"chain_v1", chain()}, {"branch_v1", branch()}, {"pools_v1", pools()}};
    for (const auto &[name, graph] : graphs) {
        Graph g = graph;
        QString error;
        std::optional<QByteArray> package;
        if (g.inferShapes(&error))
            package = deploy::ModelPackageWriter().write(g, &error);
        QFile f(dir.filePath(QString::fromLatin1(name)));
        if (!package || !f.open(QIODevice::WriteOnly) || f.write(QByteArray(1, '\x01') + *package) != package->size() + 1) {
            std::fprintf(stderr, "write_package_seeds: %s: %s\n", name, qPrintable(error));
            ++failed;
        }
    }
    return failed ? 1 : 0;
}
