// The `tinyml` CLI contract (issue: spine): new, info --json, import of every format,
// export-data round trip. Expected values are written by the test itself.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "store/ProjectStore.h"

#include <QCborMap>
#include <QCborArray>
#include <QCborValue>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

// A 16-bit PCM mono WAV with the given samples, written field by field.
QByteArray wav16(const QVector<qint16> &samples, quint32 rate)
{
    QByteArray b;
    auto u32 = [&](quint32 v) { for (int i = 0; i < 4; ++i) b.append(char((v >> (8 * i)) & 0xFF)); };
    auto u16 = [&](quint16 v) { b.append(char(v & 0xFF)); b.append(char(v >> 8)); };
    b.append("RIFF");
    u32(36 + 2 * samples.size());
    b.append("WAVEfmt ");
    u32(16); u16(1); u16(1); u32(rate); u32(rate * 2); u16(2); u16(16);
    b.append("data");
    u32(2 * samples.size());
    for (qint16 s : samples)
        u16(quint16(s));
    return b;
}

class Cli : public ::testing::Test {
protected:
    // Virtual boards under this test's folder: a board has one user at a time, and other
    // tests start the same board ids in parallel.
    Cli() { qputenv("XDG_DATA_HOME", tmp.filePath(QStringLiteral("xdg")).toUtf8()); }
    QTemporaryDir tmp;
    QString path(const QString &name) const { return tmp.filePath(name); }
};

} // namespace

