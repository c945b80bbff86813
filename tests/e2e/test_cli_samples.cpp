// Issue 18, items 6 and 7 through the real `tinyml`: read-only projects are read and say so,
// imports check samples against the project, incomplete and bad samples are shown apart,
// skipped by features and export, and `tinyml samples` lists, deletes and relabels them.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "store/ProjectStore.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>

#ifdef Q_OS_UNIX
#include <grp.h>
#include <unistd.h>
#endif

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

/// A 3-axis motion CSV at 100 Hz (timestamps in ms), 200 frames.
QByteArray motionCsv(int seed, int frames = 200)
{
    QByteArray b("timestamp,x,y,z\n");
    for (int t = 0; t < frames; ++t)
        b += QByteArray::number(t * 10) + ',' + QByteArray::number(std::sin(0.3 * t + seed), 'f', 4) + ',' +
             QByteArray::number(std::cos(0.2 * t * (seed + 1)), 'f', 4) + ',' + QByteArray::number(t % 7) + '\n';
    return b;
}

QByteArray wav16k(int frames)
{
    QByteArray b;
    auto u32 = [&](quint32 v) { for (int i = 0; i < 4; ++i) b.append(char((v >> (8 * i)) & 0xFF)); };
    auto u16 = [&](quint16 v) { b.append(char(v & 0xFF)); b.append(char(v >> 8)); };
    b.append("RIFF");
    u32(36 + 2 * frames);
    b.append("WAVEfmt ");
    u32(16); u16(1); u16(1); u32(16000); u32(32000); u16(2); u16(16);
    b.append("data");
    u32(2 * frames);
    for (int i = 0; i < frames; ++i)
        u16(quint16(qint16(1000 * std::sin(0.1 * i))));
    return b;
}

int countOf(const QString &text, const QString &needle)
{
    return int(text.count(needle));
}

class CliSamples : public ::testing::Test {
protected:
    QTemporaryDir tmp;
    QString path(const QString &name) const { return tmp.filePath(name); }

    /// A motion project with `good` samples imported from CSV.
    QString motionProject(const QString &name, int good)
    {
        const QString proj = path(name);
        EXPECT_EQ(tinymlRun({"new", proj, "--template", "motion", "--labels", "idle,shake"}).exitCode, 0);
        QStringList files;
        for (int i = 0; i < good; ++i) {
            const QString f = path(QStringLiteral("%1.%2.csv").arg(i % 2 ? "shake" : "idle").arg(i));
            writeFile(f, motionCsv(i));
            files << f;
        }
        if (good > 0) {
            const CliRun r = tinymlRun(QStringList{"import", proj} + files);
            EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
        }
        return proj;
    }
};

#ifdef Q_OS_UNIX
/// Runs tinyml as a user who cannot write what the test made read-only: as root (who may
/// write anything) that is the unprivileged uid/gid 65534, else the current user.
CliRun tinymlRunUnprivileged(const QStringList &args)
{
    QProcess p;
    if (::geteuid() == 0) {
        p.setChildProcessModifier([] {
            if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
                ::_exit(99);
        });
    }
    p.start(QStringLiteral(TINYML_CLI), args);
    p.waitForFinished(600000);
    CliRun r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    if (p.error() == QProcess::FailedToStart)
        r.err = QStringLiteral("could not start %1 as uid 65534 (%2): every folder above the build tree must be "
                               "searchable by others for this test")
                    .arg(QStringLiteral(TINYML_CLI), p.errorString());
    return r;
}
#endif

} // namespace

