// Issue 17, drift telemetry end to end: a trained tabular model on the QEMU Cortex-M4 virtual
// board, reached by the CLI through its pty (`--port`) like a real board (QEMU holds only the
// pty master; the host agent keeps its slave open, so the CLI would refuse its port as in use).
// The test split pushed with SET_INPUT/INVOKE gives a small PSI against the training split
// (`tinyml telemetry --port`); the same rows shifted by three training standard deviations on
// every feature give PSI > 0.25, flagged. The device-side means the command reports are
// checked against the int8 values the test pushed, computed here independently.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"
#include "fleet/Drift.h"
#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QTemporaryDir>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

/// Rows "f0..f3,label"; label l has its mean on feature l.
QByteArray tableCsv()
{
    std::mt19937_64 rng(23);
    std::normal_distribution<double> g(0, 0.3);
    QByteArray csv = "f0,f1,f2,f3,label\n";
    const char *labels[] = {"idle", "walk", "run"};
    for (int l = 0; l < 3; ++l)
        for (int i = 0; i < 100; ++i) {
            for (int f = 0; f < 4; ++f)
                csv += QByteArray::number((f == l ? 2.0 : 0.0) + g(rng), 'f', 4) + ',';
            csv += labels[l];
            csv += '\n';
        }
    return csv;
}

QCoreApplication *app()
{
    if (!QCoreApplication::instance()) {
        static int argc = 1;
        static char name[] = "test_e2e_telemetry";
        static char *argv[] = {name, nullptr};
        static QCoreApplication a(argc, argv);
    }
    return QCoreApplication::instance();
}

/// Opens the board's pty, pushes every row with SET_INPUT/INVOKE, closes it again (the CLI
/// opens the same pty next).
void pushRows(AgentLink *link, const QVector<QByteArray> &rows)
{
    QString error;
    ASSERT_TRUE(link->open(&error) && link->handshake(10, 500, &error)) << error.toStdString();
    for (const QByteArray &row : rows) {
        ASSERT_TRUE(link->setInput(row, &error)) << error.toStdString();
        ASSERT_TRUE(link->invoke(5000, &error)) << error.toStdString();
    }
    link->close();
}

} // namespace

