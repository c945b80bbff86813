#include "plots/StreamTimelinePlot.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

#include <cmath>

namespace tinyml::ui {

namespace {

// The timeline's lanes on its value axis: truth under the model's decisions.
constexpr double kTruthLo = 0.15, kTruthHi = 0.85;
constexpr double kModelLo = 1.15, kModelHi = 1.85;
constexpr double kMarkerY = 2.1;
// Older data than this leaves the charts: a stream left running for hours stays cheap.
constexpr double kKeepSeconds = 900;

const QColor kUncertain(0xd1, 0xd5, 0xdb);

// Signal channels in quiet tones of their own: the bright palette means classes here.
QColor signalColor(int channel)
{
    static const QColor colors[] = {QColor(0x37, 0x41, 0x51), QColor(0xa1, 0x62, 0x07), QColor(0x9c, 0xa3, 0xaf),
                                    QColor(0x0e, 0x74, 0x90)};
    return colors[channel % 4];
}

QCPAxisRect *addRect(QCustomPlot *plot, QCPMarginGroup *group)
{
    auto *rect = new QCPAxisRect(plot);
    rect->setBackground(Qt::white);
    for (QCPAxis *a : rect->axes())
        styleAxis(a);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    return rect;
}

} // namespace

QColor StreamTimelinePlot::classColor(int cls)
{
    return channelColor(cls);
}

StreamTimelinePlot::StreamTimelinePlot(QWidget *parent) : PlotWidget(parent)
{
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);
    auto *group = new QCPMarginGroup(m_plot);
    m_signalRect = m_plot->axisRect();
    m_signalRect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    m_scoreRect = addRect(m_plot, group);
    m_timelineRect = addRect(m_plot, group);
    m_plot->plotLayout()->addElement(2, 0, m_scoreRect);
    m_plot->plotLayout()->addElement(3, 0, m_timelineRect);
    m_plot->plotLayout()->setRowStretchFactor(1, 2.6);
    m_plot->plotLayout()->setRowStretchFactor(2, 2.6);
    m_plot->plotLayout()->setRowStretchFactor(3, 1.9);
    m_plot->plotLayout()->setRowSpacing(2);

    // One time axis for all three: only the bottom chart labels it.
    for (QCPAxisRect *r : {m_signalRect, m_scoreRect}) {
        r->axis(QCPAxis::atBottom)->setTickLabels(false);
        r->setAutoMargins(QCP::msLeft | QCP::msRight | QCP::msTop);
        r->setMargins(QMargins(0, 0, 0, 4));
    }
    m_timelineRect->axis(QCPAxis::atBottom)->setLabel(tr("stream time (s)"));
    m_signalRect->axis(QCPAxis::atLeft)->setLabel(tr("signal"));
    m_scoreRect->axis(QCPAxis::atLeft)->setLabel(tr("score"));
    m_scoreRect->axis(QCPAxis::atLeft)->setRange(0, 1.05);
    auto lanes = QSharedPointer<QCPAxisTickerText>::create();
    lanes->addTick((kTruthLo + kTruthHi) / 2, tr("truth"));
    lanes->addTick((kModelLo + kModelHi) / 2, tr("model"));
    QCPAxis *laneAxis = m_timelineRect->axis(QCPAxis::atLeft);
    laneAxis->setTicker(lanes);
    laneAxis->setRange(0, 2.35);
    laneAxis->grid()->setVisible(false);
    laneAxis->setTickPen(Qt::NoPen);
    laneAxis->setSubTicks(false);

    m_suppressed = new QCPGraph(m_timelineRect->axis(QCPAxis::atBottom), laneAxis);
    m_suppressed->setLineStyle(QCPGraph::lsNone);
    m_suppressed->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, QPen(QColor(0x6b, 0x72, 0x80), 1.2), Qt::NoBrush, 8));
    m_suppressed->setName(tr("suppressed"));
    m_suppressed->removeFromLegend();

    m_message = addMessageItem();
    m_message->setClipAxisRect(m_scoreRect);
    m_message->position->setAxisRect(m_scoreRect);
    m_message->setText(tr("No stream yet"));

    setMinimumHeight(320);
    m_timer.setInterval(kRedrawIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, &StreamTimelinePlot::redraw);
    m_timer.start();
    setVisibleSeconds(m_visible);
}

