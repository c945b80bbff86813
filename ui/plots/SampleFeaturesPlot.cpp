#include "plots/SampleFeaturesPlot.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

#include <algorithm>

namespace tinyml::ui {

using features::BlockKind;

SampleFeaturesPlot::SampleFeaturesPlot(QWidget *parent) : PlotWidget(parent)
{
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setGradient(QCPColorGradient(QCPColorGradient::gpThermal));
    m_map->setInterpolate(false);
    m_scale = new QCPColorScale(m_plot);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(10);
    styleAxis(m_scale->axis());
    m_map->setColorScale(m_scale);
    m_plot->plotLayout()->addElement(0, 1, m_scale);
    auto *group = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(channelColor(0));
    m_bars->setWidth(0.8);
    m_message = addMessageItem();
    setMinimumHeight(160);
    clear(tr("Click a dot to see that sample's features."));
}

bool SampleFeaturesPlot::showsColorMap() const
{
    return m_map->visible();
}

void SampleFeaturesPlot::clear(const QString &message)
{
    m_map->setVisible(false);
    m_scale->setVisible(false);
    m_bars->setVisible(false);
    m_bars->data()->clear();
    m_message->setText(message);
    m_message->setVisible(true);
    m_plot->xAxis->setLabel(QString());
    m_plot->yAxis->setLabel(QString());
    m_plot->xAxis->setRange(0, 1);
    m_plot->yAxis->setRange(0, 1);
    replot();
}

void SampleFeaturesPlot::setFeatures(const QVector<qint64> &shape, const float *values,
                                     const features::FeatureParams &params)
{
    m_message->setVisible(false);
    qint64 size = 1;
    for (qint64 s : shape)
        size *= s;
    // [1, H, W, C]: frames x coefficients (audio blocks) or an image.
    const bool grid = shape.size() == 4 && shape[1] > 1 && shape[2] > 1
                      && (params.kind == BlockKind::Mfe || params.kind == BlockKind::Mfcc || params.kind == BlockKind::Image);
    if (grid) {
        const int h = int(shape[1]), w = int(shape[2]), c = int(shape[3]);
        const bool image = params.kind == BlockKind::Image;
        m_bars->setVisible(false);
        m_map->setVisible(true);
        m_scale->setVisible(!image);
        m_map->setGradient(QCPColorGradient(image ? QCPColorGradient::gpGrayscale : QCPColorGradient::gpThermal));
        if (image) {
            // x = column, y = row counted from the top.
            m_map->data()->setSize(w, h);
            m_map->data()->setRange(QCPRange(0, w - 1), QCPRange(h - 1, 0));
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    double v = 0;
                    for (int k = 0; k < c; ++k)
                        v += values[(qint64(y) * w + x) * c + k];
                    m_map->data()->setCell(x, y, v / c);
                }
            m_map->setDataRange(QCPRange(0, 1));
            m_plot->xAxis->setLabel(tr("x (px)"));
            m_plot->yAxis->setLabel(tr("y (px)"));
            m_plot->yAxis->setRangeReversed(true);
        } else {
            // H = frames (time), W = filters or coefficients.
            const features::MfeParams &mfe = params.kind == BlockKind::Mfcc ? params.mfcc.mfe : params.mfe;
            const double stride = mfe.sampleRateHz > 0 ? mfe.frameStride / double(mfe.sampleRateHz) : 1.0;
            m_map->data()->setSize(h, w);
            m_map->data()->setRange(QCPRange(0, (h - 1) * stride), QCPRange(0, w - 1));
            for (int t = 0; t < h; ++t)
                for (int k = 0; k < w; ++k)
                    m_map->data()->setCell(t, k, values[(qint64(t) * w + k) * c]);
            m_map->rescaleDataRange(true);
            m_plot->xAxis->setLabel(tr("time (s)"));
            m_plot->yAxis->setLabel(params.kind == BlockKind::Mfcc ? tr("coefficient") : tr("mel filter"));
            m_plot->yAxis->setRangeReversed(false);
            m_scale->axis()->setLabel(params.kind == BlockKind::Mfcc ? tr("value") : tr("log energy"));
        }
        m_map->rescaleAxes();
        const QCPRange kr = m_plot->xAxis->range(), vr = m_plot->yAxis->range();
        const double dx = m_map->data()->keySize() > 1 ? kr.size() / (m_map->data()->keySize() - 1) / 2 : 0.5;
        const double dy = m_map->data()->valueSize() > 1 ? vr.size() / (m_map->data()->valueSize() - 1) / 2 : 0.5;
        m_plot->xAxis->setRange(kr.lower - dx, kr.upper + dx);
        m_plot->yAxis->setRange(vr.lower - dy, vr.upper + dy);
    } else {
        m_map->setVisible(false);
        m_scale->setVisible(false);
        m_bars->setVisible(true);
        m_plot->yAxis->setRangeReversed(false);
        const int n = int(size);
        QVector<double> keys(n), v(n);
        double lo = 0, hi = 0;
        for (int i = 0; i < int(size); ++i) {
            keys[i] = i;
            v[i] = values[i];
            lo = std::min(lo, v[i]);
            hi = std::max(hi, v[i]);
        }
        m_bars->setData(keys, v, true);
        m_bars->setWidth(size > 200 ? 1.0 : 0.8);
        m_plot->xAxis->setRange(-0.8, size - 0.2);
        const double pad = qMax((hi - lo) * 0.06, 1e-6);
        m_plot->yAxis->setRange(lo < 0 ? lo - pad : 0, hi + pad);
        m_plot->xAxis->setLabel(tr("feature index"));
        m_plot->yAxis->setLabel(tr("value"));
    }
    replot();
}

} // namespace tinyml::ui