TEST(TelemetryCli, TestSplitShowsNoDriftShiftedInputsAreFlagged)
{
    app();
    QTemporaryDir tmp;
    ASSERT_TRUE(tmp.isValid());
    const QString project = tmp.filePath("drift.tinyml");
    ASSERT_EQ(tinymlRun({"new", project, "--template", "tabular"}).exitCode, 0);
    writeFile(tmp.filePath("t.csv"), tableCsv());
    CliRun r = tinymlRun({"import", project, tmp.filePath("t.csv"), "--format", "csv-table"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"train", project, "--model", "mlp", "--epochs", "20", "--seed", "3"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", project, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const qint64 modelId = r.json()["model_id"].toInteger();
    ASSERT_GT(modelId, 0) << r.out.toStdString();

    // the test split and the training statistics, as the model takes them
    QString error;
    std::optional<deploy::fleet::ModelInputs> test;
    std::optional<deploy::fleet::DriftReference> ref;
    {
        auto store = ProjectStore::open(project, &error);
        ASSERT_TRUE(store) << error.toStdString();
        test = deploy::fleet::modelInputs(*store, modelId, Split::Test, &error);
        ASSERT_TRUE(test) << error.toStdString();
        ref = deploy::fleet::driftReference(*store, modelId, 1, &error);
        ASSERT_TRUE(ref) << error.toStdString();
    }
    ASSERT_GE(test->inputs.size(), 30);
    ASSERT_EQ(ref->inputCount, 4);
    ASSERT_EQ(ref->rows + test->inputs.size(), 300);

    // the virtual board, reached through its pty like a real board
    BoardRegistry registry;
    ASSERT_TRUE(registry.loadDefault(&error)) << error.toStdString();
    ASSERT_TRUE(registry.board(QStringLiteral("qemu-m4")));
    VirtualBoard::Options options;
    options.stateDirectory = tmp.filePath("board");
    VirtualBoard board(*registry.board(QStringLiteral("qemu-m4")), options);
    ASSERT_TRUE(board.start(&error)) << error.toStdString();
    AgentLink *link = board.link();
    const QString port = link->portName();
    link->close();

    r = tinymlRun({"flash", project, "--port", port, "--model", QString::number(modelId)});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    // 1. the test split: no drift
    pushRows(link, test->inputs);
    r = tinymlRun({"telemetry", project, "--port", port, "--model", QString::number(modelId), "--json", "--reset"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject j = r.json();
    EXPECT_EQ(j["source"].toString(), "invoke");
    EXPECT_EQ(j["windows"].toInteger(), test->inputs.size());
    EXPECT_LT(j["psi"].toDouble(), 0.1) << r.out.toStdString();
    std::printf("test split: %lld windows, class PSI %.4f, max feature PSI %.4f\n", j["windows"].toInteger(),
                j["class_psi"].toDouble(), j["max_feature_psi"].toDouble());
    EXPECT_EQ(j["level"].toString(), "none");
    EXPECT_FALSE(j["significant"].toBool());
    EXPECT_DOUBLE_EQ(j["psi"].toDouble(), std::max(j["class_psi"].toDouble(), j["max_feature_psi"].toDouble()));
    const QJsonArray classes = j["classes"].toArray();
    ASSERT_EQ(classes.size(), 3);
    for (int c = 0; c < 3; ++c)
        EXPECT_DOUBLE_EQ(classes[c].toObject()["train_share"].toDouble(), ref->classShare[c]);

    // the reset read left nothing
    r = tinymlRun({"telemetry", project, "--port", port, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["windows"].toInteger(), 0);
    EXPECT_EQ(r.json()["level"].toString(), "no data");

    // 2. every feature three training standard deviations higher: significant drift
    QVector<QByteArray> shifted;
    QVector<double> pushedSum(4, 0.0);
    for (const QByteArray &row : test->inputs) {
        QByteArray s = row;
        for (int k = 0; k < 4; ++k) {
            const int v = qBound(-128, int(qint8(row[k])) + int(std::lround(3.0 * ref->std[k])), 127);
            s[k] = char(qint8(v));
            pushedSum[k] += v;
        }
        shifted << s;
    }
    pushRows(link, shifted);
    r = tinymlRun({"telemetry", project, "--port", port, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    j = r.json();
    EXPECT_EQ(j["windows"].toInteger(), shifted.size());
    EXPECT_GT(j["psi"].toDouble(), 0.25) << r.out.toStdString();
    std::printf("shifted: class PSI %.4f, max feature PSI %.4f, mean %.4f\n", j["class_psi"].toDouble(),
                j["max_feature_psi"].toDouble(), j["mean_feature_psi"].toDouble());
    EXPECT_GT(j["mean_feature_psi"].toDouble(), 0.25) << r.out.toStdString();
    EXPECT_EQ(j["level"].toString(), "significant");
    EXPECT_TRUE(j["significant"].toBool());
    const QJsonArray features = j["features"].toArray();
    ASSERT_EQ(features.size(), 4);
    for (int k = 0; k < 4; ++k) {
        const QJsonObject f = features[k].toObject();
        EXPECT_DOUBLE_EQ(f["device_mean"].toDouble(), pushedSum[k] / shifted.size()) << k;
        EXPECT_NEAR(f["train_mean"].toDouble(), ref->mean[k], 1e-12);
        EXPECT_GT(f["psi"].toDouble(), 0.25) << k;
    }

    // the text form says so too
    r = tinymlRun({"telemetry", project, "--port", port});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains("significant (flagged)")) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("INVOKE windows: " + QString::number(shifted.size()))) << r.out.toStdString();
}
