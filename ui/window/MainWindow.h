#pragma once
// The workbench's top-level window: stage navigation on the left, pages on the right,
// the connected board in the status bar. Owns the open project (ProjectSession).

#include <QMainWindow>

#include <memory>

class QAction;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;

namespace tinyml {
class ProjectStore;
}

namespace tinyml::ui {

class AcquisitionPage;
class AnomalyPage;
class DatasetPage;
class DeploymentPage;
class FeaturesPage;
class FleetPage;
class LiveController;
class LivePage;
class NewProjectWizard;
class ProjectSession;
class TrainingPage;
class WelcomePage;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    enum class Stage { Acquisition, Dataset, Features, Training, Deployment, Live, Anomaly, Fleet };

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens a project file; on failure shows nothing and returns false with *error.
    bool openProject(const QString &path, QString *error);
    /// Takes the project a finished wizard created and opens Data acquisition on its board.
    void adoptNewProject(NewProjectWizard &wizard);
    /// Reopens the project that was open when the window last closed (QSettings).
    void restoreLastProject();
    void closeProject();

    ProjectSession *session() const { return m_session.get(); }
    void showStage(Stage stage);
    Stage currentStage() const;

    AcquisitionPage *acquisitionPage() const { return m_acquisition; }
    DatasetPage *datasetPage() const { return m_dataset; }
    FeaturesPage *featuresPage() const { return m_features; }
    TrainingPage *trainingPage() const { return m_training; }
    DeploymentPage *deploymentPage() const { return m_deployment; }
    LivePage *livePage() const { return m_live; }
    AnomalyPage *anomalyPage() const { return m_anomaly; }
    FleetPage *fleetPage() const { return m_fleet; }
    LiveController *liveController() const { return m_liveController; }
    WelcomePage *welcomePage() const { return m_welcome; }
    QAction *undoAction() const { return m_undo; }
    QAction *redoAction() const { return m_redo; }

public Q_SLOTS:
    void newProject();
    void openProjectDialog();
    void importData();
    void exportData();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createMenus();
    void setSession(std::unique_ptr<ProjectStore> store);
    void updateTitle();
    void updateRecentMenu();
    void addRecentProject(const QString &path);
    QStringList recentProjects() const;
    void showError(const QString &title, const QString &message);

    std::unique_ptr<ProjectSession> m_session;
    QListWidget *m_nav;
    QLabel *m_navProject;
    QStackedWidget *m_pages;
    WelcomePage *m_welcome;
    AcquisitionPage *m_acquisition;
    DatasetPage *m_dataset;
    FeaturesPage *m_features;
    TrainingPage *m_training;
    DeploymentPage *m_deployment;
    LivePage *m_live;
    AnomalyPage *m_anomaly;
    FleetPage *m_fleet;
    LiveController *m_liveController;
    QLabel *m_boardStatus;
    QLabel *m_projectStatus;

    QAction *m_new = nullptr;
    QAction *m_open = nullptr;
    QAction *m_import = nullptr;
    QAction *m_export = nullptr;
    QAction *m_close = nullptr;
    QAction *m_quit = nullptr;
    QAction *m_undo = nullptr;
    QAction *m_redo = nullptr;
    QAction *m_record = nullptr;
    QAction *m_stop = nullptr;
    QAction *m_nextLabel = nullptr;
    QMenu *m_recentMenu = nullptr;
};

} // namespace tinyml::ui
