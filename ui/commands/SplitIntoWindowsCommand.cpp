#include "commands/SplitIntoWindowsCommand.h"

#include "models/SampleSlicing.h"
#include "store/ProjectStore.h"
#include "window/ProjectSession.h"

namespace tinyml::ui {

SplitIntoWindowsCommand::SplitIntoWindowsCommand(ProjectSession *session, qint64 id, qint64 windowFrames)
    : DatasetCommand(session, QObject::tr("Split sample %1 into windows").arg(id)), m_id(id),
      m_windowFrames(windowFrames)
{
}

QVector<qint64> SplitIntoWindowsCommand::windowIds() const
{
    QVector<qint64> ids;
    for (const Sample &w : m_windows)
        ids << w.id;
    return ids;
}

bool SplitIntoWindowsCommand::apply(QString *error)
{
    ProjectStore &store = session()->store();
    if (!m_windowsStored) {
        std::optional<Sample> s = store.sample(m_id, error);
        if (!s)
            return false;
        QVector<Sample> windows = splitIntoWindows(*s, m_windowFrames, error);
        if (windows.isEmpty())
            return false;
        if (!store.addSamples(windows, error))
            return false;
        m_windows = windows;
        m_windowsStored = true;
    } else if (!store.restoreSamples(m_windows, error)) {
        return false;
    }
    std::optional<QVector<Sample>> removed = store.removeSamples({m_id}, error);
    if (!removed)
        return false;
    m_original = *removed;
    return true;
}

bool SplitIntoWindowsCommand::revert(QString *error)
{
    ProjectStore &store = session()->store();
    std::optional<QVector<Sample>> removed = store.removeSamples(windowIds(), error);
    if (!removed)
        return false;
    m_windows = *removed;
    return store.restoreSamples(m_original, error);
}

} // namespace tinyml::ui
