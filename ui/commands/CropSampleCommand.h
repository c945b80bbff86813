#pragma once
#include "commands/DatasetCommand.h"

#include "data/Sample.h"

namespace tinyml::ui {

/// Keeps frames [begin, end) of a time-series sample; undo puts the original data back.
class CropSampleCommand : public DatasetCommand
{
public:
    CropSampleCommand(ProjectSession *session, qint64 id, qint64 beginFrame, qint64 endFrame);

protected:
    bool apply(QString *error) override;
    bool revert(QString *error) override;

private:
    qint64 m_id;
    qint64 m_begin;
    qint64 m_end;
    Tensor m_original;
};

} // namespace tinyml::ui
