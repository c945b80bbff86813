// Writes version-1 model packages (a model without an impulse section, deploy/MODEL_PACKAGE.md)
// and one version-2 package whose impulse carries an anomaly model (impulse_version 2) with the
// host's ModelPackageWriter, as seeds of fuzz_model_package: without a valid package
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

/// A classifier (raw 20 x 3 features -> fc -> 3) and a k-means anomaly model on the same
/// features in one impulse (impulse_version 2, issue 16): the anomaly part and the nested package.
std::optional<QByteArray> motionWithAnomaly(QString *error)
{
    Graph c;
    const int x = act(c, "x", {1, 60}, 0.05f, -3);
    const int y = act(c, "y", {1, 3}, 0.15f, 3);
    c.addNode(node(OpType::FullyConnected, "fc", {x, weights(c, "w", {3, 60}, 3), bias(c, "b", 3)}, y));
    c.inputs = {x};
    c.outputs = {y};
    c.labels = QStringList{"idle", "shake", "circle"};
    c.quantized = true;
    Graph a;
    const int ax = act(a, "x", {1, 60}, 0.04f, 5);
    QVector<qint32> centers(2 * 60);
    for (int i = 0; i < centers.size(); ++i)
        centers[i] = 5 + (i >= 60 ? (i * 7) % 11 - 5 : 0);
    TensorDesc ct = TensorDesc::constantInt32("centers", {2, 60}, centers, {0.04f});
    ct.zeroPoints = {5};
    const int ci = a.addTensor(ct);
    const int ay = act(a, "score", {1, 1}, 2.0f, -128);
    a.addNode(node(OpType::KMeansScore, "kmeans", {ax, ci}, ay));
    a.inputs = {ax};
    a.outputs = {ay};
    a.quantized = true;
    a.meta.insert(QStringLiteral("threshold"), 60.0);
    auto part = deploy::impulseAnomalyFor(c, QStringLiteral("classifier"), a, QStringLiteral("anomaly"), error);
    if (!part)
        return std::nullopt;
    for (int k = 0; k < 60; ++k) {
        part->normMean.append(k % 3 == 2 ? 9.81f : 0.0f);
        part->normStd.append(0.5f);
    }
    deploy::ImpulseSpec s;
    s.channels = 3;
    s.sampleRateHz = 100;
    s.windowFrames = 20;
    s.strideFrames = 5;
    s.rawScale = 0.002f;
    s.features.kind = features::BlockKind::Raw;
    s.features.raw.windowFrames = 20;
    s.post.thresholds = QVector<float>(3, 0.5f);
    s.post.background = {true, false, false};
    s.labels = c.labels;
    s.anomaly = *part;
    deploy::ModelPackageWriter w;
    w.setImpulse(s);
    return w.write(c, error);
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
    QString error;
    const auto anomaly = motionWithAnomaly(&error);
    QFile f(dir.filePath(QStringLiteral("motion_v2_anomaly")));
    if (!anomaly || !f.open(QIODevice::WriteOnly) || f.write(QByteArray(1, '\x01') + *anomaly) != anomaly->size() + 1) {
        std::fprintf(stderr, "write_package_seeds: motion_v2_anomaly: %s\n", qPrintable(error));
        ++failed;
    }
    return failed ? 1 : 0;
}
