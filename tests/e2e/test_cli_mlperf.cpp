// Issue 14: `tinyml mlperf` runs the MLPerf Tiny runner's procedure against the agent on the
// virtual Cortex-M4 with the KWS reference model: five performance windows of at least 10 s on
// the DUT's clock, and top-1 on a data set labelled by the host's own int8 predictions (so the
// device must agree with the host on every file).
#include "CliRunner.h"
#include "../core/device/DeviceTestSupport.h"

#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include <QDir>
#include <QEventLoop>
#include <QTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace tinyml::e2e;

// The pty DUT of CliMlperfPort needs a Qt event loop in this process.
static ::testing::Environment *const kQtEnvironment =
    ::testing::AddGlobalTestEnvironment(new tinyml::test::QtApplicationEnvironment);

namespace {

/// The KWS reference model from $TINYML_MLPERF_TINY_DIR or ../shared/mlperf-tiny beside the
/// repository; empty (and a plain message) when absent: the model is test data kept outside.
QString kwsModel()
{
    const QString env = qEnvironmentVariable("TINYML_MLPERF_TINY_DIR");
    const QString dir = env.isEmpty() ? QStringLiteral(TINYML_MLPERF_TINY_DIR) : env;
    const QString path = dir + QStringLiteral("/kws_ref_model.tflite");
    if (!QFileInfo::exists(path)) {
        std::fprintf(stderr, "MLPerf Tiny reference model not found: %s (expected the mlperf-tiny folder beside the "
                             "repository, ../shared/mlperf-tiny, or TINYML_MLPERF_TINY_DIR)\n",
                     path.toLocal8Bit().constData());
        return {};
    }
    return path;
}

class CliMlperf : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        // Boards of this test, apart from the user's and other tests' virtual boards.
        qputenv("TINYML_VIRTUAL_BOARDS_DIR", m_dir.filePath(QStringLiteral("boards")).toLocal8Bit());
        m_model = kwsModel();
        if (m_model.isEmpty())
            GTEST_SKIP() << "the KWS reference model is absent";
        m_project = m_dir.filePath(QStringLiteral("kws.tinyml"));
        CliRun r = tinymlRun({QStringLiteral("new"), m_project, QStringLiteral("--template"), QStringLiteral("audio"),
                              QStringLiteral("--board"), QStringLiteral("qemu-m4")});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        r = tinymlRun({QStringLiteral("import-model"), m_project, m_model});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }

    /// count random int8 MFCC tensors, each labelled with the host int8 executor's argmax.
    QString makeDataset(int count)
    {
        QString error;
        auto store = tinyml::ProjectStore::open(m_project, &error);
        EXPECT_TRUE(store) << error.toStdString();
        if (!store)
            return {};
        auto stored = store->latestModel(tinyml::ModelKind::Int8, &error);
        EXPECT_TRUE(stored) << error.toStdString();
        auto graph = tinyml::model::Graph::deserialize(stored->graph, &error);
        EXPECT_TRUE(graph) << error.toStdString();
        tinyml::model::Int8Executor exec;
        EXPECT_TRUE(exec.prepare(*graph, &error)) << error.toStdString();
        const QString dir = m_dir.filePath(QStringLiteral("kws01"));
        QDir().mkpath(dir);
        QRandomGenerator rng(14);
        QByteArray labels;
        QVector<int> seen(12, 0);
        for (int i = 0; i < count; ++i) {
            // Each file its own level and spread (MFCC frames vary that way), so the model
            // answers more than one or two classes.
            QVector<qint8> input(490);
            const int level = int(rng.bounded(256)) - 128;
            const int spread = int(rng.bounded(129));
            for (qint8 &v : input)
                v = qint8(std::clamp(level + int(rng.bounded(2 * spread + 1)) - spread, -128, 127));
            auto out = exec.run(input, &error);
            EXPECT_TRUE(out) << error.toStdString();
            if (!out)
                return {};
            const int cls = int(std::max_element(out->begin(), out->end()) - out->begin());
            ++seen[cls];
            const QString name = QStringLiteral("tst_%1.bin").arg(i, 6, 10, QLatin1Char('0'));
            writeFile(dir + QLatin1Char('/') + name, QByteArray(reinterpret_cast<const char *>(input.constData()), 490));
            labels += name.toUtf8() + ", 12, " + QByteArray::number(cls) + "\n";
        }
        writeFile(dir + QStringLiteral("/y_labels.csv"), labels);
        m_classesSeen = int(std::count_if(seen.begin(), seen.end(), [](int n) { return n > 0; }));
        return dir;
    }

    QTemporaryDir m_dir;
    QString m_model;
    QString m_project;
    int m_classesSeen = 0;
};

} // namespace

