// ONNX: exported float and QDQ int8 models pass onnx::checker and strict shape inference,
// run in ONNX Runtime (onnxruntime-node) like libtorch (float, 1e-4) and like the int8
// reference (QDQ, within output quantization steps); models written by PyTorch's own
// torch.onnx.export import and compute what PyTorch computed; unsupported ops are refused
// by name.
#include "TrainingTestData.h"

#include "GraphEvaluation.h"
#include "ModelZoo.h"
#include "OnnxExporter.h"
#include "OnnxImporter.h"
#include "Quantizer.h"
#include "Trainer.h"

#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <random>

using namespace tinyml;
using namespace tinyml::training;

namespace {

TrainingData randomData(QVector<int> shape, int n, int classes, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    TrainingData data;
    data.inputShape = shape;
    for (int c = 0; c < classes; ++c)
        data.labels << QStringLiteral("c%1").arg(c);
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < data.inputSize(); ++k)
            data.x.append(d(rng) + (k % classes == i % classes ? 1.0f : 0.0f));
        data.y.append(i % classes);
    }
    return data;
}

struct Trained {
    std::unique_ptr<Trainer> trainer;
    TrainingData data;
};

Trained trained(Architecture kind, QVector<int> shape)
{
    Trained t;
    t.data = randomData(shape, 48, 3, 21);
    QString err;
    auto spec = buildModelSpec(kind, shape, 3, ModelBudget{}, "audio", &err);
    EXPECT_TRUE(spec) << err.toStdString();
    t.trainer = std::make_unique<Trainer>(*spec, 4);
    TrainOptions o;
    o.epochs = 3;
    o.validationFraction = 0;
    EXPECT_TRUE(t.trainer->fit(t.data, o).ok);
    return t;
}

/// NHWC (the IR's) -> NCHW (ONNX's) for one sample.
QVector<float> toNchw(const float *x, const QVector<int> &shape)
{
    if (shape.size() != 3)
        return QVector<float>(x, x + shape[0]);
    const int h = shape[0], w = shape[1], c = shape[2];
    QVector<float> out(h * w * c);
    for (int y = 0; y < h; ++y)
        for (int xx = 0; xx < w; ++xx)
            for (int ch = 0; ch < c; ++ch)
                out[(ch * h + y) * w + xx] = x[(y * w + xx) * c + ch];
    return out;
}
QVector<float> toNhwc(const QVector<float> &x, const QVector<int> &nchw)
{
    if (nchw.size() == 2)
        return x;
    const int c = nchw[1], h = nchw.size() == 4 ? nchw[2] : 1, w = nchw.last();
    QVector<float> out(x.size());
    for (int ch = 0; ch < c; ++ch)
        for (int y = 0; y < h; ++y)
            for (int xx = 0; xx < w; ++xx)
                out[(y * w + xx) * c + ch] = x[(ch * h + y) * w + xx];
    return out;
}

QString onnxRuntimeDir()
{
    const QString env = qEnvironmentVariable("TINYML_ONNXRUNTIME_NODE_DIR");
    if (!env.isEmpty())
        return env;
    return QStringLiteral(TINYML_BINARY_DIR "/tests/training/ort/node_modules");
}

/// Outputs of model for each input (NCHW flat) from onnxruntime-node; nullopt + skip reason.
std::optional<QVector<QVector<float>>> runOnnxRuntime(const QString &model, const QVector<QVector<float>> &inputs,
                                                      QVector<int> shape, bool optimize, QString *why)
{
    const QString modules = onnxRuntimeDir();
    if (!QFileInfo::exists(modules + QStringLiteral("/onnxruntime-node"))) {
        *why = QStringLiteral("onnxruntime-node not found in %1: run tests/training/install-onnxruntime-node.sh BUILD_DIR")
                   .arg(modules);
        return std::nullopt;
    }
    QJsonArray in, sh;
    for (const auto &x : inputs) {
        QJsonArray a;
        for (float v : x)
            a.append(double(v));
        in.append(a);
    }
    for (int d : shape)
        sh.append(d);
    const QString inputsPath = model + QStringLiteral(".inputs.json");
    QFile f(inputsPath);
    f.open(QIODevice::WriteOnly);
    f.write(QJsonDocument(QJsonObject{{QStringLiteral("shape"), sh}, {QStringLiteral("inputs"), in}}).toJson());
    f.close();
    QProcess node;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("NODE_PATH"), modules);
    node.setProcessEnvironment(env);
    node.start(QStringLiteral("node"), {QStringLiteral(TINYML_SOURCE_DIR "/tests/training/run_onnxruntime.js"), model,
                                        inputsPath, optimize ? QStringLiteral("all") : QStringLiteral("disabled")});
    if (!node.waitForFinished(120000) || node.exitCode() != 0) {
        ADD_FAILURE() << "node failed: " << node.readAllStandardError().toStdString();
        return std::nullopt;
    }
    QVector<QVector<float>> out;
    for (const auto &row : QJsonDocument::fromJson(node.readAllStandardOutput()).object().value(QStringLiteral("outputs")).toArray()) {
        QVector<float> r;
        for (const auto &v : row.toArray())
            r.append(float(v.toDouble()));
        out.append(r);
    }
    return out;
}

