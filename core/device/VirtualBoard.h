#pragma once
// VirtualBoard: runs the firmware agent on an emulated board (QEMU) or as the host agent
// program, and hands out an AgentLink to it over the pty it serves.
//
// Threading: a QObject of one thread (the QProcess and the AgentLink live there).
// Destroying a VirtualBoard stops it: the port is closed, the process terminated and
// reaped, so no zombie or stray emulator outlives it.
// On Linux the process also dies with its owner when the owner is killed (PR_SET_PDEATHSIG,
// SIGKILL; tied to the thread that started it) and runs in its own process group, so a
// terminal's Ctrl+C reaches only the owner, which decides how to stop.
// One user per board: the state folder is locked (BoardLock) from the launch until stop(),
// so a second process, CLI or GUI, fails to start the same board with "board <id> is in use
// by PID N (<command line>)"; the lock of a process that died is taken over.
//
//     VirtualBoard board(*registry.board("qemu-m4"));
//     if (!board.start(&err)) fail(err);      // launch, find the pty, open, HELLO
//     board.link()->info().counterKindName(); // "instructions"
//
// Asynchronous (the GUI: booting takes about a second and must not freeze the window):
//     connect(&board, &VirtualBoard::started, ...);   // link() is ready
//     connect(&board, &VirtualBoard::failed, ...);    // the same messages start() gives
//     board.startAsync();                             // returns at once
// start() is startAsync() plus a local event loop, so both take one path.
//
// Cycle model: a QEMU board whose JSON has "cycle_model" runs with the QEMU plugin
// libtinyml_cycles.so (firmware-agent/qemu-plugin), which writes the estimated cycles of the
// agent's marked intervals into cycleChannelPath() in the state folder. The plugin is found
// like the agent images (CycleModelLocator); env TINYML_CYCLES_PLUGIN=/path picks one,
// TINYML_CYCLES_PLUGIN=off runs without. Without it the board runs as before and
// cycleModelUnavailableReason() says why.

#include "device/AgentLink.h"
#include "device/BoardLock.h"
#include "device/BoardRegistry.h"

#include <QObject>
#include <QProcess>
#include <QTimer>

#include <memory>

namespace tinyml {

/// Finds agent images and the host agent: env TINYML_AGENT_DIR, then the installed folder
/// <app dir>/../lib/tinyml-workbench/agent (only that one when it exists), else the build
/// tree (compiled in).
class AgentLocator
{
public:
    /// relativeImage as in the board JSON ("qemu-mps2-an386/tinyml-agent.elf").
    static QString findImage(const QString &relativeImage, QString *error);
    static QString findHostAgent(const QString &executableName, QString *error);
    static QStringList searchDirectories();
};

/// Finds the cycle-model QEMU plugin: env TINYML_CYCLES_PLUGIN (a path, or "off"), then
/// libtinyml_cycles.so in the agent directories (AgentLocator::searchDirectories(): the
/// installed agent folder, else the build tree's firmware-agent/qemu-plugin/).
class CycleModelLocator
{
public:
    static constexpr const char *kPluginFile = "libtinyml_cycles.so";
    /// The plugin's absolute path, or empty with *why (switched off, not built, not found).
    static QString findPlugin(QString *why);
};

class VirtualBoard : public QObject
{
    Q_OBJECT
public:
    struct Options {
        /// Where QEMU / the host agent keep tinyml-flash.bin; empty = defaultStateDirectory().
        QString stateDirectory;
        /// false: batch speed (QEMU sleep=off, host agent --fast); true: real-time pacing.
        bool realtime = false;
        QString qemuProgram = QStringLiteral("qemu-system-arm");
        int launchTimeoutMs = 15000;   ///< until the pty path is printed
        int handshakeAttempts = 40;    ///< HELLOs while the guest boots
        int handshakeTimeoutMs = 250;
        QStringList extraArguments;
        /// Run the cycle-model plugin when the board has a cycle_model and the plugin is found.
        bool cycleModel = true;
    };

    explicit VirtualBoard(const BoardDefinition &board, QObject *parent = nullptr);
    VirtualBoard(const BoardDefinition &board, const Options &options, QObject *parent = nullptr);
    ~VirtualBoard() override;