TEST_F(CliMlperf, PerformanceFiveWindowsOfTenSeconds)
{
    const CliRun r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                                QStringLiteral("--mode"), QStringLiteral("performance"), QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject o = r.json();
    EXPECT_EQ(o["mode"].toString(), QStringLiteral("performance"));
    EXPECT_EQ(o["dut"].toString(), QStringLiteral("qemu-m4"));
    EXPECT_EQ(o["benchmark"].toString(), QStringLiteral("kws01")); // from the model's name
    EXPECT_DOUBLE_EQ(o["min_window_s"].toDouble(), 10.0);
    const QJsonArray windows = o["windows"].toArray();
    ASSERT_EQ(windows.size(), 5) << r.out.toStdString();
    QVector<double> throughputs;
    for (const auto &v : windows) {
        const QJsonObject w = v.toObject();
        const double n = w["inferences"].toDouble();
        const double us = w["elapsed_us"].toDouble();
        EXPECT_GE(n, 10.0);                 // never fewer than the runner's kws01 script
        EXPECT_GE(us, 10e6);                // each window at least 10 s on the DUT's clock
        EXPECT_EQ(w["warmups"].toInt(), 1);
        EXPECT_NEAR(w["throughput"].toDouble(), n / (us / 1e6), 1e-9);
        throughputs << w["throughput"].toDouble();
    }
    std::sort(throughputs.begin(), throughputs.end());
    EXPECT_DOUBLE_EQ(o["median_throughput"].toDouble(), throughputs[2]);
    EXPECT_GT(o["median_throughput"].toDouble(), 0.0);
    EXPECT_NEAR(o["latency_ms"].toDouble(), 1000.0 / throughputs[2], 1e-9);
    std::fprintf(stderr, "KWS on qemu-m4: median %.3f inf./s, %.3f ms per inference (DUT clock)\n",
                 throughputs[2], 1000.0 / throughputs[2]);
}

TEST_F(CliMlperf, AccuracyMatchesTheHostOnEveryFile)
{
    const QString dataset = makeDataset(24);
    ASSERT_FALSE(dataset.isEmpty());
    // Several classes, so that a DUT answering one class for everything cannot pass.
    EXPECT_GE(m_classesSeen, 3);
    const CliRun r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                                QStringLiteral("--mode"), QStringLiteral("accuracy"), QStringLiteral("--dataset"), dataset,
                                QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject o = r.json();
    EXPECT_EQ(o["file_count"].toInt(), 24);
    EXPECT_EQ(o["correct"].toInt(), 24);
    EXPECT_DOUBLE_EQ(o["top1"].toDouble(), 1.0);
    const QJsonArray files = o["files"].toArray();
    ASSERT_EQ(files.size(), 24);
    for (const auto &v : files) {
        const QJsonObject f = v.toObject();
        EXPECT_EQ(f["predicted"].toInt(), f["class"].toInt()) << f["file"].toString().toStdString();
        EXPECT_EQ(f["results"].toArray().size(), 12);
        EXPECT_EQ(f["inferences"].toInt(), 1);
    }

    // The same command in text form.
    const CliRun text = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                                   QStringLiteral("--mode"), QStringLiteral("accuracy"), QStringLiteral("--dataset"), dataset});
    ASSERT_EQ(text.exitCode, 0) << text.err.toStdString();
    EXPECT_TRUE(text.out.contains(QStringLiteral("Top-1 accuracy 100.00 % (24 of 24 files)"))) << text.out.toStdString();
}