QByteArray exportChecked(const model::Graph &g)
{
    QString err;
    auto bytes = exportOnnx(g, &err);
    EXPECT_TRUE(bytes) << err.toStdString();
    if (!bytes)
        return {};
    EXPECT_TRUE(checkOnnx(*bytes, &err)) << err.toStdString();
    return *bytes;
}

} // namespace

TEST(Onnx, FloatExportPassesCheckerAndImportsBack)
{
    for (auto [kind, shape] : {std::pair{Architecture::Cnn1d, QVector<int>{1, 48, 3}},
                               std::pair{Architecture::Cnn2d, QVector<int>{12, 10, 2}},
                               std::pair{Architecture::DsCnn, QVector<int>{25, 10, 1}},
                               std::pair{Architecture::Mlp, QVector<int>{12}}}) {
        SCOPED_TRACE(architectureName(kind).toStdString());
        Trained t = trained(kind, shape);
        const model::Graph g = t.trainer->exportGraph(t.data.labels);
        const QByteArray bytes = exportChecked(g);
        QString err;
        auto back = importOnnx(bytes, {}, &err);
        ASSERT_TRUE(back) << err.toStdString();
        EXPECT_EQ(back->labels, t.data.labels);   // from the metadata
        auto a = runGraph(g, t.data, &err), b = runGraph(*back, t.data, &err);
        ASSERT_TRUE(a && b) << err.toStdString();
        for (int k = 0; k < a->size(); ++k)
            EXPECT_NEAR((*a)[k], (*b)[k], 1e-5);
    }
}

TEST(Onnx, FloatAndQdqRunInOnnxRuntime)
{
    QTemporaryDir dir;
    for (auto [kind, shape] : {std::pair{Architecture::Cnn2d, QVector<int>{12, 10, 2}},
                               std::pair{Architecture::DsCnn, QVector<int>{25, 10, 1}},
                               std::pair{Architecture::Mlp, QVector<int>{1, 16, 2}}}) {
        SCOPED_TRACE(architectureName(kind).toStdString());
        Trained t = trained(kind, shape);
        const model::Graph g = t.trainer->exportGraph(t.data.labels);
        const QString floatPath = dir.filePath(architectureName(kind) + QStringLiteral(".onnx"));
        QString err;
        ASSERT_TRUE(writeOnnxFile(g, floatPath, &err)) << err.toStdString();
        QVector<QVector<float>> inputs;
        const int n = 8;
        for (int i = 0; i < n; ++i)
            inputs.append(toNchw(t.data.sample(i), shape));
        const QVector<int> onnxShape = shape.size() == 3 ? QVector<int>{1, shape[2], shape[0], shape[1]}
                                                         : QVector<int>{1, shape[0]};
        QString why;
        auto ort = runOnnxRuntime(floatPath, inputs, onnxShape, true, &why);
        // tests/run-all.sh installs onnxruntime-node: a missing runtime is a failure, not a skip.
        ASSERT_TRUE(ort.has_value()) << why.toStdString();
        const QVector<float> torchOut = t.trainer->predict(t.data.subset({0, 1, 2, 3, 4, 5, 6, 7}));
        double maxDiff = 0;
        for (int i = 0; i < n; ++i)
            for (int c = 0; c < 3; ++c)
                maxDiff = std::max(maxDiff, double(std::abs((*ort)[i][c] - torchOut[i * 3 + c])));
        std::printf("[%s] float: max |onnxruntime - libtorch| = %.3g\n", qPrintable(architectureName(kind)), maxDiff);
        EXPECT_LE(maxDiff, 1e-4);

        // QDQ int8 against the int8 reference (Int8Executor). ORT runs the QDQ graph as written
        // (optimisations off): float ops on dequantized values, re-quantized with round-half-
        // to-even, where the firmware requantizes with a fixed-point multiplier. Outputs agree
        // to a few output steps (softmax: 1/256); the tolerance is 3 steps.
        auto q = quantizeGraph(g, t.data, QuantizeOptions{}, &err);
        ASSERT_TRUE(q) << err.toStdString();
        const QString qdqPath = dir.filePath(architectureName(kind) + QStringLiteral("_int8.onnx"));
        ASSERT_TRUE(writeOnnxFile(*q, qdqPath, &err)) << err.toStdString();
        auto ortQ = runOnnxRuntime(qdqPath, inputs, onnxShape, false, &why);
        ASSERT_TRUE(ortQ);
        auto ref = runGraph(*q, t.data.subset({0, 1, 2, 3, 4, 5, 6, 7}), &err);
        ASSERT_TRUE(ref) << err.toStdString();
        const float step = q->tensors[q->outputs[0]].scales[0];
        double maxQ = 0;
        int agree = 0;
        for (int i = 0; i < n; ++i) {
            int a = 0, b = 0;
            for (int c = 0; c < 3; ++c) {
                maxQ = std::max(maxQ, double(std::abs((*ortQ)[i][c] - (*ref)[i * 3 + c])));
                if ((*ortQ)[i][c] > (*ortQ)[i][a]) a = c;
                if ((*ref)[i * 3 + c] > (*ref)[i * 3 + b]) b = c;
            }
            agree += a == b;
        }
        std::printf("[%s] int8 QDQ: max |onnxruntime - Int8Executor| = %.3g (%.1f output steps), argmax agree %d/%d\n",
                    qPrintable(architectureName(kind)), maxQ, maxQ / step, agree, n);
        EXPECT_LE(maxQ, 3 * step + 1e-6);
        // The optimised ORT session (fused int8 kernels) also loads and runs it.
        EXPECT_TRUE(runOnnxRuntime(qdqPath, inputs, onnxShape, true, &why));
    }
}

