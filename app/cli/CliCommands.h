#pragma once
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

class QCommandLineParser;

namespace tinyml {
class ProjectStore;
}
namespace tinyml::crypto {
class SigningKeyStore;
struct SigningKeyInfo;
}

namespace tinyml::cli {

/// Runs one `tinyml` invocation; returns the process exit status.
int run(const QStringList &arguments);

/// Exit statuses.
enum Exit { Ok = 0, Failed = 1, Usage = 2 };

/// One sub-command: name, one-line summary, and the function that runs it with the
/// arguments after the command name (args[0] is "tinyml <command>").
struct Command {
    QString name;
    QString synopsis;
    QString summary;
    std::function<int(const QStringList &args)> run;
};

// Shared plumbing for the command implementations.
void printJson(const QJsonObject &object);
int fail(const QString &message);                      ///< "tinyml: error: ..." -> Failed
int usageError(const QString &command, const QString &message);
/// Parses args with parser; on error prints it and returns false.
bool parseOrReport(QCommandLineParser &parser, const QStringList &args, const QString &command,
                   int expectedPositional, int *exitCode);

// --- stopping: Ctrl+C (SIGINT), SIGTERM, SIGHUP -----------------------------------------
// While a StopHandler lives, such a signal runs the innermost handler's function from the
// event loop (a self-pipe read by a QSocketNotifier), so the command can stop its board and
// close its sample. Without one, or at a second signal, the signal's default action ends the
// process at once. A command that ends because of a signal exits with 128 + the signal
// (130 for Ctrl+C, 143 for SIGTERM). Unix only; elsewhere these are no-ops.

/// Once, in main(), after the QCoreApplication exists.
void installStopSignals();
/// The signal that asked the running command to stop, 0 when none.
int stopSignal();
/// "SIGINT", "SIGTERM", "SIGHUP", else "signal N".
QString signalName(int signal);

class StopHandler
{
public:
    explicit StopHandler(std::function<void(int signal)> onStop);
    ~StopHandler();
    StopHandler(const StopHandler &) = delete;
    StopHandler &operator=(const StopHandler &) = delete;

private:
    std::function<void(int)> m_onStop;
};

/// Opens a project for a command that only reads it. A file or folder this process cannot
/// write is opened read-only, and the user is told once on stderr:
/// "tinyml: note: project is read-only: <reason>".
std::unique_ptr<ProjectStore> openProjectToRead(const QString &path, QString *error);
/// Opens a project for a command that writes it; a read-only one is refused with one message
/// naming the command's action ("cannot import into X: project is read-only: <reason>").
std::unique_ptr<ProjectStore> openProjectToWrite(const QString &path, const QString &action, QString *error);

/// The signing key --key names, else the only key with a secret key; otherwise a usage error
/// (exit code in *exitCode) that lists the keys or says to create one (KeyCommands.cpp).
std::optional<crypto::SigningKeyInfo> chooseSigningKey(const crypto::SigningKeyStore &keys, const QCommandLineParser &p,
                                                       const QString &command, int *exitCode);

/// True when the board registry knows id; otherwise error lists the known ids.
bool boardExists(const QString &id, QString *error);

// Command groups, one file each.
QList<Command> projectCommands();   // new, info
QList<Command> dataCommands();      // import, export-data
QList<Command> sampleCommands();    // samples list|delete|relabel
QList<Command> deviceCommands();    // boards, devices, capture
QList<Command> trainingCommands();  // features, train, quantize, export, import-model
QList<Command> deployCommands();    // flash, profile
QList<Command> impulseCommands();   // classify, calibrate
QList<Command> firmwareCommands();  // flash-firmware
QList<Command> keyCommands();       // keys new|list
QList<Command> mlperfCommands();    // mlperf
QList<Command> predictCommands();   // predict
QList<Command> modelCardCommands(); // model-card
QList<Command> fleetCommands();     // fleet, rollout
QList<Command> telemetryCommands(); // telemetry (drift)

} // namespace tinyml::cli
