#include "plots/ProfileCharts.h"

#include "pages/ProfileReport.h"
#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tinyml::ui {

namespace {

const QColor kDeviceColor(0x25, 0x63, 0xeb);
const QColor kHostColor(0xd5, 0x5e, 0x00);
const QColor kMutedText(0x6b, 0x72, 0x80);
const QColor kText(0x37, 0x41, 0x51);

const char *kMessageProperty = "tinymlMessageItem";

/// A row above the axis rect holding the chart's title on the left and, when asked, the
/// legend on the right (so neither covers data).
QCPTextElement *addTitleRow(QCustomPlot *plot, const QString &title, bool withLegend)
{
    plot->plotLayout()->insertRow(0);
    auto *row = new QCPLayoutGrid;
    plot->plotLayout()->addElement(0, 0, row);
    row->setMargins(QMargins(6, 4, 8, 0));
    QFont f = plot->font();
    f.setPointSizeF(9);
    f.setBold(true);
    auto *text = new QCPTextElement(plot, title, f);
    text->setTextFlags(Qt::AlignLeft | Qt::AlignVCenter);
    text->setTextColor(QColor(0x11, 0x18, 0x27));
    row->addElement(0, 0, text);
    row->setColumnStretchFactor(0, 1);
    if (withLegend) {
        plot->legend->setVisible(true);
        plot->axisRect()->insetLayout()->take(plot->legend);
        row->addElement(0, 1, plot->legend);
        row->setColumnStretchFactor(1, 0.01);
        plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
        plot->legend->setBrush(Qt::NoBrush);
        plot->legend->setRowSpacing(0);
        plot->legend->setColumnSpacing(10);
    }
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->plotLayout()->setRowSpacing(0);
    return text;
}

QCustomPlot *makePlot(QWidget *parent)
{
    auto *plot = new QCustomPlot(parent);
    applyPlotStyle(plot);
    plot->setMinimumHeight(150);
    auto *message = new QCPItemText(plot);
    message->position->setType(QCPItemPosition::ptAxisRectRatio);
    message->position->setCoords(0.5, 0.5);
    message->setColor(kMutedText);
    message->setClipToAxisRect(false);
    message->setVisible(false);
    plot->setProperty(kMessageProperty, QVariant::fromValue<void *>(message));
    return plot;
}

QCPItemText *messageItem(QCustomPlot *plot)
{
    return static_cast<QCPItemText *>(plot->property(kMessageProperty).value<void *>());
}

QCPItemText *valueText(QCustomPlot *plot, double key, double value, const QString &text, bool horizontalBars)
{
    auto *item = new QCPItemText(plot);
    if (horizontalBars) {
        item->position->setCoords(value, key);
        item->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        item->setPadding(QMargins(4, 0, 0, 0));
    } else {
        item->position->setCoords(key, value);
        item->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        item->setPadding(QMargins(0, 0, 0, 2));
    }
    QFont f = plot->font();
    f.setPointSizeF(8);
    item->setFont(f);
    item->setColor(kText);
    item->setClipToAxisRect(false);
    item->setText(text);
    return item;
}

/// Horizontal bars: categories down the left, first on top.
QCPBars *horizontalBars(QCustomPlot *plot, const QColor &color)
{
    auto *bars = new QCPBars(plot->yAxis, plot->xAxis);
    bars->setPen(Qt::NoPen);
    bars->setBrush(color);
    bars->setWidth(0.6);
    plot->yAxis->setRangeReversed(true);
    plot->yAxis->grid()->setVisible(false);
    plot->yAxis->setTickLength(0, 0);
    plot->yAxis->setSubTicks(false);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    return bars;
}

QString msValue(double ms)
{
    return QLocale().toString(ms, 'f', ms < 1 ? 4 : ms < 10 ? 3 : 2);
}

} // namespace

