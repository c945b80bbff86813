#include "plots/StageCostBars.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

namespace tinyml::ui {

StageCostBars::StageCostBars(QWidget *parent) : PlotWidget(parent), m_bars(new QCPBars(m_plot->yAxis, m_plot->xAxis))
{
    // Keys top to bottom in pipeline order.
    auto stages = QSharedPointer<QCPAxisTickerText>::create();
    stages->addTick(3, tr("DSP"));
    stages->addTick(2, tr("model"));
    stages->addTick(1, tr("post"));
    m_plot->yAxis->setTicker(stages);
    m_plot->yAxis->setRange(0.4, 3.6);
    m_plot->yAxis->grid()->setVisible(false);
    m_plot->yAxis->setTickPen(Qt::NoPen);
    m_plot->yAxis->setSubTicks(false);
    m_plot->xAxis->setLabel(tr("median ms per window"));
    m_bars->setWidth(0.6);
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(channelColor(0));
    for (int i = 0; i < 3; ++i) {
        m_text[i] = new QCPItemText(m_plot);
        m_text[i]->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        m_text[i]->setColor(QColor(0x1f, 0x29, 0x37));
        QFont f = m_text[i]->font();
        f.setPointSizeF(8.5);
        m_text[i]->setFont(f);
        m_text[i]->setVisible(false);
    }
    m_message = addMessageItem();
    m_message->setText(tr("No windows yet"));
    setMinimumHeight(120);
    clear();
}

void StageCostBars::setCosts(double dspMs, double modelMs, double postMs, std::optional<double> strideMs)
{
    const double costs[3] = {dspMs, modelMs, postMs};
    m_bars->data()->clear();
    double top = 0;
    for (int i = 0; i < 3; ++i) {
        m_bars->addData(3 - i, costs[i]);
        top = qMax(top, costs[i]);
        QString text = QStringLiteral("  %1 ms").arg(costs[i], 0, 'f', costs[i] < 10 ? 2 : 1);
        if (strideMs && *strideMs > 0) {
            const double pct = 100.0 * costs[i] / *strideMs;
            text += QStringLiteral(" · %1 %").arg(pct, 0, 'f', pct < 0.1 ? 2 : 1);
        }
        m_text[i]->setText(text);
        m_text[i]->position->setCoords(costs[i], 3 - i);
        m_text[i]->setVisible(true);
    }
    // Room right of the longest bar for its label.
    m_plot->xAxis->setRange(0, top > 0 ? top * 1.9 : 1.0);
    m_message->setVisible(false);
    replot();
}

void StageCostBars::clear()
{
    m_bars->data()->clear();
    for (QCPItemText *t : m_text)
        t->setVisible(false);
    m_plot->xAxis->setRange(0, 1);
    m_message->setVisible(true);
    replot();
}

QString StageCostBars::barText(int stage) const
{
    return stage >= 0 && stage < 3 && m_text[stage]->visible() ? m_text[stage]->text() : QString();
}

} // namespace tinyml::ui
