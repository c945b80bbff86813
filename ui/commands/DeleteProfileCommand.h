#pragma once
// Deletes a stored profile; undo stores it again (same model, board, date and JSON). The
// store hands out a new id on re-insert, so redo deletes whatever id undo produced.

#include "store/ProjectStore.h"

#include <QUndoCommand>

#include <functional>

namespace tinyml::ui {

class ProjectSession;

class DeleteProfileCommand : public QUndoCommand
{
public:
    /// changed runs after every redo/undo so the page can reload its list.
    DeleteProfileCommand(ProjectSession *session, const StoredProfile &profile, std::function<void()> changed);

    /// Deletes now; on success pushes the command on the session's undo stack.
    static bool execute(ProjectSession *session, const StoredProfile &profile, std::function<void()> changed,
                        QString *error);

    void redo() override;
    void undo() override;
    qint64 currentId() const { return m_profile.id; }

private:
    bool remove(QString *error);

    ProjectSession *m_session;
    StoredProfile m_profile;
    std::function<void()> m_changed;
    bool m_applied = false;   ///< execute() already deleted: the stack's first redo is a no-op
};

} // namespace tinyml::ui
