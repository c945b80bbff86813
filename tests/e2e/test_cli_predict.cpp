// Issue 14: `tinyml predict` on the shipped motion example with models built here. The
// outputs must equal the host reference computed in this test: the project's cached feature
// path (features::computeFeatures, what training and the profiler use), normalised with the
// model's statistics and run on Int8Executor / FloatExecutor directly.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "features/FeatureSet.h"
#include "model/FloatExecutor.h"
#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "model/QuantizationMath.h"
#include "store/ProjectStore.h"

#include <QHash>
#include <QJsonArray>
#include <QSet>
#include <QTemporaryDir>
#include <QtEndian>

#include <cstring>

using namespace tinyml;
using namespace tinyml::e2e;
using namespace tinyml::model;

namespace {

constexpr int kClasses = 4;

QJsonArray floatArray(const QVector<float> &v)
{
    QJsonArray a;
    for (float f : v)
        a.append(double(f));
    return a;
}

QJsonArray jsonArray(const QJsonDocument &doc) { return doc.array(); }

/// Fully connected features -> 4 classes, float.
Graph floatModel(int n, const QVector<float> &mean, const QVector<float> &std, const QStringList &labels)
{
    Graph g;
    const int x = g.addTensor(TensorDesc::activation(QStringLiteral("x"), {1, n}));
    QVector<float> w(kClasses * n), b(kClasses);
    for (int i = 0; i < w.size(); ++i)
        w[i] = float((i * 29) % 17 - 8) / 16.0f;
    for (int c = 0; c < kClasses; ++c)
        b[c] = 0.1f * float(c);
    const int wt = g.addTensor(TensorDesc::constantFloat(QStringLiteral("w"), {kClasses, n}, w));
    const int bt = g.addTensor(TensorDesc::constantFloat(QStringLiteral("b"), {kClasses}, b));
    const int y = g.addTensor(TensorDesc::activation(QStringLiteral("y"), {1, kClasses}));
    Node fc;
    fc.op = OpType::FullyConnected;
    fc.name = QStringLiteral("fc");
    fc.inputs = {x, wt, bt};
    fc.outputs = {y};
    g.addNode(fc);
    g.inputs = {x};
    g.outputs = {y};
    g.labels = labels;
    g.meta.insert(QStringLiteral("input_normalization"),
                  QJsonObject{{QStringLiteral("mean"), floatArray(mean)}, {QStringLiteral("std"), floatArray(std)}});
    return g;
}

/// The int8 counterpart (its own weights: only the executor path matters here).
Graph int8Model(int n, const QVector<float> &mean, const QVector<float> &std, const QStringList &labels, qint64 floatId)
{
    Graph g;
    TensorDesc xt = TensorDesc::activation(QStringLiteral("x"), {1, n}, DType::Int8);
    xt.scales = {0.05f};
    xt.zeroPoints = {-2};
    const int x = g.addTensor(xt);
    QVector<qint8> w(kClasses * n);
    for (int i = 0; i < w.size(); ++i)
        w[i] = qint8((i * 37) % 255 - 127);
    QVector<float> ws(kClasses);
    for (int c = 0; c < kClasses; ++c)
        ws[c] = 0.004f + 0.001f * float(c);
    const int wt = g.addTensor(TensorDesc::constantInt8(QStringLiteral("w"), {kClasses, n}, w, ws));
    QVector<qint32> b(kClasses);
    QVector<float> bs(kClasses);
    for (int c = 0; c < kClasses; ++c) {
        b[c] = 40 * c - 60;
        bs[c] = 0.05f * ws[c];
    }
    const int bt = g.addTensor(TensorDesc::constantInt32(QStringLiteral("b"), {kClasses}, b, bs));
    TensorDesc yt = TensorDesc::activation(QStringLiteral("y"), {1, kClasses}, DType::Int8);
    yt.scales = {0.02f};
    yt.zeroPoints = {3};
    const int y = g.addTensor(yt);
    Node fc;
    fc.op = OpType::FullyConnected;
    fc.name = QStringLiteral("fc");
    fc.inputs = {x, wt, bt};
    fc.outputs = {y};
    g.addNode(fc);
    g.inputs = {x};
    g.outputs = {y};
    g.labels = labels;
    g.quantized = true;
    g.meta.insert(QStringLiteral("input_normalization"),
                  QJsonObject{{QStringLiteral("mean"), floatArray(mean)}, {QStringLiteral("std"), floatArray(std)}});
    if (floatId > 0)
        g.meta.insert(QStringLiteral("float_model"), floatId);
    return g;
}

/// K-means score against one centroid at 0: the squared norm of the input; alarm above 10.
Graph anomalyModel(int n)
{
    Graph g;
    const int x = g.addTensor(TensorDesc::activation(QStringLiteral("x"), {1, n}));
    const int c = g.addTensor(TensorDesc::constantFloat(QStringLiteral("centroids"), {1, n}, QVector<float>(n, 0.0f)));
    const int y = g.addTensor(TensorDesc::activation(QStringLiteral("anomaly_score"), {1, 1}));
    Node k;
    k.op = OpType::KMeansScore;
    k.name = QStringLiteral("kmeans");
    k.inputs = {x, c};
    k.outputs = {y};
    g.addNode(k);
    g.inputs = {x};
    g.outputs = {y};
    g.meta.insert(QStringLiteral("task"), QStringLiteral("anomaly"));
    g.meta.insert(QStringLiteral("threshold"), 10.0);
    return g;
}

/// A stored sample as a time-series CSV a user would have: ms timestamps, every value printed
/// so that it reads back to the same float.
QByteArray sampleCsv(const Sample &s)
{
    QByteArray csv = "timestamp";
    for (const QString &c : s.channels)
        csv += "," + c.toUtf8();
    csv += "\n";
    const QVector<float> v = s.data.toFloats();
    const qint64 channels = s.data.shape[1];
    for (qint64 f = 0; f < s.frames(); ++f) {
        csv += QByteArray::number(double(f) * 1000.0 / s.sampleRateHz, 'g', 12);
        for (qint64 c = 0; c < channels; ++c)
            csv += "," + QByteArray::number(double(v[f * channels + c]), 'g', 9);
        csv += "\n";
    }
    return csv;
}

class CliPredict : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_dir = new QTemporaryDir;
        s_project = s_dir->filePath(QStringLiteral("m.tinyml"));
        const CliRun r = tinymlRun({QStringLiteral("new"), s_project, QStringLiteral("--example"), QStringLiteral("motion")});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        QString error;
        auto store = ProjectStore::open(s_project, &error);
        ASSERT_TRUE(store) << error.toStdString();
        // The host reference's features: the project's feature parameters, computed as training does.
        auto set = features::computeFeatures(*store, features::featureParams(store->settings()), {}, &error);
        ASSERT_TRUE(set) << error.toStdString();
        ASSERT_GT(set->size(), 4);
        s_features = new features::FeatureSet(*set);
        QVector<float> mean, std;
        set->featureStats(&mean, &std);
        const int n = int(set->featureSize());
        s_n = n;
        s_labels = set->labelNames.mid(0, kClasses);
        ASSERT_EQ(s_labels.size(), kClasses);

