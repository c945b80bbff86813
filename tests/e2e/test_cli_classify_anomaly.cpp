// Issue 16: a classifier and an anomaly model deployed together, through the CLI on the virtual
// Cortex-M4 (qemu-m4). A motion project captured from the virtual accelerometer: a classifier
// over all gestures and a k-means anomaly model trained on "idle" only, both quantized; then
// `tinyml classify --anomaly-model` runs both on every window of a scenario script. Every window
// carries the class and the anomaly score, and the device's class outputs, decisions, anomaly
// scores and alarms equal the host replay's bit for bit. Bad input: a classifier given as the
// anomaly model, an anomaly model given as the classifier.
#include "CliRunner.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace tinyml::e2e;

TEST(ClassifyWithAnomaly, ClassAndAnomalyScorePerWindowOnQemuEqualTheHostReplay)
{
    QTemporaryDir tmp;
    qputenv("XDG_DATA_HOME", tmp.filePath("xdg").toUtf8());   // this run's own flash file
    const QString proj = tmp.filePath("motion.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion", "--board", "qemu-m4", "--labels",
                         "idle,shake,circle"}).exitCode, 0);
    for (const char *g : {"idle", "shake", "circle"}) {
        CliRun r = tinymlRun({"capture", proj, "--board", "qemu-m4", "--label", g, "--scenario", g, "--seconds", "2",
                              "--count", "10", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }
    CliRun r = tinymlRun({"train", proj, "--epochs", "25", "--seed", "3", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const qint64 classifier = qint64(r.json()["model_id"].toDouble());
    ASSERT_GT(classifier, 0) << r.out.toStdString();

    r = tinymlRun({"train", proj, "--model", "kmeans", "--normal", "idle", "--seed", "3", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    ASSERT_EQ(r.json()["task"].toString(), "anomaly") << r.out.toStdString();
    const qint64 anomaly = qint64(r.json()["model_id"].toDouble());
    ASSERT_GT(anomaly, classifier);

    const QString script = tmp.filePath("mixed.script");
    writeFile(script, "idle 4\nshake 3\nidle 3\ncircle 3\nidle 3\n");
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--model", QString::number(classifier), "--anomaly-model",
                   QString::number(anomaly), "--script", script, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    const int windows = j["windows"].toInt();
    ASSERT_GT(windows, 0);
    EXPECT_EQ(j["windows_compared"].toInt(), windows) << j["host_replay_note"].toString().toStdString();
    EXPECT_EQ(j["host_replay_equal_windows"].toInt(), windows) << "class and anomaly score must equal the host replay";
    const QJsonObject a = j["anomaly"].toObject();
    EXPECT_EQ(qint64(a["model_id"].toDouble()), anomaly);
    EXPECT_TRUE(a["threshold"].isDouble());
    const QJsonArray per = j["per_window"].toArray();
    ASSERT_EQ(per.size(), windows);
    int alarms = 0, classified = 0;
    for (const QJsonValue &v : per) {
        const QJsonObject w = v.toObject();
        for (const char *key : {"window_end", "t_s", "top_class", "label", "score", "anomaly_score_q", "anomaly_score", "alarm"})
            EXPECT_TRUE(w.contains(QLatin1String(key))) << key;
        alarms += w["alarm"].toBool() ? 1 : 0;
        classified += w["label"].isString() ? 1 : 0;
        EXPECT_EQ(w["alarm"].toBool(), w["anomaly_score"].toDouble() > a["threshold"].toDouble());
    }
    EXPECT_EQ(a["alarm_windows"].toInt(), alarms);
    // How many windows alarm depends on a k-means model fitted to a handful of captured idle
    // windows (one run alarmed on all, another on none): model quality is issue 16's machine
    // tests' business; this test pins deployment — device equal to the host replay.
    EXPECT_GT(classified, 0);

    // A captured idle sample and a captured shake sample replayed through the sensor as if live:
    // one window each, equal to the host replay (class and score), the alarm flag the score
    // against the threshold.
    for (const char *label : {"idle", "shake"}) {
        SCOPED_TRACE(label);
        r = tinymlRun({"samples", proj, "list", "--label", label, "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        const qint64 id = qint64(r.json()["samples"].toArray().first().toObject()["id"].toDouble());
        r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--model", QString::number(classifier), "--anomaly-model",
                       QString::number(anomaly), "--replay", QStringLiteral("sample:%1").arg(id), "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        const QJsonObject s = r.json();
        ASSERT_EQ(s["per_window"].toArray().size(), 1);
        const QJsonObject w = s["per_window"].toArray().first().toObject();
        EXPECT_EQ(s["host_replay_equal_windows"].toInt(), 1);
        EXPECT_EQ(w["alarm"].toBool(), w["anomaly_score"].toDouble() > a["threshold"].toDouble());
    }
    std::printf("classifier %lld + anomaly %lld on qemu-m4: %d windows, %d in alarm, %d classified, all equal to the "
                "host replay: %s\n", static_cast<long long>(classifier), static_cast<long long>(anomaly), windows, alarms,
                classified, j["host_replay_equal_windows"].toInt() == windows ? "yes" : "no");

    // Text report with --with-anomaly (the newest int8 anomaly model): one line per window.
    writeFile(script, "idle 2\nshake 2\n");
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--model", QString::number(classifier), "--with-anomaly",
                   "--script", script});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("anomaly model %1 beside the classifier").arg(anomaly))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("per window: end time, class, anomaly score")) << r.out.toStdString();

    // Bad input: a classifier as the second model; an anomaly model as the classifier.
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--model", QString::number(classifier), "--anomaly-model",
                   QString::number(classifier), "--script", script});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains(QStringLiteral("model %1 is not an anomaly model").arg(classifier))) << r.err.toStdString();
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--model", QString::number(anomaly), "--anomaly-model",
                   QString::number(anomaly), "--script", script});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains(QStringLiteral("model %1 is an anomaly model").arg(anomaly))) << r.err.toStdString();
    r = tinymlRun({"classify", proj, "--board", "qemu-m4", "--anomaly-model", "3", "--with-anomaly", "--script", script});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("at most one of --anomaly-model and --with-anomaly")) << r.err.toStdString();
}
