// `tinyml train --model kmeans|gmm|autoencoder|conv-autoencoder --normal ...` end to end on a table CSV (issue 16):
// import through the CLI, train each model on the normal label only, read the JSON contract and
// the stored model; bad input gives one clear line naming the label or option. A motion project
// imported from CSV recordings checks the false-alarms-per-hour budget against the impulse's
// stride. No QEMU needed.
#include <gtest/gtest.h>

#include "CliRunner.h"

#include "store/ProjectStore.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

#include <cmath>
#include <random>

using namespace tinyml::e2e;

namespace {

/// Rows "f0..f7,label": normal ~ N(0, 1) per feature, anomaly shifted by 2.5 in four features.
QByteArray tableCsv(int normal, int anomalous, std::uint64_t seed, const char *anomalyLabel = "anomaly")
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, 1);
    QByteArray csv = "f0,f1,f2,f3,f4,f5,f6,f7,label\n";
    for (int i = 0; i < normal + anomalous; ++i) {
        const bool a = i >= normal;
        for (int f = 0; f < 8; ++f)
            csv += QByteArray::number(g(rng) + (a && f % 2 == 0 ? 2.5 : 0.0), 'g', 7) + ",";
        csv += a ? QByteArray(anomalyLabel) : QByteArray("normal");
        csv += "\n";
    }
    return csv;
}

class AnomalyCli : public ::testing::Test {
protected:
    QTemporaryDir tmp;
    QString path(const QString &name) const { return tmp.filePath(name); }

    QString project(const QString &name, const QByteArray &csv)
    {
        const QString proj = path(name + ".tinyml");
        EXPECT_EQ(tinymlRun({"new", proj, "--template", "tabular"}).exitCode, 0);
        writeFile(path(name + ".csv"), csv);
        CliRun r = tinymlRun({"import", proj, path(name + ".csv"), "--format", "csv-table"});
        EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
        return proj;
    }
};

} // namespace

TEST_F(AnomalyCli, EachModelSeparatesTheShiftedRowsWithTheJsonContract)
{
    const QString proj = project("machine", tableCsv(300, 100, 1));
    for (const char *model : {"kmeans", "gmm", "autoencoder", "conv-autoencoder"}) {
        SCOPED_TRACE(model);
        QStringList args{"train", proj, "--model", model, "--normal", "normal", "--seed", "3", "--json"};
        if (QByteArray(model).endsWith("autoencoder"))
            args << "--epochs" << "60";
        CliRun r = tinymlRun(args);
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        const QJsonObject j = r.json();
        for (const char *key : {"auc", "pr_auc", "threshold", "tpr", "fpr", "model_id", "run_id", "model",
                                "clusters", "test_normal", "test_anomalous", "threshold_rule", "normal_labels"})
            EXPECT_TRUE(j.contains(key)) << key;
        EXPECT_EQ(j["model"].toString(), model);
        EXPECT_GE(j["auc"].toDouble(), 0.95) << r.out.toStdString();
        EXPECT_GE(j["pr_auc"].toDouble(), 0.9);
        EXPECT_GT(j["model_id"].toInt(), 0);
        // The import splits 80/20 per label: 60 normal and 20 anomalous rows to test.
        EXPECT_EQ(j["test_normal"].toInt(), 60);
        EXPECT_EQ(j["test_anomalous"].toInt(), 20);
        EXPECT_LE(j["fpr"].toDouble(), 0.01 + 1e-12);
        EXPECT_EQ(j["normal_labels"].toArray(), QJsonArray{"normal"});
        EXPECT_EQ(j["clusters"].isNull(), QByteArray(model).endsWith("autoencoder"));
        ASSERT_EQ(j["per_label"].toArray().size(), 1);
        EXPECT_EQ(j["per_label"].toArray()[0].toObject()["label"].toString(), "anomaly");
    }

    // Human output prints the same numbers.
    CliRun r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--clusters", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains("K = 2")) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("ROC AUC 0.") || r.out.contains("ROC AUC 1.")) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("TPR") && r.out.contains("FPR")) << r.out.toStdString();

    // int8: the newest model (K-means, K = 2) quantized, its int8 scores' AUC next to the float one.
    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject q = r.json();
    EXPECT_EQ(q["task"].toString(), "anomaly");
    EXPECT_GE(q["float_auc"].toDouble(), 0.95) << r.out.toStdString();
    EXPECT_GE(q["int8_auc"].toDouble(), q["float_auc"].toDouble() - 0.03) << r.out.toStdString();
    EXPECT_TRUE(q.contains("tpr") && q.contains("fpr") && q.contains("threshold"));
}

