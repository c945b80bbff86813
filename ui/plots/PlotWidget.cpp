#include "plots/PlotWidget.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

#include <QVBoxLayout>

namespace tinyml::ui {

PlotWidget::PlotWidget(QWidget *parent) : QWidget(parent), m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyPlotStyle(m_plot);
}

void PlotWidget::replot()
{
    if (isVisible())
        m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void PlotWidget::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QCPItemText *PlotWidget::addMessageItem()
{
    auto *message = new QCPItemText(m_plot);
    message->position->setType(QCPItemPosition::ptAxisRectRatio);
    message->position->setCoords(0.5, 0.5);
    message->setColor(QColor(0x6b, 0x72, 0x80));
    message->setClipToAxisRect(false);
    return message;
}

} // namespace tinyml::ui
