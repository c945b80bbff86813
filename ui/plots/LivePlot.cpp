#include "plots/LivePlot.h"

#include "plots/PlotStyle.h"

#include "plots/QCustomPlotInclude.h"

#include <QVBoxLayout>

#include <cmath>

namespace tinyml::ui {

LivePlot::LivePlot(QWidget *parent) : QWidget(parent), m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyPlotStyle(m_plot);
    m_plot->xAxis->setLabel(tr("time (s)"));
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);
    // Lines without antialiasing: thousands of min/max segments stay cheap to draw.
    m_plot->setNotAntialiasedElements(QCP::aePlottables);

    m_recording = new QCPItemRect(m_plot);
    m_recording->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    m_recording->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    m_recording->setPen(Qt::NoPen);
    m_recording->setBrush(QColor(220, 38, 38, 28));
    m_recording->setVisible(false);

    m_message = new QCPItemText(m_plot);
    m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_message->position->setCoords(0.5, 0.5);
    m_message->setColor(QColor(0x6b, 0x72, 0x80));
    QFont f = m_message->font();
    f.setPointSizeF(11);
    m_message->setFont(f);

    m_timer.setInterval(kRedrawIntervalMs);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &LivePlot::redraw);
    m_timer.start();
    setMinimumHeight(220);
    setFormat({}, {}, 0, 5);
}

void LivePlot::setFormat(const QStringList &channels, const QStringList &units, double rateHz, double windowSeconds)
{
    m_channels = channels;
    m_rate = rateHz;
    m_window = windowSeconds;
    const qint64 capacity = rateHz > 0 ? qint64(std::ceil(rateHz * windowSeconds)) : 1000;
    m_buffer.reset(int(channels.size()), capacity);
    m_plot->clearGraphs();
    for (int c = 0; c < channels.size(); ++c) {
        QCPGraph *g = m_plot->addGraph();
        g->setPen(QPen(channelColor(c), 1.2));
        QString name = channels[c];
        if (c < units.size() && !units[c].isEmpty() && units[c] != QLatin1String("1"))
            name += QStringLiteral(" (%1)").arg(units[c]);
        g->setName(name);
        g->setAdaptiveSampling(false);   // already decimated
    }
    QString unit = units.value(0);
    for (const QString &u : units)
        if (u != unit)
            unit.clear();
    m_plot->yAxis->setLabel(unit.isEmpty() || unit == QLatin1String("1") ? tr("value") : unit);
    m_plot->legend->setVisible(channels.size() > 1);
    m_plot->xAxis->setRange(0, windowSeconds);
    clearRecordingMark();
    m_dirty = true;
}

void LivePlot::append(const float *interleaved, qint64 frames)
{
    m_buffer.append(interleaved, frames);
    m_dirty = true;
}

void LivePlot::clear()
{
    m_buffer.clear();
    for (int i = 0; i < m_plot->graphCount(); ++i)
        m_plot->graph(i)->data()->clear();
    m_dirty = true;
}

void LivePlot::setFixedValueRange(double lo, double hi)
{
    m_fixedRange = true;
    m_lo = lo;
    m_hi = hi;
    m_plot->yAxis->setRange(lo, hi);
    m_dirty = true;
}

void LivePlot::setAutoValueRange()
{
    m_fixedRange = false;
    m_dirty = true;
}

void LivePlot::setRecordingFrom(qint64 startFrame)
{
    m_recordFrom = startFrame;
    m_dirty = true;
}

void LivePlot::clearRecordingMark()
{
    m_recordFrom = -1;
    m_recording->setVisible(false);
    m_dirty = true;
}

void LivePlot::setMessage(const QString &text)
{
    m_message->setText(text);
    m_dirty = true;
}

void LivePlot::redraw()
{
    if (!m_dirty || !isVisible())
        return;
    m_dirty = false;
    const int columns = qMax(100, m_plot->axisRect()->width());
    QVector<double> keys, values;
    QVector<QCPGraphData> points;
    for (int c = 0; c < m_buffer.channels() && c < m_plot->graphCount(); ++c) {
        m_buffer.decimateMinMax(c, columns, keys, values);
        points.resize(keys.size());
        for (int i = 0; i < keys.size(); ++i)
            points[i] = QCPGraphData(frameToSeconds(keys[i]), values[i]);
        m_plot->graph(c)->data()->set(points, true);
    }
    const double end = frameToSeconds(double(m_buffer.totalFrames()));
    m_plot->xAxis->setRange(qMax(0.0, end - m_window), qMax(m_window, end));
    if (!m_fixedRange) {
        double lo = 0, hi = 0;
        if (m_buffer.valueRange(&lo, &hi)) {
            const double pad = qMax(1e-3, (hi - lo) * 0.1);
            // Grow at once, shrink slowly: the axis should not jump with every gesture.
            m_lo = lo - pad < m_lo ? lo - pad : m_lo + 0.1 * ((lo - pad) - m_lo);
            m_hi = hi + pad > m_hi ? hi + pad : m_hi + 0.1 * ((hi + pad) - m_hi);
            m_plot->yAxis->setRange(m_lo, m_hi);
            if (std::abs(m_lo - (lo - pad)) > 1e-6 || std::abs(m_hi - (hi + pad)) > 1e-6)
                m_dirty = true;
        }
    }
    if (m_recordFrom >= 0) {
        m_recording->setVisible(true);
        m_recording->topLeft->setCoords(frameToSeconds(double(m_recordFrom)), 0);
        m_recording->bottomRight->setCoords(qMax(end, frameToSeconds(double(m_recordFrom))), 1);
    }
    m_message->setVisible(m_buffer.size() == 0 && !m_message->text().isEmpty());
    ++m_redraws;
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace tinyml::ui