ProfileCharts::ProfileCharts(QWidget *parent)
    : QWidget(parent), m_runs(makePlot(this)), m_histogram(makePlot(this)), m_layers(makePlot(this)),
      m_accuracy(makePlot(this)), m_energy(makePlot(this)), m_energySource(new QLabel(this))
{
    // Latency per run: a line over the run index.
    m_runsTitle = addTitleRow(m_runs, tr("Latency per run"), false);
    m_runGraph = m_runs->addGraph();
    m_runGraph->setPen(QPen(kDeviceColor, 1.6));
    m_runGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kDeviceColor, kDeviceColor, 4));
    m_runs->yAxis->setLabel(tr("latency (ms)"));
    auto runTicker = QSharedPointer<QCPAxisTickerFixed>::create();
    runTicker->setTickStep(1.0);
    runTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_runs->xAxis->setTicker(runTicker);

    // Histogram of the same latencies.
    addTitleRow(m_histogram, tr("Latency histogram"), false);
    m_histBars = new QCPBars(m_histogram->xAxis, m_histogram->yAxis);
    m_histBars->setPen(Qt::NoPen);
    m_histBars->setBrush(QColor(0x25, 0x63, 0xeb, 190));
    m_histogram->xAxis->setLabel(tr("latency (ms)"));
    m_histogram->yAxis->setLabel(tr("runs"));
    m_histogram->xAxis->grid()->setVisible(false);
    m_histogram->xAxis->ticker()->setTickCount(4);
    m_histogram->xAxis->setNumberFormat(QStringLiteral("f"));

    // Per-layer cost, one bar per layer.
    addTitleRow(m_layers, tr("Per layer (minimum over runs)"), false);
    m_layerBars = horizontalBars(m_layers, QColor(0x00, 0x9e, 0x73));

    // Running on-device accuracy against the host int8 reference.
    m_accuracyTitle = addTitleRow(m_accuracy, tr("On-device accuracy"), false);
    // Accuracy sits near the top: the legend goes bottom right, where no line runs.
    m_accuracy->legend->setVisible(true);
    m_accuracy->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    m_deviceAcc = m_accuracy->addGraph();
    m_deviceAcc->setName(tr("device"));
    m_deviceAcc->setPen(QPen(kDeviceColor, 1.8));
    m_deviceAcc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kDeviceColor, kDeviceColor, 3));
    m_hostAcc = m_accuracy->addGraph();
    m_hostAcc->setName(tr("host int8"));
    m_hostAcc->setPen(QPen(kHostColor, 1.4, Qt::DashLine));
    m_accuracy->xAxis->setLabel(tr("test samples streamed"));
    m_accuracy->yAxis->setLabel(tr("accuracy (%)"));

    // Energy per inference.
    m_energyTitle = addTitleRow(m_energy, tr("Energy per inference"), false);
    m_energyBars = horizontalBars(m_energy, QColor(0xe6, 0x9f, 0x00));
    m_energySource->setObjectName(QStringLiteral("hint"));
    m_energySource->setWordWrap(true);
    m_energySource->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    QFont small = m_energySource->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    m_energySource->setFont(small);

    auto *energyBox = new QWidget(this);
    auto *energyLayout = new QVBoxLayout(energyBox);
    energyLayout->setContentsMargins(0, 0, 0, 0);
    energyLayout->setSpacing(2);
    energyLayout->addWidget(m_energy, 1);
    energyLayout->addWidget(m_energySource);
    energyBox->setAttribute(Qt::WA_StyledBackground);
    energyBox->setStyleSheet(QStringLiteral("background: white;"));

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(6);
    grid->addWidget(m_runs, 0, 0);
    grid->addWidget(m_histogram, 0, 1);
    grid->addWidget(m_layers, 1, 0, 1, 2);
    grid->addWidget(m_accuracy, 2, 0);
    grid->addWidget(energyBox, 2, 1);
    for (int r = 0; r < 3; ++r)
        grid->setRowStretch(r, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);

    clear(tr("Press Flash & Profile"));
}

void ProfileCharts::setMessage(QCustomPlot *plot, const QString &text)
{
    QCPItemText *m = messageItem(plot);
    m->setText(text);
    m->setVisible(!text.isEmpty());
}

void ProfileCharts::clear(const QString &message)
{
    reset(Setup{});
    for (QCustomPlot *p : {m_runs, m_histogram, m_layers, m_accuracy, m_energy})
        setMessage(p, message);
    replotAll();
}

