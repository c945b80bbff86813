#pragma once
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>

class QCommandLineParser;

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

/// True when the board registry knows id; otherwise error lists the known ids.
bool boardExists(const QString &id, QString *error);

// Command groups, one file each.
QList<Command> projectCommands();   // new, info
QList<Command> dataCommands();      // import, export-data
QList<Command> deviceCommands();    // boards, devices, capture
QList<Command> trainingCommands();  // features, train, quantize, export, import-model
QList<Command> deployCommands();    // flash, profile
QList<Command> impulseCommands();   // classify, calibrate
QList<Command> firmwareCommands();  // flash-firmware

} // namespace tinyml::cli