TEST_F(Cli, NewThenInfoJsonDescribesAnEmptyProject)
{
    const QString proj = path("demo.tinyml");
    CliRun r = tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4", "--labels", "idle,shake"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"info", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject j = r.json();
    EXPECT_EQ(j["template"].toString(), "motion");
    EXPECT_EQ(j["board"].toString(), "qemu-m4");
    EXPECT_EQ(j["labels"].toArray().size(), 2);
    EXPECT_EQ(j["samples"].toInt(), 0);

    // A second `new` on the same file must refuse and keep the project.
    r = tinymlRun({"new", proj, "--template", "audio"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_FALSE(r.err.isEmpty());
    EXPECT_EQ(tinymlRun({"info", proj, "--json"}).json()["template"].toString(), "motion");
}

TEST_F(Cli, UsageErrorsExitNonZeroWithOneLine)
{
    EXPECT_EQ(tinymlRun({"frobnicate"}).exitCode, 2);
    CliRun r = tinymlRun({"new", path("x.tinyml"), "--template", "video"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("video"));
    r = tinymlRun({"info", path("missing.tinyml")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("missing.tinyml")) << r.err.toStdString();
}

TEST_F(Cli, ImportsEveryFormatAndCountsPerLabelAndSplit)
{
    // Each format into a project it fits (issue 18 item 7: a motion project refuses WAV and
    // images): time series into motion, WAV into audio, images into image.
    const QString proj = path("all.tinyml");
    const QString audio = path("audio.tinyml");
    const QString images = path("images.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    ASSERT_EQ(tinymlRun({"new", audio, "--template", "audio"}).exitCode, 0);
    ASSERT_EQ(tinymlRun({"new", images, "--template", "image"}).exitCode, 0);
    QDir().mkpath(path("in/images/cat"));
    QDir().mkpath(path("in/images/dog"));
    QDir().mkpath(path("wav"));

    // time-series CSV, label from the file-name prefix
    for (int k = 0; k < 5; ++k) {
        QByteArray csv = "timestamp,accX,accY,accZ\n";
        for (int i = 0; i < 50; ++i)
            csv += QByteArray::number(i * 10) + "," + QByteArray::number(0.5 * i + k) + ",-1.25," + QByteArray::number(9.81) + "\n";
        writeFile(path(QString("in/wave.%1.csv").arg(k)), csv);
    }
    // WAV
    writeFile(path("wav/tone.1.wav"), wav16({0, 16384, -16384, 32767, -32768}, 16000));
    // Edge Impulse JSON, unsigned
    QJsonArray sensors;
    for (const char *axis : {"x", "y", "z"})
        sensors.append(QJsonObject{{"name", axis}, {"units", "m/s2"}});
    QJsonObject payload{{"device_type", "TEST"}, {"interval_ms", 10},
                        {"sensors", sensors},
                        {"values", QJsonArray{QJsonArray{1.0, 0.0, 9.8}, QJsonArray{2.0, 0.0, 9.8}, QJsonArray{3.0, 0.0, 9.8}}}};
    QJsonObject ei{{"protected", QJsonObject{{"ver", "v1"}, {"alg", "none"}}},
                   {"signature", QString(64, '0')}, {"payload", payload}};
    writeFile(path("in/updown.ei.json"), QJsonDocument(ei).toJson());
    // Edge Impulse CBOR, with its own values: the same data twice is skipped as a duplicate
    // (issue 18, item 8)
    QJsonObject circlePayload = payload;
    circlePayload["values"] = QJsonArray{QJsonArray{0.0, 1.0, 9.8}, QJsonArray{0.0, 2.0, 9.8}, QJsonArray{0.0, 3.0, 9.8}};
    QJsonObject circle = ei;
    circle["payload"] = circlePayload;
    writeFile(path("in/circle.ei.cbor"), QCborValue::fromJsonValue(circle).toCbor());
    // images
    for (const char *lab : {"cat", "dog"}) {
        QImage img(8, 6, QImage::Format_RGB888);
        img.fill(QColor(lab[0] == 'c' ? 200 : 20, 100, 50));
        ASSERT_TRUE(img.save(path(QString("in/images/%1/a.png").arg(lab))));
    }

    CliRun r = tinymlRun({"import", proj, path("in/wave.0.csv"), path("in/wave.1.csv"), path("in/wave.2.csv"),
                          path("in/wave.3.csv"), path("in/wave.4.csv"), path("in/updown.ei.json"),
                          path("in/circle.ei.cbor"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["imported"].toInt(), 5 + 1 + 1);
    r = tinymlRun({"import", audio, path("wav"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["imported"].toInt(), 1);
    r = tinymlRun({"import", images, path("in/images"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["imported"].toInt(), 2);

    QJsonObject info = tinymlRun({"info", proj, "--json"}).json();
    EXPECT_EQ(info["samples"].toInt(), 7);
    QJsonObject per = info["per_label"].toObject();
    EXPECT_EQ(per["wave"].toObject()["total"].toInt(), 5);
    EXPECT_EQ(per["updown"].toObject()["total"].toInt(), 1);
    EXPECT_EQ(per["circle"].toObject()["total"].toInt(), 1);
    // stratified 80/20 of five "wave" samples: one test sample
    EXPECT_EQ(per["wave"].toObject()["test"].toInt(), 1);
    EXPECT_EQ(info["splits"].toObject()["train"].toInt() + info["splits"].toObject()["test"].toInt(), 7);
    EXPECT_EQ(tinymlRun({"info", audio, "--json"}).json()["per_label"].toObject()["tone"].toObject()["total"].toInt(), 1);
    EXPECT_EQ(tinymlRun({"info", images, "--json"}).json()["per_label"].toObject()["cat"].toObject()["total"].toInt(), 1);

    // WAV values as PCM / 32768, computed here independently.
    QString error;
    auto store = ProjectStore::open(audio, &error);
    ASSERT_TRUE(store) << error.toStdString();
    bool sawWav = false;
    for (const Sample &s : store->samples()) {
        if (s.label != "tone")
            continue;
        sawWav = true;
        EXPECT_DOUBLE_EQ(s.sampleRateHz, 16000.0);
        QVector<float> v = s.data.toFloats();
        ASSERT_EQ(v.size(), 5);
        EXPECT_FLOAT_EQ(v[1], 0.5f);
        EXPECT_FLOAT_EQ(v[2], -0.5f);
        EXPECT_FLOAT_EQ(v[3], 32767.0f / 32768.0f);
        EXPECT_FLOAT_EQ(v[4], -1.0f);
    }
    EXPECT_TRUE(sawWav);
}

TEST_F(Cli, BadFileIsReportedWithLineAndGoodFilesAreKept)
{
    const QString proj = path("bad.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    QDir().mkpath(path("in"));
    writeFile(path("in/ok.1.csv"), "timestamp,x,y,z\n0,1,0,9\n10,2,0,9\n20,3,0,9\n");
    writeFile(path("in/broken.1.csv"), "timestamp,x,y,z\n0,1,0,9\n10,zz,0,9\n20,3,0,9\n");
    CliRun r = tinymlRun({"import", proj, path("in/ok.1.csv"), path("in/broken.1.csv")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("broken.1.csv")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("3")) << "line number expected: " << r.err.toStdString();
    EXPECT_EQ(tinymlRun({"info", proj, "--json"}).json()["samples"].toInt(), 1);
}

TEST_F(Cli, LargeTableCsvImportsEveryRow)
{
    const QString proj = path("table.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "tabular"}).exitCode, 0);
    QByteArray csv = "f0,f1,f2,f3,f4,f5,f6,f7,label\n";
    for (int i = 0; i < 4000; ++i) {
        for (int f = 0; f < 8; ++f)
            csv += QByteArray::number(std::sin(i * 0.01 + f), 'g', 9) + ",";
        csv += (i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c");
        csv += "\n";
    }
    writeFile(path("rows.csv"), csv);
    CliRun r = tinymlRun({"import", proj, path("rows.csv"), "--format", "csv-table", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject info = tinymlRun({"info", proj, "--json"}).json();
    EXPECT_EQ(info["samples"].toInt(), 4000);
    EXPECT_EQ(info["per_label"].toObject()["a"].toObject()["total"].toInt(), 1334);
    // 80/20 stratified, per label
    EXPECT_NEAR(info["per_label"].toObject()["b"].toObject()["test"].toInt(), 1333 * 0.2, 1.0);
}

TEST_F(Cli, ExportThenImportGivesTheSameSamplesBitExact)
{
    const QString src = path("src.tinyml");
    ASSERT_EQ(tinymlRun({"new", src, "--template", "motion"}).exitCode, 0);
    {
        QString error;
        auto store = ProjectStore::open(src, &error);
        ASSERT_TRUE(store) << error.toStdString();
        QVector<Sample> samples;
        const float tricky[] = {0.1f, -0.0f, 1e-30f, 3.4e38f, -2.5f, 1.0f / 3.0f};
        for (int k = 0; k < 3; ++k) {
            Sample s;
            s.label = k == 2 ? "idle" : "shake";
            s.split = k == 1 ? Split::Test : Split::Train;
            s.sampleRateHz = 100;
            s.channels = {"accX", "accY", "accZ"};
            s.units = {"m/s2", "m/s2", "m/s2"};
            QVector<float> v;
            for (int i = 0; i < 40 * 3; ++i)
                v << tricky[(i + k) % 6] / float(1 + i % 7);
            s.data = Tensor::fromFloats(v, {40, 3});
            samples << s;
        }
        ASSERT_TRUE(store->addSamples(samples, &error)) << error.toStdString();
    }
    for (const char *format : {"csv", "ei-json", "ei-cbor"}) {
        SCOPED_TRACE(format);
        const QString dir = path(QString("out-%1").arg(format));
        CliRun r = tinymlRun({"export-data", src, dir, "--format", format});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        const QString dst = path(QString("dst-%1.tinyml").arg(format));
        ASSERT_EQ(tinymlRun({"new", dst, "--template", "motion"}).exitCode, 0);
        r = tinymlRun({"import", dst, dir, "--split", "train"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

        QString error;
        auto a = ProjectStore::open(src, &error);
        auto b = ProjectStore::open(dst, &error);
        ASSERT_TRUE(a && b) << error.toStdString();
        QVector<Sample> sa = a->samples(), sb = b->samples();
        ASSERT_EQ(sa.size(), sb.size());
        auto key = [](const Sample &s) { return s.label + s.checksum; };
        std::sort(sa.begin(), sa.end(), [&](auto &x, auto &y) { return key(x) < key(y); });
        std::sort(sb.begin(), sb.end(), [&](auto &x, auto &y) { return key(x) < key(y); });
        for (int i = 0; i < sa.size(); ++i) {
            EXPECT_EQ(sa[i].label, sb[i].label);
            EXPECT_EQ(sa[i].data.shape, sb[i].data.shape);
            EXPECT_EQ(sa[i].data.bytes, sb[i].data.bytes) << "values must be bit-exact";
            EXPECT_EQ(sa[i].checksum, sb[i].checksum);
            EXPECT_DOUBLE_EQ(sa[i].sampleRateHz, sb[i].sampleRateHz);
            EXPECT_EQ(sa[i].channels, sb[i].channels);
        }
    }
}

// Issue acceptance: 5 s of 3-axis data at 100 Hz from the QEMU board, zero lost frames.
TEST_F(Cli, CaptureFromTheVirtualBoardStoresFiveSecondsAt100Hz)
{
    const QString proj = path("demo.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
    CliRun r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--sensor", "accel", "--label", "shake",
                          "--scenario", "shake", "--seconds", "5", "--rate", "100", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    QJsonObject j = r.json();
    EXPECT_EQ(j["frames_received"].toInt(), 500);
    EXPECT_EQ(j["frames_lost"].toInt(), 0);
    EXPECT_GT(j["bytes"].toInt(), 500 * 3 * 2);
    ASSERT_EQ(j["sample_ids"].toArray().size(), 1);

    QString error;
    auto store = ProjectStore::open(proj, &error);
    ASSERT_TRUE(store) << error.toStdString();
    auto s = store->sample(j["sample_ids"].toArray()[0].toInteger());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->label, "shake");
    EXPECT_TRUE(s->complete);
    EXPECT_EQ(s->data.shape, (QVector<qint64>{500, 3}));
    EXPECT_DOUBLE_EQ(s->sampleRateHz, 100.0);
    // A shaking board: x swings well beyond the noise floor; z keeps gravity on average.
    QVector<float> v = s->data.toFloats();
    double zMean = 0, xMin = 1e9, xMax = -1e9;
    for (int i = 0; i < 500; ++i) {
        xMin = std::min<double>(xMin, v[3 * i]);
        xMax = std::max<double>(xMax, v[3 * i]);
        zMean += v[3 * i + 2] / 500.0;
    }
    EXPECT_GT(xMax - xMin, 5.0);
    EXPECT_NEAR(zMean, 9.81, 1.5);

    // Three consecutive idle samples from one stream.
    r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", "idle", "--scenario", "idle",
                   "--seconds", "1", "--count", "3", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["sample_ids"].toArray().size(), 3);
    QJsonObject info = tinymlRun({"info", proj, "--json"}).json();
    EXPECT_EQ(info["per_label"].toObject()["idle"].toObject()["total"].toInt(), 3);
}

TEST_F(Cli, CaptureRefusesUnknownBoardsAndRealBoardsWithoutAPort)
{
    const QString proj = path("x.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj}).exitCode, 0);
    CliRun r = tinymlRun({"capture", proj, "--board", "no-such-board", "--label", "a", "--seconds", "1"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("no-such-board")) << r.err.toStdString();
    r = tinymlRun({"capture", proj, "--board", "rpi-pico", "--label", "a", "--seconds", "1"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("--port")) << r.err.toStdString();
    r = tinymlRun({"capture", proj, "--port", "/dev/does-not-exist", "--label", "a", "--seconds", "1"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("/dev/does-not-exist")) << r.err.toStdString();
    EXPECT_EQ(tinymlRun({"info", proj, "--json"}).json()["samples"].toInt(), 0);
}

// `tinyml features --block/--set`: the feature block changes headless, keys and values are
// checked, and a refused change leaves the stored parameters as they were.
TEST_F(Cli, FeaturesBlockAndSetChangeTheProjectsFeatureBlock)
{
    const QString proj = path("f.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4", "--labels", "idle,shake"}).exitCode, 0);
    CliRun r = tinymlRun({"features", proj, "--block", "mfcc", "--set", "nCoeffs=13", "--set", "frameLength=256",
                          "--set", "frameStride=128", "--set", "windowFrames=400", "--set", "sampleRateHz=100",
                          "--set", "highHz=50", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonObject params = r.json()["params"].toObject();
    EXPECT_EQ(params["block"].toString(), "mfcc");
    EXPECT_EQ(params["mfcc"].toObject()["nCoeffs"].toInt(), 13);
    EXPECT_EQ(params["mfcc"].toObject()["frameLength"].toInt(), 256);

    // An unknown key names the block's keys; a bad value names the field; neither changes anything.
    r = tinymlRun({"features", proj, "--set", "nCoefs=3"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("no parameter \"nCoefs\"")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("nCoeffs")) << r.err.toStdString();
    r = tinymlRun({"features", proj, "--set", "nCoeffs=many"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("mfcc.nCoeffs")) << r.err.toStdString();
    r = tinymlRun({"features", proj, "--block", "fft"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("unknown block")) << r.err.toStdString();
    r = tinymlRun({"features", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    params = r.json()["params"].toObject();
    EXPECT_EQ(params["block"].toString(), "mfcc");
    EXPECT_EQ(params["mfcc"].toObject()["nCoeffs"].toInt(), 13);

    // Back to spectral: the new block starts from its project defaults (2 s at 100 Hz).
    r = tinymlRun({"features", proj, "--block", "spectral", "--set", "nBands=6", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    params = r.json()["params"].toObject();
    EXPECT_EQ(params["spectral"].toObject()["nBands"].toInt(), 6);
    EXPECT_EQ(params["spectral"].toObject()["windowFrames"].toInt(), 200);
}

// Issue 18 item 1: stopping `tinyml capture` on the QEMU board (Ctrl+C, SIGTERM, kill -9)
// never leaves qemu-system-arm running without its owner, and the sample being recorded
// ends finished as incomplete (after kill -9: at the next open of the project).
#ifdef Q_OS_LINUX
#include "store/ProjectStore.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QStandardPaths>
#include <QThread>

#include <csignal>

namespace {

struct EmulatorProcess {
    qint64 pid = 0;
    qint64 ppid = 0;
};

// qemu-system-arm processes whose working directory is stateDir, i.e. the virtual board of
// this test's own XDG_DATA_HOME: other tests and CI runs use QEMU at the same time.
QVector<EmulatorProcess> emulatorsIn(const QString &stateDir)
{
    QVector<EmulatorProcess> found;
    const QString wanted = QFileInfo(stateDir).canonicalFilePath();
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool isPid = false;
        const qint64 pid = entry.toLongLong(&isPid);
        if (!isPid)
            continue;
        QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
        if (!comm.open(QIODevice::ReadOnly) || comm.readAll().trimmed() != "qemu-system-arm")
            continue;
        if (QFileInfo(QStringLiteral("/proc/%1/cwd").arg(pid)).canonicalFilePath() != wanted || wanted.isEmpty())
            continue; // another owner's, or already gone (a zombie has no cwd)
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        EmulatorProcess p{pid, 0};
        if (stat.open(QIODevice::ReadOnly)) {
            const QByteArray s = stat.readAll();
            const QList<QByteArray> fields = s.mid(s.lastIndexOf(')') + 2).split(' ');
            if (fields.size() > 1)
                p.ppid = fields[1].toLongLong();
        }
        found << p;
    }
    return found;
}

} // namespace

TEST_F(Cli, StoppingCaptureTakesTheEmulatorAlongAndClosesTheSample)
{
    if (QStandardPaths::findExecutable(QStringLiteral("qemu-system-arm")).isEmpty())
        GTEST_SKIP() << "qemu-system-arm is not installed";
    const QString proj = path("stop.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
    const QString xdg = path("xdg");
    const QString stateDir = xdg + QStringLiteral("/tinyml-workbench/virtual-boards/qemu-m4");

    struct Round {
        int signal;
        int exitCode; // -1: killed, no exit code
    };
    int round = 0;
    for (const Round &r : {Round{SIGINT, 130}, Round{SIGTERM, 143}, Round{SIGKILL, -1}}) {
        SCOPED_TRACE(::testing::Message() << "signal " << r.signal);
        ++round;
        QProcess capture;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), xdg);
        capture.setProcessEnvironment(env);
        capture.start(QStringLiteral(TINYML_CLI),
                      {"capture", proj, "--board", "qemu-m4", "--label", "x", "--scenario", "shake",
                       "--seconds", "60", "--realtime"});
        ASSERT_TRUE(capture.waitForStarted(10000));

        // Frames of this round's sample are in the project (read-only: no repair, no writes).
        qint64 frames = 0;
        QElapsedTimer clock;
        clock.start();
        while (frames == 0 && clock.elapsed() < 60000 && capture.state() == QProcess::Running) {
            capture.waitForFinished(200);
            QString error;
            if (auto store = ProjectStore::openReadOnly(proj, &error)) {
                const auto infos = store->sampleInfos();
                if (infos.size() == round)
                    frames = infos.last().frames;
            }
        }
        ASSERT_GT(frames, 0) << capture.readAllStandardError().toStdString();
        ASSERT_EQ(emulatorsIn(stateDir).size(), 1) << "the capture runs its own QEMU in " << stateDir.toStdString();

        ::kill(pid_t(capture.processId()), r.signal);
        const bool ended = capture.waitForFinished(30000);
        const QString err = QString::fromUtf8(capture.readAllStandardError());
        if (!ended)
            capture.kill();
        ASSERT_TRUE(ended) << err.toStdString();
        if (r.exitCode >= 0) {
            EXPECT_EQ(capture.exitStatus(), QProcess::NormalExit) << err.toStdString();
            EXPECT_EQ(capture.exitCode(), r.exitCode) << err.toStdString();
            EXPECT_TRUE(err.contains(QStringLiteral("marked incomplete"))) << err.toStdString();
        } else {
            EXPECT_EQ(capture.exitStatus(), QProcess::CrashExit);
        }

        // No emulator of ours survives, whoever its parent (PPID 1 = orphaned).
        QVector<EmulatorProcess> left = emulatorsIn(stateDir);
        for (clock.restart(); !left.isEmpty() && clock.elapsed() < 5000; left = emulatorsIn(stateDir))
            QThread::msleep(100);
        for (const EmulatorProcess &p : left) {
            ADD_FAILURE() << "qemu-system-arm " << p.pid << " (parent " << p.ppid << ") outlived tinyml";
            ::kill(pid_t(p.pid), SIGKILL); // ours (its cwd is our state folder): do not leak it
        }

        // The sample is finished as incomplete; after kill -9 the next open finishes it.
        QString error;
        auto store = ProjectStore::open(proj, &error);
        ASSERT_TRUE(store) << error.toStdString();
        const auto infos = store->sampleInfos();
        ASSERT_EQ(infos.size(), round);
        EXPECT_FALSE(infos.last().complete);
        EXPECT_GE(infos.last().frames, frames);
        EXPECT_FALSE(infos.last().checksum.isEmpty()) << "the sample is still half-saved";
        auto s = store->sample(infos.last().id, &error);
        ASSERT_TRUE(s) << error.toStdString();
        EXPECT_EQ(s->frames(), infos.last().frames);
    }
}
#endif

// Issue 18, items 2 and 3: non-finite data is refused at import, hyper-parameters are checked
// with one-line usage errors (no abort), and batch size 1 trains.
TEST_F(Cli, NonFiniteDataAndBadHyperParametersAreRefusedBatchSizeOneTrains)
{
    const QString proj = path("hp.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "tabular", "--labels", "neg,pos"}).exitCode, 0);
    writeFile(path("nan.csv"), "f0,f1,label\n1,2,pos\n-1,nan,neg\n");
    CliRun r = tinymlRun({"import", proj, path("nan.csv"), "--format", "csv-table"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("nan.csv:3: column 2 'f1'") && r.err.contains("not a finite number"))
        << r.err.toStdString();
    EXPECT_EQ(tinymlRun({"info", proj, "--json"}).json()["samples"].toInt(), 0);

    QByteArray csv = "f0,f1,label\n";
    for (int i = 0; i < 40; ++i) {
        const double v = (i % 2 ? 1.0 : -1.0) * (1 + 0.05 * i);
        csv += QByteArray::number(v) + "," + QByteArray::number(std::cos(i)) + "," + (v > 0 ? "pos" : "neg") + "\n";
    }
    writeFile(path("rows.csv"), csv);
    ASSERT_EQ(tinymlRun({"import", proj, path("rows.csv"), "--format", "csv-table"}).exitCode, 0);

    const QList<QStringList> bad = {{"--learning-rate", "nan"}, {"--learning-rate", "inf"},
                                    {"--learning-rate", "1e308"}, {"--learning-rate", "0"},
                                    {"--threads", "10000"},      {"--epochs", "0"},
                                    {"--batch-size", "0"}};
    for (const QStringList &opt : bad) {
        r = tinymlRun(QStringList{"train", proj} + opt);
        EXPECT_EQ(r.exitCode, 2) << opt.join(' ').toStdString() << ": " << r.err.toStdString();
        // The usage error's first line names the option; no libtorch backtrace.
        EXPECT_TRUE(r.err.section('\n', 0, 0).contains(opt[0])) << r.err.toStdString();
        EXPECT_FALSE(r.err.contains("c10") || r.err.contains("terminate")) << r.err.toStdString();
    }

    r = tinymlRun({"train", proj, "--batch-size", "1", "--epochs", "3", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_GT(r.json()["float_accuracy"].toDouble(), 0.7) << r.out.toStdString();

    QString err;
    auto store = ProjectStore::open(proj, &err);
    ASSERT_TRUE(store) << err.toStdString();
    const QVector<TrainingRun> runs = store->trainingRuns();
    ASSERT_EQ(runs.size(), 1);   // refused options start no run
    EXPECT_EQ(runs[0].status, TrainingStatus::Finished);
}

// Issue 18, item 8: the command list keeps a gap after every name (`flash-firmware` ran into
// its summary), and --rate / --seconds refuse NaN and infinity before anything is stored.
TEST_F(Cli, HelpListsEveryCommandApartAndRatesMustBeFinite)
{
    CliRun r = tinymlRun({"--help"});
    ASSERT_EQ(r.exitCode, 0);
    int listed = 0;
    for (const QString &line : r.out.split(QLatin1Char('\n'))) {
        if (!line.startsWith(QLatin1String("  ")) || line.trimmed().isEmpty())
            continue;
        const QString body = line.mid(2);
        const int gap = body.indexOf(QLatin1String("  "));
        EXPECT_GT(gap, 0) << "no gap after the command name in: " << line.toStdString();
        ++listed;
    }
    EXPECT_GE(listed, 17);
    EXPECT_TRUE(r.out.contains("flash-firmware  ")) << r.out.toStdString();

    const QString proj = path("rates.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
    for (const char *bad : {"nan", "inf", "-inf", "0"}) {
        r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", "idle", "--seconds", "1", "--rate", bad});
        EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.err.toStdString();
        EXPECT_TRUE(r.err.contains("--rate")) << r.err.toStdString();
        r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", "idle", "--seconds", bad});
        EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.err.toStdString();
        const QString csv = path("a.csv");
        writeFile(csv, "x,y,z\n1,2,3\n4,5,6\n");
        r = tinymlRun({"import", proj, csv, "--label", "idle", "--rate", bad});
        EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.err.toStdString();
    }
    EXPECT_EQ(tinymlRun({"info", proj, "--json"}).json()["samples"].toInt(), 0);
}
