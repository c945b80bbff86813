#pragma once
// Loss and accuracy per epoch, training and validation, side by side with one legend;
// points are added live while a run trains.

#include "plots/PlotWidget.h"

class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;

namespace tinyml::ui {

struct TrainingHistory;

class TrainingCurvesPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit TrainingCurvesPlot(QWidget *parent = nullptr);

    /// Empties the curves; the epoch axis spans 1..plannedEpochs.
    void reset(int plannedEpochs);
    /// epoch is 1-based; accuracies 0..1.
    void addEpoch(int epoch, double loss, double accuracy, double valLoss, double valAccuracy);
    /// A stored run; bestEpoch (1-based, 0 none) is marked.
    void setHistory(const TrainingHistory &history, int bestEpoch);

    int epochCount() const;        ///< points on the training loss curve
    int validationCount() const;   ///< points on the validation accuracy curve

private:
    void rescale();

    QCPAxisRect *m_lossRect;
    QCPAxisRect *m_accRect;
    QCPGraph *m_loss, *m_valLoss, *m_acc, *m_valAcc;
    QCPItemStraightLine *m_bestLoss, *m_bestAcc;
    int m_planned = 10;
};

} // namespace tinyml::ui
