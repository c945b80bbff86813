// io/MlperfImport: an MLPerf Tiny data set folder as samples whose values are an int8 model's
// input. The stored values must come back as the files' bytes, bit for bit, through the chain
// the profiler runs (feature block, normalisation, Int8Executor::quantizeInput); every refusal
// names y_labels.csv, the line and the field, and stores nothing.
#include "IoTestFiles.h"
#include "../../deploy/DeployTestGraphs.h"

#include "features/FeatureExtractor.h"
#include "features/FeatureParams.h"
#include "io/MlperfImport.h"
#include "model/Int8Executor.h"

#include <QJsonArray>
#include <QJsonObject>

using namespace tinyml;
using namespace tinyml::io;

namespace {

/// The test graph's input is [1,8,8,1]: 64 int8 bytes; its output has 10 classes.
constexpr int kInputBytes = 64;

ProjectSettings tabularSettings()
{
    ProjectSettings s;
    s.templateName = QStringLiteral("tabular");
    return s;
}

MlperfImportTarget targetFor(const model::Graph &g, const ProjectSettings &settings = tabularSettings())
{
    QString error;
    auto t = MlperfImportTarget::forGraph(g, settings, QStringLiteral("model 1 (chain)"), &error);
    EXPECT_TRUE(t) << error.toStdString();
    return t ? *t : MlperfImportTarget{};
}

/// file k holds the bytes (k * 64 + j) mod 256 as int8: four files cover every int8 value.
QByteArray inputBytes(int k)
{
    QByteArray b(kInputBytes, 0);
    for (int j = 0; j < kInputBytes; ++j)
        b[j] = char((k * kInputBytes + j) & 0xFF);
    return b;
}

/// A data set of `count` files (tst_0.bin ...) with class = k % classes.
void writeDataset(const QTemporaryDir &dir, int count, int classes = 10)
{
    QByteArray labels;
    for (int k = 0; k < count; ++k) {
        const QString name = QStringLiteral("tst_%1.bin").arg(k);
        iotest::writeFile(dir, name, inputBytes(k));
        labels += QStringLiteral("%1,%2,%3\n").arg(name).arg(classes).arg(k % classes).toUtf8();
    }
    iotest::writeFile(dir, QStringLiteral("y_labels.csv"), labels);
}

/// The device input the profiler would send for a stored sample (features -> norm -> quantize).
QByteArray deviceInput(const Sample &s, const model::Graph &g, const ProjectSettings &settings)
{
    QString error;
    auto spec = ModelInputSpec::forGraph(g, settings, &error);
    EXPECT_TRUE(spec) << error.toStdString();
    features::FeatureExtractor extractor(spec->features);
    auto f = extractor.extract(s, &error);
    EXPECT_TRUE(f) << error.toStdString();
    if (!f)
        return {};
    QVector<float> x(f->floatData(), f->floatData() + f->elementCount());
    if (spec->normMean.size() == x.size())
        for (int k = 0; k < x.size(); ++k)
            x[k] = (x[k] - spec->normMean[k]) / spec->normStd[k];
    model::Int8Executor exec;
    EXPECT_TRUE(exec.prepare(g, &error)) << error.toStdString();
    const QVector<qint8> q = exec.quantizeInput(x);
    return QByteArray(reinterpret_cast<const char *>(q.constData()), q.size());
}

void expectRoundTrip(const model::Graph &g)
{
    QTemporaryDir dir;
    writeDataset(dir, 8);
    const ProjectSettings settings = tabularSettings();
    const FileImportResult r = importMlperfFolder(dir.path(), targetFor(g, settings), ImportOptions{});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.format, QStringLiteral("mlperf"));
    ASSERT_EQ(r.samples.size(), 8);
    QSet<int> seen;
    for (int k = 0; k < 8; ++k) {
        const Sample &s = r.samples[k];
        EXPECT_EQ(s.data.shape, QVector<qint64>{kInputBytes});
        EXPECT_EQ(s.split, Split::Train);
        EXPECT_EQ(s.channels.size(), kInputBytes);
        EXPECT_TRUE(s.source.endsWith(QStringLiteral("tst_%1.bin").arg(k)));
        const QByteArray back = deviceInput(s, g, settings);
        EXPECT_EQ(back.toHex().toStdString(), inputBytes(k).toHex().toStdString()) << "file " << k;
        for (char c : inputBytes(k))
            seen.insert(int(qint8(c)));
    }
    EXPECT_EQ(seen.size(), 256) << "the files should cover every int8 value";
}

} // namespace

