#include "models/SampleSlicing.h"

#include <QObject>

namespace tinyml::ui {

std::optional<Tensor> sliceFrames(const Tensor &data, qint64 begin, qint64 end, QString *error)
{
    const qint64 frames = data.shape.isEmpty() ? 0 : data.shape.first();
    if (begin < 0 || end > frames || begin >= end) {
        if (error)
            *error = QObject::tr("frames %1..%2 are outside the sample's %3 frames").arg(begin).arg(end).arg(frames);
        return std::nullopt;
    }
    const qint64 frameBytes = frames > 0 ? data.bytes.size() / frames : 0;
    Tensor out;
    out.dtype = data.dtype;
    out.shape = data.shape;
    out.shape[0] = end - begin;
    out.bytes = data.bytes.mid(begin * frameBytes, (end - begin) * frameBytes);
    return out;
}

QVector<Sample> splitIntoWindows(const Sample &sample, qint64 windowFrames, QString *error)
{
    const qint64 frames = sample.frames();
    if (windowFrames <= 0 || frames / windowFrames < 2) {
        if (error)
            *error = QObject::tr("sample %1 has %2 frames: too short for two windows of %3")
                         .arg(sample.id).arg(frames).arg(windowFrames);
        return {};
    }
    QVector<Sample> windows;
    for (qint64 begin = 0; begin + windowFrames <= frames; begin += windowFrames) {
        Sample w = sample;
        w.id = 0;
        w.checksum.clear();
        w.data = *sliceFrames(sample.data, begin, begin + windowFrames, nullptr);
        // Windows of one recording are recorded consecutively: keep their order visible.
        if (sample.created.isValid() && sample.sampleRateHz > 0)
            w.created = sample.created.addMSecs(qint64(1000.0 * double(begin) / sample.sampleRateHz));
        windows << w;
    }
    return windows;
}

} // namespace tinyml::ui
