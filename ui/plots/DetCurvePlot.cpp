#include "plots/DetCurvePlot.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

#include <QKeyEvent>
#include <QLayout>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace tinyml::ui {

namespace {

/// A log axis has no 0; zero false activations are drawn at the floor, labelled "0".
class ZeroFloorLogTicker : public QCPAxisTickerLog
{
public:
    double floor = 0.01;

protected:
    QString getTickLabel(double tick, const QLocale &locale, QChar formatChar, int precision) override
    {
        if (std::abs(std::log10(tick) - std::log10(floor)) < 1e-6)
            return QStringLiteral("0");
        return QCPAxisTickerLog::getTickLabel(tick, locale, formatChar, precision);
    }
};

const QColor kDot(0x6b, 0x72, 0x80, 90);
const QColor kFront(0x25, 0x63, 0xeb);
const QColor kChosen(0xdc, 0x26, 0x26);

} // namespace

DetCurvePlot::DetCurvePlot(QWidget *parent)
    : PlotWidget(parent), m_all(m_plot->addGraph()), m_front(m_plot->addGraph()), m_chosenGraph(m_plot->addGraph())
{
    layout()->setContentsMargins(2, 2, 2, 2);   // room for the focus frame
    setFocusPolicy(Qt::StrongFocus);
    m_plot->setFocusPolicy(Qt::NoFocus);

    auto ticker = QSharedPointer<ZeroFloorLogTicker>::create();
    ticker->setLogBase(10);
    m_plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setNumberFormat(QStringLiteral("g"));
    m_plot->xAxis->setNumberPrecision(5);   // 1000 stays "1000", not "1e+03"
    m_plot->xAxis->setLabel(tr("false activations per hour"));
    m_plot->yAxis->setLabel(tr("false rejection rate (%)"));

    m_all->setName(tr("swept settings"));
    m_all->setLineStyle(QCPGraph::lsNone);
    m_all->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kDot, kDot, 5));
    m_front->setName(tr("Pareto front"));
    m_front->setPen(QPen(kFront, 2));
    m_front->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kFront, kFront, 5));
    m_chosenGraph->setName(tr("operating point"));
    m_chosenGraph->setLineStyle(QCPGraph::lsNone);
    m_chosenGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kChosen, 2.5), Qt::NoBrush, 14));
    m_plot->legend->setVisible(true);
    placeLegendAbove(m_plot);

    m_message = addMessageItem();
    m_message->setText(tr("No calibration sweep yet"));

    connect(m_plot, &QCustomPlot::mousePress, this, &DetCurvePlot::onMousePress);
    setMinimumHeight(240);
    setPoints({});
}

double DetCurvePlot::drawnX(double faPerHour) const
{
    return faPerHour > 0 ? faPerHour : m_floor;
}

void DetCurvePlot::setPoints(const QVector<CalibrationRow> &points)
{
    m_points = points;
    double minPositive = 0, maxX = 0, maxY = 0;
    for (const CalibrationRow &p : points) {
        if (p.faPerHour > 0 && (minPositive == 0 || p.faPerHour < minPositive))
            minPositive = p.faPerHour;
        maxX = qMax(maxX, p.faPerHour);
        maxY = qMax(maxY, p.frr);
    }
    // The floor is a power of ten under every non-zero value, so it gets its own "0" tick.
    m_floor = minPositive > 0 ? std::pow(10.0, std::floor(std::log10(minPositive))) : 0.1;
    if (m_floor >= minPositive * (1 - 1e-9) && minPositive > 0)
        m_floor /= 10;
    static_cast<ZeroFloorLogTicker *>(m_plot->xAxis->ticker().data())->floor = m_floor;

    QVector<QCPGraphData> all;
    m_frontOrder.clear();
    for (int i = 0; i < points.size(); ++i) {
        all << QCPGraphData(drawnX(points[i].faPerHour), 100.0 * points[i].frr);
        if (points[i].onFront)
            m_frontOrder << i;
    }
    std::sort(m_frontOrder.begin(), m_frontOrder.end(), [&](int a, int b) {
        return points[a].faPerHour != points[b].faPerHour ? points[a].faPerHour < points[b].faPerHour
                                                          : points[a].frr > points[b].frr;
    });
    m_all->data()->set(all, false);
    // FA/h order is key order (drawnX rises with FA/h), so the data is already sorted.
    QVector<QCPGraphData> front;
    for (int i : std::as_const(m_frontOrder))
        front << QCPGraphData(drawnX(points[i].faPerHour), 100.0 * points[i].frr);
    m_front->data()->set(front, true);

    m_plot->xAxis->setRange(m_floor / 1.4, qMax(m_floor * 10, maxX * 1.6));
    m_plot->yAxis->setRange(0, qMax(5.0, 100.0 * maxY * 1.08));
    m_message->setVisible(points.isEmpty());
    if (m_chosen >= points.size())
        m_chosen = -1;
    updateChosen();
}

