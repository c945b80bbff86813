#include "commands/CropSampleCommand.h"

#include "models/SampleSlicing.h"
#include "store/ProjectStore.h"
#include "window/ProjectSession.h"

namespace tinyml::ui {

CropSampleCommand::CropSampleCommand(ProjectSession *session, qint64 id, qint64 beginFrame, qint64 endFrame)
    : DatasetCommand(session, QObject::tr("Crop sample %1").arg(id)), m_id(id), m_begin(beginFrame),
      m_end(endFrame)
{
}

bool CropSampleCommand::apply(QString *error)
{
    std::optional<Sample> s = session()->store().sample(m_id, error);
    if (!s)
        return false;
    std::optional<Tensor> cropped = sliceFrames(s->data, m_begin, m_end, error);
    if (!cropped)
        return false;
    m_original = s->data;
    return session()->store().replaceData(m_id, *cropped, error);
}

bool CropSampleCommand::revert(QString *error)
{
    return session()->store().replaceData(m_id, m_original, error);
}

} // namespace tinyml::ui
