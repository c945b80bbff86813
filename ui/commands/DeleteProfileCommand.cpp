#include "commands/DeleteProfileCommand.h"

#include "window/ProjectSession.h"

#include <QUndoStack>

namespace tinyml::ui {

DeleteProfileCommand::DeleteProfileCommand(ProjectSession *session, const StoredProfile &profile,
                                           std::function<void()> changed)
    : QUndoCommand(QObject::tr("Delete profile #%1").arg(profile.id)), m_session(session), m_profile(profile),
      m_changed(std::move(changed))
{
}

bool DeleteProfileCommand::execute(ProjectSession *session, const StoredProfile &profile,
                                   std::function<void()> changed, QString *error)
{
    auto command = std::make_unique<DeleteProfileCommand>(session, profile, std::move(changed));
    if (!command->remove(error))
        return false;
    command->m_applied = true;
    session->undoStack()->push(command.release());
    return true;
}

bool DeleteProfileCommand::remove(QString *error)
{
    return m_session->store().removeProfile(m_profile.id, error);
}

void DeleteProfileCommand::redo()
{
    if (m_applied) {
        m_applied = false;
        if (m_changed)
            m_changed();
        return;
    }
    QString error;
    if (!remove(&error))
        m_session->reportError(QObject::tr("Redo \"%1\" failed: %2").arg(text(), error));
    if (m_changed)
        m_changed();
}

void DeleteProfileCommand::undo()
{
    QString error;
    StoredProfile again = m_profile;
    if (!m_session->store().addProfile(again, &error))
        m_session->reportError(QObject::tr("Undo \"%1\" failed: %2").arg(text(), error));
    else
        m_profile.id = again.id;
    if (m_changed)
        m_changed();
}

} // namespace tinyml::ui
