#pragma once
// Project-level training: features from the store -> training data -> train -> float model
// stored with its run; stored float model -> PTQ (and QAT when int8 loses too much) -> int8
// model stored. What `tinyml train` / `tinyml quantize` and the training page call.
// Plain header (no torch): the CLI and the UI include it.
//
// Input normalisation: features are standardised per element with the train split's mean
// and std (features::FeatureSet::featureStats) before they reach the model; the values are
// kept in the graph's meta "input_normalization" {"mean": [...], "std": [...]} and whoever
// feeds the model (the deploy step, the profiler) applies x' = (x - mean) / std first.

#include "Dataset.h"
#include "GraphEvaluation.h"
#include "Metrics.h"
#include "ModelZoo.h"
#include "Quantizer.h"
#include "Trainer.h"

#include "features/FeatureSet.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QJsonObject>

#include <optional>

namespace tinyml::training {

/// The project's data as the model sees it (normalised), split as the project says.
struct ProjectData {
    TrainingData train;
    TrainingData test;
    QVector<float> mean, std;        ///< per input element, from the train split
    features::FeatureParams params;
    int computed = 0;                ///< feature rows computed (not from the cache)
};

/// Features of the project (cached in the store), converted and normalised. With `params`
/// the given feature parameters are used instead of the project's.
std::optional<ProjectData> loadProjectData(ProjectStore &store,
                                           const std::optional<features::FeatureParams> &params,
                                           QString *error);
/// Normalises data in place with the graph's meta "input_normalization" (no-op without it).
void applyNormalization(const model::Graph &graph, TrainingData &data);
/// Turns a FeatureSet (one split or all rows) into training data, unnormalised.
TrainingData toTrainingData(const features::FeatureSet &set);

struct ProjectTrainOptions {
    Architecture kind = Architecture::Auto;
    TrainOptions train;
    std::optional<ModelBudget> budget;   ///< default: from the project's board
};

struct TrainOutcome {
    ModelSpec spec;
    TrainResult result;
    ClassificationMetrics test;          ///< float model on the test split (torch)
    model::Graph floatGraph;
    qint64 runId = 0;
    qint64 modelId = 0;
    /// {"run_id", "model_id", "model": {kind, parameters, macs, int8_weight_bytes,
    ///  int8_activation_bytes}, "epochs_run", "best_epoch", "seconds_per_epoch",
    ///  "history": [...], "validation": metrics, "test": metrics, "float_accuracy"}
    QJsonObject toJson() const;
};

/// Trains on the project's train split, evaluates on its test split, stores the run
/// (config, metrics, status) and the float model. A failed or cancelled run is stored with
/// that status.
std::optional<TrainOutcome> trainProject(ProjectStore &store, const ProjectTrainOptions &options,
                                         QString *error);

struct ProjectQuantizeOptions {
    QuantizeOptions quant;
    /// QAT when float accuracy - int8 accuracy (test split) exceeds this (0.01 = 1 point);
    /// negative disables QAT.
    double qatThreshold = 0.01;
    QatOptions qat;
    TrainOptions train;                  ///< seed, threads, batch size for QAT
    int sqnrSamples = 32;
};

struct QuantizeOutcome {
    model::Graph int8Graph;
    ClassificationMetrics floatTest;     ///< float graph (FloatExecutor) on the test data
    ClassificationMetrics int8Test;      ///< int8 graph (Int8Executor) on the test data
    double ptqAccuracy = 0;              ///< int8 accuracy before QAT
    bool qatApplied = false;
    QVector<LayerSqnr> sqnr;
    qint64 floatWeightBytes = 0, int8WeightBytes = 0;
    qint64 modelId = 0;
    /// {"float_accuracy", "int8_accuracy", "accuracy_drop", "ptq_int8_accuracy",
    ///  "qat_applied", "float": metrics, "int8": metrics, "layers": [sqnr...],
    ///  "weight_bytes": {"float", "int8"}, "calibration", "model_id"}
    QJsonObject toJson() const;
};

/// PTQ of a float graph, int8 evaluation through Int8Executor, QAT (when the graph came from
/// Trainer and the drop exceeds the threshold) and per-layer SQNR. Data must be normalised
/// as the graph expects.
std::optional<QuantizeOutcome> quantizeModel(const model::Graph &floatGraph, const TrainingData &train,
                                             const TrainingData &test,
                                             const ProjectQuantizeOptions &options, QString *error);

/// quantizeModel on the project's newest float model and its features; stores the int8 model.
std::optional<QuantizeOutcome> quantizeProject(ProjectStore &store, const ProjectQuantizeOptions &options,
                                               QString *error);

/// Stores an imported float graph as a model of the project (no training run).
std::optional<qint64> storeImportedModel(ProjectStore &store, const model::Graph &graph,
                                         const QString &name, QString *error);

/// The newest stored model (int8 when int8, else float) with its graph.
std::optional<model::Graph> latestModelGraph(ProjectStore &store, bool int8, qint64 *id, QString *error);

} // namespace tinyml::training