TEST_F(CliMlperf, BadDatasetsAndUsage)
{
    const QString dir = m_dir.filePath(QStringLiteral("bad"));
    QDir().mkpath(dir);
    writeFile(dir + QStringLiteral("/a.bin"), QByteArray(490, 0));
    writeFile(dir + QStringLiteral("/y_labels.csv"), "a.bin, 12, 0\nmissing.bin, 12, 3\n");
    CliRun r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                          QStringLiteral("--mode"), QStringLiteral("accuracy"), QStringLiteral("--dataset"), dir});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("y_labels.csv:2: file: 'missing.bin' does not exist"))) << r.err.toStdString();

    writeFile(dir + QStringLiteral("/y_labels.csv"), "a.bin, 12, 12\n");
    r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                   QStringLiteral("--mode"), QStringLiteral("accuracy"), QStringLiteral("--dataset"), dir});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("y_labels.csv:1: class:"))) << r.err.toStdString();

    writeFile(dir + QStringLiteral("/a.bin"), QByteArray(100, 0));
    writeFile(dir + QStringLiteral("/y_labels.csv"), "a.bin, 12, 1\n");
    r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                   QStringLiteral("--mode"), QStringLiteral("accuracy"), QStringLiteral("--dataset"), dir});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("'a.bin' has 100 bytes, but the model's input has 490 bytes"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                   QStringLiteral("--mode"), QStringLiteral("accuracy")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains(QStringLiteral("needs --dataset"))) << r.err.toStdString();
    r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                   QStringLiteral("--mode"), QStringLiteral("energy")});
    EXPECT_EQ(r.exitCode, 2);
    r = tinymlRun({QStringLiteral("mlperf"), m_project, QStringLiteral("--mode"), QStringLiteral("performance")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains(QStringLiteral("--board or --port"))) << r.err.toStdString();
}

// --- a third party's DUT on --port -----------------------------------------------------------

