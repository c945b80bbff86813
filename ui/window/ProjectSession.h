#pragma once
// The open project as the window sees it: the store, the undo stack of dataset edits,
// and change notifications so every page shows the same state.
// Lives in the GUI thread, like the ProjectStore it owns.

#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

class QUndoStack;

namespace tinyml {
class ProjectStore;
struct ProjectSettings;
}

namespace tinyml::ui {

class ProjectSession : public QObject
{
    Q_OBJECT
public:
    explicit ProjectSession(std::unique_ptr<ProjectStore> store, QObject *parent = nullptr);
    ~ProjectSession() override;

    ProjectStore &store() { return *m_store; }
    const ProjectStore &store() const { return *m_store; }
    QUndoStack *undoStack() const { return m_undo; }

    QString path() const;
    QString displayName() const;       ///< the project's name, else the file's base name
    ProjectSettings settings() const;
    QStringList labels() const;        ///< declared labels, then labels only samples carry
    QString templateName() const;
    QString boardId() const;
    QString defaultSensor() const;
    double defaultRateHz() const;
    double defaultLengthS() const;

    /// Pages call these after changing the store so that every view reloads.
    void notifySamplesChanged();
    void notifySettingsChanged();
    /// A dataset edit failed (the store said why); the window shows it.
    void reportError(const QString &message);

Q_SIGNALS:
    void samplesChanged();
    void settingsChanged();
    void errorOccurred(const QString &message);

private:
    std::unique_ptr<ProjectStore> m_store;
    QUndoStack *m_undo = nullptr;
};

} // namespace tinyml::ui
