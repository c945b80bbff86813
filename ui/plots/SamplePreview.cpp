#include "plots/SamplePreview.h"

#include "plots/PlotStyle.h"
#include "plots/Spectrogram.h"
#include "window/CountText.h"

#include "plots/QCustomPlotInclude.h"

#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <cmath>

namespace tinyml::ui {

namespace {

QString channelLabel(const Sample &s, int c)
{
    QString name = c < s.channels.size() && !s.channels[c].isEmpty() ? s.channels[c] : QStringLiteral("ch%1").arg(c);
    if (c < s.units.size() && !s.units[c].isEmpty())
        name += QStringLiteral(" (%1)").arg(s.units[c]);
    return name;
}

QString commonUnit(const Sample &s)
{
    if (s.units.isEmpty())
        return {};
    const QString u = s.units.first();
    for (const QString &x : s.units)
        if (x != u)
            return {};
    return u;
}

void replotVisible(QCustomPlot *plot)
{
    // A hidden plot has no paint buffer yet; QCustomPlot replots on its first resize.
    if (plot->isVisible())
        plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace

SamplePreview::SamplePreview(QWidget *parent)
    : QWidget(parent), m_stack(new QStackedWidget(this)), m_message(new QLabel(this)), m_plots(new QWidget(this)),
      m_signal(new QCustomPlot(m_plots)), m_spectrogram(new QCustomPlot(m_plots)), m_image(new QLabel(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setObjectName(QStringLiteral("placeholderText"));
    m_stack->addWidget(m_message);

    auto *plotsLayout = new QVBoxLayout(m_plots);
    plotsLayout->setContentsMargins(0, 0, 0, 0);
    plotsLayout->setSpacing(0);
    plotsLayout->addWidget(m_signal, 1);
    plotsLayout->addWidget(m_spectrogram, 1);
    m_stack->addWidget(m_plots);

    m_image->setAlignment(Qt::AlignCenter);
    m_stack->addWidget(m_image);

    applyPlotStyle(m_signal);
    m_signal->setInteractions(QCP::iRangeZoom);
    m_signal->axisRect()->setRangeZoomAxes(m_signal->xAxis, nullptr);
    m_signal->xAxis->setLabel(tr("time (s)"));
    m_signal->legend->setVisible(true);
    placeLegendAbove(m_signal);
    connect(m_signal, &QCustomPlot::mousePress, this, &SamplePreview::onMousePress);
    connect(m_signal, &QCustomPlot::mouseMove, this, &SamplePreview::onMouseMove);
    connect(m_signal, &QCustomPlot::mouseRelease, this, &SamplePreview::onMouseRelease);
    connect(m_signal, &QCustomPlot::mouseDoubleClick, this, [this] {
        m_signal->rescaleAxes();
        replotVisible(m_signal);
    });

    applyPlotStyle(m_spectrogram);
    // Waveform and spectrogram share the time axis: same left and right margins.
    for (QCustomPlot *p : {m_signal, m_spectrogram}) {
        p->axisRect()->setAutoMargins(QCP::msTop | QCP::msBottom);
        p->axisRect()->setMargins(QMargins(62, 0, 16, 0));
    }
    m_spectrogram->xAxis->setLabel(tr("time (s)"));
    m_spectrogram->yAxis->setLabel(tr("frequency (kHz)"));
    m_colorMap = new QCPColorMap(m_spectrogram->xAxis, m_spectrogram->yAxis);
    QCPColorGradient gradient(QCPColorGradient::gpThermal);
    m_colorMap->setGradient(gradient);
    m_colorMap->setInterpolate(true);
    // Keep time aligned with the waveform above when the user zooms it.
    connect(m_signal->xAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this, [this](const QCPRange &r) {
        if (m_kind == Kind::Audio) {
            m_spectrogram->xAxis->setRange(r);
            m_spectrogram->replot(QCustomPlot::rpQueuedReplot);
        }
    });

    clear();
}

void SamplePreview::clear(const QString &message)
{
    m_kind = Kind::None;
    m_sample = Sample();
    m_selection.reset();
    m_message->setText(message.isEmpty() ? tr("Select a sample to see its data.") : message);
    m_stack->setCurrentWidget(m_message);
    Q_EMIT selectionChanged();
}

void SamplePreview::showSample(const Sample &sample)
{
    m_sample = sample;
    m_selection.reset();
    const bool imageLike = sample.data.dtype == DType::UInt8 && sample.data.shape.size() == 3;
    if (imageLike) {
        showImage();
    } else if (sample.sampleRateHz > 0 && sample.frames() > 1) {
        const bool audio = sample.sensor == QLatin1String("mic")
                           || (sample.sampleRateHz >= 4000 && sample.data.shape.value(1, 1) == 1);
        showTimeSeries(audio);
    } else if (sample.data.elementCount() > 0) {
        showValues();
    } else {
        clear(tr("Sample %1 holds no data.").arg(sample.id));
        return;
    }
    Q_EMIT selectionChanged();
}

void SamplePreview::showTimeSeries(bool audio)
{
    m_kind = audio ? Kind::Audio : Kind::TimeSeries;
    m_signal->clearPlottables();
    m_signal->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    m_signal->xAxis->setLabel(tr("time (s)"));
    const QVector<float> values = m_sample.data.toFloats();
    const qint64 frames = m_sample.frames();
    const int channels = int(m_sample.data.shape.value(1, 1));
    QVector<double> keys(frames);
    for (qint64 i = 0; i < frames; ++i)
        keys[i] = double(i) / m_sample.sampleRateHz;
    for (int c = 0; c < channels; ++c) {
        QVector<double> v(frames);
        for (qint64 i = 0; i < frames; ++i)
            v[i] = values[i * channels + c];
        QCPGraph *g = m_signal->addGraph();
        g->setPen(QPen(channelColor(c), 1.3));
        g->setName(channelLabel(m_sample, c));
        g->setData(keys, v, true);
        g->setAdaptiveSampling(true);
    }
    const QString unit = commonUnit(m_sample);
    m_signal->yAxis->setLabel(audio ? tr("amplitude") : unit.isEmpty() ? tr("value") : unit);
    m_signal->legend->setVisible(!audio && channels > 1);
    m_signal->rescaleAxes();
    m_signal->xAxis->setRange(0, double(frames) / m_sample.sampleRateHz);
    if (audio)
        m_signal->yAxis->setRange(-1.0, 1.0);
    else
        m_signal->yAxis->scaleRange(1.1);
    updateSelectionItem();
    m_stack->setCurrentWidget(m_plots);
    m_spectrogram->setVisible(audio);
    if (audio)
        showSpectrogram();
    replotVisible(m_signal);
}

void SamplePreview::showSpectrogram()
{
    const QVector<float> values = m_sample.data.toFloats();
    const int channels = int(m_sample.data.shape.value(1, 1));
    QVector<float> mono(m_sample.frames());
    for (qint64 i = 0; i < mono.size(); ++i)
        mono[i] = values[i * channels];
    const int fft = m_sample.sampleRateHz >= 8000 ? 512 : 64;
    const Spectrogram s = computeSpectrogram(mono.constData(), int(mono.size()), m_sample.sampleRateHz, fft, fft / 2);
    if (s.frames == 0) {
        m_spectrogram->setVisible(false);
        return;
    }
    const double t0 = (fft / 2) / m_sample.sampleRateHz;
    m_colorMap->data()->setSize(s.frames, s.bins);
    m_colorMap->data()->setRange(QCPRange(t0, t0 + (s.frames - 1) * s.hopSeconds),
                                 QCPRange(0, (s.bins - 1) * s.binHz / 1000.0));
    for (int f = 0; f < s.frames; ++f)
        for (int b = 0; b < s.bins; ++b)
            m_colorMap->data()->setCell(f, b, s.at(f, b));
    m_colorMap->setDataRange(QCPRange(-90, -10));
    m_spectrogram->xAxis->setRange(m_signal->xAxis->range());
    m_spectrogram->yAxis->setRange(0, m_sample.sampleRateHz / 2000.0);
    replotVisible(m_spectrogram);
}

void SamplePreview::showImage()
{
    m_kind = Kind::Image;
    const Tensor &t = m_sample.data;
    const int h = int(t.shape[0]), w = int(t.shape[1]), c = int(t.shape[2]);
    QImage img;
    if (c == 1)
        img = QImage(reinterpret_cast<const uchar *>(t.bytes.constData()), w, h, w, QImage::Format_Grayscale8).copy();
    else if (c == 3)
        img = QImage(reinterpret_cast<const uchar *>(t.bytes.constData()), w, h, w * 3, QImage::Format_RGB888).copy();
    else if (c == 4)
        img = QImage(reinterpret_cast<const uchar *>(t.bytes.constData()), w, h, w * 4, QImage::Format_RGBA8888).copy();
    if (img.isNull()) {
        clear(tr("Sample %1: %2 channels cannot be shown as a picture.").arg(m_sample.id).arg(c));
        return;
    }
    // Tiny ML pictures are small: scale up without smoothing so pixels stay pixels.
    const int scale = qMax(1, qMin(320 / qMax(1, w), 240 / qMax(1, h)));
    m_image->setPixmap(QPixmap::fromImage(img.scaled(w * scale, h * scale, Qt::KeepAspectRatio, Qt::FastTransformation)));
    m_image->setToolTip(tr("%1 x %2 pixels, %3").arg(w).arg(h).arg(countText(c, "%1 channel", "%1 channels")));
    m_stack->setCurrentWidget(m_image);
}

void SamplePreview::showValues()
{
    m_kind = Kind::Values;
    m_signal->clearPlottables();
    const QVector<float> values = m_sample.data.toFloats();
    auto *bars = new QCPBars(m_signal->xAxis, m_signal->yAxis);
    bars->setPen(Qt::NoPen);
    bars->setBrush(channelColor(0));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, v;
    for (int i = 0; i < values.size(); ++i) {
        keys << i;
        v << values[i];
        if (values.size() <= 24)
            ticker->addTick(i, i < m_sample.channels.size() ? m_sample.channels[i] : QString::number(i));
    }
    bars->setData(keys, v, true);
    if (values.size() <= 24)
        m_signal->xAxis->setTicker(ticker);
    m_signal->xAxis->setLabel(tr("feature"));
    m_signal->yAxis->setLabel(tr("value"));
    m_signal->legend->setVisible(false);
    m_signal->rescaleAxes();
    m_signal->xAxis->scaleRange(1.1);
    m_signal->yAxis->scaleRange(1.2);
    m_stack->setCurrentWidget(m_plots);
    m_spectrogram->setVisible(false);
    replotVisible(m_signal);
}

double SamplePreview::frameToSeconds(qint64 frame) const
{
    return m_sample.sampleRateHz > 0 ? double(frame) / m_sample.sampleRateHz : 0;
}

qint64 SamplePreview::secondsToFrame(double seconds) const
{
    return qBound<qint64>(0, qint64(std::llround(seconds * m_sample.sampleRateHz)), m_sample.frames());
}

std::optional<std::pair<qint64, qint64>> SamplePreview::selectedFrames() const
{
    if (!m_selection || (m_kind != Kind::TimeSeries && m_kind != Kind::Audio))
        return std::nullopt;
    const qint64 b = secondsToFrame(m_selection->first), e = secondsToFrame(m_selection->second);
    if (e - b < 2)
        return std::nullopt;
    return std::make_pair(b, e);
}

void SamplePreview::selectFrames(qint64 begin, qint64 end)
{
    m_selection = std::make_pair(frameToSeconds(begin), frameToSeconds(end));
    updateSelectionItem();
    replotVisible(m_signal);
    Q_EMIT selectionChanged();
}

void SamplePreview::clearSelection()
{
    m_selection.reset();
    updateSelectionItem();
    replotVisible(m_signal);
    Q_EMIT selectionChanged();
}

void SamplePreview::updateSelectionItem()
{
    if (!m_selectionItem) {
        m_selectionItem = new QCPItemRect(m_signal);
        m_selectionItem->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
        m_selectionItem->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
        m_selectionItem->setPen(QPen(QColor(37, 99, 235, 160)));
        m_selectionItem->setBrush(QColor(37, 99, 235, 40));
        m_selectionItem->setSelectable(false);
    }
    m_selectionItem->setVisible(m_selection.has_value());
    if (m_selection) {
        m_selectionItem->topLeft->setCoords(m_selection->first, 0);
        m_selectionItem->bottomRight->setCoords(m_selection->second, 1);
    }
}

void SamplePreview::onMousePress(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton || (m_kind != Kind::TimeSeries && m_kind != Kind::Audio))
        return;
    m_dragging = true;
    m_dragStart = qBound(0.0, m_signal->xAxis->pixelToCoord(event->position().x()), frameToSeconds(m_sample.frames()));
    m_selection = std::make_pair(m_dragStart, m_dragStart);
    updateSelectionItem();
    m_signal->replot(QCustomPlot::rpQueuedReplot);
}

void SamplePreview::onMouseMove(QMouseEvent *event)
{
    if (!m_dragging)
        return;
    const double x = qBound(0.0, m_signal->xAxis->pixelToCoord(event->position().x()), frameToSeconds(m_sample.frames()));
    m_selection = std::make_pair(qMin(m_dragStart, x), qMax(m_dragStart, x));
    updateSelectionItem();
    m_signal->replot(QCustomPlot::rpQueuedReplot);
}

void SamplePreview::onMouseRelease(QMouseEvent *)
{
    if (!m_dragging)
        return;
    m_dragging = false;
    if (!selectedFrames())
        m_selection.reset();
    updateSelectionItem();
    m_signal->replot(QCustomPlot::rpQueuedReplot);
    Q_EMIT selectionChanged();
}

} // namespace tinyml::ui
