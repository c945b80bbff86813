// Issue 18, item 4: two `tinyml` processes never use one virtual board at once. The second
// is refused naming the first's PID and command line; a board whose user was killed is
// free again at once.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "../deploy/DeployTestGraphs.h"

#include "device/BoardLock.h"
#include "store/ProjectStore.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

class BoardLockCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (QStandardPaths::findExecutable(QStringLiteral("qemu-system-arm")).isEmpty())
            GTEST_SKIP() << "qemu-system-arm is not installed";
        ASSERT_TRUE(tmp.isValid());
        boards = tmp.filePath(QStringLiteral("boards"));
        // This test's own boards (tinymlRun and QProcess inherit it): other tests run qemu-m4 too.
        qputenv("TINYML_VIRTUAL_BOARDS_DIR", boards.toUtf8());
        project = tmp.filePath(QStringLiteral("flash.tinyml"));
        QString error;
        auto store = ProjectStore::create(project, ProjectSettings{}, &error);
        ASSERT_TRUE(store) << error.toStdString();
        StoredModel q;
        q.kind = ModelKind::Int8;
        q.name = QStringLiteral("int8 chain");
        q.graph = deploy::testing::chain().serialize();
        ASSERT_TRUE(store->addModel(q, &error)) << error.toStdString();
    }
    QString lockFile() const { return boards + QStringLiteral("/qemu-m4/") + BoardLock::lockFileName(); }

    QTemporaryDir tmp;
    QString boards, project;
};

QStringList flashArgs(const QString &project)
{
    return {QStringLiteral("flash"), project, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
            QStringLiteral("--force"), QStringLiteral("--json")};
}

} // namespace

TEST_F(BoardLockCli, TwoParallelFlashesOneSucceedsTheOtherNamesThePid)
{
    // Started together, the two overlap by the emulator's boot alone; should the machine be so
    // slow that the first is done before the second starts, both succeed: try again.
    bool sawOneRefused = false;
    for (int attempt = 0; attempt < 3 && !sawOneRefused; ++attempt) {
        SCOPED_TRACE(::testing::Message() << "attempt " << attempt);
        QProcess a, b;
        a.start(QStringLiteral(TINYML_CLI), flashArgs(project));
        b.start(QStringLiteral(TINYML_CLI), flashArgs(project));
        const qint64 pidA = a.processId(), pidB = b.processId();
        ASSERT_TRUE(a.waitForFinished(120000) && b.waitForFinished(120000));
        const QString errA = QString::fromUtf8(a.readAllStandardError());
        const QString errB = QString::fromUtf8(b.readAllStandardError());
        const bool okA = a.exitStatus() == QProcess::NormalExit && a.exitCode() == 0;
        const bool okB = b.exitStatus() == QProcess::NormalExit && b.exitCode() == 0;
        ASSERT_TRUE(okA || okB) << "both failed:\n" << errA.toStdString() << "\n" << errB.toStdString();
        if (okA && okB)
            continue;
        sawOneRefused = true;
        const QString err = okA ? errB : errA;
        const qint64 winner = okA ? pidA : pidB;
        EXPECT_TRUE(err.contains(QStringLiteral("board qemu-m4 is in use by PID %1 (tinyml flash ").arg(winner)))
            << err.toStdString();
        EXPECT_EQ((okA ? b : a).exitCode(), 1);
        const QJsonObject j = QJsonDocument::fromJson((okA ? a : b).readAllStandardOutput()).object();
        EXPECT_TRUE(j.value(QStringLiteral("uploaded")).toBool());
    }
    EXPECT_TRUE(sawOneRefused) << "two parallel flashes both succeeded three times";
}

TEST_F(BoardLockCli, ABoardInUseIsRefusedAndFreedWhenItsUserIsKilled)
{
    // A long capture holds the board.
    const QString motion = tmp.filePath(QStringLiteral("motion.tinyml"));
    ASSERT_EQ(tinymlRun({"new", motion, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
    QProcess capture;
    capture.start(QStringLiteral(TINYML_CLI), {"capture", motion, "--board", "qemu-m4", "--label", "x",
                                                "--scenario", "shake", "--seconds", "60", "--realtime"});
    ASSERT_TRUE(capture.waitForStarted(10000));
    const qint64 pid = capture.processId();
    QElapsedTimer clock;
    clock.start();
    QByteArray note;
    while (clock.elapsed() < 60000 && capture.state() == QProcess::Running) {
        QFile f(lockFile());
        if (f.open(QIODevice::ReadOnly) && (note = f.readAll()).startsWith(QByteArray::number(pid) + '\n'))
            break;
        QThread::msleep(50);
    }
    ASSERT_TRUE(note.startsWith(QByteArray::number(pid) + '\n'))
        << "the capture never locked its board; stderr: " << capture.readAllStandardError().toStdString();

    CliRun r = tinymlRun(flashArgs(project));
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("board qemu-m4 is in use by PID %1 (tinyml capture %2 --board qemu-m4")
                                   .arg(pid)
                                   .arg(motion)))
        << r.err.toStdString();
    EXPECT_TRUE(r.out.isEmpty()) << r.out.toStdString();

    // kill -9: no chance to unlock; the note with the dead PID stays, the lock does not.
    ::kill(pid_t(pid), SIGKILL);
    ASSERT_TRUE(capture.waitForFinished(10000));
    QFile f(lockFile());
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    EXPECT_TRUE(f.readAll().startsWith(QByteArray::number(pid) + '\n'));
    r = tinymlRun(flashArgs(project));
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json().value(QStringLiteral("uploaded")).toBool()) << r.out.toStdString();
}
