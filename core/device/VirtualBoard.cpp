#include "device/VirtualBoard.h"

#include "tm_protocol.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QEventLoop>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>

#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>
#endif

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

QString CycleModelLocator::findPlugin(QString *why)
{
    auto refuse = [why](const QString &text) {
        if (why)
            *why = text;
        return QString();
    };
#ifdef Q_OS_WIN
    return refuse(QStringLiteral("QEMU loads no TCG plugins on Windows"));
#endif
    const QString env = qEnvironmentVariable("TINYML_CYCLES_PLUGIN");
    if (env.compare(QLatin1String("off"), Qt::CaseInsensitive) == 0)
        return refuse(QStringLiteral("switched off by TINYML_CYCLES_PLUGIN=off"));
    if (!env.isEmpty()) {
        if (!QFileInfo(env).isFile())
            return refuse(QStringLiteral("TINYML_CYCLES_PLUGIN=%1: no such file").arg(env));
        return QFileInfo(env).absoluteFilePath();
    }
    const QString file = QLatin1String(kPluginFile);
    QStringList tried;
    for (const QString &dir : AgentLocator::searchDirectories()) {
        // Installed: next to the agent images; build tree: firmware-agent/qemu-plugin/.
        for (const QString &candidate : {dir + QLatin1Char('/') + file, dir + QStringLiteral("/qemu-plugin/") + file}) {
            tried << candidate;
            if (QFileInfo(candidate).isFile())
                return QFileInfo(candidate).absoluteFilePath();
        }
    }
    return refuse(QStringLiteral("the cycle-model plugin %1 was not found (looked in: %2); build it with "
                                 "`ninja -C <build dir> tinyml_cycles` or set TINYML_CYCLES_PLUGIN")
                      .arg(file, tried.join(QStringLiteral(", "))));
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
    // No failed() from a destructor: its receivers may be half destroyed themselves.
    shutdown(false);
}

QString VirtualBoard::defaultStateDirectory(const QString &boardId)
{
    const QString root = qEnvironmentVariable("TINYML_VIRTUAL_BOARDS_DIR");
    if (!root.isEmpty())
        return QDir(root).filePath(boardId);
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
    return m_phase == Phase::Running && m_process && m_process->state() != QProcess::NotRunning;
}

qint64 VirtualBoard::processId() const
{
    return m_process ? m_process->processId() : 0;
}

QString VirtualBoard::stateDirectory() const
{
    if (!m_stateDir.isEmpty())
        return m_stateDir;
    return m_options.stateDirectory.isEmpty() ? defaultStateDirectory(m_board.id) : m_options.stateDirectory;
}

