// tinyml — the command-line face of TinyML Workbench. Thin: parses arguments and calls
// core/training/deploy. Exit status 0 on success, 1 on failure (one-line error on stderr),
// 2 on a usage error.
#include "CliCommands.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("TinyML Workbench"));
    QCoreApplication::setApplicationName(QStringLiteral("tinyml"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TINYML_VERSION));
    // Ctrl+C / SIGTERM / SIGHUP stop a virtual board and close a capture cleanly.
    tinyml::cli::installStopSignals();
    return tinyml::cli::run(QCoreApplication::arguments());
}
