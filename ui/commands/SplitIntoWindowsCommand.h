#pragma once
#include "commands/DatasetCommand.h"

#include "data/Sample.h"

#include <QVector>

namespace tinyml::ui {

/// Replaces a long recording by consecutive windows of a fixed length (new samples with
/// the same label, split and metadata). A tail shorter than a window is dropped.
/// Undo removes the windows and restores the recording; redo restores the same windows
/// with the same ids.
class SplitIntoWindowsCommand : public DatasetCommand
{
public:
    SplitIntoWindowsCommand(ProjectSession *session, qint64 id, qint64 windowFrames);
    QVector<qint64> windowIds() const;

protected:
    bool apply(QString *error) override;
    bool revert(QString *error) override;

private:
    qint64 m_id;
    qint64 m_windowFrames;
    QVector<Sample> m_original;   ///< the recording, while it is split
    QVector<Sample> m_windows;    ///< the windows, with ids once stored
    bool m_windowsStored = false; ///< m_windows have ids: redo restores instead of adding
};

} // namespace tinyml::ui