bool VirtualBoard::launch(QString *error)
{
    if (!m_board.isVirtual) {
        if (error)
            *error = QStringLiteral("board %1 is not a virtual board").arg(m_board.id);
        return false;
    }
    m_stateDir.clear();
    m_stateDir = stateDirectory();
    if (!QDir().mkpath(m_stateDir)) {
        if (error)
            *error = QStringLiteral("cannot create the state directory %1 of virtual board %2")
                         .arg(m_stateDir, m_board.id);
        return false;
    }
    // The flash file holds a provisioned board's device identity secret (tinyml provision):
    // the state folder and that file are the user's alone, whatever wrote the file (QEMU
    // cannot set a mode from the firmware).
    QFile::setPermissions(m_stateDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    const QString flashFile = QDir(m_stateDir).filePath(QStringLiteral("tinyml-flash.bin"));
    if (QFileInfo::exists(flashFile))
        QFile::setPermissions(flashFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    // Before anything runs: a second emulator on the same flash file would lose an upload.
    m_lock = std::make_unique<BoardLock>(m_stateDir, m_board.id);
    if (!m_lock->tryLock(error)) {
        m_lock.reset();
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
        m_cycleChannel.clear();
        m_cycleUnavailable.clear();
        if (!m_options.cycleModel) {
            m_cycleUnavailable = QStringLiteral("the virtual board was started without the cycle model");
        } else if (!m_board.cycleModel.isSet()) {
            m_cycleUnavailable = QStringLiteral("board %1 has no cycle_model in %2")
                                     .arg(m_board.id, QFileInfo(m_board.filePath).fileName());
        } else {
            const QString plugin = CycleModelLocator::findPlugin(&m_cycleUnavailable);
            if (!plugin.isEmpty()) {
                // QEMU's option syntax: a comma inside a value is written twice.
                const auto quoted = [](QString v) { return v.replace(QLatin1Char(','), QStringLiteral(",,")); };
                const QString channel = QDir(m_stateDir).filePath(QStringLiteral("tinyml-cycles.txt"));
                args << QStringLiteral("-plugin")
                     << QStringLiteral("%1,core=%2,ws=%3,out=%4")
                            .arg(quoted(plugin), m_board.cycleModel.core)
                            .arg(m_board.cycleModel.waitStates)
                            .arg(quoted(channel));
                m_cycleChannel = channel;
            }
        }
    } else if (m_board.launcher == QLatin1String("host")) {
        m_cycleChannel.clear();
        m_cycleUnavailable = QStringLiteral("board %1 runs the host agent, not an emulated Cortex-M").arg(m_board.id);
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
#ifdef Q_OS_LINUX
    // The emulator must never outlive its owner, however the owner ends (kill -9 included):
    // the kernel sends SIGKILL to the child when the thread that started it dies, i.e. the
    // thread this board lives in. Its own process group keeps a terminal's Ctrl+C for the
    // owner, which stops the board cleanly (QEMU would otherwise quit on its own SIGINT
    // before the capture could close its sample).
    const pid_t owner = ::getpid();
    m_process->setChildProcessModifier([owner] {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != owner) // the owner died before prctl: nothing will signal us
            ::_exit(127);
    });
#endif
    connect(m_process, &QProcess::readyRead, this, &VirtualBoard::onProcessOutput);
    connect(m_process, &QProcess::finished, this, &VirtualBoard::onProcessFinished);
    // Queued: QProcess may report FailedToStart from inside start(), and failed() must not
    // come before startAsync() has returned. The generation drops errors of an earlier start.
    const quint64 generation = m_generation;
    connect(m_process, &QProcess::errorOccurred, this, [this, generation](QProcess::ProcessError e) {
        QTimer::singleShot(0, this, [this, generation, e] {
            if (generation == m_generation)
                onProcessError(e);
        });
    });
    m_launchTimer->start(m_options.launchTimeoutMs);
    m_process->start();
    return true;
}

bool VirtualBoard::start(QString *error)
{
    if (isRunning())
        return true;
    QEventLoop loop;
    bool ok = false;
    QString message;
    const auto onStarted = connect(this, &VirtualBoard::started, &loop, [&] {
        ok = true;
        loop.quit();
    });
    const auto onFailed = connect(this, &VirtualBoard::failed, &loop, [&](const QString &m) {
        message = m;
        loop.quit();
    });
    startAsync();
    // Both signals come from the event loop, never from inside startAsync().
    if (isStarting())
        loop.exec();
    disconnect(onStarted);
    disconnect(onFailed);
    if (!ok && error)
        *error = message;
    return ok;
}

bool VirtualBoard::startAsync()
{
    if (m_phase == Phase::Running && !isRunning())
        shutdown(false); // the process died since: start afresh
    if (m_phase != Phase::Idle)
        return false;
    m_stopping = false;
    m_output.clear();
    m_ptyPath.clear();
    m_helloSeq = -1;
    m_helloAttempts = 0;
    m_lastHelloError.clear();
    const quint64 generation = ++m_generation;
    m_phase = Phase::Launching;
    if (!m_launchTimer) {
        m_launchTimer = new QTimer(this);
        m_launchTimer->setSingleShot(true);
        connect(m_launchTimer, &QTimer::timeout, this, &VirtualBoard::onLaunchTimeout);
    }
    QString error;
    if (!launch(&error)) {
        // Queued: callers connect, call startAsync() and only then hear the outcome.
        QTimer::singleShot(0, this, [this, generation, error] {
            if (generation == m_generation && isStarting())
                failStart(error);
        });
    }
    return true;
}

void VirtualBoard::onProcessError(QProcess::ProcessError error)
{
    if (error != QProcess::FailedToStart || m_phase != Phase::Launching || !m_process)
        return;
    failStart(QStringLiteral("cannot start %1: %2").arg(m_commandLine.value(0), m_process->errorString()));
}

void VirtualBoard::onLaunchTimeout()
{
    if (m_phase != Phase::Launching)
        return;
    failStart(QStringLiteral("%1 ran %2 ms without printing its pty path; output: %3")
                  .arg(QFileInfo(m_commandLine.value(0)).fileName())
                  .arg(m_options.launchTimeoutMs)
                  .arg(QString::fromLocal8Bit(m_output).trimmed()));
}

QString VirtualBoard::withProcessOutput(const QString &message) const
{
    const QString output = QString::fromLocal8Bit(m_output).trimmed();
    return QStringLiteral("virtual board %1: %2%3")
        .arg(m_board.id, message,
             output.isEmpty() ? QString() : QStringLiteral(" (process output: %1)").arg(output));
}

void VirtualBoard::beginHandshake()
{
    m_launchTimer->stop();
    m_phase = Phase::Handshaking;
    // Open the port first: QEMU drops guest output while nobody has the pty open.
    m_link = std::make_unique<AgentLink>();
    m_link->setPortName(m_ptyPath);
    m_link->setDeviceId(m_board.id);
    // The host agent keeps the pty's device end open itself; anyone else is a second user.
    m_link->setPortSharedWith(processId());
    QString e;
    if (!m_link->open(&e)) {
        failStart(withProcessOutput(e));
        return;
    }
    m_handshakeConnections << connect(m_link.get(), &AgentLink::replyReceived, this, &VirtualBoard::onHelloReply)
                           << connect(m_link.get(), &AgentLink::requestFailed, this, &VirtualBoard::onHelloFailed);
    sendHello();
}

void VirtualBoard::sendHello()
{
    // One HELLO in flight at a time, retried: the guest may still be booting and QEMU drops
    // what it printed before the pty was opened.
    QString e;
    if (!m_link->isOpen())
        e = QStringLiteral("link to %1 is not open").arg(m_ptyPath);
    else
        m_helloSeq = m_link->sendRequest(TM_OP_HELLO, helloPayload(), m_options.handshakeTimeoutMs, &e);
    if (!m_link->isOpen() || m_helloSeq < 0) {
        failStart(withProcessOutput(e));
        return;
    }
    ++m_helloAttempts;
}

void VirtualBoard::onHelloReply(int seq, const AgentReply &reply)
{
    if (m_phase != Phase::Handshaking || seq != m_helloSeq)
        return;
    QString parseError;
    const auto info = parseDeviceInfo(reply.payload, &parseError);
    if (!info) {
        failStart(withProcessOutput(QStringLiteral("HELLO reply from %1: %2").arg(m_ptyPath, parseError)));
        return;
    }
    m_link->setInfo(*info);
    for (const auto &c : std::as_const(m_handshakeConnections))
        disconnect(c);
    m_handshakeConnections.clear();
    // Queued: this runs inside the link's frame parsing, and a receiver that makes a
    // blocking request (a nested event loop reading the port) must not re-enter it.
    const quint64 generation = m_generation;
    QTimer::singleShot(0, this, [this, generation] {
        if (generation != m_generation || m_phase != Phase::Handshaking)
            return;
        m_phase = Phase::Running;
        Q_EMIT started();
    });
}

void VirtualBoard::onHelloFailed(int seq, const QString &message)
{
    if (m_phase != Phase::Handshaking || seq != m_helloSeq)
        return;
    m_lastHelloError = message;
    const int attempts = qMax(1, m_options.handshakeAttempts);
    // An ERROR reply means the agent is there but refuses HELLO: retrying won't help.
    if (!m_link->lastAgentError() && m_helloAttempts < attempts && m_link->isOpen()) {
        sendHello();
        return;
    }
    failStart(withProcessOutput(QStringLiteral("no agent answered HELLO on %1 after %2 attempts: %3")
                                    .arg(m_ptyPath)
                                    .arg(m_helloAttempts)
                                    .arg(m_lastHelloError)));
}

void VirtualBoard::failStart(const QString &message)
{
    m_phase = Phase::Idle; // before shutdown(): this failure is reported, not a cancel
    shutdown(false);
    Q_EMIT failed(message);
}

void VirtualBoard::stop()
{
    shutdown(true);
}

void VirtualBoard::shutdown(bool notifyCancel)
{
    const bool wasStarting = isStarting();
    ++m_generation;
    m_phase = Phase::Idle;
    m_stopping = true;
    if (m_launchTimer)
        m_launchTimer->stop();
    for (const auto &c : std::as_const(m_handshakeConnections))
        disconnect(c);
    m_handshakeConnections.clear();
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
    m_lock.reset(); // after the process is gone: it wrote the flash file until then
    if (wasStarting && notifyCancel)
        Q_EMIT failed(QStringLiteral("virtual board %1: start cancelled").arg(m_board.id));
}

void VirtualBoard::onProcessOutput()
{
    if (!m_process)
        return;
    m_output += m_process->readAll();
    if (m_output.size() > kMaxKeptOutput)
        m_output = m_output.right(kMaxKeptOutput);
    if (m_phase != Phase::Launching)
        return;
    // QEMU: "char device redirected to /dev/pts/N (label serial0)";
    // host agent: "tinyml-agent-host: pty /dev/pts/N".
    static const QRegularExpression qemuPty(QStringLiteral("redirected to (/dev/\\S+)"));
    static const QRegularExpression hostPty(QStringLiteral("tinyml-agent-host: pty (\\S+)"));
    const QString text = QString::fromLocal8Bit(m_output);
    auto m = qemuPty.match(text);
    if (!m.hasMatch())
        m = hostPty.match(text);
    if (m.hasMatch()) {
        m_ptyPath = m.captured(1);
        beginHandshake();
    }
}

void VirtualBoard::onProcessFinished(int exitCode, QProcess::ExitStatus status)
{
    if (m_stopping || !m_process)
        return;
    m_output += m_process->readAll();
    const QString how = status == QProcess::CrashExit ? QStringLiteral("was killed or crashed")
                                                      : QStringLiteral("exited with code %1").arg(exitCode);
    const QString program = QFileInfo(m_commandLine.value(0)).fileName();
    if (m_phase == Phase::Launching) {
        // A QEMU built without plugin support refuses -plugin: say how to run without it.
        const QString hint = m_cycleChannel.isEmpty()
                                 ? QString()
                                 : QStringLiteral(" (it ran with the cycle-model plugin; TINYML_CYCLES_PLUGIN=off "
                                                  "starts the board without it)");
        failStart(QStringLiteral("%1 exited (code %2) without printing its pty path; output: %3%4")
                      .arg(program)
                      .arg(exitCode)
                      .arg(QString::fromLocal8Bit(m_output).trimmed(), hint));
        return;
    }
    if (m_phase == Phase::Handshaking) {
        failStart(withProcessOutput(QStringLiteral("%1 %2 before the agent answered HELLO").arg(program, how)));
        return;
    }
    Q_EMIT processDied(QStringLiteral("virtual board %1: %2 %3")
                           .arg(m_board.id, QFileInfo(m_commandLine.value(0)).fileName(), how));
}

} // namespace tinyml
