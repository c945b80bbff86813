#pragma once
// Three charts of one classified stream on a shared time axis, top to bottom: the raw
// sensor signal (one line per channel), each class's score per window, and the decision
// timeline (a coloured block per decided class, grey while uncertain, a triangle per
// detection) with the ground-truth events in a lane under it.
//
// Data goes in as it arrives and is only stored; a 50 ms timer redraws what changed, so a
// stream of any rate costs at most 20 redraws a second. The signal is min/max-decimated per
// pixel column (SignalRingBuffer); blocks are drawn only for the visible time span.

#include "live/LiveRows.h"
#include "plots/PlotWidget.h"
#include "plots/SignalRingBuffer.h"

#include <QStringList>
#include <QTimer>
#include <QVector>

class QCPAxisRect;
class QCPGraph;
class QCPItemRect;
class QCPItemText;

namespace tinyml::ui {

class StreamTimelinePlot : public PlotWidget
{
    Q_OBJECT
public:
    static constexpr int kRedrawIntervalMs = 50;

    explicit StreamTimelinePlot(QWidget *parent = nullptr);

    /// Class names, index order of WindowRow::scores and decisions. Clears the windows.
    void setLabels(const QStringList &labels);
    /// The class that means "nothing happening" (noise, idle): its decision blocks are drawn
    /// faint so the events stand out. -1 (default): none.
    void setBackgroundClass(int cls);
    /// Seconds of stream on screen (default 10); the view follows the newest data.
    void setVisibleSeconds(double seconds);
    double visibleSeconds() const { return m_visible; }

    /// `interleaved` holds frames x channels floats, frame-major; `firstIndex` is the stream
    /// frame index of its first frame. A different rate or channel count, or a frame index
    /// that does not follow on, starts the signal afresh.
    void appendSignal(qint64 firstIndex, double rateHz, const QVector<float> &interleaved, int channels);
    void addWindow(const WindowRow &row);
    void setTruth(const QVector<TruthRow> &truth);
    void clear();
    /// Text in the middle of the charts while there is no data.
    void setMessage(const QString &text);

    /// Draws what is pending now instead of at the next timer tick (tests, screenshots).
    void redrawNow();

    // For tests: what is on the charts.
    QCPAxisRect *signalRect() const { return m_signalRect; }
    QCPAxisRect *scoreRect() const { return m_scoreRect; }
    QCPAxisRect *timelineRect() const { return m_timelineRect; }
    int signalGraphCount() const { return m_signalGraphs.size(); }
    QCPGraph *signalGraph(int channel) const { return m_signalGraphs.value(channel); }
    QCPGraph *scoreGraph(int cls) const { return m_scoreGraphs.value(cls); }
    QCPGraph *detectionGraph(int cls) const { return m_detectionGraphs.value(cls); }
    QCPGraph *suppressedGraph() const { return m_suppressed; }
    int visibleDecisionBlocks() const { return m_shownDecisionBlocks; }
    int visibleTruthBlocks() const { return m_shownTruthBlocks; }
    int decisionRunCount() const { return m_runs.size(); }
    int redrawCount() const { return m_redraws; }
    /// Stream time of the newest sample or window, seconds.
    double endTime() const;
    /// Colour of class i, the same in every chart of the view.
    static QColor classColor(int cls);

private:
    struct Run {
        double start, end;
        int decision;
    };
    void rebuildClassGraphs();
    void redraw();
    QCPItemRect *blockAt(QVector<QCPItemRect *> &pool, int i);
    QCPItemText *labelAt(int i);

    QTimer m_timer;
    QCPAxisRect *m_signalRect;
    QCPAxisRect *m_scoreRect;
    QCPAxisRect *m_timelineRect;
    QCPItemText *m_message;
    QVector<QCPGraph *> m_signalGraphs;
    QVector<QCPGraph *> m_scoreGraphs;
    QVector<QCPGraph *> m_detectionGraphs;
    QCPGraph *m_suppressed = nullptr;
    QVector<QCPItemRect *> m_decisionPool;
    QVector<QCPItemRect *> m_truthPool;
    QVector<QCPItemText *> m_truthLabels;
    int m_shownDecisionBlocks = 0;
    int m_shownTruthBlocks = 0;

    QStringList m_labels;
    SignalRingBuffer m_signal;
    qint64 m_signalBase = 0;     ///< stream frame index of the buffer's first frame ever
    double m_rate = 0;
    double m_visible = 10;
    int m_background = -1;
    QVector<Run> m_runs;
    double m_lastWindowT = -1;
    double m_lastHop = 0;
    QVector<TruthRow> m_truth;
    double m_signalLo = -1, m_signalHi = 1;
    bool m_dirty = false;
    bool m_signalDirty = false;
    int m_redraws = 0;
};

} // namespace tinyml::ui
