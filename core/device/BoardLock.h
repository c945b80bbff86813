#pragma once
// One user per board: an exclusive lock on a virtual board's state folder, and the check
// that no other process holds a serial port open.
//
// A virtual board's flash file lives in its state folder; two processes running the same
// board would each start an emulator on that file and one upload would silently win. So
// VirtualBoard takes a BoardLock before it launches anything, and DeviceLink::open() asks
// portUser() before it opens a port. Both refusals name the other process:
//
//     board qemu-m4 is in use by PID 4242 (tinyml capture m.tinyml --board qemu-m4 ...)
//     port /dev/ttyACM0 is in use by PID 4242 (screen /dev/ttyACM0 115200)
//
//     BoardLock lock(stateDir, QStringLiteral("qemu-m4"));
//     if (!lock.tryLock(&error)) fail(error);     // held until lock is destroyed or unlock()
//
// On Unix the lock is flock() on <folder>/tinyml-board.lock: the kernel releases it when the
// holder exits in any way (kill -9 included), so a lock left by a dead process is simply taken
// over, never waited on. The file holds the holder's PID and command line for the message.
// Other systems use QLockFile with the same file (stale when its PID is gone).
//
// Threading: a BoardLock belongs to the thread that uses it; portUser() is reentrant.

#include <QList>
#include <QString>

#include <memory>
#include <optional>

class QLockFile;

namespace tinyml {

/// Another process, as error messages name it.
struct ProcessDescription {
    qint64 pid = 0;
    QString commandLine;   ///< arguments joined by spaces; empty when not readable
    /// "PID 4242 (tinyml capture ...)", or "PID 4242" without a command line.
    QString text() const;
};

class BoardLock
{
public:
    /// boardId names the board in messages; the lock file is folder/tinyml-board.lock.
    BoardLock(const QString &folder, const QString &boardId);
    ~BoardLock();
    BoardLock(const BoardLock &) = delete;
    BoardLock &operator=(const BoardLock &) = delete;

    /// Takes the lock without waiting. False when another holder has it: error says
    /// "board <id> is in use by PID N (<command line>)" and how to run a second board;
    /// or when the folder cannot hold a lock file (the path and the system's reason).
    bool tryLock(QString *error);
    void unlock();
    bool isLocked() const;
    QString filePath() const { return m_path; }

    /// The process that holds the lock of folder now, if any (this process included).
    static std::optional<ProcessDescription> holder(const QString &folder);
    static QString lockFileName() { return QStringLiteral("tinyml-board.lock"); }

private:
    QString m_path;
    QString m_boardId;
    int m_fd = -1;
    std::unique_ptr<QLockFile> m_lockFile;
};

/// The command line of a running process ("" when unknown or not readable).
QString processCommandLine(qint64 pid);

/// The first other process that has portName open (Linux: /proc/<pid>/fd of the processes
/// this user may inspect), skipping this process and the PIDs in ignored (the emulator at the
/// other end of a virtual board's pty holds it by design). nullopt when none is found, and
/// always on systems without /proc.
std::optional<ProcessDescription> portUser(const QString &portName, const QList<qint64> &ignored = {});

/// The PID in a UUCP-style lock file (LCK..ttyACM0 in /var/lock, /run/lock, /tmp) that Qt's
/// QSerialPort and tools such as minicom write while they hold a port; nullopt when none
/// names a live process.
std::optional<ProcessDescription> portLockFileHolder(const QString &portName);

} // namespace tinyml
