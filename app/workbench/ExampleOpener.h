#pragma once
// "Open example" on the welcome page: asks where to put a copy of the shipped motion
// example (default ~/TinyML Projects/motion-example.tinyml), creates that project from the
// read-only example data and opens it on the Dataset page.

#include <QObject>

namespace tinyml::ui {
class MainWindow;
}

namespace tinyml::app {

class ExampleOpener : public QObject
{
    Q_OBJECT
public:
    explicit ExampleOpener(ui::MainWindow *window);

public Q_SLOTS:
    /// Asks for the file name, then creates and opens the project.
    void openExample();
    /// Creates projectPath from example `id` and opens it; false with *error otherwise.
    bool createAndOpen(const QString &id, const QString &projectPath, QString *error);

private:
    ui::MainWindow *m_window;
};

} // namespace tinyml::app
