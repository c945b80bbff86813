#include "MainWindow.h"

#include <QApplication>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("TinyML Workbench"));
    QApplication::setApplicationName(QStringLiteral("tinyml-workbench"));
    tinyml::ui::MainWindow window;
    window.show();
    return QApplication::exec();
}
