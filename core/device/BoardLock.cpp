#include "device/BoardLock.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>
#include <QThread>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace tinyml {

namespace {

constexpr int kMaxCommandLine = 300;

bool processExists(qint64 pid)
{
    if (pid <= 0)
        return false;
#ifdef Q_OS_UNIX
    // EPERM: it exists but belongs to someone else.
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
#else
    return true;
#endif
}

QString ownCommandLine()
{
    QStringList args = QCoreApplication::instance() ? QCoreApplication::arguments() : QStringList();
    if (!args.isEmpty())
        args.first() = QFileInfo(args.first()).fileName();
    return args.join(QLatin1Char(' '));
}

QString shortened(QString text)
{
    text = text.simplified();
    if (text.size() > kMaxCommandLine)
        text = text.left(kMaxCommandLine) + QStringLiteral("...");
    return text;
}

/// The file's content: "<pid>\n<command line>\n".
std::optional<ProcessDescription> parseHolder(const QByteArray &content)
{
    const QList<QByteArray> lines = content.split('\n');
    bool ok = false;
    const qint64 pid = lines.value(0).trimmed().toLongLong(&ok);
    if (!ok || pid <= 0)
        return std::nullopt;
    ProcessDescription d;
    d.pid = pid;
    d.commandLine = processCommandLine(pid);
    if (d.commandLine.isEmpty())
        d.commandLine = shortened(QString::fromUtf8(lines.value(1)));
    return d;
}

QString inUseMessage(const QString &boardId, const QString &folder, const std::optional<ProcessDescription> &who)
{
    const QString by = who ? QStringLiteral("by %1").arg(who->text()) : QStringLiteral("by another process");
    return QStringLiteral("board %1 is in use %2; stop it first, or give this one its own virtual board "
                          "with TINYML_VIRTUAL_BOARDS_DIR=<another folder> (state folder %3)")
        .arg(boardId, by, QDir::toNativeSeparators(folder));
}

} // namespace

QString ProcessDescription::text() const
{
    return commandLine.isEmpty() ? QStringLiteral("PID %1").arg(pid)
                                 : QStringLiteral("PID %1 (%2)").arg(pid).arg(commandLine);
}

QString processCommandLine(qint64 pid)
{
#ifdef Q_OS_LINUX
    QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QList<QByteArray> args = f.read(4096).split('\0');
    while (!args.isEmpty() && args.last().isEmpty())
        args.removeLast();
    if (args.isEmpty())
        return {};
    args.first() = QFileInfo(QString::fromLocal8Bit(args.first())).fileName().toLocal8Bit();
    QStringList parts;
    for (const QByteArray &a : args)
        parts << QString::fromLocal8Bit(a);
    return shortened(parts.join(QLatin1Char(' ')));
#else
    Q_UNUSED(pid)
    return {};
#endif
}

BoardLock::BoardLock(const QString &folder, const QString &boardId)
    : m_path(QDir(folder).filePath(lockFileName())), m_boardId(boardId)
{
}

BoardLock::~BoardLock()
{
    unlock();
}

bool BoardLock::isLocked() const
{
    return m_fd >= 0 || (m_lockFile && m_lockFile->isLocked());
}

#ifdef Q_OS_UNIX

bool BoardLock::tryLock(QString *error)
{
    if (isLocked())
        return true;
    const QString folder = QFileInfo(m_path).absolutePath();
    // O_CLOEXEC: the emulator must not inherit the lock; it dies with its owner anyway.
    const int fd = ::open(QFile::encodeName(m_path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (error)
            *error = QStringLiteral("cannot create the lock file %1 of board %2: %3")
                         .arg(QDir::toNativeSeparators(m_path), m_boardId, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        if (e == EWOULDBLOCK) {
            if (error)
                *error = inUseMessage(m_boardId, folder, holder(folder));
        } else if (error) {
            *error = QStringLiteral("cannot lock %1 for board %2: %3")
                         .arg(QDir::toNativeSeparators(m_path), m_boardId, QString::fromLocal8Bit(std::strerror(e)));
        }
        return false;
    }
    // Whatever a dead holder left in the file is replaced: the lock is ours.
    const QByteArray content = QByteArray::number(qint64(::getpid())) + '\n' + ownCommandLine().toUtf8() + '\n';
    // Without the note the lock still holds; the other side then says "another process".
    [[maybe_unused]] const bool noted =
        ::ftruncate(fd, 0) == 0 && ::pwrite(fd, content.constData(), size_t(content.size()), 0) == content.size();
    m_fd = fd;
    return true;
}

void BoardLock::unlock()
{
    if (m_fd < 0)
        return;
    // Empty the note first: a reader that finds the file unlocked must not name us.
    [[maybe_unused]] const int emptied = ::ftruncate(m_fd, 0);
    ::flock(m_fd, LOCK_UN);
    ::close(m_fd);
    m_fd = -1;
}

std::optional<ProcessDescription> BoardLock::holder(const QString &folder)
{
    const QByteArray path = QFile::encodeName(QDir(folder).filePath(lockFileName()));
    const int fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::optional<ProcessDescription> result;
    // The holder writes its note just after it locks: give it a moment.
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
            ::flock(fd, LOCK_UN);
            break; // nobody holds it
        }
        char buf[1024];
        const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            result = parseHolder(QByteArray(buf, int(n)));
            if (result)
                break;
        }
        QThread::msleep(10);
    }
    ::close(fd);
    return result;
}