void ProfileCharts::reset(const Setup &setup)
{
    m_setup = setup;
    m_runMs.clear();
    m_runGraph->data()->clear();
    m_histBars->data()->clear();
    m_layerBars->data()->clear();
    for (QCPItemText *t : m_layerTexts)
        m_layers->removeItem(t);
    m_layerTexts.clear();
    m_layers->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    m_layers->yAxis->setRange(-0.5, 0.5);
    m_layers->xAxis->setRange(0, 1);
    m_layers->setToolTip(QString());
    m_deviceAcc->data()->clear();
    m_hostAcc->data()->clear();
    m_accuracyTotal = setup.accuracySamples;
    m_energyBars->data()->clear();
    for (QCPItemText *t : m_energyTexts)
        m_energy->removeItem(t);
    m_energyTexts.clear();
    m_energy->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    m_energy->yAxis->setRange(-0.5, 0.5);
    m_energy->xAxis->setRange(0, 1);
    m_energy->xAxis->setLabel(tr("µJ per inference"));
    m_energyTitle->setText(tr("Energy per inference"));
    m_energySource->clear();

    const QString conversion = counterToMsText(setup.counter, setup.clockHz);
    // Two lines: the conversion is as wide as a small chart.
    m_runs->xAxis->setLabel(setup.counter.isEmpty() ? tr("run") : tr("run\n%1").arg(conversion));
    m_layers->xAxis->setLabel(setup.counter.isEmpty() ? tr("ms per layer") : tr("ms per layer · %1").arg(conversion));
    m_accuracyTitle->setText(tr("On-device accuracy"));

    for (QCustomPlot *p : {m_runs, m_histogram, m_layers, m_accuracy, m_energy})
        setMessage(p, QString());
    if (setup.runs > 0) {
        setMessage(m_layers, tr("Layers are timed after the runs"));
        setMessage(m_energy, tr("Energy follows the runs"));
    }
    if (setup.accuracySamples == 0 && setup.runs > 0)
        setMessage(m_accuracy, tr("On-device accuracy is off"));
    else if (setup.runs > 0)
        setMessage(m_accuracy, tr("Test split: after the layers"));
    // Below the 100 % line and above the legend (bottom right).
    messageItem(m_accuracy)->position->setCoords(0.5, 0.35);
    if (setup.hostInt8Accuracy >= 0)
        setHostInt8Accuracy(setup.hostInt8Accuracy);
    m_accuracy->xAxis->setRange(0, qMax(1, m_accuracyTotal));
    m_accuracy->yAxis->setRange(0, 105);
    rescaleRuns();
    rebuildHistogram();
    replotAll();
}

void ProfileCharts::addRun(int index, quint64 counter, double ms)
{
    Q_UNUSED(counter)
    setMessage(m_runs, QString());
    setMessage(m_histogram, QString());
    m_runMs << ms;
    // index counts from 0 in the Profiler's signal; the chart counts runs from 1.
    m_runGraph->addData(index + 1, ms);
    rescaleRuns();
    rebuildHistogram();
    replot(m_runs);
    replot(m_histogram);
}

void ProfileCharts::rescaleRuns()
{
    const int n = qMax(qMax(1, m_setup.runs), int(m_runMs.size()));
    m_runs->xAxis->setRange(0.5, n + 0.5);
    if (auto ticker = m_runs->xAxis->ticker().dynamicCast<QCPAxisTickerFixed>())
        ticker->setTickStep(n > 50 ? 10.0 : n > 20 ? 5.0 : n > 10 ? 2.0 : 1.0);
    double hi = 0;
    for (double v : m_runMs)
        hi = qMax(hi, v);
    m_runs->yAxis->setRange(0, hi > 0 ? hi * 1.15 : 1.0);
}

void ProfileCharts::rebuildHistogram()
{
    m_histBars->data()->clear();
    if (m_runMs.isEmpty()) {
        m_histogram->xAxis->setRange(0, 1);
        m_histogram->yAxis->setRange(0, 1);
        return;
    }
    const auto [lo, hi] = std::minmax_element(m_runMs.cbegin(), m_runMs.cend());
    const double min = *lo, max = *hi;
    // A deterministic counter (QEMU -icount) gives the same latency every run: one bar.
    int bins = 1;
    if (max > min) {
        QVector<double> distinct = m_runMs;
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        bins = qBound(1, int(std::ceil(std::sqrt(double(m_runMs.size())))) + 1, qMin(12, int(distinct.size())));
    }
    const double width = max > min ? (max - min) / bins : qMax(min * 0.02, 1e-6);
    QVector<double> counts(bins, 0.0), centres(bins);
    for (double v : m_runMs) {
        int b = max > min ? int((v - min) / width) : 0;
        counts[qBound(0, b, bins - 1)] += 1;
    }
    for (int b = 0; b < bins; ++b)
        centres[b] = max > min ? min + (b + 0.5) * width : min;
    m_histBars->setWidth(width * 0.9);
    m_histBars->setData(centres, counts, true);
    const double pad = max > min ? width : qMax(min * 0.05, 1e-3);
    m_histogram->xAxis->setRange(qMax(0.0, min - pad), max + pad);
    // Enough decimals to tell the ticks apart, no more: QEMU's runs differ by a few µs.
    const double span = m_histogram->xAxis->range().size();
    m_histogram->xAxis->setNumberPrecision(qBound(0, int(std::ceil(-std::log10(span))) + 1, 6));
    m_histogram->yAxis->setRange(0, *std::max_element(counts.cbegin(), counts.cend()) * 1.15 + 0.5);
}