TEST_F(AnomalyCli, BadInputIsRefusedWithTheLabelOrOptionNamed)
{
    const QString proj = project("bad", tableCsv(60, 20, 2));
    // No --normal: usage error.
    CliRun r = tinymlRun({"train", proj, "--model", "gmm"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("--normal")) << r.err.toStdString();
    // A label the project does not have.
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal,quiet"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("\"quiet\"")) << r.err.toStdString();
    // Options that belong to the other kind of model.
    for (const char *ae : {"autoencoder", "conv-autoencoder"}) {
        r = tinymlRun({"train", proj, "--model", ae, "--normal", "normal", "--clusters", "3"});
        EXPECT_EQ(r.exitCode, 2) << ae;
        EXPECT_TRUE(r.err.contains("--clusters")) << r.err.toStdString();
    }
    r = tinymlRun({"train", proj, "--model", "mlp", "--normal", "normal"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("--normal")) << r.err.toStdString();
    for (const char *fpr : {"1", "-0.1", "nan", "x"}) {
        r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--max-fpr", fpr});
        EXPECT_EQ(r.exitCode, 2) << fpr;
        EXPECT_TRUE(r.err.contains("--max-fpr")) << r.err.toStdString();
    }
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--clusters", "1000"});
    EXPECT_EQ(r.exitCode, 2);
    // More clusters than normal training rows.
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--clusters", "60"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("60 clusters")) << r.err.toStdString();

    // A normal label whose samples are all in the test split.
    writeFile(path("rare.csv"), "f0,f1,f2,f3,f4,f5,f6,f7,label\n1,2,3,4,5,6,7,8,rare\n2,3,4,5,6,7,8,9,rare\n");
    ASSERT_EQ(tinymlRun({"import", proj, path("rare.csv"), "--format", "csv-table", "--split", "test"}).exitCode, 0);
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "rare"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("\"rare\" has no samples in the train split")) << r.err.toStdString();
}

TEST_F(AnomalyCli, ATestSplitWithoutAnomaliesHasNoAuc)
{
    const QString proj = project("quiet", tableCsv(80, 0, 4));
    CliRun r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    EXPECT_TRUE(j["auc"].isNull());
    EXPECT_TRUE(j["pr_auc"].isNull());
    EXPECT_TRUE(j["tpr"].isNull());
    EXPECT_FALSE(j["fpr"].isNull());
    EXPECT_TRUE(r.err.contains("AUC is undefined")) << r.err.toStdString();
    r = tinymlRun({"train", proj, "--model", "gmm", "--normal", "normal"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains("ROC AUC undefined")) << r.out.toStdString();
    EXPECT_FALSE(r.out.contains("ROC AUC 0")) << r.out.toStdString();
}

namespace {

/// Time-series CSV recordings (x, y, z at 100 Hz, 4 s each): normal = a 5-6 Hz swing on x; the
/// fault adds a 23 Hz tone on y.
void writeRecordings(const QString &dir, const char *label, int count, bool fault, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, 0.3);
    std::uniform_real_distribution<double> u(5, 6);
    for (int i = 0; i < count; ++i) {
        QByteArray csv = "x,y,z\n";
        const double f = u(rng);
        for (int t = 0; t < 400; ++t) {
            const double s = t / 100.0;
            csv += QByteArray::number(std::sin(2 * M_PI * f * s) + g(rng), 'f', 4) + ","
                   + QByteArray::number(g(rng) + (fault ? 1.5 * std::sin(2 * M_PI * 23 * s) : 0.0), 'f', 4) + ","
                   + QByteArray::number(9.8 + g(rng), 'f', 4) + "\n";
        }
        writeFile(QStringLiteral("%1/%2.%3.csv").arg(dir, QLatin1String(label)).arg(i), csv);
    }
}

} // namespace

