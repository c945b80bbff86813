// Issue 13 acceptance: the whole impulse (DSP + int8 model + post-processing) running
// continuously on the virtual Cortex-M4, through the CLI as a user runs it:
//  (1) motion: a 5-minute accelerometer script with 50 gesture events, model trained on
//      captured windows -> event recall >= 0.95, false activations per hour reported;
//  (2) audio: a keyword model trained on espeak-ng clips, a 2-minute replayed WAV with 20
//      keywords at known times over background noise -> recall and false activations reported;
//  (3) in both, the device's decisions equal the host replay's in every window.
// Plus the bad-input cases: wrong rate / channel count of a replay, a truth file with
// overlapping or unknown labels, a package whose DSP block the agent lacks.
#include "CliRunner.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>

using namespace tinyml::e2e;

namespace {

/// A motion project with captured gestures, trained and quantized (built once per suite).
class MotionImpulse : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        tmp = new QTemporaryDir;
        // The virtual board keeps its flash file under XDG_DATA_HOME: keep this run's apart.
        qputenv("XDG_DATA_HOME", tmp->filePath("xdg").toUtf8());
        proj = tmp->filePath("motion.tinyml");
        ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4", "--labels",
                             "idle,shake,circle,updown"}).exitCode, 0);
        for (const char *g : {"idle", "shake", "circle", "updown"}) {
            CliRun r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", g, "--scenario", g,
                                  "--seconds", "2", "--count", "12", "--json"});
            ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        }
        CliRun r = tinymlRun({"train", proj, "--epochs", "30", "--seed", "3", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        r = tinymlRun({"quantize", proj, "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }
    static void TearDownTestSuite()
    {
        delete tmp;
        tmp = nullptr;
    }
    static QTemporaryDir *tmp;
    static QString proj;
};
QTemporaryDir *MotionImpulse::tmp = nullptr;
QString MotionImpulse::proj;

/// 50 gestures of 3 s between 3 s of idle: exactly 300 s.
QByteArray motionScript()
{
    QByteArray s = "# 5-minute gesture test: 50 events\n";
    const char *gestures[] = {"shake", "circle", "updown"};
    for (int i = 0; i < 50; ++i) {
        s += "idle 3\n";
        s += QByteArray(gestures[i % 3]) + " 3\n";
    }
    return s;
}

void expectStreamReport(const QJsonObject &j)
{
    for (const char *key : {"windows", "decisions", "event_recall", "false_activations_per_hour", "detection_delay_ms",
                            "stage_counter", "counter", "overruns", "host_replay_equal_windows", "windows_compared",
                            "duty_cycle", "battery_life_days_estimated"})
        EXPECT_TRUE(j.contains(QLatin1String(key))) << "missing key " << key;
    EXPECT_EQ(j["counter"].toString(), "instructions");
    const QJsonObject stages = j["stage_counter"].toObject();
    for (const char *key : {"dsp", "model", "post"})
        EXPECT_GT(stages[QLatin1String(key)].toDouble(), 0.0) << key;
    EXPECT_GT(j["duty_cycle"].toDouble(), 0.0);
    EXPECT_LT(j["duty_cycle"].toDouble(), 1.0);
    EXPECT_GT(j["battery_life_days_estimated"].toDouble(), 0.0);
    EXPECT_TRUE(j["simulated"].toBool());
    // (3): every window the device computed, recomputed on the host, equal bit for bit.
    EXPECT_GT(j["windows"].toInt(), 0);
    EXPECT_EQ(j["windows_compared"].toInt(), j["windows"].toInt()) << j["host_replay_note"].toString().toStdString();
    EXPECT_EQ(j["host_replay_equal_windows"].toInt(), j["windows_compared"].toInt());
}

} // namespace

TEST_F(MotionImpulse, FiveMinuteScriptIsDetectedOnTheDeviceAndEqualsTheHostReplayAndBadInputIsRefused)
{
    const QString script = tmp->filePath("gestures.script");
    writeFile(script, motionScript());
    CliRun r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--script", script, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    expectStreamReport(j);
    EXPECT_EQ(j["events"].toInt(), 50);
    const double recall = j["event_recall"].toObject()["overall"].toDouble();
    EXPECT_GE(recall, 0.95);
    EXPECT_TRUE(j["false_activations_per_hour"].isDouble());
    EXPECT_EQ(j["overruns"].toInt(), 0);
    // 300 s, 2 s windows every 0.5 s.
    EXPECT_EQ(j["windows"].toInt(), 1 + (30000 - 200) / 50);
    const QJsonObject perClass = j["event_recall"].toObject()["per_class"].toObject();
    for (const char *g : {"shake", "circle", "updown"})
        EXPECT_TRUE(perClass.contains(QLatin1String(g))) << g;
    std::printf("motion stream: recall %.3f, false activations/h %.2f, delay median %.0f ms, duty %.4f %%\n", recall,
                j["false_activations_per_hour"].toDouble(), j["detection_delay_ms"].toObject()["median"].toDouble(),
                100 * j["duty_cycle"].toDouble());

    // A project sample replayed through the sensor as if live: sample 13 is the first "shake".
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--replay", "sample:13", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json()["source"].toString().contains("sample:13")) << r.out.toStdString();
    EXPECT_EQ(r.json()["windows"].toInt(), 1);
    EXPECT_EQ(r.json()["host_replay_equal_windows"].toInt(), 1);

    // Bad input, on the same project (ctest runs every test in its own process: one set-up).
    // A replay at the wrong rate: 50 Hz where the impulse runs at 100 Hz.
    QByteArray csv = "timestamp,x,y,z\n";
    for (int i = 0; i < 400; ++i)
        csv += QByteArray::number(i * 20) + ",0.1,0.2,9.8\n";
    const QString slow = tmp->filePath("slow.csv");
    writeFile(slow, csv);
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--replay", slow});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("slow.csv") && r.err.contains("rate")) << r.err.toStdString();

    // Two channels where the accelerometer has three.
    QByteArray two = "timestamp,x,y\n";
    for (int i = 0; i < 400; ++i)
        two += QByteArray::number(i * 10) + ",0.1,0.2\n";
    const QString stereo = tmp->filePath("two.csv");
    writeFile(stereo, two);
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--replay", stereo});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("two.csv") && r.err.contains("channels")) << r.err.toStdString();

    // Truth files: overlapping events name both lines; a label the model does not know is refused.
    const QString overlap = tmp->filePath("overlap.csv");
    writeFile(overlap, "start_s,end_s,label\n1,3,shake\n2.5,4,circle\n");
    const QString shortScript = tmp->filePath("short.script");
    writeFile(shortScript, "idle 3\nshake 3\n");
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--script", shortScript, "--truth", overlap});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("overlap.csv") && r.err.contains(":3")) << r.err.toStdString();
    const QString unknown = tmp->filePath("unknown.csv");
    writeFile(unknown, "start_s,end_s,label\n1,3,jump\n");
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--script", shortScript, "--truth", unknown});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("unknown.csv") && r.err.contains("label") && r.err.contains("jump")) << r.err.toStdString();

    // A script naming a scenario the sensor does not have.
    const QString badScript = tmp->filePath("bad.script");
    writeFile(badScript, "idle 2\njump 2\n");
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--script", badScript});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("bad.script") && r.err.contains(":2")) << r.err.toStdString();

    // Nothing saved was lost: the project still has its models and samples.
    r = tinymlRun({"info", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.json()["samples"].toInt(), 48);
}

// (2) Keyword spotting: 1 s clips spoken by espeak-ng (tests/e2e/audio/make_keyword_data.sh),
// an MFCC + CNN model, and a 2-minute stream with 20 keywords replayed through the virtual
// board's microphone. Calibration on the host replay of the same stream saves an operating point.
TEST(KeywordImpulse, ReplayedStreamIsClassifiedOnTheDeviceAndCalibratedOnTheHost)
{
    QTemporaryDir tmp;
    qputenv("XDG_DATA_HOME", tmp.filePath("xdg").toUtf8());
    const QString data = tmp.filePath("audio");
    QProcess make;
    make.start(QStringLiteral("bash"), {QStringLiteral(TINYML_SOURCE_DIR "/tests/e2e/audio/make_keyword_data.sh"), data,
                                        QStringLiteral("1")});
    ASSERT_TRUE(make.waitForFinished(300000));
    ASSERT_EQ(make.exitCode(), 0) << make.readAllStandardError().toStdString()
                                  << " (espeak-ng and sox come with installers/debian-deps.sh)";

    const QString proj = tmp.filePath("kws.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "audio", "--board", "qemu-m4", "--labels", "yes,no,go,noise"}).exitCode, 0);
    CliRun r = tinymlRun({"import", proj, data + "/train", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"train", proj, "--epochs", "40", "--seed", "1", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    std::printf("keyword model: float test accuracy %.3f\n", r.json()["float_accuracy"].toDouble());
    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--replay", data + "/stream.wav", "--truth",
                   data + "/stream_truth.csv", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    expectStreamReport(j);
    EXPECT_EQ(j["events"].toInt(), 20);
    EXPECT_TRUE(j["event_recall"].toObject()["overall"].isDouble());
    EXPECT_TRUE(j["false_activations_per_hour"].isDouble());
    EXPECT_EQ(j["overruns"].toInt(), 0);
    // 120 s of 16 kHz audio, 1 s windows every 500 ms (the audio default stride, half a window).
    EXPECT_EQ(j["windows"].toInt(), 1 + (120 * 16000 - 16000) / 8000);
    std::printf("keyword stream: recall %.3f, false activations/h %.2f, duty %.3f %%\n",
                j["event_recall"].toObject()["overall"].toDouble(), j["false_activations_per_hour"].toDouble(),
                100 * j["duty_cycle"].toDouble());

    r = tinymlRun({"calibrate", proj, "--recording", data + "/stream.wav", "--truth", data + "/stream_truth.csv",
                   "--max-far-per-hour", "30", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject c = r.json();
    const QJsonObject op = c["operating_point"].toObject();
    for (const char *key : {"threshold", "average_windows", "suppression_ms", "false_activations_per_hour",
                            "false_rejection_rate"})
        EXPECT_TRUE(op.contains(QLatin1String(key))) << key;
    EXPECT_FALSE(c["curve"].toArray().isEmpty());
    EXPECT_TRUE(c["saved"].toBool());
    // The next classification carries the saved operating point; its decisions still equal the host's.
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--replay", data + "/stream.wav", "--truth",
                   data + "/stream_truth.csv", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    expectStreamReport(r.json());
    EXPECT_LE(1.0 - r.json()["event_recall"].toObject()["overall"].toDouble(),
              op["false_rejection_rate"].toDouble() + 1e-9)
        << "the device at the saved operating point misses no more events than calibration predicted";

    // A replay at the wrong rate names the file and the field.
    QProcess sox;
    sox.start(QStringLiteral("sox"), {data + "/stream.wav", "-r", "8000", tmp.filePath("slow.wav")});
    ASSERT_TRUE(sox.waitForFinished(60000));
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--replay", tmp.filePath("slow.wav")});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("slow.wav") && r.err.contains("rate") && r.err.contains("16000")) << r.err.toStdString();
}
