#include "plots/TrainingCurvesPlot.h"

#include "pages/TrainingReport.h"
#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

namespace tinyml::ui {

namespace {

QCPGraph *curve(QCPAxisRect *rect, const QString &name, const QColor &color, bool dashed)
{
    auto *g = new QCPGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    g->setName(name);
    QPen pen(color, 2);
    if (dashed)
        pen.setStyle(Qt::DashLine);
    g->setPen(pen);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 4));
    return g;
}

QCPItemStraightLine *marker(QCustomPlot *plot, QCPAxisRect *rect)
{
    auto *line = new QCPItemStraightLine(plot);
    line->setClipAxisRect(rect);
    for (QCPItemPosition *p : {line->point1, line->point2})
        p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    line->setPen(QPen(QColor(0x9c, 0xa3, 0xaf), 1, Qt::DotLine));
    line->setVisible(false);
    return line;
}

} // namespace

TrainingCurvesPlot::TrainingCurvesPlot(QWidget *parent) : PlotWidget(parent)
{
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);
    // Loss (the default rect) and accuracy side by side under the one legend row.
    m_lossRect = m_plot->axisRect();
    m_plot->plotLayout()->take(m_lossRect);
    m_accRect = new QCPAxisRect(m_plot);
    auto *rects = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(1, 0, rects);
    rects->addElement(0, 0, m_lossRect);
    rects->addElement(0, 1, m_accRect);
    rects->setColumnSpacing(8);
    for (QCPAxisRect *r : {m_lossRect, m_accRect}) {
        r->setBackground(Qt::white);
        for (QCPAxis *a : r->axes())
            styleAxis(a);
        r->axis(QCPAxis::atBottom)->setLabel(tr("epoch"));
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        r->axis(QCPAxis::atBottom)->setTicker(ticker);
    }
    m_lossRect->axis(QCPAxis::atLeft)->setLabel(tr("loss"));
    m_accRect->axis(QCPAxis::atLeft)->setLabel(tr("accuracy (%)"));

    m_loss = curve(m_lossRect, tr("training"), channelColor(0), false);
    m_valLoss = curve(m_lossRect, tr("validation"), channelColor(1), true);
    m_acc = curve(m_accRect, tr("training"), channelColor(0), false);
    m_valAcc = curve(m_accRect, tr("validation"), channelColor(1), true);
    m_plot->legend->clearItems();
    m_loss->addToLegend();
    m_valLoss->addToLegend();
    m_bestLoss = marker(m_plot, m_lossRect);
    m_bestAcc = marker(m_plot, m_accRect);
    setMinimumHeight(180);
    reset(10);
}

void TrainingCurvesPlot::reset(int plannedEpochs)
{
    m_planned = qMax(1, plannedEpochs);
    for (QCPGraph *g : {m_loss, m_valLoss, m_acc, m_valAcc})
        g->data()->clear();
    m_bestLoss->setVisible(false);
    m_bestAcc->setVisible(false);
    rescale();
    replot();
}

void TrainingCurvesPlot::addEpoch(int epoch, double loss, double accuracy, double valLoss, double valAccuracy)
{
    m_loss->addData(epoch, loss);
    m_valLoss->addData(epoch, valLoss);
    m_acc->addData(epoch, accuracy * 100);
    m_valAcc->addData(epoch, valAccuracy * 100);
    rescale();
    replot();
}

void TrainingCurvesPlot::setHistory(const TrainingHistory &history, int bestEpoch)
{
    reset(history.epochs());
    for (int i = 0; i < history.epochs(); ++i)
        addEpoch(i + 1, history.loss.value(i), history.accuracy.value(i), history.valLoss.value(i),
                 history.valAccuracy.value(i));
    if (bestEpoch > 0) {
        for (QCPItemStraightLine *line : {m_bestLoss, m_bestAcc}) {
            line->point1->setCoords(bestEpoch, 0);
            line->point2->setCoords(bestEpoch, 1);
            line->setVisible(true);
        }
    }
    replot();
}

int TrainingCurvesPlot::epochCount() const
{
    return m_loss->dataCount();
}

int TrainingCurvesPlot::validationCount() const
{
    return m_valAcc->dataCount();
}

void TrainingCurvesPlot::rescale()
{
    const int epochs = qMax(m_planned, m_loss->dataCount());
    const double pad = epochs > 20 ? 0.5 : 0.3;
    for (QCPAxisRect *r : {m_lossRect, m_accRect}) {
        r->axis(QCPAxis::atBottom)->setRange(1 - pad, epochs + pad);
        auto ticker = r->axis(QCPAxis::atBottom)->ticker().dynamicCast<QCPAxisTickerFixed>();
        if (ticker)
            ticker->setTickStep(epochs > 10 ? 5.0 : 1.0);
    }
    bool found = false;
    const QCPRange lossRange = m_loss->getValueRange(found);
    bool foundVal = false;
    const QCPRange valRange = m_valLoss->getValueRange(foundVal);
    double hi = 1.0;
    if (found)
        hi = qMax(lossRange.upper, foundVal ? valRange.upper : 0.0);
    m_lossRect->axis(QCPAxis::atLeft)->setRange(0, hi * 1.08);
    m_accRect->axis(QCPAxis::atLeft)->setRange(0, 102);
}

} // namespace tinyml::ui