#else // QLockFile

bool BoardLock::tryLock(QString *error)
{
    if (isLocked())
        return true;
    m_lockFile = std::make_unique<QLockFile>(m_path);
    m_lockFile->setStaleLockTime(0); // stale only when its process is gone, never by age
    if (m_lockFile->tryLock(0))
        return true;
    const QString folder = QFileInfo(m_path).absolutePath();
    if (error) {
        if (m_lockFile->error() == QLockFile::LockFailedError)
            *error = inUseMessage(m_boardId, folder, holder(folder));
        else
            *error = QStringLiteral("cannot create the lock file %1 of board %2")
                         .arg(QDir::toNativeSeparators(m_path), m_boardId);
    }
    m_lockFile.reset();
    return false;
}

void BoardLock::unlock()
{
    m_lockFile.reset();
}

std::optional<ProcessDescription> BoardLock::holder(const QString &folder)
{
    QLockFile probe(QDir(folder).filePath(lockFileName()));
    qint64 pid = 0;
    QString host, app;
    if (!probe.getLockInfo(&pid, &host, &app) || pid <= 0)
        return std::nullopt;
    return ProcessDescription{pid, app};
}

#endif

std::optional<ProcessDescription> portUser(const QString &portName, const QList<qint64> &ignored)
{
#ifdef Q_OS_LINUX
    const QString wanted = QFileInfo(portName).canonicalFilePath();
    if (wanted.isEmpty())
        return std::nullopt;
    const qint64 self = ::getpid();
    const QDir proc(QStringLiteral("/proc"));
    for (const QString &entry : proc.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool isPid = false;
        const qint64 pid = entry.toLongLong(&isPid);
        if (!isPid || pid == self || ignored.contains(pid))
            continue;
        const QString fdDir = QStringLiteral("/proc/%1/fd").arg(pid);
        // Unreadable for other users' processes: those are seen through lock files only.
        for (const QString &fd : QDir(fdDir).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot)) {
            if (QFileInfo(fdDir + QLatin1Char('/') + fd).symLinkTarget() == wanted)
                return ProcessDescription{pid, processCommandLine(pid)};
        }
    }
#else
    Q_UNUSED(portName)
    Q_UNUSED(ignored)
#endif
    return std::nullopt;
}

std::optional<ProcessDescription> portLockFileHolder(const QString &portName)
{
#ifdef Q_OS_UNIX
    // QSerialPort's name: LCK.. plus the path below /dev with '/' turned into '_'.
    QString device = QFileInfo(portName).canonicalFilePath();
    if (device.isEmpty())
        device = portName;
    if (device.startsWith(QLatin1String("/dev/")))
        device = device.mid(5);
    device.replace(QLatin1Char('/'), QLatin1Char('_'));
    for (const QString dir : {QStringLiteral("/var/lock"), QStringLiteral("/run/lock"), QStringLiteral("/tmp")}) {
        QFile f(dir + QStringLiteral("/LCK..") + device);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        bool ok = false;
        const qint64 pid = f.readLine(64).trimmed().toLongLong(&ok);
        if (ok && processExists(pid) && pid != qint64(::getpid()))
            return ProcessDescription{pid, processCommandLine(pid)};
    }
#else
    Q_UNUSED(portName)
#endif
    return std::nullopt;
}

} // namespace tinyml