namespace {

/// A third-party anomaly DUT (ad01-like) on a pty: one output, the mean loaded byte / 255,
/// printed in the infer reply; 1 ms per inference on its clock.
class ThirdPartyAnomalyDut
{
public:
    explicit ThirdPartyAnomalyDut(tinyml::test::PtyDevice &pty) : m_pty(pty)
    {
        pty.onReceived = [this](const QByteArray &b) {
            for (char c : b) {
                if (c == '\0') {
                    m_cmd.clear();
                } else if (c == '%') {
                    handle(m_cmd);
                    m_cmd.clear();
                } else {
                    m_cmd += c;
                }
            }
        };
    }
    int loads = 0;

private:
    void say(const QByteArray &line) { m_pty.write(line + "\r\n"); }
    void handle(const QByteArray &cmd)
    {
        if (cmd == "name") {
            say("m-name-dut-[vendor-ad-dut]");
        } else if (cmd == "profile") {
            say("m-profile-[vendor-1.2]");
            say("m-model-[ad01]");
        } else if (cmd.startsWith("db load ")) {
            m_expected = cmd.mid(8).toInt();
            m_loaded.clear();
            ++loads;
            say("m-load-done");
        } else if (cmd.startsWith("db ")) {
            m_loaded += QByteArray::fromHex(cmd.mid(3));
            if (m_loaded.size() >= m_expected)
                say("m-load-done");
        } else if (cmd.startsWith("infer ")) {
            const QList<QByteArray> parts = cmd.split(' ');
            m_clockUs += parts.value(2).toLongLong() * 1000;
            say("m-lap-us-" + QByteArray::number(m_clockUs));
            m_clockUs += parts.value(1).toLongLong() * 1000;
            say("m-lap-us-" + QByteArray::number(m_clockUs));
            double sum = 0;
            for (char ch : m_loaded)
                sum += quint8(ch);
            const double score = m_loaded.isEmpty() ? 0.0 : sum / m_loaded.size() / 255.0;
            say("m-results-[" + QByteArray::number(score, 'f', 6) + "]");
            say("m-infer-done");
        } else {
            say("e-[unknown command " + cmd + "]");
        }
        say("m-ready");
    }
    tinyml::test::PtyDevice &m_pty;
    QByteArray m_cmd;
    QByteArray m_loaded;
    int m_expected = 0;
    qint64 m_clockUs = 0;
};

/// Runs tinyml while this process keeps serving the pty DUT.
CliRun tinymlRunServing(const QStringList &args)
{
    QProcess p;
    QEventLoop loop;
    QObject::connect(&p, &QProcess::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(120000, &loop, &QEventLoop::quit);
    p.start(QStringLiteral(TINYML_CLI), args);
    loop.exec();
    if (p.state() != QProcess::NotRunning) {
        p.kill();
        p.waitForFinished();
    }
    CliRun r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

TEST(CliMlperfPort, ThirdPartyAnomalyDutPerformanceAndAuc)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString project = dir.filePath(QStringLiteral("ad.tinyml"));
    CliRun r = tinymlRun({QStringLiteral("new"), project, QStringLiteral("--template"), QStringLiteral("vibration")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    // ad01 rows: 40-byte files cut into 16-byte windows 8 apart (4 windows each).
    const QString data = dir.filePath(QStringLiteral("ad01"));
    QDir().mkpath(data);
    QByteArray labels;
    for (int i = 0; i < 6; ++i) {
        const bool anomaly = i % 2 == 1;
        QByteArray bytes(40, 0);
        for (int k = 0; k < bytes.size(); ++k)
            bytes[k] = char(anomaly ? 150 + (k * 7 + i) % 100 : (k * 5 + i) % 60);
        const QString name = QStringLiteral("f%1.bin").arg(i);
        writeFile(data + QLatin1Char('/') + name, bytes);
        labels += name.toUtf8() + ",2," + (anomaly ? "1" : "0") + ",16,8\n";
    }
    writeFile(data + QStringLiteral("/y_labels.csv"), labels);

    tinyml::test::PtyDevice pty;
    ASSERT_TRUE(pty.isValid());
    ThirdPartyAnomalyDut dut(pty);
    r = tinymlRunServing({QStringLiteral("mlperf"), project, QStringLiteral("--port"), pty.slavePath(),
                          QStringLiteral("--mode"), QStringLiteral("accuracy"), QStringLiteral("--dataset"), data,
                          QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject o = r.json();
    EXPECT_EQ(o["dut"].toString(), QStringLiteral("vendor-ad-dut"));
    EXPECT_EQ(o["benchmark"].toString(), QStringLiteral("ad01"));
    EXPECT_EQ(o["results_source"].toString(), QStringLiteral("infer reply"));
    EXPECT_EQ(o["file_count"].toInt(), 6);
    EXPECT_DOUBLE_EQ(o["auc"].toDouble(), 1.0) << r.out.toStdString();
    // The official runner's average reads a high score as class 0 (normal): for scores that
    // separate the classes the other way round it is near 0.
    ASSERT_TRUE(o.contains("auc_runner_average")) << r.out.toStdString();
    EXPECT_LT(o["auc_runner_average"].toDouble(), 0.05) << r.out.toStdString();
    EXPECT_FALSE(o.contains("top1"));
    for (const auto &v : o["files"].toArray())
        EXPECT_EQ(v.toObject()["inferences"].toInt(), 4);
    EXPECT_EQ(dut.loads, 24);

    r = tinymlRunServing({QStringLiteral("mlperf"), project, QStringLiteral("--port"), pty.slavePath(),
                          QStringLiteral("--mode"), QStringLiteral("performance"), QStringLiteral("--dataset"), data,
                          QStringLiteral("--min-window-s"), QStringLiteral("0.2"), QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    o = r.json();
    ASSERT_EQ(o["windows"].toArray().size(), 5);
    for (const auto &v : o["windows"].toArray()) {
        EXPECT_EQ(v.toObject()["inferences"].toInt(), 210); // 0.2 s / 1 ms + 5 %
        EXPECT_DOUBLE_EQ(v.toObject()["throughput"].toDouble(), 1000.0);
    }
    EXPECT_DOUBLE_EQ(o["median_throughput"].toDouble(), 1000.0);

    // A performance run without a data set needs the model's input size.
    r = tinymlRun({QStringLiteral("mlperf"), project, QStringLiteral("--port"), pty.slavePath(),
                   QStringLiteral("--mode"), QStringLiteral("performance")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("give --dataset"))) << r.err.toStdString();
}
