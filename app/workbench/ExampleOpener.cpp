#include "ExampleOpener.h"

#include "ExampleProject.h"
#include "window/MainWindow.h"
#include "window/WelcomePage.h"

#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>

namespace tinyml::app {

namespace {
const QString kExample = QStringLiteral("motion");
}

ExampleOpener::ExampleOpener(ui::MainWindow *window) : QObject(window), m_window(window)
{
    connect(window->welcomePage(), &ui::WelcomePage::openExampleRequested, this, &ExampleOpener::openExample);
}

void ExampleOpener::openExample()
{
    const QString suggested = examples::suggestedProjectPath(kExample);
    // The dialog needs an existing folder to start in; the default one is created on demand.
    QDir().mkpath(QFileInfo(suggested).absolutePath());
    QString path = QFileDialog::getSaveFileName(m_window, tr("Save the example project as"), suggested,
                                                tr("TinyML projects (*.tinyml)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".tinyml");
    QString error;
    QApplication::setOverrideCursor(Qt::BusyCursor);
    const bool ok = createAndOpen(kExample, path, &error);
    QApplication::restoreOverrideCursor();
    if (!ok)
        QMessageBox::critical(m_window, tr("Open example"), error);
}

bool ExampleOpener::createAndOpen(const QString &id, const QString &projectPath, QString *error)
{
    examples::ExampleResult result;
    if (!examples::createProjectFromExample(id, projectPath, &result, error))
        return false;
    if (!m_window->openProject(result.projectPath, error))
        return false;
    m_window->showStage(ui::MainWindow::Stage::Dataset);
    return true;
}

} // namespace tinyml::app
