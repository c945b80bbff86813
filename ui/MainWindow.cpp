#include "MainWindow.h"

#include <QLabel>
#include <QStatusBar>

namespace tinyml::ui {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(tr("TinyML Workbench"));
    setCentralWidget(new QLabel(tr("TinyML Workbench"), this));
    statusBar()->showMessage(tr("No board connected"));
    resize(1280, 800);
}

} // namespace tinyml::ui
