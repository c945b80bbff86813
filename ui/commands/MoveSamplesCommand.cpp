#include "commands/MoveSamplesCommand.h"

#include "store/ProjectStore.h"
#include "window/CountText.h"
#include "window/ProjectSession.h"

#include <QSet>

namespace tinyml::ui {

MoveSamplesCommand::MoveSamplesCommand(ProjectSession *session, const QVector<qint64> &ids, Split split)
    : DatasetCommand(session, split == Split::Train
                                  ? QObject::tr("Move %1 to train").arg(countText(ids.size(), "%1 sample", "%1 samples"))
                                  : QObject::tr("Move %1 to test").arg(countText(ids.size(), "%1 sample", "%1 samples"))),
      m_ids(ids), m_split(split)
{
    const QSet<qint64> wanted(ids.cbegin(), ids.cend());
    for (const SampleInfo &info : session->store().sampleInfos())
        if (wanted.contains(info.id))
            (info.split == Split::Train ? m_wereTrain : m_wereTest).append(info.id);
}

bool MoveSamplesCommand::apply(QString *error)
{
    return session()->store().setSplit(m_ids, m_split, error);
}

bool MoveSamplesCommand::revert(QString *error)
{
    ProjectStore &store = session()->store();
    return (m_wereTrain.isEmpty() || store.setSplit(m_wereTrain, Split::Train, error))
           && (m_wereTest.isEmpty() || store.setSplit(m_wereTest, Split::Test, error));
}

} // namespace tinyml::ui
