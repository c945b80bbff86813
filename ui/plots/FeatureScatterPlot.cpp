#include "plots/FeatureScatterPlot.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

namespace tinyml::ui {

FeatureScatterPlot::FeatureScatterPlot(QWidget *parent) : PlotWidget(parent)
{
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
    m_message = addMessageItem();
    connect(m_plot, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable *p, int index, QMouseEvent *) {
        const int g = m_graphs.indexOf(qobject_cast<QCPCurve *>(p));
        if (g >= 0 && index >= 0 && index < m_rowsPerGraph[g].size())
            Q_EMIT rowClicked(m_rowsPerGraph[g][index]);
    });
    setMinimumHeight(220);
    clear(tr("Generate features to see how the labels separate."));
}

void FeatureScatterPlot::clear(const QString &message)
{
    m_plot->clearPlottables();
    m_graphs.clear();
    m_rowsPerGraph.clear();
    m_highlight = nullptr;
    m_x.clear();
    m_y.clear();
    m_plot->xAxis->setLabel(tr("PC 1"));
    m_plot->yAxis->setLabel(tr("PC 2"));
    m_plot->xAxis->setRange(-1, 1);
    m_plot->yAxis->setRange(-1, 1);
    m_message->setText(message);
    m_message->setVisible(true);
    replot();
}

void FeatureScatterPlot::setPoints(const QVector<double> &x, const QVector<double> &y, const QVector<int> &labels,
                                   const QStringList &labelNames, double fraction1, double fraction2)
{
    clear(QString());
    m_message->setVisible(false);
    m_x = x;
    m_y = y;
    m_rowsPerGraph.resize(labelNames.size());
    for (int row = 0; row < labels.size(); ++row)
        if (labels[row] >= 0 && labels[row] < labelNames.size())
            m_rowsPerGraph[labels[row]] << row;
    for (int c = 0; c < labelNames.size(); ++c) {
        auto *g = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
        g->setName(labelNames[c]);
        g->setLineStyle(QCPCurve::lsNone);
        QColor fill = channelColor(c);
        fill.setAlpha(200);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, channelColor(c).darker(115), fill, 7));
        g->setSelectable(QCP::stSingleData);
        g->selectionDecorator()->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 2), Qt::NoBrush, 11));
        // A curve orders its points by t, not by x: data index i is m_rowsPerGraph[c][i].
        QVector<double> t, gx, gy;
        for (int row : m_rowsPerGraph[c]) {
            t << t.size();
            gx << x[row];
            gy << y[row];
        }
        g->setData(t, gx, gy, true);
        if (gx.isEmpty())
            g->removeFromLegend();
        m_graphs << g;
    }
    m_highlight = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
    m_highlight->setLineStyle(QCPCurve::lsNone);
    m_highlight->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(0x11, 0x18, 0x27), 2),
                                                 Qt::NoBrush, 13));
    m_highlight->removeFromLegend();
    m_highlight->setSelectable(QCP::stNone);

    m_plot->xAxis->setLabel(tr("PC 1 (%1 % variance)").arg(fraction1 * 100, 0, 'f', 1));
    m_plot->yAxis->setLabel(tr("PC 2 (%1 % variance)").arg(fraction2 * 100, 0, 'f', 1));
    m_plot->rescaleAxes();
    for (QCPAxis *a : {m_plot->xAxis, m_plot->yAxis}) {
        QCPRange r = a->range();
        const double pad = qMax(r.size() * 0.08, 1e-3);
        a->setRange(r.lower - pad, r.upper + pad);
    }
    replot();
}

void FeatureScatterPlot::highlightRow(int row)
{
    if (!m_highlight)
        return;
    if (row >= 0 && row < m_x.size())
        m_highlight->setData({m_x[row]}, {m_y[row]});
    else
        m_highlight->data()->clear();
    replot();
}

int FeatureScatterPlot::pointCount() const
{
    int n = 0;
    for (const QCPCurve *g : m_graphs)
        n += g->dataCount();
    return n;
}

} // namespace tinyml::ui
