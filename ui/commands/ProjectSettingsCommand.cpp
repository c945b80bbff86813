#include "commands/ProjectSettingsCommand.h"

#include "window/ProjectSession.h"

#include <QUndoStack>

#include <memory>

namespace tinyml::ui {

ProjectSettingsCommand::ProjectSettingsCommand(ProjectSession *session, const ProjectSettings &before,
                                               const ProjectSettings &after, const QString &text)
    : QUndoCommand(text), m_session(session), m_before(before), m_after(after)
{
}

bool ProjectSettingsCommand::execute(ProjectSession *session, const ProjectSettings &after, const QString &text,
                                     QString *error)
{
    const ProjectSettings before = session->store().settings();
    if (!session->store().setSettings(after, error))
        return false;
    auto command = std::make_unique<ProjectSettingsCommand>(session, before, after, text);
    command->m_applied = true;
    session->undoStack()->push(command.release());
    session->notifySettingsChanged();
    return true;
}

void ProjectSettingsCommand::apply(const ProjectSettings &settings)
{
    QString error;
    if (!m_session->store().setSettings(settings, &error))
        m_session->reportError(QObject::tr("\"%1\" failed: %2").arg(text(), error));
    m_session->notifySettingsChanged();
}

void ProjectSettingsCommand::redo()
{
    if (m_applied) {
        m_applied = false;
        return;
    }
    apply(m_after);
}

void ProjectSettingsCommand::undo()
{
    apply(m_before);
}

} // namespace tinyml::ui