TEST(Onnx, ImportsTorchOnnxExport)
{
    QTemporaryDir dir;
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(TINYML_SOURCE_DIR "/tests/training/make_torch_onnx.py"), dir.path()});
    if (!py.waitForStarted() || !py.waitForFinished(300000) || py.exitCode() != 0) {
        const QString errText = QString::fromUtf8(py.readAllStandardError());
        if (errText.contains(QStringLiteral("No module named 'torch'")) || py.error() == QProcess::FailedToStart)
            FAIL() << "needs Debian's python3-torch (/usr/bin/python3 with torch; installers/debian-deps.sh "
                      "installs it): " << errText.toStdString();
        FAIL() << "make_torch_onnx.py failed: " << errText.toStdString();
    }
    QFile f(dir.filePath(QStringLiteral("references.json")));
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const QJsonObject refs = QJsonDocument::fromJson(f.readAll()).object();
    for (const QString name : {QStringLiteral("cnn_gap"), QStringLiteral("cnn_flatten"), QStringLiteral("conv1d"),
                               QStringLiteral("mlp")}) {
        SCOPED_TRACE(name.toStdString());
        QString err;
        auto g = importOnnxFile(dir.filePath(name + QStringLiteral(".onnx")), {}, &err);
        ASSERT_TRUE(g) << err.toStdString();
        const QJsonObject r = refs.value(name).toObject();
        QVector<int> shape;
        for (const auto &d : r.value(QStringLiteral("shape")).toArray())
            shape.append(d.toInt());
        const QJsonArray ins = r.value(QStringLiteral("inputs")).toArray(), outs = r.value(QStringLiteral("outputs")).toArray();
        TrainingData data;
        data.inputShape = g->tensors[g->inputs[0]].shape.mid(1);
        for (int i = 0; i < ins.size(); ++i) {
            QVector<float> x;
            for (const auto &v : ins[i].toArray())
                x.append(float(v.toDouble()));
            data.x += toNhwc(x, shape);
            data.y.append(0);
        }
        auto got = runGraph(*g, data, &err);
        ASSERT_TRUE(got) << err.toStdString();
        const int per = got->size() / ins.size();
        double maxDiff = 0;
        for (int i = 0; i < outs.size(); ++i) {
            const QJsonArray o = outs[i].toArray();
            ASSERT_EQ(o.size(), per);
            for (int k = 0; k < per; ++k)
                maxDiff = std::max(maxDiff, std::abs(o[k].toDouble() - (*got)[i * per + k]));
        }
        std::printf("[torch.onnx.export %s] %d nodes, max |tinyml - pytorch| = %.3g\n", qPrintable(name),
                    int(g->nodes.size()), maxDiff);
        EXPECT_LE(maxDiff, 1e-4);
    }
    QString err;
    EXPECT_FALSE(importOnnxFile(dir.filePath(QStringLiteral("unsupported.onnx")), {}, &err));
    EXPECT_TRUE(err.contains(QStringLiteral("Sin"))) << err.toStdString();
    EXPECT_TRUE(err.contains(QStringLiteral("node"))) << err.toStdString();
    std::printf("[torch.onnx.export unsupported] %s\n", qPrintable(err));
}
