#include "device/VirtualBoard.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>

namespace tinyml {

namespace {
constexpr int kMaxKeptOutput = 16384;

QString qemuInstallHint()
{
#if defined(Q_OS_WIN)
    return QStringLiteral("Install QEMU for Windows (the installer from qemu.org, or in MSYS2: "
                          "`pacman -S mingw-w64-x86_64-qemu`) and add its folder to PATH.");
#elif defined(Q_OS_MACOS)
    return QStringLiteral("Install it with Homebrew: `brew install qemu`.");
#else
    return QStringLiteral("Install it with `sudo apt-get install qemu-system-arm` (Debian, Ubuntu) "
                          "or `sudo dnf install qemu-system-arm` (Fedora).");
#endif
}
}

QStringList AgentLocator::searchDirectories()
{
    QStringList dirs;
    const QString env = qEnvironmentVariable("TINYML_AGENT_DIR");
    if (!env.isEmpty())
        dirs << env;
    const QString installed = QCoreApplication::instance()
                                  ? QDir::cleanPath(QCoreApplication::applicationDirPath()
                                                    + QStringLiteral("/../lib/tinyml-workbench/agent"))
                                  : QString();
    // An installed program uses only its own agents, never those of the build tree it was
    // made in: a package that lacks one must fail here, not on a machine without that tree.
    if (!installed.isEmpty() && QFileInfo(installed).isDir())
        return dirs << installed;
#ifdef TINYML_AGENT_BUILD_DIR
    dirs << QStringLiteral(TINYML_AGENT_BUILD_DIR);
#endif
    if (!installed.isEmpty())
        dirs << installed;
    return dirs;
}

QString AgentLocator::findImage(const QString &relativeImage, QString *error)
{
    QStringList tried;
    for (const QString &dir : searchDirectories()) {
        // A directory may hold the images directly or in images/ (the build tree layout).
        for (const QString &candidate : {dir + QLatin1Char('/') + relativeImage,
                                         dir + QStringLiteral("/images/") + relativeImage}) {
            tried << candidate;
            if (QFileInfo(candidate).isFile())
                return QFileInfo(candidate).absoluteFilePath();
        }
    }
    if (error)
        *error = QStringLiteral("agent image %1 not found (looked in: %2). Build it with "
                                "`ninja -C <build dir> tinyml-agent-firmware` (needs gcc-arm-none-eabi "
                                "and -DTINYML_BUILD_FIRMWARE=ON), or point TINYML_AGENT_DIR at a "
                                "directory holding %1")
                     .arg(relativeImage, tried.join(QStringLiteral(", ")));
    return {};
}

QString AgentLocator::findHostAgent(const QString &executableName, QString *error)
{
    QStringList tried;
    for (const QString &dir : searchDirectories()) {
        const QString candidate = dir + QLatin1Char('/') + executableName;
        tried << candidate;
        const QFileInfo fi(candidate);
        if (fi.isFile() && fi.isExecutable())
            return fi.absoluteFilePath();
    }
    if (error)
        *error = QStringLiteral("host agent %1 not found (looked in: %2). Build it with "
                                "`ninja -C <build dir> tinyml-agent-host`, or point TINYML_AGENT_DIR "
                                "at the directory holding it")
                     .arg(executableName, tried.join(QStringLiteral(", ")));
    return {};
}

VirtualBoard::VirtualBoard(const BoardDefinition &board, QObject *parent)
    : VirtualBoard(board, Options(), parent)
{
}

VirtualBoard::VirtualBoard(const BoardDefinition &board, const Options &options, QObject *parent)
    : QObject(parent), m_board(board), m_options(options)
{
}

VirtualBoard::~VirtualBoard()
{
    stop();
}

QString VirtualBoard::defaultStateDirectory(const QString &boardId)
{
    // Generic, not per-application: the CLI and the GUI flash the same virtual board.
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
           + QStringLiteral("/tinyml-workbench/virtual-boards/") + boardId;
}

QString VirtualBoard::findQemu(const QString &program, QString *error)
{
    const QString path = QFileInfo(program).isAbsolute() ? program : QStandardPaths::findExecutable(program);
    if (path.isEmpty() || !QFileInfo(path).isExecutable()) {
        if (error)
            *error = QStringLiteral("%1 not found; virtual boards run on QEMU. %2").arg(program, qemuInstallHint());
        return {};
    }
    return path;
}

bool VirtualBoard::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

qint64 VirtualBoard::processId() const
{
    return m_process ? m_process->processId() : 0;
}

bool VirtualBoard::launch(QString *error)
{
    if (!m_board.isVirtual) {
        if (error)
            *error = QStringLiteral("board %1 is not a virtual board").arg(m_board.id);
        return false;
    }
    m_stateDir = m_options.stateDirectory.isEmpty() ? defaultStateDirectory(m_board.id)
                                                    : m_options.stateDirectory;
    if (!QDir().mkpath(m_stateDir)) {
        if (error)
            *error = QStringLiteral("cannot create the state directory %1 of virtual board %2")
                         .arg(m_stateDir, m_board.id);
        return false;
    }

    QString program;
    QStringList args;
    if (m_board.launcher == QLatin1String("qemu")) {
        program = findQemu(m_options.qemuProgram, error);
        if (program.isEmpty())
            return false;
        const QString image = AgentLocator::findImage(m_board.agentImage, error);
        if (image.isEmpty())
            return false;
        // -icount shift=0: one instruction per virtual ns, so counters are instruction
        // counts; sleep=off lets idle time run as fast as possible (batch capture).
        const QString icount = m_options.realtime ? QStringLiteral("shift=0")
                                                  : QStringLiteral("shift=0,sleep=off");
        args << QStringLiteral("-M") << m_board.qemuMachine << QStringLiteral("-nographic")
             << QStringLiteral("-monitor") << QStringLiteral("none") << QStringLiteral("-icount") << icount
             << QStringLiteral("-serial") << QStringLiteral("pty")
             << QStringLiteral("-semihosting-config") << QStringLiteral("enable=on,target=native")
             << QStringLiteral("-kernel") << image << m_board.qemuExtraArgs;
    } else if (m_board.launcher == QLatin1String("host")) {
        program = AgentLocator::findHostAgent(m_board.agentExecutable, error);
        if (program.isEmpty())
            return false;
        args << QStringLiteral("--board-id") << m_board.id << QStringLiteral("--flash")
             << QDir(m_stateDir).filePath(QStringLiteral("tinyml-flash.bin"))
             << (m_options.realtime ? QStringLiteral("--realtime") : QStringLiteral("--fast"));
    } else {
        if (error)
            *error = QStringLiteral("board %1 has unknown launcher \"%2\"").arg(m_board.id, m_board.launcher);
        return false;
    }
    args << m_options.extraArguments;
    m_commandLine = QStringList{program} + args;

    m_process = new QProcess(this);
    m_process->setProgram(program);
    m_process->setArguments(args);
    m_process->setWorkingDirectory(m_stateDir);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->start();
    if (!m_process->waitForStarted(5000)) {
        if (error)
            *error = QStringLiteral("cannot start %1: %2").arg(program, m_process->errorString());
        delete m_process;
        m_process = nullptr;
        return false;
    }

    // QEMU: "char device redirected to /dev/pts/N (label serial0)";
    // host agent: "tinyml-agent-host: pty /dev/pts/N".
    static const QRegularExpression qemuPty(QStringLiteral("redirected to (/dev/\\S+)"));
    static const QRegularExpression hostPty(QStringLiteral("tinyml-agent-host: pty (\\S+)"));
    QDeadlineTimer deadline(m_options.launchTimeoutMs);
    while (m_ptyPath.isEmpty()) {
        if (m_process->state() == QProcess::NotRunning || deadline.hasExpired())
            break;
        m_process->waitForReadyRead(int(qBound<qint64>(qint64(1), deadline.remainingTime(), qint64(200))));
        m_output += m_process->readAll();
        const QString text = QString::fromLocal8Bit(m_output);
        auto m = qemuPty.match(text);
        if (!m.hasMatch())
            m = hostPty.match(text);
        if (m.hasMatch())
            m_ptyPath = m.captured(1);
    }
    if (m_ptyPath.isEmpty()) {
        const bool died = m_process->state() == QProcess::NotRunning;
        if (error)
            *error = QStringLiteral("%1 %2 without printing its pty path; output: %3")
                         .arg(QFileInfo(program).fileName(),
                              died ? QStringLiteral("exited (code %1)").arg(m_process->exitCode())
                                   : QStringLiteral("ran %1 ms").arg(m_options.launchTimeoutMs),
                              QString::fromLocal8Bit(m_output).trimmed());
        stop();
        return false;
    }
    connect(m_process, &QProcess::readyRead, this, &VirtualBoard::onProcessOutput);
    connect(m_process, &QProcess::finished, this, &VirtualBoard::onProcessFinished);
    return true;
}

bool VirtualBoard::start(QString *error)
{
    if (isRunning())
        return true;
    m_stopping = false;
    m_output.clear();
    m_ptyPath.clear();
    if (!launch(error))
        return false;
    // Open the port first: QEMU drops guest output while nobody has the pty open.
    m_link = std::make_unique<AgentLink>();
    m_link->setPortName(m_ptyPath);
    m_link->setDeviceId(m_board.id);
    QString e;
    if (!m_link->open(&e) || !m_link->handshake(m_options.handshakeAttempts, m_options.handshakeTimeoutMs, &e)) {
        if (error)
            *error = QStringLiteral("virtual board %1: %2%3")
                         .arg(m_board.id, e,
                              m_output.trimmed().isEmpty() ? QString()
                                  : QStringLiteral(" (process output: %1)").arg(QString::fromLocal8Bit(m_output).trimmed()));
        stop();
        return false;
    }
    return true;
}

void VirtualBoard::stop()
{
    m_stopping = true;
    // Close the port before the process goes, so the link sees a deliberate close and not
    // a lost connection.
    if (m_link) {
        m_link->close();
        m_link.reset();
    }
    if (m_process) {
        m_process->disconnect(this);
        if (m_process->state() != QProcess::NotRunning) {
            m_process->terminate();
            if (!m_process->waitForFinished(3000)) {
                m_process->kill();
                m_process->waitForFinished(3000);
            }
        }
        delete m_process;
        m_process = nullptr;
    }
}

void VirtualBoard::onProcessOutput()
{
    if (!m_process)
        return;
    m_output += m_process->readAll();
    if (m_output.size() > kMaxKeptOutput)
        m_output = m_output.right(kMaxKeptOutput);
}

void VirtualBoard::onProcessFinished(int exitCode, QProcess::ExitStatus status)
{
    if (m_stopping)
        return;
    const QString how = status == QProcess::CrashExit ? QStringLiteral("was killed or crashed")
                                                      : QStringLiteral("exited with code %1").arg(exitCode);
    Q_EMIT processDied(QStringLiteral("virtual board %1: %2 %3")
                           .arg(m_board.id, QFileInfo(m_commandLine.value(0)).fileName(), how));
}

} // namespace tinyml
