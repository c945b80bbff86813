#pragma once
// VirtualBoard: runs the firmware agent on an emulated board (QEMU) or as the host agent
// program, and hands out an AgentLink to it over the pty it serves.
//
// Threading: a QObject of one thread (the QProcess and the AgentLink live there).
// Destroying a VirtualBoard stops it: the port is closed, the process terminated and
// reaped, so no zombie or stray emulator outlives it.
//
//     VirtualBoard board(*registry.board("qemu-m4"));
//     if (!board.start(&err)) fail(err);      // launch, find the pty, open, HELLO
//     board.link()->info().counterKindName(); // "instructions"

#include "device/AgentLink.h"
#include "device/BoardRegistry.h"

#include <QObject>
#include <QProcess>

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
    };

    explicit VirtualBoard(const BoardDefinition &board, QObject *parent = nullptr);
    VirtualBoard(const BoardDefinition &board, const Options &options, QObject *parent = nullptr);
    ~VirtualBoard() override;

    /// Launches, opens the pty and handshakes. Errors say what is missing and how to get it.
    bool start(QString *error);
    /// Closes the port, terminates the process and waits for it. Safe to call twice.
    void stop();
    bool isRunning() const;

    AgentLink *link() const { return m_link.get(); }
    const BoardDefinition &board() const { return m_board; }
    QString ptyPath() const { return m_ptyPath; }
    qint64 processId() const;
    QString stateDirectory() const { return m_stateDir; }
    /// The command line used (program first), for logs and error messages.
    QStringList commandLine() const { return m_commandLine; }
    /// The last lines the process printed (its stderr and stdout), for error messages.
    QString processOutput() const { return QString::fromLocal8Bit(m_output); }

    /// GenericDataLocation/tinyml-workbench/virtual-boards/<id> (~/.local/share/... on Linux),
    /// shared by the CLI and the GUI.
    static QString defaultStateDirectory(const QString &boardId);
    /// The path of qemu-system-arm (or the given program), or empty with an install hint.
    static QString findQemu(const QString &program, QString *error);

Q_SIGNALS:
    /// The process ended while the board was running (crash, kill). The link reports
    /// connectionLost separately when the pty goes away.
    void processDied(const QString &message);

private:
    bool launch(QString *error);
    void onProcessOutput();
    void onProcessFinished(int exitCode, QProcess::ExitStatus status);

    BoardDefinition m_board;
    Options m_options;
    QProcess *m_process = nullptr;
    std::unique_ptr<AgentLink> m_link;
    QString m_ptyPath;
    QString m_stateDir;
    QStringList m_commandLine;
    QByteArray m_output;
    bool m_stopping = false;
};

} // namespace tinyml
