#include "plots/DatasetCountsChart.h"

#include "plots/PlotStyle.h"

#include "plots/QCustomPlotInclude.h"

#include <QVBoxLayout>

namespace tinyml::ui {

DatasetCountsChart::DatasetCountsChart(QWidget *parent) : QWidget(parent), m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyPlotStyle(m_plot);
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->yAxis->setLabel(tr("samples"));
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);

    m_train = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_test = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_train->setName(tr("train"));
    m_test->setName(tr("test"));
    m_train->setPen(Qt::NoPen);
    m_test->setPen(Qt::NoPen);
    m_train->setBrush(trainColor());
    m_test->setBrush(testColor());
    m_train->setWidth(0.6);
    m_test->setWidth(0.6);
    m_test->moveAbove(m_train);
    setMinimumHeight(150);
}

void DatasetCountsChart::setCounts(const DatasetCounts &counts)
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, train, test;
    int maxTotal = 0;
    for (int i = 0; i < counts.perLabel.size(); ++i) {
        const auto &row = counts.perLabel[i];
        keys << i + 1;
        train << row.train;
        test << row.test;
        ticker->addTick(i + 1, row.label.isEmpty() ? tr("(none)") : row.label);
        maxTotal = qMax(maxTotal, row.train + row.test);
    }
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setRange(0.4, qMax(1, int(keys.size())) + 0.6);
    m_train->setData(keys, train, true);
    m_test->setData(keys, test, true);
    auto intTicker = QSharedPointer<QCPAxisTickerFixed>::create();
    intTicker->setTickStep(1.0);
    intTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->yAxis->setTicker(intTicker);
    m_plot->yAxis->setRange(0, qMax(4.0, maxTotal * 1.1));
    if (isVisible())
        m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void DatasetCountsChart::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace tinyml::ui
