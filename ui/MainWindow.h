#pragma once
#include <QMainWindow>

namespace tinyml::ui {

/// The workbench's top-level window: stage navigation on the left, pages on the right.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
};

} // namespace tinyml::ui
