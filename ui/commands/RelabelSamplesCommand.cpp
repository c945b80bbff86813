#include "commands/RelabelSamplesCommand.h"

#include "store/ProjectStore.h"
#include "window/CountText.h"
#include "window/ProjectSession.h"

#include <QSet>

namespace tinyml::ui {

RelabelSamplesCommand::RelabelSamplesCommand(ProjectSession *session, const QVector<qint64> &ids,
                                             const QString &label)
    : DatasetCommand(session, QObject::tr("Relabel %1 as \"%2\"").arg(countText(ids.size(), "%1 sample", "%1 samples"), label)),
      m_ids(ids), m_label(label)
{
    const QSet<qint64> wanted(ids.cbegin(), ids.cend());
    for (const SampleInfo &info : session->store().sampleInfos())
        if (wanted.contains(info.id))
            m_previous[info.label].append(info.id);
}

bool RelabelSamplesCommand::apply(QString *error)
{
    return session()->store().setLabel(m_ids, m_label, error);
}

bool RelabelSamplesCommand::revert(QString *error)
{
    for (auto it = m_previous.cbegin(); it != m_previous.cend(); ++it)
        if (!session()->store().setLabel(it.value(), it.key(), error))
            return false;
    return true;
}

} // namespace tinyml::ui
