#pragma once
// Runs model IR graphs over a data set with core's executors: float graphs through
// FloatExecutor, int8 graphs through Int8Executor (the firmware's own C kernels, i.e. what the
// device computes bit for bit). Libtorch-free.

#include "Dataset.h"
#include "Metrics.h"

#include "model/Graph.h"

#include <QJsonArray>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::training {

/// Graph outputs for every sample, count() x outputSize floats, row-major. Int8 graphs:
/// inputs quantized with the graph's input scale, outputs dequantized.
std::optional<QVector<float>> runGraph(const model::Graph &graph, const TrainingData &data,
                                       QString *error);

/// Accuracy, per-class precision / recall / F1 and the confusion matrix of the graph.
std::optional<ClassificationMetrics> evaluateGraph(const model::Graph &graph,
                                                   const TrainingData &data, QString *error);

/// Quantization error of one layer output.
struct LayerSqnr {
    QString node;
    QString op;
    QString tensor;
    double sqnrDb = 0;        ///< +inf when identical
};

/// Per-layer SQNR: the float graph's intermediates against the int8 graph's dequantized
/// intermediates, matched by tensor name (the quantizer keeps names), accumulated over up to
/// maxSamples rows of data (signal and noise energies summed over the rows).
std::optional<QVector<LayerSqnr>> layerSqnr(const model::Graph &floatGraph,
                                            const model::Graph &int8Graph,
                                            const TrainingData &data, int maxSamples,
                                            QString *error);
QJsonArray layerSqnrJson(const QVector<LayerSqnr> &layers);

} // namespace tinyml::training
