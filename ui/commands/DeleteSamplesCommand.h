#pragma once
#include "commands/DatasetCommand.h"

#include "data/Sample.h"

#include <QVector>

namespace tinyml::ui {

/// Deletes samples; undo re-inserts them with their ids and data (ProjectStore::restoreSamples).
class DeleteSamplesCommand : public DatasetCommand
{
public:
    DeleteSamplesCommand(ProjectSession *session, const QVector<qint64> &ids);

protected:
    bool apply(QString *error) override;
    bool revert(QString *error) override;

private:
    QVector<qint64> m_ids;
    QVector<Sample> m_removed;
};

} // namespace tinyml::ui