void ProfileCharts::setLayers(const QVector<deploy::LayerProfile> &layers)
{
    m_layerBars->data()->clear();
    for (QCPItemText *t : m_layerTexts)
        m_layers->removeItem(t);
    m_layerTexts.clear();
    if (layers.isEmpty()) {
        setMessage(m_layers, tr("The device reported no layers"));
        replot(m_layers);
        return;
    }
    setMessage(m_layers, QString());
    // Milliseconds when the board clock converts the counter; the raw counter otherwise.
    const bool inMs = std::any_of(layers.cbegin(), layers.cend(), [](const deploy::LayerProfile &l) { return l.ms > 0; });
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, values;
    double hi = 0;
    QStringList tips;
    const QString unit = counterUnitText(m_setup.counter);
    for (int i = 0; i < layers.size(); ++i) {
        const deploy::LayerProfile &l = layers[i];
        const double v = inMs ? l.ms : double(l.counter);
        keys << i;
        values << v;
        hi = qMax(hi, v);
        ticker->addTick(i, QStringLiteral("%1 %2").arg(i + 1).arg(l.op));
        tips << tr("%1 (%2): %3 MACs, %4 %5, %6 ms")
                    .arg(l.name, l.op, QLocale().toString(l.macs), QLocale().toString(qint64(l.counter)), unit, msValue(l.ms));
    }
    m_layerBars->setData(keys, values, true);
    const double cap = hi > 0 ? hi : 1.0;
    for (int i = 0; i < layers.size(); ++i) {
        const deploy::LayerProfile &l = layers[i];
        const QString text = inMs ? tr("%1 ms · %2 MACs").arg(msValue(l.ms), QLocale().toString(l.macs))
                                  : tr("%1 %2").arg(QLocale().toString(qint64(l.counter)), unit);
        m_layerTexts << valueText(m_layers, i, values[i], text, true);
    }
    m_layers->setToolTip(tips.join(QLatin1Char('\n')));
    m_layers->yAxis->setTicker(ticker);
    m_layers->yAxis->setRange(-0.6, layers.size() - 0.4);
    m_layers->xAxis->setRange(0, cap * 1.45);   // room for the value labels
    if (!inMs)
        m_layers->xAxis->setLabel(tr("%1 per layer").arg(unit));
    replot(m_layers);
}

void ProfileCharts::setHostInt8Accuracy(double fraction)
{
    m_setup.hostInt8Accuracy = fraction;
    m_hostAcc->data()->clear();
    if (fraction < 0)
        return;
    const double total = qMax(1, m_accuracyTotal);
    m_hostAcc->addData(0, fraction * 100);
    m_hostAcc->addData(total, fraction * 100);
    replot(m_accuracy);
}

void ProfileCharts::setAccuracyProgress(int done, int total, int correct, int bitexact)
{
    setMessage(m_accuracy, QString());
    if (total != m_accuracyTotal) {
        m_accuracyTotal = total;
        m_accuracy->xAxis->setRange(0, qMax(1, total));
        setHostInt8Accuracy(m_setup.hostInt8Accuracy);
    }
    if (done > 0)
        m_deviceAcc->addData(done, 100.0 * correct / done);
    m_accuracyTitle->setText(tr("On-device accuracy · bit-exact %1 / %2").arg(bitexact).arg(done));
    replot(m_accuracy);
}