TEST(MlperfImport, StoredValuesQuantizeBackToTheFileBytes)
{
    const model::Graph g = deploy::testing::chain();
    expectRoundTrip(g);
    QTemporaryDir dir;
    writeDataset(dir, 3);
    const FileImportResult r = importMlperfFolder(dir.path(), targetFor(g), ImportOptions{});
    ASSERT_TRUE(r.ok());
    // Labels: the model's names, index = class.
    EXPECT_EQ(r.samples[0].label, QStringLiteral("idle"));
    EXPECT_EQ(r.samples[2].label, QStringLiteral("shake"));
}

TEST(MlperfImport, RoundTripWithAwkwardScalesAndNormalisation)
{
    for (auto [scale, zp] : {std::pair{0.0173f, 17}, std::pair{3.3e-4f, -128}, std::pair{1.7f, 127},
                             std::pair{0.10000001f, 0}}) {
        model::Graph g = deploy::testing::chain();
        g.tensors[g.inputs.first()].scales = {scale};
        g.tensors[g.inputs.first()].zeroPoints = {zp};
        SCOPED_TRACE(scale);
        expectRoundTrip(g);
        // A model trained here normalises its input: the stored value undoes it.
        QJsonArray mean, std;
        for (int k = 0; k < kInputBytes; ++k) {
            mean.append(0.25 * k - 3.1);
            std.append(0.5 + 0.013 * k);
        }
        g.meta.insert(QStringLiteral("input_normalization"),
                      QJsonObject{{QStringLiteral("mean"), mean}, {QStringLiteral("std"), std}});
        expectRoundTrip(g);
    }
}

TEST(MlperfImport, ModelWithoutLabelNamesGetsClassNamesInIndexOrder)
{
    model::Graph g = deploy::testing::chain();
    g.labels.clear();
    const MlperfImportTarget t = targetFor(g);
    EXPECT_FALSE(t.modelHasLabelNames);
    ASSERT_EQ(t.classNames.size(), 10);
    EXPECT_EQ(t.classNames.first(), QStringLiteral("class_00"));
    EXPECT_EQ(t.classNames.last(), QStringLiteral("class_09"));
    QStringList sorted = t.classNames;
    sorted.sort();
    EXPECT_EQ(sorted, t.classNames);
    EXPECT_EQ(mlperfClassNames(101).last(), QStringLiteral("class_100"));
    EXPECT_EQ(mlperfClassNames(101)[7], QStringLiteral("class_007"));

    QTemporaryDir dir;
    writeDataset(dir, 12);
    const FileImportResult r = importMlperfFolder(dir.path(), t, ImportOptions{});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.samples[11].label, QStringLiteral("class_01"));

    // Scored by index: the project's labels must be the class names in class order.
    QString error;
    auto labels = mlperfProjectLabels({}, t, &error);
    ASSERT_TRUE(labels) << error.toStdString();
    EXPECT_EQ(*labels, t.classNames);
    labels = mlperfProjectLabels({QStringLiteral("class_00"), QStringLiteral("class_01")}, t, &error);
    ASSERT_TRUE(labels);
    EXPECT_EQ(*labels, t.classNames);
    EXPECT_FALSE(mlperfProjectLabels({QStringLiteral("normal"), QStringLiteral("anomaly")}, t, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("label 0 is 'normal', not 'class_00'"))) << error.toStdString();

    // Scored by name: new names are appended in class order after the project's own.
    const MlperfImportTarget named = targetFor(deploy::testing::chain());
    labels = mlperfProjectLabels({QStringLiteral("other"), QStringLiteral("shake")}, named, &error);
    ASSERT_TRUE(labels);
    EXPECT_EQ(labels->size(), 11);
    EXPECT_EQ(labels->mid(0, 4), (QStringList{"other", "shake", "idle", "wave"}));
}

