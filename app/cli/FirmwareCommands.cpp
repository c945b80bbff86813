// tinyml flash-firmware: writes the agent firmware onto a real board with the board's own
// tool (deploy::BoardFlasher); models then go over the agent protocol (`tinyml flash`).
#include "CliCommands.h"

#include "BoardFlasher.h"

#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QTextStream>

namespace tinyml::cli
{

namespace
{

int cmdFlashFirmware(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Write the agent firmware onto a real board with the board's flasher tool (openocd, "
        "pyocd,\n"
        "picotool, bossac, ... as its board file names), streaming the tool's output. Afterwards "
        "the\n"
        "board answers the agent protocol: `tinyml flash` / `tinyml profile` put models on it."));
    p.addOption({QStringLiteral("board"), QStringLiteral("board id (`tinyml boards`)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port, for tools that need one"),
                 QStringLiteral("PATH")});
    p.addOption(
        {QStringLiteral("image"),
         QStringLiteral("firmware image (default: the board's agent image from this build)"),
         QStringLiteral("FILE")});
    p.addOption({QStringLiteral("json"),
                 QStringLiteral("print the result as JSON (tool output still goes to stderr)")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("flash-firmware"), 0, &code))
        return code;
    if (!p.isSet(QStringLiteral("board")))
        return usageError(QStringLiteral("flash-firmware"),
                          QStringLiteral("--board ID is required"));
    BoardRegistry registry;
    QString error;
    if (!registry.loadDefault(&error))
        return fail(error);
    const QString id = p.value(QStringLiteral("board"));
    const BoardDefinition *board = registry.board(id);
    if (!board) {
        QStringList ids;
        for (const BoardDefinition &b : registry.boards())
            ids << b.id;
        return fail(QStringLiteral("unknown board \"%1\"; known boards: %2")
                        .arg(id, ids.join(QStringLiteral(", "))));
    }
    if (board->isVirtual)
        return fail(
            QStringLiteral(
                "%1 is a virtual board: its agent starts with it; put models on it with `tinyml "
                "flash`")
                .arg(id));
    QTextStream err(stderr);
    QString image = p.value(QStringLiteral("image"));
    if (image.isEmpty()) {
        image = AgentLocator::findImage(board->agentImage, &error);
        if (image.isEmpty())
            return fail(
                QStringLiteral("no agent image for %1: %2; or pass --image FILE").arg(id, error));
        if (!board->verifiedOnHardware)
            err << "note: the agent port for " << id
                << " is compile-checked only, not verified on hardware\n"
                << Qt::flush;
    }
    const bool json = p.isSet(QStringLiteral("json"));
    deploy::BoardFlasher flasher;
    QObject::connect(&flasher, &deploy::BoardFlasher::started, [&](const QString &command) {
        err << "$ " << command << "\n" << Qt::flush;
    });
    const deploy::FlashResult r =
        flasher.run(*board, image, p.value(QStringLiteral("port")), [&](const QString &line) {
            err << line << "\n" << Qt::flush;
        });
    if (json) {
        printJson({{QStringLiteral("board"), id},
                   {QStringLiteral("image"), QFileInfo(image).absoluteFilePath()},
                   {QStringLiteral("tool"), r.plan.tool},
                   {QStringLiteral("arguments"), QJsonArray::fromStringList(r.plan.arguments)},
                   {QStringLiteral("ok"), r.ok},
                   {QStringLiteral("exit_code"), r.exitCode},
                   {QStringLiteral("last_lines"), QJsonArray::fromStringList(r.lastLines)},
                   {QStringLiteral("error"), r.error}});
    }
    if (!r.ok)
        return fail(r.error);
    if (!json)
        QTextStream(stdout) << "Flashed " << QFileInfo(image).fileName() << " onto " << id
                            << " with " << r.plan.tool << "\n";
    return Ok;
}

} // namespace

QList<Command> firmwareCommands()
{
    return {
        {QStringLiteral("flash-firmware"),
         QStringLiteral("flash-firmware --board ID [--port PATH] [--image FILE] [--json]"),
         QStringLiteral("write the agent firmware onto a real board with its flasher tool"),
         cmdFlashFirmware},
    };
}

} // namespace tinyml::cli
