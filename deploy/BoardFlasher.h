#pragma once
// Flashes a real board that does not run the agent yet with the board's own tool (openocd,
// pyocd, picotool, dfu-util, bossac, esptool: "flasher" in resources/boards/<id>.json)
// through QProcess. Agent-equipped and virtual boards are flashed over the agent protocol
// instead (AgentLink model upload).
//
// The tool is flasher.tool when it is on PATH, else the first of flasher.alternative_tools
// that is; "{image}" and "{port}" in its arguments are replaced by the image file and the
// serial port. Every line the tool prints (stdout and stderr, split at '\n' and at '\r' so
// progress bars arrive as they update) is emitted by outputLine() as it comes. Failures say
// what to do: a missing tool names the install command, a tool that fails shows its last
// lines and what to check (connection, port, permissions).
//
// Threading: a QObject used from the thread whose event loop runs it (the GUI thread, or the
// CLI's main thread through run()). One flash at a time per object.

#include "device/BoardRegistry.h"

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace tinyml::deploy
{

struct FlashPlan {
    QString tool;          ///< as named in the board JSON ("openocd")
    QString program;       ///< absolute path found on PATH
    QStringList arguments; ///< placeholders substituted
    QString installHint;
    QString port;
    bool usesPort = false; ///< the arguments name the serial port
};

struct FlashResult {
    bool ok = false;
    bool cancelled = false;
    int exitCode = -1; ///< the tool's exit status; -1 when it crashed or never ran
    FlashPlan plan;
    QStringList lastLines; ///< the tool's last output lines (up to kLastLines)
    QString error;         ///< empty when ok; otherwise why, and what to check
};

class BoardFlasher : public QObject
{
    Q_OBJECT
  public:
    static constexpr int kLastLines = 12;

    explicit BoardFlasher(QObject *parent = nullptr);
    ~BoardFlasher() override; ///< kills a tool still running

    /// What start() would run. Errors: the board has no flasher (virtual boards), no image or
    /// an image that does not exist, no port for a tool that needs one, no tool on PATH (the
    /// message gives each tool's install command).
    static std::optional<FlashPlan> plan(const BoardDefinition &board, const QString &image,
                                         const QString &port, QString *error);
    /// "install it with: sudo apt-get install openocd" for a Debian package name, otherwise
    /// "install it: <hint>".
    static QString installAdvice(const QString &installHint);

    /// Starts the tool; finished() follows (also after cancel()). False with *error when
    /// plan() fails or a flash is already running.
    bool start(const BoardDefinition &board, const QString &image, const QString &port,
               QString *error);
    /// Stops the tool (SIGTERM, then SIGKILL after two seconds).
    void cancel();
    bool isRunning() const;

    /// Synchronous form for the CLI: start(), lines to onLine as they arrive, wait until the
    /// tool ends or timeoutMs passes (then it is cancelled).
    FlashResult run(const BoardDefinition &board, const QString &image, const QString &port,
                    const std::function<void(const QString &line)> &onLine = {},
                    int timeoutMs = 600000);

    /// The last finished flash.
    const FlashResult &result() const { return m_result; }

  Q_SIGNALS:
    void started(const QString &commandLine);
    void outputLine(const QString &line);
    void finished(const tinyml::deploy::FlashResult &result);

  private:
    void readChannel(QProcess::ProcessChannel channel);
    void emitLine(const QString &line);
    void flushPartial();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onError(QProcess::ProcessError error);
    void finish();

    QProcess *m_process = nullptr;
    FlashPlan m_plan;
    FlashResult m_result;
    QByteArray m_partial[2]; ///< unterminated line per channel
    QStringList m_tail;
    bool m_cancelled = false;
    bool m_done = true;
};

} // namespace tinyml::deploy

Q_DECLARE_METATYPE(tinyml::deploy::FlashResult)
