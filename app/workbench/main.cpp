// tinyml-workbench [PROJECT] [--board ID] [--open-example FILE] [--screenshot FILE]
// With a project, opens it on Data acquisition; a virtual board (the project's, or --board)
// is started and connected. Without one, reopens the last project, else the welcome page.
// --screenshot saves the window once it has been shown and quits (packaging tests, docs).
#include "ExampleOpener.h"
#include "pages/AcquisitionPage.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"
#include "window/WorkbenchStyle.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QTimer>

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
    parser.addOption({QStringLiteral("screenshot"),
                      QStringLiteral("save the window to FILE (PNG) 1.5 s after it is shown, then quit"),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("open-example"),
                      QStringLiteral("create FILE from the motion example and open it (Open example without the dialog)"),
                      QStringLiteral("FILE")});
    parser.process(app);

    tinyml::ui::MainWindow window;
    auto *exampleOpener = new tinyml::app::ExampleOpener(&window);
    const QString screenshot = parser.value(QStringLiteral("screenshot"));
    if (!screenshot.isEmpty())
        window.resize(1280, 800);
    window.show();
    if (!screenshot.isEmpty()) {
        // Long enough for layouts, icons and a virtual board's first frames.
        QTimer::singleShot(1500, &window, [&window, screenshot] {
            if (!window.grab().save(screenshot)) {
                qCritical("tinyml-workbench: cannot write the screenshot %s", qPrintable(screenshot));
                QApplication::exit(1);
                return;
            }
            QApplication::exit(0);
        });
    }
    const QStringList files = parser.positionalArguments();
    if (parser.isSet(QStringLiteral("open-example"))) {
        QString error;
        if (!exampleOpener->createAndOpen(QStringLiteral("motion"), parser.value(QStringLiteral("open-example")), &error)) {
            qCritical("tinyml-workbench: %s", qPrintable(error));
            return 1;
        }
    } else if (files.isEmpty()) {
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
