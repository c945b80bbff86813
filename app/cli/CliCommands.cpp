#include "CliCommands.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QTextStream>

namespace tinyml::cli {

void printJson(const QJsonObject &object)
{
    QTextStream(stdout) << QJsonDocument(object).toJson(QJsonDocument::Indented);
}

int fail(const QString &message)
{
    QString line = message.simplified();
    QTextStream(stderr) << "tinyml: error: " << line << "\n";
    return Failed;
}

int usageError(const QString &command, const QString &message)
{
    QTextStream(stderr) << "tinyml " << command << ": " << message << "\n"
                        << "Try `tinyml " << command << " --help`.\n";
    return Usage;
}

bool parseOrReport(QCommandLineParser &parser, const QStringList &args, const QString &command,
                   int expectedPositional, int *exitCode)
{
    parser.addHelpOption();
    if (!parser.parse(args)) {
        *exitCode = usageError(command, parser.errorText());
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        *exitCode = Ok;
        return false;
    }
    const int got = parser.positionalArguments().size();
    if (expectedPositional >= 0 ? got != expectedPositional : got < -expectedPositional) {
        *exitCode = usageError(command, QStringLiteral("wrong number of arguments"));
        return false;
    }
    return true;
}

static QList<Command> allCommands()
{
    QList<Command> all;
    all += projectCommands();
    all += dataCommands();
    all += deviceCommands();
    all += deployCommands();
    all += impulseCommands();
    all += firmwareCommands();
#ifdef TINYML_HAVE_TRAINING
    all += trainingCommands();
#endif
    return all;
}

static void printUsage(QTextStream &out)
{
    out << "usage: tinyml <command> [options]\n\n"
           "TinyML Workbench on the command line: capture, import, train, quantize, flash, "
           "profile.\n\ncommands:\n";
    for (const Command &c : allCommands())
        out << "  " << c.name.leftJustified(14) << c.summary << "\n";
    out << "\n`tinyml <command> --help` describes a command's options.\n";
}

int run(const QStringList &arguments)
{
    QTextStream out(stdout);
    if (arguments.size() < 2 || arguments[1] == QLatin1String("--help") ||
        arguments[1] == QLatin1String("-h") || arguments[1] == QLatin1String("help")) {
        printUsage(out);
        return arguments.size() < 2 ? Usage : Ok;
    }
    if (arguments[1] == QLatin1String("--version")) {
        out << "tinyml " << TINYML_VERSION << "\n";
        return Ok;
    }
    const QString name = arguments[1];
    for (const Command &c : allCommands()) {
        if (c.name == name) {
            QStringList rest = arguments.mid(2);
            rest.prepend(QStringLiteral("tinyml ") + name);
            return c.run(rest);
        }
    }
    QTextStream(stderr) << "tinyml: unknown command '" << name << "'\n";
    printUsage(out);
    return Usage;
}

} // namespace tinyml::cli