        s_float = floatModel(n, mean, std, s_labels);
        StoredModel f;
        f.kind = ModelKind::Float;
        f.name = QStringLiteral("fc float");
        f.graph = s_float.serialize();
        ASSERT_TRUE(store->addModel(f, &error)) << error.toStdString();
        s_floatId = f.id;
        StoredModel a;
        a.kind = ModelKind::Float;
        a.name = QStringLiteral("kmeans");
        a.graph = anomalyModel(n).serialize();
        ASSERT_TRUE(store->addModel(a, &error)) << error.toStdString();
        s_anomalyId = a.id;
        // An int8 model with no float source (as an imported one), then the default one.
        StoredModel lone;
        lone.kind = ModelKind::Int8;
        lone.name = QStringLiteral("imported int8");
        lone.graph = int8Model(n, mean, std, s_labels, 0).serialize();
        ASSERT_TRUE(store->addModel(lone, &error)) << error.toStdString();
        s_loneId = lone.id;
        s_int8 = int8Model(n, mean, std, s_labels, s_floatId);
        StoredModel q;
        q.kind = ModelKind::Int8;
        q.name = QStringLiteral("fc int8");
        q.graph = s_int8.serialize();
        ASSERT_TRUE(store->addModel(q, &error)) << error.toStdString();
        s_int8Id = q.id;
        s_mean = mean;
        s_std = std;
    }
    static void TearDownTestSuite()
    {
        delete s_features;
        delete s_dir;
    }

    /// The reference: features from the cache path, normalised, quantized, run on the executor.
    static QVector<qint8> referenceInt8(qint64 sampleId)
    {
        const int row = int(s_features->sampleIds.indexOf(sampleId));
        EXPECT_GE(row, 0);
        QVector<float> x = s_features->rowVector(row);
        for (int k = 0; k < x.size(); ++k)
            x[k] = (x[k] - s_mean[k]) / s_std[k];
        Int8Executor exec;
        QString error;
        EXPECT_TRUE(exec.prepare(s_int8, &error)) << error.toStdString();
        auto out = exec.run(exec.quantizeInput(x), &error);
        EXPECT_TRUE(out) << error.toStdString();
        return out.value_or(QVector<qint8>());
    }

    static inline QTemporaryDir *s_dir = nullptr;
    static inline QString s_project;
    static inline features::FeatureSet *s_features = nullptr;
    static inline int s_n = 0;
    static inline QStringList s_labels;
    static inline QVector<float> s_mean, s_std;
    static inline Graph s_float, s_int8;
    static inline qint64 s_floatId = 0, s_anomalyId = 0, s_loneId = 0, s_int8Id = 0;
};

