// Issue 18, item 4: one user per board. A virtual board's state folder is locked by the
// process that runs it; a serial port another process holds open is refused; both messages
// name the other process, and a lock whose holder died is taken over.

#include "DeviceTestSupport.h"

#include "device/AgentLink.h"
#include "device/BoardLock.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <unistd.h>

using namespace tinyml;
using namespace tinyml::test;

namespace {

const BoardDefinition &hostBoard()
{
    static BoardRegistry registry = [] {
        BoardRegistry r;
        QString error;
        EXPECT_TRUE(r.loadDefault(&error)) << error.toStdString();
        return r;
    }();
    static BoardDefinition missing;
    const BoardDefinition *b = registry.board(QStringLiteral("host"));
    EXPECT_TRUE(b) << "no board host";
    return b ? *b : missing;
}

QString own(const char *what)
{
    return QStringLiteral("PID %1").arg(qint64(::getpid())) + QLatin1String(what);
}

/// A process that holds `path` open for reading until killed (the shell's redirection).
std::unique_ptr<QProcess> holdOpen(const QString &path)
{
    auto p = std::make_unique<QProcess>();
    p->start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("exec sleep 60 < \"$0\""), path});
    EXPECT_TRUE(p->waitForStarted(5000));
    // The redirection happens before exec: wait until the fd is there.
    for (int i = 0; i < 200; ++i) {
        const QDir fds(QStringLiteral("/proc/%1/fd").arg(p->processId()));
        for (const QString &fd : fds.entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot))
            if (QFileInfo(fds.filePath(fd)).symLinkTarget() == QFileInfo(path).canonicalFilePath())
                return p;
        QThread::msleep(10);
    }
    ADD_FAILURE() << "the holder never opened " << path.toStdString();
    return p;
}

} // namespace

TEST(BoardLock, SecondHolderIsRefusedWithThePidAndCommandLine)
{
    QTemporaryDir dir;
    BoardLock first(dir.path(), QStringLiteral("qemu-m4"));
    QString error;
    ASSERT_TRUE(first.tryLock(&error)) << error.toStdString();

    BoardLock second(dir.path(), QStringLiteral("qemu-m4"));
    EXPECT_FALSE(second.tryLock(&error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("board qemu-m4 is in use by ") + own(" ("))) << error.toStdString();
    // The command line of this test program.
    EXPECT_TRUE(error.contains(QStringLiteral("test_device_integration"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("TINYML_VIRTUAL_BOARDS_DIR"))) << error.toStdString();
    auto who = BoardLock::holder(dir.path());
    ASSERT_TRUE(who);
    EXPECT_EQ(who->pid, qint64(::getpid()));

    first.unlock();
    EXPECT_FALSE(BoardLock::holder(dir.path()));
    EXPECT_TRUE(second.tryLock(&error)) << error.toStdString();
}

TEST(BoardLock, LockOfADeadProcessIsTakenOver)
{
    QTemporaryDir dir;
    // A holder killed with -9 leaves its note (PID, command line) in the lock file.
    QProcess dead;
    dead.start(QStringLiteral("/bin/true"), {});
    ASSERT_TRUE(dead.waitForFinished(5000));
    const qint64 deadPid = dead.processId() > 0 ? dead.processId() : 999999;
    {
        QFile f(QDir(dir.path()).filePath(BoardLock::lockFileName()));
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::number(deadPid) + "\ntinyml flash p.tinyml --board qemu-m4\n");
    }
    EXPECT_FALSE(BoardLock::holder(dir.path()));
    BoardLock lock(dir.path(), QStringLiteral("qemu-m4"));
    QString error;
    ASSERT_TRUE(lock.tryLock(&error)) << error.toStdString();
    auto who = BoardLock::holder(dir.path());
    ASSERT_TRUE(who);
    EXPECT_EQ(who->pid, qint64(::getpid()));

    // A live holder of another program (flock(1)) blocks; killed, its lock is free at once.
    lock.unlock();
    QProcess holder;
    // One process: the shell locks fd 9 and becomes sleep, which keeps it.
    holder.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("exec 9>>\"$0\"; flock 9; exec sleep 60"),
                                             QDir(dir.path()).filePath(BoardLock::lockFileName())});
    ASSERT_TRUE(holder.waitForStarted(5000));
    bool blocked = false;
    for (int i = 0; i < 200 && !blocked; ++i) {
        BoardLock probe(dir.path(), QStringLiteral("qemu-m4"));
        blocked = !probe.tryLock(&error);
        if (!blocked)
            QThread::msleep(10);
    }
    ASSERT_TRUE(blocked) << "flock(1) never took the lock";
    EXPECT_TRUE(error.startsWith(QStringLiteral("board qemu-m4 is in use by "))) << error.toStdString();
    ::kill(pid_t(holder.processId()), SIGKILL);
    ASSERT_TRUE(holder.waitForFinished(5000));
    EXPECT_TRUE(lock.tryLock(&error)) << error.toStdString();
}

TEST(BoardLock, VirtualBoardRefusesASecondUserOfItsStateFolder)
{
    QTemporaryDir state;
    VirtualBoard::Options options;
    options.stateDirectory = state.path();
    VirtualBoard first(hostBoard(), options);
    QString error;
    ASSERT_TRUE(first.start(&error)) << error.toStdString();

    VirtualBoard second(hostBoard(), options);
    EXPECT_FALSE(second.start(&error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("board host is in use by ") + own(" ("))) << error.toStdString();
    EXPECT_FALSE(second.isRunning());

    // Stopping frees the board for the next user.
    first.stop();
    ASSERT_TRUE(second.start(&error)) << error.toStdString();
    EXPECT_TRUE(second.isRunning());
}

TEST(BoardLock, DefaultStateFolderFollowsTheEnvironment)
{
    QTemporaryDir root;
    const QByteArray saved = qgetenv("TINYML_VIRTUAL_BOARDS_DIR");
    qputenv("TINYML_VIRTUAL_BOARDS_DIR", root.path().toUtf8());
    EXPECT_EQ(VirtualBoard::defaultStateDirectory(QStringLiteral("qemu-m4")),
              QDir(root.path()).filePath(QStringLiteral("qemu-m4")));
    if (saved.isEmpty())
        qunsetenv("TINYML_VIRTUAL_BOARDS_DIR");
    else
        qputenv("TINYML_VIRTUAL_BOARDS_DIR", saved);
}

TEST(PortUser, APortAnotherProcessHoldsIsRefusedNamingIt)
{
    PtyDevice device;
    ASSERT_TRUE(device.isValid());
    auto holder = holdOpen(device.slavePath());
    const qint64 pid = holder->processId();

    AgentLink link;
    link.setPortName(device.slavePath());
    QString error;
    EXPECT_FALSE(link.open(&error));
    EXPECT_EQ(error, QStringLiteral("port %1 is in use by PID %2 (sleep 60)").arg(device.slavePath()).arg(pid));
    EXPECT_FALSE(link.isOpen());

    // The emulator behind a virtual board's pty holds it by design.
    link.setPortSharedWith(pid);
    EXPECT_TRUE(link.open(&error)) << error.toStdString();
    link.close();

    ::kill(pid_t(pid), SIGKILL);
    holder->waitForFinished(5000);
    AgentLink again;
    again.setPortName(device.slavePath());
    EXPECT_TRUE(again.open(&error)) << error.toStdString();
}