void DetCurvePlot::setChosen(int index)
{
    m_chosen = index >= 0 && index < m_points.size() ? index : -1;
    updateChosen();
}

void DetCurvePlot::updateChosen()
{
    m_chosenGraph->data()->clear();
    if (m_chosen >= 0)
        m_chosenGraph->addData(drawnX(m_points[m_chosen].faPerHour), 100.0 * m_points[m_chosen].frr);
    replot();
}

QPointF DetCurvePlot::pixelOf(int index) const
{
    if (index < 0 || index >= m_points.size())
        return {};
    return {m_plot->xAxis->coordToPixel(drawnX(m_points[index].faPerHour)),
            m_plot->yAxis->coordToPixel(100.0 * m_points[index].frr)};
}

int DetCurvePlot::pointAt(const QPointF &pixel) const
{
    int best = -1;
    double bestDist = kPickRadiusPx * kPickRadiusPx;
    for (int i = 0; i < m_points.size(); ++i) {
        const QPointF d = pixelOf(i) - pixel;
        const double dist = d.x() * d.x() + d.y() * d.y();
        // Ties (points drawn on top of each other) go to the front: that is what is visible.
        if (dist < bestDist || (dist == bestDist && best >= 0 && !m_points[best].onFront && m_points[i].onFront)) {
            bestDist = dist;
            best = i;
        }
    }
    return best;
}

void DetCurvePlot::onMousePress(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return;
    setFocus(Qt::MouseFocusReason);
    const int i = pointAt(event->position());
    if (i < 0)
        return;
    setChosen(i);
    Q_EMIT pointPicked(i);
}

void DetCurvePlot::keyPressEvent(QKeyEvent *event)
{
    if (m_frontOrder.isEmpty()) {
        PlotWidget::keyPressEvent(event);
        return;
    }
    int pos = m_frontOrder.indexOf(m_chosen);
    if (pos < 0 && m_chosen >= 0) {
        // Off the front: start from the front point nearest in FA/h.
        pos = 0;
        for (int k = 0; k < m_frontOrder.size(); ++k)
            if (m_points[m_frontOrder[k]].faPerHour <= m_points[m_chosen].faPerHour)
                pos = k;
    }
    int next = pos;
    switch (event->key()) {
    case Qt::Key_Left: next = pos < 0 ? 0 : qMax(0, pos - 1); break;
    case Qt::Key_Right: next = pos < 0 ? 0 : qMin(int(m_frontOrder.size()) - 1, pos + 1); break;
    case Qt::Key_Home: next = 0; break;
    case Qt::Key_End: next = int(m_frontOrder.size()) - 1; break;
    default: PlotWidget::keyPressEvent(event); return;
    }
    if (m_frontOrder[next] != m_chosen) {
        setChosen(m_frontOrder[next]);
        Q_EMIT pointPicked(m_chosen);
    }
    event->accept();
}

void DetCurvePlot::paintEvent(QPaintEvent *event)
{
    PlotWidget::paintEvent(event);
    if (!hasFocus())
        return;
    QPainter p(this);
    p.setPen(QPen(palette().color(QPalette::Highlight), 2));
    p.drawRect(rect().adjusted(1, 1, -1, -1));
}

void DetCurvePlot::focusInEvent(QFocusEvent *event)
{
    PlotWidget::focusInEvent(event);
    update();
}

void DetCurvePlot::focusOutEvent(QFocusEvent *event)
{
    PlotWidget::focusOutEvent(event);
    update();
}

} // namespace tinyml::ui