TEST_F(CliPredict, SamplesGiveTheHostReferenceOutputs)
{
    QString error;
    auto store = ProjectStore::open(s_project, &error);
    ASSERT_TRUE(store) << error.toStdString();
    QStringList files;
    QVector<qint64> ids;
    // Two samples of each label: the top classes must not all be the same.
    QHash<QString, int> perLabel;
    for (const SampleInfo &info : store->sampleInfos()) {
        if (perLabel[info.label]++ >= 2)
            continue;
        auto s = store->sample(info.id);
        ASSERT_TRUE(s);
        const QString path = s_dir->filePath(QStringLiteral("%1.s%2.csv").arg(s->label).arg(s->id));
        writeFile(path, sampleCsv(*s));
        files << path;
        ids << s->id;
    }
    CliRun r = tinymlRun(QStringList{QStringLiteral("predict"), s_project, QStringLiteral("--json")} + files);
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonArray results = jsonArray(QJsonDocument::fromJson(r.out.toUtf8()));
    ASSERT_EQ(results.size(), files.size()) << r.out.toStdString();
    QSet<int> tops;
    for (int i = 0; i < files.size(); ++i) {
        const QJsonObject o = results[i].toObject();
        EXPECT_EQ(o.value(QStringLiteral("input")).toString(), files[i]);
        EXPECT_EQ(o.value(QStringLiteral("model_id")).toInteger(), s_int8Id) << "the latest int8 model is the default";
        EXPECT_EQ(o.value(QStringLiteral("executor")).toString(), QStringLiteral("int8 reference"));
        const QVector<qint8> expected = referenceInt8(ids[i]);
        const QJsonArray got = o.value(QStringLiteral("outputs_int8")).toArray();
        ASSERT_EQ(got.size(), expected.size());
        int top = 0;
        for (int k = 0; k < expected.size(); ++k) {
            EXPECT_EQ(got[k].toInt(), int(expected[k])) << files[i].toStdString() << " output " << k;
            if (expected[k] > expected[top])
                top = k;
            const double deq = o.value(QStringLiteral("outputs")).toArray()[k].toDouble();
            EXPECT_FLOAT_EQ(float(deq), 0.02f * float(int(expected[k]) - 3));
        }
        EXPECT_EQ(o.value(QStringLiteral("top_index")).toInt(), top);
        EXPECT_EQ(o.value(QStringLiteral("top_class")).toString(), s_labels[top]);
        EXPECT_EQ(o.value(QStringLiteral("format")).toString(), QStringLiteral("csv-timeseries sample"));
        EXPECT_FALSE(o.value(QStringLiteral("expected_label")).toString().isEmpty());
        tops.insert(top);
    }
    EXPECT_GT(tops.size(), 1) << "every sample gave the same class: the test would not tell inputs apart";

    // The text form says the same.
    r = tinymlRun({QStringLiteral("predict"), s_project, files.first()});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("int8 reference executor"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(s_labels[results[0].toObject().value(QStringLiteral("top_index")).toInt()]));
    EXPECT_TRUE(r.out.contains(QStringLiteral("(int8 "))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("normalised"))) << r.out.toStdString();
}

