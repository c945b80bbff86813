#pragma once
// Reads back what training stores (TrainOutcome::toJson() as a run's metrics,
// QuantizeOutcome::toJson() as an int8 model's metrics) into plain structs for the
// Training page. Pure functions, no widgets; candidates for training/ (see the report).

#include "GraphEvaluation.h"
#include "Metrics.h"

#include "store/ProjectStore.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::ui {

struct TrainingHistory {
    QVector<double> loss, accuracy, valLoss, valAccuracy;
    int epochs() const { return int(loss.size()); }
};

struct TrainingReport {
    qint64 runId = 0;
    qint64 modelId = 0;
    TrainingStatus status = TrainingStatus::Created;
    QString error;                   ///< failed runs
    QString modelKind;               ///< "mlp", "cnn1d", ...
    qint64 parameters = 0, macs = 0, int8WeightBytes = 0, int8ActivationBytes = 0;
    int epochsRun = 0, bestEpoch = 0;
    double secondsPerEpoch = 0;
    TrainingHistory history;
    training::ClassificationMetrics test;     ///< empty labels when the run has none
};

struct QuantizeReport {
    qint64 modelId = 0;
    double floatAccuracy = 0, int8Accuracy = 0, accuracyDrop = 0, ptqAccuracy = 0;
    bool qatApplied = false;
    qint64 floatWeightBytes = 0, int8WeightBytes = 0;
    QString calibration;
    QVector<training::LayerSqnr> layers;
    training::ClassificationMetrics int8;
};

training::ClassificationMetrics metricsFromJson(const QJsonObject &json);
TrainingReport trainingReport(const TrainingRun &run);
QuantizeReport quantizeReport(const QJsonObject &metrics, qint64 modelId);

} // namespace tinyml::ui
