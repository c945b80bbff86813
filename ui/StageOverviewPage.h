#pragma once
// Features, Training, Deployment & profiling before they exist in this build: what the
// stage will do, what it needs first, and where the project stands against that.

#include <QWidget>

class QLabel;
class QVBoxLayout;
class QGridLayout;

namespace tinyml::ui {

class ProjectSession;

class StageOverviewPage : public QWidget
{
    Q_OBJECT
public:
    enum class Stage { Features, Training, Deployment };

    explicit StageOverviewPage(Stage stage, QWidget *parent = nullptr);
    void setSession(ProjectSession *session);
    Stage stage() const { return m_stage; }

public Q_SLOTS:
    void refresh();

private:
    struct Requirement {
        QString text;
        bool met = false;
    };
    QVector<Requirement> requirements() const;

    Stage m_stage;
    ProjectSession *m_session = nullptr;
    QVBoxLayout *m_checklist;
    QGridLayout *m_stats;
    QLabel *m_status;
};

} // namespace tinyml::ui
