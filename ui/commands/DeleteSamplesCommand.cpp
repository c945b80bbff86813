#include "commands/DeleteSamplesCommand.h"

#include "store/ProjectStore.h"
#include "window/CountText.h"
#include "window/ProjectSession.h"

namespace tinyml::ui {

DeleteSamplesCommand::DeleteSamplesCommand(ProjectSession *session, const QVector<qint64> &ids)
    : DatasetCommand(session, QObject::tr("Delete %1").arg(countText(ids.size(), "%1 sample", "%1 samples"))), m_ids(ids)
{
}

bool DeleteSamplesCommand::apply(QString *error)
{
    std::optional<QVector<Sample>> removed = session()->store().removeSamples(m_ids, error);
    if (!removed)
        return false;
    m_removed = std::move(*removed);
    return true;
}

bool DeleteSamplesCommand::revert(QString *error)
{
    return session()->store().restoreSamples(m_removed, error);
}

} // namespace tinyml::ui
