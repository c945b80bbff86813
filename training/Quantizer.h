#pragma once
// Post-training int8 quantization of a float model IR graph, TFLite's scheme exactly (so the
// firmware kernels, tm_nn_*, compute it): BatchNorm folded into the preceding conv / fully
// connected layer, ReLU / ReLU6 fused into their producer, weights int8 symmetric per
// output channel, activations int8 asymmetric per tensor from calibrated ranges, biases
// int32 with scale input_scale * weight_scale[c]. Pools, global average pooling, reshape
// and standalone clamps share their input's quantization; softmax outputs scale 1/256,
// zero point -128. Libtorch-free: works on any float Graph (trained or imported from ONNX).

#include "Dataset.h"

#include "model/Graph.h"

#include <QHash>
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <optional>

namespace tinyml::training {

enum class Calibration { MinMax, Percentile };
QString calibrationName(Calibration c);                 ///< "minmax", "percentile"
std::optional<Calibration> calibrationFromName(const QString &name);

struct QuantizeOptions {
    Calibration calibration = Calibration::MinMax;
    double percentile = 99.99;        ///< Percentile: clip each range to [100 - p, p] percent
    int calibrationSamples = 200;     ///< representative subset of the calibration data
    std::uint64_t seed = 1;           ///< which subset (stratified, deterministic)
};

/// Observed range of one activation tensor.
struct TensorRange {
    float min = 0;
    float max = 0;
};

/// Folds every BatchNorm into the Conv2D / DepthwiseConv2D / FullyConnected that produces its
/// input (that output must feed nothing else):
///   s[c] = gamma[c] / sqrt(var[c] + eps),  w'[c] = w[c] * s[c],
///   b'[c] = (b[c] - mean[c]) * s[c] + beta[c]  (b = 0 when the layer has no bias).
/// A BatchNorm with any other producer is an error naming the node.
std::optional<model::Graph> foldBatchNorm(const model::Graph &graph, QString *error);

/// Relu, Relu6 and Clip[0, 6] following a Conv2D / DepthwiseConv2D / FullyConnected / Add
/// whose output feeds nothing else become that node's fused activation. The fused node
/// takes over the activation's output tensor (its name), so tensors keep their names.
model::Graph fuseActivations(const model::Graph &graph);

/// Drops tensors no node, input or output refers to, renumbering the rest.
void removeUnusedTensors(model::Graph &graph);

/// Ranges of every activation tensor (graph input and node outputs) of a float graph over
/// the calibration rows, by tensor name. MinMax: the extremes; Percentile: a two-pass
/// 4096-bin histogram per tensor, clipped to the (100 - p) and p percentiles.
std::optional<QHash<QString, TensorRange>> calibrateRanges(const model::Graph &graph,
                                                          const TrainingData &calibration,
                                                          const QuantizeOptions &options,
                                                          QString *error);

/// Quantizes a folded and fused float graph with the given ranges (by tensor name).
std::optional<model::Graph> quantizeWithRanges(const model::Graph &prepared,
                                               const QHash<QString, TensorRange> &ranges,
                                               QString *error);

/// Anomaly-score graphs (KMeansScore, GmmScore, SquaredError; int8 rules in model/Graph.h) are
/// calibrated on normal rows only; so that anomalies stay distinguishable the graph input's
/// range is widened by kAnomalyInputHeadroom of its width on each side (features of a fault
/// often leave the normal range), and each score's range [min(lo, 0), hi] is extended above by
/// kAnomalyScoreHeadroom of its width (the alarm threshold then sits inside the int8 range; far
/// anomalies saturate at 127, which still alarms).
constexpr double kAnomalyInputHeadroom = 0.5;
constexpr double kAnomalyScoreHeadroom = 1.0;
/// Applies those two widenings to calibrated ranges (quantizeGraph calls it for score graphs).
void widenAnomalyRanges(const model::Graph &graph, QHash<QString, TensorRange> *ranges);

/// The whole post-training quantization: fold, fuse, calibrate on a representative subset
/// of `calibration` (options.calibrationSamples rows), quantize. meta gains "quantization".
std::optional<model::Graph> quantizeGraph(const model::Graph &floatGraph,
                                          const TrainingData &calibration,
                                          const QuantizeOptions &options, QString *error);

} // namespace tinyml::training
