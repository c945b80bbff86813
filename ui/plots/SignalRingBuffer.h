#pragma once
// The last N frames of a multi-channel stream, for live display only (what is stored
// goes through CaptureSession untouched). Min/max decimation per pixel column keeps
// every peak visible however many frames fall on one column. No widgets here.

#include <QVector>

namespace tinyml::ui {

class SignalRingBuffer
{
public:
    void reset(int channels, qint64 capacityFrames);
    /// frames x channels floats, frame-major (x0 y0 z0 x1 ...).
    void append(const float *interleaved, qint64 frames);
    void clear();

    int channels() const { return m_channels; }
    qint64 capacity() const { return m_capacity; }
    qint64 size() const { return m_size; }              ///< frames held (<= capacity)
    qint64 totalFrames() const { return m_total; }      ///< frames ever appended
    /// Value of frame i (0 = oldest held) on a channel.
    float at(qint64 i, int channel) const;

    /// One channel over the frames held, reduced to at most 2 x columns points: for each
    /// column its min and its max, in time order. Keys are frame indices since the stream
    /// began (totalFrames() - size() .. totalFrames() - 1). Fewer frames than columns: every frame.
    void decimateMinMax(int channel, int columns, QVector<double> &keys, QVector<double> &values) const;
    /// Min and max over every channel held; false when empty.
    bool valueRange(double *lo, double *hi) const;

private:
    int m_channels = 0;
    qint64 m_capacity = 0;
    qint64 m_size = 0;
    qint64 m_head = 0;       ///< next write position (frames)
    qint64 m_total = 0;
    QVector<float> m_data;   ///< capacity x channels
};

} // namespace tinyml::ui
