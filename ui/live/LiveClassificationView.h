#pragma once
// A classified stream as it runs: the raw signal, each class's score, the decision timeline
// over the ground truth (StreamTimelinePlot), the running stream metrics, and what a window
// costs stage by stage with the CPU duty cycle and an estimated battery life.
//
// Plain data in (LiveRows.h), nothing back: the page's owner feeds it from whatever runs the
// stream. Every stream shown is a replay or a simulation, and the source note at the top says
// which (setSourceNote). Appending is cheap; the charts redraw at most 20 times a second.

#include "live/LiveRows.h"

#include <QStringList>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include <optional>

class QFormLayout;
class QLabel;

namespace tinyml::ui {

class StageCostBars;
class StreamTimelinePlot;

class LiveClassificationView : public QWidget
{
    Q_OBJECT
public:
    /// The rows of the metrics panel, for metricText().
    enum class Metric { Windows, Overruns, Recall, FalseActivations, Delay, HostReplay };

    explicit LiveClassificationView(QWidget *parent = nullptr);

    /// Class names; index order of scores, decisions and truth labels. Clears the stream.
    void setLabels(const QStringList &labels);
    /// The class that means "nothing happening" (noise, idle), drawn faint on the timeline.
    void setBackgroundClass(int cls);
    /// Where the stream comes from, e.g. "Replay of kw.wav — simulated sensor".
    void setSourceNote(const QString &text);
    /// Seconds of stream on screen (default 10).
    void setVisibleSeconds(double seconds);
    /// Time between windows; without it the view takes the median gap between window times.
    void setStrideMs(std::optional<double> strideMs);
    /// Estimated battery life in hours and where the estimate comes from (power model,
    /// board datasheet; the line shows it up to its first ": ", the tooltip all of it);
    /// nullopt: no estimate, and `source` (when given) says why.
    void setBatteryEstimate(std::optional<double> hours, const QString &source);

    /// `interleaved`: frames x channels floats, frame-major, from stream frame `firstIndex`.
    void appendSignal(qint64 firstIndex, double rateHz, const QVector<float> &interleaved, int channels);
    void addWindow(const WindowRow &row);
    void setTruth(const QVector<TruthRow> &truth);
    void setMetrics(const MetricsRow &metrics);
    /// Empties every chart and the metrics; keeps labels, source note and battery estimate.
    void clear();

    /// Draws everything pending now (tests, screenshots); otherwise a timer does.
    void flush();

    StreamTimelinePlot *timeline() const { return m_timeline; }
    StageCostBars *costBars() const { return m_costs; }
    QString metricText(Metric metric) const;
    /// "yes  3 / 3 (100 %)"-style text of class `cls`'s recall row, empty when it has none.
    QString classRecallText(int cls) const;
    QString sourceNote() const;
    QString dutyCycleText() const;
    QString batteryText() const;
    /// The stride the percentages use: setStrideMs, else the median gap between windows.
    std::optional<double> medianStrideMs() const;

private:
    void updateCosts();
    void rebuildClassRows();

    QLabel *m_source;
    StreamTimelinePlot *m_timeline;
    StageCostBars *m_costs;
    QFormLayout *m_form;
    QLabel *m_metric[6];
    QVector<QLabel *> m_classRecall;
    QLabel *m_duty;
    QLabel *m_battery;
    QTimer m_costTimer;

    QStringList m_labels;
    QVector<double> m_dsp, m_model, m_post, m_gaps;
    double m_lastT = -1;
    std::optional<double> m_stride;
    bool m_costsDirty = false;
};

} // namespace tinyml::ui
