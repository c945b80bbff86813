// `tinyml train --model kmeans|gmm|autoencoder --normal ...` end to end on a table CSV (issue 16):
// import through the CLI, train each model on the normal label only, read the JSON contract and
// the stored model; bad input gives one clear line naming the label or option. No QEMU needed.
#include <gtest/gtest.h>

#include "CliRunner.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

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
    for (const char *model : {"kmeans", "gmm", "autoencoder"}) {
        SCOPED_TRACE(model);
        QStringList args{"train", proj, "--model", model, "--normal", "normal", "--seed", "3", "--json"};
        if (QByteArray(model) == "autoencoder")
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
        EXPECT_EQ(j["clusters"].isNull(), QByteArray(model) == "autoencoder");
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
    r = tinymlRun({"train", proj, "--model", "autoencoder", "--normal", "normal", "--clusters", "3"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("--clusters")) << r.err.toStdString();
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
