#pragma once
// Base of the undoable dataset edits (relabel, move split, delete, crop, split into
// windows). Each edit is one ProjectStore call forward and one back; the store keeps
// sample ids stable across undo/redo (restoreSamples), so later commands stay valid.

#include <QString>
#include <QUndoCommand>

#include <memory>

namespace tinyml::ui {

class ProjectSession;

class DatasetCommand : public QUndoCommand
{
public:
    /// Applies the edit; on success pushes it on the session's undo stack, otherwise
    /// drops it and returns false with the store's error.
    static bool execute(ProjectSession *session, std::unique_ptr<DatasetCommand> command,
                        QString *error);

    void redo() final;
    void undo() final;

protected:
    explicit DatasetCommand(ProjectSession *session, const QString &text);
    virtual bool apply(QString *error) = 0;
    virtual bool revert(QString *error) = 0;
    ProjectSession *session() const { return m_session; }

private:
    ProjectSession *m_session;
    bool m_applied = false;   ///< execute() already ran apply(): the stack's first redo is a no-op
};

} // namespace tinyml::ui
