#pragma once
// Live chart of every channel of a stream. Chunks go into a ring buffer as they arrive;
// a 30 ms timer decimates (min/max per pixel column) and queues one replot, so the cost
// per second does not depend on the stream's rate or chunk size.

#include "plots/SignalRingBuffer.h"

#include <QStringList>
#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QCPItemRect;
class QCPItemText;

namespace tinyml::ui {

class LivePlot : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kRedrawIntervalMs = 30;

    explicit LivePlot(QWidget *parent = nullptr);

    /// Starts a new stream: clears the buffer. windowSeconds of data stay on screen.
    void setFormat(const QStringList &channels, const QStringList &units, double rateHz, double windowSeconds);
    /// frames x channels floats, frame-major.
    void append(const float *interleaved, qint64 frames);
    void clear();
    /// Fixed value axis (audio: -1..1); otherwise the axis follows the data.
    void setFixedValueRange(double lo, double hi);
    void setAutoValueRange();

    /// Marks frames from `startFrame` (stream frame index) on as being recorded.
    void setRecordingFrom(qint64 startFrame);
    void clearRecordingMark();
    void setMessage(const QString &text);     ///< centred text while there is no data

    const SignalRingBuffer &buffer() const { return m_buffer; }
    double rateHz() const { return m_rate; }
    int redrawCount() const { return m_redraws; }
    QCustomPlot *plot() const { return m_plot; }

private:
    void redraw();
    double frameToSeconds(double frame) const { return m_rate > 0 ? frame / m_rate : frame; }

    QCustomPlot *m_plot;
    QCPItemRect *m_recording;
    QCPItemText *m_message;
    QTimer m_timer;
    SignalRingBuffer m_buffer;
    QStringList m_channels;
    double m_rate = 0;
    double m_window = 5;
    bool m_dirty = false;
    bool m_fixedRange = false;
    double m_lo = -1, m_hi = 1;
    qint64 m_recordFrom = -1;
    int m_redraws = 0;
};

} // namespace tinyml::ui
