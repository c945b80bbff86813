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

namespace {

void addOptions(QCommandLineParser &parser)
{
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
}

void setApplicationNames()
{
    QCoreApplication::setOrganizationName(QStringLiteral("TinyML Workbench"));
    QCoreApplication::setApplicationName(QStringLiteral("tinyml-workbench"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TINYML_VERSION));
}

/// --help, --version and usage errors need no display: answer them before QApplication,
/// which aborts when there is none.
bool answersWithoutWindow(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "--") // what follows are file names
            break;
        if (a == "-h" || a == "--help" || a == "--help-all" || a == "-?" || a == "-v" || a == "--version")
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char *argv[])
{
    if (answersWithoutWindow(argc, argv)) {
        QCoreApplication app(argc, argv);
        setApplicationNames();
        QCommandLineParser parser;
        addOptions(parser);
        parser.process(app); // prints help or version and exits 0; a bad option exits 1
        return 0;
    }
    QApplication app(argc, argv);
    setApplicationNames();
    tinyml::ui::applyWorkbenchStyle(app);

    QCommandLineParser parser;
    addOptions(parser);
    parser.process(app);

    tinyml::ui::MainWindow window;
    auto *exampleOpener = new tinyml::app::ExampleOpener(&window);
    const QString screenshot = parser.value(QStringLiteral("screenshot"));
    const QStringList files = parser.positionalArguments();
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
            // A screenshot run has nobody to close a message box: end it with the reason.
            if (!screenshot.isEmpty()) {
                qCritical("tinyml-workbench: cannot open %s: %s", qPrintable(files.first()), qPrintable(error));
                return 1;
            }
            QMessageBox::critical(&window, QObject::tr("Open project"), error);
            return QApplication::exec();
        }
        window.showStage(tinyml::ui::MainWindow::Stage::Acquisition);
        const QString board = parser.isSet(QStringLiteral("board")) ? parser.value(QStringLiteral("board"))
                                                                    : window.session()->boardId();
        auto *acquisition = window.acquisitionPage();
        if (acquisition->selectDevice(board))
            acquisition->connectDevice();
    }
    return QApplication::exec();
}
