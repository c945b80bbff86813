#pragma once
// Samples per label, train and test stacked: the balance of the data set at a glance.

#include "store/ProjectStore.h"

#include <QWidget>

class QCustomPlot;
class QCPBars;

namespace tinyml::ui {

class DatasetCountsChart : public QWidget
{
    Q_OBJECT
public:
    explicit DatasetCountsChart(QWidget *parent = nullptr);
    void setCounts(const DatasetCounts &counts);
    QCustomPlot *plot() const { return m_plot; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    QCustomPlot *m_plot;
    QCPBars *m_train;
    QCPBars *m_test;
};

} // namespace tinyml::ui