void StreamTimelinePlot::setLabels(const QStringList &labels)
{
    m_labels = labels;
    rebuildClassGraphs();
}

void StreamTimelinePlot::rebuildClassGraphs()
{
    for (QCPGraph *g : m_scoreGraphs)
        m_plot->removeGraph(g);
    for (QCPGraph *g : m_detectionGraphs)
        m_plot->removeGraph(g);
    m_scoreGraphs.clear();
    m_detectionGraphs.clear();
    m_plot->legend->clearItems();
    for (int c = 0; c < m_labels.size(); ++c) {
        const QColor color = classColor(c);
        auto *score = new QCPGraph(m_scoreRect->axis(QCPAxis::atBottom), m_scoreRect->axis(QCPAxis::atLeft));
        score->setName(m_labels[c]);
        score->setPen(QPen(color, 1.6));
        m_scoreGraphs << score;
        auto *det = new QCPGraph(m_timelineRect->axis(QCPAxis::atBottom), m_timelineRect->axis(QCPAxis::atLeft));
        det->setLineStyle(QCPGraph::lsNone);
        det->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, color, color, 8));
        det->removeFromLegend();
        m_detectionGraphs << det;
    }
    m_runs.clear();
    m_lastWindowT = -1;
    m_lastHop = 0;
    m_suppressed->data()->clear();
    m_dirty = true;
}

void StreamTimelinePlot::setBackgroundClass(int cls)
{
    m_background = cls;
    m_dirty = true;
}

void StreamTimelinePlot::setVisibleSeconds(double seconds)
{
    m_visible = qMax(0.5, seconds);
    if (m_rate > 0 && m_signal.channels() > 0) {
        // A new capacity empties the buffer; the stream's frame numbering goes on.
        const qint64 next = m_signalBase + m_signal.totalFrames();
        m_signal.reset(m_signal.channels(), qint64(std::ceil(m_visible * m_rate)) + 1);
        m_signalBase = next;
        m_signalDirty = true;
    }
    m_dirty = true;
}

void StreamTimelinePlot::appendSignal(qint64 firstIndex, double rateHz, const QVector<float> &interleaved,
                                      int channels)
{
    if (channels <= 0 || rateHz <= 0 || interleaved.size() < channels)
        return;
    const qint64 frames = interleaved.size() / channels;
    const bool restart = channels != m_signal.channels() || rateHz != m_rate
        || firstIndex != m_signalBase + m_signal.totalFrames();
    if (restart) {
        m_rate = rateHz;
        m_signal.reset(channels, qint64(std::ceil(m_visible * rateHz)) + 1);
        m_signalBase = firstIndex;
        for (QCPGraph *g : m_signalGraphs)
            m_plot->removeGraph(g);
        m_signalGraphs.clear();
        for (int c = 0; c < channels; ++c) {
            auto *g = new QCPGraph(m_signalRect->axis(QCPAxis::atBottom), m_signalRect->axis(QCPAxis::atLeft));
            g->setPen(QPen(signalColor(c), 1.2));
            g->removeFromLegend();
            m_signalGraphs << g;
        }
        m_signalLo = 0;
        m_signalHi = 0;
    }
    m_signal.append(interleaved.constData(), frames);
    m_signalDirty = true;
    m_dirty = true;
}

