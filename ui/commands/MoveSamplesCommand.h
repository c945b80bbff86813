#pragma once
#include "commands/DatasetCommand.h"

#include "data/Sample.h"

#include <QVector>

namespace tinyml::ui {

/// Moves samples to the train or the test split; undo puts each back where it was.
class MoveSamplesCommand : public DatasetCommand
{
public:
    MoveSamplesCommand(ProjectSession *session, const QVector<qint64> &ids, Split split);

protected:
    bool apply(QString *error) override;
    bool revert(QString *error) override;

private:
    QVector<qint64> m_ids;
    Split m_split;
    QVector<qint64> m_wereTrain;
    QVector<qint64> m_wereTest;
};

} // namespace tinyml::ui
