#pragma once
// Board plumbing shared by the commands that talk to an agent (flash, profile, classify): the
// --board/--port options, starting a virtual board or opening a real board's port, and the
// model to deploy.

#include "CliCommands.h"
#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"
#include "ModelPackageWriter.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>

#include <memory>
#include <optional>

namespace tinyml::cli {

/// A connected agent: a virtual board this command started, or a real board's port.
struct Connection {
    BoardRegistry registry;
    std::unique_ptr<VirtualBoard> board;
    std::unique_ptr<AgentLink> ownedLink;
    AgentLink *link = nullptr;
    BoardDefinition definition;
    std::unique_ptr<StopHandler> onStop;   ///< see stopBoardOnSignal()
};

/// Until the result is destroyed, Ctrl+C / SIGTERM / SIGHUP stop board (port closed, process
/// terminated and reaped) and end the process with 128 + the signal. For commands that have
/// nothing of their own to finish (flash, profile, classify); capture adds its own handler.
std::unique_ptr<StopHandler> stopBoardOnSignal(VirtualBoard *board);

/// PROJECT, --board, --port, --baud, --model, --force, --json.
void addBoardOptions(QCommandLineParser &p);
/// Starts the virtual board (--board) or opens and handshakes --port; on failure prints the
/// error, sets *exitCode and returns false.
bool connectBoard(const QCommandLineParser &p, const QString &command, bool quiet, Connection *c, int *exitCode);
/// The model to deploy: --model, else the latest int8 model.
std::optional<StoredModel> pickModel(ProjectStore &store, const QCommandLineParser &p, QString *error);

/// The stored model as a model package written by writer (whose stats() then describe it).
/// nullopt and *error ("model N: ..." or "model N cannot be packaged: ...") otherwise.
std::optional<QByteArray> packageModel(const StoredModel &stored, deploy::ModelPackageWriter &writer,
                                       QString *error);

} // namespace tinyml::cli
