#include "plots/SqnrBarsPlot.h"

#include "plots/QCustomPlotInclude.h"

#include <cmath>

namespace tinyml::ui {

SqnrBarsPlot::SqnrBarsPlot(QWidget *parent) : PlotWidget(parent)
{
    // Layers down the left (first layer on top), dB along the bottom.
    m_bars = new QCPBars(m_plot->yAxis, m_plot->xAxis);
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(QColor(0x25, 0x63, 0xeb));
    m_bars->setWidth(0.55);
    m_plot->yAxis->setRangeReversed(true);
    m_plot->yAxis->grid()->setVisible(false);
    m_plot->yAxis->setTickLength(0, 0);
    m_plot->yAxis->setSubTicks(false);
    m_plot->xAxis->setLabel(tr("SQNR (dB), int8 vs float"));
    m_message = addMessageItem();
    setMinimumHeight(160);
    clear(tr("Quantize the model to see the error per layer."));
}

void SqnrBarsPlot::clear(const QString &message)
{
    for (QCPItemText *t : m_valueTexts)
        m_plot->removeItem(t);
    m_valueTexts.clear();
    m_bars->data()->clear();
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    m_plot->yAxis->setRange(-0.5, 0.5);
    m_plot->xAxis->setRange(0, 60);
    m_message->setText(message);
    m_message->setVisible(true);
    replot();
}

void SqnrBarsPlot::setLayers(const QVector<training::LayerSqnr> &layers)
{
    clear(QString());
    if (layers.isEmpty()) {
        clear(tr("No layer outputs to compare."));
        return;
    }
    m_message->setVisible(false);
    double maxFinite = 0;
    for (const auto &l : layers)
        if (std::isfinite(l.sqnrDb))
            maxFinite = qMax(maxFinite, l.sqnrDb);
    const double cap = qMax(10.0, maxFinite * 1.1);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, values;
    QFont f = font();
    f.setPointSizeF(8);
    for (int i = 0; i < layers.size(); ++i) {
        const auto &l = layers[i];
        const bool exact = !std::isfinite(l.sqnrDb);
        keys << i;
        values << (exact ? cap : qMax(0.0, l.sqnrDb));
        ticker->addTick(i, l.node.isEmpty() ? l.tensor : l.node);
        auto *text = new QCPItemText(m_plot);
        text->position->setCoords(values.last(), i);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        text->setPadding(QMargins(4, 0, 0, 0));
        text->setText(exact ? tr("exact") : QStringLiteral("%1 dB").arg(l.sqnrDb, 0, 'f', 1));
        text->setFont(f);
        text->setColor(QColor(0x37, 0x41, 0x51));
        text->setClipToAxisRect(false);
        m_valueTexts << text;
    }
    m_bars->setData(keys, values, true);
    QStringList ops;
    for (const auto &l : layers)
        ops << QStringLiteral("%1: %2").arg(l.node.isEmpty() ? l.tensor : l.node, l.op);
    m_plot->setToolTip(ops.join(QLatin1Char('\n')));
    m_plot->yAxis->setTicker(ticker);
    m_plot->yAxis->setRange(-0.6, layers.size() - 0.4);
    m_plot->xAxis->setRange(0, cap * 1.3);   // room for the value labels
    replot();
}

int SqnrBarsPlot::barCount() const
{
    return m_bars->dataCount();
}

} // namespace tinyml::ui
