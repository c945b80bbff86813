#pragma once
// Detection error trade-off of a swept post-processing: false activations per hour (x, log
// scale) against the false rejection rate (y). Every swept setting is a faint dot, the
// Pareto front a line, the chosen operating point a ring. A click within a few pixels of a
// point picks it; with keyboard focus, Left/Right walk along the front.

#include "live/LiveRows.h"
#include "plots/PlotWidget.h"

#include <QVector>

class QCPGraph;
class QCPItemText;
class QMouseEvent;

namespace tinyml::ui {

class DetCurvePlot : public PlotWidget
{
    Q_OBJECT
public:
    /// A click farther than this from every point picks nothing.
    static constexpr double kPickRadiusPx = 6.0;

    explicit DetCurvePlot(QWidget *parent = nullptr);

    void setPoints(const QVector<CalibrationRow> &points);
    /// Rings point `index` (-1: none). Does not emit pointPicked.
    void setChosen(int index);
    int chosen() const { return m_chosen; }

    /// Where point `index` is drawn, in widget pixels of plot() (tests click there).
    QPointF pixelOf(int index) const;
    /// The point drawn nearest to `pixel` (plot() coordinates) within kPickRadiusPx, or -1.
    int pointAt(const QPointF &pixel) const;
    /// The x coordinate a point is drawn at: faPerHour, or the axis floor for zero.
    double drawnX(double faPerHour) const;

    QCPGraph *allPoints() const { return m_all; }
    QCPGraph *front() const { return m_front; }
    QCPGraph *chosenGraph() const { return m_chosenGraph; }

Q_SIGNALS:
    void pointPicked(int index);

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void paintEvent(QPaintEvent *event) override;
    void focusInEvent(QFocusEvent *event) override;
    void focusOutEvent(QFocusEvent *event) override;

private:
    void onMousePress(QMouseEvent *event);
    void updateChosen();

    QVector<CalibrationRow> m_points;
    QVector<int> m_frontOrder;   ///< indices of front points by rising FA/h
    QCPGraph *m_all;
    QCPGraph *m_front;
    QCPGraph *m_chosenGraph;
    QCPItemText *m_message;
    double m_floor = 0.01;       ///< where 0 FA/h is drawn on the log axis
    int m_chosen = -1;
};

} // namespace tinyml::ui
