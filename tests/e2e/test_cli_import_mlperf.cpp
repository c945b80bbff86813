// Issue 14: `tinyml import PROJECT DIR --format mlperf`: an MLPerf Tiny data set folder becomes
// samples of a tabular project whose values are the model's input, and `profile` then measures
// on-device accuracy on exactly those bytes. The data sets are labelled from the host int8
// executor's answers, every other file with a wrong class on purpose, so that the expected
// accuracy is known (one half) and a class-index mix-up cannot pass unnoticed.
#include "CliRunner.h"
#include "../deploy/DeployTestGraphs.h"

#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

/// The KWS reference model from $TINYML_MLPERF_TINY_DIR or ../shared/mlperf-tiny; empty when absent.
QString kwsModel()
{
    const QString env = qEnvironmentVariable("TINYML_MLPERF_TINY_DIR");
    const QString path = (env.isEmpty() ? QStringLiteral(TINYML_MLPERF_TINY_DIR) : env) +
                         QStringLiteral("/kws_ref_model.tflite");
    return QFileInfo::exists(path) ? path : QString();
}

class CliImportMlperf : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        qputenv("TINYML_VIRTUAL_BOARDS_DIR", m_dir.filePath(QStringLiteral("boards")).toLocal8Bit());
        m_project = m_dir.filePath(QStringLiteral("mlperf.tinyml"));
        const CliRun r = tinymlRun({"new", m_project, "--template", "tabular", "--board", "host"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }

    model::Graph latestInt8()
    {
        QString error;
        auto store = ProjectStore::open(m_project, &error);
        EXPECT_TRUE(store) << error.toStdString();
        auto stored = store->latestModel(ModelKind::Int8, &error);
        EXPECT_TRUE(stored) << error.toStdString();
        auto g = model::Graph::deserialize(stored->graph, &error);
        EXPECT_TRUE(g) << error.toStdString();
        return g ? *g : model::Graph{};
    }

    /// count random int8 inputs for g in DIR/name; file i is labelled with the host's top class,
    /// plus one (mod classes) for odd i. Returns the folder.
    QString makeDataset(const model::Graph &g, const QString &name, int count)
    {
        QString error;
        model::Int8Executor exec;
        EXPECT_TRUE(exec.prepare(g, &error)) << error.toStdString();
        const int bytes = int(g.tensors[g.inputs.first()].elementCount());
        const int classes = int(g.tensors[g.outputs.first()].elementCount());
        const QString dir = m_dir.filePath(name);
        QDir().mkpath(dir);
        QRandomGenerator rng(1414);
        QByteArray labels;
        m_expectedLabels.clear();
        for (int i = 0; i < count; ++i) {
            QVector<qint8> input(bytes);
            const int level = int(rng.bounded(256)) - 128;
            const int spread = int(rng.bounded(129));
            for (qint8 &v : input)
                v = qint8(std::clamp(level + int(rng.bounded(2 * spread + 1)) - spread, -128, 127));
            auto out = exec.run(input, &error);
            EXPECT_TRUE(out) << error.toStdString();
            if (!out)
                return {};
            const int top = int(std::max_element(out->begin(), out->end()) - out->begin());
            const int cls = i % 2 ? (top + 1) % classes : top;
            m_expectedLabels << cls;
            const QString file = QStringLiteral("tst_%1.bin").arg(i, 6, 10, QLatin1Char('0'));
            writeFile(dir + QLatin1Char('/') + file, QByteArray(reinterpret_cast<const char *>(input.constData()), bytes));
            labels += QStringLiteral("%1, %2, %3\n").arg(file).arg(classes).arg(cls).toUtf8();
        }
        writeFile(dir + QStringLiteral("/y_labels.csv"), labels);
        return dir;
    }

    QStringList storedLabels(QVector<Split> *splits = nullptr)
    {
        QString error;
        auto store = ProjectStore::open(m_project, &error);
        EXPECT_TRUE(store) << error.toStdString();
        QStringList out;
        for (const SampleInfo &i : store->sampleInfos()) {
            out << i.label;
            if (splits)
                splits->append(i.split);
        }
        return out;
    }

    /// Profiles on the host agent and checks device == host int8 accuracy == 1/2, every output bit-exact.
    void profileAndCheck(int samples)
    {
        const CliRun r = tinymlRun({"profile", m_project, "--board", "host", "--runs", "3", "--warmup", "1",
                                    "--samples", QString::number(samples), "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
        const QJsonObject p = r.json();
        EXPECT_DOUBLE_EQ(p["device_accuracy"].toDouble(), 0.5) << r.out.toStdString();
        EXPECT_DOUBLE_EQ(p["host_int8_accuracy"].toDouble(), 0.5) << r.out.toStdString();
        EXPECT_GT(p["outputs_compared"].toInt(), 0);
        EXPECT_EQ(p["bitexact_outputs"].toInt(), p["outputs_compared"].toInt()) << r.out.toStdString();
    }

    QTemporaryDir m_dir;
    QString m_project;
    QVector<int> m_expectedLabels;
};

} // namespace

TEST_F(CliImportMlperf, SmallInt8ModelImportProfileAndBadFolders)
{
    // No int8 model yet: refused before anything is read.
    const QString early = m_dir.filePath(QStringLiteral("early"));
    QDir().mkpath(early);
    CliRun r = tinymlRun({"import", m_project, early, "--format", "mlperf"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("needs an int8 model")) << r.err.toStdString();

    {
        QString error;
        auto store = ProjectStore::open(m_project, &error);
        ASSERT_TRUE(store) << error.toStdString();
        StoredModel q;
        q.kind = ModelKind::Int8;
        q.name = QStringLiteral("int8 chain");
        q.graph = deploy::testing::chain().serialize();
        ASSERT_TRUE(store->addModel(q, &error)) << error.toStdString();
    }
    const model::Graph g = latestInt8();
    const QString dir = makeDataset(g, QStringLiteral("chain01"), 24);

    // A folder with a bad row imports nothing, and says where.
    const QString bad = m_dir.filePath(QStringLiteral("bad"));
    QDir().mkpath(bad);
    QFile::copy(dir + QStringLiteral("/tst_000000.bin"), bad + QStringLiteral("/a.bin"));
    writeFile(bad + QStringLiteral("/y_labels.csv"), "a.bin,10,1\nb.bin,10,2\n");
    r = tinymlRun({"import", m_project, bad, "--format", "mlperf"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains(bad + QStringLiteral("/y_labels.csv:2: file: 'b.bin' does not exist"))) << r.err.toStdString();
    writeFile(bad + QStringLiteral("/y_labels.csv"), "a.bin,12,1\n");
    r = tinymlRun({"import", m_project, bad, "--format", "mlperf"});
    EXPECT_TRUE(r.err.contains(QStringLiteral("y_labels.csv:1: classes: 12 classes, but model 1 (int8 chain) has 10 outputs")))
        << r.err.toStdString();
    writeFile(bad + QStringLiteral("/b.bin"), QByteArray(490, 0));
    writeFile(bad + QStringLiteral("/y_labels.csv"), "a.bin,10,1\nb.bin,10,2\n");
    r = tinymlRun({"import", m_project, bad, "--format", "mlperf"});
    EXPECT_TRUE(r.err.contains(QStringLiteral("y_labels.csv:2: file: 'b.bin' has 490 bytes, but the input of model 1")))
        << r.err.toStdString();
    EXPECT_TRUE(storedLabels().isEmpty());
    {
        QString error;
        auto store = ProjectStore::open(m_project, &error);
        ASSERT_TRUE(store) << error.toStdString();
        EXPECT_TRUE(store->settings().labels.isEmpty()) << "a refused folder must leave the labels alone";
    }
    r = tinymlRun({"import", m_project, dir, "--format", "mlperf", "--label", "x"});
    EXPECT_NE(r.exitCode, 0);
    r = tinymlRun({"import", m_project, dir, "--format", "mlperf", "--model", "7"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("--model 7")) << r.err.toStdString();

    r = tinymlRun({"import", m_project, dir, "--format", "mlperf", "--split", "test", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["imported"].toInt(), 24) << r.out.toStdString();
    EXPECT_EQ(r.json()["files"].toArray().first().toObject()["format"].toString(), "mlperf");
    QVector<Split> splits;
    const QStringList labels = storedLabels(&splits);
    ASSERT_EQ(labels.size(), 24);
    for (int i = 0; i < 24; ++i) {
        EXPECT_EQ(labels[i], g.labels[m_expectedLabels[i]]) << i;
        EXPECT_EQ(splits[i], Split::Test);
    }
    profileAndCheck(20);
}

TEST_F(CliImportMlperf, KwsReferenceModelOnTheHostAgent)
{
#ifndef TINYML_HAVE_TRAINING
    GTEST_SKIP() << "tinyml import-model is built with training only (TINYML_BUILD_TRAINING=OFF)";
#endif
    const QString model = kwsModel();
    if (model.isEmpty())
        GTEST_SKIP() << "kws_ref_model.tflite not found in ../shared/mlperf-tiny or $TINYML_MLPERF_TINY_DIR: "
                        "the MLPerf Tiny reference models are test data kept outside the repository";
    CliRun r = tinymlRun({"import-model", m_project, model});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const model::Graph g = latestInt8();
    ASSERT_TRUE(g.labels.isEmpty()) << "the reference model carries no label names";
    const QString dir = makeDataset(g, QStringLiteral("kws01"), 40);

    r = tinymlRun({"import", m_project, dir, "--format", "mlperf", "--split", "test"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("Imported 40 samples")) << r.out.toStdString();
    const QStringList labels = storedLabels();
    ASSERT_EQ(labels.size(), 40);
    for (int i = 0; i < 40; ++i)
        EXPECT_EQ(labels[i], QStringLiteral("class_%1").arg(m_expectedLabels[i], 2, 10, QLatin1Char('0'))) << i;
    QString error;
    auto store = ProjectStore::open(m_project, &error);
    ASSERT_TRUE(store) << error.toStdString();
    // Scored by index: the project's labels are the class names in class order.
    ASSERT_EQ(store->settings().labels.size(), 12);
    EXPECT_EQ(store->settings().labels.first(), "class_00");
    EXPECT_EQ(store->settings().labels.last(), "class_11");
    store.reset();
    profileAndCheck(20);
}