    /// Launches, opens the pty and handshakes, waiting in a local event loop. Errors say
    /// what is missing and how to get it. True at once when the board already runs.
    bool start(QString *error);
    /// Begins a start and returns at once; exactly one of started() / failed() follows,
    /// never before this returns. False (and no signal) when the board is already running
    /// or starting: a second call never launches a second process.
    bool startAsync();
    /// Closes the port, terminates the process and waits for it. Safe to call twice.
    /// During a start it cancels it: failed() follows with "start cancelled".
    void stop();
    /// Started: the agent answered HELLO and the process runs.
    bool isRunning() const;
    /// startAsync() was called and neither started() nor failed() has come yet.
    bool isStarting() const { return m_phase == Phase::Launching || m_phase == Phase::Handshaking; }

    AgentLink *link() const { return m_link.get(); }
    const BoardDefinition &board() const { return m_board; }
    QString ptyPath() const { return m_ptyPath; }
    qint64 processId() const;
    /// The board's state folder (tinyml-flash.bin): Options::stateDirectory, else
    /// defaultStateDirectory(). Known before start(). It is also the process's working
    /// directory, so the folder where semihosting (QEMU) and the host agent open relative
    /// paths: a SENSOR_REPLAY file written here is found by its bare name.
    QString stateDirectory() const;
    /// Same as stateDirectory(); the name says why a replay caller wants it.
    QString workingDirectory() const { return stateDirectory(); }
    /// The command line used (program first), for logs and error messages.
    QStringList commandLine() const { return m_commandLine; }
    /// The cycle model's side channel (state folder/tinyml-cycles.txt) while the board runs
    /// with the plugin; empty when it runs without (see cycleModelUnavailableReason()).
    QString cycleChannelPath() const { return m_cycleChannel; }
    /// Why the board runs without the cycle model ("board host has no cycle_model",
    /// "TINYML_CYCLES_PLUGIN=off", "... not found (looked in ...)"); empty when it runs with it.
    QString cycleModelUnavailableReason() const { return m_cycleUnavailable; }
    /// The last lines the process printed (its stderr and stdout), for error messages.
    QString processOutput() const { return QString::fromLocal8Bit(m_output); }

    /// GenericDataLocation/tinyml-workbench/virtual-boards/<id> (~/.local/share/... on Linux),
    /// shared by the CLI and the GUI; $TINYML_VIRTUAL_BOARDS_DIR/<id> when that is set (a
    /// second, independent set of virtual boards: parallel jobs, tests).
    static QString defaultStateDirectory(const QString &boardId);
    /// The path of qemu-system-arm (or the given program), or empty with an install hint.
    static QString findQemu(const QString &program, QString *error);

Q_SIGNALS:
    /// The process ended while the board was running (crash, kill). The link reports
    /// connectionLost separately when the pty goes away.
    void processDied(const QString &message);
    /// The start ended well: link() is open and has the agent's INFO.
    void started();
    /// The start ended badly; the process is gone. message says what is missing and how
    /// to get it (QEMU's install command, the agent image's build target, ...).
    void failed(const QString &message);

private:
    enum class Phase { Idle, Launching, Handshaking, Running };
    bool launch(QString *error);
    void onProcessOutput();
    void onProcessFinished(int exitCode, QProcess::ExitStatus status);
    void onProcessError(QProcess::ProcessError error);
    void onLaunchTimeout();
    void beginHandshake();
    void sendHello();
    void onHelloReply(int seq, const tinyml::AgentReply &reply);
    void onHelloFailed(int seq, const QString &message);
    /// Ends a start: cleans up, then emits failed(message) once.
    void failStart(const QString &message);
    QString withProcessOutput(const QString &message) const;
    void shutdown(bool notifyCancel);

    BoardDefinition m_board;
    Options m_options;
    QProcess *m_process = nullptr;
    std::unique_ptr<AgentLink> m_link;
    std::unique_ptr<BoardLock> m_lock;   ///< held from launch() to shutdown()
    QString m_ptyPath;
    QString m_stateDir;
    QString m_cycleChannel;
    QString m_cycleUnavailable;
    QStringList m_commandLine;
    QByteArray m_output;
    bool m_stopping = false;
    Phase m_phase = Phase::Idle;
    quint64 m_generation = 0;        ///< bumped per start and stop; stale queued calls check it
    QTimer *m_launchTimer = nullptr;
    int m_helloSeq = -1;
    int m_helloAttempts = 0;
    QString m_lastHelloError;
    QList<QMetaObject::Connection> m_handshakeConnections;
};

} // namespace tinyml
