#include "live/LiveClassificationView.h"

#include "plots/StageCostBars.h"
#include "plots/StreamTimelinePlot.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

namespace tinyml::ui {

namespace {

// Costs are medians over the newest windows: recent behaviour, bounded work.
constexpr int kCostWindows = 512;

double median(QVector<double> v)
{
    if (v.isEmpty())
        return 0;
    auto mid = v.begin() + v.size() / 2;
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

void pushBounded(QVector<double> &v, double x)
{
    if (v.size() >= kCostWindows)
        v.remove(0, v.size() - kCostWindows + 1);
    v << x;
}

QString percent(double ratio)
{
    return QStringLiteral("%1 %").arg(100.0 * ratio, 0, 'f', ratio >= 0.995 || ratio == 0 ? 0 : 1);
}

QString duration(double hours)
{
    if (hours >= 48)
        return LiveClassificationView::tr("%1 days").arg(hours / 24, 0, 'f', hours >= 240 ? 0 : 1);
    if (hours >= 1)
        return LiveClassificationView::tr("%1 h").arg(hours, 0, 'f', 1);
    return LiveClassificationView::tr("%1 min").arg(hours * 60, 0, 'f', 0);
}

const char *const kMetricNames[] = {
    QT_TRANSLATE_NOOP("LiveClassificationView", "Windows"),
    QT_TRANSLATE_NOOP("LiveClassificationView", "Overruns"),
    QT_TRANSLATE_NOOP("LiveClassificationView", "Event recall"),
    QT_TRANSLATE_NOOP("LiveClassificationView", "False activations"),
    QT_TRANSLATE_NOOP("LiveClassificationView", "Detection delay"),
    QT_TRANSLATE_NOOP("LiveClassificationView", "Host replay"),
};

} // namespace

LiveClassificationView::LiveClassificationView(QWidget *parent)
    : QWidget(parent), m_source(new QLabel(this)), m_timeline(new StreamTimelinePlot(this)),
      m_costs(new StageCostBars(this)), m_duty(new QLabel(this)), m_battery(new QLabel(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_source->setObjectName(QStringLiteral("warningBanner"));
    m_source->setWordWrap(true);
    layout->addWidget(m_source);

    auto *row = new QHBoxLayout;
    row->addWidget(m_timeline, 1);
    auto *side = new QVBoxLayout;
    row->addLayout(side);
    layout->addLayout(row, 1);

    auto *metrics = new QGroupBox(tr("Stream metrics"), this);
    m_form = new QFormLayout(metrics);
    m_form->setLabelAlignment(Qt::AlignLeft);
    m_form->setHorizontalSpacing(12);
    m_form->setVerticalSpacing(4);
    for (int i = 0; i < 6; ++i) {
        m_metric[i] = new QLabel(metrics);
        m_metric[i]->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_form->addRow(tr(kMetricNames[i]), m_metric[i]);
    }
    metrics->setFixedWidth(310);
    side->addWidget(metrics);

    auto *cost = new QGroupBox(tr("Cost per window"), this);
    auto *costLayout = new QVBoxLayout(cost);
    costLayout->addWidget(m_costs, 1);
    m_duty->setWordWrap(true);
    m_battery->setWordWrap(true);
    m_battery->setObjectName(QStringLiteral("hint"));
    costLayout->addWidget(m_duty);
    costLayout->addWidget(m_battery);
    cost->setFixedWidth(310);
    side->addWidget(cost, 1);

    m_costTimer.setInterval(StreamTimelinePlot::kRedrawIntervalMs * 4);
    connect(&m_costTimer, &QTimer::timeout, this, [this] {
        if (m_costsDirty)
            updateCosts();
    });
    m_costTimer.start();

    setSourceNote(QString());
    setBatteryEstimate(std::nullopt, QString());
    clear();
}

void LiveClassificationView::setLabels(const QStringList &labels)
{
    m_labels = labels;
    m_timeline->setLabels(labels);
    rebuildClassRows();
    clear();
}

void LiveClassificationView::rebuildClassRows()
{
    for (QLabel *l : std::as_const(m_classRecall))
        m_form->removeRow(l);
    m_classRecall.clear();
    // Per-class recall rows go right under the overall recall.
    int at = 3;
    for (int c = 0; c < m_labels.size(); ++c) {
        auto *value = new QLabel(QStringLiteral("—"), this);
        m_form->insertRow(at++, QStringLiteral("    %1").arg(m_labels[c]), value);
        m_classRecall << value;
    }
}

void LiveClassificationView::setBackgroundClass(int cls)
{
    m_timeline->setBackgroundClass(cls);
}

void LiveClassificationView::setSourceNote(const QString &text)
{
    // Nothing here is a measurement of a real sensor: say so even before a source is chosen.
    m_source->setText(text.isEmpty() ? tr("No stream. Streams are replays or simulated sensors.") : text);
}

QString LiveClassificationView::sourceNote() const
{
    return m_source->text();
}

void LiveClassificationView::setVisibleSeconds(double seconds)
{
    m_timeline->setVisibleSeconds(seconds);
}

void LiveClassificationView::setStrideMs(std::optional<double> strideMs)
{
    m_stride = strideMs;
    m_costsDirty = true;
}

void LiveClassificationView::setBatteryEstimate(std::optional<double> hours, const QString &source)
{
    // A power model's full provenance runs to several sentences: the line keeps its first
    // clause (what was assumed), the tooltip has all of it.
    const QString brief = source.section(QStringLiteral(": "), 0, 0);
    m_battery->setToolTip(source);
    if (!hours) {
        m_battery->setText(source.isEmpty() ? tr("Battery life: no estimate (no power model for this board)")
                                            : tr("Battery life: %1").arg(brief));
        return;
    }
    m_battery->setText(source.isEmpty() ? tr("Estimated battery life: %1").arg(duration(*hours))
                                        : tr("Estimated battery life: %1 (%2)").arg(duration(*hours), brief));
}

QString LiveClassificationView::batteryText() const
{
    return m_battery->text();
}

void LiveClassificationView::appendSignal(qint64 firstIndex, double rateHz, const QVector<float> &interleaved,
                                          int channels)
{
    m_timeline->appendSignal(firstIndex, rateHz, interleaved, channels);
}

void LiveClassificationView::addWindow(const WindowRow &row)
{
    m_timeline->addWindow(row);
    pushBounded(m_dsp, row.dspMs);
    pushBounded(m_model, row.modelMs);
    pushBounded(m_post, row.postMs);
    if (m_lastT >= 0 && row.t_s > m_lastT)
        pushBounded(m_gaps, 1000.0 * (row.t_s - m_lastT));
    m_lastT = row.t_s;
    m_costsDirty = true;
}

void LiveClassificationView::setTruth(const QVector<TruthRow> &truth)
{
    m_timeline->setTruth(truth);
}

std::optional<double> LiveClassificationView::medianStrideMs() const
{
    if (m_stride)
        return m_stride;
    if (m_gaps.isEmpty())
        return std::nullopt;
    return median(m_gaps);
}

void LiveClassificationView::updateCosts()
{
    m_costsDirty = false;
    if (m_dsp.isEmpty()) {
        m_costs->clear();
        m_duty->setText(tr("CPU duty cycle: —"));
        return;
    }
    const double dsp = median(m_dsp), model = median(m_model), post = median(m_post);
    const std::optional<double> stride = medianStrideMs();
    m_costs->setCosts(dsp, model, post, stride);
    const double total = dsp + model + post;
    m_duty->setText(stride && *stride > 0
                        ? tr("CPU duty cycle: %1 (%2 ms of every %3 ms stride)")
                              .arg(percent(total / *stride))
                              .arg(total, 0, 'f', 2)
                              .arg(*stride, 0, 'f', 0)
                        : tr("CPU duty cycle: — (%1 ms per window; stride not known yet)").arg(total, 0, 'f', 2));
}

QString LiveClassificationView::dutyCycleText() const
{
    return m_duty->text();
}

void LiveClassificationView::setMetrics(const MetricsRow &m)
{
    m_metric[int(Metric::Windows)]->setText(QString::number(m.windows));
    m_metric[int(Metric::Overruns)]->setText(QString::number(m.overruns));
    m_metric[int(Metric::Recall)]->setText(
        m.recall ? tr("%1 / %2 events (%3)").arg(m.eventsDetected).arg(m.eventsTotal).arg(percent(*m.recall))
                 : tr("— (no truth)"));
    for (int c = 0; c < m_classRecall.size(); ++c) {
        const std::optional<double> r = c < m.classRecall.size() ? m.classRecall[c] : std::nullopt;
        m_classRecall[c]->setText(r ? percent(*r) : QStringLiteral("—"));
    }
    m_metric[int(Metric::FalseActivations)]->setText(
        m.falseActivationsPerHour ? tr("%1 / h (%2 in %3 s)")
                                        .arg(*m.falseActivationsPerHour, 0, 'f', 1)
                                        .arg(m.falseActivations)
                                        .arg(m.streamSeconds, 0, 'f', 0)
                                  : tr("— (no truth)"));
    QString delay = tr("—");
    if (m.delayMedianMs)
        delay = m.delayP90Ms ? tr("median %1 · p90 %2 s").arg(*m.delayMedianMs / 1000.0, 0, 'f', 2)
                                   .arg(*m.delayP90Ms / 1000.0, 0, 'f', 2)
                             : tr("median %1 s").arg(*m.delayMedianMs / 1000.0, 0, 'f', 2);
    m_metric[int(Metric::Delay)]->setText(delay);
    // The host replay runs when the stream ends: unknown before, possibly none compared after.
    QString host = tr("when the run ends");
    if (m.hostEqualWindows && m.hostComparedWindows)
        host = *m.hostComparedWindows > 0 ? tr("%1 / %2 windows equal").arg(*m.hostEqualWindows).arg(*m.hostComparedWindows)
                                          : tr("not compared");
    m_metric[int(Metric::HostReplay)]->setText(host);
}

QString LiveClassificationView::metricText(Metric metric) const
{
    return m_metric[int(metric)]->text();
}

QString LiveClassificationView::classRecallText(int cls) const
{
    return cls >= 0 && cls < m_classRecall.size() ? m_classRecall[cls]->text() : QString();
}

void LiveClassificationView::clear()
{
    m_timeline->clear();
    m_dsp.clear();
    m_model.clear();
    m_post.clear();
    m_gaps.clear();
    m_lastT = -1;
    setMetrics(MetricsRow());
    updateCosts();
}

void LiveClassificationView::flush()
{
    updateCosts();
    m_timeline->redrawNow();
}

} // namespace tinyml::ui
