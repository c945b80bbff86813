#pragma once
// Shown while no project is open: create, open, open the example, or pick a recent project.

#include <QWidget>

class QListWidget;
class QLabel;

namespace tinyml::ui {

class WelcomePage : public QWidget
{
    Q_OBJECT
public:
    explicit WelcomePage(QWidget *parent = nullptr);
    void setRecentProjects(const QStringList &paths);
    QListWidget *recentList() const { return m_recent; }

Q_SIGNALS:
    void newProjectRequested();
    void openProjectRequested();
    /// "Open example": the application copies a shipped example into a new project.
    void openExampleRequested();
    void recentProjectRequested(const QString &path);

private:
    QListWidget *m_recent;
    QLabel *m_noRecent;
};

} // namespace tinyml::ui
