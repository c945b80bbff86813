#include "commands/DatasetCommand.h"

#include "window/ProjectSession.h"

#include <QUndoStack>

namespace tinyml::ui {

DatasetCommand::DatasetCommand(ProjectSession *session, const QString &text)
    : QUndoCommand(text), m_session(session)
{
}

bool DatasetCommand::execute(ProjectSession *session, std::unique_ptr<DatasetCommand> command,
                             QString *error)
{
    QString err;
    const bool ok = command->apply(&err);
    session->notifySamplesChanged();
    if (!ok) {
        if (error)
            *error = err;
        return false;
    }
    command->m_applied = true;
    session->undoStack()->push(command.release());
    return true;
}

void DatasetCommand::redo()
{
    if (m_applied) {
        m_applied = false;
        return;
    }
    QString err;
    if (!apply(&err))
        m_session->reportError(QObject::tr("Redo \"%1\" failed: %2").arg(text(), err));
    m_session->notifySamplesChanged();
}

void DatasetCommand::undo()
{
    QString err;
    if (!revert(&err))
        m_session->reportError(QObject::tr("Undo \"%1\" failed: %2").arg(text(), err));
    m_session->notifySamplesChanged();
}

} // namespace tinyml::ui
