#pragma once
// The feature explorer's scatter: one dot per sample at its 2-D projection, one colour per
// label with a legend, axis titles with the explained variance. Clicking a dot selects
// that sample (its row in the feature set).

#include "plots/PlotWidget.h"

#include <QStringList>
#include <QVector>

class QCPCurve;
class QCPItemText;

namespace tinyml::ui {

class FeatureScatterPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit FeatureScatterPlot(QWidget *parent = nullptr);

    /// x, y, label (index into labelNames) per row; fraction1/2 of the variance, 0..1.
    void setPoints(const QVector<double> &x, const QVector<double> &y, const QVector<int> &labels,
                   const QStringList &labelNames, double fraction1, double fraction2);
    void clear(const QString &message);
    /// Rings the dot of row (or nothing with -1).
    void highlightRow(int row);

    int pointCount() const;

Q_SIGNALS:
    void rowClicked(int row);

private:
    QCPCurve *m_highlight = nullptr;
    QCPItemText *m_message = nullptr;
    QVector<QCPCurve *> m_graphs;          ///< one per label; curves keep insertion order
    QVector<QVector<int>> m_rowsPerGraph;  ///< data index -> feature set row
    QVector<double> m_x, m_y;
};

} // namespace tinyml::ui
