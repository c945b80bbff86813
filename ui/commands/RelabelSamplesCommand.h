#pragma once
#include "commands/DatasetCommand.h"

#include <QHash>
#include <QVector>

namespace tinyml::ui {

/// Gives samples a new label; undo restores each sample's own previous label.
class RelabelSamplesCommand : public DatasetCommand
{
public:
    RelabelSamplesCommand(ProjectSession *session, const QVector<qint64> &ids, const QString &label);

protected:
    bool apply(QString *error) override;
    bool revert(QString *error) override;

private:
    QVector<qint64> m_ids;
    QString m_label;
    QHash<QString, QVector<qint64>> m_previous;   ///< old label -> ids
};

} // namespace tinyml::ui
