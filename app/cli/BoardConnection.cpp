#include "BoardConnection.h"

#include "model/Graph.h"

#include "CliCommands.h"

#include <QTextStream>

#include <cstdio>
#include <cstdlib>

namespace tinyml::cli {

std::unique_ptr<StopHandler> stopBoardOnSignal(VirtualBoard *board)
{
    return std::make_unique<StopHandler>([board](int sig) {
        QTextStream(stderr) << "tinyml: " << signalName(sig) << ": stopping virtual board "
                            << board->board().id << "\n";
        board->stop();
        std::fflush(nullptr);
        // Nothing else to finish: the project's committed writes are durable, an open
        // transaction rolls back. _Exit: unwinding from inside a nested event loop is not
        // possible, and static destructors must not run under a live QCoreApplication.
        std::_Exit(128 + sig);
    });
}

void addBoardOptions(QCommandLineParser &p)
{
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("board"), QStringLiteral("board id; virtual boards are started automatically"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port of a board running the TinyML agent"), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("baud"), QStringLiteral("baud rate"), QStringLiteral("N"), QStringLiteral("115200")});
    p.addOption({QStringLiteral("model"), QStringLiteral("model id (default: the project's latest int8 model)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("force"), QStringLiteral("upload even when the board already runs this package")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
}

bool connectBoard(const QCommandLineParser &p, const QString &command, bool quiet, Connection *c, int *exitCode)
{
    QString error;
    if (p.isSet(QStringLiteral("board")) == p.isSet(QStringLiteral("port"))) {
        *exitCode = usageError(command, QStringLiteral("give exactly one of --board or --port"));
        return false;
    }
    if (!c->registry.loadDefault(&error)) {
        *exitCode = fail(error);
        return false;
    }
    if (p.isSet(QStringLiteral("board"))) {
        const BoardDefinition *def = c->registry.board(p.value(QStringLiteral("board")));
        if (!def) {
            boardExists(p.value(QStringLiteral("board")), &error);
            *exitCode = fail(error);
            return false;
        }
        if (!def->isVirtual) {
            *exitCode = fail(QStringLiteral("%1 is a real board: flash the agent onto it, connect it and pass --port "
                                            "(see `tinyml devices`)").arg(def->id));
            return false;
        }
        c->definition = *def;
        c->board = std::make_unique<VirtualBoard>(*def);
        c->onStop = stopBoardOnSignal(c->board.get());
        if (!quiet)
            QTextStream(stderr) << "Starting virtual board " << def->id << "...\n";
        if (!c->board->start(&error)) {
            *exitCode = fail(error);
            return false;
        }
        c->link = c->board->link();
        return true;
    }
    c->ownedLink = std::make_unique<AgentLink>();
    c->link = c->ownedLink.get();
    c->link->setPortName(p.value(QStringLiteral("port")));
    c->link->setBaudRate(p.value(QStringLiteral("baud")).toInt());
    if (!c->link->open(&error) || !c->link->handshake(10, 500, &error)) {
        *exitCode = fail(QStringLiteral("%1: %2").arg(p.value(QStringLiteral("port")), error));
        return false;
    }
    const QString agentBoard = c->link->info().boardId;
    if (const BoardDefinition *def = c->registry.boardForAgentId(agentBoard)) {
        c->definition = *def;
    } else {
        c->definition.id = agentBoard;
        c->definition.name = agentBoard;
        c->definition.clockHz = c->link->info().clockHz;
    }
    return true;
}

std::optional<StoredModel> pickModel(ProjectStore &store, const QCommandLineParser &p, QString *error)
{
    if (p.isSet(QStringLiteral("model"))) {
        bool ok = false;
        const qint64 id = p.value(QStringLiteral("model")).toLongLong(&ok);
        if (!ok || id <= 0) {
            *error = QStringLiteral("--model must be a model id (see `tinyml info`)");
            return std::nullopt;
        }
        auto m = store.model(id, error);
        if (m && m->kind != ModelKind::Int8) {
            *error = QStringLiteral("model %1 is a float model: flash an int8 model (`tinyml quantize` makes one)").arg(id);
            return std::nullopt;
        }
        return m;
    }
    auto m = store.latestModel(ModelKind::Int8, error);
    if (!m)
        *error = QStringLiteral("the project has no int8 model: run `tinyml quantize` first");
    return m;
}

std::optional<QByteArray> packageModel(const StoredModel &stored, deploy::ModelPackageWriter &writer,
                                       QString *error)
{
    QString why;
    auto graph = model::Graph::deserialize(stored.graph, &why);
    if (!graph) {
        *error = QStringLiteral("model %1: %2").arg(stored.id).arg(why);
        return std::nullopt;
    }
    auto package = writer.write(*graph, &why);
    if (!package)
        *error = QStringLiteral("model %1 cannot be packaged: %2").arg(stored.id).arg(why);
    return package;
}

} // namespace tinyml::cli
