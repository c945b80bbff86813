#pragma once
// New project: name and location, kind of project, target board, labels, capture
// defaults, summary. Finishing creates the project file (ProjectStore::create).

#include <QWizard>

#include <memory>

namespace tinyml {
class ProjectStore;
struct ProjectSettings;
}

namespace tinyml::ui {

class NewProjectWizard : public QWizard
{
    Q_OBJECT
public:
    enum PageId { NamePage, TemplatePage, BoardPage, LabelsPage, CapturePage, SummaryPage };

    explicit NewProjectWizard(QWidget *parent = nullptr);
    ~NewProjectWizard() override;

    /// Folder offered by default: ~/TinyML.
    static QString defaultLocation();

    QString projectPath() const;
    ProjectSettings projectSettings() const;
    /// The created project after the wizard was accepted (null before, or once taken).
    std::unique_ptr<ProjectStore> takeStore();

protected:
    bool validateCurrentPage() override;

private:
    std::unique_ptr<ProjectStore> m_store;
};

} // namespace tinyml::ui
