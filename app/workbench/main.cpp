#include "MainWindow.h"
#include "WorkbenchStyle.h"

#include <QApplication>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("TinyML Workbench"));
    QApplication::setApplicationName(QStringLiteral("tinyml-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(TINYML_VERSION));
    tinyml::ui::applyWorkbenchStyle(app);

    tinyml::ui::MainWindow window;
    window.show();
    window.restoreLastProject();
    return QApplication::exec();
}