TEST_F(CliPredict, RawInt8AndFloatTensorsMatchTheExecutors)
{
    QByteArray raw(s_n, '\0');
    QVector<qint8> q(s_n);
    for (int i = 0; i < s_n; ++i) {
        q[i] = qint8((i * 53) % 256 - 128);
        raw[i] = char(q[i]);
    }
    const QString rawPath = s_dir->filePath(QStringLiteral("in.bin"));
    writeFile(rawPath, raw);
    CliRun r = tinymlRun({QStringLiteral("predict"), s_project, rawPath, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    Int8Executor exec;
    QString error;
    ASSERT_TRUE(exec.prepare(s_int8, &error)) << error.toStdString();
    const auto expected = exec.run(q, &error);
    ASSERT_TRUE(expected) << error.toStdString();
    const QJsonObject o = jsonArray(QJsonDocument::fromJson(r.out.toUtf8()))[0].toObject();
    EXPECT_EQ(o.value(QStringLiteral("format")).toString(), QStringLiteral("raw int8"));
    const QJsonArray got = o.value(QStringLiteral("outputs_int8")).toArray();
    ASSERT_EQ(got.size(), expected->size());
    for (int k = 0; k < got.size(); ++k)
        EXPECT_EQ(got[k].toInt(), int((*expected)[k])) << k;

    // float32 values: raw for the int8 model (quantized with the input's parameters), .npy for --float.
    QVector<float> x(s_n);
    QByteArray f32;
    for (int i = 0; i < s_n; ++i) {
        x[i] = float((i % 7) - 3) * 0.37f;
        quint32 bits = 0;
        std::memcpy(&bits, &x[i], 4);
        QByteArray b(4, '\0');
        qToLittleEndian(bits, b.data());
        f32 += b;
    }
    const QString f32Path = s_dir->filePath(QStringLiteral("in.f32"));
    writeFile(f32Path, f32);
    QByteArray header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, " + QByteArray::number(s_n) + "), }";
    while ((10 + header.size() + 1) % 64)
        header += ' ';
    header += '\n';
    QByteArray len(2, '\0');
    qToLittleEndian(quint16(header.size()), len.data());
    const QString npyPath = s_dir->filePath(QStringLiteral("in.npy"));
    writeFile(npyPath, QByteArray("\x93NUMPY\x01\x00", 8) + len + header + f32);

    r = tinymlRun({QStringLiteral("predict"), s_project, f32Path, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const auto fromFloats = exec.run(quantize(x, QuantParams{0.05f, -2}), &error);
    ASSERT_TRUE(fromFloats);
    const QJsonArray got2 = jsonArray(QJsonDocument::fromJson(r.out.toUtf8()))[0].toObject()
                                .value(QStringLiteral("outputs_int8")).toArray();
    ASSERT_EQ(got2.size(), fromFloats->size());
    for (int k = 0; k < got2.size(); ++k)
        EXPECT_EQ(got2[k].toInt(), int((*fromFloats)[k])) << k;

    r = tinymlRun({QStringLiteral("predict"), s_project, QStringLiteral("--float"), npyPath, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    FloatExecutor fexec;
    ASSERT_TRUE(fexec.prepare(s_float, &error)) << error.toStdString();
    const auto fout = fexec.run(x, &error);
    ASSERT_TRUE(fout) << error.toStdString();
    const QJsonObject fo = jsonArray(QJsonDocument::fromJson(r.out.toUtf8()))[0].toObject();
    EXPECT_EQ(fo.value(QStringLiteral("model_id")).toInteger(), s_floatId) << "--float runs the model it came from";
    EXPECT_EQ(fo.value(QStringLiteral("executor")).toString(), QStringLiteral("float"));
    EXPECT_TRUE(fo.value(QStringLiteral("outputs_int8")).isNull());
    const QJsonArray fgot = fo.value(QStringLiteral("outputs")).toArray();
    ASSERT_EQ(fgot.size(), fout->size());
    int top = 0;
    for (int k = 0; k < fgot.size(); ++k) {
        EXPECT_EQ(float(fgot[k].toDouble()), (*fout)[k]) << k;
        if ((*fout)[k] > (*fout)[top])
            top = k;
    }
    EXPECT_EQ(fo.value(QStringLiteral("top_index")).toInt(), top);
}

TEST_F(CliPredict, AnomalyScoreAgainstTheSavedThreshold)
{
    QByteArray zeros, ones;
    for (float v : {0.0f, 1.0f}) {
        QByteArray &target = v == 0.0f ? zeros : ones;
        for (int i = 0; i < s_n; ++i) {
            quint32 bits = 0;
            std::memcpy(&bits, &v, 4);
            QByteArray b(4, '\0');
            qToLittleEndian(bits, b.data());
            target += b;
        }
    }
    const QString normal = s_dir->filePath(QStringLiteral("zeros.f32"));
    const QString far = s_dir->filePath(QStringLiteral("ones.f32"));
    writeFile(normal, zeros);
    writeFile(far, ones);
    const QString id = QString::number(s_anomalyId);
    CliRun r = tinymlRun({QStringLiteral("predict"), s_project, QStringLiteral("--model"), id, normal, far,
                          QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonArray a = jsonArray(QJsonDocument::fromJson(r.out.toUtf8()));
    ASSERT_EQ(a.size(), 2);
    EXPECT_EQ(a[0].toObject().value(QStringLiteral("score")).toDouble(), 0.0);
    EXPECT_FALSE(a[0].toObject().value(QStringLiteral("above_threshold")).toBool(true));
    EXPECT_EQ(a[1].toObject().value(QStringLiteral("score")).toDouble(), double(s_n));
    EXPECT_TRUE(a[1].toObject().value(QStringLiteral("above_threshold")).toBool(false));
    EXPECT_TRUE(a[1].toObject().value(QStringLiteral("top_class")).isNull());
    r = tinymlRun({QStringLiteral("predict"), s_project, QStringLiteral("--model"), id, far});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("ANOMALY"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("alarm when score > 10"))) << r.out.toStdString();
}

TEST_F(CliPredict, RefusalsNameTheFile)
{
    const QString small = s_dir->filePath(QStringLiteral("small.bin"));
    writeFile(small, QByteArray(5, '\1'));
    CliRun r = tinymlRun({QStringLiteral("predict"), s_project, small});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(small + QStringLiteral(": size: 5 bytes"))) << r.err.toStdString();
    EXPECT_TRUE(r.out.isEmpty()) << "no partial output: " << r.out.toStdString();

    const QString truncated = s_dir->filePath(QStringLiteral("cut.npy"));
    writeFile(truncated, QByteArray("\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'", 25));
    r = tinymlRun({QStringLiteral("predict"), s_project, truncated});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(truncated + QStringLiteral(": header_len:"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("predict"), s_project, s_dir->filePath(QStringLiteral("nothing.bin"))});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("nothing.bin: no such file"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("predict"), s_project, QStringLiteral("--float"), QStringLiteral("--model"),
                   QString::number(s_loneId), small});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("has no float graph stored"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("predict"), s_project, QStringLiteral("--model"), QStringLiteral("999"), small});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("999"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("predict"), s_project, QStringLiteral("--as"), QStringLiteral("jpeg"), small});
    EXPECT_EQ(r.exitCode, 2);
    r = tinymlRun({QStringLiteral("predict"), s_project});
    EXPECT_EQ(r.exitCode, 2);
}

} // namespace