#ifdef Q_OS_UNIX
TEST_F(CliSamples, ReadOnlyProjectIsReadSaysSoOnceAndImportStopsWithOneMessage)
{
    const QString proj = motionProject("rw.tinyml", 2);
    // Everyone may enter the test folder; the project's own folder and file are read-only.
    QFile::setPermissions(tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                                          QFileDevice::ReadOther | QFileDevice::ExeOther |
                                          QFileDevice::ReadGroup | QFileDevice::ExeGroup);
    const QString roDir = path("ro");
    ASSERT_TRUE(QDir().mkpath(roDir));
    const QString roProj = roDir + "/p.tinyml";
    ASSERT_TRUE(QFile::copy(proj, roProj));
    const auto readOnly = QFileDevice::ReadOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    ASSERT_TRUE(QFile::setPermissions(roProj, readOnly));
    ASSERT_TRUE(QFile::setPermissions(roDir, readOnly | QFileDevice::ExeOwner | QFileDevice::ExeGroup | QFileDevice::ExeOther));
    const QString out = path("out");
    ASSERT_TRUE(QDir().mkpath(out));
    QFile::setPermissions(out, QFileDevice::Permissions(0x7777));
    ASSERT_TRUE(QFile::setPermissions(proj, readOnly)); // read-only file in a folder it may not write either
    const QString csv = path("idle.9.csv");
    writeFile(csv, motionCsv(9));
    QFile::setPermissions(csv, readOnly);

    // Before: "attempt to write a readonly database" for every one of these.
    for (const QString &p : {roProj, proj}) {
        CliRun r = tinymlRunUnprivileged({"info", p, "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        EXPECT_EQ(r.json()["samples"].toInt(), 2);
        EXPECT_TRUE(r.json()["read_only"].toBool());
        EXPECT_EQ(countOf(r.err, "project is read-only:"), 1) << r.err.toStdString();
        EXPECT_FALSE(r.err.contains("attempt to write")) << r.err.toStdString();

        r = tinymlRunUnprivileged({"samples", p, "list", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        EXPECT_EQ(r.json()["count"].toInt(), 2);
        EXPECT_EQ(countOf(r.err, "project is read-only:"), 1) << r.err.toStdString();
    }
    CliRun r = tinymlRunUnprivileged({"export-data", roProj, out, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["files"].toArray().size(), 2);
    EXPECT_EQ(countOf(r.err, "project is read-only:"), 1) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("is not writable")) << r.err.toStdString();
    // Reading left nothing behind in the read-only folder (no -shm, -wal or lock files).
    EXPECT_EQ(QDir(roDir).entryList(QDir::Files | QDir::Hidden), QStringList{"p.tinyml"});

    // A write command: one message, whatever the number of files, and nothing imported.
    r = tinymlRunUnprivileged({"import", roProj, csv, csv, csv});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(countOf(r.err, "error"), 1) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("cannot import into") && r.err.contains("project is read-only")) << r.err.toStdString();
    r = tinymlRunUnprivileged({"samples", roProj, "delete", "1"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("project is read-only")) << r.err.toStdString();
    QString error;
    {
        auto store = ProjectStore::openReadOnly(roProj, &error);
        ASSERT_TRUE(store) << error.toStdString();
        EXPECT_EQ(store->sampleInfos().size(), 2);
    }
    QFile::setPermissions(roDir, QFileDevice::Permissions(0x7777)); // so that the temporary folder can go
}
#endif

TEST_F(CliSamples, ImportRefusesSamplesThatDoNotFitTheProject)
{
    const QString proj = motionProject("fit.tinyml", 0);
    QByteArray wide("timestamp");
    for (int c = 0; c < 100000; ++c)
        wide += ",c" + QByteArray::number(c);
    wide += '\n';
    for (int t = 0; t < 3; ++t) {
        wide += QByteArray::number(t * 10);
        for (int c = 0; c < 100000; ++c)
            wide += ",1";
        wide += '\n';
    }
    writeFile(path("shake.wide.csv"), wide);
    writeFile(path("shake.audio.wav"), wav16k(16000));
    QImage image(8, 8, QImage::Format_RGB888);
    image.fill(Qt::red);
    ASSERT_TRUE(QDir().mkpath(path("shake")));
    ASSERT_TRUE(image.save(path("shake/pic.png")));
    QByteArray slow("timestamp,x,y,z\n");
    for (int t = 0; t < 100; ++t)
        slow += QByteArray::number(t * 20) + ",1,2,3\n";
    writeFile(path("shake.slow.csv"), slow);
    writeFile(path("shake.good.csv"), motionCsv(1));

    // Before: all five imported (exit 0).
    CliRun r = tinymlRun({"import", proj, path("shake.wide.csv"), path("shake.audio.wav"), path("shake/pic.png"),
                          path("shake.slow.csv"), path("shake.good.csv"), "--json"});
    EXPECT_EQ(r.exitCode, 1);
    const QJsonObject j = r.json();
    EXPECT_EQ(j["imported"].toInt(), 1);
    EXPECT_EQ(j["failed_files"].toInt(), 4);
    QMap<QString, QString> errors;
    for (const QJsonValue &f : j["files"].toArray())
        errors.insert(QFileInfo(f.toObject()["file"].toString()).fileName(), f.toObject()["error"].toString());
    EXPECT_TRUE(errors["shake.wide.csv"].contains("channels: 100000 channels, but this motion project takes 3"))
        << errors["shake.wide.csv"].toStdString();
    EXPECT_TRUE(errors["shake.audio.wav"].contains("WAV")) << errors["shake.audio.wav"].toStdString();
    EXPECT_TRUE(errors["pic.png"].contains("an image")) << errors["pic.png"].toStdString();
    EXPECT_TRUE(errors["shake.slow.csv"].contains("50 Hz") && errors["shake.slow.csv"].contains("100 Hz"))
        << errors["shake.slow.csv"].toStdString();
    EXPECT_TRUE(errors["shake.good.csv"].isEmpty()) << errors["shake.good.csv"].toStdString();
    r = tinymlRun({"info", proj, "--json"});
    EXPECT_EQ(r.json()["samples"].toInt(), 1);
}

TEST_F(CliSamples, IncompleteAndBadSamplesAreShownApartSkippedAndCleanedUp)
{
    const QString proj = motionProject("dirty.tinyml", 4);
    qint64 cutId = 0, noiseId = 0;
    {
        // What a stopped capture and random bytes on a `--protocol lines` port leave behind.
        QString error;
        auto store = ProjectStore::open(proj, &error);
        ASSERT_TRUE(store) << error.toStdString();
        Sample cut;
        cut.label = "shake";
        cut.sampleRateHz = 100;
        cut.channels = QStringList{"x", "y", "z"};
        cut.complete = false;
        QVector<float> v(60 * 3, 0.5f);
        cut.data = Tensor::fromFloats(v, {60, 3});
        Sample noise;
        noise.label = "idle";
        noise.sampleRateHz = 100;
        noise.channels = QStringList{"ch0"};
        noise.data = Tensor::fromFloats({3, 141, 59, 26, 5, 35, 89}, {7, 1});
        QVector<Sample> both{cut, noise};
        ASSERT_TRUE(store->addSamples(both, &error)) << error.toStdString();
        cutId = both[0].id;
        noiseId = both[1].id;
    }

    // info: the cut-off sample is not a normal sample (before: counted in samples).
    CliRun r = tinymlRun({"info", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["samples"].toInt(), 5);
    EXPECT_EQ(r.json()["incomplete"].toInt(), 1);
    EXPECT_EQ(r.json()["per_label"].toObject()["shake"].toObject()["incomplete"].toInt(), 1);
    r = tinymlRun({"info", proj});
    EXPECT_TRUE(r.out.contains("1 incomplete")) << r.out.toStdString();

#ifdef TINYML_HAVE_TRAINING
    // features: both bad samples are named and skipped, the rest computes (before: the
    // 1-channel sample failed the whole project).
    r = tinymlRun({"features", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["samples"].toInt(), 4);
    QMap<qint64, QString> skipped;
    for (const QJsonValue &k : r.json()["skipped"].toArray())
        skipped.insert(k.toObject()["id"].toInteger(), k.toObject()["reason"].toString());
    EXPECT_EQ(skipped.keys(), (QList<qint64>{cutId, noiseId}));
    EXPECT_TRUE(skipped[cutId].contains("incomplete")) << skipped[cutId].toStdString();
    EXPECT_TRUE(skipped[noiseId].contains("1 channel")) << skipped[noiseId].toStdString();
    EXPECT_TRUE(r.err.contains(QStringLiteral("skipped sample %1").arg(noiseId))) << r.err.toStdString();
#endif

    // export-data leaves the incomplete sample out unless asked, and says so.
    r = tinymlRun({"export-data", proj, path("exported"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["files"].toArray().size(), 5);
    EXPECT_EQ(r.json()["skipped_incomplete"].toArray(), (QJsonArray{cutId}));
    r = tinymlRun({"export-data", proj, path("exported-all"), "--include-incomplete", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["files"].toArray().size(), 6);

    // samples list / relabel / delete.
    r = tinymlRun({"samples", proj, "list", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["count"].toInt(), 6);
    r = tinymlRun({"samples", proj, "list", "--incomplete", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    ASSERT_EQ(r.json()["count"].toInt(), 1);
    EXPECT_EQ(r.json()["samples"].toArray()[0].toObject()["id"].toInteger(), cutId);
    EXPECT_EQ(r.json()["samples"].toArray()[0].toObject()["status"].toString(), "incomplete");
    r = tinymlRun({"samples", proj, "list", "--label", "shake"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains("3 sample(s)")) << r.out.toStdString();

    r = tinymlRun({"samples", proj, "relabel", QString::number(noiseId), "999", "--label", "noise"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("no sample with id 999") && r.err.contains("nothing changed")) << r.err.toStdString();
    r = tinymlRun({"samples", proj, "delete", "abc"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("'abc' is not a sample id")) << r.err.toStdString();
    r = tinymlRun({"samples", proj, "delete"});
    EXPECT_EQ(r.exitCode, 2);
    r = tinymlRun({"samples", proj, "shuffle"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains("unknown action 'shuffle'")) << r.err.toStdString();

    r = tinymlRun({"samples", proj, "relabel", QString::number(noiseId), "--label", "noise", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"info", proj, "--json"});
    EXPECT_EQ(r.json()["per_label"].toObject()["noise"].toObject()["total"].toInt(), 1);
    EXPECT_TRUE(r.json()["labels"].toArray().contains(QJsonValue("noise")));

    r = tinymlRun({"samples", proj, "delete", "--incomplete", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["deleted"].toArray(), (QJsonArray{cutId}));
    r = tinymlRun({"samples", proj, "delete", QString::number(noiseId)});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"info", proj, "--json"});
    EXPECT_EQ(r.json()["samples"].toInt(), 4);
    EXPECT_EQ(r.json()["incomplete"].toInt(), 0);
}