void ProfileCharts::setEnergy(const QVector<EnergyBar> &bars, const QString &source)
{
    m_energyBars->data()->clear();
    for (QCPItemText *t : m_energyTexts)
        m_energy->removeItem(t);
    m_energyTexts.clear();
    if (bars.isEmpty()) {
        setMessage(m_energy, tr("No energy figure"));
        m_energySource->clear();
        replot(m_energy);
        return;
    }
    setMessage(m_energy, QString());
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, values;
    double hi = 0;
    for (int i = 0; i < bars.size(); ++i) {
        keys << i;
        values << bars[i].microjoules;
        hi = qMax(hi, bars[i].microjoules);
        ticker->addTick(i, bars[i].label);
    }
    m_energyBars->setData(keys, values, true);
    for (int i = 0; i < bars.size(); ++i) {
        const EnergyBar &b = bars[i];
        const QString value = QLocale().toString(b.microjoules, 'f', b.microjoules < 10 ? 3 : 1);
        m_energyTexts << valueText(m_energy, i, b.microjoules, tr("%1 µJ").arg(value), true);
    }
    m_energy->yAxis->setTicker(ticker);
    m_energy->yAxis->setRange(-0.6, bars.size() - 0.4);
    m_energy->xAxis->setRange(0, (hi > 0 ? hi : 1.0) * 1.6);
    const bool estimated = bars.first().estimated;
    m_energy->xAxis->setLabel(estimated ? tr("µJ per inference (estimated)") : tr("µJ per inference (measured)"));
    m_energyTitle->setText(estimated ? tr("Energy per inference · estimated") : tr("Energy per inference · measured"));
    // The Profiler's source already says "estimated: ..."; say it once, capitalised.
    const QString lead = estimated ? QStringLiteral("estimated") : QStringLiteral("measured");
    QString caption = source;
    if (caption.startsWith(lead, Qt::CaseInsensitive))
        caption[0] = caption[0].toUpper();
    else
        caption = (estimated ? tr("Estimated: %1") : tr("Measured: %1")).arg(source);
    m_energySource->setText(caption);
    m_energySource->setToolTip(source);
    replot(m_energy);
}

void ProfileCharts::showResult(const deploy::ProfileResult &r, const QVector<EnergyBar> &earlierEnergy)
{
    Setup setup;
    setup.runs = r.runs > 0 ? r.runs : int(r.runCounters.size());
    setup.counter = r.counter;
    setup.clockHz = r.clockHz;
    setup.hostInt8Accuracy = r.hostInt8Accuracy;
    setup.accuracySamples = r.outputsCompared;
    reset(setup);
    // ms per run from the counters at the board clock (the host agent counts µs).
    for (int i = 0; i < r.runCounters.size(); ++i) {
        const quint64 c = r.runCounters[i];
        double ms = 0;
        if (r.counter == QLatin1String("microseconds"))
            ms = double(c) / 1000.0;
        else if (r.clockHz > 0)
            ms = double(c) * 1000.0 / double(r.clockHz);
        addRun(i, c, ms);
    }
    if (r.runCounters.isEmpty())
        setMessage(m_runs, tr("No runs stored"));
    setLayers(r.layers);
    if (r.outputsCompared > 0) {
        // A stored profile keeps the totals only: the final point, and the reference.
        const int correct = int(std::lround(r.deviceAccuracy * r.outputsCompared));
        m_accuracyTotal = r.outputsCompared;
        m_accuracy->xAxis->setRange(0, r.outputsCompared);
        setHostInt8Accuracy(r.hostInt8Accuracy);
        m_deviceAcc->addData(0, r.deviceAccuracy * 100);
        setAccuracyProgress(r.outputsCompared, r.outputsCompared, correct, r.bitexactOutputs);
    } else {
        setMessage(m_accuracy, tr("On-device accuracy was not measured"));
    }
    QVector<EnergyBar> bars;
    bars << EnergyBar{tr("this profile"), r.energyUj, r.energyEstimated};
    bars += earlierEnergy;
    setEnergy(bars, r.energySource);
    replotAll();
}

int ProfileCharts::runPointCount() const
{
    return m_runGraph->dataCount();
}

int ProfileCharts::histogramRunCount() const
{
    double sum = 0;
    for (auto it = m_histBars->data()->constBegin(); it != m_histBars->data()->constEnd(); ++it)
        sum += it->value;
    return int(std::lround(sum));
}

int ProfileCharts::layerBarCount() const
{
    return m_layerBars->dataCount();
}

int ProfileCharts::accuracyPointCount() const
{
    return m_deviceAcc->dataCount();
}

int ProfileCharts::energyBarCount() const
{
    return m_energyBars->dataCount();
}

QString ProfileCharts::bitexactText() const
{
    return m_accuracyTitle->text();
}

QString ProfileCharts::energySourceText() const
{
    return m_energySource->text();
}

void ProfileCharts::replot(QCustomPlot *plot)
{
    if (isVisible())
        plot->replot(QCustomPlot::rpQueuedReplot);
}

void ProfileCharts::replotAll()
{
    for (QCustomPlot *p : {m_runs, m_histogram, m_layers, m_accuracy, m_energy})
        replot(p);
}

void ProfileCharts::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    for (QCustomPlot *p : {m_runs, m_histogram, m_layers, m_accuracy, m_energy})
        p->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace tinyml::ui
