// tinyml-workbench [PROJECT] [--board ID]
// With a project, opens it on Data acquisition; a virtual board (the project's, or --board)
// is started and connected. Without one, reopens the last project, else the welcome page.
#include "AcquisitionPage.h"
#include "MainWindow.h"
#include "ProjectSession.h"
#include "WorkbenchStyle.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("TinyML Workbench"));
    QApplication::setApplicationName(QStringLiteral("tinyml-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(TINYML_VERSION));
    tinyml::ui::applyWorkbenchStyle(app);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("TinyML Workbench: capture, train, quantize, flash, profile."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file to open (*.tinyml)"),
                                 QStringLiteral("[PROJECT]"));
    parser.addOption({QStringLiteral("board"), QStringLiteral("board to connect to (default: the project's, when virtual)"),
                      QStringLiteral("ID")});
    parser.process(app);

    tinyml::ui::MainWindow window;
    window.show();
    const QStringList files = parser.positionalArguments();
    if (files.isEmpty()) {
        window.restoreLastProject();
    } else {
        QString error;
        if (!window.openProject(files.first(), &error)) {
            QMessageBox::critical(&window, QObject::tr("Open project"), error);
        } else {
            window.showStage(tinyml::ui::MainWindow::Stage::Acquisition);
            const QString board = parser.isSet(QStringLiteral("board")) ? parser.value(QStringLiteral("board"))
                                                                        : window.session()->boardId();
            auto *acquisition = window.acquisitionPage();
            if (acquisition->selectDevice(board))
                acquisition->connectDevice();
        }
    }
    return QApplication::exec();
}
