// The pipeline through the CLI: data -> train -> quantize -> export, on a table CSV data set
// and on motion data captured from the virtual Cortex-M4 (issue acceptance: a test accuracy
// a practitioner accepts, int8 within 1 percentage point of float).
#include "CliRunner.h"

#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <cmath>

using namespace tinyml::e2e;

namespace {

int sumMatrix(const QJsonArray &m)
{
    int n = 0;
    for (const auto &row : m)
        for (const auto &v : row.toArray())
            n += v.toInt();
    return n;
}

void expectTrainedAndQuantized(const QString &proj, double minAccuracy)
{
    CliRun r = tinymlRun({"train", proj, "--epochs", "40", "--seed", "7", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject t = r.json();
    const double floatAcc = t["float_accuracy"].toDouble();
    EXPECT_GE(floatAcc, minAccuracy);
    const QJsonObject test = t["test"].toObject();
    const int testSamples = test["samples"].toInt();
    EXPECT_GT(testSamples, 0);
    EXPECT_EQ(sumMatrix(test["confusion_matrix"].toArray()), testSamples);
    EXPECT_EQ(test["per_class"].toArray().size(), test["labels"].toArray().size());

    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject q = r.json();
    EXPECT_DOUBLE_EQ(q["float_accuracy"].toDouble(), floatAcc);
    EXPECT_LE(std::abs(q["float_accuracy"].toDouble() - q["int8_accuracy"].toDouble()), 0.01 + 1e-9)
        << "int8 must stay within 1 percentage point of float";
    EXPECT_FALSE(q["layers"].toArray().isEmpty());
}

} // namespace

TEST(Pipeline, TableCsvTrainsAndQuantizes)
{
    QTemporaryDir tmp;
    const QString proj = tmp.filePath("table.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "tabular"}).exitCode, 0);
    // Three overlapping Gaussian classes in 6-D, written by the test.
    QRandomGenerator rng(1234);
    QByteArray csv = "a,b,c,d,e,f,label\n";
    for (int i = 0; i < 900; ++i) {
        const int k = i % 3;
        for (int f = 0; f < 6; ++f) {
            const double u1 = std::max(rng.generateDouble(), 1e-12), u2 = rng.generateDouble();
            const double gauss = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
            const double centre = (f % 3 == k) ? 2.0 : 0.0;
            csv += QByteArray::number(centre + gauss, 'g', 9) + ",";
        }
        csv += QByteArray("class") + char('A' + k) + "\n";
    }
    writeFile(tmp.filePath("rows.csv"), csv);
    ASSERT_EQ(tinymlRun({"import", proj, tmp.filePath("rows.csv"), "--format", "csv-table"}).exitCode, 0);
    // Bayes accuracy of these blobs is about 0.95; a practitioner accepts 0.85+.
    expectTrainedAndQuantized(proj, 0.85);

    CliRun r = tinymlRun({"export", proj, "--onnx", tmp.filePath("m.onnx"), "--int8"});
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(QFile::exists(tmp.filePath("m.onnx")));
}

TEST(Pipeline, MotionCapturedFromTheVirtualBoardTrainsAndQuantizes)
{
    QTemporaryDir tmp;
    const QString proj = tmp.filePath("motion.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
    for (const char *g : {"idle", "shake", "circle", "updown"}) {
        CliRun r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", g, "--scenario", g,
                              "--seconds", "2", "--count", "15", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        ASSERT_EQ(r.json()["frames_lost"].toInt(), 0);
    }
    CliRun r = tinymlRun({"features", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    expectTrainedAndQuantized(proj, 0.9);
}

// Issue 6 acceptance on the virtual Cortex-M4: capture -> train -> quantize -> profile
// through the CLI. The device answers exactly as the host int8 reference: same accuracy,
// every output bit-exact.
TEST(Pipeline, MotionProfiledOnTheVirtualBoardMatchesTheHostBitForBit)
{
    QTemporaryDir tmp;
    // The virtual board keeps its flash file under XDG_DATA_HOME: keep this run's apart.
    qputenv("XDG_DATA_HOME", tmp.filePath("xdg").toUtf8());
    const QString proj = tmp.filePath("motion.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
    for (const char *g : {"idle", "shake", "circle", "updown"}) {
        CliRun r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", g, "--scenario", g,
                              "--seconds", "2", "--count", "10", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }
    CliRun r = tinymlRun({"train", proj, "--epochs", "30", "--seed", "3", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const double quantizeInt8 = r.json()["int8_accuracy"].toDouble();

    r = tinymlRun({"profile", proj, "--board", "qemu-m4", "--runs", "10", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject p = r.json();
    for (const char *key : {"board", "clock_hz", "counter", "latency_ms", "layers", "macs", "arena_bytes",
                            "arena_lower_bound_bytes", "flash_bytes", "energy_uj", "energy_estimated",
                            "energy_source", "device_accuracy", "host_int8_accuracy", "bitexact_outputs",
                            "outputs_compared"})
        EXPECT_TRUE(p.contains(QLatin1String(key))) << "missing key " << key;
    EXPECT_EQ(p["board"].toString(), "qemu-m4");
    EXPECT_EQ(p["counter"].toString(), "instructions");
    EXPECT_EQ(p["clock_hz"].toDouble(), 25e6);
    const QJsonObject latency = p["latency_ms"].toObject();
    EXPECT_GT(latency["min"].toDouble(), 0.0);
    EXPECT_LE(latency["min"].toDouble(), latency["median"].toDouble());
    EXPECT_LE(latency["median"].toDouble(), latency["max"].toDouble());
    const QJsonArray layers = p["layers"].toArray();
    ASSERT_FALSE(layers.isEmpty());
    qint64 macs = 0;
    for (const auto &v : layers) {
        const QJsonObject l = v.toObject();
        for (const char *key : {"name", "op", "macs", "counter"})
            EXPECT_TRUE(l.contains(QLatin1String(key))) << "layer without " << key;
        EXPECT_GT(l["counter"].toDouble(), 0.0) << l["name"].toString().toStdString();
        macs += qint64(l["macs"].toDouble());
    }
    EXPECT_EQ(qint64(p["macs"].toDouble()), macs);
    EXPECT_GE(p["arena_bytes"].toDouble(), p["arena_lower_bound_bytes"].toDouble());
    EXPECT_GT(p["flash_bytes"].toDouble(), p["package_bytes"].toDouble());
    EXPECT_TRUE(p["energy_estimated"].toBool());
    EXPECT_FALSE(p["energy_source"].toString().isEmpty());
    EXPECT_GT(p["energy_uj"].toDouble(), 0.0);

    const int compared = p["outputs_compared"].toInt();
    EXPECT_GT(compared, 0);
    EXPECT_EQ(p["bitexact_outputs"].toInt(), compared) << "every device output must equal the host int8 reference";
    EXPECT_DOUBLE_EQ(p["device_accuracy"].toDouble(), p["host_int8_accuracy"].toDouble());
    EXPECT_NEAR(p["host_int8_accuracy"].toDouble(), quantizeInt8, 1.0 / compared + 1e-9)
        << "the profiler's host reference should agree with `tinyml quantize`";

    // The profile is in the project; a second profile finds the model already flashed.
    r = tinymlRun({"profile", proj, "--board", "qemu-m4", "--runs", "3", "--no-accuracy"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_FALSE(r.err.contains(QStringLiteral("Flashing"))) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("instructions"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("Stored as profile 2"))) << r.out.toStdString();

    r = tinymlRun({"flash", proj, "--board", "qemu-m4", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_FALSE(r.json()["uploaded"].toBool()) << "the board already runs this package";
}