TEST(MlperfImport, SplitOptionApplies)
{
    QTemporaryDir dir;
    writeDataset(dir, 2);
    ImportOptions opt;
    opt.split = Split::Test;
    const FileImportResult r = importMlperfFolder(dir.path(), targetFor(deploy::testing::chain()), opt);
    ASSERT_TRUE(r.ok());
    for (const Sample &s : r.samples)
        EXPECT_EQ(s.split, Split::Test);
}

TEST(MlperfImport, BadRowsNameTheLineAndFieldAndImportNothing)
{
    const MlperfImportTarget t = targetFor(deploy::testing::chain());
    auto check = [&](const QByteArray &labels, const QVector<QPair<QString, QByteArray>> &files, int line,
                     const QString &field, const QString &messagePart) {
        QTemporaryDir dir;
        for (const auto &f : files)
            iotest::writeFile(dir, f.first, f.second);
        iotest::writeFile(dir, QStringLiteral("y_labels.csv"), labels);
        const FileImportResult r = importMlperfFolder(dir.path(), t, ImportOptions{});
        EXPECT_EQ(r.file, dir.path());
        iotest::expectFailure(r, dir.filePath(QStringLiteral("y_labels.csv")), line, field, messagePart);
    };
    const QPair<QString, QByteArray> a{QStringLiteral("a.bin"), inputBytes(0)};
    // The second row names a file that is not there: nothing of the first row is kept either.
    check("a.bin,10,1\nmissing.bin,10,2\n", {a}, 2, QStringLiteral("file"), QStringLiteral("'missing.bin' does not exist"));
    check("a.bin,10,1\nshort.bin,10,2\n", {a, {QStringLiteral("short.bin"), QByteArray(63, 1)}}, 2,
          QStringLiteral("file"), QStringLiteral("'short.bin' has 63 bytes, but the input of model 1 (chain) ([1,8,8,1] int8) has 64"));
    check("a.bin,12,1\n", {a}, 1, QStringLiteral("classes"), QStringLiteral("12 classes, but model 1 (chain) has 10 outputs"));
    check("a.bin,10,10\n", {a}, 1, QStringLiteral("class"), QStringLiteral("from 0 to 9"));
    check("a.bin,10,0,64,32\n", {a}, 1, QStringLiteral("bytes_to_send"), QStringLiteral("tinyml mlperf --dataset"));
    check("../a.bin,10,0\n", {a}, 1, QStringLiteral("file"), QStringLiteral("inside the data set folder"));

    QTemporaryDir empty;
    const FileImportResult r = importMlperfFolder(empty.path(), t, ImportOptions{});
    iotest::expectFailure(r, empty.filePath(QStringLiteral("y_labels.csv")), 0, QString(), QStringLiteral("missing"));
}

TEST(MlperfImport, RefusesAChainThatWouldChangeTheBytes)
{
    // A raw block that scales its input would send other bytes than the files hold.
    ProjectSettings settings = tabularSettings();
    features::FeatureParams fp;
    fp.kind = features::BlockKind::Raw;
    fp.raw.scale = 2.0f;
    features::setFeatureParams(settings, fp);
    QTemporaryDir dir;
    writeDataset(dir, 2);
    const FileImportResult r =
        importMlperfFolder(dir.path(), targetFor(deploy::testing::chain(), settings), ImportOptions{});
    iotest::expectFailure(r, dir.filePath(QStringLiteral("y_labels.csv")), 1, QStringLiteral("file"),
                          QStringLiteral("would reach the device as"));
}

TEST(MlperfImport, RefusesFloatModels)
{
    model::Graph g = deploy::testing::chain();
    g.quantized = false;
    QString error;
    EXPECT_FALSE(MlperfImportTarget::forGraph(g, tabularSettings(), QStringLiteral("model 4 (f)"), &error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("model 4 (f): a float model"))) << error.toStdString();
}
