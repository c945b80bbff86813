#pragma once
// A change of the project's settings (ProjectSettings, e.g. the impulse options a calibration
// saves into extra["impulse"]): redo stores the new settings, undo the previous ones. The
// settings are a small record, so the command keeps both whole.

#include "store/ProjectStore.h"

#include <QUndoCommand>

namespace tinyml::ui {

class ProjectSession;

class ProjectSettingsCommand : public QUndoCommand
{
public:
    ProjectSettingsCommand(ProjectSession *session, const ProjectSettings &before, const ProjectSettings &after,
                           const QString &text);

    /// Stores `after` now; on success pushes the command on the session's undo stack (its
    /// first redo does nothing) and notifies the session's settingsChanged.
    static bool execute(ProjectSession *session, const ProjectSettings &after, const QString &text, QString *error);

    void redo() override;
    void undo() override;

private:
    void apply(const ProjectSettings &settings);

    ProjectSession *m_session;
    ProjectSettings m_before;
    ProjectSettings m_after;
    bool m_applied = false;
};

} // namespace tinyml::ui