void StreamTimelinePlot::addWindow(const WindowRow &row)
{
    const int n = qMin(int(row.scores.size()), int(m_scoreGraphs.size()));
    for (int c = 0; c < n; ++c)
        m_scoreGraphs[c]->addData(row.t_s, qBound(0.0, double(row.scores[c]), 1.0));
    // A window's decision covers the time since the previous window (its hop).
    if (m_lastWindowT >= 0 && row.t_s > m_lastWindowT)
        m_lastHop = row.t_s - m_lastWindowT;
    const double start = m_lastWindowT >= 0 && row.t_s > m_lastWindowT
        ? m_lastWindowT
        : row.t_s - (m_lastHop > 0 ? m_lastHop : 0.25);
    if (!m_runs.isEmpty() && m_runs.last().decision == row.decision && std::abs(m_runs.last().end - start) < 1e-9)
        m_runs.last().end = row.t_s;
    else
        m_runs.push_back({start, row.t_s, row.decision});
    m_lastWindowT = row.t_s;
    if (row.detection && row.decision >= 0 && row.decision < m_detectionGraphs.size())
        m_detectionGraphs[row.decision]->addData(row.t_s, kMarkerY);
    else if (row.suppressed)
        m_suppressed->addData(row.t_s, kMarkerY);
    m_dirty = true;
}

void StreamTimelinePlot::setTruth(const QVector<TruthRow> &truth)
{
    m_truth = truth;
    m_dirty = true;
}

void StreamTimelinePlot::clear()
{
    m_signal.reset(0, 0);
    m_rate = 0;
    m_signalBase = 0;
    for (QCPGraph *g : m_signalGraphs)
        m_plot->removeGraph(g);
    m_signalGraphs.clear();
    m_truth.clear();
    rebuildClassGraphs();
    m_signalDirty = true;
}

void StreamTimelinePlot::setMessage(const QString &text)
{
    m_message->setText(text);
    m_dirty = true;
}

double StreamTimelinePlot::endTime() const
{
    double end = m_lastWindowT;
    if (m_rate > 0)
        end = qMax(end, double(m_signalBase + m_signal.totalFrames()) / m_rate);
    return qMax(0.0, end);
}

void StreamTimelinePlot::redrawNow()
{
    m_dirty = true;
    redraw();
    m_plot->replot();
}

QCPItemRect *StreamTimelinePlot::blockAt(QVector<QCPItemRect *> &pool, int i)
{
    while (pool.size() <= i) {
        auto *r = new QCPItemRect(m_plot);
        r->setClipAxisRect(m_timelineRect);
        r->topLeft->setAxes(m_timelineRect->axis(QCPAxis::atBottom), m_timelineRect->axis(QCPAxis::atLeft));
        r->bottomRight->setAxes(m_timelineRect->axis(QCPAxis::atBottom), m_timelineRect->axis(QCPAxis::atLeft));
        pool << r;
    }
    pool[i]->setVisible(true);
    return pool[i];
}

QCPItemText *StreamTimelinePlot::labelAt(int i)
{
    while (m_truthLabels.size() <= i) {
        auto *t = new QCPItemText(m_plot);
        t->setClipAxisRect(m_timelineRect);
        t->position->setAxes(m_timelineRect->axis(QCPAxis::atBottom), m_timelineRect->axis(QCPAxis::atLeft));
        t->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        QFont f = t->font();
        f.setPointSizeF(8);
        t->setFont(f);
        t->setColor(QColor(0x1f, 0x29, 0x37));
        m_truthLabels << t;
    }
    m_truthLabels[i]->setVisible(true);
    return m_truthLabels[i];
}