TEST_F(AnomalyCli, FalseAlarmsPerHourFollowTheImpulseStride)
{
    const QString proj = path("motion.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "vibration", "--board", "qemu-m4", "--labels", "normal,fault"})
                  .exitCode, 0);
    ASSERT_TRUE(QDir().mkpath(path("rec")));
    writeRecordings(path("rec"), "normal", 50, false, 5);
    writeRecordings(path("rec"), "fault", 15, true, 6);
    CliRun r = tinymlRun({"import", proj, path("rec"), "--format", "csv", "--rate", "100"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    // A 200-frame (2 s) spectral window: the impulse's default stride is window / 4 = 50 frames,
    // so 3600 x 100 / 50 = 7200 windows per hour.
    r = tinymlRun({"features", proj, "--block", "spectral", "--set", "sampleRateHz=100", "--set", "windowFrames=200"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    // The FPR budget: alarms per hour reported at the chosen threshold.
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--max-fpr", "0.1", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject j = r.json();
    const QJsonObject stream = j["stream"].toObject();
    EXPECT_DOUBLE_EQ(stream["windows_per_hour"].toDouble(), 7200.0) << r.out.toStdString();
    EXPECT_TRUE(stream["basis"].toString().contains("stride 50 frames")) << stream["basis"].toString().toStdString();
    EXPECT_TRUE(stream["rule"].toString().contains("one alarm")) << stream["rule"].toString().toStdString();
    const int testNormal = j["test_normal"].toInt();
    ASSERT_GE(testNormal, 8);
    EXPECT_DOUBLE_EQ(j["false_alarms_per_hour"].toDouble(), j["fpr"].toDouble() * 7200.0);
    EXPECT_TRUE(j["max_false_alarms_per_hour"].isNull());

    // The budget per hour: the rate budget is X / 7200; with N normal test samples the threshold
    // leaves floor(X / 7200 x N) of them above it.
    const double budget = 7200.0 * 2.5 / testNormal;   // 2.5 samples' worth: 2 may be above
    r = tinymlRun({"train", proj, "--model", "gmm", "--normal", "normal", "--false-alarms-per-hour",
                   QString::number(budget, 'g', 10), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    j = r.json();
    EXPECT_DOUBLE_EQ(j["max_false_alarms_per_hour"].toDouble(), budget);
    EXPECT_LE(j["false_alarms_per_hour"].toDouble(), budget + 1e-9);
    EXPECT_DOUBLE_EQ(j["fpr"].toDouble(), 2.0 / testNormal) << r.out.toStdString();
    EXPECT_TRUE(j["threshold_rule"].toString().contains("false alarms/hour<=")) << j["threshold_rule"].toString().toStdString();
    const qint64 modelId = j["model_id"].toInteger();

    // Human output says how the number was computed.
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--false-alarms-per-hour", "0"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains("False alarms per hour of normal stream: 0 = FPR x")) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("7200 windows per hour")) << r.out.toStdString();

    // The stored model carries the operating point; the project's stride changes the rate.
    QString error;
    {
        auto store = tinyml::ProjectStore::open(proj, &error);
        ASSERT_TRUE(store) << error.toStdString();
        bool found = false;
        for (const tinyml::StoredModel &m : store->models())
            if (m.id == modelId) {
                found = true;
                EXPECT_DOUBLE_EQ(m.metrics["windows_per_hour"].toDouble(), 7200.0);
                EXPECT_DOUBLE_EQ(m.metrics["false_alarms_per_hour"].toDouble(), 2.0 / testNormal * 7200.0);
            }
        EXPECT_TRUE(found);
        tinyml::ProjectSettings settings = store->settings();
        settings.extra.insert("impulse", QJsonObject{{"stride_frames", 200}});
        ASSERT_TRUE(store->setSettings(settings, &error)) << error.toStdString();
    }
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    j = r.json();
    EXPECT_DOUBLE_EQ(j["stream"].toObject()["windows_per_hour"].toDouble(), 1800.0);
    EXPECT_TRUE(j["stream"].toObject()["basis"].toString().contains("the project's impulse stride"));

    // One budget at a time.
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--max-fpr", "0.1",
                   "--false-alarms-per-hour", "5"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("--max-fpr and --false-alarms-per-hour")) << r.err.toStdString();
    for (const char *bad : {"-1", "nan", "inf", "x"}) {
        r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--false-alarms-per-hour", bad});
        EXPECT_EQ(r.exitCode, 2) << bad;
        EXPECT_TRUE(r.err.contains("--false-alarms-per-hour must be")) << r.err.toStdString();
    }
}

TEST_F(AnomalyCli, ATableHasNoStreamSoNoAlarmsPerHour)
{
    const QString proj = project("table", tableCsv(100, 30, 7));
    CliRun r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    EXPECT_TRUE(j["false_alarms_per_hour"].isNull());
    EXPECT_TRUE(j["stream"].toObject().contains("none"));
    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "normal", "--false-alarms-per-hour", "1"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("needs the windows per hour of a continuous stream")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("windowFrames 0")) << r.err.toStdString();
}