void StreamTimelinePlot::redraw()
{
    if (!m_dirty || !isVisible())
        return;
    m_dirty = false;
    const double end = endTime();
    const double lo = qMax(0.0, end - m_visible);
    const double hi = qMax(m_visible, end);
    for (QCPAxisRect *r : {m_signalRect, m_scoreRect, m_timelineRect})
        r->axis(QCPAxis::atBottom)->setRange(lo, hi);

    // Signal: min/max per pixel column.
    if (m_signalDirty) {
        m_signalDirty = false;
        const int columns = qMax(100, m_signalRect->width());
        QVector<double> keys, values;
        QVector<QCPGraphData> points;
        for (int c = 0; c < m_signalGraphs.size(); ++c) {
            m_signal.decimateMinMax(c, columns, keys, values);
            points.resize(keys.size());
            for (int i = 0; i < keys.size(); ++i)
                points[i] = QCPGraphData((double(m_signalBase) + keys[i]) / m_rate, values[i]);
            m_signalGraphs[c]->data()->set(points, true);
        }
        double vlo = 0, vhi = 0;
        if (m_signal.valueRange(&vlo, &vhi)) {
            const double pad = qMax(1e-3, (vhi - vlo) * 0.08);
            // Grow at once, shrink slowly: the axis should not jump with every gesture.
            const bool first = m_signalLo == 0 && m_signalHi == 0;
            m_signalLo = first || vlo - pad < m_signalLo ? vlo - pad : m_signalLo + 0.2 * ((vlo - pad) - m_signalLo);
            m_signalHi = first || vhi + pad > m_signalHi ? vhi + pad : m_signalHi + 0.2 * ((vhi + pad) - m_signalHi);
            m_signalRect->axis(QCPAxis::atLeft)->setRange(m_signalLo, m_signalHi);
        }
    }

    // Old windows leave: the charts stay cheap however long the stream runs.
    const double keepFrom = end - qMax(kKeepSeconds, 4 * m_visible);
    if (keepFrom > 0) {
        for (QCPGraph *g : m_scoreGraphs)
            g->data()->removeBefore(keepFrom);
        for (QCPGraph *g : m_detectionGraphs)
            g->data()->removeBefore(keepFrom);
        m_suppressed->data()->removeBefore(keepFrom);
        int drop = 0;
        while (drop < m_runs.size() && m_runs[drop].end < keepFrom)
            ++drop;
        m_runs.remove(0, drop);
    }

    // Decision blocks in the visible span only.
    int shown = 0;
    for (const Run &run : std::as_const(m_runs)) {
        if (run.end < lo || run.start > hi)
            continue;
        QCPItemRect *r = blockAt(m_decisionPool, shown++);
        const QColor c = run.decision >= 0 ? classColor(run.decision) : kUncertain;
        r->setPen(Qt::NoPen);
        r->setBrush(run.decision >= 0 ? QColor(c.red(), c.green(), c.blue(), run.decision == m_background ? 45 : 150) : c);
        r->topLeft->setCoords(run.start, kModelHi);
        r->bottomRight->setCoords(run.end, kModelLo);
    }
    for (int i = shown; i < m_decisionPool.size(); ++i)
        m_decisionPool[i]->setVisible(false);
    m_shownDecisionBlocks = shown;

    // Truth events, with their label where there is room for it.
    shown = 0;
    const double secondsPerPixel = (hi - lo) / qMax(1, m_timelineRect->width());
    for (const TruthRow &t : std::as_const(m_truth)) {
        if (t.end_s < lo || t.start_s > hi)
            continue;
        QCPItemRect *r = blockAt(m_truthPool, shown);
        const QColor c = t.label >= 0 ? classColor(t.label) : QColor(0x6b, 0x72, 0x80);
        r->setPen(QPen(c, 1));
        r->setBrush(QColor(c.red(), c.green(), c.blue(), 60));
        r->topLeft->setCoords(t.start_s, kTruthHi);
        r->bottomRight->setCoords(t.end_s, kTruthLo);
        QCPItemText *label = labelAt(shown);
        const QString text = t.label >= 0 && t.label < m_labels.size() ? m_labels[t.label] : tr("other");
        label->setText(text);
        label->position->setCoords(qMax(t.start_s, lo) + 3 * secondsPerPixel, (kTruthLo + kTruthHi) / 2);
        label->setVisible((t.end_s - qMax(t.start_s, lo)) / secondsPerPixel > 6.0 * text.size() + 4);
        ++shown;
    }
    for (int i = shown; i < m_truthPool.size(); ++i) {
        m_truthPool[i]->setVisible(false);
        m_truthLabels[i]->setVisible(false);
    }
    m_shownTruthBlocks = shown;

    m_message->setVisible(!m_message->text().isEmpty() && m_runs.isEmpty() && m_signal.size() == 0);
    ++m_redraws;
    replot();
}

} // namespace tinyml::ui
